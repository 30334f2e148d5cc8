"""Sensor that waits for an xAI task submitted by another task."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_xai.exceptions import XaiError, XaiTransientError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.links import XaiOutputLink
from airflow_provider_xai.operators._base import XaiWaitMixin
from airflow_provider_xai.polling import PollPolicy, WaitEnd, WaitResult
from airflow_provider_xai.protocol import Outcome, outcome_of, unknown_status_warning

if TYPE_CHECKING:
    from airflow.sdk import Context


class XaiTaskSensor(XaiWaitMixin, BaseSensorOperator):
    """Wait for an xAI task (e.g. one submitted with ``wait_for_completion=False``) and finish it.

    Poke mode and deferred mode share one status classification and one ``finish``.

    :param xai_task_id: the remote task id (templated), e.g. pulled from the submitting task's XCom.
    :param xai_conn_id: the Airflow connection of the service.
    :param deferrable: wait in the triggerer instead of poking from a worker.
    :param poke_interval: seconds before the first poll, in both modes; later polls back off.
    :param timeout: how long to wait, in seconds.
    :param output_path: folder URI or ``ObjectStoragePath`` where the media are stored (templated).
    :param max_consecutive_failures: failed polls in a row that end a poke-mode wait.
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
        poke_interval: float = 5.0,
        timeout: float = 3600.0,
        max_consecutive_failures: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.xai_task_id = xai_task_id
        self.xai_conn_id = xai_conn_id
        self.deferrable = deferrable
        self.output_path = output_path
        self.max_consecutive_failures = max_consecutive_failures
        self.set_wait_timings("poke_interval", self.poke_interval, self.timeout)
        self._policy = PollPolicy(first_delay=self._first_delay)
        self._failures = 0
        self._warned: set[str] = set()

    def execute(self, context: Context) -> Any:
        """Defer to the trigger, or poke from this worker."""
        if not isinstance(self.xai_task_id, str) or not self.xai_task_id.strip():
            raise XaiError(
                f"Invalid xai_task_id: {self.xai_task_id!r}. Allowed: a non-empty remote task id "
                "(check the XCom it is pulled from)."
            )
        if self.deferrable:
            return self.defer_wait(context, self.xai_task_id, None)
        return super().execute(context)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Poll once; finish on a terminal status, count transient failures."""
        try:
            state = self.hook.get_task(self.xai_task_id)
        except XaiTransientError as exc:
            self._failures += 1
            if self._failures >= self.max_consecutive_failures:
                raise XaiError(
                    f"Stopped waiting for xAI task {self.xai_task_id} after {self._failures} failed status "
                    f"polls in a row; last error: {exc}."
                ) from None
            self.log.warning("Status poll failed, retrying: %s", exc)
            return False
        self._failures = 0
        if outcome_of(state) is Outcome.WAIT:
            warning = unknown_status_warning(state)
            if warning and state.status not in self._warned:
                self._warned.add(state.status)
                self.log.warning(warning)
            return False
        value = self.finish(context, WaitResult(self.xai_task_id, WaitEnd.TERMINAL, state), None)
        return PokeReturnValue(is_done=True, xcom_value=value)

    def _get_next_poke_interval(
        self, started_at: datetime | float, run_duration: Callable[[], float], poke_count: int
    ) -> float:
        """Back off like the operators: the first delay, then a growing fraction of the time waited."""
        remaining = max(self._timeout_seconds - run_duration(), 0.1)
        return min(self._policy.delay(run_duration(), self._failures), remaining)
