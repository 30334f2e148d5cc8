"""Image-to-video: generate a still, then animate it (the video follows the image)."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator

OUTPUT = os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/image_to_video"
POLL = float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "2"))

with DAG(
    dag_id="example_xai_image_to_video",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai"],
) as dag:
    still = XaiImageOperator(
        task_id="still",
        prompt="A paper boat on a pond",
        aspect_ratio="16:9",
        output_path=OUTPUT,
        poll_interval=POLL,
    )
    animate = XaiVideoOperator(
        task_id="animate",
        prompt="The paper boat drifts and spins slowly",
        image_url="{{ ti.xcom_pull(task_ids='still')['media_urls'][0] }}",
        duration=6,
        output_path=OUTPUT,
        poll_interval=POLL,
    )
    still >> animate
