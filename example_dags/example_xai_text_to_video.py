"""Text-to-video: a 6-second 480p clip, waited for in the triggerer."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiVideoOperator

with DAG(
    dag_id="example_xai_text_to_video",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai"],
) as dag:
    XaiVideoOperator(
        task_id="waves",
        prompt="Waves rolling onto a beach at sunset, slow camera pan",
        duration=6,
        resolution="480p",
        aspect_ratio="16:9",
        output_path=os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/text_to_video",
        poll_interval=float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "10")),
    )
