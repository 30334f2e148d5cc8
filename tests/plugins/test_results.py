"""What the view reads from a result dict: which files it may serve, and what it says without media."""

from __future__ import annotations

import pytest

from airflow_provider_xai.plugins.results import (
    TaskResult,
    allowed_uris,
    is_xai_operator,
    is_xai_result,
    notice_for,
    sidecar_uri,
)

RESULT = {
    "xai_task_id": "t1",
    "api": "gateway",
    "outputs": ["s3://aws_default@b/p/t1_0.jpeg", "s3://aws_default@b/p/t1_1.jpeg"],
    "media_urls": ["https://cdn/x.jpeg"],
}


def test_only_the_outputs_and_the_sidecar_are_allowed():
    assert sidecar_uri(RESULT) == "s3://aws_default@b/p/t1.json"
    assert allowed_uris(RESULT) == {*RESULT["outputs"], "s3://aws_default@b/p/t1.json"}
    assert allowed_uris({**RESULT, "outputs": []}) == set()  # nothing stored: nothing served
    for value in (None, "t1", {"rows": 3}, ["s3://b/x"]):
        assert allowed_uris(value) == set()
        assert not is_xai_result(value)


@pytest.mark.parametrize(
    ("operator", "value", "state", "says"),
    [
        ("PythonOperator", {"rows": 3}, "success", "This task produced no xAI media: it is not one of"),
        ("_PythonDecoratedOperator", None, "success", "not one of the xAI provider's tasks"),
        ("XaiImageOperator", "t9", "success", "submitted xAI task t9 without waiting"),
        ("XaiVideoOperator", None, "failed", "it failed before delivering any"),
        ("XaiTaskSensor", None, "deferred", "No xAI media yet: the task is deferred"),
        ("_XaiImageDecoratedOperator", None, "running", "No xAI media yet: the task is running"),
    ],
)
def test_what_a_task_without_media_says(operator, value, state, says):
    result = TaskResult("d", "r", "t", -1, value, operator=operator, state=state)
    assert says in notice_for(result)


def test_the_providers_classes_are_recognised():
    assert all(is_xai_operator(name) for name in ("XaiImageOperator", "XaiTaskSensor", "MyXaiImageOperator"))
    assert not any(is_xai_operator(name) for name in (None, "", "BashOperator"))
    assert notice_for(None) == "No such task instance in this DAG run."
