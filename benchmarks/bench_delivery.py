"""Benchmark xAI video delivery into S3: the service uploads it ("upload"), or the worker streams it.

Not a test. Run it with ``.venv/bin/python benchmarks/bench_delivery.py`` (``--sizes 50MB,500MB``,
``--rounds 3``, ``--quick`` for tiny sizes and one round); ``benchmarks/run_all.py`` runs it with the
other benchmarks (``--only delivery``).

Three processes, so that each one's bytes and CPU are its own:

* S3 is moto's server (``python -m moto.server``), in its own process;
* the emulator (``python -m airflow_provider_xai.emulator --media-size SIZE``) serves xAI's API and, for
  an uploaded video, PUTs the MP4 to the signed URL itself, in its own process;
* every measured run is a fresh worker process that runs ``XaiVideoOperator(deferrable=False,
  output_path="s3://aws_default@<bucket>/...", delivery=MODE).execute()`` against the emulator through an
  ``xai`` connection with the extra ``api="xai"``: the real provider code, from signing the upload URL
  (upload) to the sidecar.

The worker first runs one warm-up video of 4 KB in the same mode (imports, the connection, boto3 and the
object-storage layer set up; reported apart as the *first call in a process*), then the measured one.

Measured in the worker, for the measured run:

* ``done -> stored``: wall time from the status read that reports ``done`` returning to ``execute``
  returning: storing (download: GET the media, stream it into S3, rename; upload: a stat and a 12-byte
  ranged read), the sidecar and the result. The emulator's generation time and the service's own PUT
  (which the emulator makes inside the status read that first reports ``done``, as xAI uploads before it
  reports ``done``) are not in it; that read is reported apart.
* the bytes the worker process moves over its sockets: ``socket.socket`` ``recv``/``recv_into``/
  ``send``/``sendall``/``sendfile`` wrapped in the worker (plain HTTP: every byte of every HTTP message,
  headers included), split by peer (the emulator, S3), over the whole operator run (submit, polls,
  storing, sidecar);
* the worker's CPU time over ``done -> stored``, and its peak RSS growth (``VmHWM``) over the measured run.

Figures are medians over ``--rounds``; within each round both modes run side by side (the order
alternates), and the ratios are taken within a round, then the median. Every stored object is checked
in S3 afterwards (size, ``ftyp`` at byte 4, the sidecar) and deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_triggers import Emulator, code_version  # noqa: E402

MODES = ("download", "upload")
SIZES = (50_000_000, 500_000_000)
QUICK_SIZES = (200_000, 2_000_000)
WARMUP_SIZE = 4096
#: what an uploaded video may cost the worker in bytes: its requests and answers, whatever the video's size
CONTROL_BYTES = 64_000
BUCKET = "xai-bench"
ACCESS_KEY, SECRET_KEY, REGION = "bench-access-key", "bench-secret-key", "us-east-1"
POLL_INTERVAL = 0.2
#: the emulator reports ``done`` on this status read (per-read progression)
READS_TO_DONE = 3
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def parse_size(text: str) -> int:
    """Return bytes for ``500MB``, ``50_000_000``, ``2MiB`` (KB/MB/GB are decimal)."""
    found = re.fullmatch(r"\s*([\d_.]+)\s*([a-zA-Z]*)\s*", text)
    if not found or found.group(2).upper() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 50MB, 500MB, 2MiB, 1000000)")
    return int(float(found.group(1).replace("_", "")) * _UNITS[found.group(2).upper()])


def human(size: float) -> str:
    """Return a size in decimal units (``50 MB``, ``2.0 kB``)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.{0 if size % scale == 0 else 1}f} {unit}"
    return f"{size:.0f} B"


# ---- the worker: one operator run per process ------------------------------------------------------


class SocketBytes:
    """Count the bytes this process sends and receives over ``socket.socket``, by peer port.

    Wraps ``recv``, ``recv_into``, ``send``, ``sendall`` and ``sendfile`` of ``socket.socket`` (what
    http.client, urllib3, requests and botocore use over plain HTTP). TLS sockets override these
    methods and are not counted: the benchmark runs plain HTTP.
    """

    def __init__(self) -> None:
        self.received: dict[int, int] = {}
        self.sent: dict[int, int] = {}
        self._install()

    def reset(self) -> None:
        self.received.clear()
        self.sent.clear()

    def _install(self) -> None:
        counter = self
        cls = socket.socket
        recv, recv_into, send, sendall, sendfile = (
            cls.recv,
            cls.recv_into,
            cls.send,
            cls.sendall,
            cls.sendfile,
        )

        def peer(sock: socket.socket) -> int:
            try:
                return sock.getpeername()[1]
            except (OSError, IndexError, TypeError):
                return 0

        def add(book: dict[int, int], sock: socket.socket, count: int) -> None:
            if count:
                port = peer(sock)
                book[port] = book.get(port, 0) + count

        def w_recv(self: socket.socket, *args: Any, **kwargs: Any) -> bytes:
            data = recv(self, *args, **kwargs)
            add(counter.received, self, len(data))
            return data

        def w_recv_into(self: socket.socket, *args: Any, **kwargs: Any) -> int:
            count = recv_into(self, *args, **kwargs)
            add(counter.received, self, count)
            return count

        def w_send(self: socket.socket, *args: Any, **kwargs: Any) -> int:
            count = send(self, *args, **kwargs)
            add(counter.sent, self, count)
            return count

        def w_sendall(self: socket.socket, data: Any, *args: Any, **kwargs: Any) -> None:
            sendall(self, data, *args, **kwargs)
            add(counter.sent, self, memoryview(data).nbytes)

        def w_sendfile(self: socket.socket, *args: Any, **kwargs: Any) -> int:
            count = sendfile(self, *args, **kwargs)
            add(counter.sent, self, count)
            return count

        cls.recv, cls.recv_into, cls.send, cls.sendall, cls.sendfile = (  # type: ignore[method-assign]
            w_recv,
            w_recv_into,
            w_send,
            w_sendall,
            w_sendfile,
        )

    def by_peer(self, ports: dict[str, int]) -> dict[str, dict[str, int]]:
        """Return ``{peer: {"received", "sent"}}`` for the named ports, the rest as ``other``."""
        names = {port: name for name, port in ports.items()}
        out: dict[str, dict[str, int]] = {name: {"received": 0, "sent": 0} for name in (*ports, "other")}
        for book, key in ((self.received, "received"), (self.sent, "sent")):
            for port, count in book.items():
                out[names.get(port, "other")][key] += count
        return out


def status_kb(field: str) -> int:
    """Return a ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in kB."""
    text = pathlib.Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


class _TI:
    """What the operator uses of a TaskInstance outside a DAG run: XComs and the try number."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}
        self.try_number = 1

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def operator_run(mode: str, folder: str, prompt: str, poll_interval: float) -> dict[str, Any]:
    """Run one ``XaiVideoOperator`` to its end; return its result and timings (seconds)."""
    from airflow.sdk import ObjectStoragePath

    import airflow_provider_xai.operators.xai as operators
    from airflow_provider_xai.hooks.xai import XaiHook
    from airflow_provider_xai.protocol import Outcome, outcome_of

    marks: dict[str, float] = {}
    moves: list[float] = []
    original_get_task, original_sign, original_move = (
        XaiHook.get_task,
        operators.sign_upload,
        ObjectStoragePath.move,
    )

    def get_task(hook: XaiHook, xai_task_id: str) -> Any:
        started = time.perf_counter()
        state = original_get_task(hook, xai_task_id)
        if "done" not in marks and outcome_of(state) is not Outcome.WAIT:
            marks["done"], marks["done_read_s"] = time.perf_counter(), time.perf_counter() - started
            marks["done_cpu"] = time.process_time()
        return state

    def sign_upload(*args: Any, **kwargs: Any) -> str:
        started = time.perf_counter()
        try:
            return original_sign(*args, **kwargs)
        finally:
            marks["sign_s"] = time.perf_counter() - started

    def move(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_move(self, *args, **kwargs)
        finally:
            moves.append(time.perf_counter() - started)

    XaiHook.get_task = get_task  # type: ignore[method-assign]
    operators.sign_upload = sign_upload
    ObjectStoragePath.move = move  # type: ignore[method-assign]
    try:
        operator = operators.XaiVideoOperator(
            task_id="video",
            prompt=prompt,
            duration=1,
            deferrable=False,
            poll_interval=poll_interval,
            output_path=folder,
            delivery=mode,
            reattach_on_retry=False,
        )
        started = time.perf_counter()
        result = operator.execute({"ti": _TI()})
        ended, cpu = time.perf_counter(), time.process_time()
    finally:
        XaiHook.get_task = original_get_task  # type: ignore[method-assign]
        operators.sign_upload = original_sign
        ObjectStoragePath.move = original_move  # type: ignore[method-assign]
    return {
        "result": result,
        "total_s": ended - started,
        "sign_s": marks.get("sign_s", 0.0),
        "to_done_s": marks["done"] - started,
        "done_read_s": marks["done_read_s"],
        "done_to_stored_s": ended - marks["done"],
        "done_to_stored_cpu_s": cpu - marks["done_cpu"],
        "moves_s": moves,
    }


def child(mode: str, size: int, folder: str, ports_json: str, poll_interval: float) -> None:
    """One worker process: a warm-up run, then the measured run; print a JSON report."""
    counter = SocketBytes()
    import airflow_provider_xai.operators.xai  # noqa: F401 - imported before anything is measured

    warmup = operator_run(mode, f"{folder}/warmup", f"a warm-up wave [xai:size={WARMUP_SIZE}]", poll_interval)
    counter.reset()
    try:  # reset the peak to the current RSS where the kernel allows it
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    baseline = status_kb("VmRSS")
    measured = operator_run(mode, folder, "a benchmark wave crashing on a rock", poll_interval)
    peak = status_kb("VmHWM")
    report = {
        "mode": mode,
        "size": size,
        **{key: value for key, value in measured.items() if key != "result"},
        "outputs": measured["result"]["outputs"],
        "xai_task_id": measured["result"]["xai_task_id"],
        "status": measured["result"]["status"],
        "bytes": counter.by_peer(json.loads(ports_json)),
        "rss_growth_mib": (peak - baseline) / 1024,
        "warmup": {
            "done_to_stored_s": warmup["done_to_stored_s"],
            "total_s": warmup["total_s"],
            "sign_s": warmup["sign_s"],
            "outputs": warmup["result"]["outputs"],
        },
    }
    print(json.dumps(report))


# ---- the parent: S3 and the emulator in their own processes ----------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoS3:
    """moto's S3 server in its own process (``python -m moto.server``), with one bucket."""

    def __init__(self) -> None:
        import boto3

        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **aws_environment()},
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        self.client = boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )
        self.client.create_bucket(Bucket=BUCKET)

    def keys(self, prefix: str) -> dict[str, int]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return {obj["Key"]: obj["Size"] for page in pages for obj in page.get("Contents", [])}

    def delete(self, prefix: str) -> None:
        for key in self.keys(prefix):
            self.client.delete_object(Bucket=BUCKET, Key=key)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> MotoS3:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def aws_environment() -> dict[str, str]:
    """boto3 must never find real credentials or configuration on the machine."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }


def worker_environment(emulator_url: str, s3_url: str, home: str) -> dict[str, str]:
    """The worker's environment: an ``xai`` connection (api xai) and ``aws_default`` on moto."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW_CONN_")}
    env.update(aws_environment())
    env.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_XAI_DEFAULT": json.dumps(
                {"conn_type": "xai", "host": emulator_url, "password": "bench-key", "extra": {"api": "xai"}}
            ),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {
                    "conn_type": "aws",
                    "login": ACCESS_KEY,
                    "password": SECRET_KEY,
                    "extra": {"endpoint_url": s3_url, "region_name": REGION},
                }
            ),
        }
    )
    return env


def measure(mode: str, size: int, emulator: Emulator, s3: MotoS3, env: dict[str, str], poll: float) -> dict:
    """Run one worker process in ``mode``; check what it stored in S3, then delete it."""
    prefix = f"bench/{mode}-{uuid.uuid4().hex[:8]}"
    folder = f"s3://aws_default@{BUCKET}/{prefix}"
    ports = {"emulator": int(emulator.url.rsplit(":", 1)[1]), "s3": s3.port}
    command = [sys.executable, os.path.abspath(__file__), "--child", mode, str(size), folder]
    command += [json.dumps(ports), str(poll)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"the {mode} worker failed:\n{done.stderr[-4000:]}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        report["check"] = check_stored(s3, report, prefix, size)
    finally:
        s3.delete(prefix)
    report["service_uploads"] = [
        u["bytes"] for u in uploads(emulator.url) if u["request_id"] == report["xai_task_id"]
    ]
    if mode == "upload" and report["service_uploads"] != [size]:
        raise RuntimeError(f"the emulator uploaded {report['service_uploads']} bytes, not [{size}]")
    return report


def uploads(url: str) -> list[dict]:
    import requests

    return requests.get(f"{url}/_emulator/uploads", timeout=30).json()


def check_stored(s3: MotoS3, report: dict, prefix: str, size: int) -> dict:
    """Check the stored video and its sidecar in S3; raise if anything is off."""
    (uri,) = report["outputs"]
    key = uri.split(f"@{BUCKET}/", 1)[1]
    head = s3.client.head_object(Bucket=BUCKET, Key=key)
    first = s3.client.get_object(Bucket=BUCKET, Key=key, Range="bytes=0-11")["Body"].read()
    sidecar_key = f"{prefix}/{report['xai_task_id']}.json"
    sidecar = json.loads(s3.client.get_object(Bucket=BUCKET, Key=sidecar_key)["Body"].read())
    (file,) = sidecar["files"]
    leftovers = [k for k in s3.keys(prefix) if not k.startswith(f"{prefix}/warmup/")]
    problems = []
    if head["ContentLength"] != size or file["size"] != size:
        problems.append(f"{head['ContentLength']} bytes in S3, {file['size']} in the sidecar, not {size}")
    if first[4:8] != b"ftyp":
        problems.append(f"not an MP4: {first!r}")
    if (file.get("delivery") == "upload") != (report["mode"] == "upload"):
        problems.append(f"the sidecar says delivery {file.get('delivery')!r}")
    if sorted(leftovers) != sorted([key, sidecar_key]):
        problems.append(f"unexpected objects {sorted(leftovers)}")
    if problems:
        raise RuntimeError(f"{report['mode']} stored a bad result at {uri}: {'; '.join(problems)}")
    return {"size": head["ContentLength"], "ftyp": True, "sidecar": True, "objects": len(leftovers)}


def machine() -> dict:
    meminfo = pathlib.Path("/proc/meminfo").read_text()
    mem_kb = int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M).group(1))
    found = re.search(r"^model name\s*:\s*(.+)$", pathlib.Path("/proc/cpuinfo").read_text(), re.M)
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": found.group(1).strip() if found else "unknown",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def worker_bytes(report: dict) -> int:
    """Every byte the worker received and sent, all peers."""
    return sum(side for peer in report["bytes"].values() for side in peer.values())


def run(
    sizes: tuple[int, ...] = SIZES,
    rounds: int = 3,
    log: Callable[[str], None] = print,
    poll_interval: float = POLL_INTERVAL,
) -> dict[str, Any]:
    """Deliver each size ``rounds`` times each way; return every figure and the medians."""
    host = machine()
    load_before = os.getloadavg()[0]
    log(f"machine: {host}, load average {load_before:.2f}")
    per_size: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xai-bench-delivery-") as home, MotoS3() as s3:
        for size in sizes:
            emulator_args = ["--media-size", str(size), "--progression", "per-read"]
            emulator_args += ["--reads-to-complete", str(READS_TO_DONE)]
            per_run: dict[str, list[dict]] = {mode: [] for mode in MODES}
            with Emulator(*emulator_args) as emulator:
                env = worker_environment(emulator.url, s3.url, home)
                for n in range(rounds):
                    order = MODES if n % 2 == 0 else MODES[::-1]  # alternate, so drift hits both alike
                    for mode in order:
                        report = measure(mode, size, emulator, s3, env, poll_interval)
                        per_run[mode].append(report)
                        log(
                            f"{human(size)} round {n + 1} {mode:8}: done -> stored "
                            f"{report['done_to_stored_s']:.2f} s, worker bytes "
                            f"{human(worker_bytes(report))}, whole run {report['total_s']:.2f} s "
                            f"(done read {report['done_read_s']:.2f} s)"
                        )
            per_size.append({"size": size, "per_run": per_run, "summary": summarize(per_run)})
    return {
        "sizes": list(sizes),
        "rounds": rounds,
        "poll_interval_s": poll_interval,
        "code": code_version(),
        "machine": host,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "wall_s": time.perf_counter() - started,
        "results": per_size,
    }


def summarize(per_run: dict[str, list[dict]]) -> dict[str, Any]:
    """Medians per mode; ratios download / upload within each round, then the median."""

    def med(mode: str, key: Callable[[dict], float]) -> float:
        return statistics.median(key(r) for r in per_run[mode])

    figures: dict[str, Any] = {}
    for mode in MODES:
        figures[mode] = {
            "done_to_stored_s": med(mode, lambda r: r["done_to_stored_s"]),
            "done_to_stored_cpu_s": med(mode, lambda r: r["done_to_stored_cpu_s"]),
            "total_s": med(mode, lambda r: r["total_s"]),
            "done_read_s": med(mode, lambda r: r["done_read_s"]),
            "sign_s": med(mode, lambda r: r["sign_s"]),
            "moves_s": med(mode, lambda r: sum(r["moves_s"])),
            "worker_bytes": med(mode, worker_bytes),
            "received_from_emulator": med(mode, lambda r: r["bytes"]["emulator"]["received"]),
            "sent_to_s3": med(mode, lambda r: r["bytes"]["s3"]["sent"]),
            "rss_growth_mib": med(mode, lambda r: r["rss_growth_mib"]),
            "first_call_done_to_stored_s": med(mode, lambda r: r["warmup"]["done_to_stored_s"]),
        }
    pairs = list(zip(per_run["download"], per_run["upload"], strict=True))
    figures["time_ratio"] = statistics.median(d["done_to_stored_s"] / u["done_to_stored_s"] for d, u in pairs)
    figures["bytes_ratio"] = statistics.median(worker_bytes(d) / max(1, worker_bytes(u)) for d, u in pairs)
    return figures


def checks(result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Return (figure, value, target, passed) rows: an upload moves no video bytes through the worker."""
    rows = []
    for one in result["results"]:
        s, size = one["summary"], one["size"]
        up, down = s["upload"], s["download"]
        rows.append(
            (
                f"upload delivery, {human(size)} video: bytes through the worker",
                f"{human(up['worker_bytes'])} (download {human(down['worker_bytes'])}, "
                f"{s['bytes_ratio']:.0f}x more)",
                f"< {human(CONTROL_BYTES)} (HTTP control traffic only, no video bytes)",
                up["worker_bytes"] < CONTROL_BYTES,
            )
        )
        rows.append(
            (
                f"upload delivery, {human(size)} video: worker done -> stored",
                f"{up['done_to_stored_s']:.2f} s (download {down['done_to_stored_s']:.2f} s, "
                f"{s['time_ratio']:.1f}x longer)",
                "< download",
                up["done_to_stored_s"] < down["done_to_stored_s"],
            )
        )
    return rows


def format_result(result: dict[str, Any]) -> str:
    """Return a table per size and the PASS/MISS rows."""
    lines = [
        f"code: {result.get('code')}; machine: {result['machine']}; "
        f"load average {result['load_before']:.2f} -> {result['load_after']:.2f}; "
        f"{result['rounds']} round(s), {result['wall_s']:.0f} s in all"
    ]
    head = f"{'size':>8} {'mode':9} {'done->stored':>13} {'cpu':>7} {'worker bytes':>13} "
    head += f"{'from emulator':>14} {'to S3':>10} {'renames':>8} {'RSS +':>8} "
    head += f"{'whole run':>10} {'done read':>10}"
    lines.append(head)
    for one in result["results"]:
        for mode in MODES:
            f = one["summary"][mode]
            lines.append(
                f"{human(one['size']):>8} {mode:9} {f['done_to_stored_s']:>11.2f} s "
                f"{f['done_to_stored_cpu_s']:>5.2f} s "
                f"{human(f['worker_bytes']):>13} {human(f['received_from_emulator']):>14} "
                f"{human(f['sent_to_s3']):>10} {f['moves_s']:>6.2f} s {f['rss_growth_mib']:>4.0f} MiB "
                f"{f['total_s']:>8.2f} s {f['done_read_s']:>8.2f} s"
            )
        s = one["summary"]
        lines.append(
            f"{human(one['size']):>8} download / upload: {s['time_ratio']:.1f}x the time, "
            f"{s['bytes_ratio']:.0f}x the bytes (first call in a process: download "
            f"{s['download']['first_call_done_to_stored_s']:.2f} s, upload "
            f"{s['upload']['first_call_done_to_stored_s']:.2f} s for {human(WARMUP_SIZE)})"
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
        help="comma-separated video sizes (default 50MB,500MB; KB/MB/GB decimal, KiB/MiB/GiB binary)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each mode per size; medians reported")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (200 kB, 2 MB) and one round")
    parser.add_argument("--poll-interval", type=float, default=POLL_INTERVAL, help=argparse.SUPPRESS)
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, size, folder, ports, poll = args.child
        child(mode, int(size), folder, ports, float(poll))
        return 0
    sizes, rounds = (QUICK_SIZES, 1) if args.quick else (args.sizes, args.rounds)
    result = run(
        sizes,
        rounds,
        log=lambda line: print(line, file=sys.stderr, flush=True),
        poll_interval=args.poll_interval,
    )
    print(format_result(result))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
