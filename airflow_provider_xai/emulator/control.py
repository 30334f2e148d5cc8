"""Serve the emulator's control API under ``/_emulator/`` (JSON in and out, no authentication).

=======================================  ===========================================================
endpoint                                 effect
=======================================  ===========================================================
``GET  /_emulator/health``               ``{"ok": true}``
``POST /_emulator/reset``                forget tasks, requests and faults; initial settings again
``GET  /_emulator/config``               the current settings
``POST /_emulator/config``               change some settings (a partial JSON object)
``GET  /_emulator/requests``             the request log: method, path, query, status, fault, time
``GET  /_emulator/uploads``              PUTs to ``output.upload_url`` (xAI's API): request_id, status,
                                         bytes, ok, time (never the URL)
``GET  /_emulator/tasks``                every task's (and xAI request's) internal record
``GET  /_emulator/tasks/<id>``           one task's internal record (an xAI ``request_id`` too)
``POST /_emulator/tasks/<id>``           force a status and answer fields: ``{"status": "failed",
                                         "errorCode": 5001, "errorMessage": "..."}``; for an xAI
                                         request e.g. ``{"status": "expired"}`` or ``{"status":
                                         "failed", "error": {"code": "...", "message": "..."}}``
``POST /_emulator/faults``               script faults: ``{"path": "GET /xai/tasks", "kinds": ["429"]}``
=======================================  ===========================================================

Control requests are not recorded in the request log and never get injected faults.
"""

from __future__ import annotations

import json
from typing import Any

from .models import Backend


def _document(body: bytes) -> dict[str, Any]:
    document = json.loads(body.decode("utf-8") or "{}")
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object")
    return document


def handle(backend: Backend, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """Answer one control request.

    :param backend: the emulator's state.
    :param method: the request's method.
    :param path: the request's path, starting with ``/_emulator``.
    :param body: the raw request body.
    :return: the HTTP status and the JSON payload.
    """
    route = path[len("/_emulator") :].strip("/")
    try:
        return _dispatch(backend, method, route, body)
    except (ValueError, TypeError) as exc:
        return 400, {"message": str(exc), "statusCode": 400}
    except KeyError as exc:
        return 404, {"message": f"unknown task {exc}", "statusCode": 404}


def _dispatch(backend: Backend, method: str, route: str, body: bytes) -> tuple[int, Any]:
    if (method, route) == ("GET", "health"):
        return 200, {"ok": True}
    if (method, route) == ("POST", "reset"):
        backend.reset()
        return 200, {"ok": True}
    if route == "config":
        if method == "GET":
            return 200, backend.settings()
        if method == "POST":
            return 200, backend.configure(**_document(body))
    if (method, route) == ("GET", "requests"):
        return 200, backend.requests_log()
    if (method, route) == ("GET", "uploads"):
        return 200, backend.list_uploads()
    if (method, route) == ("GET", "tasks"):
        return 200, backend.list_tasks()
    if route.startswith("tasks/"):
        task_id = route[len("tasks/") :]
        if method == "GET":
            backend.get_task(task_id)
            return 200, next(t for t in backend.list_tasks() if t["taskId"] == task_id)
        if method == "POST":
            fields = _document(body)
            status = fields.pop("status", None)
            if not isinstance(status, str) or not status:
                raise ValueError("status is required")
            return 200, backend.force_status(task_id, status, **fields)
    if (method, route) == ("POST", "faults"):
        document = _document(body)
        kinds = document.get("kinds")
        if not isinstance(document.get("path"), str) or not isinstance(kinds, list):
            raise ValueError('expected {"path": "<METHOD /path or /path>", "kinds": [...]}')
        backend.script_faults(document["path"], kinds)
        return 200, {"ok": True}
    return 404, {"message": f"no control endpoint {method} /_emulator/{route}", "statusCode": 404}
