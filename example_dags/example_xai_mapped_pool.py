"""Mapped generation bounded by a pool: one task per prompt, at most `xai_image` pool slots at once.

Create the pool first (about 5 image submissions per second upstream):
``airflow pools set xai_image 5 "xAI image generation"``.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_xai.operators.xai import XaiImageOperator

with DAG(
    dag_id="example_xai_mapped_pool",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai"],
) as dag:

    @task
    def prompts() -> list[str]:
        return [f"A watercolor of {animal}" for animal in ("a fox", "an owl", "a hare", "a heron")]

    images = XaiImageOperator.partial(
        task_id="images",
        pool="xai_image",
        aspect_ratio="1:1",
        output_path=os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/mapped",
        poll_interval=float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "2")),
    ).expand(prompt=prompts())

    @task
    def report(results: list[dict]) -> int:
        return sum(len(result["outputs"]) for result in results)

    report(images.output)
