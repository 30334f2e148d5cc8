"""Every Python example in the README, the docs and the docstrings runs (against the emulator).

Examples are fragments written for people: the harness gives them the names they take for granted
(imports, a DAG to stand in for ``DAG(...)``, a list of prompts) and runs each one. A test-function
example is then called with real fixtures: the emulator, monkeypatch, and the names it uses.
"""

from __future__ import annotations

import http.server
import inspect
import json
import pathlib
import re
import textwrap
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FENCE = re.compile(r"```python\n(.*?)```", re.S)
DOCSTRING_EXAMPLE = re.compile(r"::\n\n((?:    .*\n|\n)+)")


def _blocks():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for n, match in enumerate(FENCE.finditer(path.read_text())):
            yield pytest.param(match.group(1), id=f"{path.relative_to(ROOT)}#{n}")
    for path in sorted((ROOT / "airflow_provider_xai").rglob("*.py")):
        for n, match in enumerate(DOCSTRING_EXAMPLE.finditer(path.read_text())):
            code = textwrap.dedent(match.group(1))
            if "import" in code or "def test" in code or "XaiHook" in code:
                yield pytest.param(code, id=f"{path.relative_to(ROOT)}#docstring{n}")


def _namespace(tmp_path):
    from datetime import datetime, timedelta

    import requests
    from airflow.sdk import DAG, ObjectStoragePath, task

    from airflow_provider_xai.emulator import EmulatorServer
    from airflow_provider_xai.hooks.xai import XaiHook
    from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator
    from airflow_provider_xai.sensors.xai import XaiTaskSensor

    return {
        "DAG": DAG, "datetime": datetime, "timedelta": timedelta, "ObjectStoragePath": ObjectStoragePath,
        "task": task, "XaiHook": XaiHook, "XaiImageOperator": XaiImageOperator, "requests": requests,
        "XaiVideoOperator": XaiVideoOperator, "XaiTaskSensor": XaiTaskSensor, "json": json,
        "EmulatorServer": EmulatorServer, "pytest": pytest, "prompts": ["a fox", "a hen"],
    }  # fmt: skip


@pytest.fixture(scope="module")
def put_sink():
    """A plain HTTP server that accepts PUTs: where an example's signed upload URL points."""

    class Sink(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/bucket/video.mp4?X-Amz-Signature=sig"
    server.shutdown()


@pytest.mark.parametrize("code", list(_blocks()))
def test_the_example_runs(code, xai_emulator, monkeypatch, tmp_path, airflow_db, put_sink):
    from tests.conftest import conn_json

    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator.url))
    monkeypatch.setenv("AIRFLOW_CONN_XAI_API", conn_json(xai_emulator.url, api="xai"))
    start = 'dag_id="doc_example_inner", schedule=None, start_date=datetime(2026, 1, 1),'
    code = code.replace("DAG(...,", f"DAG({start}")
    namespace = {**_namespace(tmp_path), "presigned_put_url": put_sink}
    with namespace["DAG"](dag_id="doc_example", schedule=None, start_date=namespace["datetime"](2026, 1, 1)):
        exec(compile(code, "<example>", "exec"), namespace)  # noqa: S102 - the example under test
    for name, value in list(namespace.items()):
        if name.startswith("test_") and inspect.isfunction(value):
            fixtures = {"xai_emulator": xai_emulator, "monkeypatch": monkeypatch, "tmp_path": tmp_path}
            value(**{p: fixtures[p] for p in inspect.signature(value).parameters})
