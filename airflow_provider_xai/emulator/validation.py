"""Validate create requests exactly as the service's contract states.

The limits live in one table, :data:`LIMITS`, so that they are easy to change when the gateway's
documentation settles. The emulator is deliberately as strict as the contract: it rejects ``720p``, a
string duration, two reference images, unknown fields and explicit ``null`` values, so that the client's
own normalisation is what gets tested.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

#: The contract's limits, per task kind.
LIMITS: dict[str, Any] = {
    "prompt_max_chars": 1000,
    "aspect_ratios": ("1:1", "2:3", "3:2", "9:16", "16:9"),
    "max_images": 1,
    "image_model": "grok-imagine-image",
    "video_model": "grok-imagine-video",
    "video_durations": (6, 10, 15),
    "video_resolutions": ("480P", "720P"),
    "default_duration": 6,
    "default_resolution": "720P",
    "default_aspect_ratio": "1:1",
}

#: The fields each endpoint accepts; any other field is refused.
FIELDS: dict[str, tuple[str, ...]] = {
    "image": ("prompt", "model", "aspectRatio", "images"),
    "video": ("prompt", "model", "duration", "aspectRatio", "resolution", "images"),
}


class ApiError(Exception):
    """An error answer of the emulated service.

    :param status: the HTTP status code.
    :param message: the human-readable ``message`` of the JSON error body.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _check_prompt(body: dict[str, Any]) -> None:
    if "prompt" not in body:
        raise _bad("prompt is required")
    prompt = body["prompt"]
    if not isinstance(prompt, str):
        raise _bad(f"prompt must be a string, got {_describe(prompt)}")
    if not prompt:
        raise _bad("prompt must not be empty")
    limit = LIMITS["prompt_max_chars"]
    if len(prompt) > limit:
        raise _bad(f"prompt must be at most {limit} characters, got {len(prompt)}")


def _check_model(body: dict[str, Any], expected: str) -> None:
    if "model" not in body:
        raise _bad("model is required")
    if body["model"] != expected:
        raise _bad(f"model must be exactly {expected!r}")


def _check_aspect_ratio(body: dict[str, Any]) -> None:
    if "aspectRatio" not in body:
        return
    value = body["aspectRatio"]
    allowed = LIMITS["aspect_ratios"]
    if not isinstance(value, str) or value not in allowed:
        raise _bad(f"aspectRatio must be one of {', '.join(allowed)}")


def _check_images(body: dict[str, Any]) -> None:
    if "images" not in body:
        return
    images = body["images"]
    if not isinstance(images, list):
        raise _bad(f"images must be an array of URLs, got {_describe(images)}")
    limit = LIMITS["max_images"]
    if len(images) > limit:
        raise _bad(f"images accepts at most {limit} reference image URL, got {len(images)}")
    for url in images:
        if not isinstance(url, str):
            raise _bad(f"images must contain URL strings, got {_describe(url)}")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _bad("images must contain http or https URLs")


def _check_duration(body: dict[str, Any]) -> None:
    if "duration" not in body:
        return
    value = body["duration"]
    allowed = LIMITS["video_durations"]
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and math.isfinite(value):
            raise _bad(f"duration must be an integer number of seconds, one of {allowed}")
        raise _bad(f"duration must be a JSON number, got {_describe(value)}")
    if value not in allowed:
        raise _bad(f"duration must be one of {', '.join(str(d) for d in allowed)}")


def _check_resolution(body: dict[str, Any]) -> None:
    if "resolution" not in body:
        return
    value = body["resolution"]
    allowed = LIMITS["video_resolutions"]
    if not isinstance(value, str) or value not in allowed:
        raise _bad(f"resolution must be exactly one of {', '.join(allowed)}")


def validate_create(kind: str, body: Any) -> None:
    """Check the JSON body of a create request and raise on the first broken rule.

    :param kind: ``image`` or ``video``.
    :param body: the decoded JSON body.
    :raises ApiError: with status 400 and a message that says what is wrong.
    """
    if not isinstance(body, dict):
        raise _bad(f"request body must be a JSON object, got {_describe(body)}")
    unknown = sorted(set(body) - set(FIELDS[kind]))
    if unknown:
        raise _bad(f"unknown field(s): {', '.join(unknown)}")
    _check_prompt(body)
    _check_model(body, LIMITS[f"{kind}_model"])
    _check_aspect_ratio(body)
    _check_images(body)
    if kind == "video":
        _check_duration(body)
        _check_resolution(body)
