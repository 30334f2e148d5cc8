"""TaskFlow: ``@task.xai_image`` and ``@task.xai_video``, whose functions write the prompt.

A function decorated with ``@task.xai_image`` or ``@task.xai_video`` runs in the worker and returns the
prompt (a string) or a dict of the operator's parameters; the operator does the rest (validation,
deferral, storage, retries, lineage). Here: three posters mapped over cities, a cover, and a teaser video
made from the cover, whose function returns a dict (the prompt and the source image).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

OUTPUT = os.environ.get("XAI_OUTPUT_PATH", "/tmp/airflow-xai") + "/taskflow/{{ ds }}"
POLL = float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "2"))

with DAG(
    dag_id="example_xai_taskflow",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai", "taskflow"],
) as dag:

    @task.xai_image(aspect_ratio="2:3", output_path=OUTPUT, poll_interval=POLL)
    def poster(city: str) -> str:
        """A travel poster of one city: the function returns the prompt."""
        return f"A travel poster of {city}, art-deco style"

    @task.xai_video(output_path=OUTPUT, poll_interval=POLL)
    def teaser(cover: dict) -> dict:
        """A teaser made from the cover: the function returns the operator's parameters."""
        return {
            "prompt": "The poster comes alive: a slow zoom, birds fly past",
            "image_url": cover["media_urls"][0],
            "duration": 6,
        }

    poster.expand(city=["Lisbon", "Kyoto", "Reykjavik"])
    cover = poster.override(task_id="cover")("Valparaiso")
    teaser(cover)
