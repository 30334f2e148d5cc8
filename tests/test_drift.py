"""Drift test: the blocking wait and trigger -> execute_complete end in the same outcome and message."""

from __future__ import annotations

import pytest

from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.operators.xai import XaiImageOperator
from airflow_provider_xai.triggers.xai import XaiTaskTrigger
from tests.conftest import run_trigger

# case: (prompt, scripted status faults, forced status)
CASES = {
    "completed": ("a fox", [], None),
    "failed": ("a fox [xai:failed]", [], None),
    "cancelled": ("a fox [xai:cancelled]", [], None),
    "timeout-status": ("a fox [xai:timeout]", [], None),
    "no-media": ("a fox [xai:nomedia]", [], None),
    "moderated": ("a fox [xai:moderated]", [], None),
    "unknown-status": ("a fox [xai:unknown-status]", [], None),
    "transient-faults": ("a fox", ["429", "502html", "503json", "drop"], None),
    "too-many-faults": ("a fox", ["503json"] * 5, None),
    "deadline": ("a fox", [], "processing"),
    "unknown-task": ("a fox", [], "unknown-task"),
}


def prepare(emulator, prompt, faults, forced):
    """Submit a task scripted for the case; return its id and the words that differ between tasks."""
    task_id = XaiHook().submit_image(prompt)
    trace_id = next(t["traceId"] for t in emulator.tasks() if t["taskId"] == task_id)
    if forced == "unknown-task":
        task_id = "unknown-" + task_id
    elif forced:
        emulator.force_status(task_id, forced)
    emulator.script_faults("GET /xai/tasks", faults)
    return task_id, {task_id: "<id>", trace_id: "<trace>"}


def outcome(fn, words):
    """Return (kind, text) of a run, with task-specific words replaced."""
    try:
        result = fn()
        kind, text = "success", f"{result['status']} {len(result['media_urls'])} media {result['api']}"
    except Exception as exc:  # noqa: BLE001 - the outcome is the exception itself
        kind, text = type(exc).__name__, str(exc)
    for word, placeholder in words.items():
        text = text.replace(word, placeholder)
    return kind, text


@pytest.mark.parametrize("case", CASES)
def test_blocking_and_deferred_paths_agree(xai_conn, context, case):
    prompt, faults, forced = CASES[case]
    timeout = 0.3 if forced == "processing" else 30
    op = XaiImageOperator(task_id="t", prompt=prompt, poll_interval=0.01, timeout=timeout)

    task_id, words = prepare(xai_conn, prompt, faults, forced)
    blocking = outcome(
        lambda: op.finish(context, op.hook.wait(task_id, poll_interval=0.01, timeout=timeout), None), words
    )

    task_id, words = prepare(xai_conn, prompt, faults, forced)
    trigger = XaiTaskTrigger(task_id, poll_interval=0.01)
    trigger.deadline = trigger.started_at + timeout
    deferred = outcome(lambda: op.execute_complete(context, run_trigger(trigger)), words)

    assert deferred == blocking
    expected_kind = {
        "completed": "success",
        "unknown-status": "success",
        "transient-faults": "success",
        "failed": "XaiTaskFailedError",
        "cancelled": "XaiTaskFailedError",
        "timeout-status": "XaiTaskFailedError",
        "no-media": "XaiNoMediaError",
        "moderated": "XaiNoMediaError",
        "too-many-faults": "XaiWaitAbortedError",
        "deadline": "XaiWaitTimeoutError",
        "unknown-task": "XaiNotFoundError",
    }[case]
    assert blocking[0] == expected_kind, blocking
