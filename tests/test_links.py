"""The operator extra link: stored output first, media URL while it lives."""

from __future__ import annotations

import pytest

from airflow_provider_xai.links import XaiOutputLink, output_link
from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator
from airflow_provider_xai.sensors.xai import XaiTaskSensor


@pytest.mark.parametrize(
    ("value", "link"),
    [
        (
            {"outputs": ["s3://aws_default@bucket/xai/t_0.jpeg"], "media_urls": ["https://m/x"]},
            "https://s3.console.aws.amazon.com/s3/object/bucket?prefix=xai/t_0.jpeg",
        ),
        ({"outputs": ["file:///data/t_0.jpeg"], "media_urls": ["https://m/x"]}, "file:///data/t_0.jpeg"),
        ({"outputs": [], "media_urls": ["https://m/x"]}, "https://m/x"),
        ({"outputs": [], "media_urls": []}, ""),
    ],
)
def test_output_link(value, link):
    assert output_link(value) == link


def test_every_operator_has_the_link():
    for cls in (XaiImageOperator, XaiVideoOperator, XaiTaskSensor):
        assert [type(link) for link in cls.operator_extra_links] == [XaiOutputLink]


def test_a_finished_task_pushes_its_link(xai_conn, context):
    result = XaiImageOperator(task_id="i", prompt="a fox", deferrable=False, poll_interval=0.01).execute(
        context
    )
    assert context["ti"].xcom[XaiOutputLink().xcom_key] == result["media_urls"][0]
