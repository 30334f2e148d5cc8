"""Waiting for a remote task, pure: the polling schedule, the tracker and how a wait ends.

The blocking loop (hook and sensor) and the trigger both drive a :class:`PollTracker`; only their
send and sleep lines differ. A wait ends in a :class:`WaitResult`, which is also the trigger's event,
and :meth:`WaitResult.resolve` turns it into the finished state or the one error, for every path.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from airflow_provider_xai.exceptions import (
    XaiAuthError,
    XaiError,
    XaiNotFoundError,
    XaiTransientError,
    XaiWaitAbortedError,
    XaiWaitTimeoutError,
)
from airflow_provider_xai.protocol import (
    Outcome,
    TaskState,
    error_for_status,
    failure_of,
    outcome_of,
    unknown_status_warning,
)

#: A wake-up this much before its slot still counts as the slot's poll: the event loop sleeps on the
#: monotonic clock while the schedule runs on the wall clock, and float epoch seconds are coarse.
EARLY_WAKE = 0.01


@dataclass(frozen=True)
class WaitDefaults:
    """The defaults of a wait, defined once for the hook, the trigger, the sensor and the operators.

    :param first_delay: seconds before the first poll.
    :param timeout: how long to wait.
    :param max_delay: the cap of the delay between polls.
    :param max_consecutive_failures: failed polls in a row that end the wait.
    """

    first_delay: float = 5.0
    timeout: float = 3600.0
    max_delay: float = 30.0
    max_consecutive_failures: int = 5


#: a wait on a task of unknown kind (the hook, the trigger, the sensor)
DEFAULT_WAIT = WaitDefaults()
#: an image: seconds to generate, so a short first delay and a 15-minute timeout
IMAGE_WAIT = WaitDefaults(first_delay=2.0, timeout=900.0)
#: a video: minutes to generate
VIDEO_WAIT = WaitDefaults(first_delay=10.0, timeout=3600.0)

#: how long a wait retries 404s before its task was ever seen (a service reading behind its writes)
NOT_FOUND_GRACE = 30.0
#: the longest ``Retry-After`` honoured, by polls and by submissions alike (a ``Retry-After: 86400``
#: must not put a worker or a trigger to sleep for a day)
MAX_RETRY_AFTER = 300.0


def backoff(attempt: int, *, first: float = 1.0, cap: float = 30.0, jitter: float = 0.2) -> float:
    """Return the seconds to wait before retry number ``attempt`` (0 for the first retry).

    The nominal delay doubles from ``first`` up to ``cap``; jitter moves it earlier by up to that
    fraction of itself, so that many tasks refused at once do not come back in step.

    :param attempt: how many retries came before this one.
    :param first: the nominal delay of the first retry.
    :param cap: the longest nominal delay.
    :param jitter: the largest fraction of the delay by which a retry comes early.
    """
    nominal = min(cap, first * 2 ** min(attempt, 64))
    return nominal * (1.0 - random.uniform(0.0, jitter))


def submission_delay(attempt: int, retry_after: float | None) -> float:
    """Return the wait before resending a submission that the service certainly refused (429, refused).

    The service's ``Retry-After`` wins over our backoff, capped like polling's, and spread up to 20 %
    later so that mapped tasks refused together do not come back in step.

    :param attempt: how many resends came before this one.
    :param retry_after: what the service asked for, if anything.
    """
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER) * random.uniform(1.0, 1.2)
    return backoff(attempt)


@dataclass(frozen=True)
class PollPolicy:
    """How to poll a remote task: a schedule of nominal poll times, moved only earlier by jitter.

    The nominal polls fall at ``first_delay``, then each ``max(first_delay, growth * t)`` seconds after
    the previous one (``t`` being its time since the wait began), capped at ``max_delay``: constant at
    first, then exponential. Jitter only ever moves a poll *earlier* within its interval, so it spreads
    many waiters apart without adding polls or delaying detection; and since the schedule is a pure
    function of the time waited, a trigger restarted by another triggerer picks it up where it was.

    Wake-ups are *coalesced*: a poll's wall-clock time is rounded down to a multiple of ``coalesce``
    seconds, so that the waiters of one event loop that are due within the same tick wake together and
    share the loop's work of a wake-up (on 1000 waiting triggers this halves the CPU per poll). Like
    jitter, it only ever moves a poll earlier, by less than ``coalesce``.

    :param first_delay: seconds before the first poll (the operator's ``poll_interval``).
    :param max_delay: the cap of any delay between polls (never below ``first_delay``).
    :param growth: later intervals are this fraction of the time waited so far.
    :param jitter: the largest fraction of an interval by which a poll comes early.
    :param max_consecutive_failures: failed polls in a row that end the wait.
    :param max_retry_after: the longest ``Retry-After`` honoured.
    :param coalesce: the wall-clock tick that wake-ups are rounded down to (0: no rounding).
    """

    first_delay: float = DEFAULT_WAIT.first_delay
    max_delay: float = DEFAULT_WAIT.max_delay
    growth: float = 0.1
    jitter: float = 0.05
    max_consecutive_failures: int = DEFAULT_WAIT.max_consecutive_failures
    max_retry_after: float = MAX_RETRY_AFTER
    coalesce: float = 0.25
    not_found_grace: float = NOT_FOUND_GRACE

    def not_found_grace_for(self) -> float:
        """Return how long 404s are retried at the start of a wait.

        That is ``not_found_grace``, or ten first delays when shorter: a fast-polling wait learns of a
        wrong id quickly.
        """
        return min(self.not_found_grace, 10 * self.first_delay)

    def interval_after(self, moment: float) -> float:
        """Return the nominal interval that follows a poll ``moment`` seconds into the wait."""
        return min(max(self.max_delay, self.first_delay), max(self.first_delay, self.growth * moment))

    def next_slot(self, elapsed: float, start: tuple[float, float] | None = None) -> tuple[float, float]:
        """Return the nominal poll times (previous, next) around ``elapsed``.

        A slot whose early window (:meth:`early`) has begun counts as reached, so that an early poll is
        not repeated.

        :param start: an earlier answer of this policy: the walk over the slots resumes from it rather
            than from the beginning (the same answer, without walking every slot on every poll). It is
            ignored when its previous slot lies after ``elapsed`` (a wall clock set back).
        """
        if start is not None and start[0] <= elapsed:
            previous, slot = start
        else:
            previous, slot = 0.0, max(self.first_delay, 1e-3)
        while slot - self.early(previous, slot) - EARLY_WAKE <= elapsed:
            previous, slot = slot, slot + max(self.interval_after(slot), 1e-3)
        return previous, slot

    def jitter_for(self, previous: float, slot: float) -> float:
        """Return the most that jitter moves the poll of ``slot`` earlier.

        None while the intervals are still ``first_delay``: waiters are already spread by their start
        times, and the gap between two polls then never exceeds ``first_delay``.
        """
        interval = slot - previous
        if interval <= self.first_delay + 1e-9:
            return 0.0
        return min(max(self.jitter, 0.0), 0.9) * interval

    def early(self, previous: float, slot: float) -> float:
        """Return the most that the poll of ``slot`` can come before it (jitter, then coalescing)."""
        return self.jitter_for(previous, slot) + self._coalesce_for(slot - previous)

    def delay(
        self,
        elapsed: float,
        failures: int = 0,
        retry_after: float | None = None,
        slots: tuple[float, float] | None = None,
    ) -> float:
        """Return the seconds to wait before the next poll.

        :param elapsed: seconds since the wait began.
        :param failures: failed polls in a row so far (then the first delay doubles with each).
        :param retry_after: what the service asked for, honoured up to ``max_retry_after``.
        :param slots: :meth:`next_slot` for ``elapsed``, when the caller has it already.
        """
        previous, slot = slots if slots is not None else self.next_slot(elapsed)
        delay = slot - elapsed - random.uniform(0.0, self.jitter_for(previous, slot))
        if failures:
            cap = max(self.max_delay, self.first_delay)
            delay = max(delay, backoff(failures, first=self.first_delay, cap=cap, jitter=0.0))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return max(delay, 0.0)

    def _coalesce_for(self, delay: float) -> float:
        """Return the tick used for a delay: none for delays shorter than two ticks."""
        return self.coalesce if self.coalesce > 0 and delay >= 2 * self.coalesce else 0.0

    def coalesced(self, now: float, delay: float) -> float:
        """Return ``delay`` shortened so that the wake-up falls on a wall-clock multiple of ``coalesce``.

        :param now: the wall-clock time (epoch seconds).
        :param delay: the scheduled delay; one shorter than two ticks is returned unchanged.
        """
        tick = self._coalesce_for(delay)
        if not tick:
            return delay
        return math.floor((now + delay) / tick) * tick - now


class WaitEnd(str, Enum):
    """Why a wait ended."""

    TERMINAL = "terminal"
    TIMEOUT = "timeout"
    ABORTED = "aborted"
    ERROR = "error"


@dataclass(frozen=True)
class WaitResult:
    """The end of a wait: what the trigger sends and what the blocking loop returns."""

    xai_task_id: str
    reason: WaitEnd
    state: TaskState | None = None
    message: str = ""
    status_code: int | None = None
    #: the error was an authentication failure (xAI refuses a wrong key with 400, not 401)
    auth: bool = False

    @classmethod
    def from_error(cls, xai_task_id: str, error: XaiError) -> WaitResult:
        """Return the ending for an error that retrying cannot fix (auth, unknown task, bad answer)."""
        return cls(
            xai_task_id,
            WaitEnd.ERROR,
            message=str(error),
            status_code=getattr(error, "status_code", None),
            auth=isinstance(error, XaiAuthError),
        )

    def to_event(self) -> dict[str, Any]:
        """Return the trigger event payload: small and JSON-serializable."""
        return {
            "xai_task_id": self.xai_task_id,
            "reason": self.reason.value,
            "state": self.state.to_event() if self.state else None,
            "message": self.message,
            "status_code": self.status_code,
            "auth": self.auth,
        }

    @classmethod
    def from_event(cls, event: object) -> WaitResult:
        """Rebuild a result from a trigger event, refusing anything not on the allow-list."""
        if not isinstance(event, Mapping):
            raise XaiError(f"The xAI trigger sent no usable event (got {type(event).__name__}).")
        try:
            reason = WaitEnd(event.get("reason"))
        except ValueError:
            raise XaiError(f"The xAI trigger sent an unknown event reason {event.get('reason')!r}.") from None
        if not isinstance(event.get("xai_task_id"), str):
            raise XaiError("The xAI trigger sent an event without a task id.")
        state = event.get("state")
        return cls(
            xai_task_id=event["xai_task_id"],
            reason=reason,
            state=TaskState.from_event(state) if state is not None else None,
            message=str(event.get("message") or ""),
            status_code=event.get("status_code") if isinstance(event.get("status_code"), int) else None,
            auth=event.get("auth") is True,
        )

    def resolve(self, *, uploaded: bool = False) -> TaskState:
        """Return the finished state on success; raise the one error of every other ending.

        :param uploaded: the service uploads the media itself, so no media URL is needed.
        """
        if self.reason is WaitEnd.TIMEOUT:
            raise XaiWaitTimeoutError(self.message)
        if self.reason is WaitEnd.ABORTED:
            raise XaiWaitAbortedError(self.message)
        if self.reason is WaitEnd.ERROR:
            raise error_for_status(self.status_code, self.message, auth=self.auth)
        if self.state is None:
            raise XaiError(f"The wait for xAI task {self.xai_task_id} ended without a state.")
        outcome = outcome_of(self.state, uploaded=uploaded)
        if outcome is Outcome.SUCCESS:
            return self.state
        if outcome is Outcome.FAILURE:
            raise failure_of(self.state)
        raise XaiError(
            f"The wait for xAI task {self.xai_task_id} ended on non-terminal {self.state.status!r}."
        )


@dataclass
class PollStep:
    """What to do after one poll: sleep ``delay`` seconds, or stop with ``result``."""

    delay: float = 0.0
    result: WaitResult | None = None
    warning: str | None = None


@dataclass
class PollTracker:
    """Track one wait: the same bookkeeping for the blocking loop and the trigger, with no I/O.

    :param xai_task_id: the remote task.
    :param policy: the polling schedule.
    :param started_at: wall-clock start of the wait (epoch seconds).
    :param deadline: wall-clock end of the wait (epoch seconds), or ``None``.
    """

    xai_task_id: str
    policy: PollPolicy
    started_at: float
    deadline: float | None = None
    failures: int = 0
    last_status: str | None = None
    last_error: str | None = None
    polls: int = 0
    _warned: set[str] = field(default_factory=set)
    _slots: tuple[float, float] | None = None  # the last next_slot answer, where the next walk resumes

    def first_step(self, now: float) -> PollStep:
        """Return the step before the first poll: sleep the first delay (shorter near the deadline)."""
        return self._next(now)

    def on_state(self, state: TaskState, now: float) -> PollStep:
        """Record a status answer and say whether to stop or how long to sleep."""
        self.polls += 1
        self.failures = 0
        self.last_status = state.status
        if outcome_of(state) is not Outcome.WAIT:
            return PollStep(result=WaitResult(self.xai_task_id, WaitEnd.TERMINAL, state))
        warning = unknown_status_warning(state)
        if warning and state.status in self._warned:
            warning = None
        self._warned.add(state.status)
        return self._next(now, warning=warning)

    def on_error(self, error: XaiError, now: float) -> PollStep:
        """Record a failed poll; end the wait on an error retrying cannot fix, or after too many in a row.

        A 404 before the task was ever seen, early in the wait, is retried: a service may read behind
        its writes right after a submission (see :meth:`PollPolicy.not_found_grace_for`).
        """
        if isinstance(error, XaiNotFoundError) and self.last_status is None:
            grace = self.policy.not_found_grace_for()
            if now - self.started_at < grace:
                self.polls += 1
                self.last_error = str(error)
                warning = (
                    f"xAI task {self.xai_task_id} is not found yet; a service may read behind its writes, "
                    f"so 404s are retried for the first {grace:g}s of a wait."
                )
                return self._next(now, warning=warning)
        if not isinstance(error, XaiTransientError):
            return PollStep(result=WaitResult.from_error(self.xai_task_id, error))
        self.polls += 1
        self.failures += 1
        self.last_error = str(error)
        if self.failures >= self.policy.max_consecutive_failures:
            message = (
                f"Stopped waiting for xAI task {self.xai_task_id} after {self.failures} failed status "
                f"polls in a row; last error: {self.last_error} (last status seen: {self.last_status})."
            )
            return PollStep(result=WaitResult(self.xai_task_id, WaitEnd.ABORTED, message=message))
        return self._next(
            now, retry_after=error.retry_after, warning=f"Status poll failed, retrying: {error}"
        )

    def _next(self, now: float, retry_after: float | None = None, warning: str | None = None) -> PollStep:
        if self.deadline is not None and now >= self.deadline:
            return PollStep(result=self.timeout_result(now))
        elapsed = now - self.started_at
        self._slots = self.policy.next_slot(elapsed, self._slots)
        delay = self.policy.delay(elapsed, self.failures, retry_after, self._slots)
        if retry_after is None:  # never earlier than the service asked
            delay = self.policy.coalesced(now, delay)
        if self.deadline is not None:
            delay = min(delay, max(self.deadline - now, 0.0))
        return PollStep(delay=delay, warning=warning)

    def timeout_result(self, now: float) -> WaitResult:
        """Return the ending for a wait that reached its deadline."""
        limit = (self.deadline or now) - self.started_at
        message = (
            f"Timed out after waiting {limit:g}s for xAI task {self.xai_task_id}; "
            f"last status seen: {self.last_status!r}"
            + (f"; last error: {self.last_error}" if self.failures else "")
            + ". The remote task may still run and be billed;"
            " with reattach_on_retry a retry reattaches to it."
        )
        return WaitResult(self.xai_task_id, WaitEnd.TIMEOUT, message=message)
