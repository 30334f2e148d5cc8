"""Retries through Airflow 3.3's task_state_store: reattach without paying twice, resubmit when due.

Each case runs the one-task DAG ``tests/dags/xai_retry_dag.py`` with ``dag.test()``, which runs the
retry in-process after a 0.1 s retry delay, against the emulator.
"""

from __future__ import annotations

import hashlib

import pytest
import requests

from tests.compat import HAS_TASK_STATE_STORE
from tests.conftest import load_example

#: with task_state_store a retry reattaches (one POST); without it, every try submits
REATTACHED = 1 if HAS_TASK_STATE_STORE else 2

MODES = [pytest.param("1", id="deferrable"), pytest.param("0", id="blocking")]


@pytest.fixture
def run_retry_dag(airflow_db, xai_conn, monkeypatch, tmp_path):
    def run(prompt="a red fox", deferrable="1", reattach="1", retries=1):
        for name, value in {
            "XAI_TEST_PROMPT": prompt,
            "XAI_TEST_DEFERRABLE": deferrable,
            "XAI_TEST_REATTACH": reattach,
            "XAI_TEST_RETRIES": str(retries),
            "XAI_TEST_OUTPUT": str(tmp_path / "out"),
        }.items():
            monkeypatch.setenv(name, value)
        run = load_example("xai_retry_dag").dag.test()
        (ti,) = run.get_task_instances()
        return run, ti

    return run


def posts(emulator):
    return emulator.count("POST", "/xai/images")


@pytest.mark.parametrize("deferrable", MODES)
def test_partial_download_then_retry_reattaches(run_retry_dag, xai_conn, tmp_path, deferrable):
    xai_conn.configure(media_truncate_count=1)
    run, ti = run_retry_dag(deferrable=deferrable)
    assert (run.state, ti.state, ti.try_number) == ("success", "success", 2)
    assert posts(xai_conn) == REATTACHED  # the retry reattached: one generation, one bill
    (stored,) = (tmp_path / "out").glob("*.jpeg")
    task = xai_conn.tasks()[-1]  # the one remote task (or, without task_state_store, the retry's)
    assert stored.name == f"{task['taskId']}_0.jpeg"
    served = requests.get(f"{xai_conn.url}/media/{task['taskId']}/0.jpeg", timeout=10).content
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(served).digest()
    assert not list((tmp_path / "out").glob(".*"))  # no partial file left behind


@pytest.mark.parametrize("deferrable", MODES)
def test_retry_reattaches_to_a_task_still_running(run_retry_dag, xai_conn, deferrable):
    # Try 1 loses the service while waiting (6 failed status polls in a row end its wait); the task
    # keeps running remotely, and the retry finishes it instead of submitting again.
    xai_conn.script_faults("GET /xai/tasks", ["503json"] * 6)
    run, ti = run_retry_dag(deferrable=deferrable)
    assert (run.state, ti.try_number) == ("success", 2)
    assert posts(xai_conn) == REATTACHED


def test_retry_after_a_remote_failure_submits_anew(run_retry_dag, xai_conn):
    run, ti = run_retry_dag(prompt="a red fox [xai:failed]")
    assert (run.state, ti.try_number) == ("failed", 2)
    assert posts(xai_conn) == 2


def test_reattach_disabled_always_submits(run_retry_dag, xai_conn):
    xai_conn.configure(media_truncate_count=1)
    run, ti = run_retry_dag(reattach="0")
    assert (run.state, ti.try_number) == ("success", 2)
    assert posts(xai_conn) == 2


def test_expired_media_fails_clearly_and_the_retry_generates_anew(run_retry_dag, xai_conn, capsys):
    xai_conn.configure(media_ttl=0)
    run, ti = run_retry_dag()
    assert run.state == "failed" and ti.try_number == 2
    assert posts(xai_conn) == 2  # expired media are never reused
    out = capsys.readouterr().out
    assert "media URLs of xAI task" in out and "have expired" in out and "finished at" in out


@pytest.mark.skipif(HAS_TASK_STATE_STORE, reason="Airflow has task_state_store")
def test_without_task_state_store_every_try_submits_and_says_so(run_retry_dag, xai_conn, capsys):
    xai_conn.configure(media_truncate_count=1)
    run, ti = run_retry_dag()
    assert run.state == "success" and posts(xai_conn) == 2
    assert "task_state_store is not available" in capsys.readouterr().out


@pytest.mark.parametrize("fault", ["502html", "503json", "drop-mid", "504html"])
def test_an_uncertain_submission_is_not_retried_into_a_second_one(run_retry_dag, xai_conn, capsys, fault):
    xai_conn.script_faults("POST /xai/images", [fault])
    run, ti = run_retry_dag(retries=3)
    assert (run.state, ti.state, ti.try_number) == ("failed", "failed", 1)  # failed for good, not retried
    assert xai_conn.count("POST", "/xai/images", accepted_only=False) == 1  # one POST, however many retries
    out = capsys.readouterr().out
    assert "A task may exist on the service and may be billed" in out and "fails for good" in out
    assert "Clear the task to submit anew" in out
