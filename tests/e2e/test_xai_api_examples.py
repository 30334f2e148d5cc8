"""End to end: the examples for xAI's own API, each run with ``dag.test()`` against the emulator (api xai)."""

from __future__ import annotations

import hashlib
import json
import pathlib
import re

import pytest
import requests

from tests.conftest import API_KEY, load_example
from tests.storage.s3 import moto_s3  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("airflow_db")

#: the emulator's prices (xai-api-contract.md): 0.02 USD an image, +0.002 per edit source, per second of video
IMAGE_USD, EDIT_SOURCE_USD = 0.02, 0.002
VIDEO_USD_PER_SECOND = {"480p": 0.05, "720p": 0.07}


@pytest.fixture
def xai_api(xai_emulator, monkeypatch, tmp_path):
    """Point ``xai_api`` (the examples' connection) at the emulator's xAI API; outputs under tmp_path."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_XAI_API",
        json.dumps(
            {"conn_type": "xai", "host": xai_emulator.url, "password": API_KEY, "extra": {"api": "xai"}}
        ),
    )
    monkeypatch.setenv("XAI_OUTPUT_PATH", str(tmp_path))
    return xai_emulator


def run_example(name: str):
    run = load_example(name).dag.test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert set(states.values()) == {"success"}
    return run


def result_of(run, task_id: str) -> dict:
    (ti,) = [ti for ti in run.get_task_instances() if ti.task_id == task_id]
    return ti.xcom_pull(task_ids=task_id)


def check_stored(result: dict, folder: pathlib.Path) -> dict:
    """Every output is a file whose bytes are what the service served, described in the sidecar."""
    manifest = json.loads((folder / f"{result['xai_task_id']}.json").read_text())
    assert manifest["api"] == "xai"
    assert manifest["status"] == "completed"
    assert manifest["cost_usd"] == result["usage"]["cost_usd"]
    assert [entry["uri"] for entry in manifest["files"]] == result["outputs"]
    for entry in manifest["files"]:
        stored = pathlib.Path(entry["uri"].removeprefix("file://"))
        assert stored.parent == folder
        assert stored.name.startswith(result["xai_task_id"] + "_")
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == entry["sha256"]
        assert hashlib.sha256(requests.get(entry["url"], timeout=10).content).hexdigest() == entry["sha256"]
    assert API_KEY not in json.dumps(manifest)
    return manifest


def test_several_images_in_one_task(xai_api, tmp_path):
    run = run_example("example_xai_several_images")

    result = result_of(run, "variations")
    assert result["api"] == "xai"
    assert result["xai_task_id"].startswith("xai-img-")
    assert result["model"] == "grok-imagine-image"
    assert len(result["media_urls"]) == len(result["outputs"]) == 4
    assert result["usage"]["media_count"] == 4
    assert result["usage"]["cost_usd"] == pytest.approx(4 * IMAGE_USD)
    manifest = check_stored(result, tmp_path / "several_images")
    assert manifest["request"]["n"] == 4
    assert sorted(p.suffix for p in (tmp_path / "several_images").iterdir()) == [".jpeg"] * 4 + [".json"]
    # one synchronous request, nothing polled
    assert xai_api.count("POST", "/v1/images/generations") == 1
    assert xai_api.count("GET", "/v1/videos") == 0


def test_edit_from_the_previous_tasks_images(xai_api, tmp_path):
    run = run_example("example_xai_edit_from_sources")

    sources, collage = result_of(run, "sources"), result_of(run, "collage")
    assert len(sources["media_urls"]) == 3
    assert sources["usage"]["cost_usd"] == pytest.approx(3 * IMAGE_USD)
    assert len(collage["outputs"]) == 1
    assert collage["model"] == "grok-imagine-image-2.0"
    # an edit bills its three inputs too
    assert collage["usage"]["cost_usd"] == pytest.approx(IMAGE_USD + 3 * EDIT_SOURCE_USD)
    folder = tmp_path / "edit_from_sources"
    check_stored(sources, folder)
    manifest = check_stored(collage, folder)
    assert [image["url"] for image in manifest["request"]["images"]] == sources["media_urls"]
    assert manifest["request"]["quality"] == "high"
    assert xai_api.count("POST", "/v1/images/generations") == 1
    assert xai_api.count("POST", "/v1/images/edits") == 1
    assert len(list(folder.glob("*.jpeg"))) == 4


def test_video_extended_from_the_previous_tasks_video(xai_api, tmp_path):
    run = run_example("example_xai_extend_video")

    clip, extended = result_of(run, "clip"), result_of(run, "extended")
    assert clip["api"] == extended["api"] == "xai"
    assert clip["usage"]["video_seconds"] == 6
    assert clip["usage"]["cost_usd"] == pytest.approx(6 * VIDEO_USD_PER_SECOND["480p"])
    # the extension reports the whole video's length and bills the seconds it added
    assert extended["usage"]["video_seconds"] == 10
    assert extended["usage"]["cost_usd"] == pytest.approx(4 * VIDEO_USD_PER_SECOND["480p"])
    folder = tmp_path / "extend_video"
    check_stored(clip, folder)
    manifest = check_stored(extended, folder)
    assert manifest["request"]["video"] == {"url": clip["media_urls"][0]}
    assert manifest["request"]["duration"] == 4
    assert xai_api.count("POST", "/v1/videos/generations") == 1
    assert xai_api.count("POST", "/v1/videos/extensions") == 1
    assert len(list(folder.glob("*.mp4"))) == 2
    assert xai_api.uploads() == []


def test_video_uploaded_straight_into_s3(xai_api, moto_s3, monkeypatch, caplog, capfd):  # noqa: F811
    output = moto_s3.folder("videos")
    monkeypatch.setenv("XAI_S3_OUTPUT_PATH", output)

    run = run_example("example_xai_video_to_s3")

    result = result_of(run, "teaser")
    (uri,) = result["outputs"]
    folder = f"{output}/{(run.logical_date or run.run_after).strftime('%Y-%m-%d')}"
    assert uri.startswith(folder + "/xai-video-") and uri.endswith("_0.mp4")
    assert result["usage"]["cost_usd"] == pytest.approx(8 * VIDEO_USD_PER_SECOND["720p"])
    # the object arrived: an MP4 that the service PUT itself
    video = moto_s3.read(uri)
    assert video[4:8] == b"ftyp"
    (upload,) = xai_api.uploads()
    assert upload["ok"] and upload["bytes"] == len(video)
    assert upload["request_id"] == result["xai_task_id"]
    # ... and nothing was downloaded from the service's media URL
    media_gets = [
        e for e in xai_api.requests_log() if e["method"] == "GET" and e["path"].startswith("/media/")
    ]
    assert media_gets == []
    # the sidecar: md5 from S3's ETag, no sha256 (nothing was downloaded), no signed URL anywhere
    name = uri.rsplit("/", 1)[1]
    keys = moto_s3.keys(folder)
    sidecar_uri = f"{folder}/{result['xai_task_id']}.json"
    assert sorted(key.rsplit("/", 1)[1] for key in keys) == sorted([name, f"{result['xai_task_id']}.json"])
    manifest = json.loads(moto_s3.read(sidecar_uri))
    (entry,) = manifest["files"]
    assert entry["delivery"] == "upload" and entry["url"] is None and entry["sha256"] is None
    assert entry["md5"] == hashlib.md5(video).hexdigest()
    assert manifest["request"]["delivery"] == {
        "mode": "upload",
        "uri": uri,
        "name": name.removesuffix("_0.mp4"),
    }
    assert manifest["cost_usd"] == result["usage"]["cost_usd"]
    assert "upload_url" not in json.dumps(manifest)
    # the signed URL is a credential: moto saw it (its access log), the task's logs and XCom never did
    (put,) = [line for line in caplog.text.splitlines() if '"PUT ' in line and name in line]
    signature = re.search(r"[?&](?:X-Amz-)?Signature=([^& ]+)", put).group(1)
    task_logs = capfd.readouterr()
    assert "will upload the video" in task_logs.out + task_logs.err
    for text in (task_logs.out, task_logs.err, json.dumps(result), json.dumps(manifest)):
        assert signature not in text


def test_the_demo_gallery_lists_parameters_and_costs(xai_api, tmp_path):
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("demo_gallery", ROOT / "scripts" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    run = run_example("example_xai_edit_from_sources")
    sources = result_of(run, "sources")

    page = gallery.write_gallery(tmp_path).read_text()

    # one rendering: the gallery is the package's page, the one the Airflow UI's media view shows
    from airflow_provider_xai.plugins import render

    assert gallery.render_page is render.render_page
    assert 'data-testid="xai-media-page"' in page
    assert page.count('data-testid="xai-medium"') == 4
    assert page.count('data-testid="xai-generation"') == 2  # one card per request
    assert "xAI&#39;s own API (api.x.ai)" in page and "4 files, 0.0860 USD" in page
    assert "0.0600 USD for 3 files" in page and "0.0260 USD" in page
    # parameters as a short list, never the raw request JSON; every source URL is a link
    params = re.findall(r'<dl data-testid="xai-params">(.*?)</dl>', page, re.S)
    assert len(params) == 2 and all("{" not in p and "response_format" not in p for p in params)
    assert re.search(r"<dt>quality</dt><dd>high</dd>", page) and re.search(r"<dt>images</dt><dd>3</dd>", page)
    assert "<dt>source images (3)</dt>" in page
    for url in sources["media_urls"]:
        assert f'<a href="{url}" rel="noreferrer">{url}</a>' in page
    assert 'src="edit_from_sources/' in page
    assert "overflow-wrap: anywhere" in page and "prefers-color-scheme: dark" in page
