"""XaiTaskSensor in poke mode and deferred mode: the same result through the same finish."""

from __future__ import annotations

import pytest

from airflow_provider_xai.exceptions import XaiError, XaiNoMediaError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.sensors.xai import XaiTaskSensor
from tests.compat import TaskDeferred
from tests.conftest import run_trigger


def sensor(task_id, **kwargs):
    return XaiTaskSensor(task_id="wait", xai_task_id=task_id, poke_interval=0.01, timeout=30, **kwargs)


def test_poke_mode_returns_the_result(xai_conn, context):
    task_id = XaiHook().submit_image("a fox")
    result = sensor(task_id, deferrable=False).execute(context)
    assert result["xai_task_id"] == task_id and result["status"] == "completed" and result["media_urls"]


def test_deferred_mode_returns_the_same_result(xai_conn, context):
    hook = XaiHook()
    task_id = hook.submit_image("a fox")
    op = sensor(task_id)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    result = op.execute_complete(context, run_trigger(deferred.value.trigger), **deferred.value.kwargs)
    poked = sensor(task_id, deferrable=False).execute(context)
    assert result == poked


def test_poke_survives_transient_faults(xai_conn, context):
    task_id = XaiHook().submit_image("a fox")
    xai_conn.script_faults("GET /xai/tasks", ["429", "drop", "502html"])
    assert sensor(task_id, deferrable=False).execute(context)["status"] == "completed"


def test_poke_and_deferred_fail_alike(xai_conn, context):
    task_id = XaiHook().submit_image("a fox [xai:nomedia]")
    with pytest.raises(XaiNoMediaError) as poked:
        sensor(task_id, deferrable=False).execute(context)
    op = sensor(task_id)
    with pytest.raises(XaiNoMediaError) as deferred:
        op.execute(context)  # already terminal: finishes before deferring
    assert str(poked.value) == str(deferred.value)


@pytest.mark.parametrize("bad", ["", "   ", None])
def test_empty_task_id_fails_clearly(context, bad):
    with pytest.raises(XaiError, match="xai_task_id"):
        sensor(bad).execute(context)
