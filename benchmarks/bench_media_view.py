"""Benchmark the "Generated media" view's file endpoint: memory and speed of serving a stored video.

Not a test. Run it with ``.venv/bin/python benchmarks/bench_media_view.py`` (``--sizes 50MB,500MB``,
``--rounds 3``, ``--quick`` for 5 MB and 20 MB and one round); ``benchmarks/run_all.py`` runs it with the
other benchmarks (``--only media-view``).

The claim measured: ``GET /xai-media/file?dag_id=&run_id=&task_id=&map_index=&uri=`` streams a task's stored
file in chunks (``plugins/files.py``, 256 KiB reads), so the api-server's memory does not grow with the
file's size, and a ``Range`` request (a video player seeking) is answered quickly, whatever the size.

Four kinds of process, so that the server's memory and CPU are its own:

* the emulator (``python -m airflow_provider_xai.emulator``), in its own process; a prompt's
  ``[xai:size=N]`` makes its video exactly N bytes;
* a setup process in a private ``AIRFLOW_HOME`` (a temporary folder, SQLite): it creates the metadata DB
  (``airflow.utils.db.resetdb``, as ``tests/conftest.py`` does) and runs one ``dag.test()`` of a DAG this
  script writes into that home's dags folder: one ``XaiVideoOperator`` per size (and a 1 MB warm-up video),
  each storing its MP4 into a local folder. The XComs are real, in the DB, as the view reads them;
* the server: Airflow's real api-server app (``airflow.api_fastapi.app.create_app()``, the provider's
  plugin mounted under ``/xai-media`` by Airflow itself) on uvicorn, alone in its own process, behind a
  SimpleAuthManager with one user (a Bearer token from ``POST /auth/token``). No access log;
* the client: this process (``requests``).

Per round and size (the order of the sizes alternates between rounds):

1. one full ``GET`` of the file, read in 1 MiB pieces and hashed (sha256) as it arrives: throughput
   (bytes / wall time, from the request to the last byte), the server's CPU time, and the server's peak
   RSS growth over the download: its ``VmHWM`` (the peak, reset to the current RSS with
   ``/proc/<pid>/clear_refs`` just before the request) minus its ``VmRSS`` before it. A thread also samples
   the server's RSS (psutil, every 5 ms) as a cross-check, and the only figure where the kernel does not
   allow the reset;
2. the same full ``GET`` by a slow reader, which reads no faster than ``--slow-rate`` (100 MB/s): the
   server then has to wait for the client (HTTP flow control) instead of buffering what it has read;
3. ``--ranges`` requests (default 20) of ``--range-bytes`` (1 MB) at random offsets, on one keep-alive
   connection as a browser's player uses: median and worst latency (request to last byte). Each answer is
   checked: 206, its ``Content-Range``, and the bytes against the stored file;
4. each download's sha256 must equal the stored file's, its length the file's size; a mismatch stops the
   benchmark.

Before the rounds, a warm-up full GET and range requests of the 1 MB file build the view's app (created on
its first request) and warm the server's imports; the server's RSS after start and after warm-up are
reported. Figures are medians over ``--rounds``. The files are read from the page cache (just written).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_delivery import free_port, human, machine, parse_size  # noqa: E402
from bench_triggers import Emulator, code_version  # noqa: E402

SIZES = (50_000_000, 500_000_000)
QUICK_SIZES = (5_000_000, 20_000_000)
WARMUP_SIZE = 1_000_000
RANGES = 20
RANGE_BYTES = 1_000_000
DAG_ID = "xai_bench_media_view"
USER, PASSWORD = "bench", "bench-pw-5c1e"
#: the client reads the body in pieces of this size
READ_SIZE = 1024 * 1024
#: peak RSS growth of the server while it streams the largest file
RSS_TARGET_MIB = 64.0
#: how much more memory the largest file may take than the smallest: none beyond noise
RSS_GROWTH_DELTA_MIB = 8.0
#: median latency of one range request
RANGE_TARGET_MS = 50.0
#: growths below this are allocator noise (a few pages): their ratio means nothing
NOISE_MIB = 1.0
SAMPLE_INTERVAL = 0.005
#: the slow reader's rate, bytes per second (a player on a fast network reads at most this fast)
SLOW_RATE = 100_000_000
MIB = 1024 * 1024

DAG_SOURCE = '''\
"""Written by benchmarks/bench_media_view.py: one stored video per size."""

import json
import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiVideoOperator

SIZES = json.loads(os.environ["XAI_BENCH_MEDIA_SIZES"])
FOLDER = os.environ["XAI_BENCH_MEDIA_FOLDER"]

with DAG(dag_id="{dag_id}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    for size in SIZES:
        XaiVideoOperator(
            task_id=f"video_{{size}}",
            prompt=f"A benchmark wave crashing on a rock [xai:size={{size}}]",
            duration=6,
            deferrable=False,
            poll_interval=0.05,
            output_path=FOLDER,
        )
'''


# ---- the setup and server processes -----------------------------------------------------------------


def prepare(home: str) -> None:
    """The setup process: create the DB, run the DAG once; print the run and each task's stored file."""
    from airflow.utils import db

    db.resetdb()
    spec_path = pathlib.Path(home) / "dags" / f"{DAG_ID}.py"
    import importlib.util

    spec = importlib.util.spec_from_file_location("xai_bench_media_view_dag", spec_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = module.dag.test()
    tis = run.get_task_instances()
    states = {ti.task_id: str(ti.state) for ti in tis}
    if str(run.state) != "success":
        raise SystemExit(f"the benchmark DAG run failed: {states}")
    outputs = {ti.task_id: ti.xcom_pull(task_ids=ti.task_id)["outputs"] for ti in tis}
    print(json.dumps({"run_id": run.run_id, "outputs": outputs}))


def serve(port: int) -> None:
    """The server process: Airflow's api-server app, plugins and auth included, on uvicorn."""
    import uvicorn
    from airflow.api_fastapi.app import create_app

    app = create_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def child_env(home: pathlib.Path, **extra: str) -> dict[str, str]:
    """A child's environment: this process's minus Airflow and xAI settings, plus the private home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "XAI_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class ApiServer:
    """The api-server app on uvicorn in its own process; a Bearer token for the benchmark's user."""

    def __init__(self, home: pathlib.Path) -> None:
        import requests

        self.port = free_port()
        self.log = (home / "api-server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", str(self.port)],
            # the app's JWT signing key (``airflow api-server`` makes one if needed; the bare app does not)
            env=child_env(home, AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32)),
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180
        while True:
            try:
                answer = requests.post(
                    f"{self.url}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=10
                )
                if answer.status_code in (200, 201):
                    self.token = answer.json()["access_token"]
                    break
                raise RuntimeError(f"POST /auth/token answered {answer.status_code}: {answer.text[:300]}")
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    log = (home / "api-server.log").read_text()[-3000:]
                    raise RuntimeError(f"the api-server did not start:\n{log}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Terminate the server process (the one we started)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# ---- measuring the server ---------------------------------------------------------------------------


def proc_kb(pid: int, field: str) -> int:
    """Return a ``/proc/<pid>/status`` field (``VmRSS``, ``VmHWM``) in kB."""
    text = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def reset_peak(pid: int) -> bool:
    """Reset the process's ``VmHWM`` to its current RSS; return whether the kernel allowed it."""
    try:
        pathlib.Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class RssSampler:
    """Sample a process's RSS in a thread; :attr:`peak` is the largest sample (bytes)."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = self.process.memory_info().rss
        self.samples = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def server_cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def file_url(run_id: str, task_id: str, uri: str) -> str:
    query = {"dag_id": DAG_ID, "run_id": run_id, "task_id": task_id, "map_index": -1, "uri": uri}
    return "/xai-media/file?" + urlencode(query)


def sha256_of(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(READ_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def full_get(
    session: Any, url: str, pid: int, size: int, sha256: str, rate: float | None = None
) -> dict[str, Any]:
    """Download the whole file once; measure the server; check the bytes (raise on a mismatch).

    :param rate: read no faster than this many bytes per second (a slow player), else as fast as possible.
    """
    reset = reset_peak(pid)
    baseline_kb = proc_kb(pid, "VmRSS")
    cpu_before = server_cpu(pid)
    digest, received = hashlib.sha256(), 0
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        with session.get(url, stream=True, timeout=(10, 600)) as answer:
            status, headers = answer.status_code, dict(answer.headers)
            for piece in answer.iter_content(READ_SIZE):
                digest.update(piece)
                received += len(piece)
                if rate:  # sleep until this many bytes are due
                    time.sleep(max(0.0, started + received / rate - time.perf_counter()))
        elapsed = time.perf_counter() - started
    cpu = server_cpu(pid) - cpu_before
    peak_kb, after_kb = proc_kb(pid, "VmHWM"), proc_kb(pid, "VmRSS")
    problems = []
    if status != 200:
        problems.append(f"status {status}")
    if received != size or headers.get("content-length") != str(size):
        problems.append(f"{received} bytes received, Content-Length {headers.get('content-length')}")
    if digest.hexdigest() != sha256:
        problems.append(f"sha256 {digest.hexdigest()} is not the stored file's {sha256}")
    if problems:
        raise RuntimeError(f"a full GET of {human(size)} went wrong: {'; '.join(problems)}")
    sampled = (sampler.peak / 1024 - baseline_kb) / 1024
    return {
        "seconds": elapsed,
        "mb_per_s": size / elapsed / 1e6,
        "server_cpu_s": cpu,
        "rss_before_mib": baseline_kb / 1024,
        "rss_growth_mib": (peak_kb - baseline_kb) / 1024 if reset else sampled,
        "rss_growth_sampled_mib": sampled,
        "rss_retained_mib": (after_kb - baseline_kb) / 1024,
        "peak_source": "VmHWM" if reset else "sampled",
        "samples": sampler.samples,
        "sha256_ok": True,
        "content_type": headers.get("content-type"),
    }


def range_gets(
    session: Any, url: str, path: pathlib.Path, size: int, count: int, length: int, rng: random.Random
) -> dict[str, Any]:
    """``count`` requests of ``length`` bytes at random offsets; check each answer; return latencies (ms)."""
    latencies = []
    with path.open("rb") as stored:
        for _ in range(count):
            start = rng.randrange(0, max(1, size - length))
            end = min(start + length, size) - 1
            began = time.perf_counter()
            answer = session.get(url, headers={"Range": f"bytes={start}-{end}"}, timeout=(10, 120))
            body = answer.content
            latencies.append((time.perf_counter() - began) * 1000)
            stored.seek(start)
            expected = stored.read(end - start + 1)
            if (
                answer.status_code != 206
                or answer.headers.get("content-range") != f"bytes {start}-{end}/{size}"
                or body != expected
            ):
                raise RuntimeError(
                    f"range {start}-{end} of {human(size)}: status {answer.status_code}, "
                    f"Content-Range {answer.headers.get('content-range')}, {len(body)} bytes, "
                    f"{'same' if body == expected else 'different'} bytes"
                )
    return {
        "median_ms": statistics.median(latencies),
        "max_ms": max(latencies),
        "min_ms": min(latencies),
        "latencies_ms": latencies,
    }


# ---- the run -----------------------------------------------------------------------------------------


def run(
    sizes: tuple[int, ...] = SIZES,
    rounds: int = 3,
    log: Callable[[str], None] = print,
    ranges: int = RANGES,
    range_bytes: int = RANGE_BYTES,
    seed: int = 6,
    keep: bool = False,
    slow_rate: float = SLOW_RATE,
) -> dict[str, Any]:
    """Store one video per size with a real run, serve them with the real api-server; measure."""
    import requests

    host = machine()
    load_before = os.getloadavg()[0]
    log(f"machine: {host}, load average {load_before:.2f}")
    started = time.perf_counter()
    rng = random.Random(seed)
    home = pathlib.Path(tempfile.mkdtemp(prefix="xai-bench-media-view-"))
    try:
        (home / "dags").mkdir()
        (home / "dags" / f"{DAG_ID}.py").write_text(DAG_SOURCE.format(dag_id=DAG_ID))
        (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
        folder = home / "media"
        all_sizes = [WARMUP_SIZE, *sizes]
        with Emulator("--progression", "per-read", "--reads-to-complete", "2") as emulator:
            conn = {"conn_type": "xai", "host": emulator.url, "password": "bench-key"}
            env = child_env(
                home,
                AIRFLOW_CONN_XAI_DEFAULT=json.dumps(conn),
                XAI_BENCH_MEDIA_SIZES=json.dumps(all_sizes),
                XAI_BENCH_MEDIA_FOLDER=str(folder),
            )
            setup_started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--prepare", str(home)],
                env=env,
                cwd=home,
                capture_output=True,
                text=True,
                timeout=1800,
            )
            if done.returncode != 0:
                raise RuntimeError(f"the setup run failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
            setup = json.loads(done.stdout.strip().splitlines()[-1])
            setup_s = time.perf_counter() - setup_started
        log(f"setup (DB, one dag.test() run of {len(all_sizes)} videos): {setup_s:.1f} s")
        stored: dict[int, dict[str, Any]] = {}
        for size in all_sizes:
            task_id = f"video_{size}"
            (uri,) = setup["outputs"][task_id]
            path = pathlib.Path(uri.removeprefix("file://"))
            if path.stat().st_size != size:
                raise RuntimeError(f"{task_id} stored {path.stat().st_size} bytes, not {size}")
            stored[size] = {
                "task_id": task_id,
                "uri": uri,
                "path": path,
                "sha256": sha256_of(path),
                "url": file_url(setup["run_id"], task_id, uri),
            }
        per_size: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
        with ApiServer(home) as server, requests.Session() as session:
            pid = server.process.pid
            session.headers["Authorization"] = f"Bearer {server.token}"
            rss_started_mib = proc_kb(pid, "VmRSS") / 1024
            warm = stored[WARMUP_SIZE]
            warmup = full_get(session, server.url + warm["url"], pid, WARMUP_SIZE, warm["sha256"])
            warm_ranges = range_gets(
                session,
                server.url + warm["url"],
                warm["path"],
                WARMUP_SIZE,
                5,
                min(range_bytes, WARMUP_SIZE // 2),
                rng,
            )
            rss_warm_mib = proc_kb(pid, "VmRSS") / 1024
            log(
                f"server pid {pid}: RSS {rss_started_mib:.0f} MiB after start, {rss_warm_mib:.0f} MiB after "
                f"warm-up (first full GET of {human(WARMUP_SIZE)} {warmup['seconds'] * 1000:.0f} ms)"
            )
            for n in range(rounds):
                order = list(sizes) if n % 2 == 0 else list(sizes)[::-1]
                for size in order:
                    one = stored[size]
                    url = server.url + one["url"]
                    full = full_get(session, url, pid, size, one["sha256"])
                    slow = full_get(session, url, pid, size, one["sha256"], rate=slow_rate)
                    ranged = range_gets(session, url, one["path"], size, ranges, range_bytes, rng)
                    per_size[size].append({"full": full, "slow": slow, "ranges": ranged})
                    log(
                        f"{human(size)} round {n + 1}: full GET {full['seconds']:.2f} s "
                        f"({full['mb_per_s']:.0f} MB/s, server CPU {full['server_cpu_s']:.2f} s), "
                        f"server peak RSS +{full['rss_growth_mib']:.2f} MiB ({full['peak_source']}; "
                        f"sampled +{full['rss_growth_sampled_mib']:.2f}); at {slow_rate / 1e6:.0f} MB/s "
                        f"{slow['seconds']:.1f} s, server peak RSS +{slow['rss_growth_mib']:.2f} MiB; "
                        f"{ranges} ranges of "
                        f"{human(range_bytes)}: median {ranged['median_ms']:.1f} ms, "
                        f"max {ranged['max_ms']:.1f} ms"
                    )
            rss_end_mib = proc_kb(pid, "VmRSS") / 1024
    finally:
        if keep:
            log(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    results = [
        {"size": size, "per_run": per_size[size], "summary": summarize(per_size[size])} for size in sizes
    ]
    return {
        "sizes": list(sizes),
        "rounds": rounds,
        "ranges": ranges,
        "range_bytes": range_bytes,
        "slow_rate": slow_rate,
        "code": code_version(),
        "machine": host,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "wall_s": time.perf_counter() - started,
        "setup_s": setup_s,
        "server": {
            "rss_started_mib": rss_started_mib,
            "rss_after_warmup_mib": rss_warm_mib,
            "rss_end_mib": rss_end_mib,
            "warmup_full_get_s": warmup["seconds"],
            "warmup_range_median_ms": warm_ranges["median_ms"],
        },
        "results": results,
        "rss_ratio": rss_ratio(results),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds of one size."""

    def med(key: Callable[[dict], float]) -> float:
        return statistics.median(key(r) for r in runs)

    return {
        "mb_per_s": med(lambda r: r["full"]["mb_per_s"]),
        "seconds": med(lambda r: r["full"]["seconds"]),
        "server_cpu_s": med(lambda r: r["full"]["server_cpu_s"]),
        "rss_growth_mib": med(lambda r: r["full"]["rss_growth_mib"]),
        "rss_growth_sampled_mib": med(lambda r: r["full"]["rss_growth_sampled_mib"]),
        "rss_growth_max_mib": max(r[kind]["rss_growth_mib"] for r in runs for kind in ("full", "slow")),
        "slow_seconds": med(lambda r: r["slow"]["seconds"]),
        "slow_rss_growth_mib": med(lambda r: r["slow"]["rss_growth_mib"]),
        "slow_rss_growth_sampled_mib": med(lambda r: r["slow"]["rss_growth_sampled_mib"]),
        "rss_retained_mib": med(lambda r: r["full"]["rss_retained_mib"]),
        "range_median_ms": med(lambda r: r["ranges"]["median_ms"]),
        "range_max_ms": max(r["ranges"]["max_ms"] for r in runs),
        "sha256_ok": all(r[kind]["sha256_ok"] for r in runs for kind in ("full", "slow")),
    }


def rss_ratio(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Peak RSS growth of the largest file over the smallest's (and the difference, which is robust)."""
    small, large = min(results, key=lambda r: r["size"]), max(results, key=lambda r: r["size"])
    a, b = small["summary"]["rss_growth_mib"], large["summary"]["rss_growth_mib"]
    return {
        "small": small["size"],
        "large": large["size"],
        "size_ratio": large["size"] / small["size"],
        "small_mib": a,
        "large_mib": b,
        "ratio": b / a if a > 0 else None,
        "delta_mib": b - a,
    }


def checks(result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Return (figure, value, target, passed) rows."""
    ratio = result["rss_ratio"]
    largest = max(result["results"], key=lambda r: r["size"])
    rows = [
        (
            f"media view: server peak RSS growth, full GETs (fast and slow) of {human(largest['size'])}",
            f"{largest['summary']['rss_growth_mib']:.1f} MiB (worst round "
            f"{largest['summary']['rss_growth_max_mib']:.1f} MiB)",
            f"< {RSS_TARGET_MIB:.0f} MiB",
            largest["summary"]["rss_growth_max_mib"] < RSS_TARGET_MIB,
        ),
        (
            f"media view: memory does not grow with the file ({human(ratio['large'])} vs "
            f"{human(ratio['small'])}, {ratio['size_ratio']:.0f}x the bytes)",
            f"{ratio['large_mib']:.2f} vs {ratio['small_mib']:.2f} MiB ({ratio['delta_mib']:+.2f} MiB"
            + (f", {ratio['ratio']:.2f}x" if ratio["ratio"] is not None else "")
            + ")",
            f"difference < {RSS_GROWTH_DELTA_MIB:.0f} MiB",
            ratio["delta_mib"] < RSS_GROWTH_DELTA_MIB,
        ),
    ]
    for one in result["results"]:
        s = one["summary"]
        rows.append(
            (
                f"media view: {human(result['range_bytes'])} Range request into {human(one['size'])}, median",
                f"{s['range_median_ms']:.1f} ms (worst {s['range_max_ms']:.1f} ms)",
                f"< {RANGE_TARGET_MS:.0f} ms",
                s["range_median_ms"] < RANGE_TARGET_MS,
            )
        )
    rows.append(
        (
            "media view: served bytes are the stored bytes (sha256 of every full GET, every range)",
            "equal" if all(r["summary"]["sha256_ok"] for r in result["results"]) else "DIFFERENT",
            "equal",
            all(r["summary"]["sha256_ok"] for r in result["results"]),
        )
    )
    return rows


def format_result(result: dict[str, Any]) -> str:
    """Return the table, the ratio and the PASS/MISS rows."""
    server = result["server"]
    lines = [
        f"code: {result.get('code')}; machine: {result['machine']}; "
        f"load average {result['load_before']:.2f} -> {result['load_after']:.2f}; "
        f"{result['rounds']} round(s), {result['wall_s']:.0f} s in all (setup {result['setup_s']:.0f} s)",
        f"server RSS: {server['rss_started_mib']:.0f} MiB after start, {server['rss_after_warmup_mib']:.0f} "
        f"MiB after warm-up, {server['rss_end_mib']:.0f} MiB at the end",
    ]
    head = f"{'size':>8} {'full GET':>9} {'MB/s':>6} {'server CPU':>11} {'peak RSS +':>11} {'(sampled)':>10} "
    head += f"{'slow GET':>9} {'peak RSS +':>11} {'range median':>13} {'range worst':>12} {'sha256':>7}"
    lines.append(head)
    for one in result["results"]:
        s = one["summary"]
        lines.append(
            f"{human(one['size']):>8} {s['seconds']:>7.2f} s {s['mb_per_s']:>6.0f} "
            f"{s['server_cpu_s']:>9.2f} s {s['rss_growth_mib']:>7.2f} MiB "
            f"{s['rss_growth_sampled_mib']:>6.2f} MiB {s['slow_seconds']:>7.2f} s "
            f"{s['slow_rss_growth_mib']:>7.2f} MiB {s['range_median_ms']:>10.1f} ms "
            f"{s['range_max_ms']:>9.1f} ms {'ok' if s['sha256_ok'] else 'BAD':>7}"
        )
    lines.append(
        f"(full GET as fast as the client reads; slow GET at {result['slow_rate'] / 1e6:.0f} MB/s; "
        f"{result['ranges']} ranges of {human(result['range_bytes'])} per round)"
    )
    ratio = result["rss_ratio"]
    lines.append(
        f"peak RSS growth {human(ratio['large'])} / {human(ratio['small'])}: "
        + (f"{ratio['ratio']:.2f}x" if ratio["ratio"] is not None else "n/a (no growth for the smaller)")
        + f" ({ratio['large_mib']:.2f} vs {ratio['small_mib']:.2f} MiB, {ratio['delta_mib']:+.2f} MiB) "
        f"for {ratio['size_ratio']:.0f}x the bytes"
        + (
            f"; both below {NOISE_MIB:.0f} MiB, so the ratio of two near-zero figures is noise: "
            "read the difference"
            if max(ratio["large_mib"], ratio["small_mib"]) < NOISE_MIB
            else ""
        )
    )
    for figure, value, target, passed in checks(result):
        lines.append(f"{'PASS' if passed else 'MISS'}  {figure}: {value}  (target {target})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(parse_size(part) for part in text.split(",") if part),
        default=SIZES,
        help="comma-separated file sizes (default 50MB,500MB; KB/MB/GB decimal, KiB/MiB/GiB binary)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size; medians reported")
    parser.add_argument("--ranges", type=int, default=RANGES, help="range requests per round (default 20)")
    parser.add_argument("--range-bytes", type=parse_size, default=RANGE_BYTES, help="bytes per range (1MB)")
    parser.add_argument(
        "--slow-rate", type=parse_size, default=SLOW_RATE, help="the slow reader's bytes per second (100MB)"
    )
    parser.add_argument("--quick", action="store_true", help="5 MB and 20 MB, one round")
    parser.add_argument("--keep", action="store_true", help="keep the temporary AIRFLOW_HOME and the files")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    parser.add_argument("--prepare", metavar="HOME", help=argparse.SUPPRESS)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.prepare)
        return 0
    if args.serve:
        serve(args.serve)
        return 0
    sizes, rounds = (QUICK_SIZES, 1) if args.quick else (args.sizes, args.rounds)
    result = run(
        sizes,
        rounds,
        log=lambda line: print(line, file=sys.stderr, flush=True),
        ranges=args.ranges,
        range_bytes=args.range_bytes,
        keep=args.keep,
        slow_rate=args.slow_rate,
    )
    print(format_result(result))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
