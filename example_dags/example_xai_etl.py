"""ETL with the xAI provider: generate a batch of images into object storage, verify them, react to them.

``example_xai_etl`` extracts a list of prompts, generates one image per prompt with dynamic task mapping
(``XaiImageOperator.expand``), and stores every image with its JSON sidecar under
``XAI_ETL_OUTPUT_PATH/<run>/``: an S3 folder such as ``s3://aws_default@my-bucket/xai-etl`` (any
``ObjectStoragePath`` URI with an Airflow connection) or, by default, a local folder. The generating task
updates the asset ``xai://example/etl-images``; a downstream task opens every stored file through
``ObjectStoragePath`` and checks its size and sha256 against the sidecar.

``example_xai_etl_consumer`` is scheduled on that asset and reads the asset events' ``extra``
(``xai_task_id``, ``model``, ``outputs``) to find the new files.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime

from airflow.sdk import DAG, Asset, ObjectStoragePath, task

from airflow_provider_xai.operators.xai import XaiImageOperator

OUTPUT_PATH = os.environ.get("XAI_ETL_OUTPUT_PATH", "/tmp/airflow-xai-etl").rstrip("/")
# A short first poll suits the emulator; against the real service the operator's default is right.
POLL = float(os.environ.get("XAI_EXAMPLE_POLL_INTERVAL", "2"))
IMAGES = Asset(name="xai_etl_images", uri="xai://example/etl-images")
PROMPTS = [
    "A product photo of a ceramic mug on a wooden table",
    "A product photo of a leather backpack on a white background",
    "A product photo of a pair of running shoes, studio light",
]
READ_CHUNK = 1024 * 1024


@task
def extract_prompts() -> list[str]:
    """Extract the batch to generate (here a constant list; typically a query or a file)."""
    return PROMPTS


@task
def verify_images(results: list[dict]) -> dict:
    """Open every stored file through ``ObjectStoragePath``; check its size and sha256 against the sidecar."""
    checked, total = [], 0
    for result in results:
        if not result["outputs"]:
            raise ValueError(f"xAI task {result['xai_task_id']} stored nothing")
        folder = ObjectStoragePath(result["outputs"][0]).parent
        manifest = json.loads((folder / f"{result['xai_task_id']}.json").read_text())
        expected = {entry["uri"]: entry for entry in manifest["files"]}
        for uri in result["outputs"]:
            digest, size = hashlib.sha256(), 0
            with ObjectStoragePath(uri).open("rb") as stored:
                while chunk := stored.read(READ_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            entry = expected.get(uri)
            if entry is None:
                raise ValueError(f"{uri} is not described in the sidecar of {result['xai_task_id']}")
            if size == 0 or size != entry["size"]:
                raise ValueError(f"{uri} holds {size} bytes; its sidecar says {entry['size']}")
            if digest.hexdigest() != entry["sha256"]:
                raise ValueError(f"{uri} does not match the sha256 in its sidecar")
            checked.append(uri)
            total += size
    return {"files": len(checked), "bytes": total, "outputs": checked}


@task(inlets=[IMAGES])
def summarize_new_images(triggering_asset_events=None, inlet_events=None) -> list[dict]:
    """Read the asset events' extra: the remote task, the model and the stored files of each event."""
    events = [event for events in (triggering_asset_events or {}).values() for event in events]
    if not events and inlet_events is not None:  # a manual run: take the asset's latest event
        history = inlet_events[IMAGES]
        events = [history[-1]] if len(history) else []
    summary = []
    for event in events:
        extra = event.extra
        sizes = [ObjectStoragePath(uri).stat().st_size for uri in extra["outputs"]]
        summary.append(
            {
                "xai_task_id": extra["xai_task_id"],
                "model": extra["model"],
                "outputs": extra["outputs"],
                "sizes": sizes,
            }
        )
    return summary


with DAG(
    dag_id="example_xai_etl",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai", "etl"],
    doc_md=__doc__,
) as dag:
    generate = XaiImageOperator.partial(
        task_id="generate_images",
        aspect_ratio="1:1",
        poll_interval=POLL,
        # templated: one folder per run
        output_path=OUTPUT_PATH + "/{{ dag_run.run_after | ts_nodash }}",
        outlets=[IMAGES],
    ).expand(prompt=extract_prompts())
    verify_images(generate.output)

with DAG(
    dag_id="example_xai_etl_consumer",
    schedule=[IMAGES],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "xai", "etl"],
    doc_md=__doc__,
) as consumer_dag:
    summarize_new_images()
