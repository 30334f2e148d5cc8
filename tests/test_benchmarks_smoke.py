"""The benchmarks run and produce their figures (tiny N, a few seconds; no timing assertions)."""

from __future__ import annotations

import importlib.util
import math
import sys

from tests.conftest import ROOT


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"xai_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_trigger_benchmark_produces_its_figures(monkeypatch):
    bench = load("bench_triggers")
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", "")  # the benchmark points it at its own emulator
    result = bench.run(
        n=5, rounds=1, rate=100.0, window=0.3, poll_interval=0.05, wait_window=0.3, in_process=True
    )
    summary = result["summary"]
    for key in (
        "floor_cpu_per_poll_us",
        "naive_cpu_per_poll_us",
        "ours_cpu_per_poll_us",
        "rss_per_trigger_kb",
        "connections_per_trigger",
        "cpu_share_pct",
    ):
        assert isinstance(summary[key], float) and not math.isnan(summary[key]), key
    rows = bench.checks(result)
    assert len(rows) == 5 and all(len(row) == 4 for row in rows)
    assert "load average" in bench.format_result(result)


def test_schedule_benchmark_produces_its_figures():
    bench = load("bench_schedule")
    result = bench.run(trials=20)
    assert {case["case"] for case in result["cases"]} >= {"image 10 s", "video 120 s"}
    assert len(bench.checks(result)) == 3 and "fixed 5 s" in bench.format_table(result)
