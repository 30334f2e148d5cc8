"""Submit + sensor: free the submitting task at once, wait in the triggerer with XaiTaskSensor."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator
from airflow_provider_xai.sensors.xai import XaiTaskSensor

with DAG(
    dag_id="example_xai_submit_and_sensor",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai"],
) as dag:
    submit = XaiImageOperator(
        task_id="submit", prompt="A map of an imaginary island", aspect_ratio="1:1", wait_for_completion=False
    )
    wait = XaiTaskSensor(
        task_id="wait",
        xai_task_id="{{ ti.xcom_pull(task_ids='submit', key='xai_task_id') }}",
        poke_interval=float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "5")),
        timeout=900,
        output_path=os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/submit_and_sensor",
    )
    submit >> wait
