"""Carry out the operations of xAI's own API on the emulator's state (:class:`~.models.Backend`).

Free of HTTP parsing: :mod:`~airflow_provider_xai.emulator.xai_api` calls these functions. Images are
answered at once (after ``xai_image_seconds``); videos are stored and progress as they are read. When a
video with ``output.upload_url`` becomes ``done``, the thread answering the read that first sees it PUTs
the MP4 there (``Content-Type: video/mp4``) before answering; a failed PUT ends the request ``failed``
with ``failed_precondition``. The upload URL is a credential: it appears in no answer, log or message.
"""

from __future__ import annotations

import hashlib
import http.client
import ssl
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from . import media
from .media import MediaFile
from .models import Backend
from .tasks import Task
from .xai_requests import XaiRequest
from .xai_validation import XaiError, bad, validate_image, validate_video

EDIT_MAX_INPUT_SECONDS = 8.7
_DEFAULT_INPUT_SECONDS = 8


def key_info(key: str, config: dict[str, Any]) -> dict[str, Any]:
    """Return the body of ``GET /v1/api-key`` for a key (ids derived from the key, stable).

    :param key: the API key in use.
    :param config: the emulator's settings.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()
    return {
        "redacted_api_key": f"xai-...{key[-4:]}",
        "user_id": str(uuid.UUID(digest[32:64])),
        "name": "emulator key",
        "create_time": "2026-01-01T00:00:00Z",
        "modify_time": "2026-01-01T00:00:00Z",
        "modified_by": str(uuid.UUID(digest[32:64])),
        "team_id": str(uuid.UUID(digest[:32])),
        "acls": ["api-key:model:*", "api-key:endpoint:*"],
        "api_key_id": str(uuid.UUID(digest[16:48])),
        "team_blocked": bool(config["xai_team_blocked"]),
        "api_key_blocked": bool(config["xai_key_blocked"]),
        "api_key_disabled": bool(config["xai_key_disabled"]),
    }


def create_image(backend: Backend, endpoint: str, body: Any, base: str) -> dict[str, Any]:
    """Validate an image request, take ``xai_image_seconds`` (or ``[xai:seconds=X]``), answer it.

    :param backend: the emulator's state.
    :param endpoint: ``images/generations`` or ``images/edits``.
    :param body: the decoded JSON body.
    :param base: the base URL of media URLs.
    :raises XaiError: when the body breaks a rule.
    """
    request = validate_image(endpoint, body, backend.config["xai_retired_alias"])
    with backend.lock:
        image = XaiRequest(endpoint, request, backend.clock())
        delay = image.directives.seconds
        delay = backend.config["xai_image_seconds"] if delay is None else delay
    if delay:
        time.sleep(delay)
    with backend.lock:
        image.created_at = image.finished_at = backend.clock()
        backend.tasks[image.task_id] = image
        base = backend.config["public_url"] or base
    return image.image_answer(base)


def _input_seconds(backend: Backend, url: str) -> int:
    """Return the length of an input video when it is one of the emulator's own media URLs."""
    parts = urlsplit(url).path.split("/")
    task = backend.tasks.get(parts[2]) if len(parts) == 4 and parts[1] == "media" else None
    if isinstance(task, XaiRequest) and task.kind == "video":
        return int(task.duration)
    if isinstance(task, Task) and task.kind == "video":
        return int(task.body.get("duration", 6))
    return _DEFAULT_INPUT_SECONDS


def create_video(backend: Backend, endpoint: str, body: Any) -> XaiRequest:
    """Validate and store a video request.

    :param backend: the emulator's state.
    :param endpoint: ``videos/generations``, ``videos/edits`` or ``videos/extensions``.
    :param body: the decoded JSON body.
    :raises XaiError: when the body breaks a rule.
    """
    request = validate_video(endpoint, body)
    with backend.lock:
        seconds = _DEFAULT_INPUT_SECONDS
        if endpoint != "videos/generations":
            seconds = _input_seconds(backend, request["video"]["url"])
        if endpoint == "videos/edits" and seconds > EDIT_MAX_INPUT_SECONDS:
            limit = EDIT_MAX_INPUT_SECONDS
            raise bad(f"video must be at most {limit} seconds long for an edit, got {seconds}")
        video = XaiRequest(endpoint, request, backend.clock(), seconds)
        backend.tasks[video.task_id] = video
        return video


def read_video(backend: Backend, request_id: str, base: str) -> dict[str, Any]:
    """Answer ``GET /v1/videos/{request_id}``: count the read, advance, upload when first done.

    :param backend: the emulator's state.
    :param request_id: the request's id.
    :param base: the base URL of media URLs.
    :raises XaiError: 404 for an unknown id.
    """
    with backend.lock:
        video = backend.tasks.get(request_id)
        if not isinstance(video, XaiRequest) or video.kind != "video":
            raise XaiError(404, f"No video request was found with id {request_id}", "not_found")
        video.reads += 1
        video.update(backend.config, backend.clock())
        mine = (
            video.status == "done"
            and video.body["upload_url"] is not None
            and video.upload_state is None
            and not video.moderated()
        )
        if mine:
            video.upload_state = "running"
        waiting = video.upload_state == "running" and not mine
    if mine:
        upload(backend, video)
    elif waiting:
        video.upload_done.wait(backend.config["xai_upload_timeout"] + 5)
    with backend.lock:
        config = backend.config
        return video.video_answer(config["public_url"] or base, config["xai_upload_keeps_url"])


def upload(backend: Backend, video: XaiRequest) -> None:
    """PUT a finished video to its ``output.upload_url``; end the request ``failed`` if that fails.

    :param backend: the emulator's state.
    :param video: the video request, ``done``, with an upload URL.
    """
    status, sent = 0, 0
    try:
        try:
            file = video_file(backend, video)
            status, sent = put_file(video.body["upload_url"], file, backend.config["xai_upload_timeout"])
            problem = None if 200 <= status < 300 else f"HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            problem = f"connection error ({type(exc).__name__})"
        except Exception as exc:  # e.g. a bad URL: the exception's message could quote it
            problem = f"unusable URL ({type(exc).__name__})"
        backend.record_upload(video.task_id, status, sent)
        with backend.lock:
            if problem is None:
                video.upload_state = "ok"
            else:
                video.upload_state = "failed"
                video.upload_error = f"upload to output.upload_url failed: {problem}"
                video.status = "failed"
                video.progress = 99
    finally:
        if video.upload_state == "running":  # never leave readers waiting
            video.upload_state = "failed"
            video.upload_error = "upload to output.upload_url failed: emulator error"
            video.status = "failed"
        video.upload_done.set()


def video_file(backend: Backend, video: XaiRequest) -> MediaFile:
    """Return the finished MP4 of a video request, as the ``/media/`` route serves it (size included).

    :param backend: the emulator's state.
    :param video: the video request.
    """
    with backend.lock:
        size = video.directives.size if video.directives.size is not None else backend.config["media_size"]
        natural = video.media_cache.get(0)
    if natural is None:
        natural = video.render(0, sized=size is not None)
        with backend.lock:
            video.media_cache[0] = natural
    return media.mp4_file(natural, size)


def put_file(url: str, file: MediaFile, timeout: float) -> tuple[int, int]:
    """PUT a media file to a URL (http or https with the default TLS context), streamed.

    :param url: the target URL, e.g. a presigned S3 PUT URL.
    :param file: the media file to send.
    :param timeout: the socket timeout in seconds.
    :return: the HTTP status of the answer and the bytes sent.
    """
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    headers = {"Content-Type": "video/mp4", "Content-Length": str(file.length)}
    try:
        connection.request("PUT", target, body=file.chunks(), headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status, file.length
    finally:
        connection.close()
