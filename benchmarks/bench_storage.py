"""Benchmark ``store_media`` on a >= 1 GB file: peak memory growth and throughput vs a raw stream copy.

Not a test. Run it with ``.venv/bin/python benchmarks/bench_storage.py`` (``--size`` to change the file
size, ``--runs`` the number of runs); ``benchmarks/run_all.py`` runs it with the other benchmarks.

The emulator runs in its own process (so that neither its memory nor its CPU time is counted), serving
one task whose media file is ``--size`` bytes, generated on the fly. Each measured copy runs in a fresh
child process that records its resident memory after its imports and its peak (``VmHWM``) after the
copy: the difference is the peak RSS growth of the copy itself. Both copies write to the same local
temporary folder and the file is deleted after each run. Figures are medians of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RSS_TARGET_MB = 64.0
THROUGHPUT_TARGET = 0.8
MB = 1024 * 1024


def status_kb(field: str) -> int:
    """Return a ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in kB."""
    text = pathlib.Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


# ---- the child: one measured copy ------------------------------------------------------------------


def child(mode: str, states_json: str, folder: str) -> None:
    """Copy the task's media into ``folder`` with ``store_media`` or a raw stream; print a JSON report.

    ``store`` first stores a small file once (the first call in a process imports and sets up the
    object storage layer) and reports that warm-up time apart.
    """
    import requests  # noqa: F401 - imported before the baseline, like store_media's own imports

    big, small = json.loads(states_json)
    warmup = 0.0
    if mode == "store":
        from airflow_provider_xai.protocol import TaskState
        from airflow_provider_xai.storage import store_media

        state = TaskState.from_event(big)
        started = time.perf_counter()
        store_media(pathlib.Path(folder) / "warmup", TaskState.from_event(small), None)
        warmup = time.perf_counter() - started
    else:
        state = None
    url = big["media_urls"][0]
    try:  # reset the peak to the current RSS where the kernel allows it
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    baseline = status_kb("VmRSS")
    started = time.perf_counter()
    if mode == "store":
        (uri,) = store_media(folder, state, None)
        target = pathlib.Path(uri.removeprefix("file://"))
    else:
        target = pathlib.Path(folder) / "raw.bin"
        with requests.get(url, stream=True, timeout=(15, 120)) as response, target.open("wb") as out:
            response.raise_for_status()
            for chunk in response.iter_content(1024 * 1024):
                out.write(chunk)
    elapsed = time.perf_counter() - started
    peak = status_kb("VmHWM")
    size = target.stat().st_size
    report = {"seconds": elapsed, "bytes": size, "baseline_kb": baseline, "peak_kb": peak, "warmup": warmup}
    print(json.dumps(report))


# ---- the parent --------------------------------------------------------------------------------------


def sha256_speed() -> float:
    """MiB/s of hashlib's sha256 over 1 MiB blocks (256 MiB)."""
    import hashlib

    block, digest = b"\x5a" * MB, hashlib.sha256()
    started = time.perf_counter()
    for _ in range(256):
        digest.update(block)
    return 256 / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_xai.emulator", "--port", str(port)]
        + ["--progression", "per-read"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the emulator did not start")


def finished_task(url: str, size: int) -> dict:
    """Create a task whose one media file has ``size`` bytes; return its finished state."""
    os.environ["AIRFLOW_CONN_XAI_DEFAULT"] = json.dumps(
        {"conn_type": "xai", "host": url, "password": "sk-bench"}
    )
    from airflow_provider_xai.hooks.xai import XaiHook
    from airflow_provider_xai.protocol import build_image_request

    hook = XaiHook()
    request = build_image_request(f"a benchmark picture [xai:size={size}]")
    state = hook.wait_for_task(hook.submit(request), poll_interval=0.05, timeout=60)
    return state.to_event()


def measure(mode: str, state: dict, workdir: pathlib.Path) -> dict:
    folder = workdir / mode
    folder.mkdir()
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, json.dumps(state), str(folder)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def machine() -> dict:
    meminfo = pathlib.Path("/proc/meminfo").read_text()
    mem_kb = int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M).group(1))
    cpu = "unknown"
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def run(size: int = 1_100_000_000, runs: int = 3, log=print) -> dict:
    """Copy one ``size``-byte media file ``runs`` times each way; return every figure and the medians."""
    host = machine()
    load_before = os.getloadavg()[0]
    log(f"machine: {host}, load average {load_before:.2f}")
    proc, url = start_emulator()
    try:
        state = [finished_task(url, size), finished_task(url, 10_000)]
        per_run: dict[str, list[dict]] = {"store": [], "raw": []}
        with tempfile.TemporaryDirectory(prefix="xai-bench-") as tmp:
            for n in range(runs):
                for mode in ("raw", "store"):  # alternate, so that drift hits both alike
                    result = measure(mode, state, pathlib.Path(tmp))
                    if result["bytes"] != size:
                        raise RuntimeError(f"{mode} stored {result['bytes']} bytes, not {size}")
                    per_run[mode].append(result)
                    log(
                        f"run {n + 1} {mode:5}: {result['seconds']:.2f} s, "
                        f"{size / MB / result['seconds']:.0f} MiB/s, "
                        f"RSS growth {(result['peak_kb'] - result['baseline_kb']) / 1024:.1f} MiB"
                    )
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    def median(mode: str, key) -> float:
        return statistics.median(key(r) for r in per_run[mode])

    speed = {m: median(m, lambda r: size / MB / r["seconds"]) for m in per_run}
    return {
        "size": size,
        "runs": runs,
        "machine": host,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "per_run": per_run,
        "growth_mib": {m: median(m, lambda r: (r["peak_kb"] - r["baseline_kb"]) / 1024) for m in per_run},
        "speed_mib_s": speed,
        # within each run pair, then the median: drift between runs hits both copies of a pair alike
        "ratio": statistics.median(
            r["seconds"] / s["seconds"] for s, r in zip(per_run["store"], per_run["raw"], strict=True)
        ),
        "warmup_s": statistics.median(r["warmup"] for r in per_run["store"]),
        "sha256_mib_s": sha256_speed(),
    }


def checks(result: dict) -> list[tuple[str, str, str, bool]]:
    """Return (figure, value, target, passed) rows for the storage targets."""
    growth, speed = result["growth_mib"], result["speed_mib_s"]
    return [
        (
            f"store_media peak RSS growth, {result['size'] / 1e9:.1f} GB file",
            f"{growth['store']:.1f} MiB (raw copy {growth['raw']:.1f} MiB)",
            f"< {RSS_TARGET_MB:.0f} MiB",
            growth["store"] < RSS_TARGET_MB,
        ),
        (
            "store_media throughput / raw stream copy",
            f"{result['ratio']:.2f}x ({speed['store']:.0f} vs {speed['raw']:.0f} MiB/s; "
            f"sha256 alone {result['sha256_mib_s']:.0f} MiB/s)",
            f">= {THROUGHPUT_TARGET}x",
            result["ratio"] >= THROUGHPUT_TARGET,
        ),
    ]


def format_result(result: dict) -> str:
    """Return the PASS/MISS rows."""
    return "\n".join(
        f"{'PASS' if passed else 'MISS'}  {figure}: {value}  (target {target})"
        for figure, value, target, passed in checks(result)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_100_000_000, help="media size in bytes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "STATES", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    result = run(args.size, args.runs)
    print(f"store_media first call in a process (small file, not in the figures): {result['warmup_s']:.2f} s")
    print(format_result(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
