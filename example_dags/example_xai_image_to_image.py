"""Image-to-image: edit a reference image given as a DAG param (aspect_ratio would have no effect)."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_xai.operators.xai import XaiImageOperator

with DAG(
    dag_id="example_xai_image_to_image",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"image_url": Param("https://example.com/lighthouse.jpg", type="string")},
    tags=["example", "xai"],
) as dag:
    XaiImageOperator(
        task_id="winterize",
        prompt="The same scene in a snow storm at night",
        image_url="{{ params.image_url }}",
        output_path=os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/image_to_image",
        poll_interval=float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "2")),
    )
