"""Serve the emulated service over HTTP: translate requests into :class:`~.models.Backend` calls.

This layer holds no state of its own. It speaks HTTP/1.1 with keep-alive and a correct
``Content-Length`` on every answer, streams media in chunks, and carries out injected faults
(rate limiting, proxy error pages, dropped connections, cut media bodies).
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import control, xai_api
from .media import MediaFile
from .models import Backend
from .validation import ApiError

MAX_BODY = 1024 * 1024
_JSON = "application/json"
_HTML_PAGES = {
    502: "Bad Gateway",
    504: "Gateway Time-out",
}


@dataclass
class Reply:
    """An answer to send: status, body or streamed media, and how to misbehave while sending it."""

    status: int
    body: bytes = b""
    content_type: str = _JSON
    headers: dict[str, str] = field(default_factory=dict)
    media: MediaFile | None = None
    truncate: bool = False
    drop: str | None = None  # "before": close without answering; "mid": close halfway through the body


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    """Build a JSON answer.

    :param status: the HTTP status.
    :param payload: the JSON body.
    :param headers: extra headers.
    """
    return Reply(status, json.dumps(payload).encode(), _JSON, dict(headers or {}))


def service_reply(
    config: dict[str, Any], status: int, data: Any = None, error: str | None = None, trace_id: str = ""
) -> Reply:
    """Build an answer of the service itself: a bare JSON body, or an enveloped one in envelope mode.

    :param config: the emulator's settings.
    :param status: the HTTP status.
    :param data: the bare success body.
    :param error: the error message, for an error answer.
    :param trace_id: the trace id to put in an envelope.
    """
    if not config["envelope"]:
        return json_reply(status, data if error is None else {"message": error, "statusCode": status})
    return json_reply(
        status,
        {
            "code": status,
            "message": "success" if error is None else error,
            "data": data if error is None else None,
            "traceId": trace_id or uuid.uuid4().hex,
        },
    )


def _html_page(status: int) -> Reply:
    title = f"{status} {_HTML_PAGES[status]}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Reply(status, page.encode(), "text/html")


def fault_reply(kind: str, config: dict[str, Any], xai: bool = False) -> Reply:
    """Build the answer of an injected fault.

    :param kind: the fault kind (see :data:`~.settings.FAULT_KINDS`).
    :param config: the emulator's settings.
    :param xai: the request is one of xAI's own API (``/v1/...``): JSON bodies in its style.
    """
    answer = xai_api.fault_answer(kind, config) if xai else None
    if answer is not None:
        reply = json_reply(answer.status, answer.payload, answer.headers)
        reply.drop = "mid" if kind == "drop-mid" else None
        return reply
    if kind == "429":
        reply = service_reply(config, 429, error="too many requests: rate limit exceeded")
        if config["retry_after"] is not None:
            reply.headers["Retry-After"] = config["retry_after"]
        return reply
    if kind == "502html":
        return _html_page(502)
    if kind == "504html":
        return _html_page(504)
    if kind == "503json":
        return json_reply(503, {"message": "service unavailable"})
    if kind == "500json":
        return service_reply(config, 500, error="internal server error")
    if kind == "drop-mid":
        reply = service_reply(config, 200, data={"taskId": uuid.uuid4().hex, "status": "processing"})
        reply.drop = "mid"
        return reply
    return Reply(0, drop="before")


def _s3_error(status: int, code: str, message: str) -> Reply:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    )
    return Reply(status, body.encode(), "application/xml")


class EmulatorHandler(BaseHTTPRequestHandler):
    """Handle one connection's requests (keep-alive) for the emulator."""

    protocol_version = "HTTP/1.1"
    server_version = "xai-emulator/0.1"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    disable_nagle_algorithm = True  # small answers must not wait for a delayed ACK
    server: EmulatorHTTPServer

    def do_GET(self) -> None:  # noqa: N802
        """Handle a GET request."""
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        """Handle a HEAD request."""
        self._handle("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        """Handle a POST request."""
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        """Handle a PUT request."""
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        """Handle a DELETE request."""
        self._handle("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        """Handle a PATCH request."""
        self._handle("PATCH")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Log an access line to stderr when the server is verbose."""
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    # ---- reading -----------------------------------------------------------------------------------

    def _read_body(self, limit: int = MAX_BODY) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(map(len, chunks)) > limit:
                    raise ApiError(413, "request body too large")
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            self.close_connection = True
            raise ApiError(413, "request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _base_url(self) -> str:
        host = self.headers.get("Host")
        return f"{self.server.scheme}://{host}" if host else self.server.url

    # ---- dispatch ----------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        backend = self.server.backend
        parts = urlsplit(self.path)
        path = parts.path
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            body = self._read_body(xai_api.MAX_BODY if xai_api.is_xai_path(path) else MAX_BODY)
        except (ValueError, ApiError) as exc:
            status = exc.status if isinstance(exc, ApiError) else 400
            self.close_connection = True
            self._send(
                json_reply(status, {"message": "unreadable request body", "statusCode": status}), method
            )
            return
        if path == "/_emulator" or path.startswith("/_emulator/"):
            status, payload = control.handle(backend, method, path, body)
            self._send(json_reply(status, payload), method)
            return
        fault = backend.pick_fault(method, path)
        try:
            reply = (
                fault_reply(fault, backend.config, xai_api.is_xai_path(path))
                if fault
                else self._route(backend, method, path, query, body)
            )
        except Exception as exc:  # a bug of the emulator: say so rather than drop the connection
            reply = json_reply(500, {"message": f"emulator error: {exc!r}", "statusCode": 500})
        backend.record(method, path, query, reply.status, fault)
        self._send(reply, method)

    def _route(self, backend: Backend, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        config = backend.config
        endpoints = {"/xai/images": "POST", "/xai/videos": "POST", "/xai/tasks": "GET"}
        if path.startswith("/media/"):
            return self._media(backend, method, path)
        if xai_api.is_xai_path(path):
            headers = {name: self.headers.get(name) or "" for name in ("Authorization", "Content-Type")}
            xai_answer = xai_api.handle(backend, method, path, headers, body, self._base_url())
            return json_reply(xai_answer.status, xai_answer.payload, xai_answer.headers)
        if path not in endpoints:
            return service_reply(config, 404, error=f"no such endpoint: {method} {path}")
        if method != endpoints[path]:
            reply = service_reply(config, 405, error=f"method {method} not allowed on {path}")
            reply.headers["Allow"] = endpoints[path]
            return reply
        try:
            backend.check_auth(self.headers.get("Authorization"))
            if path == "/xai/tasks":
                task_id = query.get("taskId", "")
                if not task_id:
                    raise ApiError(400, "the taskId query parameter is required")
                answer = backend.read_task(task_id, self._base_url())
                return service_reply(config, 200, data=answer, trace_id=answer.get("traceId", ""))
            try:
                document = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise ApiError(400, "request body is not valid JSON") from None
            task = backend.create_task("image" if path == "/xai/images" else "video", document)
            data = {"taskId": task.task_id}
            return service_reply(config, config["create_status"], data=data, trace_id=task.trace_id)
        except ApiError as exc:
            return service_reply(config, exc.status, error=exc.message)

    def _media(self, backend: Backend, method: str, path: str) -> Reply:
        if method not in ("GET", "HEAD"):
            return Reply(405, b"", "text/plain", {"Allow": "GET, HEAD"})
        pieces = path.split("/")
        if len(pieces) != 4:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        try:
            media = backend.media_file(pieces[2], pieces[3])
        except ApiError as exc:
            if exc.status == 403:
                return _s3_error(403, "AccessDenied", "Request has expired")
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        truncate = method == "GET" and backend.take_truncation()
        return Reply(200, content_type=media.content_type, media=media, truncate=truncate)

    # ---- writing -----------------------------------------------------------------------------------

    def _send(self, reply: Reply, method: str) -> None:
        if reply.drop == "before":
            self.close_connection = True
            return
        length = reply.media.length if reply.media is not None else len(reply.body)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if method == "HEAD":
            return
        cut = length // 2 if (reply.truncate or reply.drop == "mid") else None
        if reply.media is None:
            self.wfile.write(reply.body if cut is None else reply.body[:cut])
        else:
            self._stream(reply.media, cut)
        if cut is not None:
            self.wfile.flush()
            self.close_connection = True

    def _stream(self, media: MediaFile, cut: int | None) -> None:
        sent = 0
        for chunk in media.chunks():
            if cut is not None and sent + len(chunk) >= cut:
                self.wfile.write(chunk[: cut - sent])
                return
            self.wfile.write(chunk)
            sent += len(chunk)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one :class:`~.models.Backend`, able to close its open connections.

    :param address: the (host, port) to listen on; port 0 picks a free port.
    :param backend: the state to serve.
    :param verbose: log one access line per request to stderr.
    :param ssl_context: serve HTTPS with this server-side TLS context (``None``: plain HTTP).
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        backend: Backend,
        verbose: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.backend = backend
        self.verbose = verbose
        self.ssl_context = ssl_context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, EmulatorHandler)

    @property
    def scheme(self) -> str:
        """``https`` when serving TLS, else ``http``."""
        return "https" if self.ssl_context is not None else "http"

    @property
    def url(self) -> str:
        """The base URL the server listens on."""
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        name = f"[{name}]" if ":" in name else name
        return f"{self.scheme}://{name}:{port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection (in its own thread); over TLS, shake hands here first."""
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(30)
            secure = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):  # a client that does not trust us, or went away
            return
        with self._open_lock:
            self._open.discard(request)
            self._open.add(secure)
        try:
            super().finish_request(secure, client_address)
        finally:
            with self._open_lock:
                self._open.discard(secure)
            secure.close()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Remember the connection, then serve it in a thread."""
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget and close a finished connection."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Shut down every open client connection (idle keep-alive ones included)."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that went away; report anything else."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)
