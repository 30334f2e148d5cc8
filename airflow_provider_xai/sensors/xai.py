"""Sensor that waits for an xAI task submitted by another task."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_xai._compat import AirflowSensorTimeout
from airflow_provider_xai.exceptions import XaiError, XaiWaitTimeoutError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.links import XaiOutputLink
from airflow_provider_xai.operators._base import XaiWaitMixin
from airflow_provider_xai.polling import DEFAULT_WAIT, PollPolicy, PollStep, PollTracker, WaitResult

if TYPE_CHECKING:
    from airflow.sdk import Context


class XaiSensorTimeout(XaiWaitTimeoutError, AirflowSensorTimeout):
    """The sensor's wait reached its timeout, in poke or deferred mode alike.

    It is the provider's :class:`~airflow_provider_xai.exceptions.XaiWaitTimeoutError` and Airflow's
    sensor timeout at once, so that ``soft_fail`` skips the task in both modes.
    """


class XaiTaskSensor(XaiWaitMixin, BaseSensorOperator):
    """Wait for an xAI task (e.g. one submitted with ``wait_for_completion=False``) and finish it.

    Poke mode and deferred mode share one status classification and one ``finish``; poke mode drives
    the same :class:`~airflow_provider_xai.polling.PollTracker` as the blocking wait, so that a run of
    failed polls ends in the same :class:`~airflow_provider_xai.exceptions.XaiWaitAbortedError`, naming
    the last error and the last status seen.

    The tracker lives for one ``execute``. With ``mode="poke"`` that is the whole try, so failed polls
    count across pokes. With ``mode="reschedule"`` every poke is a new ``execute`` in a new process, so
    every poke starts a fresh tracker: failures do not add up across reschedules and the sensor's
    ``timeout`` is what ends a wait whose polls keep failing (unless ``max_consecutive_failures`` is 1).
    This is deliberate: carrying the count over would need state outside the worker (XCom or the task
    state store), written on every poke, for a mode whose timeout already bounds the wait.

    :param xai_task_id: the remote task id (templated), e.g. pulled from the submitting task's XCom.
    :param xai_conn_id: the Airflow connection of the service.
    :param deferrable: wait in the triggerer instead of poking from a worker.
    :param poke_interval: seconds before the first poll, in both modes; later polls back off.
    :param timeout: how long to wait, in seconds.
    :param output_path: folder URI or ``ObjectStoragePath`` where the media are stored (templated).
    :param max_poll_interval: the cap of the delay between polls, in both modes.
    :param max_consecutive_failures: failed polls in a row that end the wait: in the trigger when
        deferrable, within one ``execute`` in poke mode (see above for reschedule mode).
    """

    template_fields: Sequence[str] = ("xai_task_id", "output_path")
    ui_color = "#e8e3f7"
    operator_extra_links = (XaiOutputLink(),)

    def __init__(
        self,
        *,
        xai_task_id: str,
        xai_conn_id: str = XaiHook.default_conn_name,
        deferrable: bool = True,
        output_path: Any = None,
        poke_interval: float = DEFAULT_WAIT.first_delay,
        timeout: float = DEFAULT_WAIT.timeout,
        max_consecutive_failures: int = DEFAULT_WAIT.max_consecutive_failures,
        max_poll_interval: float = DEFAULT_WAIT.max_delay,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.xai_task_id = xai_task_id
        self.xai_conn_id = xai_conn_id
        self.deferrable = deferrable
        self.output_path = output_path
        self.max_consecutive_failures = max_consecutive_failures
        self.max_poll_interval = max_poll_interval
        self.set_wait_timings("poke_interval", self.poke_interval, self.timeout)
        self._policy = PollPolicy(
            first_delay=self._first_delay,
            max_delay=max_poll_interval,
            max_consecutive_failures=max_consecutive_failures,
        )
        self._tracker: PollTracker | None = None
        self._step: PollStep | None = None

    def execute(self, context: Context) -> Any:
        """Defer to the trigger, or poke from this worker."""
        if not isinstance(self.xai_task_id, str) or not self.xai_task_id.strip():
            raise XaiError(
                f"Invalid xai_task_id: {self.xai_task_id!r}. Allowed: a non-empty remote task id "
                "(check the XCom it is pulled from)."
            )
        if self.deferrable:
            return self.defer_wait(context, self.xai_task_id, None)
        self._tracker = None  # a fresh wait per execute: one try in poke mode, one poke in reschedule mode
        try:
            return super().execute(context)
        except AirflowSensorTimeout as exc:  # Airflow's own check came a hair before the tracker's
            if isinstance(exc, XaiSensorTimeout) or self._tracker is None:
                raise
            raise XaiSensorTimeout(self._tracker.timeout_result(time.time()).message) from None

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Poll once through the wait's tracker; finish on a terminal status or a run of failed polls."""
        if self._tracker is None:
            now = time.time()  # the deadline is the sensor's timeout, as in deferred mode
            self._tracker = PollTracker(
                self.xai_task_id, self._policy, started_at=now, deadline=now + self._timeout_seconds
            )
        try:
            step = self._tracker.on_state(self.hook.get_task(self.xai_task_id), time.time())
        except XaiError as exc:
            step = self._tracker.on_error(exc, time.time())
        if step.warning:
            self.log.warning(step.warning)
        self._step = step
        if step.result is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self.finish(context, step.result, None))

    def finish(self, context: Context, result: WaitResult, request: dict | None) -> dict[str, Any]:
        """Finish like the operators; a timeout is :class:`XaiSensorTimeout` in both modes."""
        try:
            return super().finish(context, result, request)
        except XaiWaitTimeoutError as exc:
            if isinstance(exc, XaiSensorTimeout):
                raise
            raise XaiSensorTimeout(str(exc)) from None

    def _get_next_poke_interval(
        self, started_at: datetime | float, run_duration: Callable[[], float], poke_count: int
    ) -> float:
        """Sleep what the wait's tracker decided: its schedule, its failure backoff and ``Retry-After``."""
        remaining = max(self._timeout_seconds - run_duration(), 0.0)
        delay = self._step.delay if self._step is not None else self._first_delay
        return min(delay, remaining)
