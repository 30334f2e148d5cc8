"""The connection form, as the Airflow 3 UI gets it from the real api-server (`/ui/connections/hook_meta`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
import requests

from tests.system.stack import AIRFLOW_BIN, child_env, free_port, tail


@pytest.fixture
def api_server(tmp_path):
    home = tmp_path / "airflow_home"
    port = free_port()
    env = child_env(
        home,
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
    )
    subprocess.run([str(AIRFLOW_BIN), "db", "migrate"], env=env, check=True, capture_output=True, timeout=180)
    log = tmp_path / "api-server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(AIRFLOW_BIN), "api-server", "-H", "127.0.0.1", "-p", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", home, log, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def token(base: str, home, log, proc) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, tail(log)
        passwords = home / "simple_auth_manager_passwords.json.generated"
        if passwords.exists():
            try:
                answer = requests.post(
                    f"{base}/auth/token",
                    json={"username": "admin", "password": json.loads(passwords.read_text())["admin"]},
                    timeout=5,
                )
                if answer.status_code in (200, 201):
                    return answer.json()["access_token"]
            except requests.RequestException:
                pass
        time.sleep(1)
    raise AssertionError("api-server did not come up:\n" + tail(log))


@pytest.mark.system
def test_xai_form_shows_the_key_as_a_password_and_hides_unused_fields(api_server):
    base, home, log, proc = api_server
    headers = {"Authorization": f"Bearer {token(base, home, log, proc)}"}
    answer = requests.get(f"{base}/ui/connections/hook_meta", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    (meta,) = [m for m in answer.json() if m["connection_type"] == "xai"]
    assert meta["hook_name"] == "xAI (Grok Imagine)"
    standard = meta["standard_fields"]
    assert standard["password"]["title"] == "API key"
    assert standard["host"]["title"] == "Base URL"
    assert "api.mountsea.ai" in standard["host"]["placeholder"]
    for hidden in ("schema", "port", "login"):
        assert standard.get(hidden) is None or standard[hidden].get("hidden") is True, (hidden, standard)
    extra = meta["extra_fields"]
    assert set(extra) == {"api", "ca_bundle"}
    assert {"gateway", "xai"} <= set(extra["api"]["schema"]["enum"])
