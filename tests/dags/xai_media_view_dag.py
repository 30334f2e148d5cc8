"""A run with every kind of card of the "Generated media" view (tests/plugins/test_media_view.py).

Settings come from the environment: ``XAI_TEST_LOCAL_OUTPUT`` (a local folder; else ``XAI_OUTPUT_PATH``,
which the system tests' stack sets) and ``XAI_TEST_S3_OUTPUT`` (``s3://aws_default@bucket/prefix``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator

LOCAL = os.environ.get("XAI_TEST_LOCAL_OUTPUT") or os.environ.get(
    "XAI_OUTPUT_PATH", "/tmp/airflow-xai-test-media"
)
S3 = os.environ.get("XAI_TEST_S3_OUTPUT", "")
POLL = float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "0.05"))
PROMPTS = ["A red fox in the snow", "A blue whale in deep water", "A green parrot in a jungle"]

with DAG(
    dag_id="xai_test_media_view",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # on the real components a deferred task can lose a race in Airflow (apache/airflow#72716): a retry
    # reattaches to the same remote task
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
) as dag:
    XaiImageOperator.partial(
        task_id="mapped", aspect_ratio="1:1", poll_interval=POLL, output_path=LOCAL
    ).expand(prompt=PROMPTS)
    XaiVideoOperator(
        task_id="clip", prompt="Waves at sunset", duration=6, poll_interval=POLL, output_path=LOCAL
    )
    XaiImageOperator(task_id="unstored", prompt="A lighthouse at dawn", poll_interval=POLL)
    XaiImageOperator(task_id="submit_only", prompt="A map of an island", wait_for_completion=False)
    # always defined, so that the DAG's shape does not depend on the environment (Airflow 3.1's dag.test()
    # can look the task up in a DAG serialized earlier in the process, without it); locally without S3
    XaiImageOperator(
        task_id="to_s3", prompt="A castle in the clouds", poll_interval=POLL, output_path=S3 or f"{LOCAL}/s3"
    )

    @task
    def plain() -> dict:
        return {"rows": 3}

    plain()
