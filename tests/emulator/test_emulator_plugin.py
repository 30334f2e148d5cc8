"""The pytest plugin's fixtures, run in a child pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

INNER = """
import pytest
import requests

AUTH = {"Authorization": "Bearer k"}
BODY = {"prompt": "a", "model": "grok-imagine-image"}


def test_per_read_and_reset(xai_emulator, xai_emulator_session):
    assert xai_emulator is xai_emulator_session
    assert xai_emulator.tasks() == []
    task_id = requests.post(f"{xai_emulator.url}/xai/images", json=BODY, headers=AUTH).json()["taskId"]
    url = f"{xai_emulator.url}/xai/tasks"
    query = {"taskId": task_id}
    statuses = [requests.get(url, params=query, headers=AUTH).json()["status"] for _ in range(5)]
    assert statuses == ["pending", "ready", "assigned", "processing", "completed"]
    xai_emulator.configure(envelope=True)


def test_second_test_starts_clean(xai_emulator):
    assert xai_emulator.tasks() == [] and xai_emulator.requests_log() == []
    assert xai_emulator.config["envelope"] is False


@pytest.mark.xai_emulator(create_status=201)
def test_marker_sets_settings(xai_emulator):
    assert requests.post(f"{xai_emulator.url}/xai/images", json=BODY, headers=AUTH).status_code == 201
"""


def test_the_fixtures_in_a_child_pytest(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER)
    registered = any(ep.name == "xai_emulator" for ep in entry_points(group="pytest11"))
    plugin = [] if registered else ["-p", "airflow_provider_xai.emulator.pytest_plugin"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *plugin,
            str(tmp_path / "test_inner.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
