"""Showcase of the xAI provider: all four generation modes, submit + sensor, and a mapped task.

Runs against the real service or the local emulator (``make demo`` starts one): the ``xai_default``
connection decides. Media land under ``XAI_OUTPUT_PATH`` (a local folder by default, or e.g.
``s3://aws_default@my-bucket/xai``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator
from airflow_provider_xai.sensors.xai import XaiTaskSensor

OUTPUT_PATH = os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai-showcase")
# A short first poll suits the emulator; against the real service the operators' defaults are right.
POLL = float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "2"))
FIRST_IMAGE = "{{ ti.xcom_pull(task_ids='text_to_image')['media_urls'][0] }}"

with DAG(
    dag_id="example_xai_showcase",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=5)},
    tags=["example", "xai"],
    doc_md=__doc__,
) as dag:
    text_to_image = XaiImageOperator(
        task_id="text_to_image",
        prompt="A lighthouse on a cliff at dawn, oil painting",
        aspect_ratio="16:9",
        poll_interval=POLL,
        output_path=OUTPUT_PATH,
    )
    image_to_image = XaiImageOperator(
        task_id="image_to_image",
        prompt="The same lighthouse in a snow storm",
        image_url=FIRST_IMAGE,
        poll_interval=POLL,
        output_path=OUTPUT_PATH,
    )
    text_to_video = XaiVideoOperator(
        task_id="text_to_video",
        prompt="Waves rolling onto a beach at sunset, slow camera pan",
        duration=6,
        resolution="480p",
        aspect_ratio="16:9",
        poll_interval=POLL,
        output_path=OUTPUT_PATH,
    )
    image_to_video = XaiVideoOperator(
        task_id="image_to_video",
        prompt="The lighthouse beam sweeps across the sea",
        image_url=FIRST_IMAGE,
        duration=6,
        poll_interval=POLL,
        output_path=OUTPUT_PATH,
    )
    submit = XaiImageOperator(
        task_id="submit",
        prompt="A map of an imaginary island, parchment style",
        aspect_ratio="1:1",
        wait_for_completion=False,
    )
    wait = XaiTaskSensor(
        task_id="wait",
        xai_task_id="{{ ti.xcom_pull(task_ids='submit', key='xai_task_id') }}",
        poke_interval=POLL,
        output_path=OUTPUT_PATH,
    )
    mapped = XaiImageOperator.partial(
        task_id="mapped_images", aspect_ratio="1:1", poll_interval=POLL, output_path=OUTPUT_PATH
    ).expand(prompt=["A red fox in the snow", "A blue whale in deep water", "A green parrot in a jungle"])

    text_to_image >> [image_to_image, image_to_video]
    submit >> wait
