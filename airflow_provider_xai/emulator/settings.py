"""Hold the emulator's settings: their defaults and how a given value is checked.

Every setting can be given to :class:`~airflow_provider_xai.emulator.server.EmulatorServer`, changed at
run time with ``configure()`` or ``POST /_emulator/config``, and read back with ``GET /_emulator/config``.
"""

from __future__ import annotations

from typing import Any

from .directives import RESULT_SHAPES

#: Fault kinds: the contract's four plus a few extra ones.
FAULT_KINDS = ("429", "502html", "503json", "drop", "drop-mid", "500json", "504html")

#: Every setting and its default.
DEFAULTS: dict[str, Any] = {
    "api_key": None,  # pin one accepted key; None accepts any non-empty Bearer key
    "forbidden_keys": frozenset(),  # keys answered with 403 (no access or no balance)
    "progression": "time",  # "time" or "per-read"
    "image_seconds": 8.0,  # time mode: how long an image task takes
    "video_seconds": 30.0,  # time mode: how long a video task takes
    "reads_to_complete": 5,  # per-read mode: the read that sees the terminal status
    "create_status": 200,  # 200 or 201 for an accepted create request
    "envelope": False,  # wrap every JSON answer in {"code", "message", "data", "traceId"}
    "result_shape": None,  # force one result shape for every task
    "media_ttl": 3600.0,  # media answer 403 this many seconds after finishedAt
    "media_size": None,  # bytes: serve every media file at this exact size, streamed
    "media_truncate": False,  # close the connection halfway through every media body
    "media_truncate_count": 0,  # ... or only through the next N media bodies
    "fault_rate": 0.0,  # probability of a random fault on the fault paths
    "fault_kinds": ("429", "502html", "503json", "drop"),
    # "METHOD /path" or "/path" (a prefix of path segments)
    "fault_paths": ("GET /xai/tasks", "GET /v1/videos"),
    "retry_after": "1",  # Retry-After of a 429 (seconds or an HTTP-date); None sends none
    "seed": None,  # seed of the fault RNG
    "public_url": None,  # base URL of media URLs; default: from the request's Host header
    # xAI's own API (/v1/...)
    "xai_image_seconds": 0.2,  # how long POST /v1/images/... takes to answer (it is synchronous)
    "xai_error_style": "flat",  # "flat": {"code", "error"}; "nested": {"error": {"message", "type", "code"}}
    "xai_key_blocked": False,  # GET /v1/api-key says api_key_blocked; generation answers 403
    "xai_key_disabled": False,  # ... api_key_disabled
    "xai_team_blocked": False,  # ... team_blocked
    "xai_upload_keeps_url": True,  # after a PUT to output.upload_url, video.url stays set (False: "")
    "xai_upload_timeout": 30.0,  # seconds allowed for that PUT
    "xai_retired_alias": False,  # grok-imagine-image-quality answered by 2.0 at low quality (else 404)
    "xai_rate_limits": False,  # 429 past 5 image / 1 video POST(s) per second, like xAI's team limits
}


def _number(key: str, value: Any, minimum: float = 0.0, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{key} must be a number")
    number = float(value)
    if number < minimum or (maximum is not None and number > maximum):
        raise ValueError(f"{key} must be between {minimum} and {maximum}")
    return number


def _optional_int(key: str, value: Any) -> int | None:
    if value is None:
        return None
    return int(_number(key, value))


def _strings(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings")
    return tuple(value)


def _choice(key: str, value: Any, allowed: tuple[Any, ...]) -> Any:
    if value not in allowed:
        raise ValueError(f"{key} must be one of {allowed}")
    return value


def _fault_kinds(value: Any) -> tuple[str, ...]:
    kinds = _strings("fault_kinds", value)
    for kind in kinds:
        _choice("fault_kinds", kind, FAULT_KINDS)
    return kinds


_COERCE = {
    "api_key": lambda v: None if v in (None, "") else str(v),
    "forbidden_keys": lambda v: frozenset(_strings("forbidden_keys", v)),
    "progression": lambda v: _choice("progression", v, ("time", "per-read")),
    "image_seconds": lambda v: _number("image_seconds", v),
    "video_seconds": lambda v: _number("video_seconds", v),
    "reads_to_complete": lambda v: int(_number("reads_to_complete", v, 1)),
    "create_status": lambda v: _choice("create_status", int(v), (200, 201)),
    "envelope": bool,
    "result_shape": lambda v: None if v is None else _choice("result_shape", v, RESULT_SHAPES),
    "media_ttl": lambda v: _number("media_ttl", v),
    "media_size": lambda v: _optional_int("media_size", v),
    "media_truncate": bool,
    "media_truncate_count": lambda v: int(_number("media_truncate_count", v)),
    "fault_rate": lambda v: _number("fault_rate", v, 0.0, 1.0),
    "fault_kinds": _fault_kinds,
    "fault_paths": lambda v: _strings("fault_paths", v),
    "retry_after": lambda v: None if v is None else str(v),
    "seed": lambda v: None if v is None else int(v),
    "public_url": lambda v: None if not v else str(v).rstrip("/"),
    "xai_image_seconds": lambda v: _number("xai_image_seconds", v),
    "xai_error_style": lambda v: _choice("xai_error_style", v, ("flat", "nested")),
    "xai_key_blocked": bool,
    "xai_key_disabled": bool,
    "xai_team_blocked": bool,
    "xai_upload_keeps_url": bool,
    "xai_upload_timeout": lambda v: _number("xai_upload_timeout", v, 0.1),
    "xai_retired_alias": bool,
    "xai_rate_limits": bool,
}


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a partial set of settings.

    :param settings: setting names and values.
    :return: the normalised values.
    :raises ValueError: on an unknown setting or a bad value.
    """
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown emulator setting(s): {', '.join(unknown)}")
    return {key: _COERCE[key](value) for key, value in settings.items()}


def settings_as_json(settings: dict[str, Any]) -> dict[str, Any]:
    """Return settings in a JSON-friendly form (sets and tuples as lists).

    :param settings: the settings.
    """
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, (set, frozenset)):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out
