"""The operator extra link: stored output first, media URL while it lives."""

from __future__ import annotations

import pytest

from airflow_provider_xai.links import output_link
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


@pytest.mark.parametrize("kind", ["image", "video", "sensor"])
def test_every_finished_task_pushes_the_link_its_operator_shows(xai_conn, context, kind):
    from airflow_provider_xai.hooks.xai import XaiHook

    op = {
        "image": lambda: XaiImageOperator(task_id="i", prompt="a fox", deferrable=False, poll_interval=0.01),
        "video": lambda: XaiVideoOperator(task_id="v", prompt="waves", deferrable=False, poll_interval=0.01),
        "sensor": lambda: XaiTaskSensor(
            task_id="s", xai_task_id=XaiHook().submit_image("a fox"), deferrable=False, poke_interval=0.01
        ),
    }[kind]()
    result = op.execute(context)
    (link,) = op.operator_extra_links  # the button the UI shows reads what the task pushed
    assert context["ti"].xcom[link.xcom_key] == result["media_urls"][0] == output_link(result)
