"""Stream generated media into object storage (S3, local files, ...) with a sidecar manifest.

Every file is streamed in bounded chunks (memory does not grow with its size) to a temporary name
beside its final one, checked against ``Content-Length``, then moved to its final name; a failed or
partial download leaves nothing under the final name. Runs on the worker, never in the triggerer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mimetypes
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import requests
from airflow.sdk import ObjectStoragePath

from airflow_provider_xai import protocol
from airflow_provider_xai.exceptions import XaiMediaDownloadError, XaiMediaExpiredError
from airflow_provider_xai.protocol import TaskState

CHUNK_SIZE = 1024 * 1024
#: the size of one part of a multipart upload to object storage
UPLOAD_PART_SIZE = 8 * 1024 * 1024
#: a runaway download stops here (override with ``max_bytes``)
DEFAULT_MAX_BYTES = 8 * 1024**3
_EXTENSIONS = {
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}


def as_storage_path(output_path: Any) -> ObjectStoragePath:
    """Return ``output_path`` (URI, local path or ``ObjectStoragePath``) as an ``ObjectStoragePath``."""
    if isinstance(output_path, ObjectStoragePath):
        return output_path
    text = os.fspath(output_path) if not isinstance(output_path, str) else output_path
    if "://" not in text:
        text = "file://" + os.path.abspath(os.path.expanduser(text))
    return ObjectStoragePath(text)


def extension_for(content_type: str | None, url: str) -> str:
    """Return the file extension for a media content type, falling back to the URL's suffix."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in _EXTENSIONS:
        return _EXTENSIONS[kind]
    guessed = mimetypes.guess_extension(kind) if kind else None
    if guessed:
        return guessed.lstrip(".")
    suffix = os.path.splitext(url.split("?")[0])[1].lstrip(".").lower()
    return suffix if suffix.isalnum() and len(suffix) <= 5 else "bin"


def store_media(
    output_path: Any,
    state: TaskState,
    request: dict | None,
    *,
    log: logging.Logger | Any = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    session: requests.Session | None = None,
    abort_unfinished: bool = False,
) -> list[str]:
    """Store every media URL of a finished task under ``output_path``; return the stored URIs.

    :func:`store_media_files` does the same and returns each file's description instead.

    :param output_path: the folder (URI, local path or ``ObjectStoragePath``).
    :param state: the finished task.
    :param request: the request body that created it (recorded in the sidecar), if known.
    :param log: where to log progress.
    :param max_bytes: the largest file accepted.
    :param session: the HTTP session to download with.
    :param abort_unfinished: first abort the multipart uploads an earlier, killed try left open for
        this task's files (a retry passes it: the keys are the remote task's, so they are its own).
    """
    files = store_media_files(
        output_path,
        state,
        request,
        log=log,
        max_bytes=max_bytes,
        session=session,
        abort_unfinished=abort_unfinished,
    )
    return [f["uri"] for f in files]


def store_media_files(
    output_path: Any,
    state: TaskState,
    request: dict | None,
    *,
    log: logging.Logger | Any = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    session: requests.Session | None = None,
    abort_unfinished: bool = False,
) -> list[dict[str, Any]]:
    """Store the media like :func:`store_media`; return each file as the sidecar describes it.

    Each description has ``uri``, ``url``, ``size``, ``content_type`` and ``sha256``.
    """
    folder = as_storage_path(output_path)
    if folder.protocol in ("file", "local", ""):
        folder.mkdir(parents=True, exist_ok=True)
    elif abort_unfinished:
        abort_unfinished_uploads(folder, f"{state.xai_task_id}_", log=log)
    files = []
    with session or requests.Session() as http:
        for n, url in enumerate(state.media_urls):
            target_name = f"{state.xai_task_id}_{n}"
            files.append(_store_one(http, url, folder, target_name, state, max_bytes))
            if log:
                log.info(
                    "Stored %s (%d bytes, sha256 %s)",
                    files[-1]["uri"],
                    files[-1]["size"],
                    files[-1]["sha256"],
                )
    write_manifest(folder, state, request, files)
    return files


def write_manifest(
    folder: ObjectStoragePath, state: TaskState, request: dict | None, files: list[dict[str, Any]]
) -> None:
    """Write the sidecar ``<xai_task_id>.json`` that describes a task's stored files."""
    manifest = {
        "xai_task_id": state.xai_task_id,
        "api": state.api,
        "status": state.status,
        "request": request,
        "created_at": state.created_at,
        "finished_at": state.finished_at,
        "trace_id": state.trace_id,
        "cost_usd": state.cost_usd,
        "result": state.result,
        "files": files,
    }
    _write_atomically(folder / f"{state.xai_task_id}.json", json.dumps(manifest, indent=2).encode())


def abort_unfinished_uploads(folder: ObjectStoragePath, name_prefix: str, *, log: Any = None) -> int:
    """Abort the open multipart uploads under ``folder`` whose names start with ``name_prefix``.

    A worker killed while it streamed a file into S3 leaves its multipart upload open: invisible to
    listings, yet its parts are billed until a lifecycle rule aborts them. Only S3 (and S3-compatible
    stores) has them; elsewhere, and where listing them is not allowed, this does nothing and says so.

    :return: how many uploads were aborted.
    """
    if folder.protocol not in ("s3", "s3a"):
        return 0
    # the file system's path is "bucket/key" on every Airflow (3.1's ``bucket`` keeps the ``conn_id@``)
    bucket, _, key = folder.path.strip("/").partition("/")
    prefix = f"{key}/{name_prefix}" if key else name_prefix
    try:
        answer = folder.fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=prefix)
        uploads = answer.get("Uploads") or []
        for upload in uploads:
            folder.fs.call_s3(
                "abort_multipart_upload", Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    except Exception as exc:  # noqa: BLE001 - a cleanup: storing the media matters more
        if log:
            log.warning(
                "Could not abort the unfinished uploads an earlier try may have left under s3://%s/%s "
                "(%s); a lifecycle rule (AbortIncompleteMultipartUpload) removes them.",
                bucket,
                prefix,
                type(exc).__name__,
            )
        return 0
    if uploads and log:
        log.info(
            "Aborted %d unfinished upload(s) an earlier try left open: %s",
            len(uploads),
            ", ".join(f"s3://{bucket}/{u['Key']}" for u in uploads),
        )
    return len(uploads)


def record_upload(
    output_path: Any, state: TaskState, request: dict | None, uri: str, *, log: logging.Logger | Any = None
) -> list[str]:
    """Check a video the service uploaded itself, then write its sidecar; return its URI.

    :func:`record_upload_files` does the same and returns the file's description instead.
    """
    return [f["uri"] for f in record_upload_files(output_path, state, request, uri, log=log)]


def record_upload_files(
    output_path: Any, state: TaskState, request: dict | None, uri: str, *, log: logging.Logger | Any = None
) -> list[dict[str, Any]]:
    """Check a video the service uploaded itself, then write its sidecar; return the file's description.

    Nothing is downloaded from the service. The object must exist, be non-empty and start like an MP4
    (a 12-byte ranged read); its checksum is the one S3 keeps (the ETag of a single PUT is its MD5).

    :param output_path: the task's folder (where the sidecar goes).
    :param state: the finished request.
    :param request: the request record (no signed URL in it).
    :param uri: the object the service was told to upload to.
    """
    target = as_storage_path(uri)
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    if not info or not int(info.get("size") or 0):
        raise XaiMediaDownloadError(
            f"xAI reported request {state.xai_task_id} done, but the video it was to upload is missing "
            f"or empty at {uri}. Check the bucket's policy and that the signed URL had not expired."
        )
    head = target.fs.cat_file(target.path, start=0, end=12)
    if head[4:8] != b"ftyp":
        raise XaiMediaDownloadError(
            f"The object xAI uploaded for request {state.xai_task_id} at {uri} is not an MP4 video "
            f"(its first bytes are {head[:12]!r})."
        )
    size = int(info["size"])
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
    file = {
        "uri": uri,
        "url": None,
        "size": size,
        "content_type": info.get("ContentType") or "video/mp4",
        "sha256": None,
        "md5": etag if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag) else None,
        "etag": etag or None,
        "delivery": "upload",
    }
    write_manifest(as_storage_path(output_path), state, request, [file])
    if log:
        log.info("xAI uploaded %s itself (%d bytes, etag %s); nothing was downloaded", uri, size, etag)
    return [file]


def _store_one(
    http: requests.Session, url: str, folder: ObjectStoragePath, name: str, state: TaskState, max_bytes: int
) -> dict[str, Any]:
    if not protocol.is_http_url(url):
        raise XaiMediaDownloadError(f"Refusing to fetch media URL {url!r}: only http and https are allowed.")
    try:
        # per request: a session's own ``verify`` loses to REQUESTS_CA_BUNDLE otherwise (psf/requests#3829)
        response = http.get(url, stream=True, timeout=(15, 120), verify=http.verify)
    except requests.RequestException as exc:
        raise XaiMediaDownloadError(
            f"Could not download media of xAI task {state.xai_task_id}: {exc}"
        ) from None
    with response:
        if response.status_code in (403, 404, 410):
            raise XaiMediaExpiredError(expired_message(state, response.status_code))
        if response.status_code >= 300:
            raise XaiMediaDownloadError(
                f"Downloading media of xAI task {state.xai_task_id} failed with HTTP {response.status_code}."
            )
        content_type = response.headers.get("Content-Type", "")
        expected = response.headers.get("Content-Length")
        if expected is not None and int(expected) > max_bytes:
            raise XaiMediaDownloadError(_too_big(state, int(expected), max_bytes))
        final = folder / f"{name}.{extension_for(content_type, url)}"
        digest, size = hashlib.sha256(), 0
        try:
            with atomic_writer(final) as out, _Hasher(digest) as hasher:
                for chunk in response.iter_content(CHUNK_SIZE):
                    size += len(chunk)
                    if size > max_bytes:
                        raise XaiMediaDownloadError(_too_big(state, size, max_bytes))
                    hasher.update(chunk)
                    out.write(chunk)
                # Content-Length counts the bytes on the wire (before any Content-Encoding is undone).
                received = _wire_bytes(response, size)
                if expected is not None and received != int(expected):
                    raise XaiMediaDownloadError(
                        f"Media download of xAI task {state.xai_task_id} was incomplete: got {received} of "
                        f"{expected} bytes. Nothing was stored under {final}."
                    )
        except BaseException as exc:
            if isinstance(exc, requests.RequestException):
                raise XaiMediaDownloadError(
                    f"Media download of xAI task {state.xai_task_id} broke off after "
                    f"{_wire_bytes(response, size)} bytes "
                    f"({type(exc).__name__}). Nothing was stored under {final}."
                ) from None
            raise
    return {
        "uri": str(final),
        "url": url,
        "size": size,
        "content_type": content_type,
        "sha256": digest.hexdigest(),
    }


class _Hasher:
    """Hash chunks in a helper thread while the caller downloads and writes them.

    sha256 and file writes both release the GIL, so hashing overlaps the download instead of adding to
    it. At most one chunk is in flight, so memory stays at two chunks; the digest sees them in order.
    """

    def __init__(self, digest: Any) -> None:
        self.digest = digest
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xai-sha256")
        self.pending: Future | None = None

    def update(self, chunk: bytes) -> None:
        """Hash ``chunk`` after the previous one, without waiting for it."""
        if self.pending is not None:
            self.pending.result()
        self.pending = self.pool.submit(self.digest.update, chunk)

    def __enter__(self) -> _Hasher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self.pending is not None:
                self.pending.result()
        finally:
            self.pool.shutdown(wait=True)


def _wire_bytes(response: requests.Response, decoded: int) -> int:
    """Return how many body bytes came over the wire (urllib3 counts them), else the decoded count."""
    tell = getattr(response.raw, "tell", None)
    try:
        return int(tell()) if callable(tell) else decoded
    except (TypeError, ValueError, OSError):
        return decoded


def expired_message(state: TaskState, status_code: int) -> str:
    """Explain a media URL that the storage host refuses: the short-lived URLs expired."""
    return (
        f"The media URLs of xAI task {state.xai_task_id} have expired (the storage host answered "
        f"{status_code}); the task finished at {state.finished_at}. Generated media URLs live only for "
        "hours: a retry reuses this task only while its URLs live; after that, clear the task with "
        "reattach_on_retry=False (or let the retry resubmit) to generate anew."
    )


def _too_big(state: TaskState, size: int, max_bytes: int) -> str:
    return (
        f"Media of xAI task {state.xai_task_id} exceeds the size cap: {size} bytes > {max_bytes}. "
        "Nothing was stored."
    )


def is_local(path: ObjectStoragePath) -> bool:
    """Tell whether ``path`` is on a local file system (where a rename is atomic and cheap)."""
    return path.protocol in ("file", "local", "")


@contextlib.contextmanager
def atomic_writer(final: ObjectStoragePath) -> Iterator[Any]:
    """Open ``final`` for writing so that it appears whole or not at all, leaving no debris.

    Locally the bytes go to a hidden ``.partial`` file beside it, renamed at the end. On object storage
    the upload itself is atomic: the object is written once under its final key (a multipart upload
    completed only at the end, aborted on any error), with no temporary object and no server-side copy.
    """
    if is_local(final):
        partial = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.partial"
        try:
            with partial.open("wb") as out:
                yield out
            partial.move(final)
        except BaseException:
            _remove_quietly(partial)
            raise
        return
    # 8 MiB parts: S3 wants at least 5 MiB, and s3fs's 50 MiB default would hold 150 MiB in memory
    out = final.open("wb", autocommit=False, block_size=UPLOAD_PART_SIZE)
    try:
        yield out
        out.close()
        out.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            out.discard()  # aborts the multipart upload: no object, no parts left behind
        out.closed = True  # nothing more to flush, not even when garbage-collected
        raise


def _write_atomically(path: ObjectStoragePath, data: bytes) -> None:
    if not is_local(path):
        path.write_bytes(data)  # one PUT of bytes in memory: atomic on object storage by itself
        return
    with atomic_writer(path) as out:
        out.write(data)


def _remove_quietly(path: ObjectStoragePath) -> None:
    try:
        if path.exists():
            path.unlink()
    except Exception:  # noqa: BLE001 - best effort: the original error matters more
        pass
