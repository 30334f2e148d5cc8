"""XaiHook on xAI's own API, against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import types

import pytest

from airflow_provider_xai.apis.xai import LOCAL_ID_PREFIX
from airflow_provider_xai.exceptions import (
    XaiAuthError,
    XaiHttpError,
    XaiInvalidRequestError,
    XaiNotFoundError,
    XaiTaskFailedError,
)
from airflow_provider_xai.hooks.xai import XaiHook, _parse_answer, settings_from_connection
from airflow_provider_xai.protocol import SubmitRequest
from tests.conftest import API_KEY, conn_json

FAST = {"poll_interval": 0.01}


@pytest.fixture
def hook(xai_api_conn):
    return XaiHook()


def conn(host=None, extra=None):
    return types.SimpleNamespace(
        host=host, schema=None, port=None, password="sekrit-key", extra_dejson=extra or {}
    )


@pytest.mark.parametrize(
    ("host", "extra", "api", "base_url"),
    [
        (None, None, "gateway", "https://api.mountsea.ai"),  # neither: nothing changes
        (None, {"api": "xai"}, "xai", "https://api.x.ai"),
        ("https://api.x.ai", None, "xai", "https://api.x.ai"),  # the host alone means xAI
        ("api.x.ai", None, "xai", "https://api.x.ai"),
        ("http://127.0.0.1:8089", {"api": "xai"}, "xai", "http://127.0.0.1:8089"),
        ("http://127.0.0.1:8089", {"api": "XAI"}, "xai", "http://127.0.0.1:8089"),
        ("http://127.0.0.1:8089", None, "gateway", "http://127.0.0.1:8089"),
        ("https://api.x.ai", {"api": "gateway"}, "gateway", "https://api.x.ai"),  # the extra wins
    ],
)
def test_the_connection_names_the_api(host, extra, api, base_url):
    settings = settings_from_connection(conn(host, extra))
    assert (settings.api, settings.base_url) == (api, base_url)
    assert settings.dialect.name == api and "sekrit-key" not in repr(settings)


def test_an_unknown_api_fails_with_the_allowed_values(xai_emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator.url, api="openai"))
    with pytest.raises(Exception, match="'gateway'.*'xai'"):
        XaiHook().submit_image("a fox")
    assert xai_emulator.requests_log() == []


def test_images_are_generated_synchronously_under_an_id_the_provider_makes(hook, xai_api_conn):
    image_id = hook.submit_image("a fox", n=3, resolution="2K", aspect_ratio="16:9")
    assert image_id.startswith(LOCAL_ID_PREFIX)
    state = hook.get_task(image_id)  # answered by this hook: the service has no id for it
    assert (state.status, len(state.media_urls), state.api) == ("completed", 3, "xai")
    assert state.cost_usd == pytest.approx(0.06)
    assert hook.wait_for_task(image_id) is state
    assert xai_api_conn.count("POST", "/v1/images/generations") == 1
    assert xai_api_conn.count("GET", "/v1") == 0
    with pytest.raises(XaiNotFoundError, match="generated synchronously"):
        XaiHook().get_task(image_id)  # another hook (another worker) cannot ask the service for it


def test_edits_go_to_the_edits_endpoint(hook, xai_api_conn):
    first = hook.get_task(hook.submit_image("a fox", n=2))
    edited = hook.get_task(hook.submit_image("bluer", image_urls=list(first.media_urls)))
    assert edited.status == "completed" and xai_api_conn.count("POST", "/v1/images/edits") == 1


@pytest.mark.parametrize(
    ("prompt", "error", "message"),
    [
        ("a fox [xai:moderated]", XaiTaskFailedError, "errorCode=moderated"),
        ("a fox [xai:blocked]", XaiTaskFailedError, "errorCode=blocked"),
    ],
)
def test_moderated_and_blocked_images_fail_without_a_retry(hook, xai_api_conn, prompt, error, message):
    with pytest.raises(error, match=message):
        hook.wait_for_task(hook.submit_image(prompt))
    assert xai_api_conn.count("POST", "/v1/images/generations") == 1


def test_a_video_is_submitted_and_polled_by_request_id(hook, xai_api_conn):
    request_id = hook.submit_video("waves", duration="5", resolution="720P", model="grok-imagine-video-1.5")
    (task,) = xai_api_conn.tasks()
    sent = {"prompt": "waves", "model": "grok-imagine-video-1.5", "duration": 5, "resolution": "720p"}
    assert {key: task["body"].get(key) for key in sent} == sent and "output" not in task["body"]
    state = hook.wait_for_task(request_id, **FAST)
    assert state.status == "completed" and state.media_urls[0].endswith(".mp4")
    assert state.cost_usd == pytest.approx(0.35) and state.api == "xai"
    assert xai_api_conn.count("GET", f"/v1/videos/{request_id}") >= 5


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("waves [xai:failed]", "'failed': errorCode=internal_error, errorMessage='generation failed'"),
        ("waves [xai:failed=permission_denied]", "errorCode=permission_denied"),
        ("waves [xai:expired]", "'expired'"),
        ("waves [xai:moderated]", "errorCode=moderated"),
    ],
)
def test_video_failures_name_code_and_message(hook, xai_api_conn, prompt, message):
    request_id = hook.submit_video(prompt)
    with pytest.raises(XaiTaskFailedError, match=message) as err:
        hook.wait_for_task(request_id, **FAST)
    assert request_id in str(err.value)


def test_an_unknown_status_is_waited_on_and_warned_once(hook, xai_api_conn, capsys):
    state = hook.wait_for_task(hook.submit_video("waves [xai:unknown-status]"), **FAST)
    assert state.status == "completed"
    assert capsys.readouterr().out.count("'queued_upstream', which the contract does not list") == 1


def test_faulty_reads_and_refused_posts_end_with_exactly_one_accepted_post(hook, xai_api_conn):
    xai_api_conn.script_faults("POST /v1/videos/generations", ["429", "429", "429"])
    xai_api_conn.script_faults("GET /v1/videos", ["429", "502html", "503json", "drop"])
    hook.submit_retries = 5
    state = hook.wait_for_task(hook.submit_video("waves"), **FAST)
    assert state.status == "completed"
    assert xai_api_conn.count("POST", "/v1/videos/generations") == 1


def test_the_async_path_reads_the_same_state(hook, xai_api_conn):
    request_id = hook.submit_video("waves [xai:reads=1]")
    state = asyncio.run(XaiHook().aget_task(request_id))
    assert (state.status, state.api, state.xai_task_id) == ("completed", "xai", request_id)
    with pytest.raises(XaiNotFoundError, match="generated synchronously"):
        asyncio.run(XaiHook().aget_task(LOCAL_ID_PREFIX + "abc"))


def test_an_unknown_request_id_is_not_found(hook, xai_api_conn):
    with pytest.raises(XaiNotFoundError, match="404"):
        hook.get_task("no-such-request")


# --------------------------------------------------------------------------------------------------
# errors: the wrong key, access, the service's field complaints, both error body styles
# --------------------------------------------------------------------------------------------------
def test_a_wrong_key_is_an_auth_error_without_the_key_or_its_echoed_fragment(hook, xai_api_conn, capsys):
    xai_api_conn.configure(api_key="xai-the-right-key-7777")
    with pytest.raises(XaiAuthError) as err:
        hook.submit_image("a fox")
    message = str(err.value)
    assert "Incorrect API key" in message and "'xai_default'" in message and err.value.status_code == 400
    fragment = f"{API_KEY[:2]}***{API_KEY[-2:]}"
    assert fragment not in message and API_KEY not in message and API_KEY[-2:] + "." not in message
    ok, text = hook.test_connection()
    assert not ok and fragment not in text and API_KEY not in text
    assert fragment not in capsys.readouterr().out


@pytest.mark.parametrize("style", ["flat", "nested"])
def test_the_service_names_the_field_it_refuses_in_either_error_style(hook, xai_api_conn, style):
    xai_api_conn.configure(xai_error_style=style)
    raw = SubmitRequest("/v1/videos/generations", {"prompt": "w", "model": "grok-imagine-video", "fps": 24})
    with pytest.raises(XaiHttpError, match="422.*fps") as err:
        hook.submit(raw)  # past our validation, as if a rule were missing: the service's own word
    assert err.value.status_code == 422


def test_a_key_without_access_or_credits_is_a_403_auth_error(hook, xai_api_conn):
    xai_api_conn.configure(forbidden_keys=[API_KEY])
    with pytest.raises(XaiAuthError, match="no balance or credits.*'xai_default'"):
        hook.submit_video("waves")


def test_bad_parameters_send_nothing(hook, xai_api_conn):
    with pytest.raises(XaiInvalidRequestError, match=r"Invalid resolution: '1080p'.*xAI's own API"):
        hook.submit_video("waves", resolution="1080p")
    assert xai_api_conn.requests_log() == []


def test_a_signed_url_or_key_echoed_in_an_answer_is_blanked():
    url = "https://bucket.s3.amazonaws.com/k.mp4?X-Amz-Signature=abcdef123456&X-Amz-Credential=AKIA"
    text = f'{{"error": "cannot reach {url}"}}'
    from airflow_provider_xai.apis.xai import XaiApiDialect

    with pytest.raises(XaiHttpError) as err:
        _parse_answer(400, text, None, "POST /v1/videos/generations", "c", XaiApiDialect(), ("key", url))
    assert "X-Amz-Signature" not in str(err.value) and "***" in str(err.value)


# --------------------------------------------------------------------------------------------------
# test_connection: the key on either API, generating nothing
# --------------------------------------------------------------------------------------------------
def test_test_connection_proves_the_key_for_free(hook, xai_api_conn):
    ok, message = hook.test_connection()
    assert ok and "xai API" in message and "GET /v1/api-key" in message
    assert [(r["method"], r["path"]) for r in xai_api_conn.requests_log()] == [("GET", "/v1/api-key")]


@pytest.mark.parametrize("flag", ["xai_key_blocked", "xai_key_disabled", "xai_team_blocked"])
def test_test_connection_refuses_a_key_that_cannot_generate(hook, xai_api_conn, flag):
    xai_api_conn.configure(**{flag: True})
    ok, message = hook.test_connection()
    assert not ok and "cannot generate" in message


def test_test_connection_refuses_a_base_url_that_is_not_xais(xai_emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator.url + "/wrong", api="xai"))
    ok, message = XaiHook().test_connection()
    assert not ok and "not the answer of the xai API" in message
