"""``store_media`` on its own: local folders and S3 (moto), broken downloads, expiry, caps, extensions."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import pathlib
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from airflow.sdk import ObjectStoragePath

from airflow_provider_xai import protocol
from airflow_provider_xai.exceptions import XaiMediaDownloadError, XaiMediaExpiredError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.protocol import TaskState
from airflow_provider_xai.storage import abort_unfinished_uploads, extension_for, store_media

pytestmark = pytest.mark.usefixtures("xai_conn")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def finished(prompt: str = "a red fox in the snow", *, video: bool = False) -> tuple[TaskState, dict]:
    """Submit a task to the emulator and return it finished, with its request body."""
    if video:
        request = protocol.build_video_request(prompt, duration=6, resolution="480p")
    else:
        request = protocol.build_image_request(prompt, aspect_ratio="1:1")
    hook = XaiHook()
    state = hook.wait_for_task(hook.submit(request), poll_interval=0.01, timeout=30)
    return state, request.body


class Folder:
    """One output folder of a given kind, with a way to list what ended up in it."""

    def __init__(self, kind: str, tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self.s3 = request.getfixturevalue("moto_s3") if kind.startswith("s3") else None
        if self.s3 is not None:
            self.uri = self.s3.folder(kind)
        else:
            self.local = tmp_path / "out" / "nested"
            self.uri = "file://" + str(self.local)

    @property
    def output_path(self):
        """The ``output_path`` argument in this kind's form."""
        return {
            "plain": lambda: str(self.local),
            "pathlib": lambda: self.local,
            "file": lambda: self.uri,
            "osp_file": lambda: ObjectStoragePath(self.uri),
            "osp_plain": lambda: ObjectStoragePath(str(self.local)),
            "s3": lambda: self.uri,
            "s3_osp": lambda: ObjectStoragePath(self.uri),
        }[self.kind]()

    def names(self) -> set[str]:
        """Every object (file) name below the folder, hidden ones included."""
        if self.s3 is not None:
            return {key.rsplit("/", 1)[1] for key in self.s3.keys(self.uri)}
        if not self.local.exists():
            return set()
        return {p.name for p in self.local.rglob("*") if p.is_file()}

    def read(self, uri: str) -> bytes:
        """The stored bytes of an output URI, read without Airflow (boto3 or the file system)."""
        if self.s3 is not None:
            return self.s3.read(uri)
        assert uri.startswith("file://"), uri
        return pathlib.Path(uri.removeprefix("file://")).read_bytes()


LOCAL_KINDS = ["plain", "pathlib", "file", "osp_file", "osp_plain"]
ALL_KINDS = [*LOCAL_KINDS, "s3", "s3_osp"]


@pytest.fixture(params=ALL_KINDS)
def folder(request, tmp_path) -> Folder:
    return Folder(request.param, tmp_path, request)


@pytest.fixture(params=["plain", "s3"])
def any_folder(request, tmp_path) -> Folder:
    """A local folder and an S3 folder: enough for the failure paths."""
    return Folder(request.param, tmp_path, request)


# ---- the happy path ------------------------------------------------------------------------------


def test_stores_every_file_with_the_served_bytes_and_a_sidecar(folder):
    state, body = finished("two foxes [xai:count=2]")
    assert len(state.media_urls) == 2

    outputs = store_media(folder.output_path, state, body)

    tid = state.xai_task_id
    assert [uri.rsplit("/", 1)[1] for uri in outputs] == [f"{tid}_0.jpeg", f"{tid}_1.jpeg"]
    expected_prefix = folder.uri if folder.kind != "osp_plain" else str(folder.local)
    assert all(uri.startswith(expected_prefix + "/") for uri in outputs), outputs
    assert folder.names() == {f"{tid}.json", f"{tid}_0.jpeg", f"{tid}_1.jpeg"}  # no stray .partial
    served = [requests.get(url, timeout=10).content for url in state.media_urls]
    assert sha256(served[0]) != sha256(served[1])
    for uri, data in zip(outputs, served, strict=True):
        assert ObjectStoragePath(uri).read_bytes() == data
        if folder.kind != "osp_plain":
            assert folder.read(uri) == data

    manifest = json.loads((ObjectStoragePath(outputs[0]).parent / f"{tid}.json").read_text())
    assert manifest["xai_task_id"] == tid
    assert manifest["status"] == "completed"
    assert manifest["request"] == body
    assert manifest["result"] == state.result
    assert manifest["finished_at"] == state.finished_at
    assert manifest["created_at"] == state.created_at
    assert [f["uri"] for f in manifest["files"]] == outputs
    assert [f["url"] for f in manifest["files"]] == list(state.media_urls)
    assert [f["size"] for f in manifest["files"]] == [len(d) for d in served]
    assert [f["sha256"] for f in manifest["files"]] == [sha256(d) for d in served]
    assert {f["content_type"] for f in manifest["files"]} == {"image/jpeg"}


def test_video_gets_the_mp4_extension_and_content_type(tmp_path):
    state, body = finished("waves on a beach", video=True)
    outputs = store_media(tmp_path, state, body)
    assert [pathlib.Path(uri).name for uri in outputs] == [f"{state.xai_task_id}_0.mp4"]
    manifest = json.loads((tmp_path / f"{state.xai_task_id}.json").read_text())
    assert manifest["files"][0]["content_type"] == "video/mp4"
    stored = (tmp_path / f"{state.xai_task_id}_0.mp4").read_bytes()
    assert stored[4:8] == b"ftyp"
    assert sha256(stored) == manifest["files"][0]["sha256"]


def test_big_file_spanning_many_chunks_is_stored_whole(any_folder):
    state, body = finished("a big fox [xai:size=5500000]")
    (uri,) = store_media(any_folder.output_path, state, body)
    data = any_folder.read(uri)
    assert len(data) == 5_500_000
    assert sha256(data) == sha256(requests.get(state.media_urls[0], timeout=30).content)


@pytest.mark.parametrize(
    ("content_type", "url", "expected"),
    [
        ("image/jpeg", "http://h/a", "jpeg"),
        ("image/jpg", "http://h/a", "jpeg"),
        ("IMAGE/PNG; charset=binary", "http://h/a", "png"),
        ("image/webp", "http://h/a.bin", "webp"),
        ("video/mp4", "http://h/a", "mp4"),
        ("video/quicktime", "http://h/a", "mov"),
        ("video/webm", "http://h/a", "webm"),
        ("application/octet-stream", "http://h/x/file.png?sig=1", "bin"),  # mimetypes knows .bin
        ("", "http://h/x/file.png?sig=1", "png"),
        (None, "http://h/x/file", "bin"),
        ("", "http://h/x/file.this-is-no-extension", "bin"),
    ],
)
def test_extension_from_content_type(content_type, url, expected):
    assert extension_for(content_type, url) == expected


# ---- broken downloads leave nothing under the final name -----------------------------------------


def test_download_broken_halfway_leaves_nothing_then_a_second_attempt_succeeds(any_folder, xai_conn):
    # 3 MB: the emulator closes the connection after 1.5 MB, so more than one 1 MiB chunk was written
    state, body = finished("a fox [xai:size=3000000]")
    xai_conn.configure(media_truncate_count=1)

    with pytest.raises(XaiMediaDownloadError, match="Nothing was stored") as err:
        store_media(any_folder.output_path, state, body)

    assert state.xai_task_id in str(err.value)
    assert "broke off" in str(err.value) or "incomplete" in str(err.value)
    assert any_folder.names() == set()  # no file, no .partial, no sidecar
    # the fault was one-shot: the same task stores fine afterwards
    (uri,) = store_media(any_folder.output_path, state, body)
    assert len(any_folder.read(uri)) == 3_000_000
    assert any_folder.names() == {f"{state.xai_task_id}.json", f"{state.xai_task_id}_0.jpeg"}


def test_second_file_broken_keeps_no_partial_and_no_sidecar(any_folder, host):
    state, _ = finished("a fox")
    broken = state_for(state.media_urls[0], f"{host}/short")
    with pytest.raises(XaiMediaDownloadError, match="Nothing was stored"):
        store_media(any_folder.output_path, broken, None)
    # the first file was whole and may stay; the broken one and the sidecar must not exist
    assert any_folder.names() <= {"task-under-test_0.jpeg"}


class _Host(BaseHTTPRequestHandler):
    """A storage host misbehaving on purpose, one path per behaviour."""

    BODY = bytes(range(256)) * 4096  # 1 MiB

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        path = self.path.split("?")[0]
        if path == "/short":  # announces 1 MiB, sends half, closes
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(self.BODY)))
            self.end_headers()
            self.wfile.write(self.BODY[: len(self.BODY) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif path == "/chunked":  # no Content-Length at all
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for start in range(0, len(self.BODY), 65536):
                piece = self.BODY[start : start + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/gzip":  # a valid gzip-encoded answer: Content-Length is the encoded size
            data = gzip.compress(self.BODY)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif path == "/redirect":  # a 302 to wherever the query says
            self.send_response(302)
            self.send_header("Location", urllib.parse.unquote(self.path.split("?to=", 1)[1]))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith("/status/"):
            self.send_response(int(path.rsplit("/", 1)[1]))
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "13")
            self.end_headers()
            self.wfile.write(b"<Error></Err>")
        else:
            self.send_error(400)


@pytest.fixture(scope="module")
def host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Host)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def state_for(*urls: str) -> TaskState:
    return TaskState(
        xai_task_id="task-under-test",
        status="completed",
        result={"url": urls[0]},
        media_urls=urls,
        created_at="2026-01-01T10:00:00Z",
        finished_at="2026-01-01T10:00:42Z",
    )


def test_content_length_mismatch_fails_and_leaves_nothing(any_folder, host):
    with pytest.raises(XaiMediaDownloadError, match="Nothing was stored") as err:
        store_media(any_folder.output_path, state_for(f"{host}/short"), None)
    assert "task-under-test" in str(err.value)
    assert any_folder.names() == set()


def test_answer_without_content_length_is_stored(tmp_path, host):
    (uri,) = store_media(tmp_path, state_for(f"{host}/chunked"), None)
    assert uri.endswith("/task-under-test_0.png")
    assert (tmp_path / "task-under-test_0.png").read_bytes() == _Host.BODY


def test_gzip_encoded_answer_is_stored(tmp_path, host):
    (uri,) = store_media(tmp_path, state_for(f"{host}/gzip"), None)
    assert (tmp_path / "task-under-test_0.png").read_bytes() == _Host.BODY


# ---- expired URLs ----------------------------------------------------------------------------------


def assert_expired_message(message: str, state: TaskState) -> None:
    assert "expired" in message
    assert state.finished_at and state.finished_at in message
    assert "retry" in message
    assert state.xai_task_id in message


def test_expired_media_urls_fail_with_when_and_what_a_retry_does(any_folder, xai_conn):
    state, body = finished("a fox")
    xai_conn.configure(media_ttl=0)
    with pytest.raises(XaiMediaExpiredError) as err:
        store_media(any_folder.output_path, state, body)
    assert_expired_message(str(err.value), state)
    assert "403" in str(err.value)
    assert any_folder.names() == set()


@pytest.mark.parametrize("code", [403, 404, 410])
def test_refused_or_vanished_media_are_reported_as_expired(tmp_path, host, code):
    state = state_for(f"{host}/status/{code}")
    with pytest.raises(XaiMediaExpiredError) as err:
        store_media(tmp_path, state, None)
    assert_expired_message(str(err.value), state)
    assert str(code) in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_other_http_errors_are_not_called_expiry(tmp_path, host):
    with pytest.raises(XaiMediaDownloadError, match="HTTP 500") as err:
        store_media(tmp_path, state_for(f"{host}/status/500"), None)
    assert not isinstance(err.value, XaiMediaExpiredError)
    assert list(tmp_path.iterdir()) == []


# ---- the size cap and refused URLs ------------------------------------------------------------------


def test_size_cap_from_content_length(any_folder):
    state, body = finished("a fox [xai:size=300000]")
    with pytest.raises(XaiMediaDownloadError, match="size cap") as err:
        store_media(any_folder.output_path, state, body, max_bytes=299_999)
    assert "300000" in str(err.value)
    assert any_folder.names() == set()
    # exactly at the cap is fine
    (uri,) = store_media(any_folder.output_path, state, body, max_bytes=300_000)
    assert len(any_folder.read(uri)) == 300_000


def test_size_cap_while_streaming_without_content_length(any_folder, host):
    with pytest.raises(XaiMediaDownloadError, match="size cap"):
        store_media(any_folder.output_path, state_for(f"{host}/chunked"), None, max_bytes=100_000)
    assert any_folder.names() == set()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/a.jpeg",
        "s3://bucket/a.jpeg",
        "/etc/passwd",
        "http:///no-host.jpeg",
        "http://example.com/a b.jpeg",
    ],
)
def test_non_http_media_url_is_refused(tmp_path, url):
    with pytest.raises(XaiMediaDownloadError, match="only http and https"):
        store_media(tmp_path / "out", state_for(url), None)
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/a.jpeg"], ids=["file", "ftp"])
def test_redirect_to_a_non_http_scheme_is_refused(any_folder, host, target):
    # the URL itself is http; only its 302 leads elsewhere (requests has no adapter for these schemes)
    url = f"{host}/redirect?to={urllib.parse.quote(target, safe='')}"
    with pytest.raises(XaiMediaDownloadError) as err:
        store_media(any_folder.output_path, state_for(url), None)
    assert "task-under-test" in str(err.value) and target in str(err.value)
    assert not isinstance(err.value, XaiMediaExpiredError)
    assert any_folder.names() == set()  # no file, no .partial, no sidecar


def test_on_s3_the_final_key_is_written_once_and_a_broken_upload_leaves_no_parts(moto_s3, xai_conn):
    """Object storage: no temporary key, no server-side copy, no multipart upload left behind."""
    folder = moto_s3.folder("atomic")
    # 12 MB: more than one multipart part (s3fs's 5 MiB blocks) before the emulator cuts the body
    state, body = finished("a fox [xai:size=12000000]")
    xai_conn.configure(media_truncate_count=1)
    with pytest.raises(XaiMediaDownloadError, match="Nothing was stored"):
        store_media(folder, state, body)
    assert moto_s3.keys(folder) == {}
    uploads = moto_s3.client.list_multipart_uploads(Bucket=moto_s3.bucket).get("Uploads", [])
    assert [u["Key"] for u in uploads if "atomic" in u["Key"]] == []  # aborted, not left to linger

    (uri,) = store_media(folder, state, body)
    keys = {key.rsplit("/", 1)[1]: size for key, size in moto_s3.keys(folder).items()}
    assert keys == {
        f"{state.xai_task_id}_0.jpeg": 12_000_000,
        f"{state.xai_task_id}.json": keys.get(f"{state.xai_task_id}.json"),
    }
    assert uri.endswith(f"/{state.xai_task_id}_0.jpeg")


def test_a_retry_aborts_the_uploads_a_killed_try_left_open_for_its_own_files_only(moto_s3, xai_conn, caplog):
    """A SIGKILLed store leaves its multipart upload open (billed, invisible): the retry aborts its own."""
    folder = moto_s3.folder("retry")
    state, body = finished("a fox")
    prefix = folder.split(f"@{moto_s3.bucket}/", 1)[1]
    mine = f"{prefix}/{state.xai_task_id}_0.jpeg"
    others = [f"{prefix}/another-task_0.jpeg", f"{prefix}-sibling/{state.xai_task_id}_0.jpeg"]
    for key in (mine, mine, *others):
        moto_s3.client.create_multipart_upload(Bucket=moto_s3.bucket, Key=key)

    def open_keys() -> list[str]:
        answer = moto_s3.client.list_multipart_uploads(Bucket=moto_s3.bucket, Prefix=prefix)
        return sorted(u["Key"] for u in answer.get("Uploads", []))

    store_media(folder, state, body)  # a first try has nothing of its own to abort: it lists nothing
    assert open_keys() == sorted([mine, mine, *others])

    with caplog.at_level("INFO"):
        (uri,) = store_media(folder, state, body, abort_unfinished=True, log=logging.getLogger("t"))
    assert open_keys() == sorted(others)
    assert "Aborted 2 unfinished upload(s)" in caplog.text and mine in caplog.text
    assert moto_s3.read(uri)[:3] == b"\xff\xd8\xff"


def test_aborting_unfinished_uploads_is_a_no_op_on_local_folders(tmp_path, xai_conn):
    state, body = finished("a fox")
    (uri,) = store_media(tmp_path, state, body, abort_unfinished=True)
    assert abort_unfinished_uploads(ObjectStoragePath(f"file://{tmp_path}"), "x") == 0
    assert pathlib.Path(uri.removeprefix("file://")).stat().st_size > 0


def test_an_abort_that_cannot_list_warns_and_aborts_nothing(moto_s3, caplog):
    folder = ObjectStoragePath(f"s3://aws_default@no-such-bucket-{moto_s3.bucket}/x")
    with caplog.at_level("WARNING"):
        assert abort_unfinished_uploads(folder, "t_", log=logging.getLogger("t")) == 0
    assert "lifecycle rule (AbortIncompleteMultipartUpload)" in caplog.text
    assert "no-such-bucket" in caplog.text
