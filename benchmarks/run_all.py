"""Run every benchmark of issue 6 and print each figure next to its target.

Run: ``make bench`` or ``.venv/bin/python benchmarks/run_all.py [--n 1000] [--rounds 3] [--json FILE]``

1. the polling schedule, simulated (seconds);
2. N waiting triggers against the emulator, over HTTPS (as the real service is) and plain HTTP: CPU per
   poll next to the floor and naive baselines, RSS and connections per trigger, CPU share (~5 min each).
   Parts ``https``/``http`` wait on the task gateway, ``xai-https``/``xai-http`` on xAI's own API (video
   request_ids); with both APIs of a scheme selected, their rounds interleave on one emulator and the
   figures are set side by side (~10 min per scheme);
3. media storage against a raw stream copy (~2 min);
4. xAI video delivery into S3 (moto): the service uploads vs the worker downloads (~3 min);
5. end-to-end latency with the real Airflow components (~4 min);
6. the "Generated media" view serving stored files: the api-server's memory and Range latency (~1 min).

A subset: ``--only delivery,xai-https`` (or ``make bench BENCH_ARGS="--only delivery"``).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench_delivery  # noqa: E402
import bench_e2e  # noqa: E402
import bench_media_view  # noqa: E402
import bench_schedule  # noqa: E402
import bench_storage  # noqa: E402
import bench_triggers  # noqa: E402

PARTS = ("schedule", "https", "xai-https", "http", "xai-http", "storage", "delivery", "e2e", "media-view")


def _log(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="waiting triggers (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--trials", type=int, default=2000, help="schedule replays per case")
    parser.add_argument("--storage-size", type=int, default=1_100_000_000, help="media file size, bytes")
    parser.add_argument(
        "--delivery-sizes",
        type=lambda text: tuple(bench_delivery.parse_size(part) for part in text.split(",") if part),
        default=bench_delivery.SIZES,
        help="video sizes of the delivery benchmark (default 50MB,500MB)",
    )
    parser.add_argument(
        "--media-view-sizes",
        type=lambda text: tuple(bench_media_view.parse_size(part) for part in text.split(",") if part),
        default=bench_media_view.SIZES,
        help="file sizes of the media view benchmark (default 50MB,500MB)",
    )
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    parts = [part for part in args.only.split(",") if part]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {','.join(PARTS)}")

    rows: list[tuple[str, str, str, bool]] = []
    figures: dict[str, Any] = {}
    if "schedule" in parts:
        print("== polling schedule (simulation) ==", flush=True)
        figures["schedule"] = bench_schedule.run(args.trials)
        print(bench_schedule.format_table(figures["schedule"]))
        rows += bench_schedule.checks(figures["schedule"])
    for scheme in ("https", "http"):
        # the part of each API: "https" waits on the gateway, "xai-https" on xAI's own API
        apis = {api: part for api, part in (("gateway", scheme), ("xai", f"xai-{scheme}")) if part in parts}
        if not apis:
            continue
        print(
            f"\n== {args.n} waiting triggers over {scheme.upper()} on the {' and '.join(apis)} API"
            f"{'s' if len(apis) > 1 else ''} ({args.rounds} rounds) ==",
            flush=True,
        )
        results = bench_triggers.run_apis(
            tuple(apis), n=args.n, rounds=args.rounds, log=_log, tls=scheme == "https"
        )
        for api, part in apis.items():
            figures[part] = results[api]
            print(bench_triggers.format_result(results[api]))
            rows += bench_triggers.checks(results[api])
        if len(apis) > 1:
            figures[f"xai-vs-gateway-{scheme}"] = bench_triggers.compare(results)
            print(bench_triggers.format_comparison(results))
    if "storage" in parts:
        print("\n== media storage vs a raw stream copy ==", flush=True)
        figures["storage"] = bench_storage.run(args.storage_size, args.rounds, log=_log)
        print(bench_storage.format_result(figures["storage"]))
        rows += bench_storage.checks(figures["storage"])
    if "delivery" in parts:
        print("\n== xAI video delivery into S3: the service uploads vs the worker downloads ==", flush=True)
        figures["delivery"] = bench_delivery.run(args.delivery_sizes, args.rounds, log=_log)
        print(bench_delivery.format_result(figures["delivery"]))
        rows += bench_delivery.checks(figures["delivery"])
    if "e2e" in parts:
        print("\n== end to end on the real Airflow components ==", flush=True)
        figures["e2e"] = bench_e2e.run(log=_log)
        print(bench_e2e.format_result(figures["e2e"]))
        rows += bench_e2e.checks(figures["e2e"])
    if "media-view" in parts:
        print("\n== the Generated media view serving stored files (real api-server) ==", flush=True)
        figures["media-view"] = bench_media_view.run(args.media_view_sizes, args.rounds, log=_log)
        print(bench_media_view.format_result(figures["media-view"]))
        rows += bench_media_view.checks(figures["media-view"])

    print("\n== summary ==")
    for figure, value, target, passed in rows:
        print(f"{'PASS' if passed else 'MISS'}  {figure}: {value}  (target {target})")
    missed = [row for row in rows if not row[3]]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} targets met.")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
