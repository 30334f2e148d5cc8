"""Run the real Airflow components (api-server, scheduler, dag-processor, triggerer) as subprocesses.

Everything lives in a fresh ``AIRFLOW_HOME`` under ``tmp_path``: its own SQLite DB, config, logs and
ports. The settings that ``tests/conftest.py`` put into ``os.environ`` for in-process tests (unit test
mode, the shared DB, ...) are not passed on: every ``AIRFLOW*`` and ``XAI_*`` variable of the test
process is dropped from the children's environment and set afresh.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
AIRFLOW_BIN = pathlib.Path(sys.prefix) / "bin" / "airflow"
DAGS_FOLDER = ROOT / "example_dags"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
STOP_GRACE_SECONDS = 15.0


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
    log_paths: dict[str, pathlib.Path] = field(default_factory=dict)
    _token: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    # ---- processes ---------------------------------------------------------------------------------

    def start(self, component: str, *args: str) -> None:
        log_path = self.home.parent / f"{component}.log"
        self.log_paths[component] = log_path
        with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            self.procs[component] = subprocess.Popen(
                [str(AIRFLOW_BIN), component, *args],
                env=self.env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGTERM every process group, SIGKILL whatever is left after a grace period."""
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

    def dead_components(self) -> list[str]:
        return [f"{name} (rc={p.returncode})" for name, p in self.procs.items() if p.poll() is not None]

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

    def wait_until_ready(self, dag_id: str, timeout: float) -> None:
        """Wait for a token and for the DAG to be serialized; fail early if a component exits."""
        deadline = time.monotonic() + timeout
        last = "nothing tried yet"
        while time.monotonic() < deadline:
            dead = self.dead_components()
            if dead:
                pytest.fail(f"component(s) exited during start-up: {dead}\n{self.diagnostics()}")
            try:
                if self._token is None and self.fetch_token() is None:
                    last = "no token yet"
                else:
                    answer = self.api("GET", f"/dags/{dag_id}")
                    if answer.status_code == 200:
                        return
                    last = f"GET /dags/{dag_id} -> {answer.status_code}"
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}"
            time.sleep(0.5)
        pytest.fail(f"Airflow not ready after {timeout:.0f} s ({last})\n{self.diagnostics()}")


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


@pytest.fixture
def system_api_key() -> str:
    """A throwaway API key; the emulator accepts only this one."""
    return f"xai-systest-{secrets.token_hex(12)}"


@pytest.fixture
def system_emulator(system_api_key: str) -> Iterator[Any]:
    """The emulator in ``time`` progression with short durations, so that tasks really defer."""
    from airflow_provider_xai.emulator.server import EmulatorServer

    server = EmulatorServer(progression="time", image_seconds=3, video_seconds=4, api_key=system_api_key)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def airflow_stack(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path, system_emulator: Any, system_api_key: str
) -> AirflowStack:
    """Migrate a fresh DB, start the four components, and stop them all at the end (even on failure)."""
    home = tmp_path / "airflow_home"
    home.mkdir()
    output = tmp_path / "media"
    output.mkdir()
    api_port = free_port()
    env = child_env(
        home,
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{api_port}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{api_port}/execution/",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="2",
        AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD="10",
        # The supervisor notices a worker's exit at its next select timeout (5 s by default); a late
        # defer-exit event widens Airflow's stale-event race (apache/airflow#72716).
        AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL="1",
        AIRFLOW_CONN_XAI_DEFAULT=json.dumps(
            {"conn_type": "xai", "host": system_emulator.url, "password": system_api_key}
        ),
        XAI_OUTPUT_PATH=str(output),
        XAI_EXAMPLE_POLL_INTERVAL="0.5",
    )
    stack = AirflowStack(home=home, env=env, api_port=api_port, output_path=output, secrets=(system_api_key,))

    migrate = subprocess.run(
        [str(AIRFLOW_BIN), "db", "migrate"],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, redact(
        f"airflow db migrate failed (rc={migrate.returncode}):\n{migrate.stdout[-3000:]}\n"
        f"{migrate.stderr[-3000:]}",
        system_api_key,
    )

    request.addfinalizer(stack.stop)  # registered before the first start: a failed start-up still cleans up
    stack.start("api-server", "-H", "127.0.0.1", "-p", str(api_port))
    stack.start("scheduler")
    stack.start("dag-processor")
    stack.start("triggerer")
    return stack
