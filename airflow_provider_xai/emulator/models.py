"""Hold the emulated service's state and its transitions: tasks, settings, the request log and faults.

Everything here is plain Python, free of HTTP; :class:`Backend` is thread-safe (one lock). The tasks
themselves, and how they move through their statuses, are in :mod:`~airflow_provider_xai.emulator.tasks`.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from . import media
from .settings import DEFAULTS, FAULT_KINDS, check_settings, settings_as_json
from .tasks import PROGRESS, TERMINAL, Task, iso_time
from .validation import LIMITS, ApiError, validate_create

__all__ = ["PROGRESS", "TERMINAL", "Backend", "Task", "iso_time", "path_matches"]


def path_matches(method: str, path: str, pattern: str) -> bool:
    """Tell whether a request matches a pattern ``"METHOD /path"`` or ``"/path"``.

    A pattern path matches itself and every path below it (``/media`` matches ``/media/x/0.jpeg``).

    :param method: the request's method.
    :param path: the request's path, without the query.
    :param pattern: the pattern.
    """
    if " " in pattern:
        wanted, pattern = pattern.split(None, 1)
        if wanted.upper() != method.upper():
            return False
    return path == pattern or path.startswith(pattern.rstrip("/") + "/")


class Backend:
    """The emulated service's state: tasks, settings, the request log and scripted faults.

    :param clock: the time source (epoch seconds); tests may pass a fake one.
    :param settings: initial settings (see :data:`~airflow_provider_xai.emulator.settings.DEFAULTS`);
        :meth:`reset` returns to them.
    """

    def __init__(self, clock: Callable[[], float] = time.time, **settings: Any) -> None:
        self.clock = clock
        self.lock = threading.RLock()  # shared with the modules of xAI's API (xai_service)
        self._lock = self.lock
        self.initial_settings = {**DEFAULTS, **check_settings(settings)}
        self.config: dict[str, Any] = {}
        self.tasks: dict[str, Any] = {}  # gateway Tasks and xAI requests (xai_requests.XaiRequest)
        self.uploads: list[dict[str, Any]] = []  # PUTs to output.upload_url: request_id, status, bytes
        self.log: collections.deque[dict[str, Any]] = collections.deque(maxlen=100_000)
        self._scripted: dict[str, collections.deque[str]] = {}
        self._rng = random.Random()
        self.reset()

    # ---- settings ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every task, logged request and scripted fault; return to the initial settings."""
        with self._lock:
            self.config = dict(self.initial_settings)
            self.tasks.clear()
            self.uploads.clear()
            self.log.clear()
            self._scripted.clear()
            self._rng.seed(self.config["seed"])

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change some settings and return all of them (JSON-friendly).

        :param settings: setting names and values.
        :raises ValueError: on an unknown setting or a bad value.
        """
        checked = check_settings(settings)
        with self._lock:
            self.config.update(checked)
            if "seed" in checked:
                self._rng.seed(checked["seed"])
            return settings_as_json(self.config)

    def settings(self) -> dict[str, Any]:
        """Return the current settings (JSON-friendly)."""
        with self._lock:
            return settings_as_json(self.config)

    # ---- the service -------------------------------------------------------------------------------

    def check_auth(self, authorization: str | None) -> None:
        """Check an ``Authorization`` header; the key never appears in a message.

        :param authorization: the header's value, if any.
        :raises ApiError: 401 for a missing or wrong key, 403 for a forbidden key.
        """
        scheme, _, key = (authorization or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(401, "missing or malformed Authorization header: expected 'Bearer <API key>'")
        with self._lock:
            pinned, forbidden = self.config["api_key"], self.config["forbidden_keys"]
        if pinned is not None and key != pinned:
            raise ApiError(401, "invalid API key")
        if key in forbidden:
            raise ApiError(403, "this API key has no access to the model or no balance left")

    def create_task(self, kind: str, body: Any) -> Task:
        """Validate a create request and store its new task.

        :param kind: ``image`` or ``video``.
        :param body: the decoded JSON body.
        :raises ApiError: 400 when the body breaks a rule of the contract.
        """
        validate_create(kind, body)
        with self._lock:
            task = Task(kind, body, self.clock())
            self.tasks[task.task_id] = task
            return task

    def read_task(self, task_id: str, base: str) -> dict[str, Any]:
        """Answer a status read: count the read (per-read mode advances), then describe the task.

        :param task_id: the task's id.
        :param base: the base URL of media URLs.
        :raises ApiError: 404 for an unknown task.
        """
        with self._lock:
            task = self.tasks.get(task_id)
            if not isinstance(task, Task):  # unknown, or a request of xAI's API
                raise ApiError(404, f"task not found: {task_id}")
            task.reads += 1
            task.update(self.config, self.clock())
            return task.answer(self.config["public_url"] or base, self.config["result_shape"])

    def media_file(self, task_id: str, name: str) -> media.MediaFile:
        """Return a task's media file, ready to stream.

        :param task_id: the task's id.
        :param name: the file name, e.g. ``0.jpeg``.
        :raises ApiError: 404 for unknown media, 403 for expired media.
        """
        with self._lock:
            task = self.tasks.get(task_id)
            if task is not None:
                task.update(self.config, self.clock())
            if task is None or task.result_kind() != "media" or name not in task.media_names():
                raise ApiError(404, "NoSuchKey")
            assert task.finished_at is not None
            if self.clock() >= task.finished_at + self.config["media_ttl"]:
                raise ApiError(403, "Request has expired")
            index = int(name.split(".")[0])
            size = task.directives.size if task.directives.size is not None else self.config["media_size"]
            natural = task.media_cache.get(index)
        if natural is None:
            render = getattr(task, "render", None) or (lambda i, sized: self._render(task, i, sized))
            natural = render(index, size is not None)  # an xAI request renders its own media
            with self._lock:
                task.media_cache[index] = natural
        if task.kind == "image":
            return media.jpeg_file(natural, size)
        return media.mp4_file(natural, size)

    @staticmethod
    def _render(task: Task, index: int, sized: bool = False) -> bytes:
        """Return a media file's natural bytes: a JPEG, a playable MP4, or (``sized``) an MP4 header."""
        body = task.body
        aspect = body.get("aspectRatio", LIMITS["default_aspect_ratio"])
        if task.kind == "image":
            width, height = media.IMAGE_SIZES["1:1" if body.get("images") else aspect]
            lines = [
                body["prompt"],
                f"{body['model']}  aspectRatio={aspect}  {width}x{height}  #{index}",
                f"reference: {body['images'][0]}" if body.get("images") else "text-to-image",
                f"taskId {task.task_id}",
            ]
            return media.render_jpeg(width, height, lines, shade=int(task.task_id[:4], 16))
        resolution = body.get("resolution", LIMITS["default_resolution"])
        aspect = "16:9" if body.get("images") else body.get("aspectRatio", "16:9")
        width, height = media.video_size(resolution, aspect)
        duration = body.get("duration", LIMITS["default_duration"])
        lines = [
            body["prompt"],
            f"{body['model']}  {resolution}  {width}x{height}  {duration}s",
            f"reference: {body['images'][0]}" if body.get("images") else "text-to-video",
            f"taskId {task.task_id}",
        ]
        # a file served at a set size is a header and filler: encoding a real video for it would be waste
        playable = None if sized else media.render_mp4(width, height, duration, lines)
        if playable:
            return playable
        note = {"taskId": task.task_id, "request": body, "width": width, "height": height}
        return media.mp4_header(width, height, duration, note)

    def take_truncation(self) -> bool:
        """Tell whether the media body being served must be cut halfway (and count it)."""
        with self._lock:
            if self.config["media_truncate"]:
                return True
            if self.config["media_truncate_count"] > 0:
                self.config["media_truncate_count"] -= 1
                return True
            return False

    # ---- faults and the request log ----------------------------------------------------------------

    def script_faults(self, path: str, kinds: list[str]) -> None:
        """Make the next requests matching ``path`` get exactly these faults, in order.

        :param path: ``"METHOD /path"`` or ``"/path"`` (any method).
        :param kinds: fault kinds, e.g. ``["429", "429"]``.
        """
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._scripted.setdefault(path, collections.deque()).extend(kinds)

    def pick_fault(self, method: str, path: str) -> str | None:
        """Return the fault for this request (a scripted one first, then a random one), or ``None``.

        :param method: the request's method.
        :param path: the request's path.
        """
        with self._lock:
            for pattern, queue in self._scripted.items():
                if queue and path_matches(method, path, pattern):
                    return queue.popleft()
            rate = self.config["fault_rate"]
            if rate and any(path_matches(method, path, p) for p in self.config["fault_paths"]):
                if self._rng.random() < rate and self.config["fault_kinds"]:
                    return self._rng.choice(self.config["fault_kinds"])
            return None

    def record(self, method: str, path: str, query: dict[str, str], status: int, fault: str | None) -> None:
        """Log one request and its answer's status (0 when the connection was dropped).

        :param method: the request's method.
        :param path: the request's path.
        :param query: the query parameters (first value of each).
        :param status: the answer's HTTP status.
        :param fault: the injected fault kind, if any.
        """
        entry = {"method": method, "path": path, "query": query, "status": status, "fault": fault}
        entry["time"] = self.clock()
        with self._lock:
            self.log.append(entry)

    def record_upload(self, request_id: str, status: int, size: int) -> None:
        """Log one upload to an ``output.upload_url`` (never the URL itself).

        :param request_id: the xAI request's id.
        :param status: the HTTP status of the PUT (0 when the connection failed).
        :param size: the bytes sent.
        """
        entry = {"request_id": request_id, "status": status, "bytes": size, "ok": 200 <= status < 300}
        entry["time"] = self.clock()
        with self._lock:
            self.uploads.append(entry)

    def list_uploads(self) -> list[dict[str, Any]]:
        """Return a copy of the upload log, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self.uploads]

    def requests_log(self) -> list[dict[str, Any]]:
        """Return a copy of the request log, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self.log]

    def count(self, method: str, path: str, accepted_only: bool = True) -> int:
        """Count logged requests of a method and path (or a path prefix: ``/media``).

        :param method: the method, e.g. ``POST``.
        :param path: the path, e.g. ``/xai/images``.
        :param accepted_only: count only requests answered 200 or 201.
        """
        with self._lock:
            return sum(
                1
                for entry in self.log
                if path_matches(entry["method"], entry["path"], f"{method} {path}")
                and (not accepted_only or entry["status"] in (200, 201))
            )

    # ---- control -----------------------------------------------------------------------------------

    def force_status(self, task_id: str, status: str, **fields: Any) -> dict[str, Any]:
        """Freeze a task at a status, optionally overriding fields of its answer.

        :param task_id: the task's id.
        :param status: the status to report from now on.
        :param fields: answer fields to set, e.g. ``result``, ``errorMessage``, ``errorCode``.
        :raises KeyError: for an unknown task.
        """
        with self._lock:
            task = self.tasks[task_id]
            task.force(status, fields, self.clock())
            return task.describe()

    def list_tasks(self) -> list[dict[str, Any]]:
        """Return every task's internal record, oldest first (without advancing per-read tasks)."""
        with self._lock:
            now = self.clock()
            for task in self.tasks.values():
                task.update(self.config, now)
            return [task.describe() for task in self.tasks.values()]

    def get_task(self, task_id: str) -> Task:
        """Return a task object (in-process inspection).

        :param task_id: the task's id.
        :raises KeyError: for an unknown task.
        """
        with self._lock:
            return self.tasks[task_id]
