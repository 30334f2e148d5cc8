"""A one-task DAG that waits in the worker and does not reattach on a retry (system tests).

The counterpart of ``xai_retry_dag.py`` with ``XAI_TEST_REATTACH=0`` that can run beside it in the same
Airflow: its prompt comes from ``XAI_SYS_NOREATTACH_PROMPT``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator

with DAG(dag_id="xai_sys_noreattach", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    XaiImageOperator(
        task_id="generate",
        prompt=os.environ.get("XAI_SYS_NOREATTACH_PROMPT", "a blue heron [xai:seconds=20]"),
        deferrable=False,
        reattach_on_retry=False,
        poll_interval=0.5,
        retries=1,
        retry_delay=timedelta(seconds=0.1),
    )
