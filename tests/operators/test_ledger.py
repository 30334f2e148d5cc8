"""The reattach decision table, with a dict standing in for task_state_store (its get/set contract)."""

from __future__ import annotations

import types

import pytest

from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.operators._ledger import RemoteTaskLedger


class DictStore(dict):
    def set(self, key, value, retention=None):
        self[key] = value


def ledger(store, max_tries):
    context = {"task_state_store": store, "ti": types.SimpleNamespace(max_tries=max_tries)}
    return RemoteTaskLedger.for_context(context, enabled=True, log=types.SimpleNamespace(info=print))


@pytest.mark.parametrize(
    ("marked", "max_tries_now", "reattach"),
    [
        (None, 1, True),  # submitted, still running or undelivered: a retry finishes it
        ("delivered", 1, True),  # delivered, but Airflow failed that try: the retry re-delivers it
        ("delivered", 3, False),  # the task instance was cleared (max_tries raised): generate anew
        ("expired", 1, False),  # its media URLs expired: never reused
    ],
)
def test_reattach_decisions(xai_conn, marked, max_tries_now, reattach):
    hook = XaiHook()
    task_id = hook.submit_image("a fox")
    store = DictStore()
    ledger(store, max_tries=1).record(task_id)
    if marked:
        ledger(store, max_tries=1).mark(task_id, marked)
    assert ledger(store, max_tries_now).reattachable(hook) == (task_id if reattach else None)


def test_a_failed_remote_task_is_not_reused(xai_conn):
    hook = XaiHook()
    task_id = hook.submit_image("a fox [xai:reads=1] [xai:failed]")
    store = DictStore()
    ledger(store, 1).record(task_id)
    assert ledger(store, 1).reattachable(hook) is None


def test_disabled_or_missing_store_never_reattaches(xai_conn, capsys):
    assert RemoteTaskLedger.for_context({}, enabled=True, log=types.SimpleNamespace(info=print)).store is None
    assert "task_state_store is not available" in capsys.readouterr().out
    store = DictStore()
    off = RemoteTaskLedger.for_context({"task_state_store": store}, enabled=False, log=None)
    off.record("abc")
    assert store == {} and off.reattachable(XaiHook()) is None
