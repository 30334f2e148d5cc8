"""Several images in one task: four variations of one prompt from a single request on xAI's own API.

xAI's API (``POST /v1/images/generations``) answers with up to 10 images at once: the operator generates
them in the worker (there is nothing to defer), stores each one as ``<xai_task_id>_<n>.jpeg`` with one
sidecar, and reports what xAI billed in ``usage.cost_usd``. Needs a connection whose extra ``api`` is
``"xai"`` (or whose host is ``https://api.x.ai``): ``XAI_API_CONN_ID`` names it, default ``xai_api``.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator

with DAG(
    dag_id="example_xai_several_images",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai", "xai-api"],
    doc_md=__doc__,
) as dag:
    XaiImageOperator(
        task_id="variations",
        xai_conn_id=os.environ.get("XAI_API_CONN_ID", "xai_api"),
        prompt="A lighthouse on a cliff at dawn, four different painting styles",
        model="grok-imagine-image",
        n=4,
        aspect_ratio="3:2",
        resolution="1k",
        output_path=os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/several_images",
    )
