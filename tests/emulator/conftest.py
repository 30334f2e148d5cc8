from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_xai.emulator import EmulatorServer

KEY = "test-key-123"
IMAGE = {"prompt": "a red fox in the snow", "model": "grok-imagine-image"}
VIDEO = {"prompt": "a red fox running", "model": "grok-imagine-video"}


class Client:
    """A thin client of the emulator over real HTTP."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.url = server.url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {KEY}"

    def post(self, kind: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.http.post(f"{self.url}/xai/{kind}s", json=body, timeout=10, **kwargs)

    def create(self, kind: str = "image", **fields: Any) -> str:
        body = {**(IMAGE if kind == "image" else VIDEO), **fields}
        answer = self.post(kind, body)
        assert answer.status_code == 200, answer.text
        return answer.json()["taskId"]

    def get(self, task_id: str, **kwargs: Any) -> requests.Response:
        return self.http.get(f"{self.url}/xai/tasks", params={"taskId": task_id}, timeout=10, **kwargs)

    def task(self, task_id: str) -> dict[str, Any]:
        answer = self.get(task_id)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def finish(self, task_id: str, limit: int = 20) -> dict[str, Any]:
        for _ in range(limit):
            body = self.task(task_id)
            if body["status"] in ("completed", "failed", "cancelled", "timeout"):
                return body
        raise AssertionError(f"task {task_id} did not finish: {body}")

    def control(self, method: str, route: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.url}/_emulator/{route}", json=body, timeout=10)


@pytest.fixture(scope="session")
def emulator_server():
    with EmulatorServer(progression="per-read") as server:
        yield server


@pytest.fixture
def emu(emulator_server: EmulatorServer) -> EmulatorServer:
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def client(emu: EmulatorServer):
    client = Client(emu)
    yield client
    client.http.close()
