"""Asset events carry what a consumer needs without XCom (real ``dag.test()`` runs, extra from the DB)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import API_KEY, asset_events, conn_json, load_example

pytestmark = pytest.mark.usefixtures("airflow_db")

#: the emulator's prices (xai-api-contract.md): 0.02 USD an image, per second of 480p video
IMAGE_USD, VIDEO_480P_USD_PER_SECOND = 0.02, 0.05


def test_asset_extra_names_api_model_cost_and_files_on_xais_api(xai_emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_XAI_TRACE", conn_json(xai_emulator.url, api="xai"))
    monkeypatch.setenv("XAI_TEST_OUTPUT", str(tmp_path))
    module = load_example("xai_trace_dag")

    run = module.assets_dag.test()

    assert run.state == "success", {ti.task_id: ti.state for ti in run.get_task_instances()}
    for task_id, asset, model, count, seconds, cost in (
        ("images", module.IMAGES, "grok-imagine-image", 2, 0, 2 * IMAGE_USD),
        ("video", module.VIDEOS, "grok-imagine-video", 1, 6, 6 * VIDEO_480P_USD_PER_SECOND),
    ):
        result = run.get_task_instance(task_id).xcom_pull(task_ids=task_id)
        (event,) = asset_events(run.run_id, asset.uri)
        extra = event.extra
        assert extra == {
            "xai_task_id": result["xai_task_id"],
            "api": "xai",
            "model": model,
            "status": "completed",
            "finished_at": result["finished_at"],
            "outputs": result["outputs"],
            "sidecar": f"file://{tmp_path}/{result['xai_task_id']}.json",
            "media_count": count,
            "video_seconds": seconds,
            "cost_usd": pytest.approx(cost),
        }
        assert extra["finished_at"]
        assert len(extra["outputs"]) == count
        # a consumer reads the files and their description from the extra alone
        sidecar = json.loads((tmp_path / f"{result['xai_task_id']}.json").read_text())
        assert [f["uri"] for f in sidecar["files"]] == extra["outputs"]
        text = json.dumps(extra)
        assert API_KEY not in text
        assert "http" not in text  # no media URL: short-lived, possibly signed
