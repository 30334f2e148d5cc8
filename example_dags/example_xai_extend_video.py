"""A video extended from the previous task's video (xAI's own API, ``POST /v1/videos/extensions``).

The first task generates an 6-second clip; the second one adds 4 seconds to it, taking the clip's URL from
XCom (``video_url``) with ``video_operation="extend"``. The extended video keeps the input's aspect ratio
and resolution. Needs a connection with extra ``api: "xai"`` (``XAI_API_CONN_ID``, default ``xai_api``).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiVideoOperator

CONN_ID = os.environ.get("XAI_API_CONN_ID", "xai_api")
OUTPUT = os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/extend_video"
POLL = float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "10"))

with DAG(
    dag_id="example_xai_extend_video",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai", "xai-api"],
    doc_md=__doc__,
) as dag:
    clip = XaiVideoOperator(
        task_id="clip",
        xai_conn_id=CONN_ID,
        prompt="A paper boat drifts across a pond, slow camera pan",
        model="grok-imagine-video",
        duration=6,
        aspect_ratio="16:9",
        resolution="480p",
        output_path=OUTPUT,
        poll_interval=POLL,
    )
    extended = XaiVideoOperator(
        task_id="extended",
        xai_conn_id=CONN_ID,
        prompt="The boat reaches the far bank and a frog hops on board",
        video_url="{{ ti.xcom_pull(task_ids='clip')['media_urls'][0] }}",
        video_operation="extend",
        duration=4,
        output_path=OUTPUT,
        poll_interval=POLL,
    )
    clip >> extended
