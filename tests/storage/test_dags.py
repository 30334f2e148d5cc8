"""DAG runs (``dag.test()``) that store into S3 (moto) and emit asset events with the outputs."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

from tests.conftest import asset_events, load_example

pytestmark = pytest.mark.usefixtures("airflow_db")


REQUEST_REST = {"model": "grok-imagine-image", "aspectRatio": "1:1"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def results_of(run, task_id: str) -> dict[int, dict]:
    """The XCom return value of every instance of a task, by map index."""
    tis = [ti for ti in run.get_task_instances() if ti.task_id == task_id]
    assert tis and all(ti.state == "success" for ti in tis), {ti.map_index: ti.state for ti in tis}
    return {ti.map_index: ti.xcom_pull(task_ids=task_id, map_indexes=ti.map_index) for ti in tis}


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "blocking"])
def test_mapped_tasks_store_into_s3_without_colliding(xai_conn, moto_s3, monkeypatch, deferrable):
    folder = moto_s3.folder("mapped")
    monkeypatch.setenv("XAI_TEST_OUTPUT", folder)
    monkeypatch.setenv("XAI_TEST_DEFERRABLE", "1" if deferrable else "0")
    module = load_example("xai_s3_dag")
    dag = module.dag

    run = dag.test()

    assert run.state == "success"
    results = results_of(run, "mapped_images")
    assert sorted(results) == [0, 1, 2]
    assert xai_conn.count("POST", "/xai/images") == 3
    task_ids = {r["xai_task_id"] for r in results.values()}
    assert len(task_ids) == 3
    keys = moto_s3.keys(folder)
    prefix = folder.split("@", 1)[1].split("/", 1)[1]
    expected = {f"{prefix}/{tid}{suffix}" for tid in task_ids for suffix in (".json", "_0.jpeg")}
    assert set(keys) == expected  # one file and one sidecar per mapped task, no .partial left
    seen_digests, prompts = set(), []
    for result in results.values():
        (uri,) = result["outputs"]
        assert uri == f"{folder}/{result['xai_task_id']}_0.jpeg"
        served = requests.get(result["media_urls"][0], timeout=10).content
        stored = moto_s3.read(uri)
        assert sha256(stored) == sha256(served)
        seen_digests.add(sha256(stored))
        manifest = json.loads(moto_s3.read(f"{folder}/{result['xai_task_id']}.json"))
        assert manifest["xai_task_id"] == result["xai_task_id"]
        assert manifest["status"] == "completed"
        assert manifest["request"] == {"prompt": manifest["request"]["prompt"], **REQUEST_REST}
        prompts.append(manifest["request"]["prompt"])
        assert manifest["result"] == result["result"]
        (entry,) = manifest["files"]
        assert entry["uri"] == uri
        assert entry["sha256"] == sha256(served)
        assert entry["size"] == len(served) == keys[uri.split(f"@{moto_s3.bucket}/", 1)[1]]
        assert entry["content_type"] == "image/jpeg"
    assert len(seen_digests) == 3  # three different pictures, none overwritten by another task
    assert sorted(prompts) == sorted(module.PROMPTS)


# dag.test() resumes a deferred task with the event alone (airflow/sdk/definitions/dag.py:1545, Airflow
# 3.3.2 drops the deferral's next_kwargs); the sidecar must still record the request.
def test_deferred_task_records_its_request_in_the_sidecar(xai_conn, monkeypatch, tmp_path):
    monkeypatch.setenv("XAI_TEST_OUTPUT", str(tmp_path))
    monkeypatch.setenv("XAI_TEST_DEFERRABLE", "1")
    run = load_example("xai_s3_dag").dag.test()
    assert run.state == "success"
    manifests = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert len(manifests) == 3
    assert all(m["request"] and m["request"]["model"] == "grok-imagine-image" for m in manifests)


@pytest.mark.parametrize("where", ["local", "s3"])
def test_asset_events_carry_task_id_model_and_outputs(xai_conn, monkeypatch, tmp_path, request, where):
    folder = request.getfixturevalue("moto_s3").folder("assets") if where == "s3" else str(tmp_path)
    monkeypatch.setenv("XAI_TEST_OUTPUT", folder)
    module = load_example("xai_s3_dag")

    run = module.outlets_dag.test()

    assert run.state == "success"
    for task_id, asset in (("generate", module.GENERATED), ("wait", module.SENSED)):
        (result,) = results_of(run, task_id).values()
        (event,) = asset_events(run.run_id, asset.uri)
        assert event.source_task_id == task_id
        assert event.extra == {
            "xai_task_id": result["xai_task_id"],
            "api": "gateway",
            "model": "grok-imagine-image",
            "status": "completed",
            "finished_at": result["finished_at"],
            "outputs": result["outputs"],
            "sidecar": f"{folder if where == 's3' else 'file://' + folder}/{result['xai_task_id']}.json",
            "media_count": 1,
            "video_seconds": 0,
            "cost_usd": None,
        }
        assert len(result["outputs"]) == 1
        assert result["outputs"][0].endswith(f"/{result['xai_task_id']}_0.jpeg")
    # the submit-only task has no outlet and stores nothing
    assert results_of(run, "submit")[-1] == results_of(run, "wait")[-1]["xai_task_id"]
