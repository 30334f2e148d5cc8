"""Model the requests of xAI's own API: images answered at once, videos that progress and may upload.

An :class:`XaiRequest` lives in :attr:`Backend.tasks <.models.Backend.tasks>` beside the gateway's tasks
(its id is its ``request_id``), so that the ``/media/`` route, ``force_status`` and the control API serve
it as they serve a task. A video moves ``pending -> done | failed | expired`` by the same settings as a
task (``progression``, ``video_seconds``, ``reads_to_complete``) and the same directives
(``[xai:reads=N]``, ``[xai:seconds=X]``, ``[xai:size=B]``, ``[xai:unknown-status]``). Outcome directives
of xAI's API:

=========================  ===========================================================================
directive                  effect
=========================  ===========================================================================
``[xai:moderated]``        video: ``done`` with ``respect_moderation: false`` and an empty url; image:
                           one item with ``respect_moderation: false`` and an empty url
``[xai:failed]``           video: ``failed`` with ``{"code": "internal_error", ...}``; ``=<code>``
                           picks the code
``[xai:expired]``          video: ``expired``
``[xai:blocked]``          image: ``{"data": [], "block_reason": ...}``
``[xai:b64-prefix]``       image: ``b64_json`` items start with ``data:image/jpeg;base64,``
=========================  ===========================================================================
"""

from __future__ import annotations

import base64
import math
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from . import media
from .directives import parse_directives
from .tasks import iso_time

TERMINAL = ("done", "failed", "expired")
IMAGE_TICKS = 200_000_000
EDIT_INPUT_TICKS = 20_000_000
VIDEO_TICKS_PER_SECOND = {"480p": 500_000_000, "720p": 700_000_000, "1080p": 1_000_000_000}
FAILED_MESSAGES = {
    "internal_error": "generation failed",
    "invalid_argument": "the request was rejected by content moderation",
    "permission_denied": "the key may not use this model",
    "failed_precondition": "a precondition of the request failed",
    "service_unavailable": "the service is unavailable",
}
BLOCK_REASON = "The prompt was blocked by content moderation"

_DIRECTIVE = re.compile(r"\[xai:([A-Za-z0-9-]+)(?:=([^\]]*))?\]")
_OUTCOMES = ("moderated", "failed", "expired", "blocked")


@dataclass
class XaiDirectives:
    """What a prompt forces on an xAI request; ``None`` means "use the emulator's settings"."""

    outcome: str = "done"
    fail_code: str = "internal_error"
    unknown_status: str | None = None
    seconds: float | None = None
    reads: int | None = None
    size: int | None = None
    b64_prefix: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the directives as a plain dict."""
        return dict(self.__dict__)


def parse_xai_directives(prompt: str) -> XaiDirectives:
    """Collect the directives of a prompt (the gateway's timing ones and xAI's outcomes).

    :param prompt: the request's prompt.
    """
    shared = parse_directives(prompt)
    found = XaiDirectives(
        unknown_status=shared.unknown_status, seconds=shared.seconds, reads=shared.reads, size=shared.size
    )
    for match in _DIRECTIVE.finditer(prompt):
        name, value = match.group(1).lower(), match.group(2)
        if name in _OUTCOMES:
            found.outcome = name
            if name == "failed" and value:
                found.fail_code = value
        elif name == "b64-prefix":
            found.b64_prefix = True
    return found


def _dimensions(aspect_ratio: str, short_side: int) -> tuple[int, int]:
    """Return an even (width, height) with this aspect ratio and short side."""
    across, down = (float(part) for part in aspect_ratio.split(":"))
    if across >= down:
        return 2 * round(short_side * across / down / 2), short_side
    return short_side, 2 * round(short_side * down / across / 2)


def image_dimensions(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """Return the (width, height) of an image: about one (``1k``) or four (``2k``) megapixels.

    :param aspect_ratio: one of the contract's image aspect ratios (``auto`` is square).
    :param resolution: ``1k`` or ``2k``.
    """
    side = 1024 if resolution == "1k" else 2048
    across, down = (float(part) for part in ("1:1" if aspect_ratio == "auto" else aspect_ratio).split(":"))
    ratio = across / down
    return 16 * round(side * math.sqrt(ratio) / 16), 16 * round(side / math.sqrt(ratio) / 16)


class XaiRequest:
    """One request to xAI's API: an image request (finished when created) or a video request.

    :param endpoint: e.g. ``images/generations`` or ``videos/extensions``.
    :param request: the validated request, defaults filled in.
    :param now: the creation time (epoch seconds).
    :param input_duration: a video edit's or extension's input length, when known.
    """

    def __init__(self, endpoint: str, request: dict[str, Any], now: float, input_duration: int = 8) -> None:
        self.task_id = str(uuid.uuid4())
        self.endpoint = endpoint
        self.kind = endpoint.split("/")[0][:-1]  # image or video
        self.body = request
        self.model: str = request["model"]
        self.created_at = now
        self.directives = parse_xai_directives(request["prompt"])
        self.reads = 0
        self.status = "pending"
        self.progress = 0
        self.finished_at: float | None = None
        self.forced = False
        self.overrides: dict[str, Any] = {}
        self.media_cache: dict[int, bytes] = {}
        self.upload_state: str | None = None  # None, "running", "ok" or "failed"
        self.upload_error: str | None = None
        self.upload_done = threading.Event()  # set when the upload ended (other readers wait on it)
        self.billed_seconds = request.get("duration", input_duration)
        if endpoint == "videos/edits":
            self.billed_seconds = input_duration
        self.duration = input_duration + request["duration"] if endpoint == "videos/extensions" else (
            self.billed_seconds
        )  # fmt: skip
        if self.kind == "image":
            self.status, self.progress, self.finished_at = "done", 100, now

    @property
    def request_id(self) -> str:
        """The request's id (the same as :attr:`task_id`)."""
        return self.task_id

    @property
    def terminal(self) -> bool:
        """Whether the request has reached a terminal status."""
        return self.status in TERMINAL

    # ---- progression -------------------------------------------------------------------------------

    def _finish(self, moment: float) -> None:
        outcome = self.directives.outcome
        self.status = {"failed": "failed", "expired": "expired"}.get(outcome, "done")
        self.progress = 100 if self.status == "done" else self.progress
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
            seconds = config["video_seconds"] if seconds is None else seconds
            elapsed = now - self.created_at
            if elapsed >= seconds:
                self._finish(self.created_at + seconds)
                return self.status
            self.progress = min(99, int(100 * elapsed / seconds))
        else:
            needed = self.directives.reads or config["reads_to_complete"]
            if self.reads >= needed:
                self._finish(now)
                return self.status
            self.progress = min(99, int(100 * max(0, self.reads - 1) / needed))
        self.status = self.directives.unknown_status or "pending"
        return self.status

    def force(self, status: str, fields: dict[str, Any], now: float) -> None:
        """Freeze the request at a status (any string), with optional answer fields to override.

        :param status: e.g. ``done``, ``failed``, ``expired`` or a status outside the contract.
        :param fields: fields of the answer to set, e.g. ``error``.
        :param now: the current time, used as the finishing time of a terminal status.
        """
        self.forced = True
        self.status = status
        self.overrides = dict(fields)
        self.finished_at = now if status in TERMINAL else None
        if status == "done":
            self.progress = 100

    # ---- media -------------------------------------------------------------------------------------

    def moderated(self) -> bool:
        """Whether moderation withheld the media (an empty url)."""
        return self.directives.outcome == "moderated" and not self.forced

    def result_kind(self) -> str:
        """Return ``media`` when the request has servable media, else ``none``."""
        if self.status != "done" or self.moderated() or self.directives.outcome == "blocked":
            return "none"
        return "media"

    def media_names(self) -> list[str]:
        """Return the media file names: ``0.jpeg`` .. ``<n-1>.jpeg`` or ``0.mp4``."""
        if self.kind == "video":
            return ["0.mp4"]
        return [f"{index}.jpeg" for index in range(self.body["n"])]

    def render(self, index: int, sized: bool = False) -> bytes:
        """Return a media file's natural bytes: a JPEG, a playable MP4, or (``sized``) an MP4 header.

        :param index: the file's index.
        :param sized: the file is served at a set size: do not encode a real video for it.
        """
        body = self.body
        shade = int(self.task_id[:4], 16)
        if self.kind == "image":
            width, height = image_dimensions(body["aspect_ratio"], body["resolution"])
            source = f"edit of {len(body['inputs'])} image(s)" if body["inputs"] else "text-to-image"
            lines = [
                body["prompt"],
                f"{self.model}  aspect_ratio={body['aspect_ratio']}  {width}x{height}  #{index}",
                source,
                f"request_id {self.task_id}",
            ]
            return media.render_jpeg(width, height, lines, shade=shade)
        short = {"480p": 480, "720p": 720, "1080p": 1080}[body["resolution"]]
        width, height = _dimensions(body["aspect_ratio"], short)
        lines = [
            body["prompt"],
            f"{self.model}  {body['resolution']}  {width}x{height}  {self.duration}s",
            self.endpoint,
            f"request_id {self.task_id}",
        ]
        playable = None if sized else media.render_mp4(width, height, self.duration, lines, shade)
        if playable:
            return playable
        return media.mp4_header(width, height, self.duration, {"request_id": self.task_id})

    def b64_items(self, count: int) -> list[str]:
        """Return the first ``count`` images as base64 text (with the data URI prefix when directed).

        :param count: how many images.
        """
        prefix = "data:image/jpeg;base64," if self.directives.b64_prefix else ""
        out = []
        for index in range(count):
            if index not in self.media_cache:
                self.media_cache[index] = self.render(index)
            out.append(prefix + base64.b64encode(self.media_cache[index]).decode("ascii"))
        return out

    # ---- answers -----------------------------------------------------------------------------------

    def image_answer(self, base: str) -> dict[str, Any]:
        """Return the 200 body of an image request.

        :param base: the base URL of media URLs.
        """
        inputs = len(self.body["inputs"])
        count = self.body["n"]
        usage = {"cost_in_usd_ticks": IMAGE_TICKS * count + EDIT_INPUT_TICKS * inputs}
        if self.directives.outcome == "blocked":
            return {"data": [], "block_reason": BLOCK_REASON, "usage": {"cost_in_usd_ticks": 0}}
        item = {"mime_type": "image/jpeg", "revised_prompt": "", "respect_moderation": True}
        if self.moderated():
            return {"data": [{**item, "url": "", "respect_moderation": False}], "usage": usage}
        if self.body["response_format"] == "b64_json":
            data = [{"b64_json": text, **item} for text in self.b64_items(count)]
        else:
            data = [{"url": f"{base}/media/{self.task_id}/{name}", **item} for name in self.media_names()]
        return {"data": data, "usage": usage}

    def video_answer(self, base: str, keep_url: bool = True) -> dict[str, Any]:
        """Return the body of ``GET /v1/videos/{request_id}``.

        :param base: the base URL of media URLs.
        :param keep_url: whether ``video.url`` stays set after an upload to ``output.upload_url``.
        """
        answer: dict[str, Any]
        if self.status == "done":
            url = f"{base}/media/{self.task_id}/0.mp4"
            if self.moderated() or (self.upload_state == "ok" and not keep_url):
                url = ""
            ticks = VIDEO_TICKS_PER_SECOND[self.body["resolution"]] * self.billed_seconds
            answer = {
                "status": "done",
                "video": {"url": url, "duration": self.duration, "respect_moderation": not self.moderated()},
                "model": self.model,
                "usage": {"cost_in_usd_ticks": ticks},
                "progress": 100,
            }
        elif self.status == "failed":
            code = self.directives.fail_code if not self.forced else "internal_error"
            message = self.upload_error or FAILED_MESSAGES.get(code, "generation failed")
            if self.upload_error:
                code = "failed_precondition"
            answer = {"status": "failed", "error": {"code": code, "message": message}}
        elif self.status == "expired":
            answer = {"status": "expired"}
        else:
            answer = {"status": self.status, "model": self.model, "progress": self.progress}
        answer.update(self.overrides)
        return answer

    def describe(self) -> dict[str, Any]:
        """Return the request's internal record, for the control API (an upload URL is never shown)."""
        body = {key: value for key, value in self.body.items() if key not in ("output", "upload_url")}
        if self.body.get("upload_url"):
            body["output"] = {"upload_url": "<redacted>"}
        return {
            "taskId": self.task_id,
            "requestId": self.task_id,
            "api": "xai",
            "kind": self.kind,
            "endpoint": self.endpoint,
            "body": body,
            "status": self.status,
            "progress": self.progress,
            "reads": self.reads,
            "createdAt": iso_time(self.created_at),
            "finishedAt": iso_time(self.finished_at) if self.finished_at is not None else None,
            "forced": self.forced,
            "overrides": self.overrides,
            "directives": self.directives.to_dict(),
            "upload": self.upload_state,
        }
