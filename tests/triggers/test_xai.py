"""XaiTaskTrigger: exact serialization, full runs against the emulator, cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_xai.hooks._pool import open_pool_count
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.triggers.xai import XaiTaskTrigger
from tests.conftest import API_KEY


async def first_event(trigger: XaiTaskTrigger):
    events = [event async for event in trigger.run()]
    assert len(events) == 1
    return events[0].payload


def make(task_id: str, **kwargs) -> XaiTaskTrigger:
    return XaiTaskTrigger(xai_task_id=task_id, poll_interval=0.01, **kwargs)


def test_serialize_holds_ids_and_timings_only():
    trigger = XaiTaskTrigger(
        xai_task_id="abc", xai_conn_id="my_xai", poll_interval=2, started_at=100.0, deadline=700.0
    )
    assert trigger.serialize() == (
        "airflow_provider_xai.triggers.xai.XaiTaskTrigger",
        {
            "xai_task_id": "abc",
            "xai_conn_id": "my_xai",
            "poll_interval": 2.0,
            "started_at": 100.0,
            "deadline": 700.0,
            "max_poll_interval": 30.0,
            "max_consecutive_failures": 5,
        },
    )
    classpath, kwargs = trigger.serialize()
    assert XaiTaskTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_run_fires_one_terminal_event_with_the_state(xai_conn):
    task_id = XaiHook().submit_image("a fox")
    payload = asyncio.run(first_event(make(task_id)))
    assert payload["reason"] == "terminal" and payload["xai_task_id"] == task_id
    assert payload["state"]["status"] == "completed" and payload["state"]["media_urls"]
    assert xai_conn.count("GET", "/xai/tasks") == 5


def test_run_forwards_failures_without_deciding(xai_conn):
    task_id = XaiHook().submit_image("a fox [xai:failed]")
    payload = asyncio.run(first_event(make(task_id)))
    assert payload["reason"] == "terminal"
    assert payload["state"]["status"] == "failed" and payload["state"]["error_code"] == 5001


def test_deadline_is_wall_clock_and_survives_a_restart(xai_conn):
    task_id = XaiHook().submit_image("a fox")
    xai_conn.force_status(task_id, "processing")
    # a trigger re-created after a restart keeps the original deadline, already passed here
    trigger = make(task_id, started_at=time.time() - 100, deadline=time.time() - 1)
    payload = asyncio.run(first_event(trigger))
    assert payload["reason"] == "timeout" and "Timed out after waiting 99" in payload["message"]


def test_transient_faults_are_retried(xai_conn):
    task_id = XaiHook().submit_image("a fox")
    xai_conn.script_faults("GET /xai/tasks", ["502html", "503json", "drop", "500json"])
    payload = asyncio.run(first_event(make(task_id)))
    assert payload["reason"] == "terminal" and payload["state"]["status"] == "completed"


def test_too_many_consecutive_failures_end_the_wait(xai_conn):
    task_id = XaiHook().submit_image("a fox")
    xai_conn.script_faults("GET /xai/tasks", ["503json"] * 3)
    payload = asyncio.run(first_event(make(task_id, max_consecutive_failures=3)))
    assert payload["reason"] == "aborted" and "3 failed status polls in a row" in payload["message"]


@pytest.mark.xai_emulator(api_key="the-right-key")
def test_auth_error_fires_an_error_event_without_the_key(xai_conn):
    payload = asyncio.run(first_event(make("whatever")))
    assert payload["reason"] == "error" and payload["status_code"] == 401
    assert "xai_default" in payload["message"] and API_KEY not in str(payload)


def test_cancellation_is_reraised_and_releases_the_pool(xai_conn, capsys):
    task_id = XaiHook().submit_image("a fox")
    xai_conn.force_status(task_id, "processing")

    async def scenario():
        task = asyncio.create_task(first_event(make(task_id)))
        await asyncio.sleep(0.2)
        assert open_pool_count() == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return open_pool_count()

    assert asyncio.run(scenario()) == 0
    out = capsys.readouterr().out  # a clear or mark-failed in the UI cancels the trigger: say what follows
    assert f"Stopped waiting for xAI task {task_id}" in out and "may still run and be billed" in out


def test_triggers_of_one_loop_share_one_pool(xai_conn):
    hook = XaiHook()
    ids = [hook.submit_image(f"fox {n}") for n in range(20)]

    async def scenario():
        tasks = [asyncio.create_task(first_event(make(i))) for i in ids]
        seen = set()
        while not all(task.done() for task in tasks):
            seen.add(open_pool_count())
            await asyncio.sleep(0.002)
        return seen, await asyncio.gather(*tasks)

    seen, payloads = asyncio.run(scenario())
    assert max(seen) == 1  # twenty triggers, one shared keep-alive pool
    assert all(p["state"]["status"] == "completed" for p in payloads)


def test_repr_has_no_secret(xai_conn):
    assert API_KEY not in repr(make("abc"))


@pytest.mark.parametrize(("waiters", "most"), [(100, 4), (150, 5)])
def test_the_shared_pool_opens_connections_by_demand(xai_conn, monkeypatch, waiters, most):
    """Coalesced wake-ups poll in bursts: the pool opens one connection per 30 waiters, not 32 at once."""
    import aiohttp

    from airflow_provider_xai.hooks import _pool

    opened = []

    async def count(session, context, params):
        opened.append(1)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(count)
    monkeypatch.setattr(_pool, "TRACE_CONFIGS", [trace])
    hook = XaiHook()
    ids = [hook.submit_image(f"fox {n} [xai:reads=3]") for n in range(waiters)]

    async def scenario():
        # 0.6 s first delay: the wake-ups are coalesced onto one 0.25 s tick, so every poll comes at once
        return await asyncio.gather(*(first_event(XaiTaskTrigger(i, poll_interval=0.6)) for i in ids))

    payloads = asyncio.run(scenario())
    assert all(p["state"]["status"] == "completed" for p in payloads)
    assert 1 <= len(opened) <= most, len(opened)
