"""xAI's own API on the real components: several images, a deferred video, its extension, and a video
that the service uploads straight into S3 (``XAI_SYS_S3_OUTPUT``)."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator

LOCAL = os.environ.get("XAI_OUTPUT_PATH")
S3 = os.environ.get("XAI_SYS_S3_OUTPUT")

with DAG(dag_id="xai_sys_xai_api", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    images = XaiImageOperator(task_id="images", prompt="two foxes", n=2, output_path=LOCAL, retries=0)
    video = XaiVideoOperator(
        task_id="video", prompt="waves", duration=4, poll_interval=0.5, output_path=LOCAL, retries=0
    )
    extended = XaiVideoOperator(
        task_id="extended",
        prompt="and a whale",
        video_url="{{ ti.xcom_pull(task_ids='video')['media_urls'][0] }}",
        video_operation="extend",
        duration="{{ 2 + 2 }}",
        poll_interval=0.5,
        output_path=LOCAL,
        retries=0,
    )
    uploaded = XaiVideoOperator(
        task_id="uploaded", prompt="a lighthouse", poll_interval=0.5, output_path=S3, retries=0
    )
    video >> extended
