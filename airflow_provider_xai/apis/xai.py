"""xAI's own API (``xai-api-contract.md``): synchronous images, asynchronous videos, signed-URL uploads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from airflow_provider_xai import protocol
from airflow_provider_xai.apis import XAI, XAI_BASE_URL, ApiDialect, naming_api
from airflow_provider_xai.exceptions import XaiError, XaiInvalidRequestError, XaiNotFoundError
from airflow_provider_xai.protocol import ImageParams, SubmitRequest, TaskState, VideoParams

IMAGES_GENERATIONS = "/v1/images/generations"
IMAGES_EDITS = "/v1/images/edits"
VIDEOS_GENERATIONS = "/v1/videos/generations"
VIDEO_OPERATIONS = {"edit": "/v1/videos/edits", "extend": "/v1/videos/extensions"}
VIDEOS_STATUS = "/v1/videos/"
API_KEY_PATH = "/v1/api-key"
#: the prefix of the ids the provider makes for synchronously generated images
LOCAL_ID_PREFIX = "xai-img-"
#: 10^10 ticks make one US dollar
TICKS_PER_USD = 10_000_000_000


@dataclass(frozen=True)
class XaiLimits:
    """xAI's input limits, in one table: validation and body building both read it."""

    prompt_max_chars: int = 4096
    image_models: tuple[str, ...] = ("grok-imagine-image", "grok-imagine-image-2.0")
    retired_image_models: Mapping[str, str] = field(
        default_factory=lambda: {
            "grok-imagine-image-quality": "retired on 2026-11-02: use grok-imagine-image-2.0 with quality"
        }
    )
    quality_models: tuple[str, ...] = ("grok-imagine-image-2.0",)
    qualities: tuple[str, ...] = ("low", "medium", "high", "auto")
    max_images: int = 10
    image_aspect_ratios: tuple[str, ...] = (
        "1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "9:19.5",
        "19.5:9", "9:20", "20:9", "1:2", "2:1", "21:9", "5:2", "auto",
    )  # fmt: skip
    image_resolutions: tuple[str, ...] = ("1k", "2k")
    max_source_images: int = 5
    video_models: tuple[str, ...] = ("grok-imagine-video", "grok-imagine-video-1.5")
    video_aspect_ratios: tuple[str, ...] = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
    video_resolutions: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "grok-imagine-video": ("480p", "720p"),
            "grok-imagine-video-1.5": ("480p", "720p", "1080p"),
        }
    )
    durations: tuple[int, int] = (1, 15)
    reference_max_duration: int = 10
    extension_durations: tuple[int, int] = (2, 10)
    max_reference_images: int = 7
    url_schemes: tuple[str, ...] = ("http", "https")


LIMITS = XaiLimits()


def _invalid(name: str, value: object, allowed: str) -> XaiInvalidRequestError:
    return XaiInvalidRequestError(name, value, allowed, api=XAI)


def _choice(name: str, value: object, allowed: Sequence[str], *, fold_case: bool = False) -> str | None:
    if value is None:
        return None
    text = value.lower() if fold_case and isinstance(value, str) else value
    if text not in allowed:
        raise _invalid(name, value, protocol.one_of(allowed) + (" (either case)" if fold_case else ""))
    return str(text)


def _whole(name: str, value: object, low: int, high: int, what: str) -> int | None:
    number = protocol.whole_number(value)
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        raise _invalid(name, value, f"a whole number from {low} to {high} ({what})")
    return number


def _source_url(name: str, value: object) -> str:
    """Return an image or video source: an absolute http(s) URL or a ``data:`` URI."""
    if isinstance(value, str) and (value.startswith("data:") or protocol.is_http_url(value, LIMITS)):
        return value
    raise _invalid(name, value, "an absolute http or https URL, or a data: URI")


def _url_list(name: str, value: object, most: int) -> list[str]:
    value = protocol.rendered_list(value)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not 1 <= len(items) <= most:
        raise _invalid(name, value, f"a list of 1 to {most} absolute http(s) URLs or data: URIs")
    return [_source_url(name, item) for item in items]


def _prompt(prompt: object) -> str:
    with naming_api(XAI):
        return protocol.validate_prompt(prompt, LIMITS)


class XaiApiDialect(ApiDialect):
    """xAI's own API: images are answered at once, videos are polled by ``request_id``."""

    name = XAI
    default_base_url = XAI_BASE_URL
    key_check_path = API_KEY_PATH

    # ---- requests ------------------------------------------------------------------------------
    def build_image(self, params: ImageParams) -> SubmitRequest:
        """Validate and build an image generation, or an edit of 1 to 5 source images."""
        model = params.model if params.model is not None else LIMITS.image_models[0]
        if isinstance(model, str) and model in LIMITS.retired_image_models:
            raise _invalid(
                "model",
                model,
                f"{protocol.one_of(LIMITS.image_models)} ({LIMITS.retired_image_models[model]})",
            )
        model = _choice("model", model, LIMITS.image_models)
        body: dict[str, Any] = {"prompt": _prompt(params.prompt), "model": model}
        n = _whole("n", params.n, 1, LIMITS.max_images, "images per request")
        if n is not None:
            body["n"] = n
        ratio = _choice("aspect_ratio", params.aspect_ratio, LIMITS.image_aspect_ratios)
        if ratio:
            body["aspect_ratio"] = ratio
        resolution = _choice("resolution", params.resolution, LIMITS.image_resolutions, fold_case=True)
        if resolution:
            body["resolution"] = resolution
        if params.quality is not None:
            if model not in LIMITS.quality_models:
                allowed = f"no quality on {model!r}; quality is only on {', '.join(LIMITS.quality_models)}"
                raise _invalid("quality", params.quality, allowed)
            body["quality"] = _choice("quality", params.quality, LIMITS.qualities)
        path = IMAGES_GENERATIONS
        sources = self._image_sources(params)
        if sources:
            path = IMAGES_EDITS
            items = [{"url": url, "type": "image_url"} for url in sources]
            if len(items) == 1:
                body["image"] = items[0]
            else:
                body["images"] = items
        # URLs, not base64: the answer stays small enough to keep in task_state_store for a retry
        body["response_format"] = "url"
        return SubmitRequest(path, body, api=XAI, synchronous=True, kind="image")

    @staticmethod
    def _image_sources(params: ImageParams) -> list[str]:
        if params.image_url is not None and params.image_urls:
            raise _invalid("image_urls", params.image_urls, "either image_url (one) or image_urls, not both")
        if params.image_url is not None:
            return [_source_url("image_url", params.image_url)]
        if params.image_urls:
            return _url_list("image_urls", params.image_urls, LIMITS.max_source_images)
        return []

    def build_video(self, params: VideoParams) -> SubmitRequest:
        """Validate and build a video generation, edit or extension, and choose how it is delivered."""
        model = _choice(
            "model", params.model if params.model is not None else LIMITS.video_models[0], LIMITS.video_models
        )
        body: dict[str, Any] = {"prompt": _prompt(params.prompt), "model": model}
        warnings: list[str] = []
        if params.video_url is not None or params.video_operation is not None:
            path = self._video_operation(params, body)
        else:
            path = VIDEOS_GENERATIONS
            warnings = self._video_generation(params, body, str(model))
        delivery = self._delivery(params)
        return SubmitRequest(path, body, tuple(warnings), api=XAI, kind="video", delivery=delivery)

    @staticmethod
    def _video_operation(params: VideoParams, body: dict[str, Any]) -> str:
        operation = _choice("video_operation", params.video_operation, tuple(VIDEO_OPERATIONS))
        if operation is None:
            raise _invalid("video_operation", None, "'edit' or 'extend', to say what to do with video_url")
        if params.video_url is None:
            raise _invalid("video_url", None, f"the URL of the video to {operation} (video_operation is set)")
        body["video"] = {"url": _source_url("video_url", params.video_url)}
        follows = f"not used with video_operation={operation!r}: the output follows the input video"
        for name in ("image_url", "reference_image_urls", "aspect_ratio", "resolution"):
            value = getattr(params, name)
            if value is not None and value != []:
                raise _invalid(name, value, follows)
        if operation == "edit":
            if params.duration is not None:
                allowed = "no duration with video_operation='edit' (an edit keeps its input's length)"
                raise _invalid("duration", params.duration, allowed)
        else:
            low, high = LIMITS.extension_durations
            seconds = _whole("duration", params.duration, low, high, "seconds an extension adds")
            if seconds is not None:
                body["duration"] = seconds
        return VIDEO_OPERATIONS[operation]

    @staticmethod
    def _video_generation(params: VideoParams, body: dict[str, Any], model: str) -> list[str]:
        references = params.reference_image_urls
        if references is not None and references != [] and params.image_url is not None:
            raise _invalid(
                "reference_image_urls",
                references,
                "not together with image_url (a first frame): one or the other",
            )
        high = LIMITS.reference_max_duration if references else LIMITS.durations[1]
        what = "seconds; at most 10 with reference images" if references else "seconds"
        seconds = _whole("duration", params.duration, LIMITS.durations[0], high, what)
        ratio = _choice("aspect_ratio", params.aspect_ratio, LIMITS.video_aspect_ratios)
        resolutions = LIMITS.video_resolutions[model]
        resolution = params.resolution
        if isinstance(resolution, str) and resolution.lower() not in resolutions:
            others = [m for m, r in LIMITS.video_resolutions.items() if resolution.lower() in r]
            extra = f" ({resolution.lower()!r} needs {', '.join(others)})" if others else ""
            raise _invalid(
                "resolution", resolution, f"{protocol.one_of(resolutions)} on {model}, either case{extra}"
            )
        resolution = _choice("resolution", resolution, resolutions, fold_case=True)
        if seconds is not None:
            body["duration"] = seconds
        warnings = []
        if params.image_url is not None:
            body["image"] = {"url": _source_url("image_url", params.image_url)}
            for name, value in (("aspect_ratio", ratio), ("resolution", resolution)):
                if value:
                    warnings.append(
                        f"{name}={value!r} has no effect with image_url (the output follows the image); "
                        "not sent."
                    )
            return warnings
        if references:
            urls = _url_list("reference_image_urls", references, LIMITS.max_reference_images)
            body["reference_images"] = [{"url": url} for url in urls]
        if ratio:
            body["aspect_ratio"] = ratio
        if resolution:
            body["resolution"] = resolution
        return warnings

    @staticmethod
    def _delivery(params: VideoParams) -> str:
        delivery = _choice(
            "delivery", params.delivery if params.delivery is not None else "auto", protocol.DELIVERIES
        )
        uploadable = params.output_scheme in protocol.UPLOADABLE_SCHEMES
        if delivery == "upload" and not uploadable:
            where = (
                f"an output_path on {params.output_scheme!r}" if params.output_scheme else "no output_path"
            )
            raise _invalid(
                "delivery",
                delivery,
                "'upload' only with an output_path on S3 (s3://...), which can sign a PUT URL; "
                f"the task has {where}",
            )
        return "upload" if delivery == "upload" or (delivery == "auto" and uploadable) else "download"

    # ---- answers -------------------------------------------------------------------------------
    def parse_submit(self, body: object) -> str:
        """Return the ``request_id`` of an accepted video request."""
        request_id = body.get("request_id") if isinstance(body, Mapping) else None
        if not isinstance(request_id, str) or not request_id:
            keys = sorted(body) if isinstance(body, Mapping) else type(body).__name__
            raise XaiError(f"xAI accepted the request but its answer holds no request_id (saw {keys}).")
        return request_id

    def parse_generation(self, body: object, xai_task_id: str, finished_at: str) -> TaskState:
        """Return the finished state of an image answer: its URLs, moderation and cost."""
        if not isinstance(body, Mapping):
            raise XaiError("xAI's image answer is not a JSON object.")
        items = [item for item in body.get("data") or [] if isinstance(item, Mapping)]
        moderated = sum(1 for item in items if item.get("respect_moderation") is False)
        urls = tuple(
            item["url"]
            for item in items
            if item.get("respect_moderation") is not False and protocol.is_http_url(item.get("url"))
        )
        status, code, message = "completed", None, None
        if body.get("block_reason"):
            status, code = "failed", "blocked"
            message = f"the request was blocked at input ({body['block_reason']}); not worth a retry"
        elif moderated and not urls:
            status, code = "failed", "moderated"
            message = f"every image ({moderated}) was withheld by moderation (respect_moderation: false)"
        elif moderated:
            message = f"{moderated} of {len(items)} images were withheld by moderation; the others are kept"
        return TaskState(
            xai_task_id=xai_task_id,
            status=status,
            result=_without_base64(body),
            media_urls=urls,
            error_message=message,
            error_code=code,
            finished_at=finished_at,
            created_at=finished_at,
            api=XAI,
            cost_usd=cost_usd(body),
        )

    def status_path(self, xai_task_id: str) -> str:
        """Return ``/v1/videos/<request_id>``."""
        return VIDEOS_STATUS + quote(xai_task_id, safe="")

    def parse_state(self, body: object, xai_task_id: str) -> TaskState:
        """Map a video status answer onto the shared statuses (``done`` -> ``completed``)."""
        if not isinstance(body, Mapping):
            raise XaiError(f"The status answer for xAI request {xai_task_id} is not a JSON object.")
        raw = str(body.get("status") or "").strip().lower()
        video: Mapping[str, Any] = body["video"] if isinstance(body.get("video"), Mapping) else {}
        error: Mapping[str, Any] = body["error"] if isinstance(body.get("error"), Mapping) else {}
        urls: tuple[str, ...] = ()
        status, code, message = raw, error.get("code"), error.get("message")
        if raw == "done":
            if video.get("respect_moderation") is False:
                status, code = "failed", "moderated"
                message = (
                    "the video was withheld by moderation (respect_moderation: false); not worth a retry"
                )
            else:
                status = "completed"
                urls = (video["url"],) if protocol.is_http_url(video.get("url")) else ()
        elif raw == "expired":
            message = message or "the request expired before it finished"
        return TaskState(
            xai_task_id=xai_task_id,
            status=status,
            result=dict(body),
            media_urls=urls,
            error_message=message,
            error_code=code,
            api=XAI,
            cost_usd=cost_usd(body),
        )

    def check_key(self, status_code: int, body: object) -> tuple[bool, str] | None:
        """Read ``GET /v1/api-key``: the key is accepted, and neither it nor its team is blocked."""
        if status_code != 200 or not isinstance(body, Mapping) or "api_key_blocked" not in body:
            return None
        blocked = [flag for flag in ("api_key_blocked", "api_key_disabled", "team_blocked") if body.get(flag)]
        if blocked:
            return False, f"xAI accepts the key, but it cannot generate anything: {', '.join(blocked)}"
        return True, "xAI accepts the API key and it may generate (GET /v1/api-key)"

    def unknown_local_id(self, xai_task_id: str) -> XaiNotFoundError | None:
        """Refuse to ask xAI about an id the provider made for synchronously generated images."""
        if xai_task_id.startswith(LOCAL_ID_PREFIX):
            return XaiNotFoundError(
                f"{xai_task_id} names images that xAI's API generated synchronously: the provider made the "
                "id, and the service cannot report on it. The task that generated them returned them.",
                status_code=404,
            )
        return None


def cost_usd(body: Mapping[str, Any]) -> float | None:
    """Return the cost an answer reports (``usage.cost_in_usd_ticks``) in USD, or ``None``."""
    usage = body.get("usage")
    ticks = usage.get("cost_in_usd_ticks") if isinstance(usage, Mapping) else None
    if isinstance(ticks, bool) or not isinstance(ticks, (int, float)):
        return None
    return ticks / TICKS_PER_USD


def _without_base64(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answer with any ``b64_json`` replaced by its length (the raw result stays small)."""
    data = [
        {
            k: (f"<{len(v)} base64 characters>" if k == "b64_json" and isinstance(v, str) else v)
            for k, v in item.items()
        }
        if isinstance(item, Mapping)
        else item
        for item in body.get("data") or []
    ]
    return {**body, "data": data}
