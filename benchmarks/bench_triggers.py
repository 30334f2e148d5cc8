"""Benchmark waiting triggers against the emulator: CPU per poll, RSS and connections per trigger.

The emulator runs in its own process (its CPU is not counted); the triggers run in this one, on one
asyncio event loop, driven directly (no Airflow triggerer). ``--api`` picks the API the triggers wait on
(the connection's extra ``api``): ``gateway`` (image tasks polled with ``GET /xai/tasks?taskId=``, the
default), ``xai`` (xAI's own API: video requests created with ``POST /v1/videos/generations`` and polled
with ``GET /v1/videos/<request_id>``) or ``both``, one after the other with the same settings. Two
phases, repeated ``--rounds`` times:

A. CPU per status poll, three waiters side by side, each over the same ``--n`` tasks at the same poll
   rate (``--rate`` polls per second in all, start times spread over one interval):

   * ``floor``: a bare loop of aiohttp GETs over one shared keep-alive session (reads the body);
   * ``naive``: the trigger's loop with a new ``aiohttp.ClientSession`` per poll (the pattern of
     Airflow's ``HttpAsyncHook``);
   * ``ours``: ``XaiTaskTrigger.run()`` unchanged.

   CPU per poll is the process CPU time over the polls sent in a window after a warm-up.

B. ``--n`` waiting ``XaiTaskTrigger`` with their real schedule (``--poll-interval``, the trigger's
   default 5 s): RSS per trigger (RSS delta over N, once every trigger has polled), TCP connections
   opened (aiohttp ``on_connection_create_end``) and the CPU share of one core while they wait.

Run: ``.venv/bin/python benchmarks/bench_triggers.py [--n 1000] [--rounds 3] [--tls] [--api both] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

MODES = ("floor", "naive", "ours")
APIS = ("gateway", "xai")
_URL = re.compile(r"listening on (https?://\S+)")
_CA = re.compile(r"CA bundle: (\S+)")


# --------------------------------------------------------------------------------------------------
# process figures
# --------------------------------------------------------------------------------------------------
def rss_bytes() -> int:
    """Return this process's resident set size."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> float:
    """Return this process's CPU time (user + system, every thread)."""
    return time.process_time()


def machine() -> dict[str, Any]:
    """Return what the figures depend on: cores, memory, Python, load average."""
    meminfo = {}
    with open("/proc/meminfo") as lines:
        for line in lines:
            key, value = line.split(":", 1)
            meminfo[key] = value.strip()
    return {
        "nproc": os.cpu_count(),
        "memory": meminfo.get("MemTotal", "?"),
        "python": sys.version.split()[0],
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def code_version() -> dict[str, Any]:
    """Return the commit measured and whether the provider's code differed from it (uncommitted edits)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "provider_edited": bool(git("status", "--porcelain", "--", "airflow_provider_xai")),
    }


# --------------------------------------------------------------------------------------------------
# the emulator, in its own process
# --------------------------------------------------------------------------------------------------
class Emulator:
    """``python -m airflow_provider_xai.emulator --port 0 [--tls] [args]`` in a child process; read its URL.

    :param args: more command line arguments, e.g. ``"--image-seconds", "10"``.
    :param tls: serve HTTPS; :attr:`ca_bundle` is then the file to trust.
    :param env: the child's environment (default: this process's).
    """

    def __init__(self, *args: str, tls: bool = False, env: dict[str, str] | None = None) -> None:
        tls_args = ["--tls"] if tls else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_xai.emulator", "--port", "0", *tls_args, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        match = _URL.search(line)
        if not match:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = match.group(1)
        self.ca_bundle: str | None = None
        if tls:
            ca = _CA.search(self.process.stdout.readline() if self.process.stdout else "")
            self.ca_bundle = ca.group(1) if ca else None

    def stop(self) -> None:
        """Terminate the emulator process (the one we started)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def prepare_environment(
    url: str, api_key: str = "bench-key", ca_bundle: str | None = None, api: str = "gateway"
) -> None:
    """Point ``xai_default`` at the emulator; give Airflow a throw-away home if not imported yet.

    :param api: the connection's extra ``api`` (``"gateway"`` is also what a connection without it means).
    """
    if "airflow" not in sys.modules:
        os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="xai_bench_airflow_home_")
        os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        # the benchmark cancels every trigger at the end of each phase: not one warning per trigger
        os.environ.setdefault("AIRFLOW__LOGGING__NAMESPACE_LEVELS", "airflow_provider_xai.triggers.xai=error")
    conn: dict[str, Any] = {"conn_type": "xai", "host": url, "password": api_key}
    extra: dict[str, Any] = {}
    if ca_bundle:
        extra["ca_bundle"] = ca_bundle
    if api != "gateway":
        extra["api"] = api
    if extra:
        conn["extra"] = extra
    os.environ["AIRFLOW_CONN_XAI_DEFAULT"] = json.dumps(conn)


def client_ssl(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """Return the client TLS setting for aiohttp: trust the emulator's authority (built once)."""
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True


def submit_tasks(
    url: str, n: int, api_key: str = "bench-key", ca_bundle: str | None = None, api: str = "gateway"
) -> list[str]:
    """Create ``n`` remote tasks that stay running for a day (they are only ever polled).

    On the gateway image tasks (``POST /xai/images``); on xAI's API video requests (``POST
    /v1/videos/generations``: its images are synchronous, only videos are polled). The bodies are built
    by the provider's own dialect of that API.
    """
    import requests

    from airflow_provider_xai.apis import dialect_for
    from airflow_provider_xai.protocol import ImageParams, VideoParams

    dialect = dialect_for(api)
    prompt = "a benchmark fox [xai:seconds=86400]"
    if api == "gateway":
        request = dialect.build_image(ImageParams(prompt))
    else:
        request = dialect.build_video(VideoParams(prompt, delivery="download"))
    ids = []
    with requests.Session() as session:
        for _ in range(n):
            answer = session.post(
                url + request.path,
                json=request.body,
                headers={"Authorization": f"Bearer {api_key}"},
                verify=ca_bundle or True,
            )
            answer.raise_for_status()
            ids.append(dialect.parse_submit(answer.json()))
    return ids


def parse_cost(url: str, task_id: str, ca_bundle: str | None = None, api_key: str = "bench-key") -> float:
    """Return the CPU (us) a poll spends besides HTTP: parse a real status answer, step the schedule.

    ``json.loads``, the dialect's ``answer_error`` and ``parse_state``, then ``PollTracker.on_state``:
    what the trigger does per poll besides the HTTP exchange, on an answer the emulator gave for
    ``task_id`` (through the connection ``xai_default`` points at).
    """
    import requests

    from airflow_provider_xai.hooks.xai import XaiHook
    from airflow_provider_xai.polling import PollPolicy, PollTracker

    dialect = XaiHook().settings.dialect
    answer = requests.get(
        url + dialect.status_path(task_id),
        headers={"Authorization": f"Bearer {api_key}"},
        verify=ca_bundle or True,
        timeout=30,
    )
    answer.raise_for_status()
    text = answer.text
    tracker = PollTracker(task_id, PollPolicy(first_delay=5.0, max_delay=5.0), started_at=time.time())
    count = 5000
    started = time.process_time()
    for _ in range(count):
        body = json.loads(text)
        dialect.answer_error(body)
        tracker.on_state(dialect.parse_state(body, task_id), time.time())
    return 1e6 * (time.process_time() - started) / count


# --------------------------------------------------------------------------------------------------
# phase A: CPU per poll, floor / naive / ours
# --------------------------------------------------------------------------------------------------
class Counter:
    """Polls sent so far (a plain integer: counting must cost next to nothing)."""

    def __init__(self) -> None:
        self.polls = 0


def _floor_waiter(settings: Any, interval: float, counter: Counter, session: Any):
    """A bare GET loop: the gateway's ``/xai/tasks`` with a ``taskId`` query, or xAI's status path."""
    from airflow_provider_xai import protocol

    headers = settings.headers
    gateway = settings.api == "gateway"

    async def wait(task_id: str) -> None:
        if gateway:
            url, params = settings.base_url + protocol.TASKS_PATH, {"taskId": task_id}
        else:
            url, params = settings.base_url + settings.dialect.status_path(task_id), None
        while True:
            await asyncio.sleep(interval)
            async with session.get(url, params=params, headers=headers) as answer:
                await answer.read()
            counter.polls += 1

    return wait


def _naive_waiter(interval: float, counter: Counter, tls: ssl.SSLContext | bool = True):
    import aiohttp

    from airflow_provider_xai.hooks.xai import XaiHook
    from airflow_provider_xai.polling import PollPolicy, PollTracker

    async def wait(task_id: str) -> None:
        # the trigger's loop, but a new session (and so a new connection) for every poll
        hook = XaiHook()
        policy = PollPolicy(first_delay=interval, max_delay=interval)
        tracker = PollTracker(task_id, policy, started_at=time.time())
        step = tracker.first_step(time.time())
        while step.result is None:
            await asyncio.sleep(step.delay)
            # the TLS context is built once (as aiohttp caches its default one): only the session is new
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)) as session:
                state = await hook.aget_task(task_id, session)
            counter.polls += 1
            step = tracker.on_state(state, time.time())

    return wait


async def _drive(trigger: Any) -> None:
    """Run a trigger to its first event, as the triggerer would."""
    async for _event in trigger.run():
        return


def _ours_waiter(interval: float):
    from airflow_provider_xai.triggers.xai import XaiTaskTrigger

    async def wait(task_id: str) -> None:
        await _drive(XaiTaskTrigger(xai_task_id=task_id, poll_interval=interval, max_poll_interval=interval))

    return wait


@contextlib.contextmanager
def _counting(counter: Counter) -> Iterator[None]:
    """Count the trigger's polls by wrapping ``XaiHook.aget_task`` (one call and one addition)."""
    from airflow_provider_xai.hooks.xai import XaiHook

    original = XaiHook.aget_task

    async def aget_task(hook: Any, xai_task_id: str, session: Any = None) -> Any:
        state = await original(hook, xai_task_id, session)
        counter.polls += 1
        return state

    XaiHook.aget_task = aget_task  # type: ignore[method-assign]
    try:
        yield
    finally:
        XaiHook.aget_task = original  # type: ignore[method-assign]


async def _spread(waiters: list[Awaitable[None]], interval: float) -> list[asyncio.Task]:
    async def later(delay: float, waiter: Awaitable[None]) -> None:
        await asyncio.sleep(delay)
        await waiter

    return [asyncio.ensure_future(later(random.uniform(0, interval), w)) for w in waiters]


async def _cancel(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _measure_mode(mode: str, url: str, ids: list[str], interval: float, window: float) -> dict:
    import aiohttp

    from airflow_provider_xai.hooks.xai import XaiHook

    counter = Counter()
    settings = await XaiHook().asettings()
    tls = client_ssl(settings.ca_bundle)
    session = None
    if mode == "floor":
        connector = aiohttp.TCPConnector(ssl=tls, limit=0, limit_per_host=256, keepalive_timeout=60)
        session = aiohttp.ClientSession(connector=connector)
        wait = _floor_waiter(settings, interval, counter, session)
    elif mode == "naive":
        wait = _naive_waiter(interval, counter, tls)
    else:
        wait = _ours_waiter(interval)
    try:
        with _counting(counter) if mode == "ours" else contextlib.nullcontext():
            tasks = await _spread([wait(task_id) for task_id in ids], interval)
            await asyncio.sleep(2.2 * interval + 0.2)  # every waiter started and polled at least once
            polls0, cpu0, wall0 = counter.polls, cpu_seconds(), time.perf_counter()
            await asyncio.sleep(window)
            polls1, cpu1, wall1 = counter.polls, cpu_seconds(), time.perf_counter()
            await _cancel(tasks)
    finally:
        if session is not None:
            await session.close()
    polls = polls1 - polls0
    return {
        "polls": polls,
        "cpu_s": cpu1 - cpu0,
        "wall_s": wall1 - wall0,
        "cpu_per_poll_us": 1e6 * (cpu1 - cpu0) / polls if polls else float("nan"),
    }


# --------------------------------------------------------------------------------------------------
# phase B: N waiting triggers with their real schedule
# --------------------------------------------------------------------------------------------------
async def _measure_waiting(
    ids: list[str], poll_interval: float, window: float, video_first_delay: float = 10.0
) -> dict:
    import aiohttp

    from airflow_provider_xai.hooks import _pool

    connections = Counter()

    async def on_connection_create_end(*_args: object) -> None:
        connections.polls += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_connection_create_end)
    _pool.TRACE_CONFIGS.append(trace)
    rss: dict[str, int] = {}

    def settled() -> None:  # every trigger has polled once: the RSS of N waiting triggers
        gc.collect()
        rss["waiting"] = rss_bytes()

    gc.collect()
    rss["before"] = rss_bytes()
    try:
        fresh = await _cpu_share(ids, poll_interval, 0.0, window, settled=settled)
    finally:
        _pool.TRACE_CONFIGS.remove(trace)
    result = {
        "rss_per_trigger_kb": (rss["waiting"] - rss["before"]) / len(ids) / 1024,
        "connections": connections.polls,
        "connections_per_trigger": connections.polls / len(ids),
        **fresh,
    }
    # the CPU share of the same N waiting tasks in two other situations, over the same shared pool
    for name, first_delay, ages in (
        ("video", video_first_delay, 0.0),
        ("steady", poll_interval, STEADY_AGES),
    ):
        share = await _cpu_share(ids, first_delay, ages, window)
        result.update(
            {f"{name}_cpu_share_pct": share["cpu_share_pct"], f"{name}_polls_per_s": share["polls_per_s"]}
        )
    return result


#: "steady": waits of every age up to this many seconds, as on a triggerer that takes new tasks all along
STEADY_AGES = 600.0


async def _cpu_share(
    ids: list[str],
    first_delay: float,
    ages: float,
    window: float,
    settled: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """Return the polls and CPU share of N waiting triggers whose waits began up to ``ages`` seconds ago.

    With ``ages`` 0 they all begin now and the window starts once each has polled; otherwise the start
    times are spread uniformly over the past ``ages`` seconds (each trigger at its own point of the
    schedule), and the window starts after one first delay.

    :param settled: called just before the window starts.
    """
    from airflow_provider_xai.triggers.xai import XaiTaskTrigger

    counter = Counter()
    with _counting(counter):
        now = time.time()
        tasks = [
            asyncio.ensure_future(
                _drive(
                    XaiTaskTrigger(
                        xai_task_id=task_id,
                        poll_interval=first_delay,
                        started_at=now - random.uniform(0, ages),
                    )
                )
            )
            for task_id in ids
        ]
        if ages:
            await asyncio.sleep(first_delay + 1)
        else:
            while counter.polls < len(ids):
                await asyncio.sleep(0.05)
        settled()
        polls0, cpu0, wall0 = counter.polls, cpu_seconds(), time.perf_counter()
        await asyncio.sleep(window)
        polls1, cpu1, wall1 = counter.polls, cpu_seconds(), time.perf_counter()
        await _cancel(tasks)
    return {
        "polls": polls1 - polls0,
        "polls_per_s": (polls1 - polls0) / (wall1 - wall0),
        "cpu_share_pct": 100.0 * (cpu1 - cpu0) / (wall1 - wall0),
    }


def measure_waiting_in_child(
    ids: list[str], poll_interval: float, window: float, video_first_delay: float = 10.0
) -> dict[str, Any]:
    """Run phase B in a fresh Python process, so that memory freed by earlier phases cannot hide RSS."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as ids_file:
        json.dump(ids, ids_file)
    try:
        child = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--waiting-child",
                ids_file.name,
                "--poll-interval",
                str(poll_interval),
                "--wait-window",
                str(window),
                "--video-first-delay",
                str(video_first_delay),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    finally:
        os.unlink(ids_file.name)
    if child.returncode != 0:
        raise RuntimeError(f"the waiting-triggers child failed:\n{child.stderr[-4000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def waiting_child(ids_file: str, poll_interval: float, window: float, video_first_delay: float) -> int:
    """Phase B in this (fresh) process: import and warm up everything first, then measure."""
    import aiohttp  # noqa: F401 - imported before the baseline RSS

    from airflow_provider_xai.hooks.xai import XaiHook
    from airflow_provider_xai.triggers.xai import XaiTaskTrigger  # noqa: F401

    with open(ids_file) as lines:
        ids = json.load(lines)
    asyncio.run(XaiHook().asettings())  # the connection lookup's own imports and caches
    print(
        json.dumps(asyncio.run(_measure_waiting(ids, poll_interval, window, video_first_delay))), flush=True
    )
    return 0


# --------------------------------------------------------------------------------------------------
# the benchmark
# --------------------------------------------------------------------------------------------------
def run(
    n: int = 1000,
    rounds: int = 3,
    rate: float = 200.0,
    window: float = 8.0,
    poll_interval: float = 5.0,
    wait_window: float = 20.0,
    log: Callable[[str], None] = lambda _line: None,
    in_process: bool = False,
    tls: bool = False,
    video_first_delay: float = 10.0,
    api: str = "gateway",
) -> dict[str, Any]:
    """Run both phases ``rounds`` times against a fresh emulator process; return every figure.

    :param tls: serve the emulator over HTTPS (as the real service is), trusted through ``ca_bundle``.
    :param api: the API the triggers wait on: ``"gateway"`` or ``"xai"`` (the connection's extra).
    :param in_process: run phase B in this process (fast, for the smoke test; the RSS figure is then
        unreliable, since memory freed by phase A is reused).
    """
    return run_apis(
        (api,),
        n=n,
        rounds=rounds,
        rate=rate,
        window=window,
        poll_interval=poll_interval,
        wait_window=wait_window,
        log=log,
        in_process=in_process,
        tls=tls,
        video_first_delay=video_first_delay,
    )[api]


def run_apis(
    apis: tuple[str, ...] = APIS,
    *,
    n: int = 1000,
    rounds: int = 3,
    rate: float = 200.0,
    window: float = 8.0,
    poll_interval: float = 5.0,
    wait_window: float = 20.0,
    log: Callable[[str], None] = lambda _line: None,
    in_process: bool = False,
    tls: bool = False,
    video_first_delay: float = 10.0,
) -> dict[str, dict[str, Any]]:
    """Run :func:`run` for several APIs side by side: one emulator (it serves both), rounds interleaved.

    Each API has its own ``n`` remote tasks; round ``i`` runs every API once, in an order that alternates
    from round to round, so that drift hits them alike. Return each API's result, as :func:`run`'s.
    """
    interval = n / rate
    results: dict[str, dict[str, Any]] = {
        api: {
            "n": n,
            "rate": rate,
            "interval_s": interval,
            "window_s": window,
            "poll_interval_s": poll_interval,
            "video_first_delay_s": video_first_delay,
            "wait_window_s": wait_window,
            "scheme": "https" if tls else "http",
            "api": api,
            "code": code_version(),
            "machine_before": machine(),
            "rounds": [],
        }
        for api in apis
    }
    with Emulator(tls=tls) as emulator:
        ids = {api: submit_tasks(emulator.url, n, ca_bundle=emulator.ca_bundle, api=api) for api in apis}
        for index in range(rounds):
            for api in apis if index % 2 == 0 else apis[::-1]:
                prepare_environment(emulator.url, ca_bundle=emulator.ca_bundle, api=api)
                tag = f"round {index + 1}" + (f" {api}" if len(apis) > 1 else "")
                parse_us = parse_cost(emulator.url, ids[api][0], emulator.ca_bundle)
                order = MODES[index % 3 :] + MODES[: index % 3]
                modes = {}
                for mode in order:
                    modes[mode] = asyncio.run(_measure_mode(mode, emulator.url, ids[api], interval, window))
                    log(f"{tag} {mode}: {modes[mode]['cpu_per_poll_us']:.0f} us/poll")
                if in_process:
                    waiting = asyncio.run(
                        _measure_waiting(ids[api], poll_interval, wait_window, video_first_delay)
                    )
                else:
                    waiting = measure_waiting_in_child(
                        ids[api], poll_interval, wait_window, video_first_delay
                    )
                log(f"{tag} waiting: {json.dumps({k: round(v, 2) for k, v in waiting.items()})}")
                results[api]["rounds"].append(
                    {"modes": modes, "waiting": waiting, "parse_us": parse_us, "loadavg": os.getloadavg()[0]}
                )
    for result in results.values():
        result["machine_after"] = machine()
        result["summary"] = summarize(result["rounds"])
    return results


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """Return the medians over rounds; ratios are taken within each round, then the median."""
    per_poll = {mode: [r["modes"][mode]["cpu_per_poll_us"] for r in rounds] for mode in MODES}
    summary = {f"{mode}_cpu_per_poll_us": _median(per_poll[mode]) for mode in MODES}
    summary["ours_over_floor"] = _median(
        [r["modes"]["ours"]["cpu_per_poll_us"] / r["modes"]["floor"]["cpu_per_poll_us"] for r in rounds]
    )
    summary["naive_over_floor"] = _median(
        [r["modes"]["naive"]["cpu_per_poll_us"] / r["modes"]["floor"]["cpu_per_poll_us"] for r in rounds]
    )
    summary["naive_over_ours"] = _median(
        [r["modes"]["naive"]["cpu_per_poll_us"] / r["modes"]["ours"]["cpu_per_poll_us"] for r in rounds]
    )
    for key in (
        "rss_per_trigger_kb",
        "connections_per_trigger",
        "cpu_share_pct",
        "polls_per_s",
        "video_cpu_share_pct",
        "video_polls_per_s",
        "steady_cpu_share_pct",
        "steady_polls_per_s",
    ):
        summary[key] = _median([r["waiting"][key] for r in rounds])
    summary["connections_max"] = max(r["waiting"]["connections"] for r in rounds)
    summary["parse_us"] = _median([r.get("parse_us", float("nan")) for r in rounds])
    return summary


def checks(result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Return (figure, value, target, passed) rows for the trigger targets."""
    s, n = result["summary"], result["n"]
    over = result.get("scheme", "http").upper()
    if result.get("api", "gateway") != "gateway":
        over += f", {result['api']} API"
    rows = [
        (
            "CPU per poll, ours / floor",
            f"{s['ours_over_floor']:.2f}x (ours {s['ours_cpu_per_poll_us']:.0f} us,"
            f" floor {s['floor_cpu_per_poll_us']:.0f} us)",
            "<= 1.15x",
            s["ours_over_floor"] <= 1.15,
        ),
        (
            "CPU per poll, naive / ours",
            f"{s['naive_over_ours']:.2f}x (naive {s['naive_cpu_per_poll_us']:.0f} us = "
            f"{s['naive_over_floor']:.2f}x floor)",
            ">= 2x",
            s["naive_over_ours"] >= 2.0,
        ),
        (
            f"RSS per waiting trigger (N={n})",
            f"{s['rss_per_trigger_kb']:.1f} KB",
            "<= 20 KB",
            s["rss_per_trigger_kb"] <= 20.0,
        ),
        (
            f"TCP connections opened per trigger (N={n})",
            f"{s['connections_per_trigger']:.3f} (max {s['connections_max']} in all)",
            "<= 1",
            s["connections_max"] <= n,
        ),
        (
            f"CPU share of one core, {n} waiting triggers, all fresh at "
            f"{result['poll_interval_s']:g} s (worst case)",
            f"{s['cpu_share_pct']:.1f}% ({s['polls_per_s']:.0f} polls/s)",
            "< 10%",
            s["cpu_share_pct"] < 10.0,
        ),
        (
            f"CPU share of one core, {n} waiting videos (first poll {result['video_first_delay_s']:g} s)",
            f"{s['video_cpu_share_pct']:.1f}% ({s['video_polls_per_s']:.0f} polls/s)",
            "< 10%",
            s["video_cpu_share_pct"] < 10.0,
        ),
        (
            f"CPU share of one core, {n} waiting triggers of every age up to {STEADY_AGES / 60:.0f} min",
            f"{s['steady_cpu_share_pct']:.1f}% ({s['steady_polls_per_s']:.0f} polls/s)",
            "< 10%",
            s["steady_cpu_share_pct"] < 10.0,
        ),
    ]
    return [(f"{figure} [{over}]", value, target, passed) for figure, value, target, passed in rows]


#: the figures set side by side by :func:`compare` (key, label, unit)
COMPARED = (
    ("floor_cpu_per_poll_us", "CPU per poll: floor", "us"),
    ("naive_cpu_per_poll_us", "CPU per poll: naive", "us"),
    ("ours_cpu_per_poll_us", "CPU per poll: ours", "us"),
    ("parse_us", "parse + schedule step, no I/O", "us"),
    ("ours_over_floor", "ours / floor", "x"),
    ("naive_over_ours", "naive / ours", "x"),
    ("rss_per_trigger_kb", "RSS per waiting trigger", "KB"),
    ("connections_per_trigger", "TCP connections per trigger", ""),
    ("cpu_share_pct", "CPU share, all fresh", "%"),
    ("video_cpu_share_pct", "CPU share, videos", "%"),
    ("steady_cpu_share_pct", "CPU share, every age", "%"),
)


def compare(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Return each compared figure's median on xAI's API and on the gateway, and their ratio.

    The ratio (xai / gateway) is taken within each round (both APIs ran in it, one after the other),
    then the median over rounds, as every other ratio of the benchmark.
    """
    xai, gateway = results["xai"], results["gateway"]
    per_round = [
        (summarize([x]), summarize([g])) for x, g in zip(xai["rounds"], gateway["rounds"], strict=True)
    ]
    nan = float("nan")
    return {
        key: {
            "xai": xai["summary"].get(key, nan),
            "gateway": gateway["summary"].get(key, nan),
            "ratio": _median([x[key] / g[key] for x, g in per_round if g[key]]),
        }
        for key, _label, _unit in COMPARED
    }


def format_comparison(results: dict[str, dict[str, Any]]) -> str:
    """Return xAI's API next to the gateway's, figure by figure (medians), with the in-round ratio."""
    scheme = results["xai"]["scheme"].upper()
    lines = [f"{'figure (' + scheme + ')':36} {'xai API':>10} {'gateway':>10} {'xai/gateway':>12}"]
    comparison = compare(results)
    for key, label, unit in COMPARED:
        row = comparison[key]
        if any(math.isnan(row[side]) for side in ("xai", "gateway")):
            continue  # a figure this result does not have (saved by an older version of the benchmark)
        digits = 3 if key == "connections_per_trigger" else (2 if unit in ("x", "%") else 1)
        lines.append(
            f"{label:36} {row['xai']:>8.{digits}f}{unit:>2} {row['gateway']:>8.{digits}f}{unit:>2} "
            f"{row['ratio']:>11.2f}x"
        )
    return "\n".join(lines)


def format_result(result: dict[str, Any]) -> str:
    """Return the machine, the per-round figures and the PASS/MISS rows."""
    lines = [
        f"api: {result.get('api', 'gateway')}; code: {result.get('code')}; "
        f"machine: {result['machine_before']}; load average after: {result['machine_after']['loadavg']}"
    ]
    for index, one in enumerate(result["rounds"], 1):
        per_poll = ", ".join(f"{m} {one['modes'][m]['cpu_per_poll_us']:.0f} us" for m in MODES)
        w = one["waiting"]
        lines.append(
            f"round {index} (load {one['loadavg']:.2f}): CPU/poll {per_poll}; waiting: "
            f"{w['rss_per_trigger_kb']:.1f} KB/trigger, {w['connections']} connections, "
            f"{w['cpu_share_pct']:.1f}% CPU at {w['polls_per_s']:.0f} polls/s (videos "
            f"{w['video_cpu_share_pct']:.1f}% at {w['video_polls_per_s']:.0f}/s, every age "
            f"{w['steady_cpu_share_pct']:.1f}% at {w['steady_polls_per_s']:.0f}/s)"
        )
    for figure, value, target, passed in checks(result):
        lines.append(f"{'PASS' if passed else 'MISS'}  {figure}: {value}  (target {target})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="waiting triggers (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--rate", type=float, default=200.0, help="phase A: polls per second in all")
    parser.add_argument("--window", type=float, default=8.0, help="phase A: seconds measured per mode")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="phase B: the triggers' first delay")
    parser.add_argument("--wait-window", type=float, default=20.0, help="phase B: seconds measured")
    parser.add_argument("--video-first-delay", type=float, default=10.0, help="phase B: videos' first delay")
    parser.add_argument("--tls", action="store_true", help="serve the emulator over HTTPS")
    parser.add_argument(
        "--api",
        choices=(*APIS, "both"),
        default="gateway",
        help="the API the triggers wait on (the connection's extra api); both: one after the other",
    )
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--waiting-child", metavar="IDS_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.waiting_child:
        return waiting_child(args.waiting_child, args.poll_interval, args.wait_window, args.video_first_delay)
    apis = APIS if args.api == "both" else (args.api,)
    results = run_apis(
        apis,
        n=args.n,
        rounds=args.rounds,
        rate=args.rate,
        window=args.window,
        poll_interval=args.poll_interval,
        wait_window=args.wait_window,
        log=lambda line: print(line, file=sys.stderr, flush=True),
        tls=args.tls,
        video_first_delay=args.video_first_delay,
    )
    if args.json:
        both = {**results, "comparison": compare(results)} if len(apis) > 1 else results[apis[0]]
        print(json.dumps(both, indent=2))
        return 0
    print("\n\n".join(format_result(results[api]) for api in apis))
    if len(apis) > 1:
        print("\n" + format_comparison(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
