"""Answer the HTTP requests of xAI's own API (``xai-api-contract.md``), the ``/v1/...`` paths.

=====================================  =====================================================================
route                                  answer
=====================================  =====================================================================
``POST /v1/images/generations``        200 ``{"data": [...], "usage": {"cost_in_usd_ticks"}}`` (synchronous)
``POST /v1/images/edits``              the same; the source is ``image`` or ``images`` (JSON only)
``POST /v1/videos/generations``        200 ``{"request_id"}``
``POST /v1/videos/edits``              200 ``{"request_id"}``
``POST /v1/videos/extensions``         200 ``{"request_id"}``
``GET  /v1/videos/{request_id}``       200 ``pending`` / ``done`` / ``failed`` / ``expired``; 404 unknown id
``GET  /v1/api-key``                   200 the key's description
=====================================  =====================================================================

Authentication follows the contract: no or an empty Bearer key answers 401; a key other than the
``api_key`` setting answers **400** with a masked fragment of the key; a key of ``forbidden_keys`` answers
403 (no credits or no access), as does generating with the ``xai_key_blocked``, ``xai_key_disabled`` or
``xai_team_blocked`` setting. A POST without a JSON ``Content-Type`` answers 415, a wrong method 405.

Error bodies are flat, ``{"code": "<status description>", "error": "<message>"}``, or with the setting
``xai_error_style="nested"``, ``{"error": {"message", "type", "code"}}``. This layer holds no state: it
calls :mod:`~airflow_provider_xai.emulator.xai_service`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .models import Backend
from .validation import ApiError
from .xai_service import create_image, create_video, key_info, read_video
from .xai_validation import XaiError

#: Per HTTP status: the flat style's ``code``, the nested style's ``type`` and ``code``.
STATUS_CODES: dict[int, tuple[str, str, str]] = {
    400: ("Client specified an invalid argument", "invalid_request_error", "invalid_argument"),
    401: ("The request does not have valid authentication credentials", "authentication_error",
          "unauthenticated"),
    403: ("The caller does not have permission to execute the specified operation", "permission_error",
          "permission_denied"),
    404: ("Some requested entity was not found", "invalid_request_error", "not_found"),
    405: ("Method not allowed", "invalid_request_error", "method_not_allowed"),
    413: ("Request entity too large", "invalid_request_error", "payload_too_large"),
    415: ("Unsupported media type", "invalid_request_error", "unsupported_media_type"),
    422: ("Unprocessable entity", "invalid_request_error", "unprocessable_entity"),
    429: ("Some resource has been exhausted", "rate_limit_error", "resource_exhausted"),
    500: ("Internal error", "api_error", "internal_error"),
    503: ("The service is currently unavailable", "api_error", "service_unavailable"),
}  # fmt: skip

#: The largest request body accepted (image edits may carry up to five images as data URIs).
MAX_BODY = 64 * 1024 * 1024

#: Every route's method, by path (``/v1/videos/<request_id>`` is matched apart).
ROUTES = {
    "/v1/images/generations": "POST",
    "/v1/images/edits": "POST",
    "/v1/videos/generations": "POST",
    "/v1/videos/edits": "POST",
    "/v1/videos/extensions": "POST",
    "/v1/api-key": "GET",
}


#: Requests per second per team when ``xai_rate_limits`` is on.
RATE_LIMITS = {"images": 5, "videos": 1}


@dataclass
class XaiAnswer:
    """A JSON answer of xAI's API: status, payload and extra headers."""

    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)


def is_xai_path(path: str) -> bool:
    """Tell whether a path belongs to xAI's API (``/v1`` and below).

    :param path: the request's path, without the query.
    """
    return path == "/v1" or path.startswith("/v1/")


def error_payload(config: Mapping[str, Any], status: int, message: str, code: str | None = None) -> Any:
    """Build an error body in the configured style (``xai_error_style``).

    :param config: the emulator's settings.
    :param status: the HTTP status.
    :param message: the message.
    :param code: the nested style's code; ``None`` picks the status's.
    """
    flat_code, kind, nested_code = STATUS_CODES.get(status, (f"HTTP {status}", "api_error", f"http_{status}"))
    if config["xai_error_style"] == "nested":
        return {"error": {"message": message, "type": kind, "code": code or nested_code}}
    return {"code": flat_code, "error": message}


def error_answer(config: Mapping[str, Any], error: ApiError) -> XaiAnswer:
    """Turn an error into an answer.

    :param config: the emulator's settings.
    :param error: the error.
    """
    code = error.code if isinstance(error, XaiError) else None
    return XaiAnswer(error.status, error_payload(config, error.status, error.message, code))


def fault_answer(kind: str, config: Mapping[str, Any]) -> XaiAnswer | None:
    """Return the xAI-style answer of an injected fault with a JSON body, or ``None`` for the others.

    :param kind: the fault kind (``429``, ``500json``, ``503json``, ``drop-mid``; others: ``None``).
    :param config: the emulator's settings.
    """
    if kind == "429":
        message = "Too many requests: the team's rate limit was exceeded, please retry later"
        answer = XaiAnswer(429, error_payload(config, 429, message))
        if config["retry_after"] is not None:
            answer.headers["Retry-After"] = config["retry_after"]
        return answer
    if kind == "500json":
        return XaiAnswer(500, error_payload(config, 500, "Internal server error"))
    if kind == "503json":
        return XaiAnswer(503, error_payload(config, 503, "Service temporarily unavailable"))
    if kind == "drop-mid":
        return XaiAnswer(200, {"request_id": str(uuid.uuid4()), "status": "pending", "progress": 0})
    return None


def mask_key(key: str) -> str:
    """Return the fragment of a key that xAI echoes: its first and last two characters.

    :param key: the API key.
    """
    return f"{key[:2]}***{key[-2:]}"


def check_key(backend: Backend, authorization: str | None, path: str, method: str) -> str:
    """Check the ``Authorization`` header as xAI does and return the key.

    :param backend: the emulator's state.
    :param authorization: the header's value, if any.
    :param path: the request's path.
    :param method: the request's method.
    :raises XaiError: 401 without a key, 400 for a wrong key, 403 for a key that may not generate.
    """
    scheme, _, key = (authorization or "").strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise XaiError(401, "Missing bearer or basic authentication in header", "missing_api_key")
    config = backend.config
    if config["api_key"] is not None and key != config["api_key"]:
        message = f"Incorrect API key provided: {mask_key(key)}. You can obtain an API key from https://console.x.ai."
        raise XaiError(400, message, "invalid_api_key")
    if path == "/v1/api-key":
        return key
    if key in config["forbidden_keys"]:
        raise XaiError(
            403,
            "Your team does not have any credits or licenses to use this model, or this key may not use it",
            "permission_denied",
        )
    if method == "POST":
        for setting, what in (
            ("xai_key_blocked", "The API key is blocked"),
            ("xai_key_disabled", "The API key is disabled"),
            ("xai_team_blocked", "The team is blocked"),
        ):
            if config[setting]:
                raise XaiError(403, f"{what}: it cannot generate anything", "permission_denied")
    return key


def rate_limited(backend: Backend, family: str) -> XaiAnswer | None:
    """Answer 429 when the ``xai_rate_limits`` setting is on and the family's rate is used up.

    The rate counts the requests of the family (``images`` or ``videos``) answered 200 in the last
    second, from the request log.

    :param backend: the emulator's state.
    :param family: ``images`` or ``videos``.
    """
    config = backend.config
    limit = RATE_LIMITS.get(family) if config["xai_rate_limits"] else None
    if limit is None:
        return None
    prefix = f"/v1/{family}/"
    since = backend.clock() - 1.0
    recent = 0
    for entry in reversed(backend.requests_log()):
        if entry["time"] < since:
            break
        if entry["method"] == "POST" and entry["path"].startswith(prefix) and entry["status"] == 200:
            recent += 1
    if recent < limit:
        return None
    message = (
        f"Too many requests: the team's rate limit of {limit} {family} request(s) per second was exceeded"
    )
    answer = XaiAnswer(429, error_payload(config, 429, message))
    if config["retry_after"] is not None:
        answer.headers["Retry-After"] = config["retry_after"]
    return answer


def _method_of(path: str) -> str | None:
    if path in ROUTES:
        return ROUTES[path]
    rest = path[len("/v1/videos/") :] if path.startswith("/v1/videos/") else ""
    if rest and "/" not in rest and path not in ROUTES:
        return "GET"
    return None


def _json_body(headers: Mapping[str, str], body: bytes) -> Any:
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        shown = content_type or "none"
        raise XaiError(415, f"Expected request with `Content-Type: application/json`, got {shown}")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise XaiError(400, f"Failed to parse the request body as JSON: {type(exc).__name__}") from None


def handle(
    backend: Backend, method: str, path: str, headers: Mapping[str, str], body: bytes, base: str
) -> XaiAnswer:
    """Answer one request of xAI's API.

    :param backend: the emulator's state.
    :param method: the request's method.
    :param path: the request's path, without the query.
    :param headers: the request's headers.
    :param body: the raw request body.
    :param base: the base URL of media URLs (from the ``Host`` header).
    """
    config = backend.config
    allowed = _method_of(path)
    if allowed is None:
        return error_answer(config, XaiError(404, f"No such endpoint: {method} {path}", "not_found"))
    if method != allowed:
        answer = error_answer(config, XaiError(405, f"Method {method} is not allowed on {path}"))
        answer.headers["Allow"] = allowed
        return answer
    try:
        key = check_key(backend, headers.get("Authorization"), path, method)
        if path == "/v1/api-key":
            return XaiAnswer(200, key_info(key, config))
        if method == "GET":
            return XaiAnswer(200, read_video(backend, path.rsplit("/", 1)[1], base))
        endpoint = path[len("/v1/") :]
        limited = rate_limited(backend, endpoint.split("/")[0])
        if limited is not None:
            return limited
        document = _json_body(headers, body)
        if endpoint.startswith("images/"):
            return XaiAnswer(200, create_image(backend, endpoint, document, base))
        return XaiAnswer(200, {"request_id": create_video(backend, endpoint, document).task_id})
    except ApiError as exc:
        return error_answer(config, exc)
