"""OpenLineage naming and facets without the provider's listener: pure naming, then the operators' methods."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_provider_xai.lineage import DatasetRef, dataset_ref, lineage_refs
from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator
from tests.conftest import API_KEY


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://aws_default@bucket/xai/a_0.jpeg", ("s3://bucket", "xai/a_0.jpeg")),
        ("s3://bucket/a.mp4", ("s3://bucket", "a.mp4")),
        ("s3a://bucket/a.mp4", ("s3://bucket", "a.mp4")),
        ("gcs://bucket/dir/a.png", ("gs://bucket", "dir/a.png")),
        ("file:///data/xai/a_0.jpeg", ("file", "/data/xai/a_0.jpeg")),
        ("file://localhost/data/a.jpeg", ("file", "/data/a.jpeg")),
        ("file://nas1/data/a.jpeg", ("file://nas1", "/data/a.jpeg")),
        ("/data/xai/a.jpeg", ("file", "/data/xai/a.jpeg")),
        ("https://cdn.example.com/a/b.png?X-Amz-Signature=abc#f", ("https://cdn.example.com", "/a/b.png")),
        ("https://u:p@CDN.example.com:8443/b.png", ("https://cdn.example.com:8443", "/b.png")),
        ("http://127.0.0.1:8089/media/x.jpeg", ("http://127.0.0.1:8089", "/media/x.jpeg")),
        ("https://cdn.example.com", ("https://cdn.example.com", "/")),
    ],
)
def test_dataset_names_follow_openlineage(uri, expected):
    ref = dataset_ref(uri)
    assert (ref.namespace, ref.name) == expected


@pytest.mark.parametrize("uri", [None, "", "data:image/png;base64,iVBORw0KGgo=", "s3://bucket", 42])
def test_what_names_no_dataset(uri):
    assert dataset_ref(uri) is None


def test_a_relative_local_path_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert dataset_ref("media/a.jpeg") == DatasetRef("file", f"{tmp_path}/media/a.jpeg")


def test_a_failed_try_has_sources_and_no_outputs():
    op = XaiVideoOperator(
        task_id="v", prompt="p", video_url="https://cdn.example.com/v.mp4?sig=1", video_operation="edit"
    )
    seen = {"xai_task_id": "r1", "request": {"video": {"url": "https://cdn.example.com/v.mp4?sig=1"}}}
    refs = lineage_refs(op, seen, failed=True)
    assert refs.inputs == [DatasetRef("https://cdn.example.com", "/v.mp4")]
    assert refs.outputs == []
    assert refs.facet["xaiTaskId"] == "r1" and refs.facet["status"] is None


def test_the_prompt_and_the_upload_target_are_not_sources():
    op = XaiImageOperator(task_id="i", prompt="draw https://example.com/logo.png")
    seen = {"request": {"prompt": "draw https://example.com/logo.png", "delivery": {"uri": "s3://b/k.mp4"}}}
    assert lineage_refs(op, seen, failed=False).inputs == []


# ---- the operators' methods, with the OpenLineage client but without its listener --------------------


def test_on_complete_after_a_blocking_run(xai_api_conn, context, tmp_path):
    pytest.importorskip("airflow.providers.openlineage")
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_xai.lineage_facets import XaiGenerationRunFacet

    op = XaiImageOperator(
        task_id="img",
        prompt="two foxes",
        n=2,
        image_urls=["https://cdn.example.com/fox.png"],
        output_path=str(tmp_path),
    )
    result = op.execute(context)

    lineage = op.get_openlineage_facets_on_complete(None)
    assert isinstance(lineage, OperatorLineage)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("https://cdn.example.com", "/fox.png")]
    assert sorted(d.name for d in lineage.outputs) == sorted(
        u.removeprefix("file://") for u in result["outputs"]
    )
    for dataset in lineage.outputs:
        assert dataset.namespace == "file"
        assert (
            dataset.outputFacets["outputStatistics"].size
            == (tmp_path / dataset.name.rsplit("/")[-1]).stat().st_size
        )
    facet = lineage.run_facets["xaiGeneration"]
    assert isinstance(facet, XaiGenerationRunFacet)
    assert (facet.xaiTaskId, facet.api, facet.mediaCount) == (result["xai_task_id"], "xai", 2)
    assert facet.costUsd == result["usage"]["cost_usd"]
    # a failure later in the same try would say what was known
    failed = op.get_openlineage_facets_on_failure(None)
    assert failed.outputs == [] and failed.run_facets["xaiGeneration"].xaiTaskId == result["xai_task_id"]


def test_on_failure_before_anything_was_sent(xai_conn, context):
    pytest.importorskip("airflow.providers.openlineage")
    op = XaiImageOperator(task_id="img", prompt="x", aspect_ratio="4:3", image_url="https://a.example/x.png")
    with pytest.raises(Exception, match="aspect_ratio"):
        op.execute(context)
    lineage = op.get_openlineage_facets_on_failure(None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("https://a.example", "/x.png")]
    facet = lineage.run_facets["xaiGeneration"]
    assert facet.xaiTaskId is None and facet.status is None
    assert API_KEY not in json.dumps(facet.__dict__ if hasattr(facet, "__dict__") else str(facet))


def test_the_provider_works_without_openlineage_installed():
    # the OpenLineage client and the provider's extractors are unimportable: every module imports
    code = """
import sys
for name in ("openlineage", "openlineage.client", "airflow.providers.openlineage.extractors"):
    sys.modules[name] = None
import airflow_provider_xai.operators.xai, airflow_provider_xai.sensors.xai
import airflow_provider_xai.decorators.xai, airflow_provider_xai.lineage
from airflow_provider_xai.lineage import dataset_ref
assert dataset_ref("s3://b/k").namespace == "s3://b"
from airflow_provider_xai.get_provider_info import get_provider_info
get_provider_info()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_importing_the_provider_does_not_import_openlineage():
    code = """
import sys
import airflow_provider_xai.operators.xai, airflow_provider_xai.sensors.xai, airflow_provider_xai.lineage
# Airflow's provider discovery reads every provider's get_provider_info; nothing more may be imported
print(sorted(m for m in sys.modules if m.startswith(("openlineage", "airflow.providers.openlineage."))
             and m != "airflow.providers.openlineage.get_provider_info"))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
