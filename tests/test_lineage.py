"""OpenLineage: real ``dag.test()`` runs with the OpenLineage provider's listener and its file transport.

The listener is a plugin that Airflow loads once per process, and only when a transport is configured;
the runs therefore happen in a subprocess of their own (its own ``AIRFLOW_HOME`` and metadata DB) with
``AIRFLOW__OPENLINEAGE__TRANSPORT`` set, against this process's emulator and moto S3. The test then reads
the events the provider wrote.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import API_KEY, conn_json
from tests.storage.s3 import moto_s3  # noqa: F401 - a fixture

pytest.importorskip("airflow.providers.openlineage")

#: runs the named DAGs of tests/dags/xai_trace_dag.py (copied into the dags folder) with dag.test()
RUN_DAGS = """
import importlib.util, json, os, sys
from airflow.utils import db
db.resetdb()
path = os.path.join(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], "xai_trace_dag.py")
spec = importlib.util.spec_from_file_location("xai_trace_dag", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dags = {d.dag_id: d for d in vars(module).values() if hasattr(d, "dag_id") and hasattr(d, "test")}
report = {}
for dag_id in sys.argv[1:]:
    run = dags[dag_id].test()
    report[dag_id] = {
        ti.task_id: {"state": ti.state, "result": ti.xcom_pull(task_ids=ti.task_id)}
        for ti in run.get_task_instances()
    }
print("REPORT " + json.dumps(report, default=str))
"""


def run_with_openlineage(tmp_path, *dag_ids: str) -> tuple[dict, list[dict]]:
    """Run DAGs in a subprocess whose OpenLineage events go to a file; return its report and the events."""
    home, events = tmp_path / "home", tmp_path / "openlineage.jsonl"
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "xai-tests",
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN_DAGS, *dag_ids], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-4000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    return json.loads(line.removeprefix("REPORT ")), [
        json.loads(line) for line in events.read_text().splitlines() if line.strip()
    ]


def task_events(events: list[dict], dag_id: str, task_id: str, kind: str) -> list[dict]:
    return [e for e in events if e["job"]["name"] == f"{dag_id}.{task_id}" and e["eventType"] == kind]


def names(datasets: list[dict]) -> list[tuple[str, str]]:
    return sorted((d["namespace"], d["name"]) for d in datasets)


def s3_name(uri: str) -> tuple[str, str]:
    bucket, key = uri.removeprefix("s3://").split("@", 1)[1].split("/", 1)
    return f"s3://{bucket}", key


@pytest.fixture
def trace_env(xai_emulator, moto_s3, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator.url))
    monkeypatch.setenv("AIRFLOW_CONN_XAI_TRACE", conn_json(xai_emulator.url, api="xai"))
    monkeypatch.setenv("XAI_TEST_OUTPUT", str(tmp_path / "media"))
    monkeypatch.setenv("XAI_TEST_S3_OUTPUT", moto_s3.folder("trace"))
    return moto_s3


def test_complete_events_name_the_stored_files_sources_and_the_generation(trace_env, tmp_path, caplog):
    report, events = run_with_openlineage(tmp_path, "xai_trace_lineage")

    tasks = report["xai_trace_lineage"]
    assert {t: v["state"] for t, v in tasks.items()} == dict.fromkeys(
        ["images_s3", "video_local", "video_upload", "submit", "sense"], "success"
    )
    complete = {t: task_events(events, "xai_trace_lineage", t, "COMPLETE") for t in tasks}
    assert all(len(found) == 1 for found in complete.values()), {t: len(v) for t, v in complete.items()}
    media = tmp_path / "media"

    # images on S3: one dataset per stored file (no sidecar), namespace s3://bucket, key without a slash
    (event,) = complete["images_s3"]
    result = tasks["images_s3"]["result"]
    assert len(result["outputs"]) == 2
    assert names(event["outputs"]) == sorted(s3_name(uri) for uri in result["outputs"])
    for output in event["outputs"]:
        key = output["name"]
        assert not key.startswith("/") and key.endswith((".jpeg", ".png"))
        stored = trace_env.client.get_object(Bucket=trace_env.bucket, Key=key)["Body"].read()
        assert output["outputFacets"]["outputStatistics"]["size"] == len(stored)
        assert output["outputFacets"]["outputStatistics"]["fileCount"] == 1
        assert len(output["facets"]["version"]["datasetVersion"]) == 64  # the sha256
    # sources: https namespaces (with the port), path names, no query (the signature is a credential)
    assert names(event["inputs"]) == [
        ("https://cdn.example.com", "/sources/cat.png"),
        ("https://cdn.example.com:8443", "/sources/dog.png"),
    ]
    facet = event["run"]["facets"]["xaiGeneration"]
    assert {k: facet[k] for k in ("xaiTaskId", "api", "model", "status", "mediaCount", "videoSeconds")} == {
        "xaiTaskId": result["xai_task_id"],
        "api": "xai",
        "model": "grok-imagine-image",
        "status": "completed",
        "mediaCount": 2,
        "videoSeconds": 0,
    }
    assert facet["costUsd"] == pytest.approx(result["usage"]["cost_usd"]) and facet["costUsd"] > 0
    assert facet["_producer"].startswith("https://pypi.org/project/airflow-provider-xai/")
    assert facet["_schemaURL"].endswith("#/$defs/XaiGenerationRunFacet")

    # a video downloaded into a local folder: namespace file, the absolute path; the source without user info
    (event,) = complete["video_local"]
    result = tasks["video_local"]["result"]
    (uri,) = result["outputs"]
    path = uri.removeprefix("file://")
    assert path.startswith(str(media) + "/") and path.endswith(".mp4")
    assert names(event["outputs"]) == [("file", path)]
    assert event["outputs"][0]["outputFacets"]["outputStatistics"]["size"] == os.path.getsize(path)
    assert names(event["inputs"]) == [("https://frames.example.org", "/first-frame.jpeg")]
    facet = event["run"]["facets"]["xaiGeneration"]
    assert (facet["model"], facet["videoSeconds"], facet["status"]) == ("grok-imagine-video", 6, "completed")

    # a video the service uploaded into S3 itself: the object, its size; no input
    (event,) = complete["video_upload"]
    (uri,) = tasks["video_upload"]["result"]["outputs"]
    (output,) = event["outputs"]
    assert (output["namespace"], output["name"]) == s3_name(uri)
    size = len(trace_env.read(uri))
    assert output["outputFacets"]["outputStatistics"]["size"] == size > 0
    assert event["inputs"] == []

    # the sensor: the file it stored (the gateway: no cost), and the remote id it waited for
    (event,) = complete["sense"]
    result = tasks["sense"]["result"]
    assert names(event["outputs"]) == [("file", result["outputs"][0].removeprefix("file://"))]
    facet = event["run"]["facets"]["xaiGeneration"]
    assert facet["xaiTaskId"] == tasks["submit"]["result"] == result["xai_task_id"]
    assert (facet["api"], facet["status"], facet.get("costUsd")) == ("gateway", "completed", None)

    # no credential anywhere: no API key, no signed source, no signed upload URL
    text = json.dumps(events)
    assert API_KEY not in text and "hunter2" not in text and "SOURCESIGNATURE" not in text
    (put,) = [line for line in caplog.text.splitlines() if '"PUT ' in line and ".mp4" in line]
    signature = re.search(r"[?&](?:X-Amz-)?Signature=([^& ]+)", put).group(1)
    assert signature not in text
    assert "X-Amz-" not in text


def test_a_failed_generation_reports_its_source_and_remote_task(trace_env, tmp_path):
    report, events = run_with_openlineage(tmp_path, "xai_trace_lineage_failure")

    assert report["xai_trace_lineage_failure"]["fails"]["state"] == "failed"
    (event,) = task_events(events, "xai_trace_lineage_failure", "fails", "FAIL")
    assert names(event["inputs"]) == [("https://cdn.example.com", "/sources/cat.png")]
    assert event["outputs"] == []
    facet = event["run"]["facets"]["xaiGeneration"]
    assert facet["xaiTaskId"]  # submitted: the remote id is known
    assert (facet["api"], facet["status"], facet["model"]) == ("gateway", "failed", "grok-imagine-image")
    assert "SOURCESIGNATURE" not in json.dumps(events)
