"""Direct delivery: the service uploads a finished video straight into the user's bucket.

The provider chooses the object's final key before submitting and signs a PUT URL for it, valid for
longer than the whole wait; the service PUTs the MP4 there before it reports ``done``. The worker then
downloads nothing: it checks the object and writes the sidecar. A signed URL is a credential: it is
built here, handed to the hook's send, and never stored, logged, templated or put in an event.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_xai.exceptions import XaiError
from airflow_provider_xai.storage import as_storage_path

#: S3 refuses SigV4 presigned URLs valid for more than seven days
MAX_SIGNED_SECONDS = 7 * 24 * 3600
#: how much longer than the wait's timeout a signed URL stays valid (the service uploads before "done")
SIGNED_URL_MARGIN_SECONDS = 3600
VIDEO_CONTENT_TYPE = "video/mp4"


@dataclass(frozen=True)
class UploadTarget:
    """Where the service uploads a video: the final object, named before the request is sent.

    :param uri: the object's URI as the task's ``output_path`` names it (``s3://[conn@]bucket/key``).
    :param name: the file's id (its name without the ``_0.mp4`` suffix), made by the provider.
    """

    uri: str
    name: str

    def to_record(self) -> dict[str, Any]:
        """Return what the request record, the ledger and the sidecar keep: the URI, never a URL."""
        return {"mode": "upload", "uri": self.uri, "name": self.name}


def output_scheme(output_path: Any) -> str | None:
    """Return the storage scheme of an ``output_path`` (``"s3"``, ``"file"``...), or ``None`` without one."""
    if not output_path:
        return None
    return as_storage_path(output_path).protocol or "file"


def plan_upload(output_path: Any) -> UploadTarget:
    """Choose the final object of an uploaded video under ``output_path`` (before anything is sent)."""
    name = f"xai-video-{uuid.uuid4().hex}"
    return UploadTarget(uri=str(as_storage_path(output_path) / f"{name}_0.mp4"), name=name)


def s3_location(uri: str) -> tuple[str | None, str, str]:
    """Return (Airflow connection id or ``None``, bucket, key) of ``s3://[conn_id@]bucket/key``.

    Parsed here rather than read from ``ObjectStoragePath``, whose ``bucket`` keeps the ``conn_id@``
    prefix on Airflow 3.1.
    """
    parts = urlsplit(uri)
    conn_id, _, bucket = parts.netloc.rpartition("@")
    return conn_id or None, bucket, parts.path.lstrip("/")


@functools.lru_cache(maxsize=16)
def _signing_client(conn_id: str | None) -> Any:
    """Return an S3 client for signing, made once per connection in a worker (about 0.1 s and 12 MiB)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from botocore.config import Config

    # SigV4, which every region accepts (botocore may otherwise presign with the retired SigV2)
    return S3Hook(aws_conn_id=conn_id, config=Config(signature_version="s3v4")).get_conn()


def sign_upload(target: UploadTarget, wait_seconds: float) -> str:
    """Return a PUT URL for the target object, valid for the wait plus a margin (at most seven days).

    :param target: the object to upload to.
    :param wait_seconds: how long the task may wait for the video.
    """
    path = as_storage_path(target.uri)
    if path.protocol != "s3":
        raise XaiError(f"Cannot sign an upload URL for {target.uri}: only S3 objects can be signed.")
    conn_id, bucket, key = s3_location(str(path))
    expires = int(min(MAX_SIGNED_SECONDS, wait_seconds + SIGNED_URL_MARGIN_SECONDS))
    return _signing_client(conn_id).generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ContentType": VIDEO_CONTENT_TYPE},
        ExpiresIn=expires,
    )
