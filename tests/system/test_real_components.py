"""System test: the showcase DAG on the real Airflow components, against the emulator.

The api-server, scheduler (LocalExecutor), dag-processor and triggerer run as subprocesses in a fresh
``AIRFLOW_HOME``; the run is triggered and watched through the REST API, the way a user would.
"""

from __future__ import annotations

import json
import re
import time
import warnings

import pytest

from tests.system.stack import AirflowStack, redact

DAG_ID = "example_xai_showcase"
TERMINAL_RUN_STATES = {"success", "failed"}
#: (task_id, map_index) of every task instance of the showcase DAG
EXPECTED_TIS = {
    ("text_to_image", -1),
    ("image_to_image", -1),
    ("text_to_video", -1),
    ("image_to_video", -1),
    ("submit", -1),
    ("wait", -1),
    ("mapped_images", 0),
    ("mapped_images", 1),
    ("mapped_images", 2),
}
#: the task instances that always wait in the triggerer: the operators check the status right after
#: submitting, so they always defer. The sensor ``wait`` starts seconds after ``submit`` and finishes without
#: deferring when the remote task is already done; ``submit`` only submits.
DEFERRING_TIS = EXPECTED_TIS - {("submit", -1), ("wait", -1)}
TRIGGER_LOG_PATH = re.compile(r"task_id=(?P<task>[^/]+)/(?:map_index=(?P<map>-?\d+)/)?[^/]*trigger[^/]*$")


def stale_event_race(scheduler_log: str, run_id: str, task_id: str, map_index: int) -> bool:
    """Whether the scheduler failed this task's resumed try on the stale success of its defer-exit."""
    mapped = f" map_index={map_index}" if map_index >= 0 else ""
    pattern = (
        rf"<TaskInstance: {DAG_ID}\.{task_id} {re.escape(run_id)}{mapped} \[(?:scheduled|queued|running)\]"
        r"[^\n]*finished with state success, but the task instance's state attribute is "
    )
    return re.search(pattern, scheduler_log) is not None


def wait_for_run(stack: AirflowStack, run_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    run: dict = {}
    while time.monotonic() < deadline:
        answer = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
        if answer.status_code == 200:
            run = answer.json()
            if run["state"] in TERMINAL_RUN_STATES:
                return run
        time.sleep(1)
    pytest.fail(
        f"run {run_id} not terminal after {timeout:.0f} s (state {run.get('state')})\n"
        f"{task_states(stack, run_id)}\n{stack.diagnostics()}"
    )


def task_instances(stack: AirflowStack, run_id: str) -> list[dict]:
    answer = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return answer.json()["task_instances"]


def task_states(stack: AirflowStack, run_id: str) -> str:
    try:
        tis = task_instances(stack, run_id)
    except Exception as exc:  # only for a failure message
        return f"<task instances unavailable: {type(exc).__name__}>"
    return "task states: " + ", ".join(
        f"{ti['task_id']}[{ti['map_index']}]={ti['state']} (try {ti['try_number']})" for ti in tis
    )


@pytest.mark.system
@pytest.mark.timeout(170)
def test_showcase_dag_on_real_components(airflow_stack, system_emulator, system_api_key):
    stack = airflow_stack
    started = time.monotonic()
    stack.wait_until_ready(DAG_ID, timeout=90)
    ready = time.monotonic()

    answer = stack.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
    assert answer.status_code == 200, f"{answer.status_code} {answer.text}\n{stack.diagnostics()}"
    run_id = answer.json()["dag_run_id"]

    run = wait_for_run(stack, run_id, timeout=100)
    print(f"ready after {ready - started:.1f} s; run {run['state']} after {time.monotonic() - ready:.1f} s")
    states = task_states(stack, run_id)
    assert run["state"] == "success", f"run {run['state']}\n{states}\n{stack.diagnostics()}"

    # every task instance, the three mapped ones included, succeeded on its first try
    tis = {(ti["task_id"], ti["map_index"]): ti for ti in task_instances(stack, run_id)}
    assert set(tis) == EXPECTED_TIS, states
    assert all(ti["state"] == "success" for ti in tis.values()), f"{states}\n{stack.diagnostics()}"
    # A second try is accepted only where the scheduler shows Airflow's stale defer-exit race
    # (apache/airflow#72716, #71580; unfixed in 3.3.2): it fails the resumed try, and the DAG's retry
    # then reattaches to the same remote task (no second POST, checked below).
    retried = sorted(key for key, ti in tis.items() if ti["try_number"] != 1)
    if retried:
        scheduler_log = stack.log_paths["scheduler"].read_text(errors="replace")
        unexplained = [key for key in retried if not stale_event_race(scheduler_log, run_id, *key)]
        assert not unexplained, f"unexpected retries {unexplained}\n{states}\n{stack.diagnostics()}"
        warnings.warn(
            f"Airflow's stale defer-exit event race (apache/airflow#72716) retried {retried}", stacklevel=1
        )

    # one accepted create request per generating task: 4 modes + submit + 3 mapped
    requests_seen = [(r["method"], r["path"], r["status"]) for r in system_emulator.requests_log()]
    posts = [r for r in requests_seen if r[0] == "POST"]
    assert system_emulator.count("POST", "/xai/images") == 6, posts
    assert system_emulator.count("POST", "/xai/videos") == 2, posts
    assert len(posts) == 8, posts  # and no rejected or retried POST either

    # the waits ran in the triggerer: one trigger log per deferring task instance, naming the trigger
    logs = stack.home / "logs"
    trigger_logs: dict[tuple[str, int], list] = {}
    for path in logs.rglob("*trigger*"):
        match = TRIGGER_LOG_PATH.search(path.relative_to(logs).as_posix())
        if path.is_file() and match:
            key = (match["task"], int(match["map"]) if match["map"] is not None else -1)
            trigger_logs.setdefault(key, []).append(path)
    all_logs = sorted(p.relative_to(logs).as_posix() for p in logs.rglob("*") if p.is_file())
    listing = f"trigger logs: {sorted(trigger_logs)}\nall logs: {all_logs}"
    assert DEFERRING_TIS <= set(trigger_logs) <= DEFERRING_TIS | {("wait", -1)}, listing
    if ("wait", -1) not in trigger_logs:
        wait_log = "\n".join(p.read_text(errors="replace") for p in logs.rglob("task_id=wait/attempt=*.log"))
        assert "finishing without deferring" in wait_log, listing
    for key, paths in trigger_logs.items():
        text = "\n".join(p.read_text(errors="replace") for p in paths)
        for needle in (") starting", "Trigger fired event", "'reason': 'terminal'", "'status': 'completed'"):
            assert needle in text, f"{key}: no {needle!r} in\n{redact(text[-2000:], system_api_key)}"
        assert "trigger completed" in text, f"{key}: {redact(text[-2000:], system_api_key)}"

    # the media landed in XAI_OUTPUT_PATH: one sidecar per waiting task (submit only submits)
    sidecars = sorted(stack.output_path.glob("*.json"))
    assert len(sidecars) == 8, sorted(p.name for p in stack.output_path.iterdir())
    for sidecar in sidecars:
        manifest = json.loads(sidecar.read_text())
        assert manifest["status"] == "completed", sidecar.name
        assert manifest["files"], sidecar.name
        for entry in manifest["files"]:
            assert (stack.output_path / entry["uri"].rsplit("/", 1)[-1]).is_file(), entry["uri"]

    # the key never reached a log or an output file
    key = system_api_key.encode()
    leaked = [str(p) for p in stack.home.parent.rglob("*") if p.is_file() and key in p.read_bytes()]
    assert not leaked, f"the API key appears in: {leaked}"
