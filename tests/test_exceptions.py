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


# --------------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        pytest.param(XaiInvalidRequestError, (XaiError, ValueError), id="invalid-request"),
        pytest.param(XaiConnectionError, (XaiTransientError,), id="connection"),
        pytest.param(XaiRateLimitedError, (XaiTransientError,), id="rate-limited"),
        pytest.param(XaiServiceError, (XaiTransientError,), id="service-5xx"),
        pytest.param(XaiAuthError, (XaiHttpError,), id="auth"),
        pytest.param(XaiNotFoundError, (XaiHttpError,), id="not-found"),
        pytest.param(XaiHttpError, (XaiError,), id="http"),
        pytest.param(XaiSubmissionUncertainError, (XaiError,), id="submission-uncertain"),
        pytest.param(XaiTaskFailedError, (XaiError,), id="task-failed"),
        pytest.param(XaiNoMediaError, (XaiError,), id="no-media"),
        pytest.param(XaiWaitTimeoutError, (XaiError,), id="wait-timeout"),
        pytest.param(XaiWaitAbortedError, (XaiError,), id="wait-aborted"),
        pytest.param(XaiMediaExpiredError, (XaiError,), id="media-expired"),
        pytest.param(XaiMediaDownloadError, (XaiError,), id="media-download"),
        pytest.param(XaiTransientError, (XaiError,), id="transient"),
        pytest.param(XaiError, (Exception,), id="base"),
    ],
)
def test_exception_tree(cls, bases):
    assert issubclass(cls, bases)


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(XaiHttpError, id="http"),
        pytest.param(XaiAuthError, id="auth"),
        pytest.param(XaiNotFoundError, id="not-found"),
        pytest.param(XaiTaskFailedError, id="task-failed"),
        pytest.param(XaiNoMediaError, id="no-media"),
        pytest.param(XaiWaitTimeoutError, id="wait-timeout"),
        pytest.param(XaiWaitAbortedError, id="wait-aborted"),
        pytest.param(XaiInvalidRequestError, id="invalid-request"),
    ],
)
def test_non_transient_errors_are_not_retried(cls):
    assert not issubclass(cls, XaiTransientError)


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


def test_invalid_request_error_is_caught_as_value_error():
    with pytest.raises(ValueError, match=r"Invalid duration: '10'"):
        raise XaiInvalidRequestError("duration", "10", "6, 10 or 15")


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
