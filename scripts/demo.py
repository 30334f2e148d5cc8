"""Run the example DAGs on both APIs against the local emulator and build a gallery (``make demo``).

One emulator serves both APIs on one port: the showcase DAG runs on the task gateway (connection
``xai_default``), the examples for xAI's own API (several images in one request, an edit from several
sources, a video extension, a video the service uploads into S3) on connection ``xai_api``. S3 is a local
moto server. Media and sidecars land in ``demo_output/``; ``demo_output/gallery.html`` shows every item
with its prompt, parameters, API and cost.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from gallery import write_gallery  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: where `make demo-ui` serves the Airflow UI on the demo's home, and the run's "Generated media" tab
UI = "http://localhost:8080"
RUN_VIEW = "plugin/xai-media-run"
HOME = ROOT / "airflow_home"
OUTPUT = ROOT / "demo_output"
BUCKET = "xai-demo"

os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "XAI_EXAMPLE_POLL_INTERVAL": "0.5",
        "XAI_API_CONN_ID": "xai_api",
    }
)

#: (api, example DAG): the showcase on the task gateway, then the examples for xAI's own API
RUNS = [
    ("gateway", "example_xai_showcase"),
    ("xai", "example_xai_several_images"),
    ("xai", "example_xai_edit_from_sources"),
    ("xai", "example_xai_extend_video"),
    ("xai", "example_xai_video_to_s3"),
]


def main() -> int:
    """Start the emulator and S3, migrate the Airflow DB, run every example, print a summary."""
    from airflow_provider_xai.emulator import EmulatorServer

    HOME.mkdir(exist_ok=True)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir()
    airflow = pathlib.Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, stdout=subprocess.DEVNULL)
    results = []
    with local_s3() as s3, EmulatorServer(progression="time", image_seconds=3, video_seconds=5) as emulator:
        # The demo key is a placeholder: the emulator accepts any non-empty key.
        for conn_id, api in (("XAI_DEFAULT", "gateway"), ("XAI_API", "xai")):
            os.environ[f"AIRFLOW_CONN_{conn_id}"] = json.dumps(
                {"conn_type": "xai", "host": emulator.url, "password": "demo-key", "extra": {"api": api}}
            )
        print(f"xAI emulator serving both APIs on {emulator.url}; S3 (moto) on {s3['endpoint']}")
        for api, name in RUNS:
            os.environ["XAI_OUTPUT_PATH"] = str(OUTPUT / api)
            os.environ["XAI_S3_OUTPUT_PATH"] = f"s3://aws_default@{BUCKET}/videos"
            results.append((api, name, *run_dag(name)))
        copy_from_s3(s3["client"], OUTPUT / "xai" / "video_to_s3")
    print()
    for api, name, run, elapsed in results:
        states = sorted(f"{ti.task_id}[{ti.map_index}]={ti.state}" for ti in run.get_task_instances())
        print(f"{api:8} {name:32} {run.state:8} {elapsed:5.1f}s  {' '.join(states)}")
    media = sorted(p for p in OUTPUT.rglob("*") if p.suffix in (".jpeg", ".mp4"))
    print(f"\n{len(media)} media files and {len(list(OUTPUT.rglob('*.json')))} sidecars under {OUTPUT}")
    for api in ("gateway", "xai"):
        costs = [json.loads(p.read_text()).get("cost_usd") for p in (OUTPUT / api).rglob("*.json")]
        known = [c for c in costs if c is not None]
        total = f"{sum(known):.4f} USD" if known else "not reported by this API"
        print(f"  {api:8} {len(costs)} items, cost {total}")
    print(f"\nGallery: {write_gallery(OUTPUT)}")
    print(
        "\nIn the Airflow UI (the Generated media tab): run `make demo-ui`, then open\n"
        + "\n".join(
            f"  {UI}/dags/{run.dag_id}/runs/{quote(run.run_id, safe='')}/{RUN_VIEW}" for *_, run, _ in results
        )
        + "\n(the S3 video's file lived in the demo's moto server: the view says it is missing)"
    )
    return 0 if all(run.state == "success" for _, _, run, _ in results) else 1


def run_dag(name: str) -> tuple[Any, float]:
    """Import an example afresh (it reads the environment) and run it with ``dag.test()``."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "example_dags" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    started = time.monotonic()
    run = module.dag.test()
    return run, time.monotonic() - started


@contextmanager
def local_s3() -> Iterator[dict[str, Any]]:
    """Serve S3 with moto on a free port, reached through the ``aws_default`` connection."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log (it shows signed URLs)
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    keys = {"login": "demo-access-key", "password": "demo-secret-key"}
    os.environ.update(
        {
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {"conn_type": "aws", **keys, "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
            ),
            # boto3 must never find real credentials or config on the machine
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=keys["login"],
        aws_secret_access_key=keys["password"],
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield {"endpoint": endpoint, "client": client}
    finally:
        server.stop()


def copy_from_s3(client: Any, folder: pathlib.Path) -> None:
    """Copy what the S3 example stored (the uploaded video and its sidecar) beside the other outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        body = client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        (folder / obj["Key"].rsplit("/", 1)[1]).write_bytes(body)


if __name__ == "__main__":
    sys.exit(main())
