"""Validate requests to xAI's own API (``xai-api-contract.md``) as strictly as the contract reads.

The status of a refusal follows the contract: **422** for a field of the wrong type or format (a string
duration, ``"480P"`` in upper case, an unknown field, a missing required field), **404** for an unknown
model, **400** for a rule between valid values (``n`` above 10, ``image`` with ``reference_images``, a
duration above 10 seconds with reference images, ``1080p`` on ``grok-imagine-video``, ...). Messages name
the field and never echo a value (an ``upload_url`` is a credential).

Each ``validate_*`` function returns the request with its defaults filled in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .validation import ApiError

PROMPT_MAX_CHARS = 4096
IMAGE_MODELS = ("grok-imagine-image", "grok-imagine-image-2.0")
RETIRED_IMAGE_MODELS = {"grok-imagine-image-quality": "2026-11-02"}
VIDEO_MODELS = ("grok-imagine-video", "grok-imagine-video-1.5")
IMAGE_ASPECT_RATIOS = (
    "1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "9:19.5", "19.5:9", "9:20", "20:9", "1:2", "2:1",
    "21:9", "5:2", "auto",
)  # fmt: skip
IMAGE_RESOLUTIONS = ("1k", "2k")
IMAGE_QUALITIES = ("low", "medium", "high", "auto")
RESPONSE_FORMATS = ("url", "b64_json")
VIDEO_ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
VIDEO_RESOLUTIONS = ("480p", "720p", "1080p")
MAX_EDIT_IMAGES = 5
MAX_REFERENCE_IMAGES = 7
DEFAULT_VIDEO_DURATION = 8
DEFAULT_EXTENSION_DURATION = 6

#: The fields each endpoint knows; any other field is answered 422.
_IMAGE_FIELDS = ("prompt", "model", "n", "response_format", "aspect_ratio", "resolution", "quality", "user")
FIELDS: dict[str, tuple[str, ...]] = {
    "images/generations": _IMAGE_FIELDS,
    "images/edits": (*_IMAGE_FIELDS, "image", "images"),
    "videos/generations": (
        *("prompt", "model", "duration", "aspect_ratio", "resolution"),
        *("image", "reference_images", "output", "user"),
    ),
    "videos/edits": ("prompt", "model", "video", "output", "user"),
    "videos/extensions": ("prompt", "model", "video", "duration", "output", "user"),
}
_DESERIALIZE = "Failed to deserialize the JSON body into the target type: "


class XaiError(ApiError):
    """An error answer of xAI's API.

    :param status: the HTTP status code.
    :param message: the ``error`` text (flat style) or ``error.message`` (nested style).
    :param code: the nested style's ``error.code``; ``None`` picks the one of the status.
    """

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(status, message)
        self.code = code


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "floating point"
    if isinstance(value, str):
        return "string"
    return "sequence" if isinstance(value, list) else "map"


def invalid(field: str, expected: str, value: Any) -> XaiError:
    """Build the 422 of a field of the wrong type or format (the value itself is never echoed).

    :param field: the field's path, e.g. ``output.upload_url``.
    :param expected: what the field must be.
    :param value: the value received (only its JSON type is named).
    """
    return XaiError(
        422,
        f"{_DESERIALIZE}{field}: invalid type: {_kind(value)}, expected {expected}",
    )


def bad(message: str) -> XaiError:
    """Build the 400 of a rule broken between valid values.

    :param message: what is wrong, naming the field.
    """
    return XaiError(400, message)


def _string(body: dict[str, Any], field: str, choices: tuple[str, ...] | None = None) -> str | None:
    if field not in body:
        return None
    value = body[field]
    if not isinstance(value, str):
        raise invalid(field, "a string", value)
    if choices is not None and value not in choices:
        raise XaiError(
            422,
            f"{_DESERIALIZE}{field}: unknown variant, expected one of {', '.join(f'`{c}`' for c in choices)}",
        )
    return value


def _integer(body: dict[str, Any], field: str, low: int, high: int, rule: str = "") -> int | None:
    if field not in body:
        return None
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, "an integer", value)
    if not low <= value <= high:
        raise bad(f"{field} must be between {low} and {high}{rule}, got {value}")
    return value


def check_url(field: str, value: Any, data_uri: bool = True) -> str:
    """Check a URL field: an http(s) URL or, where allowed, a ``data:image/...;base64,`` URI.

    :param field: the field's path, for the message.
    :param value: the value received.
    :param data_uri: whether a data URI is accepted.
    """
    if not isinstance(value, str):
        raise invalid(field, "a string", value)
    if data_uri and value.startswith("data:"):
        header, _, payload = value.partition(",")
        if not header.startswith("data:image/") or not header.endswith(";base64") or not payload:
            raise bad(f"{field} must be an http(s) URL or a base64 data URI of an image")
        return value
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - a port that is not a number raises
    except ValueError:
        raise bad(f"{field} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad(f"{field} must be an http(s) URL" + (" or a base64 data URI" if data_uri else ""))
    return value


def _url_object(field: str, value: Any, typed: bool = False, data_uri: bool = True) -> dict[str, Any]:
    allowed = ("url", "type") if typed else ("url",)
    if not isinstance(value, dict):
        raise invalid(field, "a map with " + " and ".join(f"`{a}`" for a in allowed), value)
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        expected = ", ".join(f"`{a}`" for a in allowed)
        raise XaiError(
            422, f"{_DESERIALIZE}{field}: unknown field `{unknown[0]}`, expected one of {expected}"
        )
    if "url" not in value:
        raise XaiError(422, f"{field}: missing field `url`")
    if typed and "type" in value and value["type"] != "image_url":
        raise XaiError(422, f"{field}.type: unknown variant, expected `image_url`")
    check_url(f"{field}.url", value["url"], data_uri)
    return value


def _url_list(
    field: str, body: dict[str, Any], limit: int, typed: bool = False
) -> list[dict[str, Any]] | None:
    if field not in body:
        return None
    value = body[field]
    if not isinstance(value, list):
        raise invalid(field, "a sequence", value)
    if not value:
        raise bad(f"{field} must hold at least one image")
    if len(value) > limit:
        raise bad(f"{field} accepts at most {limit} images, got {len(value)}")
    return [_url_object(f"{field}[{i}]", item, typed) for i, item in enumerate(value)]


def _common(endpoint: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object", body)
    known = FIELDS[endpoint]
    for field in body:
        if field not in known:
            if endpoint == "videos/edits" and field == "duration":
                raise bad("duration is not accepted on video edits: an edit keeps its input's length")
            expected = ", ".join(f"`{k}`" for k in known)
            raise XaiError(422, f"{_DESERIALIZE}unknown field `{field}`, expected one of {expected}")
    if "prompt" not in body:
        raise XaiError(422, f"{_DESERIALIZE}missing field `prompt`")
    prompt = _string(body, "prompt")
    if not prompt or not prompt.strip():
        raise bad("prompt must not be empty")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise bad(f"prompt must be at most {PROMPT_MAX_CHARS} characters, got {len(prompt)}")
    _string(body, "user")
    return dict(body)


def _model(body: dict[str, Any], models: tuple[str, ...], retired_alias: bool = False) -> str:
    model = _string(body, "model") or models[0]
    if model in RETIRED_IMAGE_MODELS and models == IMAGE_MODELS:
        if retired_alias:
            return model
        raise XaiError(
            404,
            f"The model {model} was retired on {RETIRED_IMAGE_MODELS[model]}; use grok-imagine-image-2.0",
            "model_not_found",
        )
    if model not in models:
        message = f"The model {model} does not exist or your team does not have access to it"
        raise XaiError(404, message, "model_not_found")
    return model


def validate_image(endpoint: str, body: Any, retired_alias: bool = False) -> dict[str, Any]:
    """Check an image generation or edit request; return it with its defaults.

    :param endpoint: ``images/generations`` or ``images/edits``.
    :param body: the decoded JSON body.
    :param retired_alias: answer the retired model with ``grok-imagine-image-2.0`` at low quality.
    :raises XaiError: on the first broken rule.
    """
    request = _common(endpoint, body)
    model = _model(request, IMAGE_MODELS, retired_alias)
    request["n"] = _integer(request, "n", 1, 10) or 1
    request["response_format"] = _string(request, "response_format", RESPONSE_FORMATS) or "url"
    request["aspect_ratio"] = _string(request, "aspect_ratio", IMAGE_ASPECT_RATIOS) or "auto"
    request["resolution"] = _string(request, "resolution", IMAGE_RESOLUTIONS) or "1k"
    quality = _string(request, "quality", IMAGE_QUALITIES)
    if model in RETIRED_IMAGE_MODELS:
        model, quality = "grok-imagine-image-2.0", "low"
    elif quality is not None and model != "grok-imagine-image-2.0":
        raise bad("quality is only accepted by grok-imagine-image-2.0")
    request["model"], request["quality"] = model, quality
    inputs: list[dict[str, Any]] = []
    if endpoint == "images/edits":
        if "image" in request and "images" in request:
            raise bad("image and images are mutually exclusive: send one of them")
        if "image" in request:
            inputs = [_url_object("image", request["image"], typed=True)]
        else:
            inputs = _url_list("images", request, MAX_EDIT_IMAGES, typed=True) or []
        if not inputs:
            raise bad("an edit needs image or images: at least one source image is required")
    request["inputs"] = [item["url"] for item in inputs]
    return request


def _output(request: dict[str, Any]) -> str | None:
    if "output" not in request:
        return None
    output = request["output"]
    if not isinstance(output, dict):
        raise invalid("output", "a map with `upload_url`", output)
    unknown = sorted(set(output) - {"upload_url"})
    if unknown:
        raise XaiError(422, f"output: unknown field `{unknown[0]}`, expected `upload_url`")
    if "upload_url" not in output:
        raise XaiError(422, "output: missing field `upload_url`")
    return check_url("output.upload_url", output["upload_url"], data_uri=False)


def validate_video(endpoint: str, body: Any) -> dict[str, Any]:
    """Check a video generation, edit or extension request; return it with its defaults.

    The returned dict keeps ``output.upload_url`` under the key ``upload_url``.

    :param endpoint: ``videos/generations``, ``videos/edits`` or ``videos/extensions``.
    :param body: the decoded JSON body.
    :raises XaiError: on the first broken rule.
    """
    request = _common(endpoint, body)
    model = request["model"] = _model(request, VIDEO_MODELS)
    request["upload_url"] = _output(request)
    if endpoint != "videos/generations":
        if "video" not in request:
            raise XaiError(422, f"{_DESERIALIZE}missing field `video`")
        _url_object("video", request["video"], data_uri=False)
        request["resolution"], request["aspect_ratio"] = "480p", "16:9"
        if endpoint == "videos/extensions":
            added = _integer(request, "duration", 2, 10, " for an extension")
            request["duration"] = added or DEFAULT_EXTENSION_DURATION
        return request
    resolution = _string(request, "resolution", VIDEO_RESOLUTIONS) or "480p"
    if resolution == "1080p" and model != "grok-imagine-video-1.5":
        raise bad("resolution 1080p is only accepted by grok-imagine-video-1.5")
    request["resolution"] = resolution
    request["aspect_ratio"] = _string(request, "aspect_ratio", VIDEO_ASPECT_RATIOS) or "16:9"
    if "image" in request:
        _url_object("image", request["image"])
    references = _url_list("reference_images", request, MAX_REFERENCE_IMAGES)
    if references is not None and "image" in request:
        raise bad("image and reference_images are mutually exclusive")
    duration = _integer(request, "duration", 1, 15)
    if duration is not None and duration > 10 and references is not None:
        raise bad(f"duration must be at most 10 with reference_images, got {duration}")
    request["duration"] = duration or DEFAULT_VIDEO_DURATION
    return request
