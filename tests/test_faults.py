"""Fault mixes: 30% of status reads (and of submissions) fail, and still no task is lost or doubled."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.triggers.xai import XaiTaskTrigger

TASKS = 20
MIXES = {
    "all-kinds": ["429", "502html", "503json", "drop"],
    "rate-limited": ["429"],
    "proxy-errors": ["502html", "504html", "500json"],
    "dropped": ["drop", "drop-mid"],
}


def faulty(emulator, kinds, seed):
    emulator.configure(
        fault_rate=0.3,
        fault_kinds=kinds,
        fault_paths=["GET /xai/tasks", "POST /xai/images"],
        retry_after="0",
        seed=seed,
    )


def submit_all(hook, emulator):
    ids = [hook.submit_image(f"prompt {n}") for n in range(TASKS)]
    # a POST refused with 429 is retried (nothing was created); one that failed after sending is not
    assert emulator.count("POST", "/xai/images") == len(set(ids)) == TASKS
    return ids


@pytest.mark.parametrize("mix", list(MIXES))
def test_blocking_waits_survive_30_percent_faults(xai_conn, mix):
    faulty(xai_conn, ["429"], seed=3)  # submissions meet 429s only: other faults may create a task
    hook = XaiHook()
    ids = submit_all(hook, xai_conn)
    faulty(xai_conn, MIXES[mix], seed=3)
    done = [hook.wait(i, poll_interval=0.01, timeout=60, max_consecutive_failures=8).resolve() for i in ids]
    assert [s.status for s in done] == ["completed"] * TASKS  # none lost
    faults = [r for r in xai_conn.requests_log() if r["fault"]]
    assert len(faults) > TASKS  # the faults really happened


@pytest.mark.parametrize("mix", list(MIXES))
def test_deferred_waits_survive_30_percent_faults(xai_conn, mix):
    faulty(xai_conn, ["429"], seed=5)  # submissions meet 429s only: others may create a task
    ids = submit_all(XaiHook(), xai_conn)
    faulty(xai_conn, MIXES[mix], seed=5)

    async def wait_all():
        triggers = [XaiTaskTrigger(i, poll_interval=0.01, max_consecutive_failures=8) for i in ids]
        return await asyncio.gather(*(first_event(t) for t in triggers))

    events = asyncio.run(wait_all())
    assert [e["reason"] for e in events] == ["terminal"] * TASKS
    assert [e["state"]["status"] for e in events] == ["completed"] * TASKS
    assert xai_conn.count("POST", "/xai/images") == TASKS  # no duplicate submission


async def first_event(trigger):
    async for event in trigger.run():
        return event.payload
