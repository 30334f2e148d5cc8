"""End to end: the showcase DAG with ``dag.test()`` against the emulator, every task checked."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
from pathlib import Path

import pytest
import requests

from tests.conftest import API_KEY, load_example


@pytest.fixture
def showcase(airflow_db, xai_conn, monkeypatch, tmp_path):
    monkeypatch.setenv("XAI_OUTPUT_PATH", str(tmp_path / "media"))
    module = load_example("example_xai_showcase")
    return module.dag, tmp_path / "media", xai_conn


def test_showcase_runs_every_task_against_the_emulator(showcase):
    dag, media, emulator = showcase
    run = dag.test()
    assert run.state == "success"
    tis = {(ti.task_id, ti.map_index): ti for ti in run.get_task_instances()}
    assert {key[0] for key in tis} == {
        "text_to_image",
        "image_to_image",
        "text_to_video",
        "image_to_video",
        "submit",
        "wait",
        "mapped_images",
    }
    assert all(ti.state == "success" for ti in tis.values()), {k: ti.state for k, ti in tis.items()}
    assert len([k for k in tis if k[0] == "mapped_images"]) == 3
    # one accepted POST per generation: 4 modes + submit + 3 mapped
    assert emulator.count("POST", "/xai/images") == 6
    assert emulator.count("POST", "/xai/videos") == 2
    # every stored file is what the emulator served, and described in its sidecar
    sidecars = sorted(media.glob("*.json"))
    assert len(sidecars) == 8  # 4 modes + sensor + 3 mapped (submit only submits)
    recorded = [json.loads(p.read_text())["request"] for p in sidecars]
    assert recorded.count(None) == 1  # only the sensor, which did not submit, lacks the request
    assert (
        sorted(r["model"] for r in recorded if r) == ["grok-imagine-image"] * 5 + ["grok-imagine-video"] * 2
    )
    for sidecar in sidecars:
        manifest = json.loads(sidecar.read_text())
        assert manifest["status"] == "completed"
        for entry in manifest["files"]:
            stored = pathlib.Path(entry["uri"].removeprefix("file://"))
            assert stored.name.startswith(manifest["xai_task_id"] + "_")
            served = requests.get(entry["url"], timeout=10).content
            assert (
                hashlib.sha256(served).hexdigest()
                == entry["sha256"]
                == hashlib.sha256(stored.read_bytes()).hexdigest()
            )
    assert not list(media.glob(".*partial"))
    assert API_KEY not in "".join(p.read_text() for p in sidecars)


def test_the_key_is_nowhere_under_airflow_home_after_a_run(showcase, capsys):
    dag, media, _ = showcase
    assert dag.test().state == "success"
    home = Path(os.environ["AIRFLOW_HOME"])
    leaks = [p for p in home.rglob("*") if p.is_file() and API_KEY.encode() in p.read_bytes()]
    assert leaks == []
    assert API_KEY not in capsys.readouterr().out
    assert not [p for p in media.rglob("*") if p.is_file() and API_KEY.encode() in p.read_bytes()]
