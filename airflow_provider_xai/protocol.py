"""What both APIs share, pure: no I/O and no Airflow.

Everything that the blocking path (the hook's wait loop, the sensor's poke) and the deferred path
(the trigger, then the operator's completion) must agree on lives here, once: the request and parameter
values, the status table, the task-state value object, HTTP error classification and the decision about
what a remote status means. What differs between the task gateway and xAI's own API (paths, limits,
bodies, answers) lives in one dialect per API, in :mod:`airflow_provider_xai.apis`.
"""

from __future__ import annotations

import ast
import email.utils
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_xai.exceptions import (
    XaiAuthError,
    XaiError,
    XaiHttpError,
    XaiInvalidRequestError,
    XaiNoMediaError,
    XaiNotFoundError,
    XaiRateLimitedError,
    XaiServiceError,
    XaiTaskFailedError,
)

IMAGE_MODEL = "grok-imagine-image"
VIDEO_MODEL = "grok-imagine-video"


# --------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubmitRequest:
    """A validated creation request, ready to send.

    :param path: the endpoint path.
    :param body: the JSON body, exactly as the contract wants it.
    :param warnings: notes for the user (parameters that have no effect and were not sent).
    :param api: the API the request is for (``"gateway"`` or ``"xai"``).
    :param synchronous: the answer holds the media themselves (images on xAI's API): nothing to wait for.
    :param kind: ``"image"`` or ``"video"``.
    :param delivery: ``"download"`` (the worker fetches the media) or ``"upload"`` (the service PUTs the
        video to a signed URL of the final object).
    """

    path: str
    body: dict[str, Any]
    warnings: tuple[str, ...] = ()
    api: str = "gateway"
    synchronous: bool = False
    kind: str = "image"
    delivery: str = "download"

    @property
    def model(self) -> str:
        """Return the model named in the body."""
        return self.body["model"]


@dataclass(frozen=True)
class ImageParams:
    """The parameters of an image request as the user gave them (rendered, not yet validated)."""

    prompt: object
    aspect_ratio: object = None
    image_url: object = None
    model: object = None
    n: object = None
    image_urls: object = None
    resolution: object = None
    quality: object = None


@dataclass(frozen=True)
class VideoParams:
    """The parameters of a video request as the user gave them (rendered, not yet validated).

    :param output_scheme: the scheme of the task's ``output_path`` (``"s3"``, ``"file"``...), or ``None``
        without one: whether the service can upload the video there decides ``delivery="auto"``.
    """

    prompt: object
    duration: object = None
    aspect_ratio: object = None
    resolution: object = None
    image_url: object = None
    model: object = None
    reference_image_urls: object = None
    video_url: object = None
    video_operation: object = None
    delivery: object = "auto"
    output_scheme: str | None = None


#: output schemes whose objects the provider can sign a PUT URL for (the service uploads there)
UPLOADABLE_SCHEMES = ("s3",)
DELIVERIES = ("auto", "upload", "download")


def validate_prompt(prompt: object, limits: Any) -> str:
    """Return the prompt if it is a non-empty string within the length limit, else raise."""
    allowed = f"a non-empty string of at most {limits.prompt_max_chars} characters"
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > limits.prompt_max_chars:
        raise XaiInvalidRequestError("prompt", prompt, allowed)
    return prompt


def whole_number(value: object) -> object:
    """Return the int a whole-number string stands for (what a template renders, e.g. ``"10"``).

    Anything else comes back unchanged, for the caller to accept or refuse.
    """
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def rendered_list(value: object) -> object:
    """Return the list a template rendered as text (``"['https://a', 'https://b']"``), else ``value``.

    Without ``render_template_as_native_obj`` a templated list reaches the operator as its ``repr``.
    """
    text = value.strip() if isinstance(value, str) else ""
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return value
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return parsed
    return value


def is_http_url(value: object, limits: Any = None) -> bool:
    """Tell whether ``value`` is an absolute URL with an allowed scheme, a host and no whitespace."""
    if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    schemes = limits.url_schemes if limits is not None else ("http", "https")
    return parts.scheme.lower() in schemes and bool(parts.hostname)


def one_of(values: Sequence[str]) -> str:
    """Return ``"one of 'a', 'b'"`` for a message's list of allowed values."""
    return "one of " + ", ".join(repr(v) for v in values)


# --------------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------------
class TaskStatus(str, Enum):
    """The statuses of a remote task, as the contract lists them."""

    PENDING = "pending"
    READY = "ready"
    ASSIGNED = "assigned"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    #: xAI's API: the request expired before it finished
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """Tell whether the task can no longer change."""
        return self in _TERMINAL

    @property
    def is_success(self) -> bool:
        """Tell whether the task finished with content."""
        return self is TaskStatus.COMPLETED

    @classmethod
    def parse(cls, value: object) -> TaskStatus | None:
        """Return the status for a raw value, or ``None`` for a status the contract does not list."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            return None


_TERMINAL = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.TIMEOUT, TaskStatus.EXPIRED}
)


@dataclass(frozen=True)
class TaskState:
    """What the service said about a remote task at one moment: a small, JSON-friendly value."""

    xai_task_id: str
    status: str
    result: Any = None
    media_urls: tuple[str, ...] = ()
    error_message: str | None = None
    error_code: int | str | None = None
    trace_id: str | None = None
    created_at: str | None = None
    finished_at: str | None = None
    #: the API that reported the state (``"gateway"`` or ``"xai"``)
    api: str = "gateway"
    #: what the service billed, in USD (``None`` where it gives no figure)
    cost_usd: float | None = None

    @classmethod
    def from_response(cls, body: object, xai_task_id: str) -> TaskState:
        """Build the state from the task gateway's status answer (bare or enveloped)."""
        from airflow_provider_xai.apis.gateway import state_from_response

        return state_from_response(body, xai_task_id)

    @property
    def known_status(self) -> TaskStatus | None:
        """Return the status as a :class:`TaskStatus`, or ``None`` if the contract does not list it."""
        return TaskStatus.parse(self.status)

    @property
    def is_terminal(self) -> bool:
        """Tell whether the remote task can no longer change."""
        status = self.known_status
        return bool(status and status.is_terminal)

    def to_event(self) -> dict[str, Any]:
        """Return the state as a JSON-serializable dict (for trigger events and XCom)."""
        return {
            "xai_task_id": self.xai_task_id,
            "status": self.status,
            "result": self.result,
            "media_urls": list(self.media_urls),
            "error_message": self.error_message,
            "error_code": self.error_code,
            "trace_id": self.trace_id,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "api": self.api,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> TaskState:
        """Rebuild a state from :meth:`to_event` output."""
        if not isinstance(data, Mapping) or not data.get("xai_task_id"):
            raise XaiError(f"Malformed task state in trigger event: {type(data).__name__}.")
        return cls(
            xai_task_id=str(data["xai_task_id"]),
            status=str(data.get("status") or ""),
            result=data.get("result"),
            media_urls=tuple(data.get("media_urls") or ()),
            error_message=data.get("error_message"),
            error_code=data.get("error_code"),
            trace_id=data.get("trace_id"),
            created_at=data.get("created_at"),
            finished_at=data.get("finished_at"),
            api=str(data.get("api") or "gateway"),
            cost_usd=_number_or_none(data.get("cost_usd")),
        )


def _number_or_none(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# --------------------------------------------------------------------------------------------------
# The one decision point
# --------------------------------------------------------------------------------------------------
class Outcome(str, Enum):
    """What a remote status means for the Airflow task."""

    WAIT = "wait"
    SUCCESS = "success"
    FAILURE = "failure"


def outcome_of(state: TaskState, *, uploaded: bool = False) -> Outcome:
    """Decide whether to keep waiting, succeed or fail, for every status the service may report.

    :param state: what the service said.
    :param uploaded: the service delivers the media itself (a signed upload URL), so a completed task
        needs no media URL to succeed.
    """
    status = state.known_status
    if status is None or not status.is_terminal:
        return Outcome.WAIT
    if status.is_success and (state.media_urls or uploaded):
        return Outcome.SUCCESS
    return Outcome.FAILURE


def failure_of(state: TaskState) -> XaiError:
    """Return the error for a state whose outcome is :attr:`Outcome.FAILURE`."""
    if state.known_status is TaskStatus.COMPLETED:
        keys = sorted(state.result) if isinstance(state.result, Mapping) else type(state.result).__name__
        return XaiNoMediaError(
            f"xAI task {state.xai_task_id} completed without media: its result holds no media URL "
            f"(result keys: {keys}; a moderation block looks like this). trace id: {state.trace_id}.",
            xai_task_id=state.xai_task_id,
            result_keys=list(keys) if isinstance(keys, list) else [],
        )
    return XaiTaskFailedError(
        f"xAI task {state.xai_task_id} ended with status {state.status!r}: "
        f"errorCode={state.error_code}, errorMessage={state.error_message!r}"
        + (f", traceId={state.trace_id}." if state.trace_id or state.api != "xai" else "."),
        xai_task_id=state.xai_task_id,
        status=state.status,
        error_code=state.error_code,
        error_message=state.error_message,
        trace_id=state.trace_id,
    )


def unknown_status_warning(state: TaskState) -> str | None:
    """Return a warning for a status the contract does not list (we keep waiting on it), else ``None``."""
    if state.known_status is None:
        return (
            f"xAI task {state.xai_task_id} reports status {state.status!r}, which the contract does not "
            "list; waiting on it until it becomes terminal or the timeout ends the wait."
        )
    return None


# --------------------------------------------------------------------------------------------------
# HTTP errors
# --------------------------------------------------------------------------------------------------
def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the wait a ``Retry-After`` header asks for, in seconds (delta-seconds or HTTP-date form)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_detail(body_text: str | None, limit: int = 300) -> str:
    """Return the service's own message from an error body, or the first characters of an opaque body."""
    if not body_text:
        return "(empty body)"
    import json

    try:
        payload = json.loads(body_text)
    except ValueError:
        payload = None
    if isinstance(payload, Mapping) and isinstance(payload.get("error"), Mapping):
        payload = payload["error"]  # xAI's nested form: {"error": {"message", "type", "code"}}
    if isinstance(payload, Mapping):
        for key in ("message", "error", "detail", "errorMessage"):
            if isinstance(payload.get(key), str) and payload[key]:
                return payload[key][:limit]
    text = " ".join(body_text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


#: a masked fragment of a key, as xAI echoes it ("xa***4f"): never repeated in a message or a log
_KEY_FRAGMENT = re.compile(r"[^\s:'\"]{0,12}\*{3,}[^\s.,'\"]{0,12}")


def redact_key_fragments(text: str) -> str:
    """Return ``text`` with every masked key fragment (``xa***4f``) replaced by ``***``."""
    return _KEY_FRAGMENT.sub("***", text)


def is_wrong_key_answer(status_code: int, detail: str) -> bool:
    """Tell whether an answer is xAI's way of refusing a wrong key: 400 "Incorrect API key provided"."""
    return status_code == 400 and "incorrect api key" in detail.lower()


def error_class(status_code: int | None, *, wrong_key: bool = False) -> type[XaiError]:
    """Return the exception class of an HTTP answer: the one map, for fresh answers and trigger events.

    :param status_code: the HTTP status (``None``: not an HTTP answer).
    :param wrong_key: xAI's way of refusing a wrong key (400 "Incorrect API key").
    """
    if wrong_key or status_code in (401, 403):
        return XaiAuthError
    if status_code == 429:
        return XaiRateLimitedError
    if status_code is not None and status_code >= 500:
        return XaiServiceError
    if status_code == 404:
        return XaiNotFoundError
    return XaiHttpError if status_code is not None else XaiError


def make_error(
    cls: type[XaiError], message: str, status_code: int | None, retry_after: float | None = None
) -> XaiError:
    """Build an exception of :func:`error_class` with the fields its class takes."""
    if cls is XaiRateLimitedError:
        return XaiRateLimitedError(message, retry_after=retry_after)
    if cls is XaiServiceError:
        return XaiServiceError(message, status_code=status_code or 500, retry_after=retry_after)
    if issubclass(cls, XaiHttpError) and status_code is not None:
        return cls(message, status_code=status_code)  # type: ignore[call-arg]
    return XaiError(message)


def classify_http_error(
    status_code: int,
    body_text: str | None,
    *,
    what: str,
    conn_id: str,
    retry_after: str | None = None,
) -> XaiError:
    """Turn an HTTP error answer of either API into the right exception (transient ones are retryable).

    :param status_code: the HTTP status.
    :param body_text: the answer's body, JSON (flat or nested error) or not.
    :param what: what was asked, e.g. ``"GET /xai/tasks for task abc"``.
    :param conn_id: the Airflow connection id, named in auth errors (never the key).
    :param retry_after: the ``Retry-After`` header, if any.
    """
    detail = redact_key_fragments(error_detail(body_text))
    wrong_key = is_wrong_key_answer(status_code, detail)
    check_key = f"Check the API key (password) of Airflow connection {conn_id!r}."
    if wrong_key:
        message = f"The xAI service rejected the API key (400 Incorrect API key) for {what}. {check_key}"
    elif status_code == 401:
        message = f"The xAI service rejected the API key (401) for {what}. {check_key} Service said: {detail}"
    elif status_code == 403:
        message = (
            "The xAI service refused access (the key may not use this model, the team has no balance or "
            f"credits, or the content is blocked) (403) for {what}. {check_key} Service said: {detail}"
        )
    elif status_code == 429:
        message = f"Rate limited by the xAI service (429) on {what}: {detail}"
    elif status_code >= 500:
        message = f"The xAI service or a proxy failed ({status_code}) on {what}: {detail}"
    elif status_code == 404:
        message = f"Not found (404) on {what}: {detail}"
    elif status_code == 422:
        message = f"The xAI service refused {what} (422: a field of the wrong type or format): {detail}"
    else:
        message = f"The xAI service refused {what} ({status_code}): {detail}"
    cls = error_class(status_code, wrong_key=wrong_key)
    return make_error(cls, message, status_code, parse_retry_after(retry_after))


def error_for_status(status_code: int | None, message: str, *, auth: bool = False) -> XaiError:
    """Rebuild an error from a trigger event's status code and message, through the same map.

    :param auth: the error was an authentication failure (xAI's wrong key answers 400).
    """
    return make_error(error_class(status_code, wrong_key=auth), message, status_code)


def uncertain_submission_message(what: str, cause: str, api: str = "gateway") -> str:
    """Explain a failed submission after which a task may exist on the service."""
    where = (
        "xAI's API lists no requests and has no cancel endpoint: check the team's usage in the xAI console"
        if api == "xai"
        else "Look for it in the service's task list"
    )
    return (
        f"{what} failed after the request was sent ({cause}). A task may exist on the service and may be "
        f"billed; it was not resubmitted. {where} before retrying."
    )


#: names that moved to the task gateway's dialect, still importable from here
_GATEWAY_NAMES = frozenset(
    {
        "DEFAULT_BASE_URL", "IMAGES_PATH", "VIDEOS_PATH", "TASKS_PATH", "Limits", "LIMITS",
        "validate_aspect_ratio", "validate_image_url", "validate_duration", "validate_resolution",
        "build_image_request", "build_video_request", "unwrap_envelope", "envelope_error",
        "parse_task_id", "ECHO_KEYS", "extract_media_urls",
    }
)  # fmt: skip


def __getattr__(name: str) -> Any:
    """Forward the task gateway's rules, which live in :mod:`airflow_provider_xai.apis.gateway`."""
    if name in _GATEWAY_NAMES:
        from airflow_provider_xai.apis import gateway

        return getattr(gateway, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
