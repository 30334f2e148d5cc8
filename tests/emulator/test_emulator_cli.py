"""The command line: ``python -m airflow_provider_xai.emulator``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from airflow_provider_xai.emulator.__main__ import build_parser, settings_from

ROOT = Path(__file__).resolve().parents[2]


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_xai.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=20)
    match = re.search(r"http://[\w.\[\]:-]+", line[0] if line else "")
    if not match:
        process.kill()
        raise AssertionError(
            f"no URL printed: {line} {process.stderr.read() if process.poll() is not None else ''}"
        )
    return process, match.group(0)


def test_the_cli_serves_until_sigterm():
    process, url = _start(
        "--api-key", "cli-key", "--progression", "per-read", "--envelope", "--create-status", "201"
    )
    try:
        headers = {"Authorization": "Bearer cli-key"}
        created = requests.post(
            f"{url}/xai/images",
            json={"prompt": "a", "model": "grok-imagine-image"},
            headers=headers,
            timeout=10,
        )
        assert created.status_code == 201
        task_id = created.json()["data"]["taskId"]
        polled = requests.get(f"{url}/xai/tasks", params={"taskId": task_id}, headers=headers, timeout=10)
        assert polled.json()["data"]["status"] == "pending"
        wrong = requests.get(
            f"{url}/xai/tasks", params={"taskId": task_id}, headers={"Authorization": "Bearer x"}
        )
        assert wrong.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()


def test_cli_arguments_become_settings():
    argv = (
        "--fault-rate 0.3 --seed 4 --fault-kinds 429,drop --media-ttl 5 --image-seconds 1 --video-seconds 2"
    )
    args = build_parser().parse_args([*argv.split(), "--fault-paths", "GET /xai/tasks,POST /xai/images"])
    settings = settings_from(args)
    assert settings["fault_rate"] == 0.3 and settings["seed"] == 4
    assert settings["fault_kinds"] == "429,drop"
    assert settings["media_ttl"] == 5 and settings["image_seconds"] == 1 and settings["video_seconds"] == 2
    from airflow_provider_xai.emulator import Backend

    config = Backend(**settings).settings()
    assert config["fault_kinds"] == ["429", "drop"]
    assert config["fault_paths"] == ["GET /xai/tasks", "POST /xai/images"]
    assert config["progression"] == "time"


def test_bad_cli_settings_exit_with_an_error():
    from airflow_provider_xai.emulator.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--port", "0", "--fault-kinds", "boom"])
    assert exit_info.value.code == 2
