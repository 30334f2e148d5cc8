"""Drift test, second axis: every path (blocking, poke, deferred) x every API ends the same way.

The same scripted video case runs through the hook's blocking wait, the sensor's poke mode and the
trigger -> ``execute_complete``; on each API the three must end in the same outcome and message, and
the outcome must be the one the case calls for.
"""

from __future__ import annotations

import pytest

from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.sensors.xai import XaiTaskSensor
from airflow_provider_xai.triggers.xai import XaiTaskTrigger
from tests.conftest import run_trigger
from tests.test_drift import outcome

STATUS_PATH = {"gateway": "GET /xai/tasks", "xai": "GET /v1/videos"}
# case: prompt directives, scripted status faults, forced status, expected outcome on every path and API
CASES = {
    "completed": ("", [], None, "success"),
    "failed": ("[xai:failed]", [], None, "XaiTaskFailedError"),
    "moderated": ("[xai:moderated]", [], None, "XaiNoMediaError|XaiTaskFailedError"),
    "unknown-status": ("[xai:unknown-status]", [], None, "success"),
    "transient-faults": ("", ["429", "502html", "503json", "drop"], None, "success"),
    "too-many-faults": ("", ["503json"] * 5, None, "XaiWaitAbortedError"),
    "unknown-task": ("", [], "unknown-task", "XaiNotFoundError"),
    "rate-limited": ("", ["429", "429"], None, "success"),
    "deadline": ("[xai:reads=100000]", [], None, "XaiSensorTimeout"),
}


def prepare(emulator, api, directives, faults, forced):
    """Submit a video scripted for the case; return its id and the words that differ between runs."""
    task_id = XaiHook().submit_video(f"waves {directives}".strip())
    words = {task_id: "<id>"}
    for task in emulator.tasks():
        if task.get("traceId"):
            words[task["traceId"]] = "<trace>"
    if forced == "unknown-task":
        task_id = "unknown-" + task_id
    emulator.script_faults(STATUS_PATH[api], faults)
    return task_id, words


@pytest.mark.parametrize("case", CASES)
def test_every_path_on_every_api_agrees(any_api_conn, context, case):
    emulator, api = any_api_conn, any_api_conn.api
    directives, faults, forced, expected = CASES[case]
    timeout = 0.3 if case == "deadline" else 30

    def sensor(task_id, deferrable):
        return XaiTaskSensor(
            task_id="s", xai_task_id=task_id, poke_interval=0.01, timeout=timeout, deferrable=deferrable
        )

    task_id, words = prepare(emulator, api, directives, faults, forced)
    finisher = sensor(task_id, deferrable=False)
    blocking = outcome(
        lambda: finisher.finish(context, XaiHook().wait(task_id, poll_interval=0.01, timeout=timeout), None),
        words,
    )

    task_id, words = prepare(emulator, api, directives, faults, forced)
    deferring = sensor(task_id, deferrable=True)
    trigger = XaiTaskTrigger(task_id, poll_interval=0.01)
    trigger.deadline = trigger.started_at + timeout
    deferred = outcome(lambda: deferring.execute_complete(context, run_trigger(trigger), None), words)

    task_id, words = prepare(emulator, api, directives, faults, forced)
    poked = outcome(lambda: sensor(task_id, deferrable=False).execute(context), words)

    assert blocking == deferred == poked
    assert blocking[0] in expected.split("|"), blocking
    if blocking[0] == "success":
        assert blocking[1] == f"completed 1 media {api}"
