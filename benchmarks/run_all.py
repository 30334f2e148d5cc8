"""Run every benchmark of the trigger and the polling schedule; print each figure next to its target.

Run: ``.venv/bin/python benchmarks/run_all.py [--n 1000] [--rounds 3] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench_schedule  # noqa: E402
import bench_triggers  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="waiting triggers (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--trials", type=int, default=2000, help="schedule replays per case")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    args = parser.parse_args(argv)

    print("== polling schedule (simulation) ==", flush=True)
    schedule = bench_schedule.run(args.trials)
    print(bench_schedule.format_table(schedule))
    rows = bench_schedule.checks(schedule)
    for figure, value, target, passed in rows:
        print(f"{'PASS' if passed else 'MISS'}  {figure}: {value}  (target {target})")

    print(f"\n== {args.n} waiting triggers against the emulator ({args.rounds} rounds) ==", flush=True)
    triggers = bench_triggers.run(
        n=args.n, rounds=args.rounds, log=lambda line: print(f"  {line}", file=sys.stderr, flush=True)
    )
    print(bench_triggers.format_result(triggers))
    rows += bench_triggers.checks(triggers)

    missed = [row for row in rows if not row[3]]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} targets met.")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"schedule": schedule, "triggers": triggers}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
