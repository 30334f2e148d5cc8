"""on_kill: the service has no cancel endpoint, so say clearly that the remote task may still run."""

from __future__ import annotations

import asyncio

from airflow_provider_xai.operators.xai import XaiImageOperator
from airflow_provider_xai.triggers.xai import XaiTaskTrigger


def test_operator_on_kill_names_the_remote_task(capsys):
    op = XaiImageOperator(task_id="img", prompt="a fox")
    op._xai_task_id = "remote-123"
    op.on_kill()
    out = capsys.readouterr().out
    assert "remote-123" in out and "may still run and be billed" in out


def test_trigger_on_kill_names_the_remote_task_and_cleanup_does_nothing(capsys):
    trigger = XaiTaskTrigger(xai_task_id="remote-456")
    asyncio.run(trigger.on_kill())
    asyncio.run(trigger.cleanup())  # runs on every triggerer restart: must never act on the remote task
    out = capsys.readouterr().out
    assert "remote-456" in out and "may still run and be billed" in out
    assert "XaiTaskTrigger" not in type(trigger).cleanup.__qualname__  # cleanup is the base no-op
