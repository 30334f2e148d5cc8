"""Model one emulated generation task: its statuses, its result payload and its answer.

A task moves ``pending -> ready -> assigned -> processing -> <terminal>``; in ``time`` progression mode
the status follows the clock, in ``per-read`` mode each read of the task advances it one status. Prompt
directives (see :mod:`~airflow_provider_xai.emulator.directives`) and :meth:`Task.force` choose the end.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from .directives import OUTCOMES, Directives, parse_directives
from .validation import LIMITS

PROGRESS = ("pending", "ready", "assigned", "processing")
TERMINAL = ("completed", "failed", "cancelled", "timeout")
_ERROR_DEFAULTS = {status: (code, message) for status, code, message, _ in OUTCOMES.values() if code}
_ERROR_DEFAULTS["failed"] = (5001, "generation failed")


def iso_time(moment: float) -> str:
    """Format an epoch time as ISO-8601 UTC with milliseconds and a ``Z``.

    :param moment: seconds since the epoch.
    """
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Task:
    """One generation task and how it moves through its statuses.

    :param kind: ``image`` or ``video``.
    :param body: the validated create request.
    :param now: the creation time (epoch seconds).
    """

    def __init__(self, kind: str, body: dict[str, Any], now: float) -> None:
        self.task_id = uuid.uuid4().hex
        self.kind = kind
        self.body = body
        self.created_at = now
        self.trace_id = uuid.uuid4().hex
        self.directives: Directives = parse_directives(body["prompt"])
        self.reads = 0
        self.status = "pending"
        self.finished_at: float | None = None
        self.forced = False
        self.overrides: dict[str, Any] = {}
        self.media_cache: dict[int, bytes] = {}

    @property
    def terminal(self) -> bool:
        """Whether the task has reached a terminal status."""
        return self.status in TERMINAL

    def _finish(self, moment: float) -> None:
        self.status = OUTCOMES[self.directives.outcome][0]
        self.finished_at = moment

    def update(self, config: dict[str, Any], now: float) -> str:
        """Bring the status up to date (without counting a read) and return it.

        :param config: the emulator's settings.
        :param now: the current time.
        """
        if self.forced or self.terminal:
            return self.status
        if config["progression"] == "time":
            seconds = self.directives.seconds
            if seconds is None:
                seconds = config[f"{self.kind}_seconds"]
            elapsed = now - self.created_at
            if elapsed >= seconds:
                self._finish(self.created_at + seconds)
                return self.status
            step = min(3, int(10 * elapsed / seconds)) if seconds else 3
        else:
            needed = self.directives.reads or config["reads_to_complete"]
            if self.reads >= needed:
                self._finish(now)
                return self.status
            step = min(3, max(0, self.reads - 1))
        self.status = PROGRESS[step]
        if step and self.directives.unknown_status:
            self.status = self.directives.unknown_status
        return self.status

    def force(self, status: str, fields: dict[str, Any], now: float) -> None:
        """Freeze the task at a status, with optional answer fields (``result``, ``errorCode``, ...).

        :param status: any status, even one outside the contract.
        :param fields: fields of the task answer to set or override.
        :param now: the current time, used as ``finishedAt`` of a terminal status.
        """
        self.forced = True
        self.status = status
        self.overrides = dict(fields)
        self.finished_at = now if status in TERMINAL else None

    def result_kind(self) -> str:
        """Return what the result holds: ``media``, ``moderated``, ``nomedia`` or ``none``."""
        if self.status != "completed":
            return "none"
        outcome = OUTCOMES[self.directives.outcome]
        return outcome[3] if outcome[0] == "completed" else "media"

    def media_names(self) -> list[str]:
        """Return the file names of the task's media (``0.jpeg``, ``1.jpeg`` or ``0.mp4``)."""
        extension = "jpeg" if self.kind == "image" else "mp4"
        count = self.directives.count if self.kind == "image" else 1
        return [f"{index}.{extension}" for index in range(count)]

    def build_result(self, base: str, shape: str | None) -> Any:
        """Return the ``result`` payload of the task.

        :param base: the base URL of media URLs.
        :param shape: the configured result shape, if any (a prompt directive wins).
        """
        kind = self.result_kind()
        if kind == "none":
            return None
        if kind == "moderated":
            return {"respect_moderation": False}
        prompt = self.body["prompt"]
        duration = self.body.get("duration", LIMITS["default_duration"])
        if kind == "nomedia":
            if self.kind == "image":
                return {"data": [{"revised_prompt": prompt}]}
            return {"video": {"duration": duration}, "model": self.body["model"]}
        urls = [f"{base}/media/{self.task_id}/{name}" for name in self.media_names()]
        shape = self.directives.shape or shape or ("data" if self.kind == "image" else "video")
        if shape == "data":
            return {"data": [{"url": url, "revised_prompt": prompt} for url in urls]}
        if shape == "video":
            video: dict[str, Any] = {"url": urls[0]}
            if self.kind == "video":
                video["duration"] = duration
            return {"video": video, "model": self.body["model"]}
        if shape == "urls":
            return {"urls": urls}
        if shape == "nested":
            return {"output": {"items": [{"media": {"url": url}} for url in urls]}}
        return {shape: urls[0]}  # url, imageUrl, videoUrl

    def answer(self, base: str, shape: str | None) -> dict[str, Any]:
        """Return the body of ``GET /xai/tasks`` for this task.

        :param base: the base URL of media URLs.
        :param shape: the configured result shape, if any.
        """
        body: dict[str, Any] = {
            "taskId": self.task_id,
            "status": self.status,
            "result": self.build_result(base, shape),
            "createdAt": iso_time(self.created_at),
        }
        if self.terminal and self.finished_at is not None:
            body["finishedAt"] = iso_time(self.finished_at)
        body["traceId"] = self.trace_id
        if self.status in _ERROR_DEFAULTS:
            code: int | None
            code, message = _ERROR_DEFAULTS[self.status]
            if not self.forced:
                code, message = OUTCOMES[self.directives.outcome][1:3]
            body["errorMessage"] = message
            body["errorCode"] = code
        body.update(self.overrides)
        return body

    def describe(self) -> dict[str, Any]:
        """Return the task's internal record, for the control API."""
        return {
            "taskId": self.task_id,
            "kind": self.kind,
            "body": self.body,
            "status": self.status,
            "reads": self.reads,
            "createdAt": iso_time(self.created_at),
            "finishedAt": iso_time(self.finished_at) if self.finished_at is not None else None,
            "traceId": self.trace_id,
            "forced": self.forced,
            "overrides": self.overrides,
            "directives": self.directives.to_dict(),
        }
