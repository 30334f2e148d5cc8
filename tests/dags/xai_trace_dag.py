"""DAGs of the see-and-trace tests (asset extra, OpenLineage); settings come from the environment.

``xai_trace_assets``: on xAI's API (connection ``xai_trace``), two images in one task and a video, each
with an asset outlet, stored under ``XAI_TEST_OUTPUT``.
``xai_trace_lineage`` and ``xai_trace_lineage_failure``: the OpenLineage tests (tests/test_lineage.py).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Asset

from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator
from airflow_provider_xai.sensors.xai import XaiTaskSensor

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

# ``xai_trace_lineage``: what OpenLineage must see (XAI_TEST_S3_OUTPUT: an s3://aws_default@bucket/prefix).
S3_OUTPUT = os.environ.get("XAI_TEST_S3_OUTPUT", "s3://aws_default@xai-media/trace")
SIGNED_SOURCE = "https://cdn.example.com/sources/cat.png?X-Amz-Signature=SOURCESIGNATURE&X-Amz-Expires=60"
SOURCES = [SIGNED_SOURCE, "https://cdn.example.com:8443/sources/dog.png"]
FIRST_FRAME = "https://user:hunter2@frames.example.org/first-frame.jpeg#top"

with DAG(
    dag_id="xai_trace_lineage", schedule=None, start_date=datetime(2026, 1, 1), catchup=False
) as lineage_dag:
    XaiImageOperator(  # xAI's API: two edits of two sources, stored into S3
        task_id="images_s3",
        xai_conn_id="xai_trace",
        prompt="The two pets as a watercolour",
        image_urls=SOURCES,
        n=2,
        output_path=S3_OUTPUT,
    )
    XaiVideoOperator(  # xAI's API: image-to-video, downloaded into a local folder
        task_id="video_local",
        xai_conn_id="xai_trace",
        prompt="The frame comes alive",
        image_url=FIRST_FRAME,
        duration=6,
        poll_interval=POLL,
        output_path=OUTPUT,
    )
    XaiVideoOperator(  # xAI's API: the service uploads the video into S3 through a signed URL
        task_id="video_upload",
        xai_conn_id="xai_trace",
        prompt="A timelapse of clouds",
        duration=6,
        delivery="upload",
        poll_interval=POLL,
        output_path=S3_OUTPUT,
    )
    submit = XaiImageOperator(  # the gateway: submitted here, waited for by the sensor
        task_id="submit", prompt="A map of an island", wait_for_completion=False
    )
    submit >> XaiTaskSensor(
        task_id="sense",
        xai_task_id="{{ ti.xcom_pull(task_ids='submit', key='xai_task_id') }}",
        poke_interval=POLL,
        output_path=OUTPUT,
    )

with DAG(
    dag_id="xai_trace_lineage_failure", schedule=None, start_date=datetime(2026, 1, 1), catchup=False
) as lineage_failure_dag:
    XaiImageOperator(  # the gateway: the remote task fails after the submission
        task_id="fails",
        prompt="A cat in a hat [xai:failed]",
        image_url=SIGNED_SOURCE,
        poll_interval=POLL,
        output_path=OUTPUT,
    )
