"""XaiHook against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading

import certifi
import pytest

from airflow_provider_xai.exceptions import (
    XaiAuthError,
    XaiInvalidRequestError,
    XaiNoMediaError,
    XaiNotFoundError,
    XaiRateLimitedError,
    XaiSubmissionUncertainError,
    XaiTaskFailedError,
    XaiWaitTimeoutError,
)
from airflow_provider_xai.hooks.xai import USER_AGENT, XaiHook, settings_from_connection
from tests.conftest import API_KEY, conn_json

FAST = {"poll_interval": 0.01}


@pytest.fixture
def hook(xai_conn):
    return XaiHook()


def bodies(emulator):
    return [task["body"] for task in emulator.tasks()]


def test_hook_attributes_for_registration():
    assert (XaiHook.conn_type, XaiHook.conn_name_attr, XaiHook.default_conn_name) == (
        "xai",
        "xai_conn_id",
        "xai_default",
    )
    assert XaiHook.hook_name


def test_submit_image_sends_the_contract_body(hook, xai_conn):
    task_id = hook.submit_image("a red fox", aspect_ratio="16:9")
    assert task_id
    assert bodies(xai_conn) == [{"prompt": "a red fox", "model": "grok-imagine-image", "aspectRatio": "16:9"}]


def test_submit_video_normalises_and_drops_ignored_fields(hook, xai_conn, capsys):
    hook.submit_video("waves", duration=10, resolution="480p", aspect_ratio="9:16")
    hook.submit_video("waves", resolution="720p", aspect_ratio="9:16", image_url="https://example.com/a.jpg")
    assert bodies(xai_conn) == [
        {
            "prompt": "waves",
            "model": "grok-imagine-video",
            "duration": 10,
            "aspectRatio": "9:16",
            "resolution": "480P",
        },
        {"prompt": "waves", "model": "grok-imagine-video", "images": ["https://example.com/a.jpg"]},
    ]
    assert "no effect with a reference image" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 1001}, "prompt"),
        ({"prompt": "ok", "duration": "ten"}, "duration"),
        ({"prompt": "ok", "resolution": "1080p"}, "resolution"),
        ({"prompt": "ok", "image_url": "file:///etc/passwd"}, "image_url"),
    ],
)
def test_bad_input_fails_before_any_request(hook, xai_conn, kwargs, parameter):
    with pytest.raises(XaiInvalidRequestError) as err:
        hook.submit_video(**kwargs)
    assert err.value.parameter == parameter
    assert xai_conn.requests_log() == []


def test_get_task_walks_every_status_to_completed(hook, xai_conn):
    task_id = hook.submit_image("a lighthouse")
    statuses = [hook.get_task(task_id).status for _ in range(5)]
    assert statuses == ["pending", "ready", "assigned", "processing", "completed"]
    done = hook.get_task(task_id)
    assert done.xai_task_id == task_id
    assert done.media_urls and done.media_urls[0].startswith(xai_conn.url)
    assert done.created_at and done.finished_at and done.trace_id


def test_wait_for_task_returns_the_finished_task(hook):
    state = hook.wait_for_task(hook.submit_image("a fox"), **FAST)
    assert state.status == "completed" and state.media_urls


@pytest.mark.parametrize(
    ("directive", "error", "text"),
    [
        ("[xai:failed]", XaiTaskFailedError, "'failed'"),
        ("[xai:cancelled]", XaiTaskFailedError, "'cancelled'"),
        ("[xai:timeout]", XaiTaskFailedError, "'timeout'"),
        ("[xai:nomedia]", XaiNoMediaError, "completed without media"),
        ("[xai:moderated]", XaiNoMediaError, "respect_moderation"),
    ],
)
def test_wait_for_task_fails_clearly_on_terminal_failures(hook, directive, error, text):
    task_id = hook.submit_image(f"a fox {directive}")
    with pytest.raises(error) as err:
        hook.wait_for_task(task_id, **FAST)
    assert text in str(err.value) and task_id in str(err.value)


def test_wait_times_out_with_the_last_status(hook, xai_conn):
    task_id = hook.submit_image("a fox")
    xai_conn.force_status(task_id, "processing")
    with pytest.raises(XaiWaitTimeoutError, match="last status seen: 'processing'"):
        hook.wait_for_task(task_id, poll_interval=0.01, timeout=0.2)


@pytest.mark.xai_emulator(envelope=True, create_status=201)
def test_enveloped_answers_and_201(hook):
    state = hook.wait_for_task(hook.submit_image("a fox"), **FAST)
    assert state.media_urls


@pytest.mark.parametrize("shape", ["data", "video", "url", "urls", "imageUrl", "videoUrl", "nested"])
def test_every_result_shape_yields_media(hook, shape):
    state = hook.wait_for_task(hook.submit_image(f"a fox [xai:shape={shape}]"), **FAST)
    assert len(state.media_urls) == 1


def test_polling_survives_every_transient_fault(hook, xai_conn):
    task_id = hook.submit_image("a fox")
    xai_conn.script_faults("GET /xai/tasks", ["429", "502html", "503json", "drop"])
    assert hook.wait_for_task(task_id, **FAST).media_urls


def test_post_429_is_retried_and_creates_one_task(xai_conn, monkeypatch):
    monkeypatch.setattr("airflow_provider_xai.hooks.xai.time.sleep", lambda s: None)
    xai_conn.script_faults("POST /xai/images", ["429", "429"])
    XaiHook().submit_image("a fox")
    assert xai_conn.count("POST", "/xai/images") == 1
    assert xai_conn.count("POST", "/xai/images", accepted_only=False) == 3


def test_post_429_gives_up_after_the_retry_budget(xai_conn, monkeypatch):
    monkeypatch.setattr("airflow_provider_xai.hooks.xai.time.sleep", lambda s: None)
    xai_conn.script_faults("POST /xai/images", ["429"] * 3)
    with pytest.raises(XaiRateLimitedError):
        XaiHook(submit_retries=2).submit_image("a fox")


@pytest.mark.parametrize("fault", ["503json", "502html", "drop"])
def test_post_failing_after_sending_is_not_retried(hook, xai_conn, fault):
    xai_conn.script_faults("POST /xai/images", [fault])
    with pytest.raises(XaiSubmissionUncertainError, match="task list") as err:
        hook.submit_image("a fox")
    assert "may exist" in str(err.value)
    assert xai_conn.count("POST", "/xai/images", accepted_only=False) == 1


@pytest.mark.xai_emulator(api_key="the-right-key")
def test_wrong_key_names_the_connection_never_the_key(hook):
    with pytest.raises(XaiAuthError) as err:
        hook.submit_image("a fox")
    assert "xai_default" in str(err.value) and API_KEY not in str(err.value)
    ok, message = hook.test_connection()
    assert not ok and "401" in message and API_KEY not in message


def test_test_connection_proves_the_key(hook):
    ok, message = hook.test_connection()
    assert ok, message


def test_unknown_task_is_not_found(hook):
    with pytest.raises(XaiNotFoundError):
        hook.get_task("no-such-task")


def test_aget_task_matches_get_task(hook, xai_conn):
    task_id = hook.submit_image("a fox")
    for _ in range(4):
        hook.get_task(task_id)
    state = asyncio.run(XaiHook().aget_task(task_id))
    assert state.status == "completed" and state == hook.get_task(task_id)


def test_repr_never_shows_the_key(hook):
    assert API_KEY not in repr(hook) and API_KEY not in repr(hook.settings)


def test_user_agent_names_the_package(monkeypatch):
    seen = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen["ua"] = self.headers["User-Agent"]
            body = json.dumps({"taskId": "t", "status": "pending"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(f"http://127.0.0.1:{server.server_port}"))
        XaiHook().get_task("t")
    finally:
        server.shutdown()
    assert seen["ua"] == USER_AGENT and seen["ua"].startswith("airflow-provider-xai/")


class _Conn:
    def __init__(self, host, extra=None, port=None, password="k", schema=None):
        self.host, self.port, self.password, self.schema = host, port, password, schema
        self.extra_dejson = extra or {}


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("", None, "https://api.mountsea.ai"),
        ("http://127.0.0.1:8089/", None, "http://127.0.0.1:8089"),
        ("gateway.example.com", None, "https://gateway.example.com"),
        ("gateway.example.com", 8443, "https://gateway.example.com:8443"),
    ],
)
def test_base_url_from_connection_host(host, port, expected):
    assert settings_from_connection(_Conn(host, port=port)).base_url == expected


def test_tls_trust_follows_environment_and_extra(monkeypatch):
    bundle = certifi.where()
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", bundle)
    settings = settings_from_connection(_Conn("h"))
    assert settings.requests_verify == bundle and settings.ssl_context() is not True
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/bundle.pem")
    assert settings_from_connection(_Conn("h")).requests_verify == "/env/bundle.pem"
    assert settings_from_connection(_Conn("h", extra={"ca_bundle": bundle})).requests_verify == bundle
    assert settings_from_connection(_Conn("h", extra={"verify": False})).requests_verify is False


JSON = "application/json"
# every kind of status answer: (HTTP status, content type, body, extra headers)
ANSWERS = {
    "ok": (200, JSON, {"taskId": "t", "status": "processing"}, {}),
    "ok-201": (201, JSON, {"taskId": "t", "status": "processing"}, {}),
    "ok-enveloped": (200, JSON, {"code": 200, "data": {"taskId": "t", "status": "ready"}}, {}),
    "json-null": (200, JSON, None, {}),
    "html-200": (200, "text/html", "<html><body>proxy login</body></html>", {}),
    "html-201": (201, "text/html", "<html><body>proxy</body></html>", {}),
    "envelope-error": (200, JSON, {"code": 429, "message": "slow down", "data": None}, {}),
    "429": (429, JSON, {"message": "slow down"}, {"Retry-After": "7"}),
    "503-html": (503, "text/html", "<html>503 Service Unavailable</html>", {}),
    "401": (401, JSON, {"message": f"bad key {API_KEY}"}, {}),
    "404": (404, JSON, {"message": "task not found"}, {}),
}


@pytest.mark.parametrize("answer", ANSWERS)
def test_blocking_and_async_reads_classify_every_answer_alike(monkeypatch, answer):
    status, content_type, body, headers = ANSWERS[answer]
    payload = (body if isinstance(body, str) else json.dumps(body)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    def read(fn):
        try:
            return "state", fn()
        except Exception as exc:  # noqa: BLE001 - the outcome is the exception itself
            return type(exc).__name__, (str(exc), getattr(exc, "retry_after", None))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(f"http://127.0.0.1:{server.server_port}"))
        blocking = read(lambda: XaiHook().get_task("t"))
        awaited = read(lambda: asyncio.run(XaiHook().aget_task("t")))
    finally:
        server.shutdown()
        server.server_close()
    assert awaited == blocking
    assert API_KEY not in repr(blocking)
    assert (blocking[0] == "state") is answer.startswith("ok"), blocking


def test_a_day_long_retry_after_on_submit_sleeps_at_most_the_cap(hook, xai_conn, monkeypatch):
    import time
    import types

    import airflow_provider_xai.hooks.xai as module

    slept = []
    # the hook's own clock records the wait instead of taking it (other threads keep the real one)
    monkeypatch.setattr(module, "time", types.SimpleNamespace(sleep=slept.append, time=time.time))
    xai_conn.configure(retry_after="86400")
    xai_conn.script_faults("POST /xai/images", ["429"])
    assert hook.submit_image("a fox")
    assert len(slept) == 1 and 300 <= slept[0] <= 360


def test_a_404_right_after_submit_is_retried_within_the_grace(hook, xai_conn):
    """A service that reads behind its writes: the first status reads of a new task answer 404."""
    task_id = hook.submit_image("a fox")
    # the first two reads 404 (as a lagging replica would), then the task is there
    calls = {"n": 0}
    original = hook.get_task

    def lagging(xai_task_id):
        calls["n"] += 1
        return original("not-yet-" + xai_task_id if calls["n"] <= 2 else xai_task_id)

    hook.get_task = lagging
    state = hook.wait_for_task(task_id, poll_interval=0.05)
    assert state.status == "completed" and calls["n"] > 2


def test_a_404_after_the_grace_fails_as_not_found(hook, xai_conn):
    from airflow_provider_xai.polling import PollPolicy

    assert PollPolicy(first_delay=10).not_found_grace_for() == 30.0
    assert PollPolicy(first_delay=0.01).not_found_grace_for() == pytest.approx(0.1)
    with pytest.raises(XaiNotFoundError):
        hook.wait_for_task("no-such-task", poll_interval=0.01)


def test_transport_errors_are_classified_by_type_not_text():
    import socket

    import requests
    from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

    from airflow_provider_xai.hooks.xai import _was_sent

    refused = requests.ConnectionError(MaxRetryError(None, "/x", NewConnectionError(None, "refused")))
    unresolved = requests.ConnectionError(
        MaxRetryError(None, "/x", NameResolutionError("h", None, socket.gaierror()))
    )
    dropped = requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))
    # a message that merely names the type is not the type: it may have been sent
    lookalike = requests.ConnectionError("NewConnectionError: the proxy said so")
    assert (_was_sent(refused), _was_sent(unresolved)) == (False, False)
    assert (_was_sent(dropped), _was_sent(lookalike), _was_sent(requests.ReadTimeout())) == (True, True, True)
    assert _was_sent(requests.ConnectTimeout()) is False


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b'{"message": "Not Found"}', "application/json"), (b"<html>404 Not Found</html>", "text/html")],
)
def test_test_connection_refuses_a_wrong_base_url_that_answers_404_to_everything(
    monkeypatch, body, content_type
):
    """A wrong base URL (another API, a proxy) answers 404 with or without a key: not the service's 404."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(f"http://127.0.0.1:{server.server_port}"))
        ok, message = XaiHook().test_connection()
    finally:
        server.shutdown()
    assert not ok and "not the answer of the gateway API" in message


def test_test_connection_asks_the_gateway_with_and_without_the_key(hook, xai_conn):
    ok, _ = hook.test_connection()
    assert ok
    assert [(r["path"], r["status"]) for r in xai_conn.requests_log()] == [
        ("/xai/tasks", 404),
        ("/xai/tasks", 401),
    ]
    assert xai_conn.tasks() == []  # nothing generated, nothing billed
