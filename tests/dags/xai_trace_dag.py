"""DAGs of the see-and-trace tests (asset extra, OpenLineage); settings come from the environment.

``xai_trace_assets``: on xAI's API (connection ``xai_trace``), two images in one task and a video, each
with an asset outlet, stored under ``XAI_TEST_OUTPUT``.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Asset

from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator

OUTPUT = os.environ.get("XAI_TEST_OUTPUT", "/tmp/airflow-xai-trace")
POLL = 0.02
IMAGES = Asset("xai://tests/trace-images")
VIDEOS = Asset("xai://tests/trace-videos")

with DAG(
    dag_id="xai_trace_assets", schedule=None, start_date=datetime(2026, 1, 1), catchup=False
) as assets_dag:
    XaiImageOperator(
        task_id="images",
        xai_conn_id="xai_trace",
        prompt="Two lighthouses at dawn",
        n=2,
        poll_interval=POLL,
        output_path=OUTPUT,
        outlets=[IMAGES],
    )
    XaiVideoOperator(
        task_id="video",
        xai_conn_id="xai_trace",
        prompt="Waves roll onto a beach",
        duration=6,
        resolution="480p",
        poll_interval=POLL,
        output_path=OUTPUT,
        outlets=[VIDEOS],
    )
