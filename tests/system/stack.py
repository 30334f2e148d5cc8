"""Run the real Airflow components (api-server, scheduler, dag-processor, triggerer) as subprocesses.

Everything lives in a fresh ``AIRFLOW_HOME``: its own SQLite DB, config, logs and ports. With
``executor="CeleryExecutor"`` (:func:`start_stack`) the DB is a PostgreSQL server's, the broker a Redis
server's (``services.py`` starts both) and Celery workers run too, each in an ``AIRFLOW_HOME`` and dags
folder of its own. The settings that ``tests/conftest.py`` put into ``os.environ`` for in-process tests
(unit test mode, the shared DB, ...) are not passed on: every ``AIRFLOW*`` and ``XAI_*`` variable of this
process is dropped from the children's environment and set afresh.

Plain Python, no pytest: the system tests (``conftest.py``) and ``benchmarks/bench_e2e.py`` both use it.
A check that fails (a component exits, Airflow is not ready, a wait times out) raises :class:`StackError`.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets as secrets_module
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
AIRFLOW_BIN = pathlib.Path(sys.prefix) / "bin" / "airflow"
DAGS_FOLDER = ROOT / "example_dags"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
STOP_GRACE_SECONDS = 15.0


class StackError(AssertionError):
    """A component exited, Airflow did not get ready, or a wait timed out (a failure in a test)."""


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(home: pathlib.Path, **extra: str) -> dict[str, str]:
    """Return the environment of an ``airflow`` child process: this process's, minus Airflow/xAI settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "XAI_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def redact(text: str, *secrets_: str) -> str:
    """Replace every secret in ``text`` with ``***``."""
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "***")
    return text


def tail(path: pathlib.Path, lines: int = 40) -> str:
    """Return the last lines of a file, or a note that it is missing."""
    if not path.exists():
        return f"<{path.name} does not exist>"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class AirflowStack:
    """Running Airflow components in a private ``AIRFLOW_HOME``, driven over the REST API."""

    home: pathlib.Path
    env: dict[str, str]
    api_port: int
    output_path: pathlib.Path
    secrets: tuple[str, ...] = ()
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    #: components killed on purpose (their exit does not fail a wait)
    killed: set[str] = field(default_factory=set)
    log_paths: dict[str, pathlib.Path] = field(default_factory=dict)
    #: the ``AIRFLOW_HOME`` of each process that has one of its own (Celery workers and, beside them,
    #: triggerers: their task and trigger logs are there, not under ``home``)
    homes: dict[str, pathlib.Path] = field(default_factory=dict)
    #: how each process was started (component, args, cwd, env overrides), for :meth:`restart`
    commands: dict[str, tuple[str, tuple[str, ...], pathlib.Path | None, dict[str, str]]] = field(
        default_factory=dict
    )
    _token: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    # ---- processes ---------------------------------------------------------------------------------

    def start(
        self,
        component: str,
        *args: str,
        name: str | None = None,
        cwd: pathlib.Path | None = None,
        **env_overrides: str,
    ) -> None:
        """Start ``airflow <component> <args>`` in its own session, logging to ``<name>.log``.

        :param name: the key of the process and its log file (default: the component), e.g.
            ``"triggerer-2"`` for a second triggerer.
        :param cwd: the working directory (default: ``home``).
        :param env_overrides: environment settings of this process only.
        """
        name = name or component
        assert name not in self.procs, f"{name} already started"
        self.commands[name] = (component, args, cwd, dict(env_overrides))
        self._spawn(name, "wb")

    def restart(self, name: str) -> None:
        """Start a killed process again, the same way; its output goes on in the same log file."""
        assert name in self.killed, f"{name} was not killed"
        proc = self.procs.pop(name)
        assert proc.poll() is not None, f"{name} is still running"
        self.killed.discard(name)
        self._spawn(name, "ab")

    def _spawn(self, name: str, mode: str) -> None:
        component, args, cwd, env_overrides = self.commands[name]
        log_path = self.home.parent / f"{name}.log"
        self.log_paths[name] = log_path
        with open(log_path, mode) as log:  # the child keeps its own copy of the descriptor
            self.procs[name] = subprocess.Popen(
                [str(AIRFLOW_BIN), component, *args],
                env={**self.env, **env_overrides},
                cwd=cwd or self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGTERM every process group, SIGKILL whatever is left after a grace period.

        Descendants in process groups of their own (a Celery worker's task runners) that outlive the grace
        period are SIGKILLed too: they are known before the SIGTERM, by pid and start time.
        """
        strays = {
            pid: _start_time(pid)
            for proc in self.procs.values()
            if proc.poll() is None
            for pid in descendants(proc.pid)
            if _pgid(pid) not in (None, proc.pid)
        }
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            for proc in self.procs.values():
                proc.poll()  # reap the leader so that it does not count as alive
            if not any(_group_alive(proc.pid) for proc in self.procs.values()):
                break
            time.sleep(0.2)
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGKILL)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for pid, started in strays.items():
            if started is not None and _start_time(pid) == started:  # the same process, not a reused pid
                _signal_pid(pid, signal.SIGKILL)

    def kill(self, name: str, timeout: float = 10.0, *, tree: bool = False) -> None:
        """SIGKILL a component's whole process group (leader and children) and reap the leader.

        :param tree: also SIGKILL every descendant in another process group, as a machine that dies
            would: a Celery worker's task runners each have a group of their own.
        """
        proc = self.procs[name]
        if tree:
            _signal_group(proc.pid, signal.SIGSTOP)  # no new child from now on
            for pid in descendants(proc.pid):
                _signal_pid(pid, signal.SIGKILL)
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(proc.pid), f"process group of {name} survived SIGKILL"
        self.killed.add(name)

    def dead_components(self, ignore: tuple[str, ...] = ()) -> list[str]:
        return [
            f"{name} (rc={p.returncode})"
            for name, p in self.procs.items()
            if name not in ignore and p.poll() is not None
        ]

    def diagnostics(self, lines: int = 40) -> str:
        """The tail of every component's log (secrets redacted), for assertion messages."""
        parts = []
        for name, path in self.log_paths.items():
            parts.append(f"----- {name} ({path}) -----\n{tail(path, lines)}")
        dead = self.dead_components()
        if dead:
            parts.insert(0, f"exited components: {', '.join(dead)}")
        return redact("\n".join(parts), *self.secrets)

    # ---- REST API ----------------------------------------------------------------------------------

    def admin_password(self) -> str | None:
        path = self.home / "simple_auth_manager_passwords.json.generated"
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())["admin"]
        except (ValueError, KeyError):
            return None

    def fetch_token(self) -> str | None:
        password = self.admin_password()
        if password is None:
            return None
        answer = requests.post(
            f"{self.base_url}/auth/token", json={"username": "admin", "password": password}, timeout=10
        )
        if answer.status_code not in (200, 201):
            return None
        self._token = answer.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        url = f"{self.base_url}/api/v2{path}"
        return requests.request(method, url, headers=headers, timeout=15, **kwargs)

    def wait_until_ready(self, *dag_ids: str, timeout: float) -> None:
        """Wait for a token and for the DAGs to be serialized; fail early if a component exits."""
        deadline = time.monotonic() + timeout
        last = "nothing tried yet"
        pending = list(dag_ids)
        while time.monotonic() < deadline:
            dead = self.dead_components()
            if dead:
                raise StackError(f"component(s) exited during start-up: {dead}\n{self.diagnostics()}")
            try:
                if self._token is None and self.fetch_token() is None:
                    last = "no token yet"
                else:
                    while pending:
                        answer = self.api("GET", f"/dags/{pending[0]}")
                        if answer.status_code != 200:
                            break
                        pending.pop(0)
                    if not pending:
                        return
                    last = f"GET /dags/{pending[0]} -> {answer.status_code}"
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}"
            time.sleep(0.5)
        raise StackError(f"Airflow not ready after {timeout:.0f} s ({last})\n{self.diagnostics()}")

    # ---- DAG runs ----------------------------------------------------------------------------------

    def trigger(self, dag_id: str) -> str:
        """Trigger a run of ``dag_id`` now; return its run id."""
        answer = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
        assert answer.status_code == 200, f"{answer.status_code} {answer.text}\n{self.diagnostics()}"
        return answer.json()["dag_run_id"]

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        answer = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
        return answer.json()

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        answer = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
        return answer.json()["task_instances"]

    def task_states(self, dag_id: str, run_id: str) -> str:
        """The task instances' states and tries, for assertion messages."""
        try:
            tis = self.task_instances(dag_id, run_id)
        except Exception as exc:  # only for a failure message
            return f"<task instances unavailable: {type(exc).__name__}>"
        return f"{dag_id} {run_id} task states: " + ", ".join(
            f"{ti['task_id']}[{ti['map_index']}]={ti['state']} (try {ti['try_number']})" for ti in tis
        )

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
        """Poll ``check`` until it returns something truthy (and return that); fail after ``timeout``.

        A component that exits meanwhile fails the wait at once (unless it was killed on purpose).
        """
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            dead = self.dead_components(ignore=tuple(self.killed))
            if dead:
                raise StackError(
                    f"component(s) exited while waiting for {what}: {dead}\n{self.diagnostics()}"
                )
            try:
                last = check()
            except requests.RequestException as exc:  # a busy api-server (SQLite, 2 cores): ask again
                last = exc
            else:
                if last:
                    return last
            time.sleep(interval)
        raise StackError(f"no {what} after {timeout:.0f} s (last: {last!r})\n{self.diagnostics()}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict:
        """Wait until the run is ``success`` or ``failed``; return it."""

        def terminal() -> dict | None:
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in ("success", "failed") else None

        try:
            return self.wait_for(f"end of run {run_id}", terminal, timeout, interval=1.0)
        except StackError as exc:
            raise AssertionError(f"{exc}\n{self.task_states(dag_id, run_id)}") from None

    def clear(self, dag_id: str, run_id: str, task_ids: list[str]) -> list[dict]:
        """Clear task instances of a run (and reset the run) through the REST API."""
        body = {
            "dry_run": False,
            "task_ids": task_ids,
            "dag_run_id": run_id,
            "only_failed": False,
            "reset_dag_runs": True,
        }
        answer = self.api("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)
        assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
        return answer.json()["task_instances"]

    def log_text(self) -> str:
        """Everything under ``AIRFLOW_HOME/logs`` (task and trigger logs), concatenated."""
        logs = self.home / "logs"
        return "\n".join(p.read_text(errors="replace") for p in sorted(logs.rglob("*")) if p.is_file())


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the process name (state, ppid, ...), else ``None``."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # the name in (...) may hold spaces


def _pgid(pid: int) -> int | None:
    """The process group of a process, else ``None``."""
    fields = _stat_fields(pid)
    return int(fields[2]) if fields else None


def _start_time(pid: int) -> str | None:
    """When a process started (clock ticks since boot): with its pid, what names one process."""
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def descendants(pid: int) -> list[int]:
    """Every live descendant of a process (children, grandchildren, ...), from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        fields = _stat_fields(entry.name) if entry.name.isdigit() else None
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_pid(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def copy_dags(folder: pathlib.Path, *names: str) -> pathlib.Path:
    """Fill ``folder`` with copies of ``example_dags/*.py`` and ``tests/dags/*.py`` (only ``names`` if given).

    The components parse whatever the folder holds: a test that copies only the DAG files it runs starts
    faster and does not depend on the other files importing cleanly.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sources = [*(ROOT / "example_dags").glob("*.py"), *(ROOT / "tests" / "dags").glob("*.py")]
    wanted = {name.removesuffix(".py") for name in names}
    for source in sources:
        if not wanted or source.stem in wanted:
            shutil.copy(source, folder / source.name)
    missing = wanted - {p.stem for p in folder.glob("*.py")}
    assert not missing, f"no such DAG file: {sorted(missing)}"
    return folder


def migrate_home(
    home: pathlib.Path, timeout: float = 180.0, *, database_url: str | None = None
) -> pathlib.Path:
    """Make ``home`` an ``AIRFLOW_HOME`` with a freshly migrated DB and its ``airflow.cfg``; return it.

    :param database_url: migrate this database (e.g. PostgreSQL's) instead of ``home``'s SQLite file.
    """
    home.mkdir(parents=True, exist_ok=True)
    db = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url} if database_url else {}
    migrate = subprocess.run(
        [str(AIRFLOW_BIN), "db", "migrate"],
        env=child_env(home, **db),
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = f"{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}"
    if migrate.returncode != 0:
        raise StackError(f"airflow db migrate failed (rc={migrate.returncode}):\n{output}")
    if not (home / "airflow.cfg").is_file() or list(home.glob("airflow.db-*")):
        raise StackError(f"unexpected files after airflow db migrate: {sorted(home.iterdir())}")
    return home


def copy_home(template: pathlib.Path, home: pathlib.Path) -> None:
    """Fill ``home`` with a copy of a migrated template's DB and config (a migration costs 15-30 s)."""
    shutil.copy(template / "airflow.db", home / "airflow.db")
    config = (template / "airflow.cfg").read_text()
    (home / "airflow.cfg").write_text(config.replace(str(template), str(home)))


def start_stack(
    base: pathlib.Path,
    xai_url: str,
    api_key: str,
    *,
    dags_folder: pathlib.Path | None = None,
    template: pathlib.Path | None = None,
    secrets: tuple[str, ...] = (),
    executor: str = "LocalExecutor",
    database_url: str | None = None,
    broker_url: str | None = None,
    workers: int = 0,
    worker_concurrency: int = 4,
    triggerers: int = 1,
    **extra: str,
) -> AirflowStack:
    """Prepare a migrated ``AIRFLOW_HOME`` under ``base`` and start the components in it.

    ``base`` gets ``airflow_home/`` (DB, config, task and trigger logs), ``media/`` (``XAI_OUTPUT_PATH``)
    and one ``<component>.log`` per process. The caller stops the stack (:meth:`AirflowStack.stop`);
    a start that fails half-way stops what it started before raising.

    By default: api-server, scheduler (LocalExecutor), dag-processor and one triggerer on SQLite. With
    ``executor="CeleryExecutor"``, ``database_url`` and ``broker_url``, also ``workers`` Celery workers
    ``worker-1``, ``worker-2``, ... (``airflow celery worker``), each with its own ``AIRFLOW_HOME``
    (``base/worker-N/airflow_home``: its task logs) and its own copy of the dags folder, so that they share
    nothing with the rest but the database, the broker and what the DAGs store remotely. The triggerers then
    get homes of their own too (``base/triggerer-N/airflow_home``: their trigger logs, named after their
    job ids).

    :param base: an empty (or missing) folder.
    :param xai_url: the base URL of the ``xai_default`` connection (the emulator).
    :param api_key: the API key of the ``xai_default`` connection.
    :param dags_folder: the components' ``AIRFLOW__CORE__DAGS_FOLDER`` (default ``example_dags``).
    :param template: a home made by :func:`migrate_home` to copy; ``None`` migrates a new DB in place
        (always so with a ``database_url``).
    :param secrets: more strings to redact from diagnostics (``api_key`` always is).
    :param executor: ``"LocalExecutor"`` or ``"CeleryExecutor"``.
    :param database_url: the metadata DB's SQLAlchemy URL (default: SQLite in the home).
    :param broker_url: the Celery broker (e.g. ``redis://127.0.0.1:<port>/0``).
    :param workers: how many Celery workers to start.
    :param worker_concurrency: task slots of each Celery worker.
    :param triggerers: how many triggerers to start: ``triggerer``, ``triggerer-2``, ...
    :param extra: more settings of every component; they win over the defaults below.
    """
    celery = executor == "CeleryExecutor"
    if celery and not (database_url and broker_url):
        raise ValueError("the CeleryExecutor needs a database_url (PostgreSQL) and a broker_url")
    if workers and not celery:
        raise ValueError("Celery workers need executor='CeleryExecutor'")
    if database_url and template is not None:
        raise ValueError("a template home holds a SQLite DB: no template with a database_url")
    home = base / "airflow_home"
    home.mkdir(parents=True)
    output = base / "media"
    output.mkdir()
    api_port = free_port()
    dags = dags_folder or DAGS_FOLDER
    settings = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
        # The supervisor notices a worker's exit at its next select timeout (5 s by default); a late
        # defer-exit event widens Airflow's stale-event race (apache/airflow#72716).
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
        "AIRFLOW_CONN_XAI_DEFAULT": json.dumps({"conn_type": "xai", "host": xai_url, "password": api_key}),
        "XAI_OUTPUT_PATH": str(output),
    }
    run_secrets: tuple[str, ...] = ()
    if database_url:
        settings["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database_url
    if celery:
        from cryptography.fernet import Fernet

        # homes of their own: what every component must agree on cannot come from one airflow.cfg
        shared = {
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets_module.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets_module.token_urlsafe(32),
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        }
        run_secrets = tuple(shared.values())
        settings.update(shared)
        settings.update(
            {
                "AIRFLOW__CELERY__BROKER_URL": str(broker_url),
                # "db+postgresql://" picks psycopg 3 under SQLAlchemy 2.1: name the driver
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{database_url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
            }
        )
    env = child_env(home, **{**settings, **extra})
    stack = AirflowStack(
        home=home,
        env=env,
        api_port=api_port,
        output_path=output,
        secrets=(*secrets, api_key, *run_secrets),
    )
    if template is not None:
        copy_home(template, home)
    try:
        if template is None:
            migrate_home(home, database_url=database_url)
        stack.start("api-server", "-H", "127.0.0.1", "-p", str(api_port))
        stack.start("scheduler")
        stack.start("dag-processor")
        for n in range(1, triggerers + 1):
            name = "triggerer" if n == 1 else f"triggerer-{n}"
            own: dict[str, str] = {}
            if n > 1:
                own["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(free_port())
            if celery:
                stack.homes[name] = base / name / "airflow_home"
                stack.homes[name].mkdir(parents=True)
                own["AIRFLOW_HOME"] = str(stack.homes[name])
            stack.start("triggerer", name=name, cwd=stack.homes.get(name), **own)
        for n in range(1, workers + 1):
            name = f"worker-{n}"
            worker_home = base / name / "airflow_home"
            worker_dags = worker_home / "dags"
            shutil.copytree(dags, worker_dags, ignore=shutil.ignore_patterns("__pycache__"))
            stack.homes[name] = worker_home
            stack.start(
                "celery",
                "worker",
                "--concurrency",
                str(worker_concurrency),
                "--celery-hostname",
                f"{name}@%h",
                name=name,
                cwd=worker_home,
                AIRFLOW_HOME=str(worker_home),
                AIRFLOW__CORE__DAGS_FOLDER=str(worker_dags),
                AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            )
    except BaseException:
        stack.stop()
        raise
    return stack
