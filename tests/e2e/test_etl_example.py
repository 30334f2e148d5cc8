"""End to end: the ETL example (mapped generation into storage, checks, asset consumer), dag.test()."""

from __future__ import annotations

import hashlib
import json
import types

import pytest
import requests
from airflow.sdk import ObjectStoragePath

from tests.compat import AIRFLOW_VERSION
from tests.conftest import asset_events, load_example
from tests.storage.s3 import moto_s3  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.fixture(params=["local", "s3"])
def etl(request, xai_conn, monkeypatch, tmp_path):
    if request.param == "s3":
        output = request.getfixturevalue("moto_s3").folder("etl")
    else:
        output = str(tmp_path / "etl")
    monkeypatch.setenv("XAI_ETL_OUTPUT_PATH", output)
    return load_example("example_xai_etl"), output, xai_conn


def xcom(run, task_id: str) -> dict[int, object]:
    tis = [ti for ti in run.get_task_instances() if ti.task_id == task_id]
    assert tis and all(ti.state == "success" for ti in tis), {ti.map_index: ti.state for ti in tis}
    return {ti.map_index: ti.xcom_pull(task_ids=task_id, map_indexes=ti.map_index) for ti in tis}


def test_etl_generates_verifies_and_feeds_the_consumer(etl):
    module, output, emulator = etl

    run = module.dag.test()

    assert run.state == "success"
    generated = xcom(run, "generate_images")
    assert sorted(generated) == [0, 1, 2]
    assert emulator.count("POST", "/xai/images") == 3
    run_folder = f"{output}/{run.run_after.strftime('%Y%m%dT%H%M%S')}"
    outputs = [uri for result in generated.values() for uri in result["outputs"]]
    assert len(set(outputs)) == 3
    for result in generated.values():
        (uri,) = result["outputs"]
        assert uri.startswith(("file://" if "://" not in output else "") + run_folder + "/")
        served = requests.get(result["media_urls"][0], timeout=10).content
        assert hashlib.sha256(ObjectStoragePath(uri).read_bytes()).hexdigest() == (
            hashlib.sha256(served).hexdigest()
        )
    # the verification task opened and checked every stored file
    (verified,) = xcom(run, "verify_images").values()
    assert verified["files"] == 3
    assert sorted(verified["outputs"]) == sorted(outputs)
    assert verified["bytes"] > 0

    # one asset event per mapped task, with flat extra
    events = asset_events(run.run_id, module.IMAGES.uri)
    assert len(events) == 3
    assert sorted(e.extra["xai_task_id"] for e in events) == sorted(
        r["xai_task_id"] for r in generated.values()
    )
    for event in events:
        assert set(event.extra) == {
            *("xai_task_id", "api", "model", "status", "finished_at", "outputs", "sidecar"),
            *("media_count", "video_seconds", "cost_usd"),
        }
        assert event.extra["model"] == "grok-imagine-image"
        assert event.extra["outputs"] in [r["outputs"] for r in generated.values()]

    # the consumer DAG, run by hand, reads the asset's latest event
    consumer = module.consumer_dag.test()
    assert consumer.state == "success"
    (summary,) = xcom(consumer, "summarize_new_images").values()
    latest = max(events, key=lambda e: (e.timestamp, e.id))
    assert summary == [
        {
            "xai_task_id": latest.extra["xai_task_id"],
            "model": "grok-imagine-image",
            "outputs": latest.extra["outputs"],
            "sizes": [len(ObjectStoragePath(u).read_bytes()) for u in latest.extra["outputs"]],
        }
    ]


@pytest.mark.skipif(
    AIRFLOW_VERSION < (3, 3), reason="Asset is unhashable before Airflow 3.3 (attrs asdict of extra)"
)
def test_consumer_reads_every_triggering_event(etl):
    module, _, _ = etl
    run = module.dag.test()
    assert run.state == "success"
    events = asset_events(run.run_id, module.IMAGES.uri)
    fake = [types.SimpleNamespace(extra=e.extra) for e in events]

    summary = module.summarize_new_images.function(triggering_asset_events={module.IMAGES: fake})

    assert [s["xai_task_id"] for s in summary] == [e.extra["xai_task_id"] for e in events]
    assert all(s["sizes"][0] > 0 for s in summary)


def test_verification_fails_on_a_tampered_file(etl):
    module, _, _ = etl
    run = module.dag.test()
    assert run.state == "success"
    results = list(xcom(run, "generate_images").values())
    victim = ObjectStoragePath(results[1]["outputs"][0])
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")

    with pytest.raises(ValueError, match="sha256"):
        module.verify_images.function(results)

    # a file the sidecar does not know is refused too
    sidecar = victim.parent / f"{results[0]['xai_task_id']}.json"
    manifest = json.loads(sidecar.read_text())
    manifest["files"] = []
    sidecar.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="not described"):
        module.verify_images.function(results[:1])
