"""Many deferrable image tasks at once (a mapped task), for the triggerer-restart system test.

``XAI_SYS_MANY_COUNT`` prompts (12 by default), each asking the emulator for ``XAI_SYS_MANY_SECONDS`` of
generation (``[xai:seconds=...]``), so that they all wait in the triggerer at the same time.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator

COUNT = int(os.environ.get("XAI_SYS_MANY_COUNT", "12"))
SECONDS = float(os.environ.get("XAI_SYS_MANY_SECONDS", "20"))
PROMPTS = [f"lantern number {i} [xai:seconds={SECONDS}]" for i in range(COUNT)]

with DAG(dag_id="xai_sys_many", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    XaiImageOperator.partial(
        task_id="generate",
        deferrable=True,
        poll_interval=1,
        retries=0,
        output_path=os.environ.get("XAI_OUTPUT_PATH"),
    ).expand(prompt=PROMPTS)
