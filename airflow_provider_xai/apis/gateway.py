"""The task gateway of ``api-contract.md``: POST returns a ``taskId``, GET ``/xai/tasks`` polls it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from airflow_provider_xai.apis import GATEWAY, ApiDialect, naming_api
from airflow_provider_xai.exceptions import XaiError, XaiInvalidRequestError
from airflow_provider_xai.protocol import (
    IMAGE_MODEL,
    VIDEO_MODEL,
    ImageParams,
    SubmitRequest,
    TaskState,
    VideoParams,
    is_http_url,
    one_of,
    rendered_list,
    validate_prompt,
    whole_number,
)

DEFAULT_BASE_URL = "https://api.mountsea.ai"
IMAGES_PATH = "/xai/images"
VIDEOS_PATH = "/xai/videos"
TASKS_PATH = "/xai/tasks"


@dataclass(frozen=True)
class Limits:
    """The service's input limits, in one table (the gateway's own pages disagree on some)."""

    prompt_max_chars: int = 1000
    aspect_ratios: tuple[str, ...] = ("1:1", "2:3", "3:2", "9:16", "16:9")
    durations: tuple[int, ...] = (6, 10, 15)
    resolutions: tuple[str, ...] = ("480P", "720P")
    max_reference_images: int = 1
    url_schemes: tuple[str, ...] = ("http", "https")


LIMITS = Limits()


def validate_aspect_ratio(aspect_ratio: object, limits: Limits = LIMITS) -> str | None:
    """Return the aspect ratio (or ``None`` when not given) if the service accepts it, else raise."""
    if aspect_ratio is None:
        return None
    if aspect_ratio not in limits.aspect_ratios:
        raise XaiInvalidRequestError("aspect_ratio", aspect_ratio, one_of(limits.aspect_ratios))
    return aspect_ratio


def validate_image_url(image_url: object, limits: Limits = LIMITS) -> str | None:
    """Return the one reference image URL (or ``None``) if it is an absolute http(s) URL, else raise."""
    if image_url is None:
        return None
    allowed = (
        f"one absolute {' or '.join(limits.url_schemes)} URL of a reference image "
        f"(the service takes at most {limits.max_reference_images})"
    )
    if isinstance(image_url, (list, tuple)):
        if len(image_url) != limits.max_reference_images:
            raise XaiInvalidRequestError("image_url", image_url, allowed)
        (image_url,) = image_url
    if not isinstance(image_url, str) or not is_http_url(image_url, limits):
        raise XaiInvalidRequestError("image_url", image_url, allowed)
    return image_url


def validate_duration(duration: object, limits: Limits = LIMITS) -> int | None:
    """Return the video duration in seconds (or ``None``) if it is one the service accepts, else raise."""
    if duration is None:
        return None
    number = duration.total_seconds() if hasattr(duration, "total_seconds") else duration
    number = whole_number(number)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int) or number not in limits.durations:
        allowed = f"a whole number of seconds, one of {', '.join(map(str, limits.durations))}"
        raise XaiInvalidRequestError("duration", duration, allowed)
    return number


def validate_resolution(resolution: object, limits: Limits = LIMITS) -> str | None:
    """Return the resolution in the service's upper case (or ``None``), accepting ``480p``/``720p``."""
    if resolution is None:
        return None
    if not isinstance(resolution, str) or resolution.upper() not in limits.resolutions:
        allowed = one_of(limits.resolutions) + " (lower-case p is accepted)"
        raise XaiInvalidRequestError("resolution", resolution, allowed)
    return resolution.upper()


def build_image_request(
    prompt: object, *, aspect_ratio: object = None, image_url: object = None, limits: Limits = LIMITS
) -> SubmitRequest:
    """Validate the parameters of a text-to-image or image-to-image request and build its body."""
    body: dict[str, Any] = {"prompt": validate_prompt(prompt, limits), "model": IMAGE_MODEL}
    ratio = validate_aspect_ratio(aspect_ratio, limits)
    reference = validate_image_url(image_url, limits)
    warnings = []
    if reference:
        body["images"] = [reference]
        if ratio:
            warnings.append(_ignored_with_reference("aspect_ratio", ratio, "the reference image's size"))
    elif ratio:
        body["aspectRatio"] = ratio
    return SubmitRequest(IMAGES_PATH, body, tuple(warnings), kind="image")


def build_video_request(
    prompt: object,
    *,
    duration: object = None,
    aspect_ratio: object = None,
    resolution: object = None,
    image_url: object = None,
    limits: Limits = LIMITS,
) -> SubmitRequest:
    """Validate the parameters of a text-to-video or image-to-video request and build its body."""
    body: dict[str, Any] = {"prompt": validate_prompt(prompt, limits), "model": VIDEO_MODEL}
    seconds = validate_duration(duration, limits)
    ratio = validate_aspect_ratio(aspect_ratio, limits)
    res = validate_resolution(resolution, limits)
    reference = validate_image_url(image_url, limits)
    if seconds is not None:
        body["duration"] = seconds
    warnings = []
    if reference:
        body["images"] = [reference]
        for name, value in (("aspect_ratio", ratio), ("resolution", res)):
            if value:
                warnings.append(_ignored_with_reference(name, value, "the reference image"))
    else:
        if ratio:
            body["aspectRatio"] = ratio
        if res:
            body["resolution"] = res
    return SubmitRequest(VIDEOS_PATH, body, tuple(warnings), kind="video")


def _ignored_with_reference(name: str, value: str, follows: str) -> str:
    return f"{name}={value!r} has no effect with a reference image (the output follows {follows}); not sent."


def unwrap_envelope(body: object) -> object:
    """Return the payload of an answer, whether bare or wrapped as ``{"code", "message", "data"}``."""
    if isinstance(body, Mapping) and "data" in body and ("code" in body or "message" in body):
        if "taskId" not in body and "status" not in body:
            return body["data"]
    return body


def envelope_error(body: object) -> tuple[int, str] | None:
    """Return (code, message) when an enveloped answer reports an error despite HTTP 2xx, else ``None``."""
    if isinstance(body, Mapping) and "data" in body and "taskId" not in body and "status" not in body:
        code = body.get("code")
        if isinstance(code, int) and not isinstance(code, bool) and code >= 300:
            return code, str(body.get("message") or "")
    return None


def parse_task_id(body: object) -> str:
    """Return the ``taskId`` of a creation answer (bare or enveloped), or raise when there is none."""
    payload = unwrap_envelope(body)
    task_id = payload.get("taskId") if isinstance(payload, Mapping) else None
    if not isinstance(task_id, (str, int)) or isinstance(task_id, bool) or str(task_id) == "":
        keys = sorted(payload) if isinstance(payload, Mapping) else type(payload).__name__
        raise XaiError(f"The service accepted the request but its answer holds no taskId (saw {keys}).")
    return str(task_id)


#: keys whose values echo the request rather than hold generated media (a reference image URL there
#: must not pass for output, e.g. in a moderated image-to-image result)
ECHO_KEYS = frozenset(
    {"input", "inputs", "request", "params", "parameters", "reference", "references", "referenceimages"}
)


def extract_media_urls(result: object) -> tuple[str, ...]:
    """Return every http(s) URL in a result, whatever its nesting, in order and without repeats.

    Values under keys that echo the request (:data:`ECHO_KEYS`) are skipped.
    """
    seen: dict[str, None] = {}
    for value in _walk_strings(result):
        if is_http_url(value):
            seen.setdefault(value, None)
    return tuple(seen)


def _walk_strings(node: object, depth: int = 0) -> Iterator[str]:
    if depth > 32:
        return
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if str(key).replace("_", "").lower() not in ECHO_KEYS:
                yield from _walk_strings(value, depth + 1)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _walk_strings(value, depth + 1)


def state_from_response(body: object, xai_task_id: str) -> TaskState:
    """Build the shared state from a status answer (bare or enveloped)."""
    payload = unwrap_envelope(body)
    if not isinstance(payload, Mapping):
        raise XaiError(f"The status answer for task {xai_task_id} is not a JSON object.")
    trace_id = payload.get("traceId")
    if trace_id is None and isinstance(body, Mapping):
        trace_id = body.get("traceId")
    result = payload.get("result")
    return TaskState(
        xai_task_id=str(payload.get("taskId") or xai_task_id),
        status=str(payload.get("status") or "").strip().lower(),
        result=result,
        media_urls=extract_media_urls(result),
        error_message=payload.get("errorMessage"),
        error_code=payload.get("errorCode"),
        trace_id=trace_id,
        created_at=payload.get("createdAt"),
        finished_at=payload.get("finishedAt"),
    )


_XAI_ONLY = "not supported by the task gateway; use a connection with api='xai' (xAI's own API)"


def _refuse_if_set(name: str, value: object, unset: tuple[object, ...] = (None,)) -> None:
    if value not in unset and not (isinstance(value, (list, tuple)) and not value):
        raise XaiInvalidRequestError(name, value, _XAI_ONLY, api=GATEWAY)


class GatewayDialect(ApiDialect):
    """The task gateway: every request is asynchronous; the limits are :data:`LIMITS`."""

    name = GATEWAY
    default_base_url = DEFAULT_BASE_URL
    key_check_path = TASKS_PATH + "?" + urlencode({"taskId": "airflow-connection-test"})
    needs_auth_probe = True

    def build_image(self, params: ImageParams) -> SubmitRequest:
        """Validate and build a text-to-image or image-to-image request (one reference image at most)."""
        _refuse_if_set("n", whole_number(params.n), (None, 1))
        _refuse_if_set("resolution", params.resolution)
        _refuse_if_set("quality", params.quality)
        _refuse_if_set("model", params.model, (None, IMAGE_MODEL))
        image_url = params.image_url
        if params.image_urls:
            if image_url is not None:
                raise XaiInvalidRequestError(
                    "image_urls", params.image_urls, "either image_url or image_urls, not both", api=GATEWAY
                )
            image_url = rendered_list(params.image_urls)
        with naming_api(GATEWAY):
            return build_image_request(params.prompt, aspect_ratio=params.aspect_ratio, image_url=image_url)

    def build_video(self, params: VideoParams) -> SubmitRequest:
        """Validate and build a text-to-video or image-to-video request."""
        _refuse_if_set("model", params.model, (None, VIDEO_MODEL))
        _refuse_if_set("reference_image_urls", params.reference_image_urls)
        _refuse_if_set("video_url", params.video_url)
        _refuse_if_set("video_operation", params.video_operation)
        if params.delivery not in ("auto", "download"):
            allowed = "'auto' or 'download' (the task gateway cannot upload to a signed URL)"
            raise XaiInvalidRequestError("delivery", params.delivery, allowed, api=GATEWAY)
        with naming_api(GATEWAY):
            return build_video_request(
                params.prompt,
                duration=params.duration,
                aspect_ratio=params.aspect_ratio,
                resolution=params.resolution,
                image_url=params.image_url,
            )

    def parse_submit(self, body: object) -> str:
        """Return the ``taskId`` of a creation answer (bare or enveloped)."""
        return parse_task_id(body)

    def status_path(self, xai_task_id: str) -> str:
        """Return ``/xai/tasks?taskId=<id>``."""
        return f"{TASKS_PATH}?{urlencode({'taskId': xai_task_id})}"

    def parse_state(self, body: object, xai_task_id: str) -> TaskState:
        """Return the state of a status answer (bare or enveloped); the gateway reports no cost."""
        return state_from_response(body, xai_task_id)

    def answer_error(self, body: object) -> tuple[int, str] | None:
        """Return the error an enveloped 2xx answer reports, if any."""
        return envelope_error(body)

    def check_key(self, status_code: int, body: object) -> tuple[bool, str] | None:
        """Accept the gateway's 404 for the unknown test task only when the answer is the service's JSON."""
        if status_code == 404 and isinstance(body, Mapping):
            return True, "the API key is accepted (the service answered 404 for an unknown task)"
        if status_code == 200:
            return True, "the API key is accepted"
        return None
