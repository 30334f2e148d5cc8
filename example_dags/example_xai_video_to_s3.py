"""A video delivered straight into S3: xAI's service uploads it itself; the worker downloads nothing.

With ``delivery="upload"`` (or the default ``"auto"`` with an ``s3://`` output path on xAI's API) the
operator names the final object before submitting (``<output_path>/xai-video-<uuid>_0.mp4``), signs a PUT
URL for it with the AWS connection (valid for the wait's timeout plus an hour, at most 7 days) and sends
it as ``output.upload_url``. The service PUTs the MP4 there before it reports ``done``; the worker then
checks the object and writes the sidecar (md5 from S3's ETag; sha256 is null, nothing was downloaded).

The signed URL is a credential: it is never logged, templated, put in XCom or in the sidecar. Needs a
connection with extra ``api: "xai"`` (``XAI_API_CONN_ID``, default ``xai_api``) and an S3 output path
(``XAI_S3_OUTPUT_PATH``, e.g. ``s3://aws_default@my-bucket/xai/videos``; the AWS connection must be
allowed to ``s3:PutObject`` there).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiVideoOperator

with DAG(
    dag_id="example_xai_video_to_s3",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai", "xai-api", "s3"],
    doc_md=__doc__,
) as dag:
    XaiVideoOperator(
        task_id="teaser",
        xai_conn_id=os.environ.get("XAI_API_CONN_ID", "xai_api"),
        prompt="Waves rolling onto a beach at sunset, slow camera pan",
        model="grok-imagine-video-1.5",
        duration=8,
        resolution="720p",
        aspect_ratio="16:9",
        delivery="upload",
        output_path=os.environ.get("XAI_S3_OUTPUT_PATH", "s3://aws_default@my-bucket/xai/videos")
        + "/{{ ds }}",
        poll_interval=float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "10")),
    )
