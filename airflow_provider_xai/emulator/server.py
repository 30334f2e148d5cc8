"""Run the emulator in a background thread and drive it from Python (tests, demos)."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from .app import EmulatorHTTPServer
from .models import Backend
from .tls import TlsFiles, write_self_signed


class EmulatorServer:
    """The emulator, served over HTTP from a daemon thread.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with EmulatorServer(progression="per-read") as emulator:
            requests.post(f"{emulator.url}/xai/images", ...)

    :param host: the address to listen on.
    :param port: the port to listen on; 0 picks a free one (see :attr:`url`).
    :param verbose: log one access line per request to stderr.
    :param clock: the time source of the backend (epoch seconds).
    :param tls: serve HTTPS with a throw-away certificate authority; clients trust :attr:`ca_bundle`.
    :param settings: initial settings, see :data:`~airflow_provider_xai.emulator.settings.DEFAULTS`;
        :meth:`reset` returns to them.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        verbose: bool = False,
        clock: Callable[[], float] = time.time,
        tls: bool = False,
        **settings: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        self.tls = tls
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self._tls_files: TlsFiles | None = None
        self.backend = Backend(clock=clock, **settings)
        self._httpd: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        """Bind the port and serve in a daemon thread; return ``self``."""
        if self._httpd is not None:
            return self
        context = None
        if self.tls:
            if self._tls_files is None:
                self._tls_dir = tempfile.TemporaryDirectory(prefix="xai-emulator-tls-")
                self._tls_files = write_self_signed(self._tls_dir.name)
            context = self._tls_files.server_context()
        self._httpd = EmulatorHTTPServer(
            (self.host, self.port), self.backend, verbose=self.verbose, ssl_context=context
        )
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="xai-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and free the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_open_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def ca_bundle(self) -> str | None:
        """The certificate authority file clients must trust when serving TLS (else ``None``)."""
        return str(self._tls_files.ca_bundle) if self._tls_files is not None else None

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._httpd is not None

    @property
    def url(self) -> str:
        """The base URL of the running server, e.g. ``http://127.0.0.1:54321``."""
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return self._httpd.url

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "stopped"
        return f"<EmulatorServer {where}>"

    # ---- driving it --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget tasks, requests and scripted faults, and return to the initial settings."""
        self.backend.reset()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change some settings; return all of them.

        :param settings: setting names and values, e.g. ``envelope=True``.
        """
        return self.backend.configure(**settings)

    @property
    def config(self) -> dict[str, Any]:
        """The current settings (a copy)."""
        return self.backend.settings()

    def requests_log(self) -> list[dict[str, Any]]:
        """Return the request log: dicts with method, path, query, status (0: dropped), fault, time."""
        return self.backend.requests_log()

    def count(self, method: str, path: str, accepted_only: bool = True) -> int:
        """Count requests of a method and path, by default only those answered 200 or 201.

        :param method: the method, e.g. ``POST``.
        :param path: the path, e.g. ``/xai/images``, or a prefix such as ``/media``.
        :param accepted_only: count only accepted requests.
        """
        return self.backend.count(method, path, accepted_only)

    def force_status(self, task_id: str, status: str, **fields: Any) -> dict[str, Any]:
        """Freeze a task at a status, optionally with answer fields (``result``, ``errorCode``, ...).

        An xAI request (its ``request_id``) takes xAI's statuses: ``done``, ``failed`` (answer field
        ``error``), ``expired``, ``pending`` or any other string.

        :param task_id: the task's id.
        :param status: the status to report from now on.
        :param fields: answer fields to set.
        """
        return self.backend.force_status(task_id, status, **fields)

    def script_faults(self, path: str, kinds: list[str]) -> None:
        """Give the next requests on a path exactly these faults, in order.

        :param path: ``"METHOD /path"`` or ``"/path"``, e.g. ``"GET /xai/tasks"``.
        :param kinds: fault kinds: ``429``, ``502html``, ``503json``, ``drop`` and the extra kinds of
            :data:`~airflow_provider_xai.emulator.settings.FAULT_KINDS`.
        """
        self.backend.script_faults(path, kinds)

    def tasks(self) -> list[dict[str, Any]]:
        """Return every task's internal record (xAI requests included, with ``"api": "xai"``)."""
        return self.backend.list_tasks()

    def uploads(self) -> list[dict[str, Any]]:
        """Return the PUTs made to ``output.upload_url`` by xAI video requests, oldest first.

        Each is ``{"request_id", "status" (0: no connection), "bytes", "ok", "time"}``; never the URL.
        """
        return self.backend.list_uploads()
