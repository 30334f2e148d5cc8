"""xAI's ``output.upload_url``: the emulator PUTs the finished MP4 to a presigned S3 URL (moto)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.emulator.test_emulator_xai import call
from tests.emulator.test_emulator_xai_results import finish, poll, post
from tests.storage.s3 import moto_s3  # noqa: F401 - a fixture


def presigned_put(moto_s3, key: str, bucket: str | None = None) -> str:  # noqa: F811
    return moto_s3.client.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket or moto_s3.bucket, "Key": key, "ContentType": "video/mp4"},
        ExpiresIn=3600,
    )


def start(server, upload_url: str, path: str = "/v1/videos/generations", **fields) -> str:
    body = {"prompt": "a fox [xai:reads=2]", "duration": 2, "output": {"upload_url": upload_url}, **fields}
    if path.endswith("/edits"):
        del body["duration"]
    return post(server, path, body)["request_id"]


def everything_said(server) -> str:
    """Every answer body and record the emulator could show, as one text."""
    parts = [str(server.requests_log()), str(server.tasks()), str(server.uploads())]
    parts.append(requests.get(f"{server.url}/_emulator/tasks", timeout=10).text)
    parts.append(requests.get(f"{server.url}/_emulator/uploads", timeout=10).text)
    return "\n".join(parts)


def test_upload_reaches_s3_before_done(xai_emulator, moto_s3):  # noqa: F811
    url = presigned_put(moto_s3, "videos/fox.mp4")
    request_id = start(xai_emulator, url)
    assert poll(xai_emulator, request_id)["status"] == "pending"
    assert xai_emulator.uploads() == []
    done = poll(xai_emulator, request_id)
    assert done["status"] == "done"
    stored = moto_s3.client.get_object(Bucket=moto_s3.bucket, Key="videos/fox.mp4")
    data = stored["Body"].read()
    assert stored["ContentType"] == "video/mp4"
    assert data[4:8] == b"ftyp"
    assert data == requests.get(done["video"]["url"], timeout=60).content
    [upload] = xai_emulator.uploads()
    assert (upload["request_id"], upload["status"], upload["bytes"], upload["ok"]) == (
        request_id,
        200,
        len(data),
        True,
    )
    assert poll(xai_emulator, request_id) == done
    assert len(xai_emulator.uploads()) == 1
    assert url not in everything_said(xai_emulator)
    assert "X-Amz-Signature" not in everything_said(xai_emulator)


@pytest.mark.xai_emulator(xai_upload_keeps_url=False, media_size=10_000)
def test_upload_can_empty_the_url_and_honours_media_size(xai_emulator, moto_s3):  # noqa: F811
    request_id = start(xai_emulator, presigned_put(moto_s3, "videos/sized.mp4"))
    done = finish(xai_emulator, request_id)
    assert done["status"] == "done" and done["video"]["url"] == ""
    assert done["video"]["respect_moderation"] is True
    head = moto_s3.client.head_object(Bucket=moto_s3.bucket, Key="videos/sized.mp4")
    assert head["ContentLength"] == 10_000


@pytest.mark.xai_emulator(media_size=4096)
@pytest.mark.parametrize("path", ["/v1/videos/edits", "/v1/videos/extensions"])
def test_edits_and_extensions_upload_too(xai_emulator, moto_s3, path):  # noqa: F811
    key = f"videos/{path.rsplit('/', 1)[1]}.mp4"
    request_id = start(xai_emulator, presigned_put(moto_s3, key), path, video={"url": "https://e.com/in.mp4"})
    assert finish(xai_emulator, request_id)["status"] == "done"
    assert moto_s3.client.head_object(Bucket=moto_s3.bucket, Key=key)["ContentLength"] == 4096


def test_moderated_video_uploads_nothing(xai_emulator, moto_s3):  # noqa: F811
    body = {
        "prompt": "a fox [xai:moderated] [xai:reads=1]",
        "output": {"upload_url": presigned_put(moto_s3, "m")},
    }
    done = finish(xai_emulator, post(xai_emulator, "/v1/videos/generations", body)["request_id"])
    assert done["video"]["respect_moderation"] is False
    assert xai_emulator.uploads() == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.xai_emulator(media_size=4096)
@pytest.mark.parametrize("target", ["no-bucket", "refused"])
def test_failed_upload_ends_failed_precondition(xai_emulator, moto_s3, target):  # noqa: F811
    if target == "no-bucket":
        url, status, reason = presigned_put(moto_s3, "k.mp4", bucket="no-such-bucket"), 404, "HTTP 404"
    else:
        url, status, reason = (
            f"http://127.0.0.1:{_closed_port()}/bucket/k.mp4?X-Amz-Signature=s3cr3t",
            0,
            "connection",
        )
    request_id = start(xai_emulator, url)
    body = finish(xai_emulator, request_id)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "failed_precondition"
    assert body["error"]["message"].startswith("upload to output.upload_url failed: ")
    assert reason in body["error"]["message"]
    assert set(body) == {"status", "error"}
    assert xai_emulator.uploads()[0]["status"] == status and xai_emulator.uploads()[0]["ok"] is False
    assert poll(xai_emulator, request_id) == body
    assert url not in everything_said(xai_emulator) and "s3cr3t" not in everything_said(xai_emulator)


class _SlowSink(BaseHTTPRequestHandler):
    received: list[tuple[str, int]] = []
    release = threading.Event()

    def do_PUT(self) -> None:  # noqa: N802
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.release.wait(10)
        self.received.append((self.headers["Content-Type"], len(data)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.xai_emulator(media_size=4096)
def test_concurrent_reads_upload_once_and_wait_for_it(xai_emulator):
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _SlowSink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        request_id = start(xai_emulator, f"http://127.0.0.1:{sink.server_address[1]}/put/here")
        assert poll(xai_emulator, request_id)["status"] == "pending"
        answers: list[dict] = []
        readers = [
            threading.Thread(target=lambda: answers.append(poll(xai_emulator, request_id))) for _ in range(3)
        ]
        for reader in readers:
            reader.start()
        threading.Timer(0.3, _SlowSink.release.set).start()
        for reader in readers:
            reader.join(15)
        assert [answer["status"] for answer in answers] == ["done"] * 3
        assert _SlowSink.received == [("video/mp4", 4096)]
        assert len(xai_emulator.uploads()) == 1
    finally:
        sink.shutdown()
        sink.server_close()


def test_no_upload_without_output(xai_emulator):
    request_id = post(
        xai_emulator, "/v1/videos/generations", {"prompt": "a fox [xai:reads=1]", "duration": 1}
    )
    assert finish(xai_emulator, request_id["request_id"])["status"] == "done"
    assert xai_emulator.uploads() == []
    assert call(xai_emulator, "GET", "/v1/api-key").status_code == 200


@pytest.mark.xai_emulator(media_size=4096)
@pytest.mark.parametrize("trusted", [True, False])
def test_https_upload_uses_the_default_tls_context(xai_emulator, monkeypatch, trusted):
    from airflow_provider_xai.emulator import EmulatorServer

    with EmulatorServer(tls=True) as target:  # answers this PUT with 404: enough to see the TLS handshake
        if trusted:
            monkeypatch.setenv("SSL_CERT_FILE", target.ca_bundle)
        request_id = start(xai_emulator, f"{target.url}/upload/k.mp4")
        body = finish(xai_emulator, request_id)
    assert body["status"] == "failed"
    expected = "HTTP 404" if trusted else "connection error (SSLCertVerificationError)"
    assert body["error"]["message"] == f"upload to output.upload_url failed: {expected}"


@pytest.mark.xai_emulator(media_size=4096)
def test_an_unusable_upload_url_fails_without_quoting_it(xai_emulator):
    url = "http://127.0.0.1:1/a b/secret-token\r\nX-Injected: 1"
    request_id = start(xai_emulator, url)
    body = finish(xai_emulator, request_id)
    assert body["status"] == "failed" and body["error"]["code"] == "failed_precondition"
    assert "secret-token" not in body["error"]["message"] and "secret-token" not in everything_said(
        xai_emulator
    )
