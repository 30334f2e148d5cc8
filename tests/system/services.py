"""Throw-away PostgreSQL and Redis servers for the distributed system test (CeleryExecutor).

Each server runs from the machine's own binaries (Debian's ``postgresql`` and ``redis-server`` packages),
on a free loopback port, with its data in a private temporary folder; nothing touches the system services.
PostgreSQL refuses to run as root: as root it runs as the ``postgres`` user (the package creates it).

Plain Python, no pytest (like ``stack.py``). A server that does not come up raises
:class:`~tests.system.stack.StackError`.
"""

from __future__ import annotations

import glob
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from tests.system.stack import StackError, free_port, tail

#: what to install on Debian when a binary is missing
APT_PACKAGES = "postgresql redis-server"
#: the Python packages of the ``distributed`` extra, by the module each provides
PYTHON_MODULES = {
    "airflow.providers.celery": "apache-airflow-providers-celery",
    "celery": "celery<5.7",
    "psycopg2": "psycopg2-binary",
    "asyncpg": "asyncpg",
    "redis": "redis",
}
START_TIMEOUT = 60.0


def postgres_bin_dir() -> pathlib.Path | None:
    """The folder of ``initdb`` and ``postgres``: on the PATH, else the newest ``/usr/lib/postgresql``."""
    found = shutil.which("initdb")
    if found and (pathlib.Path(found).resolve().parent / "postgres").exists():
        return pathlib.Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in pathlib.Path(p).parts[-3].split(".")],
    )
    return pathlib.Path(versions[-1]).parent if versions else None


def redis_server_bin() -> pathlib.Path | None:
    """The ``redis-server`` binary, else ``None``."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    return pathlib.Path(found) if found else None


def missing_requirements() -> list[str]:
    """What the distributed stack needs but cannot find: binaries and Python modules, as install hints."""
    import importlib.util

    missing = []
    if postgres_bin_dir() is None:
        missing.append("initdb/postgres (apt-get install postgresql)")
    if redis_server_bin() is None:
        missing.append("redis-server (apt-get install redis-server)")
    for module, package in PYTHON_MODULES.items():
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            missing.append(f"{module} (pip install '{package}', or the 'distributed' extra)")
    return missing


def _wait_for_port(port: int, proc: subprocess.Popen, log: pathlib.Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{what} exited (rc={proc.returncode}) while starting:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise StackError(f"{what} not listening on port {port} after {START_TIMEOUT:.0f} s:\n{tail(log)}")


def _stop(proc: subprocess.Popen | None, sig: int) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster: ``initdb`` in a temporary folder, ``postgres`` on a free port.

    The superuser is ``airflow`` (trust authentication on loopback); the database is ``airflow``.
    Durability is off (``fsync``, ``synchronous_commit``): the data lives as long as the test.
    """

    folder: pathlib.Path = field(default_factory=lambda: pathlib.Path(tempfile.mkdtemp(prefix="xai-pg-")))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the ``airflow`` database (psycopg2)."""
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.port}/airflow"

    @property
    def log_path(self) -> pathlib.Path:
        return self.folder / "postgres.log"

    def _run_as(self) -> dict:
        """As root, the ``postgres`` user's ids for ``subprocess`` (PostgreSQL refuses to run as root)."""
        if os.geteuid() != 0:
            return {}
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise StackError(
                "PostgreSQL refuses to run as root, and there is no 'postgres' user to run it as "
                f"(apt-get install {APT_PACKAGES} creates one)"
            ) from None
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def start(self) -> PostgresServer:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise StackError(f"PostgreSQL is not installed (apt-get install {APT_PACKAGES})")
        as_user = self._run_as()
        if as_user:
            os.chown(self.folder, as_user["user"], as_user["group"])
        data = self.folder / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "AIRFLOW"))}
        env["LC_ALL"] = env["LANG"] = "C.UTF-8"
        initdb = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "airflow", "-A", "trust", "-E", "UTF8", "-N"],
            env=env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            **as_user,
        )
        if initdb.returncode != 0:
            raise StackError(f"initdb failed (rc={initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.folder),
            "max_connections": "300",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "64MB",
        }
        args = [f"-c{key}={value}" for key, value in settings.items()]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port), *args],
                env=env,
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **as_user,
            )
        try:
            _wait_for_port(self.port, self.proc, self.log_path, "postgres")
            self._create_database()
        except BaseException:
            self.stop()
            raise
        return self

    def _create_database(self) -> None:
        import psycopg2

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="airflow", dbname="postgres")
                break
            except psycopg2.OperationalError as exc:  # "the database system is starting up"
                if time.monotonic() > deadline:
                    raise StackError(f"cannot connect to postgres: {exc}\n{tail(self.log_path)}") from None
                time.sleep(0.2)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute("CREATE DATABASE airflow")
        finally:
            conn.close()

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then remove the data folder."""
        _stop(self.proc, signal.SIGINT)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class RedisServer:
    """A private Redis (the Celery broker): no persistence, loopback only, on a free port."""

    folder: pathlib.Path = field(default_factory=lambda: pathlib.Path(tempfile.mkdtemp(prefix="xai-redis-")))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> pathlib.Path:
        return self.folder / "redis.log"

    def start(self) -> RedisServer:
        binary = redis_server_bin()
        if binary is None:
            raise StackError(f"redis-server is not installed (apt-get install {APT_PACKAGES})")
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(binary), *args],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_for_port(self.port, self.proc, self.log_path, "redis-server")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)
        shutil.rmtree(self.folder, ignore_errors=True)
