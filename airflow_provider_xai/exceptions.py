"""Exceptions raised by the xAI provider: one small, flat tree, built from machine fields only.

None of these classes does I/O, and none of them ever holds the API key.
"""

from __future__ import annotations


class XaiError(Exception):
    """Base class of every error raised by the xAI provider."""


class XaiInvalidRequestError(XaiError, ValueError):
    """Reject a parameter before anything is sent to the service.

    :param parameter: the name of the offending parameter, as the user wrote it.
    :param value: the value it had (after templating).
    :param allowed: what the parameter accepts.
    :param api: the API of the connection (``"gateway"`` or ``"xai"``), named in the message when given.
    """

    def __init__(self, parameter: str, value: object, allowed: str, *, api: str | None = None) -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        self.api = api
        where = f" on {API_LABELS.get(api, repr(api))}" if api else ""
        super().__init__(
            f"Invalid {parameter}: {_show(value)}. Allowed{where}: {allowed}. "
            "Nothing was sent to the service."
        )


#: how messages name each API
API_LABELS = {"gateway": "the task gateway (api='gateway')", "xai": "xAI's own API (api='xai')"}


class XaiTransientError(XaiError):
    """A failure that may go away by itself: polling retries it with backoff."""

    #: seconds the service asked us to wait (``Retry-After``), if it said so
    retry_after: float | None = None


class XaiConnectionError(XaiTransientError):
    """The service could not be reached, or the connection dropped or timed out."""

    def __init__(self, message: str, *, request_sent: bool) -> None:
        self.request_sent = request_sent
        super().__init__(message)


class XaiTlsError(XaiError):
    """The service's TLS certificate is not trusted: retrying cannot help, so nothing retries it.

    Nothing was sent: the handshake failed before the request.
    """

    request_sent = False


class XaiRateLimitedError(XaiTransientError):
    """The service answered 429 Too Many Requests."""

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class XaiServiceError(XaiTransientError):
    """The service or a proxy in front of it answered with a 5xx status."""

    def __init__(self, message: str, *, status_code: int, retry_after: float | None = None) -> None:
        self.status_code = status_code
        self.retry_after = retry_after
        super().__init__(message)


class XaiHttpError(XaiError):
    """The service refused a request with a status that retrying cannot fix (400, 404, ...)."""

    def __init__(self, message: str, *, status_code: int) -> None:
        self.status_code = status_code
        super().__init__(message)


class XaiAuthError(XaiHttpError):
    """The service refused the API key (401) or its access or balance (403)."""


class XaiNotFoundError(XaiHttpError):
    """The service does not know the task id."""


class XaiSubmissionUncertainError(XaiError):
    """A submission failed after it was sent: a task may exist on the service and may be billed."""


class XaiTaskFailedError(XaiError):
    """The remote task ended in ``failed``, ``cancelled`` or ``timeout``."""

    def __init__(
        self,
        message: str,
        *,
        xai_task_id: str,
        status: str,
        error_code: int | str | None,
        error_message: str | None,
        trace_id: str | None,
    ) -> None:
        self.xai_task_id = xai_task_id
        self.status = status
        self.error_code = error_code
        self.error_message = error_message
        self.trace_id = trace_id
        super().__init__(message)


class XaiNoMediaError(XaiError):
    """The remote task completed but its result holds no media URL (moderation, upstream fault)."""

    def __init__(self, message: str, *, xai_task_id: str, result_keys: list[str]) -> None:
        self.xai_task_id = xai_task_id
        self.result_keys = result_keys
        super().__init__(message)


class XaiWaitTimeoutError(XaiError):
    """The wait ended before the remote task reached a terminal status."""


class XaiWaitAbortedError(XaiError):
    """The wait ended after too many consecutive failed polls."""


class XaiMediaExpiredError(XaiError):
    """The storage host refused a media URL (403/404): the short-lived URLs have expired."""


class XaiMediaDownloadError(XaiError):
    """A media download failed or was incomplete; nothing was left under the final name."""


def _show(value: object, limit: int = 80) -> str:
    """Render a bad value for a message: short, with its length when it is a long string."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 20 else f"{text[: limit + 20]}..."
