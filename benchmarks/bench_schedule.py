"""Simulate the polling schedule of :class:`~airflow_provider_xai.polling.PollPolicy` (no real waiting).

For each generation time, a wait is replayed through the same :class:`PollTracker` the trigger drives,
with a simulated clock: a poll at ``t`` sees the task finished when ``t >= generation time``. The jitter
is random, so every case is replayed over many seeds; the figures are the median and the worst case.
The schedule is compared with a fixed 5 s interval (no growth, no jitter) in the same run; for that
one the finish falls at a random phase within one interval (else it would poll exactly at the finish).
The targets are checked on the worst case over the jitter (the median and the share of replays that
meet each target are printed too).

Run: ``.venv/bin/python benchmarks/bench_schedule.py [--trials 2000] [--json]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from dataclasses import dataclass

from airflow_provider_xai.polling import DEFAULT_WAIT, IMAGE_WAIT, VIDEO_WAIT, PollPolicy, PollTracker
from airflow_provider_xai.protocol import TaskState

#: The operators' first delays and the trigger's default cap.
IMAGE_FIRST_DELAY = IMAGE_WAIT.first_delay
VIDEO_FIRST_DELAY = VIDEO_WAIT.first_delay
MAX_DELAY = DEFAULT_WAIT.max_delay
FIXED_INTERVAL = 5.0

#: (label, generation seconds, first delay): the targets' cases first, then a spread.
CASES = [
    ("image 10 s", 10.0, IMAGE_FIRST_DELAY),
    ("video 120 s", 120.0, VIDEO_FIRST_DELAY),
    ("image 8 s", 8.0, IMAGE_FIRST_DELAY),
    ("video 30 s", 30.0, VIDEO_FIRST_DELAY),
    ("video 60 s", 60.0, VIDEO_FIRST_DELAY),
    ("video 300 s", 300.0, VIDEO_FIRST_DELAY),
]

_RUNNING = TaskState("sim", "processing")
_DONE = TaskState("sim", "completed", {"data": [{"url": "https://x/a.png"}]}, ("https://x/a.png",))


@dataclass
class Replay:
    """One simulated wait: polls sent and seconds from completion to the event."""

    polls: int
    delay: float


def replay(policy: PollPolicy, generation: float, limit: int = 10_000, start: float = 0.0) -> Replay:
    """Replay one wait for a task that finishes ``generation`` seconds after the wait began.

    :param start: the wall-clock start of the wait (its phase against the coalescing tick).
    """
    tracker = PollTracker("sim", policy, started_at=start)
    now = start
    step = tracker.first_step(now)
    while step.result is None and tracker.polls < limit:
        now += step.delay
        step = tracker.on_state(_DONE if now - start >= generation else _RUNNING, now)
    return Replay(tracker.polls, now - start - generation)


def simulate(
    policy: PollPolicy, generation: float, trials: int, seed: int = 0, phase: float = 0.0
) -> dict[str, float]:
    """Replay a case ``trials`` times (seeded jitter); return median and worst polls and delay.

    :param phase: the task finishes up to this many seconds (uniform) later than ``generation``, so
        that a fixed interval is not credited with polling exactly at the finish.
    """
    state = random.getstate()
    random.seed(seed)
    try:
        runs = [
            replay(policy, generation + random.uniform(0.0, phase), start=1e9 + random.uniform(0.0, 60.0))
            for _ in range(trials if policy.jitter or policy.coalesce or phase else 1)
        ]
    finally:
        random.setstate(state)
    polls = [r.polls for r in runs]
    delays = [r.delay for r in runs]
    return {
        "polls_median": statistics.median(polls),
        "polls_max": max(polls),
        "delay_median": statistics.median(delays),
        "delay_max": max(delays),
        "delay_max_pct": 100.0 * max(delays) / generation,
        "share_polls_le_12": sum(p <= 12 for p in polls) / len(polls),
        "share_delay_le_10pct": sum(d <= 0.1 * generation for d in delays) / len(delays),
        "share_delay_le_2s": sum(d <= 2.0 for d in delays) / len(delays),
    }


def run(trials: int = 2000) -> dict[str, object]:
    """Simulate every case with the default schedule and with a fixed 5 s interval."""
    fixed = PollPolicy(
        first_delay=FIXED_INTERVAL, max_delay=FIXED_INTERVAL, growth=0.0, jitter=0.0, coalesce=0.0
    )
    cases = []
    for label, generation, first_delay in CASES:
        ours = PollPolicy(first_delay=first_delay, max_delay=MAX_DELAY)
        cases.append(
            {
                "case": label,
                "generation_s": generation,
                "first_delay_s": first_delay,
                "ours": simulate(ours, generation, trials),
                "fixed_5s": simulate(fixed, generation, trials, phase=FIXED_INTERVAL),
            }
        )
    defaults = PollPolicy()
    return {
        "trials": trials,
        "policy": {"growth": defaults.growth, "jitter": defaults.jitter, "max_delay": MAX_DELAY},
        "cases": cases,
    }


def checks(result: dict[str, object]) -> list[tuple[str, str, str, bool]]:
    """Return (figure, value, target, passed) rows for the schedule targets (worst case over jitter)."""
    by_case = {case["case"]: case["ours"] for case in result["cases"]}
    video, image = by_case["video 120 s"], by_case["image 10 s"]
    return [
        (
            "video 120 s: polls, median / worst",
            f"{video['polls_median']:.0f} / {video['polls_max']:.0f}"
            f" ({100 * video['share_polls_le_12']:.1f}% of replays <= 12)",
            "<= 12",
            video["polls_max"] <= 12,
        ),
        (
            "video 120 s: detection delay, median / worst",
            f"{video['delay_median']:.1f} / {video['delay_max']:.1f} s ({video['delay_max_pct']:.1f}%;"
            f" {100 * video['share_delay_le_10pct']:.1f}% of replays <= 10%)",
            "<= 10% (12 s)",
            video["delay_max"] <= 12.0,
        ),
        (
            "image 10 s: detection delay, median / worst",
            f"{image['delay_median']:.2f} / {image['delay_max']:.2f} s"
            f" ({100 * image['share_delay_le_2s']:.1f}% of replays <= 2 s)",
            "<= 2 s",
            image["delay_max"] <= 2.0,
        ),
    ]


def format_table(result: dict[str, object]) -> str:
    """Return the per-case table: polls and detection delay, ours next to a fixed 5 s interval."""
    lines = [
        f"{'case':<12} {'first':>5} | {'ours: polls med/max':>19} {'delay med/max (s)':>18} {'max %':>6}"
        f" | {'fixed 5 s: polls':>16} {'delay med/max (s)':>18}"
    ]
    for case in result["cases"]:
        ours, fixed = case["ours"], case["fixed_5s"]
        lines.append(
            f"{case['case']:<12} {case['first_delay_s']:>5.0f} | "
            f"{ours['polls_median']:>9.0f} / {ours['polls_max']:<7.0f} "
            f"{ours['delay_median']:>8.2f} / {ours['delay_max']:<7.2f} {ours['delay_max_pct']:>6.1f}"
            f" | {fixed['polls_median']:>16.0f} {fixed['delay_median']:>8.2f} / {fixed['delay_max']:<7.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000, help="seeded replays per case (jitter)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args.trials)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(format_table(result))
    for figure, value, target, passed in checks(result):
        print(f"{'PASS' if passed else 'MISS'}  {figure}: {value}  (target {target})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
