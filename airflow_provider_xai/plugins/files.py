"""Reach the stored media from the api-server: existence checks, byte ranges, chunked reads.

A stored file is opened with :class:`~airflow.sdk.ObjectStoragePath` from the URI the task recorded, so
``s3://aws_default@bucket/key`` goes through the task's own Airflow connection (``aws_default``), a bare
``s3://bucket/key`` through the default AWS credentials, ``file://`` and local paths from the disk. Bytes are
read in chunks (memory does not grow with the file) and from an offset (HTTP ``Range``), never whole.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: the size of one read (and one chunk of the HTTP response)
CHUNK_SIZE = 256 * 1024
#: a sidecar larger than this is not read (a real one is a few KB)
MAX_SIDECAR_BYTES = 2 * 1024 * 1024
#: how long a check of a service's media URL may take
PROBE_TIMEOUT_SECONDS = 4.0


class RangeNotSatisfiable(Exception):
    """The requested byte range starts past the end of the file (HTTP 416)."""


@dataclass(frozen=True)
class StoredFile:
    """A stored file that exists: its path, size and content type."""

    path: Any
    size: int
    content_type: str

    @property
    def name(self) -> str:
        """Return the file's name."""
        return str(self.path.name)


def storage_path(uri: str) -> Any:
    """Return the ``ObjectStoragePath`` of a stored URI (a bare path is a local file)."""
    from airflow_provider_xai.storage import as_storage_path

    return as_storage_path(uri)


def find(uri: str, content_type: str | None = None) -> StoredFile | None:
    """Return the stored file at ``uri``, or ``None`` when it does not exist (deleted, expired).

    :param uri: the URI the task recorded.
    :param content_type: the type the sidecar recorded, if known (else guessed from the name).
    """
    path = storage_path(uri)
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if str(info.get("type", "file")) == "directory":
        return None
    kind = (content_type or "").split(";")[0].strip() or mimetypes.guess_type(path.name)[0]
    return StoredFile(path, int(info.get("size") or 0), kind or "application/octet-stream")


def read_sidecar(uri: str) -> dict[str, Any] | None:
    """Return a sidecar's manifest, or ``None`` when it is missing, too large or not a manifest."""
    found = find(uri, "application/json")
    if found is None or found.size > MAX_SIDECAR_BYTES:
        return None
    try:
        manifest = json.loads(found.path.read_bytes())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the inclusive byte range an HTTP ``Range`` header asks for, or ``None`` for the whole file.

    One range of bytes is honoured (``bytes=0-99``, ``bytes=100-``, ``bytes=-100``); several ranges, other
    units or a malformed header are ignored, as RFC 9110 allows: the whole file is sent.

    :raises RangeNotSatisfiable: the range starts at or past the end of the file.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, sep, last = spec.strip().partition("-")
    if not sep:
        return None
    try:
        if not first:
            suffix = int(last)
            if suffix <= 0 or size == 0:
                raise RangeNotSatisfiable(header)
            return max(size - suffix, 0), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        raise RangeNotSatisfiable(header)
    if end < start:
        return None
    return start, min(end, size - 1)


def iter_bytes(found: StoredFile, start: int, length: int, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield ``length`` bytes of a stored file from ``start``, one chunk at a time."""
    options = {} if found.path.protocol in ("file", "local", "") else {"block_size": chunk_size}
    with found.path.open("rb", **options) as stream:
        if start:
            stream.seek(start)
        remaining = length
        while remaining > 0:
            data = stream.read(min(chunk_size, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


def probe_url(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> str:
    """Tell whether a service's media URL still answers: ``"live"``, ``"expired"`` or ``"unknown"``.

    Generated media URLs live for hours; an expired one answers 403, 404 or 410. A host that cannot be
    reached from the api-server, or that refuses the check, is ``"unknown"`` (the browser may still load it).
    """
    import requests

    if not url.lower().startswith(("http://", "https://")):
        return "unknown"
    try:
        with requests.get(url, headers={"Range": "bytes=0-0"}, stream=True, timeout=timeout) as answer:
            code = answer.status_code
    except requests.RequestException:
        return "unknown"
    if code in (403, 404, 410):
        return "expired"
    return "live" if code < 400 else "unknown"
