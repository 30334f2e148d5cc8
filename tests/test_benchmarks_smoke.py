"""The benchmarks run and produce their figures (tiny N, a few seconds; no timing assertions)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys

import pytest

from tests.conftest import ROOT


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"xai_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_trigger_benchmark_produces_its_figures(monkeypatch, tls):
    bench = load("bench_triggers")
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", "")  # the benchmark points it at its own emulator
    result = bench.run(
        n=5,
        rounds=1,
        rate=100.0,
        window=0.3,
        poll_interval=0.05,
        wait_window=0.3,
        in_process=True,
        tls=tls,
        video_first_delay=0.1,
    )
    assert result["scheme"] == ("https" if tls else "http")
    summary = result["summary"]
    for key in (
        "floor_cpu_per_poll_us",
        "naive_cpu_per_poll_us",
        "ours_cpu_per_poll_us",
        "rss_per_trigger_kb",
        "connections_per_trigger",
        "cpu_share_pct",
        "video_cpu_share_pct",
        "steady_cpu_share_pct",
    ):
        assert isinstance(summary[key], float) and not math.isnan(summary[key]), key
    rows = bench.checks(result)
    assert len(rows) == 7 and all(len(row) == 4 for row in rows)
    assert "load average" in bench.format_result(result)


def test_trigger_benchmark_runs_on_both_apis_side_by_side(monkeypatch):
    """``--api both``: xAI's API (video requests polled at /v1/videos/<id>) next to the gateway's."""
    bench = load("bench_triggers")
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", "")  # the benchmark points it at its own emulator
    results = bench.run_apis(
        ("gateway", "xai"),
        n=4,
        rounds=1,
        rate=100.0,
        window=0.3,
        poll_interval=0.05,
        wait_window=0.3,
        in_process=True,
        video_first_delay=0.1,
    )
    assert {api: result["api"] for api, result in results.items()} == {"gateway": "gateway", "xai": "xai"}
    assert results["xai"]["rounds"][0]["modes"]["ours"]["polls"] > 0
    assert results["xai"]["rounds"][0]["waiting"]["polls"] > 0
    comparison = bench.compare(results)
    assert {key for key, _label, _unit in bench.COMPARED} == set(comparison)
    for row in comparison.values():
        assert all(isinstance(row[side], float) and not math.isnan(row[side]) for side in ("xai", "gateway"))
    rows = bench.checks(results["xai"])
    assert len(rows) == 7 and all(row[0].endswith("[HTTP, xai API]") for row in rows)
    assert "xai/gateway" in bench.format_comparison(results)
    assert "api: xai" in bench.format_result(results["xai"])


def test_delivery_benchmark_compares_upload_with_download(monkeypatch):
    """Tiny videos through the real operator into moto's S3 (own process), each way once."""
    bench = load("bench_delivery")
    for name in ("AIRFLOW_CONN_XAI_DEFAULT", "AIRFLOW_CONN_AWS_DEFAULT"):
        monkeypatch.delenv(name, raising=False)  # the workers get their own connections
    result = bench.run(sizes=(300_000,), rounds=1, log=lambda _line: None)
    (one,) = result["results"]
    download, upload = one["per_run"]["download"][0], one["per_run"]["upload"][0]
    for report in (download, upload):
        assert report["status"] == "completed" and report["check"]["size"] == 300_000
        (uri,) = report["outputs"]
        assert uri.startswith("s3://aws_default@xai-bench/bench/") and uri.endswith("_0.mp4")
        assert report["done_to_stored_s"] > 0 and report["total_s"] >= report["done_to_stored_s"]
    # the worker streams the video through itself once in and once out, or not at all
    assert download["bytes"]["emulator"]["received"] > 300_000 and download["bytes"]["s3"]["sent"] > 300_000
    assert bench.worker_bytes(upload) < bench.worker_bytes(download) / 10
    assert upload["bytes"]["emulator"]["received"] < 10_000 and upload["service_uploads"] == [300_000]
    assert one["summary"]["bytes_ratio"] > 10
    rows = bench.checks(result)
    assert len(rows) == 2 and all(len(row) == 4 for row in rows) and rows[0][3]
    assert "download / upload" in bench.format_result(result)
    json.dumps(result)


def test_media_view_benchmark_serves_real_files_through_the_api_server():
    """Tiny files stored by a real run, served by the real api-server (own process), one round."""
    bench = load("bench_media_view")
    result = bench.run(
        sizes=(300_000, 900_000), rounds=1, ranges=3, range_bytes=50_000, log=lambda _line: None
    )
    assert [one["size"] for one in result["results"]] == [300_000, 900_000]
    for one in result["results"]:
        (measured,) = one["per_run"]
        assert measured["full"]["sha256_ok"] and measured["full"]["content_type"] == "video/mp4"
        assert measured["full"]["mb_per_s"] > 0 and measured["full"]["peak_source"] in ("VmHWM", "sampled")
        assert len(measured["ranges"]["latencies_ms"]) == 3
    assert result["server"]["rss_after_warmup_mib"] > 0
    assert result["rss_ratio"]["size_ratio"] == 3
    rows = bench.checks(result)
    assert len(rows) == 5 and all(len(row) == 4 for row in rows) and rows[-1][3]
    assert "range median" in bench.format_result(result)
    json.dumps(result)


def test_storage_benchmark_produces_its_figures():
    bench = load("bench_storage")
    result = bench.run(size=3_000_000, runs=1, log=lambda _line: None)
    assert result["per_run"]["store"][0]["bytes"] == 3_000_000
    rows = bench.checks(result)
    assert len(rows) == 2 and all(len(row) == 4 for row in rows)
    assert "store_media throughput" in bench.format_result(result)


def test_schedule_benchmark_produces_its_figures():
    bench = load("bench_schedule")
    result = bench.run(trials=20)
    assert {case["case"] for case in result["cases"]} >= {"image 10 s", "video 120 s"}
    assert len(bench.checks(result)) == 3 and "fixed 5 s" in bench.format_table(result)


def _iso(moment: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(moment, timezone.utc).isoformat().replace("+00:00", "Z")


def test_e2e_benchmark_joins_its_sources_into_figures(tmp_path):
    """The end-to-end benchmark's analysis on made-up sources (the real stack is ``tests/system``)."""
    bench = load("bench_e2e")
    t0 = 1_800_000_000.0
    created, started, done = t0, t0 + 0.3, t0 + 10.0  # a 10 s image; the wait began 0.3 s in
    fired, scheduled, queued, first_line, finishing, end = (
        t0 + x for x in (10.31, 10.9, 11.5, 12.0, 13.0, 14.0)
    )
    tis = [
        {
            "task_id": "image",
            "map_index": 0,
            "state": "success",
            "try_number": 1,
            "scheduled_when": _iso(scheduled),
            "queued_when": _iso(queued),
            "end_date": _iso(end),
        }
    ]
    emulator_tasks = [
        {
            "taskId": "ab12",
            "body": {"prompt": "benchmark image 0 [xai:seconds=10.0]"},
            "createdAt": _iso(created),
            "finishedAt": _iso(done),
        }
    ]
    polls = [started, started + 2, started + 4, started + 6, started + 8, started + 10]
    requests_log = [
        {"method": "GET", "path": "/xai/tasks", "status": 200, "query": {"taskId": "ab12"}, "time": t}
        for t in polls
    ]
    folder = tmp_path / "dag_id=xai_bench_e2e" / "run_id=r" / "task_id=image" / "map_index=0"
    folder.mkdir(parents=True)
    event = "TriggerEvent<{'xai_task_id': 'ab12', 'reason': 'terminal'}>"
    (folder / "attempt=1.log.trigger.1.log").write_text(
        json.dumps({"timestamp": _iso(fired), "event": "Trigger fired event", "result": event}) + "\n"
    )
    lines = [
        (t0 - 5, "::group::Pre Execute"),
        (t0 - 1, "Pausing task as DEFERRED. "),
        (first_line, "::group::Pre Execute"),
        (finishing, "xAI task ab12 completed with 1 media URL(s); trace id t"),
    ]
    (folder / "attempt=1.log").write_text(
        "".join(json.dumps({"timestamp": _iso(t), "event": e}) + "\n" for t, e in lines) + "not json\n"
    )

    records = bench.timelines(
        tis,
        emulator_tasks,
        requests_log,
        bench.trigger_events(tmp_path),
        bench.worker_finishes(tmp_path),
        {"image": 2.0, "video": 10.0},
    )
    (record,) = records
    assert record["xai_task_id"] == "ab12" and record["polls"] == 5
    assert math.isclose(record["detection"], 0.31, abs_tol=1e-3)
    assert math.isclose(record["to_detecting_poll"], 0.3, abs_tol=1e-3)
    assert math.isclose(record["expected_detection"], 0.3, abs_tol=1e-3)  # the slot 10 s after the start
    assert math.isclose(record["resume"], 3.69, abs_tol=1e-3)
    assert math.isclose(record["queued_to_worker"], 0.5, abs_tol=1e-3)
    assert math.isclose(record["storing"], 1.0, abs_tol=1e-3)

    summary = bench.summarize(records, "image")
    assert summary["clean"] == 1 and math.isclose(summary["total"]["max"], 4.0, abs_tol=1e-3)
    load_during_run = {"min": 1.0, "median": 1.5, "max": 2.0}
    machine = {"nproc": 2, "loadavg": [1.0, 1.0, 1.0]}
    result = {
        "config": {
            "images": 1,
            "image_seconds": 10.0,
            "image_poll_interval": 2.0,
            "videos": 0,
            "parallelism": 4,
        },
        "machine_before": machine,
        "machine_after": machine,
        "ready_s": 30.0,
        "run_s": 20.0,
        "wall_s": 60.0,
        "run_state": "success",
        "load_during_run": load_during_run,
        "cpu_busy_pct": 50.0,
        "kinds": {"image": summary, "video": bench.summarize(records, "video")},
        "retried": [],
        "race": {"scheduler_log_hits": 0, "retried_explained": 0},
    }
    rows = bench.checks(result)
    assert len(rows) == 1 and all(len(row) == 4 for row in rows)
    assert "completion -> success" in bench.format_result(result)
    assert bench.race_hits(
        "<TaskInstance: xai_bench_e2e.image r map_index=3 [queued]> finished with state success, "
        "but the task instance's state attribute is queued",
        "r",
    ) == {("image", 3)}
