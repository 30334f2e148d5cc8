"""A one-task DAG for the retry tests: its settings come from the environment (see tests/test_retries.py)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator

with DAG(dag_id="xai_test_retry", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    XaiImageOperator(
        task_id="generate",
        prompt=os.environ.get("XAI_TEST_PROMPT", "a red fox"),
        output_path=os.environ.get("XAI_TEST_OUTPUT"),
        deferrable=os.environ.get("XAI_TEST_DEFERRABLE", "1") == "1",
        reattach_on_retry=os.environ.get("XAI_TEST_REATTACH", "1") == "1",
        poll_interval=0.02,
        retries=int(os.environ.get("XAI_TEST_RETRIES", "1")),
        retry_delay=timedelta(seconds=0.1),
    )
