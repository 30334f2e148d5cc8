"""Text-to-image: a poster for the run's date, stored in a folder (or S3) with its sidecar.

Set ``schedule="@daily"`` for one a day; it ships unscheduled so that enabling it bills nothing.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator

with DAG(
    dag_id="example_xai_text_to_image",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai"],
) as dag:
    XaiImageOperator(
        task_id="poster",
        prompt="A travel poster of a lighthouse, art-deco style, for {{ ds }}",
        aspect_ratio="2:3",
        output_path=os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/text_to_image/{{ ds }}",
        poll_interval=float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "2")),
    )
