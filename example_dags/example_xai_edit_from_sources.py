"""An edit from several sources: three images generated first, then combined into one by an edit.

The second task takes the first task's ``media_urls`` (a list) as ``image_urls``: xAI's API edits from up to
five source images (``POST /v1/images/edits``). ``render_template_as_native_obj=True`` makes the pulled
list arrive as a list, not as its text. Needs a connection with extra ``api: "xai"`` (``XAI_API_CONN_ID``,
default ``xai_api``). The source URLs are temporary (hours): the edit runs right after them.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator

CONN_ID = os.environ.get("XAI_API_CONN_ID", "xai_api")
OUTPUT = os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/edit_from_sources"

with DAG(
    dag_id="example_xai_edit_from_sources",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    render_template_as_native_obj=True,
    tags=["example", "xai", "xai-api"],
    doc_md=__doc__,
) as dag:
    sources = XaiImageOperator(
        task_id="sources",
        xai_conn_id=CONN_ID,
        prompt="A single object on a white background: a red kite, a blue boat, a green umbrella",
        n=3,
        aspect_ratio="1:1",
        output_path=OUTPUT,
    )
    collage = XaiImageOperator(
        task_id="collage",
        xai_conn_id=CONN_ID,
        prompt="Put the kite, the boat and the umbrella together on one beach at noon",
        image_urls="{{ ti.xcom_pull(task_ids='sources')['media_urls'] }}",
        model="grok-imagine-image-2.0",
        quality="high",
        output_path=OUTPUT,
    )
    sources >> collage
