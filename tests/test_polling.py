"""The pure polling layer: the schedule, the tracker and how a wait ends."""

from __future__ import annotations

import json
import random
import re

import pytest

from airflow_provider_xai import polling
from airflow_provider_xai.exceptions import (
    XaiAuthError,
    XaiConnectionError,
    XaiError,
    XaiHttpError,
    XaiNoMediaError,
    XaiNotFoundError,
    XaiRateLimitedError,
    XaiServiceError,
    XaiTaskFailedError,
    XaiTransientError,
    XaiWaitAbortedError,
    XaiWaitTimeoutError,
)
from airflow_provider_xai.polling import PollPolicy, PollTracker, WaitEnd, WaitResult, backoff
from airflow_provider_xai.protocol import TaskState

T0 = 1_750_000_000.0  # a wall-clock start, epoch seconds
MEDIA = "https://cdn.example.com/a.jpeg"


def state(status, result=None, task_id="task-1", **kwargs):
    media = (MEDIA,) if result is not None and MEDIA in json.dumps(result) else ()
    return TaskState(task_id, status, result, media, **kwargs)


DONE = state("completed", {"data": [{"url": MEDIA}]})
NO_MEDIA = state("completed", {"respect_moderation": False})
FAILED = state("failed", error_code=4001, error_message="policy", trace_id="tr")
RUNNING = state("processing")


def exact(**kwargs):
    """Return a policy without jitter or coalescing, for exact checks."""
    return PollPolicy(**{"jitter": 0.0, "coalesce": 0.0, **kwargs})


# --------------------------------------------------------------------------------------------------
# backoff: the submission retries' delays
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("attempt", "kwargs", "latest", "earliest"),
    [
        pytest.param(0, {}, 1.0, 0.8, id="first-retry"),
        pytest.param(1, {}, 2.0, 1.6, id="doubles"),
        pytest.param(4, {}, 16.0, 12.8, id="fifth-retry"),
        pytest.param(5, {}, 30.0, 24.0, id="capped"),
        pytest.param(10_000, {}, 30.0, 24.0, id="huge-attempt-no-overflow"),
        pytest.param(0, {"first": 0.25}, 0.25, 0.2, id="fractional-first"),
        pytest.param(3, {"first": 0.5, "cap": 3.0}, 3.0, 2.4, id="custom-cap"),
        pytest.param(2, {"jitter": 0.0}, 4.0, 4.0, id="no-jitter"),
        pytest.param(2, {"jitter": 0.5}, 4.0, 2.0, id="wide-jitter"),
    ],
)
def test_backoff(monkeypatch, attempt, kwargs, latest, earliest):
    monkeypatch.setattr(polling.random, "uniform", lambda a, b: a)  # no jitter drawn
    assert backoff(attempt, **kwargs) == pytest.approx(latest)
    monkeypatch.setattr(polling.random, "uniform", lambda a, b: b)  # the most jitter
    assert backoff(attempt, **kwargs) == pytest.approx(earliest)


def test_backoff_spreads_within_its_bounds():
    delays = {backoff(3) for _ in range(300)}
    assert all(6.4 <= d <= 8.0 for d in delays)
    assert len(delays) > 1


# --------------------------------------------------------------------------------------------------
# PollPolicy.delay
# --------------------------------------------------------------------------------------------------
def test_policy_defaults():
    policy = PollPolicy()
    assert (policy.first_delay, policy.max_delay, policy.growth, policy.jitter) == (5.0, 30.0, 0.1, 0.05)
    assert (policy.max_consecutive_failures, policy.max_retry_after) == (5, 300.0)


@pytest.mark.parametrize(
    ("policy", "elapsed", "failures", "retry_after", "expected"),
    [
        pytest.param(exact(first_delay=5), 0, 0, None, 5.0, id="first-delay"),
        pytest.param(exact(first_delay=0.05), 0, 0, None, 0.05, id="fractional-first-delay"),
        pytest.param(exact(first_delay=5), 40, 0, None, 5.0, id="growth-below-first-delay"),
        pytest.param(exact(first_delay=5, growth=0.0), 10_000, 0, None, 5.0, id="no-growth"),
        pytest.param(exact(first_delay=5), 0, 1, None, 10.0, id="one-failure-doubles"),
        pytest.param(exact(first_delay=5), 0, 2, None, 20.0, id="two-failures-quadruple"),
        pytest.param(exact(first_delay=5), 0, 3, None, 30.0, id="failures-capped"),
        pytest.param(exact(first_delay=1), 0, 1000, None, 30.0, id="many-failures-no-overflow"),
        pytest.param(
            exact(first_delay=1, max_delay=100), 100, 5, None, 32.0, id="failure-backoff-beats-grown-delay"
        ),
        pytest.param(exact(first_delay=5), 0, 0, 12.0, 12.0, id="retry-after-honoured"),
        pytest.param(exact(first_delay=5), 0, 0, 2.0, 5.0, id="retry-after-shorter-ignored"),
        pytest.param(exact(first_delay=5), 0, 0, 0.0, 5.0, id="retry-after-zero"),
        pytest.param(exact(first_delay=5), 0, 0, 120.0, 120.0, id="retry-after-above-max-delay"),
        pytest.param(exact(first_delay=5), 0, 0, 10_000.0, 300.0, id="retry-after-capped"),
        pytest.param(exact(first_delay=5, max_retry_after=60), 0, 0, 90.0, 60.0, id="retry-after-custom-cap"),
        pytest.param(exact(first_delay=5), 0, 0, float("inf"), 300.0, id="retry-after-infinite"),
        pytest.param(exact(first_delay=1), 0, 2, 3.0, 4.0, id="backoff-beats-retry-after"),
    ],
)
def test_policy_delay(policy, elapsed, failures, retry_after, expected):
    assert policy.delay(elapsed, failures, retry_after) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("moment", "interval"),
    [(0, 5.0), (40, 5.0), (100, 10.0), (250, 25.0), (300, 30.0), (10_000, 30.0)],
)
def test_nominal_interval_grows_with_the_time_waited_up_to_the_cap(moment, interval):
    assert exact(first_delay=5).interval_after(moment) == pytest.approx(interval)


@pytest.mark.parametrize("elapsed", [0, 3, 40, 100, 250, 10_000])
def test_delay_reaches_the_next_nominal_slot(elapsed):
    policy = exact(first_delay=5)
    previous, slot = policy.next_slot(elapsed)
    assert previous <= elapsed < slot and slot - previous == pytest.approx(
        policy.interval_after(previous) or 5
    )
    assert policy.delay(elapsed) == pytest.approx(slot - elapsed)


def test_policy_delays_grow_exponentially_over_a_wait():
    policy = exact(first_delay=1, max_delay=1000, growth=0.5)
    elapsed, delays = 0.0, []
    for _ in range(8):
        delay = policy.delay(elapsed)
        delays.append(delay)
        elapsed += delay
    assert delays == [1.0, 1.0, 1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375]


def test_failure_backoff_beats_the_schedule_only_when_longer():
    assert exact(first_delay=1).delay(100, failures=1) == pytest.approx(exact(first_delay=1).delay(100))
    assert exact(first_delay=1, max_delay=100).delay(100, failures=5) == pytest.approx(32.0)


@pytest.mark.parametrize("draw", ["low", "high"])
def test_policy_jitter_only_moves_polls_earlier(monkeypatch, draw):
    monkeypatch.setattr(polling.random, "uniform", lambda a, b: a if draw == "low" else b)
    policy = PollPolicy(first_delay=10, max_delay=30, jitter=0.2)
    early = 0.2 if draw == "high" else 0.0
    assert policy.delay(0) == 10  # no jitter while the intervals are still the first delay
    previous, slot = policy.next_slot(10_000)
    assert policy.delay(10_000) == pytest.approx(slot - 10_000 - early * (slot - previous))
    # never later than the nominal slot; after an early poll the gap may exceed the cap by the jitter
    assert policy.delay(10_000) <= 30 * 1.2
    # a Retry-After above the delay is honoured as asked, without jitter
    assert policy.delay(0, retry_after=45) == 45


def test_an_early_poll_is_not_repeated_at_its_slot():
    policy = PollPolicy(first_delay=10, jitter=0.2, coalesce=0.0)
    # slots 110 then 121 (growth 0.1 beyond 100 s): a poll made inside the jitter window of 121 s
    # (up to 2.2 s early) waits for the slot after it
    assert policy.next_slot(119.5) == pytest.approx((121.0, 133.1))
    assert policy.next_slot(118.5) == pytest.approx((110.0, 121.0))


def test_policy_jitter_stays_within_bounds():
    policy = PollPolicy(first_delay=10, jitter=0.1, coalesce=0.0)
    delays = {policy.delay(110.0) for _ in range(300)}  # the next slot is 121 s (an 11 s interval)
    assert all(11.0 - 1.1 <= d <= 11.0 for d in delays)
    assert len(delays) > 1  # the delays do spread


def test_no_jitter_while_the_intervals_are_the_first_delay():
    """Two polls are then never more than ``first_delay`` apart: a 10 s image is detected within 2 s."""
    policy = PollPolicy(first_delay=2.0, coalesce=0.0)
    assert {policy.delay(e) for e in (0.0, 3.0, 9.5) for _ in range(50)} == {2.0, 1.0, 0.5}


def test_policy_never_negative():
    assert PollPolicy(first_delay=0.0, jitter=0.5).delay(0) >= 0.0


@pytest.mark.parametrize("start", [T0, T0 + 0.13, T0 + 0.249, T0 + 7.001])
@pytest.mark.parametrize("delay", [0.5, 2.0, 10.0, 29.87])
def test_coalesced_wake_ups_fall_on_the_tick_and_are_never_later(start, delay):
    policy = PollPolicy(coalesce=0.25)
    coalesced = policy.coalesced(start, delay)
    assert delay - 0.25 < coalesced <= delay
    wake = (start + coalesced) / 0.25
    assert wake == pytest.approx(round(wake), abs=1e-6)


def test_delays_shorter_than_two_ticks_are_not_coalesced():
    assert PollPolicy(coalesce=0.25).coalesced(T0 + 0.1, 0.49) == 0.49
    assert PollPolicy(coalesce=0.0).coalesced(T0 + 0.1, 10.0) == 10.0


def test_waiters_started_apart_wake_together():
    policy = PollPolicy(first_delay=5.0, jitter=0.0, coalesce=0.25)
    wakes = {
        round(start + PollTracker("t", policy, started_at=start).first_step(start).delay, 6)
        for start in (T0 + 0.01, T0 + 0.07, T0 + 0.2)
    }
    assert wakes == {T0 + 5.0}


def test_coalescing_keeps_the_schedule_bounds():
    """Coalesced polls come a little early: at most one poll more, detection within one interval."""
    rng = random.Random(7)
    for generation in (10.0, 37.5, 120.0, 600.0):
        for _ in range(50):
            start = T0 + rng.uniform(0, 60)
            results = []
            for coalesce in (0.0, 0.25):
                policy = PollPolicy(first_delay=2.0, jitter=0.0, coalesce=coalesce)
                t = PollTracker("t", policy, start)
                now, step = start, t.first_step(start)
                while step.result is None:
                    now += step.delay
                    step = t.on_state(DONE if now - start >= generation else RUNNING, now)
                results.append((t.polls, now - start - generation))
            (plain_polls, _), (polls, delay) = results
            assert plain_polls <= polls <= plain_polls + 1
            assert 0 <= delay <= policy.interval_after(generation) + 1e-6


def test_a_retry_after_is_not_shortened_by_coalescing():
    t = PollTracker("t", PollPolicy(first_delay=1.0, coalesce=0.25), started_at=T0 + 0.1)
    busy = XaiTransientError("busy")
    busy.retry_after = 7.3
    step = t.on_error(busy, T0 + 0.1)
    assert step.delay >= 7.3


def test_first_delay_above_the_cap_is_honoured():
    assert exact(first_delay=60).delay(0) == 60.0


# --------------------------------------------------------------------------------------------------
# PollTracker
# --------------------------------------------------------------------------------------------------
def tracker(deadline=None, **policy):
    policy = {"first_delay": 1.0, "max_delay": 30.0, "growth": 0.1, "max_consecutive_failures": 3, **policy}
    return PollTracker("task-1", exact(**policy), started_at=T0, deadline=deadline)


def test_first_step_sleeps_the_first_delay():
    step = tracker().first_step(T0)
    assert (step.delay, step.result, step.warning) == (1.0, None, None)


def test_first_step_is_clipped_to_a_near_deadline():
    assert tracker(deadline=T0 + 0.25).first_step(T0).delay == pytest.approx(0.25)


@pytest.mark.parametrize("deadline", [T0, T0 - 5], ids=["deadline-now", "deadline-past"])
def test_first_step_after_the_deadline_times_out(deadline):
    step = tracker(deadline=deadline).first_step(T0)
    assert step.result is not None
    assert step.result.reason is WaitEnd.TIMEOUT


@pytest.mark.parametrize(
    "final",
    [
        pytest.param(DONE, id="completed"),
        pytest.param(NO_MEDIA, id="completed-without-media"),
        pytest.param(FAILED, id="failed"),
        pytest.param(state("cancelled"), id="cancelled"),
        pytest.param(state("timeout"), id="timeout"),
    ],
)
def test_terminal_state_ends_the_wait(final):
    t = tracker()
    t.first_step(T0)
    assert t.on_state(RUNNING, T0 + 1).result is None
    step = t.on_state(final, T0 + 2)
    assert step.result == WaitResult("task-1", WaitEnd.TERMINAL, final)
    assert step.delay == 0.0
    assert (t.polls, t.last_status) == (2, final.status)


@pytest.mark.parametrize("status", ["pending", "ready", "assigned", "processing"])
def test_non_terminal_states_keep_waiting(status):
    t = tracker()
    step = t.on_state(state(status), T0 + 100)
    assert step.result is None
    assert step.warning is None
    previous, slot = exact(first_delay=1.0).next_slot(100)
    assert step.delay == pytest.approx(slot - 100) and slot - previous == pytest.approx(10.0, abs=1.0)


def test_delays_follow_the_elapsed_time():
    t = tracker()
    policy = exact(first_delay=1.0, max_delay=30.0, growth=0.1)
    for e in (1, 50, 200, 1000):
        assert t.on_state(RUNNING, T0 + e).delay == pytest.approx(policy.next_slot(e)[1] - e)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(XaiServiceError("502 Bad Gateway", status_code=502), id="5xx"),
        pytest.param(XaiRateLimitedError("429 slow down", retry_after=None), id="429"),
        pytest.param(XaiConnectionError("connection reset", request_sent=True), id="connection"),
    ],
)
def test_transient_errors_under_the_limit_sleep_with_backoff(error):
    t = tracker()
    first = t.on_error(error, T0 + 1)
    second = t.on_error(error, T0 + 2)
    assert (first.result, second.result) == (None, None)
    assert (first.delay, second.delay) == (2.0, 4.0)
    assert first.warning == f"Status poll failed, retrying: {error}"
    assert t.failures == 2


def test_transient_errors_at_the_limit_abort():
    t = tracker()
    t.on_state(RUNNING, T0 + 1)
    t.on_error(XaiConnectionError("connection reset", request_sent=True), T0 + 2)
    t.on_error(XaiRateLimitedError("429 slow down", retry_after=1), T0 + 3)
    step = t.on_error(XaiServiceError("503 overloaded", status_code=503), T0 + 4)
    result = step.result
    assert result is not None
    assert result.reason is WaitEnd.ABORTED
    assert result.xai_task_id == "task-1"
    assert "3 failed status polls in a row" in result.message
    assert "503 overloaded" in result.message  # the last error
    assert "429 slow down" not in result.message
    assert "last status seen: processing" in result.message
    with pytest.raises(XaiWaitAbortedError, match="after 3 failed"):
        result.resolve()


def test_limit_of_one_aborts_on_the_first_failure():
    step = tracker(max_consecutive_failures=1).on_error(XaiConnectionError("x", request_sent=False), T0)
    assert step.result.reason is WaitEnd.ABORTED
    assert "after 1 failed" in step.result.message


def test_a_success_resets_the_failure_count():
    t = tracker()
    error = XaiServiceError("500", status_code=500)
    t.on_error(error, T0 + 1)
    t.on_error(error, T0 + 2)
    assert t.on_state(RUNNING, T0 + 3).delay == 1.0
    assert t.failures == 0
    step = t.on_error(error, T0 + 4)
    assert step.result is None
    assert step.delay == 2.0  # one failure again, not three
    assert t.on_error(error, T0 + 5).result is None
    assert t.on_error(error, T0 + 6).result.reason is WaitEnd.ABORTED
    assert t.polls == 6


def test_retry_after_is_honoured_and_capped():
    t = tracker(max_retry_after=60)
    assert t.on_error(XaiRateLimitedError("429", retry_after=17.0), T0).delay == 17.0
    assert t.on_error(XaiRateLimitedError("429", retry_after=999.0), T0).delay == 60.0


def test_deadline_times_out_with_a_clear_message():
    t = tracker(deadline=T0 + 10)
    t.first_step(T0)
    t.on_state(RUNNING, T0 + 5)
    step = t.on_state(RUNNING, T0 + 10)
    result = step.result
    assert result is not None
    assert result.reason is WaitEnd.TIMEOUT
    assert "Timed out after waiting 10s for xAI task task-1" in result.message
    assert "last status seen: 'processing'" in result.message
    assert "last error" not in result.message
    assert "reattach" in result.message
    with pytest.raises(XaiWaitTimeoutError, match="Timed out after waiting 10s"):
        result.resolve()


def test_deadline_reached_during_failures_names_the_last_error():
    t = tracker(deadline=T0 + 10, max_consecutive_failures=10)
    t.on_error(XaiServiceError("502 from the proxy", status_code=502), T0 + 5)
    result = t.on_error(XaiServiceError("504 from the proxy", status_code=504), T0 + 11).result
    assert result.reason is WaitEnd.TIMEOUT
    assert "last error: 504 from the proxy" in result.message
    assert "last status seen: None" in result.message


def test_terminal_state_after_the_deadline_still_wins():
    t = tracker(deadline=T0 + 10)
    step = t.on_state(DONE, T0 + 50)
    assert step.result.reason is WaitEnd.TERMINAL
    assert step.result.resolve() == DONE


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(T0 + 9.5, 0.5, id="0.5s-left"),
        pytest.param(T0 + 9.999, 0.001, id="1ms-left"),
        pytest.param(T0 + 1, 1.0, id="far-from-deadline"),
    ],
)
def test_delays_are_clipped_to_the_deadline(now, expected):
    assert tracker(deadline=T0 + 10).on_state(RUNNING, now).delay == pytest.approx(expected, abs=1e-5)


def test_error_backoff_and_retry_after_are_clipped_to_the_deadline():
    t = tracker(deadline=T0 + 10)
    assert t.on_error(XaiRateLimitedError("429", retry_after=120), T0 + 7).delay == pytest.approx(3.0)


def test_unknown_status_warns_once_per_status():
    t = tracker()
    warnings = [
        t.on_state(state(status), T0 + i).warning
        for i, status in enumerate(["queued", "queued", "processing", "queued", "paused", "paused"])
    ]
    assert warnings[0] is not None and "'queued'" in warnings[0]
    assert warnings[1:4] == [None, None, None]
    assert warnings[4] is not None and "'paused'" in warnings[4]
    assert warnings[5] is None


def test_unknown_status_keeps_waiting_until_the_deadline():
    t = tracker(deadline=T0 + 10)
    assert t.on_state(state("queued"), T0 + 1).result is None
    result = t.on_state(state("queued"), T0 + 10).result
    assert result.reason is WaitEnd.TIMEOUT
    assert "'queued'" in result.message


def test_a_whole_wait_from_submit_to_success():
    t = tracker(deadline=T0 + 600)
    now = T0
    step = t.first_step(now)
    answers = [state("pending"), XaiServiceError("502", status_code=502), RUNNING, RUNNING, DONE]
    for answer in answers:
        assert step.result is None
        now += step.delay
        if isinstance(answer, TaskState):
            step = t.on_state(answer, now)
        else:
            step = t.on_error(answer, now)
    assert step.result.reason is WaitEnd.TERMINAL
    assert step.result.resolve() is DONE
    assert t.polls == 5


# --------------------------------------------------------------------------------------------------
# WaitResult: the trigger event and its resolution
# --------------------------------------------------------------------------------------------------
RESULTS = [
    pytest.param(WaitResult("task-1", WaitEnd.TERMINAL, DONE), id="terminal-completed"),
    pytest.param(WaitResult("task-1", WaitEnd.TERMINAL, FAILED), id="terminal-failed"),
    pytest.param(WaitResult("task-1", WaitEnd.TIMEOUT, message="timed out"), id="timeout"),
    pytest.param(WaitResult("task-1", WaitEnd.ABORTED, message="gave up"), id="aborted"),
    pytest.param(WaitResult("task-1", WaitEnd.ERROR, message="bad key", status_code=401), id="error-401"),
    pytest.param(WaitResult("task-1", WaitEnd.ERROR, message="odd answer"), id="error-no-status"),
]


@pytest.mark.parametrize("result", RESULTS)
def test_wait_result_event_round_trip(result):
    event = result.to_event()
    wire = json.loads(json.dumps(event))
    assert wire == event
    assert set(event) == {"xai_task_id", "reason", "state", "message", "status_code", "auth"}
    assert WaitResult.from_event(wire) == result


def test_wait_result_event_is_small():
    assert len(json.dumps(WaitResult("task-1", WaitEnd.TERMINAL, DONE).to_event())) < 1000


@pytest.mark.parametrize(
    ("event", "match"),
    [
        pytest.param(None, "no usable event", id="None"),
        pytest.param("terminal", "no usable event", id="string"),
        pytest.param(["terminal"], "no usable event", id="list"),
        pytest.param(
            {"xai_task_id": "t", "reason": "exploded"}, "unknown event reason 'exploded'", id="reason"
        ),
        pytest.param({"xai_task_id": "t"}, "unknown event reason None", id="no-reason"),
        pytest.param({"reason": "timeout"}, "without a task id", id="no-task-id"),
        pytest.param({"reason": "timeout", "xai_task_id": 5}, "without a task id", id="int-task-id"),
        pytest.param(
            {"reason": "terminal", "xai_task_id": "t", "state": {"status": "completed"}},
            "Malformed task state",
            id="state-without-id",
        ),
        pytest.param(
            {"reason": "terminal", "xai_task_id": "t", "state": "completed"},
            "Malformed task state",
            id="state-not-a-dict",
        ),
    ],
)
def test_wait_result_from_bad_event_raises(event, match):
    with pytest.raises(XaiError, match=match):
        WaitResult.from_event(event)


def test_wait_result_from_event_tolerates_missing_optional_fields():
    result = WaitResult.from_event({"reason": "timeout", "xai_task_id": "t", "status_code": "401"})
    assert result == WaitResult("t", WaitEnd.TIMEOUT, None, "", None)


@pytest.mark.parametrize(
    ("result", "error", "match"),
    [
        pytest.param(
            WaitResult("t", WaitEnd.TIMEOUT, message="timed out after 10s"),
            XaiWaitTimeoutError,
            "timed out after 10s",
            id="timeout",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.ABORTED, message="5 failed polls"),
            XaiWaitAbortedError,
            "5 failed polls",
            id="aborted",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.ERROR, message="bad key", status_code=401),
            XaiAuthError,
            "bad key",
            id="401",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.ERROR, message="no access", status_code=403),
            XaiAuthError,
            "no access",
            id="403",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.ERROR, message="unknown task", status_code=404),
            XaiNotFoundError,
            "unknown task",
            id="404",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.ERROR, message="bad request", status_code=400),
            XaiHttpError,
            "bad request",
            id="400",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.ERROR, message="odd answer"), XaiError, "odd answer", id="error-no-status"
        ),
        pytest.param(WaitResult("t", WaitEnd.TERMINAL, FAILED), XaiTaskFailedError, "'failed'", id="failed"),
        pytest.param(
            WaitResult("t", WaitEnd.TERMINAL, state("cancelled")),
            XaiTaskFailedError,
            "'cancelled'",
            id="cancelled",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.TERMINAL, state("timeout")),
            XaiTaskFailedError,
            "'timeout'",
            id="remote-timeout",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.TERMINAL, NO_MEDIA),
            XaiNoMediaError,
            "completed without media",
            id="no-media",
        ),
        pytest.param(
            WaitResult("t", WaitEnd.TERMINAL), XaiError, "ended without a state", id="terminal-no-state"
        ),
        pytest.param(
            WaitResult("t", WaitEnd.TERMINAL, RUNNING),
            XaiError,
            "non-terminal 'processing'",
            id="non-terminal",
        ),
    ],
)
def test_resolve_raises_the_one_error(result, error, match):
    with pytest.raises(error, match=match) as excinfo:
        result.resolve()
    assert type(excinfo.value) is error


def test_resolve_returns_the_state_on_success():
    assert WaitResult("task-1", WaitEnd.TERMINAL, DONE).resolve() is DONE


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(WaitResult("t", WaitEnd.TERMINAL, DONE), id="success"),
        pytest.param(WaitResult("t", WaitEnd.TERMINAL, FAILED), id="failed"),
        pytest.param(WaitResult("t", WaitEnd.ERROR, message="m", status_code=404), id="404"),
        pytest.param(WaitResult("t", WaitEnd.TIMEOUT, message="m"), id="timeout"),
    ],
)
def test_resolve_is_the_same_after_an_event_round_trip(result):
    rebuilt = WaitResult.from_event(json.loads(json.dumps(result.to_event())))
    try:
        direct = result.resolve()
    except XaiError as exc:
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            rebuilt.resolve()
    else:
        assert rebuilt.resolve() == direct


@pytest.mark.parametrize(
    ("error", "status_code", "raised"),
    [
        pytest.param(
            XaiAuthError("bad key for 'xai_default'", status_code=401), 401, XaiAuthError, id="auth"
        ),
        pytest.param(
            XaiNotFoundError("no such task", status_code=404), 404, XaiNotFoundError, id="not-found"
        ),
        pytest.param(XaiError("answer is not JSON"), None, XaiError, id="plain"),
    ],
)
def test_wait_result_from_error(error, status_code, raised):
    result = WaitResult.from_error("task-1", error)
    expected = WaitResult(
        "task-1", WaitEnd.ERROR, message=str(error), status_code=status_code, auth=raised is XaiAuthError
    )
    assert result == expected
    with pytest.raises(raised, match=re.escape(str(error))) as excinfo:
        WaitResult.from_event(result.to_event()).resolve()
    assert type(excinfo.value) is raised


def test_a_wake_up_slightly_early_counts_as_its_slot():
    """Sleeping on the monotonic clock can wake a hair before the wall-clock slot: no second poll."""
    t = PollTracker("t", exact(first_delay=2.0), started_at=T0)
    assert t.first_step(T0).delay == 2.0
    step = t.on_state(RUNNING, T0 + 2.0 - 0.001)
    assert step.delay == pytest.approx(2.001)


@pytest.mark.parametrize("first_delay", [1.0, 2.0, 10.0])
def test_resuming_the_slot_walk_gives_the_same_answer(first_delay):
    policy = PollPolicy(first_delay=first_delay)
    hint = None
    for elapsed in [0.0, 0.5, 3.0, 9.99, 50.0, 123.4, 600.0, 3600.0, 3599.0, 7200.0]:
        hint = policy.next_slot(elapsed, hint)
        assert hint == policy.next_slot(elapsed)


def test_the_tracker_resumes_the_slot_walk_and_polls_as_before():
    plain = exact(first_delay=2.0)
    t = PollTracker("t", plain, started_at=T0)
    t.first_step(T0)
    for elapsed in (2.0, 4.0, 30.0, 400.0, 3600.0):
        assert t.on_state(RUNNING, T0 + elapsed).delay == pytest.approx(plain.delay(elapsed))


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [(2.0, 2.0, 2.4), (86400.0, 300.0, 360.0), (0.0, 0.0, 0.0)],
)
def test_a_submission_honours_retry_after_capped_like_polling(retry_after, low, high):
    from airflow_provider_xai.polling import MAX_RETRY_AFTER, PollPolicy, submission_delay

    delays = [submission_delay(0, retry_after) for _ in range(50)]
    assert all(low <= d <= high for d in delays)
    assert PollPolicy().max_retry_after == MAX_RETRY_AFTER  # one cap for polls and submissions
    assert PollPolicy().delay(0.0, retry_after=retry_after) <= MAX_RETRY_AFTER


def test_a_wrong_key_ends_as_an_auth_error_in_the_event_too():
    """xAI refuses a wrong key with 400: the trigger's event must not turn it into a plain HTTP error."""
    from airflow_provider_xai.exceptions import XaiAuthError
    from airflow_provider_xai.protocol import classify_http_error

    error = classify_http_error(
        400, '{"code": "x", "error": "Incorrect API key provided: xa***4f."}', what="GET", conn_id="c"
    )
    assert type(error) is XaiAuthError
    event = WaitResult.from_error("r1", error).to_event()
    with pytest.raises(XaiAuthError) as rebuilt:
        WaitResult.from_event(event).resolve()
    assert str(rebuilt.value) == str(error) and "xa***4f" not in str(error)
