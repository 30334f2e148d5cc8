"""Trigger that waits for an xAI task in the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_xai.exceptions import XaiError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.polling import DEFAULT_WAIT, PollPolicy, PollTracker, WaitResult


class XaiTaskTrigger(BaseTrigger):
    """Poll an xAI task until it is terminal, then fire one event; decide nothing about its outcome.

    Polling is read-only, so duplicate copies (HA triggerers) are harmless. The deadline is wall-clock,
    so it survives a triggerer restart. The event carries the task state; the worker decides.

    :param xai_task_id: the remote task id.
    :param xai_conn_id: the Airflow connection of the service.
    :param poll_interval: seconds before the first poll; later polls back off up to ``max_poll_interval``.
    :param started_at: wall-clock start of the wait (epoch seconds).
    :param deadline: wall-clock end of the wait (epoch seconds), or ``None`` for no deadline.
    :param max_poll_interval: the cap of the delay between polls.
    :param max_consecutive_failures: failed polls in a row that end the wait.
    """

    def __init__(
        self,
        xai_task_id: str,
        xai_conn_id: str = XaiHook.default_conn_name,
        poll_interval: float = DEFAULT_WAIT.first_delay,
        started_at: float | None = None,
        deadline: float | None = None,
        max_poll_interval: float = DEFAULT_WAIT.max_delay,
        max_consecutive_failures: int = DEFAULT_WAIT.max_consecutive_failures,
    ) -> None:
        super().__init__()
        self.xai_task_id = xai_task_id
        self.xai_conn_id = xai_conn_id
        self.poll_interval = float(poll_interval)
        self.started_at = float(started_at) if started_at is not None else time.time()
        self.deadline = float(deadline) if deadline is not None else None
        self.max_poll_interval = float(max_poll_interval)
        self.max_consecutive_failures = int(max_consecutive_failures)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and kwargs: ids and timings only, never a credential."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "xai_task_id": self.xai_task_id,
                "xai_conn_id": self.xai_conn_id,
                "poll_interval": self.poll_interval,
                "started_at": self.started_at,
                "deadline": self.deadline,
                "max_poll_interval": self.max_poll_interval,
                "max_consecutive_failures": self.max_consecutive_failures,
            },
        )

    def _tracker(self) -> PollTracker:
        policy = PollPolicy(
            first_delay=self.poll_interval,
            max_delay=self.max_poll_interval,
            max_consecutive_failures=self.max_consecutive_failures,
        )
        return PollTracker(self.xai_task_id, policy, started_at=self.started_at, deadline=self.deadline)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll with backoff over one shared keep-alive session; yield one event at the end."""
        hook = XaiHook(xai_conn_id=self.xai_conn_id)
        tracker = self._tracker()
        try:
            async with hook.async_session() as session:
                step = tracker.first_step(time.time())
                while step.result is None:
                    await asyncio.sleep(step.delay)
                    try:
                        step = tracker.on_state(await hook.aget_task(self.xai_task_id, session), time.time())
                    except XaiError as exc:
                        step = tracker.on_error(exc, time.time())
                    if step.warning:
                        self.log.warning(step.warning)
                result = step.result
        except XaiError as exc:
            result = WaitResult.from_error(self.xai_task_id, exc)
        except asyncio.CancelledError:  # info: a triggerer stopping cancels every trigger it runs
            self.log.info(
                "Stopped waiting for xAI task %s: the Airflow task was cleared, marked failed or success, "
                "or killed, or this triggerer is stopping (another one then resumes the wait). The remote "
                "task is not cancelled (the service has no cancel endpoint): it may still run and be "
                "billed. A clear or retry of this task reattaches to it while it lives "
                "(reattach_on_retry).",
                self.xai_task_id,
            )
            raise
        yield TriggerEvent(result.to_event())

    async def on_kill(self) -> None:
        """Say that the remote task keeps running: the service has no cancel endpoint."""
        self.log.warning(
            "The Airflow task was killed while waiting; xAI task %s may still run and be billed "
            "(the service has no cancel endpoint).",
            self.xai_task_id,
        )
