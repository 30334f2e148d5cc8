"""DAGs for the storage tests: settings come from the environment (see tests/storage/test_dags.py).

``xai_test_s3_mapped``: a mapped XaiImageOperator over three prompts into one ``output_path``.
``xai_test_outlets``: an operator and a sensor, each with an ``xai://`` asset outlet.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Asset

from airflow_provider_xai.operators.xai import XaiImageOperator
from airflow_provider_xai.sensors.xai import XaiTaskSensor

OUTPUT = os.environ.get("XAI_TEST_OUTPUT", "/tmp/airflow-xai-test-s3-dag")
DEFERRABLE = os.environ.get("XAI_TEST_DEFERRABLE", "1") == "1"
PROMPTS = ["A red fox in the snow", "A blue whale in deep water", "A green parrot in a jungle"]
GENERATED = Asset("xai://tests/generated")
SENSED = Asset("xai://tests/sensed")

with DAG(dag_id="xai_test_s3_mapped", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    XaiImageOperator.partial(
        task_id="mapped_images",
        aspect_ratio="1:1",
        poll_interval=0.02,
        output_path=OUTPUT,
        deferrable=DEFERRABLE,
    ).expand(prompt=PROMPTS)

with DAG(
    dag_id="xai_test_outlets", schedule=None, start_date=datetime(2026, 1, 1), catchup=False
) as outlets_dag:
    XaiImageOperator(
        task_id="generate",
        prompt="A lighthouse at dawn",
        poll_interval=0.02,
        output_path=OUTPUT,
        outlets=[GENERATED],
    )
    submit = XaiImageOperator(task_id="submit", prompt="A map of an island", wait_for_completion=False)
    sense = XaiTaskSensor(
        task_id="wait",
        xai_task_id="{{ ti.xcom_pull(task_ids='submit', key='xai_task_id') }}",
        poke_interval=0.02,
        output_path=OUTPUT,
        outlets=[SENSED],
    )
    submit >> sense
