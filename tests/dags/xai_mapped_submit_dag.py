"""Fifty mapped submissions (no waiting), for the rate-limit test in tests/test_rate_limits.py."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator

with DAG(
    dag_id="xai_test_mapped_submit", schedule=None, start_date=datetime(2026, 1, 1), catchup=False
) as dag:
    XaiImageOperator.partial(task_id="submit", wait_for_completion=False, reattach_on_retry=False).expand(
        prompt=[f"prompt number {n}" for n in range(50)]
    )
