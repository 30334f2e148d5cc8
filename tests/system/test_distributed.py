"""System test: the provider on a distributed Airflow, with a worker and a triggerer SIGKILLed mid-run.

Real servers, no mocks: PostgreSQL (the metadata DB) and Redis (the Celery broker) from the machine's
packages (``services.py``), and Airflow's CeleryExecutor with **two Celery workers**, each with its own
``AIRFLOW_HOME`` and dags folder (they share nothing but S3), the scheduler, the dag-processor, the
api-server and **two triggerers** (``stack.py``). S3 is moto's server; the service is the emulator in
``time`` progression, serving the task gateway and xAI's own API on one port.

The DAG (``tests/dags/xai_sys_distributed_dag.py``) maps 42 deferrable generations on both APIs, images
and videos, stored to ``s3://aws_default@<bucket>/<prefix>``; xAI's videos are uploaded into the bucket by
the service itself (``delivery="auto"``). Mid-run the test SIGKILLs the triggerer that holds the most
waiting triggers; once every generation is submitted it lets a large video complete and SIGKILLs the
worker that is streaming it into S3 (moto shows the multipart upload); it starts both again. Every task
instance must end ``success`` with exactly one accepted POST per generation (the emulator's request log),
every file must be in S3 once with its sidecar, and nothing else may be left under the prefix.

Run it alone with ``pytest -m distributed``. It needs ``apt-get install postgresql redis-server`` and the
``distributed`` extra (``.ci/run`` and ``make test`` install both); without them it fails as root (CI)
and is skipped otherwise.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psutil
import pytest

from tests.storage.s3 import aws_conn_json, moto_s3  # noqa: F401 - the fixture
from tests.system.services import PostgresServer, RedisServer, missing_requirements
from tests.system.stack import AirflowStack, StackError, copy_dags, start_stack

DAG_ID = "xai_sys_distributed"
#: the video whose store into S3 is cut by the worker's SIGKILL: big enough to take seconds
BIG_VIDEO_BYTES = 120_000_000
#: a killed worker's task instance is failed (then retried) after this many seconds without a heartbeat
HEARTBEAT_TIMEOUT = 20
#: A worker killed between receiving a Celery message and starting its task leaves the task instance
#: ``queued`` (the message stays unacknowledged in Redis for the 24 h visibility timeout); the scheduler
#: requeues it after this many seconds (600 by default), without using up a try.
QUEUED_TIMEOUT = 90
#: enough waiting triggers for the triggerer's kill to matter
DEFERRED_AT_KILL = 10
KINDS = ("gateway_images", "gateway_videos", "xai_images", "xai_videos")
#: the emulator's create endpoints: one accepted POST per generation
CREATE_PATHS = ("/xai/images", "/xai/videos", "/v1/images/generations", "/v1/videos/generations")
#: the scheduler's line for a task instance whose worker died (Airflow 3.3)
NO_HEARTBEAT = re.compile(
    r"Detected a task instance without a heartbeat: "
    r".*?'Task Id': '(?P<task>[^']+)'.*?'Map Index': (?P<map>-?\d+)"
)
#: the scheduler's line for a task instance requeued after QUEUED_TIMEOUT
REQUEUED = re.compile(
    r"Task stuck in queued; will try to requeue\. task_instance=<TaskInstance: [^ .]+\.(?P<task>\w+) "
    r"\S+ map_index=(?P<map>\d+)"
)
TRIGGER_LOG = re.compile(
    r"task_id=(?P<task>[^/]+)/map_index=(?P<map>\d+)/attempt=\d+\.log\.trigger\.(?P<job>\d+)\.log$"
)


def build_plan() -> dict[str, list[str]]:
    """42 prompts: each one's ``[xai:seconds=N]`` staggers the remote tasks so that many wait at once."""
    return {
        "gateway_images": [f"distributed gateway image {i} [xai:seconds={6 + i % 5}]" for i in range(14)],
        "gateway_videos": [
            # completes only when the test forces it (after every submission): see release_big_video
            f"distributed gateway video 0 [xai:seconds=3600] [xai:size={BIG_VIDEO_BYTES}]",
            *(f"distributed gateway video {i} [xai:seconds={8 + i % 4}]" for i in range(1, 8)),
        ],
        "xai_images": [f"distributed xai image {i} [xai:seconds=1]" for i in range(8)],
        "xai_videos": [f"distributed xai video {i} [xai:seconds={8 + i % 5}]" for i in range(12)],
    }


@pytest.fixture
def distributed_services() -> Iterator[tuple[PostgresServer, RedisServer]]:
    """A private PostgreSQL and Redis; without the packages: a failure as root (CI), else a skip."""
    missing = missing_requirements()
    if missing:
        message = f"the distributed system test needs {', '.join(missing)}"
        if os.geteuid() == 0:
            pytest.fail(f"{message}; as root nothing prevents installing them (.ci/run does)")
        pytest.skip(f"{message} (not root: install them to run it)")
    postgres, redis = PostgresServer(), RedisServer()
    try:
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop()


@dataclass
class Kill:
    """One SIGKILL: which process, when, and what it held."""

    name: str
    at: float
    #: task instances (task_id, map_index) waiting on a killed triggerer, or running on a killed worker
    held: set[tuple[str, int]] = field(default_factory=set)
    detail: str = ""
    #: a triggerer's job id
    job: int | None = None


@dataclass
class Run:
    """The state of the test: the stack, its S3 folder and the kills so far."""

    stack: AirflowStack
    emulator: Any
    s3: Any
    folder: str
    plan: dict[str, list[str]]
    run_id: str = ""
    triggerer_kill: Kill | None = None
    worker_kill: Kill | None = None
    #: when the big video was made to complete (epoch seconds)
    released_at: float | None = None

    @property
    def prefix(self) -> str:
        return self.folder.split(f"@{self.s3.bucket}/", 1)[1].rstrip("/") + "/"

    def tis(self) -> list[dict]:
        return self.stack.task_instances(DAG_ID, self.run_id)

    def remote_id(self, prompt: str) -> str | None:
        found = [t["taskId"] for t in self.emulator.tasks() if t["body"].get("prompt") == prompt]
        return found[0] if found else None

    def in_progress_uploads(self) -> list[dict]:
        answer = self.s3.client.list_multipart_uploads(Bucket=self.s3.bucket, Prefix=self.prefix)
        return answer.get("Uploads", [])

    def logs(self, names: tuple[str, ...], pattern: str) -> dict[str, list[pathlib.Path]]:
        """The log files matching a glob pattern under the homes of these processes."""
        return {name: sorted((self.stack.homes[name] / "logs").rglob(pattern)) for name in names}


class TriggererMeter(threading.Thread):
    """Sample the triggerers' CPU and RSS (their whole process trees) and the number of waiting tasks.

    CPU: a least-squares fit of the triggerers' CPU rate over each sampling interval against the number
    of tasks waiting in it: the intercept is Airflow's own triggerer loop (heartbeats, DB queries), the
    slope what one more waiting task adds. RSS per waiting task: the growth from the idle triggerers to the
    sample with the most deferred tasks, over that count; an upper bound (it includes the provider's
    imports and the first HTTP session).
    """

    def __init__(self, run: Run, interval: float = 0.5) -> None:
        super().__init__(daemon=True, name="triggerer-meter")
        self.run_, self.interval = run, interval
        self.stopped = threading.Event()
        self.cpu: dict[int, float] = {}  # pid -> its last CPU seconds (a killed process keeps its last)
        #: (epoch seconds, deferred tasks, RSS bytes, CPU seconds so far)
        self.samples: list[tuple[float, int, int, float]] = []

    def sample(self) -> None:
        rss, measured = 0, 0
        for name in triggerer_names(self.run_.stack):
            proc = self.run_.stack.procs.get(name)
            try:
                tree = [psutil.Process(proc.pid)] if proc else []
                tree += tree[0].children(recursive=True) if tree else []
            except psutil.Error:
                continue
            for p in tree:
                try:
                    times, memory = p.cpu_times(), p.memory_info()
                except psutil.Error:  # a child that just exited
                    continue
                self.cpu[p.pid] = times.user + times.system
                rss += memory.rss
            measured += bool(tree)
        try:
            deferred = sum(ti["state"] == "deferred" for ti in self.run_.tis())
        except Exception:  # noqa: BLE001 - a sample lost to a busy api-server
            return
        if measured == len(triggerer_names(self.run_.stack)):  # a restarting triggerer skews the RSS
            self.samples.append((time.time(), deferred, rss, sum(self.cpu.values())))

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()

    def figures(self, polls: int, trigger_runs: int) -> str:
        """The figures, given the status polls the triggerers made and the triggers they ran."""
        pairs = list(zip(self.samples, self.samples[1:], strict=False))
        waiting = sum((b[0] - a[0]) * a[1] for a, b in pairs)
        first = next((i for i, x in enumerate(self.samples) if x[1]), None)
        if first is None or not waiting or len(pairs) < 3:
            return "no waiting task was sampled"
        fit = statistics.linear_regression(
            [a[1] for a, _ in pairs], [(b[3] - a[3]) / (b[0] - a[0]) for a, b in pairs]
        )
        span = self.samples[-1][0] - self.samples[0][0]
        extra = self.samples[-1][3] - self.samples[0][3] - fit.intercept * span
        idle = min(x[2] for x in self.samples[: first + 1])
        kill = self.run_.triggerer_kill
        before_kill = [x for x in self.samples if kill is None or x[0] < kill.at] or self.samples
        _, peak, peak_rss, _ = max(before_kill, key=lambda x: x[1])
        return (
            f"CPU {100 * fit.intercept:.1f}% of a core with no task waiting (Airflow's own loops), "
            f"+{1000 * fit.slope:.1f} ms/s per waiting task; above the idle loops {extra:.1f} CPU s for "
            f"{trigger_runs} trigger runs = {1000 * extra / trigger_runs:.0f} ms per trigger run "
            f"(start, {polls / trigger_runs:.1f} polls, event, end; {polls} polls over {waiting:.0f} "
            f"waiting task-seconds); RSS {idle / 2**20:.0f} MiB idle -> {peak_rss / 2**20:.0f} MiB with "
            f"{peak} tasks waiting = {(peak_rss - idle) / peak / 1024:.0f} KiB per waiting task "
            "(an upper bound: it includes the provider's imports and first HTTP session)"
        )


def triggerer_jobs(run: Run) -> dict[int, str]:
    """Which triggerer process ran as which job: its trigger logs (in its own home) carry the job id."""
    jobs = {}
    for name, paths in run.logs(triggerer_names(run.stack), "*.log.trigger.*.log").items():
        for path in paths:
            match = TRIGGER_LOG.search(path.as_posix())
            if match:
                jobs[int(match["job"])] = name
    return jobs


def triggerer_names(stack: AirflowStack) -> tuple[str, ...]:
    return tuple(name for name in stack.homes if name.startswith("triggerer"))


def worker_names(stack: AirflowStack) -> tuple[str, ...]:
    return tuple(name for name in stack.homes if name.startswith("worker"))


def maybe_kill_triggerer(run: Run, tis: list[dict]) -> Kill | None:
    """Once enough task instances wait, SIGKILL the triggerer that runs most of their triggers."""
    waiting = [
        ti for ti in tis if ti["state"] == "deferred" and (ti.get("trigger") or {}).get("triggerer_id")
    ]
    if len(waiting) < DEFERRED_AT_KILL:
        return None
    jobs = triggerer_jobs(run)
    by_job = Counter(ti["trigger"]["triggerer_id"] for ti in waiting)
    job, count = by_job.most_common(1)[0]
    if job not in jobs:  # its first trigger log is not written yet
        return None
    name = jobs[job]
    run.stack.kill(name, tree=True)
    held = {(ti["task_id"], ti["map_index"]) for ti in waiting if ti["trigger"]["triggerer_id"] == job}
    kill = Kill(name, time.time(), held, f"job {job}, {count} of {len(waiting)} waiting triggers", job)
    run.stack.restart(name)
    return kill


def release_big_video(run: Run, total: int) -> float | None:
    """Once every generation is submitted (and answered), make the big video complete; return when.

    The worker is killed only after that, while it stores the big video. A worker killed during a
    submission is another case, not proved here: its retry cannot tell whether the POST cut short created
    (and billed) a task.
    """
    remote = run.emulator.tasks()
    if len(remote) < total:
        return None
    big_id = run.remote_id(run.plan["gateway_videos"][0])
    assert big_id is not None, remote
    run.emulator.force_status(big_id, "completed")
    return time.time()


def maybe_kill_worker(run: Run) -> Kill | None:
    """While a worker streams the big video into S3 (a multipart upload in progress), SIGKILL it."""
    big_id = run.remote_id(run.plan["gateway_videos"][0])
    if big_id is None:
        return None
    uploads = [u for u in run.in_progress_uploads() if big_id in u["Key"]]
    if not uploads:
        return None
    storing = []
    for name, paths in run.logs(worker_names(run.stack), "attempt=*.log").items():
        for path in paths:
            if "task_id=gateway_videos/map_index=0/" not in path.as_posix():
                continue
            text = path.read_text(errors="replace")
            if f"xAI task {big_id} completed" in text and "Stored s3://" not in text:
                storing.append(name)
    if len(storing) != 1:
        return None
    name = storing[0]
    run.stack.kill(name, tree=True)
    kill = Kill(name, time.time(), {("gateway_videos", 0)}, f"while uploading {uploads[0]['Key']}")
    time.sleep(2)  # a machine that comes back
    run.stack.restart(name)
    return kill


def attempt_log(run: Run, task_id: str, map_index: int, try_number: int) -> str:
    """One try's task log: its parts from every worker (a resumed try may run on the other one)."""
    pattern = f"task_id={task_id}/map_index={map_index}/attempt={try_number}.log"
    paths = [p for paths in run.logs(worker_names(run.stack), "attempt=*.log").values() for p in paths]
    return "\n".join(p.read_text(errors="replace") for p in paths if p.as_posix().endswith(pattern))


def emulator_key(emulator: Any) -> str:
    return emulator.config["api_key"]


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@pytest.mark.system
@pytest.mark.distributed
@pytest.mark.timeout(600)
def test_distributed_celery_postgres_redis_with_kills(
    distributed_services,
    system_emulator,
    system_api_key,
    moto_s3,  # noqa: F811 - the fixture
    tmp_path,
    capsys,
):
    started = time.monotonic()
    postgres, redis = distributed_services
    plan = build_plan()
    total = sum(len(prompts) for prompts in plan.values())
    folder = moto_s3.folder("distributed")
    xai_direct = {
        "conn_type": "xai",
        "host": system_emulator.url,
        "password": system_api_key,
        "extra": {"api": "xai"},
    }
    stack = start_stack(
        tmp_path,
        system_emulator.url,
        system_api_key,
        dags_folder=copy_dags(tmp_path / "dags", "xai_sys_distributed_dag"),
        secrets=(system_api_key,),
        executor="CeleryExecutor",
        database_url=postgres.url,
        broker_url=redis.url,
        workers=2,
        worker_concurrency=4,
        triggerers=2,
        AIRFLOW__CORE__PARALLELISM="32",
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="2",
        AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT=str(QUEUED_TIMEOUT),
        AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL="5",
        AIRFLOW_CONN_XAI_DIRECT=json.dumps(xai_direct),
        AIRFLOW_CONN_AWS_DEFAULT=aws_conn_json(moto_s3.endpoint_url),
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        XAI_SYS_DIST_PLAN=json.dumps(plan),
        XAI_SYS_DIST_S3_OUTPUT=folder,
    )
    try:
        migrated = time.monotonic()
        stack.wait_until_ready(DAG_ID, timeout=150)
        ready = time.monotonic()
        run = Run(stack, system_emulator, moto_s3, folder, plan)
        run.run_id = stack.trigger(DAG_ID)
        figures = drive_and_check(run, total)
    except BaseException:
        print(stack.diagnostics(lines=60))
        raise
    finally:
        stack.stop()
    done = time.monotonic()
    report = (
        f"\nDISTRIBUTED RUN (CeleryExecutor, PostgreSQL, Redis; 2 workers x 4 slots, 2 triggerers, moto S3)\n"
        f"  wall time: {done - started:.1f} s in all = {migrated - started:.1f} s services + migration, "
        f"{ready - migrated:.1f} s until the DAG was served, {figures.pop('run_seconds'):.1f} s the run, "
        f"the rest stopping\n" + "\n".join(f"  {key}: {value}" for key, value in figures.items())
    )
    (tmp_path / "figures.txt").write_text(report)
    with capsys.disabled():  # on the terminal even without -s: CI's log keeps the figures
        print(report)


def drive_and_check(run: Run, total: int) -> dict[str, Any]:
    """Kill a triggerer and a worker mid-run, wait for the end, check every outcome; return the figures."""
    stack, emulator = run.stack, run.emulator
    triggered = time.monotonic()
    meter = TriggererMeter(run)
    meter.start()

    def kills_done() -> bool:
        tis = run.tis()
        if run.triggerer_kill is None:
            run.triggerer_kill = maybe_kill_triggerer(run, tis)
        elif run.released_at is None:
            run.released_at = release_big_video(run, total)
        elif run.worker_kill is None:
            run.worker_kill = maybe_kill_worker(run)
        if run.triggerer_kill and run.worker_kill:
            return True
        if all(ti["state"] in ("success", "failed", "upstream_failed") for ti in tis) and len(tis) == total:
            raise StackError(
                f"the run ended before both kills (triggerer: {run.triggerer_kill}, worker: "
                f"{run.worker_kill})\n{stack.task_states(DAG_ID, run.run_id)}"
            )
        return False

    stack.wait_for("a triggerer and a worker killed mid-run", kills_done, timeout=200, interval=0.3)
    assert run.triggerer_kill and run.worker_kill
    try:
        dag_run = stack.wait_for_run(DAG_ID, run.run_id, timeout=200 + QUEUED_TIMEOUT)
    finally:
        meter.stopped.set()
        meter.join()
    run_seconds = time.monotonic() - triggered
    states = stack.task_states(DAG_ID, run.run_id)
    assert dag_run["state"] == "success", states

    # ---- every task instance succeeded (retries allowed) ----------------------------------------------
    tis = {(ti["task_id"], ti["map_index"]): ti for ti in run.tis()}
    expected = {(kind, i) for kind, prompts in run.plan.items() for i in range(len(prompts))}
    assert set(tis) == expected, states
    assert all(ti["state"] == "success" for ti in tis.values()), states
    tries = Counter(ti["try_number"] for ti in tis.values())
    # Every task instance running on the killed worker (the big video's among them) was failed by the
    # scheduler for its missing heartbeat, then retried; a retry of a try that had submitted reattached.
    scheduler_log = stack.log_paths["scheduler"].read_text(errors="replace")
    no_heartbeat = {(m["task"], int(m["map"])) for m in NO_HEARTBEAT.finditer(scheduler_log)}
    assert ("gateway_videos", 0) in no_heartbeat, sorted(no_heartbeat)
    run.worker_kill.held = no_heartbeat
    requeued = {(m["task"], int(m["map"])) for m in REQUEUED.finditer(scheduler_log)}
    retried = sorted(key for key, ti in tis.items() if ti["try_number"] > 1)
    assert set(no_heartbeat) <= set(retried), (sorted(no_heartbeat), retried)
    for task_id, map_index in retried:
        last = tis[(task_id, map_index)]["try_number"]
        by_try = {n: attempt_log(run, task_id, map_index, n) for n in range(1, last + 1)}
        submitted = any(
            ("Submitted xAI" in by_try[n] or "xAI generated" in by_try[n]) for n in range(1, last)
        )
        if submitted:
            reattached = "Reattaching to xAI task" in by_try[last] or "Reusing the images" in by_try[last]
            assert reattached, f"{task_id}[{map_index}] try {last}:\n{by_try[last][-3000:]}"
    big_id = run.remote_id(run.plan["gateway_videos"][0])

    # ---- exactly one accepted POST per generation, none refused --------------------------------------
    log = emulator.requests_log()
    posts = [r for r in log if r["method"] == "POST"]
    accepted = [r for r in posts if r["status"] in (200, 201)]
    assert len(accepted) == len(posts) == total, Counter((r["path"], r["status"]) for r in posts)
    assert sum(emulator.count("POST", path) for path in CREATE_PATHS) == total
    remote = emulator.tasks()
    by_prompt = Counter(t["body"].get("prompt") for t in remote)
    planned = Counter(prompt for prompts in run.plan.values() for prompt in prompts)
    assert by_prompt == planned, {p: (by_prompt[p], planned[p]) for p in planned | by_prompt}

    # ---- every file in S3 once, with its sidecar; no .partial, no debris ------------------------------
    keys = run.s3.keys(run.folder)
    names = {key[len(run.prefix) :]: size for key, size in keys.items()}
    sidecars = {
        name: json.loads(run.s3.read(f"s3://{run.s3.bucket}/{run.prefix}{name}"))
        for name in names
        if name.endswith(".json")
    }
    assert len(sidecars) == total, sorted(names)
    referenced: Counter[str] = Counter()
    sidecar_prompts: Counter[str] = Counter()
    for name, manifest in sidecars.items():
        assert name == f"{manifest['xai_task_id']}.json", (name, manifest["xai_task_id"])
        assert manifest["status"] in ("completed", "done"), manifest
        sidecar_prompts[manifest["request"]["prompt"]] += 1
        assert manifest["files"], name
        for entry in manifest["files"]:
            referenced[entry["uri"].split(f"@{run.s3.bucket}/", 1)[-1].removeprefix(run.prefix)] += 1
    assert sidecar_prompts == planned, sidecar_prompts
    media = {name for name in names if not name.endswith(".json")}
    assert set(referenced) == media and set(referenced.values()) == {1}, (sorted(referenced), sorted(media))
    assert all(names[name] > 0 for name in media), names
    debris = sorted(name for name in names if name.startswith(".") or "partial" in name or "/" in name)
    assert not debris, f"debris under {run.prefix}: {debris}"
    big_files = [name for name in media if big_id and name.startswith(big_id)]
    assert len(big_files) == 1 and names[big_files[0]] == BIG_VIDEO_BYTES, (big_files, names)
    # The SIGKILL cut the big video's multipart upload short (the kill saw it open): its parts were
    # billed yet invisible to listings. The retry aborted it before storing, and nothing is left open.
    assert "while uploading" in run.worker_kill.detail and big_id in run.worker_kill.detail, run.worker_kill
    big_retry = tis[("gateway_videos", 0)]["try_number"]
    retry_log = attempt_log(run, "gateway_videos", 0, big_retry)
    aborted = "unfinished upload(s) an earlier try left open"
    assert aborted in retry_log and big_id in retry_log, retry_log[-3000:]
    assert run.in_progress_uploads() == [], run.in_progress_uploads()

    # ---- xAI's videos: uploaded by the service itself, never downloaded by a worker -------------------
    xai_videos = [t for t in remote if t.get("api") == "xai" and t["kind"] == "video"]
    uploads = emulator.uploads()
    assert len(xai_videos) == len(run.plan["xai_videos"]) == len(uploads), uploads
    assert all(u["ok"] for u in uploads), uploads
    assert not [
        r
        for r in log
        if r["method"] == "GET"
        and any(v["taskId"] in r["path"] for v in xai_videos)
        and r["path"].startswith("/media/")
    ]
    for video in xai_videos:
        files = sidecars[f"{video['taskId']}.json"]["files"]
        assert [f["delivery"] for f in files] == ["upload"], files

    # ---- the killed triggerer's triggers ran to their end in another triggerer -------------------------
    kill = run.triggerer_kill
    moved, fired_before = 0, 0
    trigger_paths = [
        p for paths in run.logs(triggerer_names(stack), "*.log.trigger.*.log").values() for p in paths
    ]
    for task_id, map_index in sorted(kill.held):
        assert epoch(tis[(task_id, map_index)]["end_date"]) > kill.at, (task_id, map_index)
        mine = [
            m
            for p in trigger_paths
            if (m := TRIGGER_LOG.search(p.as_posix())) and (m["task"], int(m["map"])) == (task_id, map_index)
        ]
        if any(int(m["job"]) != kill.job for m in mine):
            moved += 1
        else:  # its event was out just before the kill: nothing left to move
            text = "\n".join(
                p.read_text(errors="replace")
                for p in trigger_paths
                if f"task_id={task_id}/map_index={map_index}/" in p.as_posix()
            )
            assert "Trigger fired event" in text, (task_id, map_index, [m.group(0) for m in mine])
            fired_before += 1
    assert moved >= 1, kill

    # ---- both workers ran tasks -------------------------------------------------------------------------
    ran = {name: len(paths) for name, paths in run.logs(worker_names(stack), "attempt=*.log").items()}
    assert all(ran.values()), ran

    # ---- neither the API key nor a signed URL reached a file of any home -------------------------------
    leaked = [
        str(path)
        for path in stack.home.parent.rglob("*")
        if path.is_file()
        and (emulator_key(emulator).encode() in (data := path.read_bytes()) or b"X-Amz-Signature=" in data)
    ]
    assert not leaked, f"a secret appears in: {leaked}"

    # ---- figures ----------------------------------------------------------------------------------------
    finished = {t["body"].get("prompt"): t["finishedAt"] for t in remote}
    latencies = []
    for (kind, index), ti in tis.items():
        if kind == "xai_images" or ti["try_number"] > 1 or (kind, index) in kill.held | requeued:
            continue  # synchronous, or delayed on purpose by a kill
        latencies.append(epoch(ti["end_date"]) - epoch(finished[run.plan[kind][index]]))
    post_times = sorted(r["time"] for r in accepted)
    span = post_times[-1] - post_times[0]
    return {
        "run_seconds": run_seconds,
        "task instances": f"{len(tis)} ({sum(ti['state'] == 'success' for ti in tis.values())} success), "
        f"tries {dict(sorted(tries.items()))}; per kind "
        + ", ".join(f"{kind} {len(run.plan[kind])}" for kind in KINDS),
        "kills": f"triggerer {kill.name} SIGKILL ({kill.detail}; {moved} moved to another triggerer, "
        f"{fired_before} had fired); worker {run.worker_kill.name} SIGKILL {run.worker_kill.detail} "
        f"(its {len(no_heartbeat)} running task instances failed on their heartbeat and were retried: "
        f"{sorted(no_heartbeat)}; task instances it had received but not started, requeued after "
        f"{QUEUED_TIMEOUT} s in queued: {sorted(requeued)}); both restarted",
        "accepted POSTs": f"{len(accepted)} for {total} generations ({len(posts)} POSTs in all), "
        + ", ".join(f"{path} {emulator.count('POST', path)}" for path in CREATE_PATHS)
        + f"; {len(posts) / span if span else float('inf'):.1f} submissions/s over {span:.1f} s",
        "S3": f"{len(media)} media files + {len(sidecars)} sidecars, {len(debris)} debris objects, "
        "0 open multipart uploads (the one the worker's kill cut short was aborted by its retry); "
        f"{len(uploads)} videos uploaded by the service",
        "triggerers (2, whole process trees)": meter.figures(
            sum(r["method"] == "GET" and not r["path"].startswith(("/media/", "/v1/api-key")) for r in log),
            len(trigger_paths),
        ),
        "tasks per worker (task log files)": ran,
        "remote completion -> task success": f"median {statistics.median(latencies):.1f} s, "
        f"p95 {percentile(latencies, 0.95):.1f} s over {len(latencies)} undisturbed deferred tasks",
    }
