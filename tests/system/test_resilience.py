"""System tests: the provider on the real Airflow components when processes die, tasks are cleared, keys fail.

Each test starts api-server, scheduler (LocalExecutor), dag-processor and triggerer in a fresh
``AIRFLOW_HOME`` (see ``stack.py``) with a dags folder holding copies of only the DAG files it runs, and
drives Airflow through the REST API while the emulator counts what the service would have billed.
"""

from __future__ import annotations

import os
import pathlib
import secrets
import signal
import time

import pytest

from tests.system.stack import AirflowStack, copy_dags, free_port, redact

MANY_DAG = "xai_sys_many"
MANY_COUNT = 12
#: how long each remote task of ``xai_sys_many`` runs: long enough for ten of them to be deferred at once
SECONDS = 25.0
RETRY_DAG = "xai_test_retry"
NO_REATTACH_DAG = "xai_sys_noreattach"


def posts_by_prompt(emulator) -> dict[str, int]:
    """How many remote tasks the emulator created for each prompt (accepted POSTs only create one)."""
    counts: dict[str, int] = {}
    for task in emulator.tasks():
        prompt = task["body"]["prompt"]
        counts[prompt] = counts.get(prompt, 0) + 1
    return counts


def only_ti(stack: AirflowStack, dag_id: str, run_id: str) -> dict:
    tis = stack.task_instances(dag_id, run_id)
    assert len(tis) == 1, stack.task_states(dag_id, run_id)
    return tis[0]


def attempt_log(stack: AirflowStack, dag_id: str, run_id: str, try_number: int) -> str:
    """The task log of one try of task ``generate`` (the worker's part, without the trigger's)."""
    folder = stack.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / "task_id=generate"
    paths = sorted(folder.glob(f"attempt={try_number}*.log"))
    paths = [p for p in paths if "trigger" not in p.name] or paths
    listing = sorted(p.name for p in folder.glob("*")) if folder.exists() else "<no folder>"
    assert paths, f"no log of try {try_number} in {folder}: {listing}"
    return "\n".join(p.read_text(errors="replace") for p in paths)


def worker_pids(ti_id: str) -> list[int]:
    """The task runners of a task instance (the task SDK titles them ``airflow worker -- <ti id>``)."""
    title = f"airflow worker -- {ti_id}".encode()
    pids = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title in cmdline.replace(b"\0", b" "):
            pids.append(int(entry.name))
    return pids


# ---- 1. the triggerer dies while its triggers wait ------------------------------------------------------


@pytest.mark.system
@pytest.mark.timeout(240)
def test_triggerer_sigkilled_while_tasks_deferred(airflow_stack_factory, system_emulator, tmp_path):
    started = time.monotonic()
    stack = airflow_stack_factory(
        copy_dags(tmp_path / "dags", "xai_sys_many_dag"),
        XAI_SYS_MANY_COUNT=str(MANY_COUNT),
        XAI_SYS_MANY_SECONDS=str(SECONDS),
    )
    stack.wait_until_ready(MANY_DAG, timeout=90)
    ready = time.monotonic()
    run_id = stack.trigger(MANY_DAG)

    def ten_deferred() -> list[dict] | None:
        tis = stack.task_instances(MANY_DAG, run_id)
        deferred = [ti for ti in tis if ti["state"] == "deferred"]
        return deferred if len(deferred) >= 10 else None

    deferred = stack.wait_for(">= 10 deferred task instances", ten_deferred, timeout=75)
    # a loaded machine can defer tasks before the triggerer runs (and logs) their triggers: kill it only
    # once it really waits on them, so that there is a wait to take over
    stack.wait_for("the triggerer's trigger logs", lambda: set(trigger_logs(stack)), timeout=45)
    stack.kill("triggerer")
    killed_at = time.time()
    old_trigger_logs = set(trigger_logs(stack))
    remote = system_emulator.tasks()
    margin = SECONDS - (killed_at - min(_epoch(t["createdAt"]) for t in remote))
    running = sum(t["status"] not in ("completed", "failed") for t in remote)
    stack.start("triggerer", name="triggerer-2", AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()))
    deferred_at_kill = sorted(ti["map_index"] for ti in deferred)
    print(
        f"ready after {ready - started:.1f} s; {len(deferred_at_kill)} deferred "
        f"{time.monotonic() - ready:.1f} s after the trigger; {running}/{len(remote)} remote tasks "
        f"running, the first one for {margin:.1f} s more"
    )

    run = stack.wait_for_run(MANY_DAG, run_id, timeout=120)
    print(f"run {run['state']} {time.monotonic() - ready:.1f} s after the trigger")
    states_text = stack.task_states(MANY_DAG, run_id)
    assert run["state"] == "success", f"{states_text}\n{stack.diagnostics()}"

    tis = {ti["map_index"]: ti for ti in stack.task_instances(MANY_DAG, run_id)}
    assert sorted(tis) == list(range(MANY_COUNT)), states_text
    not_first_try = {i: (ti["state"], ti["try_number"]) for i, ti in tis.items()}
    not_first_try = {i: v for i, v in not_first_try.items() if v != ("success", 1)}
    assert not not_first_try, f"not a first-try success: {not_first_try}\n{states_text}"
    # the task instances deferred at the kill finished after it: their triggers moved to the new triggerer
    for index in deferred_at_kill:
        end = tis[index]["end_date"]
        assert end is not None and _epoch(end) > killed_at, (index, end, killed_at)

    # exactly one accepted POST per task instance, none rejected: no duplicate and no lost generation
    requests_seen = system_emulator.requests_log()
    posts = [(r["path"], r["status"]) for r in requests_seen if r["method"] == "POST"]
    assert system_emulator.count("POST", "/xai/images") == MANY_COUNT, posts
    assert len(posts) == MANY_COUNT, posts
    prompts = posts_by_prompt(system_emulator)
    expected = {f"lantern number {i} [xai:seconds={SECONDS}]": 1 for i in range(MANY_COUNT)}
    assert prompts == expected, prompts
    # ... and every remote task was delivered: one sidecar per remote task
    created = {t["taskId"] for t in system_emulator.tasks()}
    delivered = {p.stem for p in stack.output_path.glob("*.json")}
    assert delivered == created, f"delivered {sorted(delivered)}, created {sorted(created)}"

    # The new triggerer fired the event of every trigger of the old one. A trigger log is named after the
    # triggerer's job id: the logs that existed at the kill are the old triggerer's.
    old_jobs = {job for _, job in old_trigger_logs}
    assert len(old_jobs) == 1, old_trigger_logs
    logs = trigger_logs(stack)
    for index in deferred_at_kill:
        new = {job: path for (i, job), path in logs.items() if i == index and job not in old_jobs}
        assert len(new) == 1, f"map_index {index}: trigger logs {sorted(logs)}, old triggerer {old_jobs}"
        text = next(iter(new.values())).read_text(errors="replace")
        assert "Trigger fired event" in text and "'status': 'completed'" in text, f"{index}: {text[-2000:]}"


def trigger_logs(stack: AirflowStack) -> dict[tuple[int, str], pathlib.Path]:
    """The trigger logs of ``xai_sys_many``, by (map index, triggerer job id)."""
    found = {}
    for path in (stack.home / "logs").rglob("attempt=*.log.trigger.*.log"):
        index = int(path.parent.name.removeprefix("map_index="))
        found[(index, path.name.split(".trigger.")[1].removesuffix(".log"))] = path
    return found


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# ---- 2. the worker dies while it waits (blocking) -----------------------------------------------------


@pytest.mark.system
@pytest.mark.timeout(200)
def test_worker_sigkilled_during_blocking_wait(airflow_stack_factory, system_emulator, tmp_path):
    """The killed try's retry reattaches (1 POST); with ``reattach_on_retry=False`` it submits anew (2)."""
    started = time.monotonic()
    fox = "a red fox [xai:seconds=20]"
    heron = "a blue heron [xai:seconds=20]"
    stack = airflow_stack_factory(
        copy_dags(tmp_path / "dags", "xai_retry_dag", "xai_sys_noreattach_dag"),
        XAI_TEST_DEFERRABLE="0",
        XAI_TEST_PROMPT=fox,
        XAI_TEST_RETRIES="1",
        XAI_TEST_REATTACH="1",
        XAI_SYS_NOREATTACH_PROMPT=heron,
    )
    stack.wait_until_ready(RETRY_DAG, NO_REATTACH_DAG, timeout=90)
    ready = time.monotonic()
    runs = {
        RETRY_DAG: (stack.trigger(RETRY_DAG), fox),
        NO_REATTACH_DAG: (stack.trigger(NO_REATTACH_DAG), heron),
    }

    killed = {}
    for dag_id, (run_id, prompt) in runs.items():

        def running_and_submitted(dag_id=dag_id, run_id=run_id, prompt=prompt) -> dict | None:
            ti = only_ti(stack, dag_id, run_id)
            if ti["state"] != "running" or posts_by_prompt(system_emulator).get(prompt) != 1:
                return None
            return ti if worker_pids(ti["id"]) else None

        ti = stack.wait_for(f"{dag_id} running with its remote task", running_and_submitted, timeout=60)
        pids = worker_pids(ti["id"])
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        killed[dag_id] = pids
    print(f"ready after {ready - started:.1f} s; killed {killed} {time.monotonic() - ready:.1f} s later")
    # the killed try of each task failed, and the task was retried
    assert all(killed.values()), killed

    for dag_id, (run_id, _) in runs.items():
        run = stack.wait_for_run(dag_id, run_id, timeout=90)
        states_text = stack.task_states(dag_id, run_id)
        assert run["state"] == "success", f"{states_text}\n{stack.diagnostics()}"
        assert only_ti(stack, dag_id, run_id)["try_number"] == 2, states_text
    print(f"both runs ended {time.monotonic() - ready:.1f} s after the trigger")

    prompts = posts_by_prompt(system_emulator)
    assert prompts == {fox: 1, heron: 2}, prompts
    assert system_emulator.count("POST", "/xai/images") == 3
    reattach_log = attempt_log(stack, RETRY_DAG, runs[RETRY_DAG][0], 2)
    assert "Reattaching to xAI task" in reattach_log, reattach_log[-3000:]
    resubmit_log = attempt_log(stack, NO_REATTACH_DAG, runs[NO_REATTACH_DAG][0], 2)
    assert "Reattaching" not in resubmit_log, resubmit_log[-3000:]


# ---- 3. clearing a task instance ------------------------------------------------------------------------


@pytest.mark.system
@pytest.mark.timeout(200)
def test_clear_after_success_generates_anew_and_after_failure_reattaches(
    airflow_stack_factory, system_emulator, tmp_path
):
    started = time.monotonic()
    prompt = "a green owl [xai:seconds=6]"
    stack = airflow_stack_factory(
        copy_dags(tmp_path / "dags", "xai_retry_dag"),
        XAI_TEST_DEFERRABLE="1",
        XAI_TEST_PROMPT=prompt,
        XAI_TEST_RETRIES="0",
    )
    stack.wait_until_ready(RETRY_DAG, timeout=90)
    ready = time.monotonic()

    # a delivered task is not reused: clearing a successful task instance generates anew
    first = stack.trigger(RETRY_DAG)
    run = stack.wait_for_run(RETRY_DAG, first, timeout=60)
    assert run["state"] == "success", f"{stack.task_states(RETRY_DAG, first)}\n{stack.diagnostics()}"
    assert system_emulator.count("POST", "/xai/images") == 1
    cleared = stack.clear(RETRY_DAG, first, ["generate"])
    assert [ti["task_id"] for ti in cleared] == ["generate"], cleared
    assert stack.dag_run(RETRY_DAG, first)["state"] != "success"
    run = stack.wait_for_run(RETRY_DAG, first, timeout=60)
    states_text = stack.task_states(RETRY_DAG, first)
    assert run["state"] == "success", f"{states_text}\n{stack.diagnostics()}"
    assert only_ti(stack, RETRY_DAG, first)["try_number"] == 2, states_text
    assert system_emulator.count("POST", "/xai/images") == 2, system_emulator.requests_log()
    print(f"ready after {ready - started:.1f} s; clear after success: {time.monotonic() - ready:.1f} s")

    # a task instance failed while its remote task runs: clearing it reattaches to that task
    second = stack.trigger(RETRY_DAG)

    def deferred() -> dict | None:
        ti = only_ti(stack, RETRY_DAG, second)
        return ti if ti["state"] == "deferred" else None

    stack.wait_for("deferred task instance", deferred, timeout=60)
    assert system_emulator.count("POST", "/xai/images") == 3
    answer = stack.api(
        "PATCH", f"/dags/{RETRY_DAG}/dagRuns/{second}/taskInstances/generate", json={"new_state": "failed"}
    )
    assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
    run = stack.wait_for_run(RETRY_DAG, second, timeout=60)
    assert run["state"] == "failed", stack.task_states(RETRY_DAG, second)
    stack.clear(RETRY_DAG, second, ["generate"])
    run = stack.wait_for_run(RETRY_DAG, second, timeout=60)
    states_text = stack.task_states(RETRY_DAG, second)
    assert run["state"] == "success", f"{states_text}\n{stack.diagnostics()}"
    assert only_ti(stack, RETRY_DAG, second)["try_number"] == 2, states_text
    assert system_emulator.count("POST", "/xai/images") == 3, system_emulator.requests_log()
    assert posts_by_prompt(system_emulator) == {prompt: 3}
    reattach_log = attempt_log(stack, RETRY_DAG, second, 2)
    assert "Reattaching to xAI task" in reattach_log, reattach_log[-3000:]
    print(f"cleared failure reattached {time.monotonic() - ready:.1f} s after ready")


# ---- 4. the API key never lands anywhere, even when the service rejects it ---------------------------


@pytest.mark.system
@pytest.mark.timeout(200)
def test_no_key_in_any_file_after_success_and_401(
    airflow_stack_factory, system_emulator, system_api_key, tmp_path
):
    started = time.monotonic()
    stack = airflow_stack_factory(
        copy_dags(tmp_path / "dags", "xai_retry_dag"),
        XAI_TEST_PROMPT="a grey cat [xai:seconds=2]",
        XAI_TEST_RETRIES="0",
    )
    stack.wait_until_ready(RETRY_DAG, timeout=90)
    ready = time.monotonic()

    # the connection's key is the right one: success
    good = stack.trigger(RETRY_DAG)
    run = stack.wait_for_run(RETRY_DAG, good, timeout=60)
    assert run["state"] == "success", f"{stack.task_states(RETRY_DAG, good)}\n{stack.diagnostics()}"

    # the service now accepts another key only: the connection's key is wrong, the task fails on a 401
    service_key = f"xai-other-{secrets.token_hex(12)}"
    stack.secrets = (*stack.secrets, service_key)
    system_emulator.configure(api_key=service_key)
    bad = stack.trigger(RETRY_DAG)
    run = stack.wait_for_run(RETRY_DAG, bad, timeout=60)
    states_text = stack.task_states(RETRY_DAG, bad)
    assert run["state"] == "failed", states_text
    ti = only_ti(stack, RETRY_DAG, bad)
    assert (ti["state"], ti["try_number"]) == ("failed", 1), states_text
    rejected = [r for r in system_emulator.requests_log() if r["status"] == 401]
    assert [(r["method"], r["path"]) for r in rejected] == [("POST", "/xai/images")], rejected
    print(f"success and 401 runs done {time.monotonic() - ready:.1f} s after ready ({ready - started:.1f} s)")

    # the failure names the connection to fix
    failure_log = attempt_log(stack, RETRY_DAG, bad, 1)
    assert "'xai_default'" in failure_log, redact(failure_log[-3000:], *stack.secrets)
    assert "rejected the API key (401)" in failure_log, redact(failure_log[-3000:], *stack.secrets)

    # neither key is in any file: AIRFLOW_HOME (logs, DB, config, ...), component outputs, media
    stack.stop()  # flush every log and the DB first
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "airflow.db" for p in files) and any(p.suffix == ".cfg" for p in files), files
    assert len([p for p in files if p.suffix == ".log"]) >= 6, files
    for key in (system_api_key, service_key):
        leaked = [str(p) for p in files if key.encode() in p.read_bytes()]
        assert not leaked, f"an API key appears in: {leaked}"
