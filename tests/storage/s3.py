"""An S3 served by moto for the storage tests: one server per session, reached through ``aws_default``.

The fixture is imported by ``tests/storage/conftest.py`` and by the end-to-end tests that store into S3.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "us-east-1"
BUCKET = "xai-media"


@dataclass
class MotoS3:
    """A running moto S3 server, its boto3 client and the bucket the tests store into."""

    endpoint_url: str
    client: object
    bucket: str = BUCKET

    def folder(self, name: str | None = None) -> str:
        """Return a fresh ``s3://aws_default@<bucket>/<prefix>`` folder URI (unique per call)."""
        return f"s3://aws_default@{self.bucket}/{name or 'media'}-{uuid.uuid4().hex[:8]}"

    def keys(self, uri: str) -> dict[str, int]:
        """Return every key below a folder URI with its size."""
        prefix = uri.split(f"@{self.bucket}/", 1)[1].rstrip("/") + "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return {obj["Key"]: obj["Size"] for page in pages for obj in page.get("Contents", [])}

    def read(self, uri: str) -> bytes:
        """Return the bytes of an object by its ``s3://[conn@]bucket/key`` URI."""
        bucket_and_key = uri.removeprefix("s3://").split("@", 1)[-1]
        bucket, key = bucket_and_key.split("/", 1)
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()


def aws_conn_json(endpoint_url: str) -> str:
    """Return an ``AIRFLOW_CONN_AWS_DEFAULT`` value for the moto server."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": ACCESS_KEY,
            "password": SECRET_KEY,
            "extra": {"endpoint_url": endpoint_url, "region_name": REGION},
        }
    )


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """Serve S3 with moto for the session; point ``aws_default`` at it and create the bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint_url = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_conn_json(endpoint_url))
        # boto3 must never find real credentials or config on the machine
        mp.setenv("AWS_CONFIG_FILE", "/dev/null")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )
        client.create_bucket(Bucket=BUCKET)
        try:
            yield MotoS3(endpoint_url, client)
        finally:
            server.stop()
