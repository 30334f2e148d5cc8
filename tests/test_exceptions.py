"""The exception tree: types, machine fields and the messages built from them."""

from __future__ import annotations

import pytest

from airflow_provider_xai.exceptions import (
    XaiAuthError,
    XaiConnectionError,
    XaiError,
    XaiHttpError,
    XaiInvalidRequestError,
    XaiMediaDownloadError,
    XaiMediaExpiredError,
    XaiNoMediaError,
    XaiNotFoundError,
    XaiRateLimitedError,
    XaiServiceError,
    XaiSubmissionUncertainError,
    XaiTaskFailedError,
    XaiTransientError,
    XaiWaitAbortedError,
    XaiWaitTimeoutError,
)
from airflow_provider_xai.protocol import TaskState


# --------------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------------
def _instance(cls):
    """Return an instance of each provider error, built as the provider builds it."""
    kwargs = {
        XaiConnectionError: {"request_sent": True},
        XaiRateLimitedError: {"retry_after": 1.0},
        XaiServiceError: {"status_code": 503},
        XaiHttpError: {"status_code": 400},
        XaiAuthError: {"status_code": 401},
        XaiNotFoundError: {"status_code": 404},
    }.get(cls, {})
    if cls is XaiInvalidRequestError:
        return cls("duration", 7, "6, 10 or 15")
    if cls is XaiTaskFailedError:
        return cls("failed", xai_task_id="t", status="failed", error_code=1, error_message="m", trace_id=None)
    if cls is XaiNoMediaError:
        return cls("no media", xai_task_id="t", result_keys=[])
    return cls("boom", **kwargs)


RETRIED = [XaiConnectionError, XaiRateLimitedError, XaiServiceError]
NOT_RETRIED = [
    XaiHttpError, XaiAuthError, XaiTaskFailedError, XaiNoMediaError, XaiWaitTimeoutError,
    XaiWaitAbortedError, XaiInvalidRequestError, XaiSubmissionUncertainError, XaiMediaExpiredError,
    XaiMediaDownloadError, XaiError,
]  # fmt: skip


@pytest.mark.parametrize("cls", RETRIED + NOT_RETRIED, ids=lambda c: c.__name__)
def test_a_wait_retries_transient_errors_and_ends_on_the_others(cls):
    """What the wait loop does with each error (the same tracker serves every path)."""
    from airflow_provider_xai.polling import PollPolicy, PollTracker, WaitEnd

    tracker = PollTracker("t", PollPolicy(first_delay=10), started_at=0.0)
    tracker.on_state(TaskState("t", "processing"), 1.0)  # seen once: a later 404 is real
    step = tracker.on_error(_instance(cls), 2.0)
    if cls in RETRIED:
        assert step.result is None and step.delay > 0
    else:
        assert step.result is not None and step.result.reason is WaitEnd.ERROR
        with pytest.raises(XaiError) as raised:
            step.result.resolve()
        assert str(raised.value) == str(_instance(cls))


def test_a_rejected_key_is_not_retried_by_the_blocking_wait(xai_conn):
    from airflow_provider_xai.hooks.xai import XaiHook

    hook = XaiHook()
    task_id = hook.submit_image("a fox")
    xai_conn.configure(api_key="another-key")
    with pytest.raises(XaiAuthError):
        hook.wait_for_task(task_id, poll_interval=0.01)
    assert xai_conn.count("GET", "/xai/tasks", accepted_only=False) == 1  # one poll, no retry


# --------------------------------------------------------------------------------------------------
# XaiInvalidRequestError
# --------------------------------------------------------------------------------------------------
def test_invalid_request_error_is_a_value_error_and_keeps_its_fields():
    err = XaiInvalidRequestError("aspect_ratio", "4:3", "one of '1:1', '16:9'")
    assert isinstance(err, ValueError)
    assert isinstance(err, XaiError)
    assert (err.parameter, err.value, err.allowed) == ("aspect_ratio", "4:3", "one of '1:1', '16:9'")
    assert str(err) == (
        "Invalid aspect_ratio: '4:3'. Allowed: one of '1:1', '16:9'. Nothing was sent to the service."
    )


def test_a_bad_parameter_can_be_caught_as_a_value_error_by_user_code(xai_conn):
    from airflow_provider_xai.hooks.xai import XaiHook

    with pytest.raises(ValueError, match=r"Invalid duration: 'ten'"):
        XaiHook().submit_video("waves", duration="ten")
    assert xai_conn.requests_log() == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(None, "None", id="none"),
        pytest.param("", "''", id="empty-string"),
        pytest.param("   ", "'   '", id="blank-string"),
        pytest.param(7, "7", id="int"),
        pytest.param(True, "True", id="bool"),
        pytest.param(6.5, "6.5", id="float"),
        pytest.param(["a", "b"], "['a', 'b']", id="short-list"),
        pytest.param("x" * 80, repr("x" * 80), id="string-at-limit-80"),
    ],
)
def test_short_values_are_shown_whole_as_repr(value, shown):
    message = str(XaiInvalidRequestError("p", value, "something"))
    assert message.startswith(f"Invalid p: {shown}. Allowed: something.")


@pytest.mark.parametrize("length", [81, 1001, 100_000], ids=lambda n: f"{n}-chars")
def test_long_strings_are_shortened_with_their_length(length):
    value = "a" * (length - 1) + "Z"
    message = str(XaiInvalidRequestError("prompt", value, "at most 1000 characters"))
    assert f"({length} characters)" in message
    assert repr("a" * 80) + "..." in message
    assert "Z" not in message  # the tail is not shown
    assert len(message) < 250
    assert message.endswith("Nothing was sent to the service.")


def test_long_non_string_values_are_truncated():
    value = [f"https://example.com/{i:03d}.png" for i in range(20)]
    message = str(XaiInvalidRequestError("image_url", value, "one URL"))
    assert repr(value)[:100] + "..." in message
    assert repr(value) not in message
    assert len(message) < 200


# --------------------------------------------------------------------------------------------------
# Machine fields of the other errors
# --------------------------------------------------------------------------------------------------
def test_transient_errors_carry_retry_after():
    assert XaiTransientError("x").retry_after is None
    assert XaiConnectionError("drop", request_sent=False).retry_after is None
    assert XaiRateLimitedError("429", retry_after=3.0).retry_after == 3.0
    service = XaiServiceError("502", status_code=502)
    assert (service.status_code, service.retry_after) == (502, None)
    assert XaiServiceError("503", status_code=503, retry_after=9.0).retry_after == 9.0


@pytest.mark.parametrize("sent", [True, False], ids=["request-sent", "request-not-sent"])
def test_connection_error_says_whether_the_request_was_sent(sent):
    err = XaiConnectionError("connection dropped", request_sent=sent)
    assert err.request_sent is sent
    assert str(err) == "connection dropped"


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        pytest.param(XaiHttpError, 400, id="http-400"),
        pytest.param(XaiAuthError, 401, id="auth-401"),
        pytest.param(XaiAuthError, 403, id="auth-403"),
        pytest.param(XaiNotFoundError, 404, id="not-found-404"),
    ],
)
def test_http_errors_carry_their_status_code(cls, code):
    err = cls("refused", status_code=code)
    assert err.status_code == code
    assert str(err) == "refused"


def test_task_failed_error_fields():
    err = XaiTaskFailedError(
        "boom", xai_task_id="t1", status="failed", error_code=42, error_message="nsfw", trace_id="tr"
    )
    assert (err.xai_task_id, err.status, err.error_code, err.error_message, err.trace_id) == (
        "t1",
        "failed",
        42,
        "nsfw",
        "tr",
    )
    assert str(err) == "boom"


def test_no_media_error_fields():
    err = XaiNoMediaError("no media", xai_task_id="t1", result_keys=["respect_moderation"])
    assert (err.xai_task_id, err.result_keys, str(err)) == ("t1", ["respect_moderation"], "no media")
