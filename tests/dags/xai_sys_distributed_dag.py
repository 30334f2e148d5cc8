"""Many deferred generations on both APIs, stored to S3: the DAG of the distributed system test.

``tests/system/test_distributed.py`` runs it on CeleryExecutor (PostgreSQL, Redis, two workers, two
triggerers) and kills a worker and a triggerer mid-run. Settings come from the environment:

``XAI_SYS_DIST_PLAN``
    JSON ``{"gateway_images": [prompt, ...], "gateway_videos": [...], "xai_images": [...],
    "xai_videos": [...]}``: one mapped task instance per prompt (a prompt's ``[xai:seconds=N]`` sets how
    long the emulator takes, ``[xai:size=N]`` how big a video is). A small plan when unset.
``XAI_SYS_DIST_S3_OUTPUT``
    ``s3://aws_default@<bucket>/<prefix>``: where every task stores its media and sidecar. xAI videos keep
    the default ``delivery="auto"``, so the service uploads them into the bucket itself.

Connections: ``xai_default`` (the task gateway) and ``xai_direct`` (extra ``{"api": "xai"}``).
Every task may retry twice, two seconds apart: a retry reattaches to the remote task of the try that died.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator

DEFAULT_PLAN = {
    "gateway_images": ["a lantern [xai:seconds=3]"],
    "gateway_videos": ["a river [xai:seconds=4]"],
    "xai_images": ["a kite"],
    "xai_videos": ["a harbour [xai:seconds=4]"],
}
PLAN = {**DEFAULT_PLAN, **json.loads(os.environ.get("XAI_SYS_DIST_PLAN") or "{}")}
OUTPUT = os.environ.get("XAI_SYS_DIST_S3_OUTPUT")
GATEWAY, XAI = "xai_default", "xai_direct"

with DAG(
    dag_id="xai_sys_distributed",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_tasks=64,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=2)},
) as dag:
    waiting = {"deferrable": True, "poll_interval": 1, "output_path": OUTPUT}
    XaiImageOperator.partial(task_id="gateway_images", xai_conn_id=GATEWAY, **waiting).expand(
        prompt=PLAN["gateway_images"]
    )
    XaiVideoOperator.partial(task_id="gateway_videos", xai_conn_id=GATEWAY, duration=6, **waiting).expand(
        prompt=PLAN["gateway_videos"]
    )
    # synchronous on xAI's API: generated and stored in the worker, nothing to defer
    XaiImageOperator.partial(task_id="xai_images", xai_conn_id=XAI, output_path=OUTPUT).expand(
        prompt=PLAN["xai_images"]
    )
    # delivery="auto" on S3: the service uploads each video into the bucket through a signed URL
    XaiVideoOperator.partial(task_id="xai_videos", xai_conn_id=XAI, duration=4, **waiting).expand(
        prompt=PLAN["xai_videos"]
    )
