"""Task progression, forced outcomes, result shapes, envelope mode and the control API."""

from __future__ import annotations

import re
import time

import pytest
import requests

from airflow_provider_xai.emulator import EmulatorServer

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.mark.parametrize("kind", ["image", "video"])
def test_per_read_progression_walks_every_status(client, kind):
    task_id = client.create(kind)
    seen = [client.task(task_id) for _ in range(5)]
    assert [body["status"] for body in seen] == ["pending", "ready", "assigned", "processing", "completed"]
    for body in seen[:4]:
        assert body["result"] is None
        assert "finishedAt" not in body
        assert "errorCode" not in body
    final = seen[-1]
    assert final["taskId"] == task_id
    assert ISO.match(final["createdAt"]) and ISO.match(final["finishedAt"])
    assert final["traceId"] == seen[0]["traceId"]
    assert client.task(task_id) == final  # terminal is stable
    if kind == "image":
        assert final["result"]["data"][0]["url"].endswith(f"/media/{task_id}/0.jpeg")
        assert final["result"]["data"][0]["revised_prompt"] == "a red fox in the snow"
    else:
        assert final["result"] == {
            "video": {"url": f"{client.url}/media/{task_id}/0.mp4", "duration": 6},
            "model": "grok-imagine-video",
        }


def test_reads_to_complete_setting_and_directive(client, emu):
    emu.configure(reads_to_complete=2)
    task_id = client.create()
    assert [client.task(task_id)["status"] for _ in range(2)] == ["pending", "completed"]
    task_id = client.create(prompt="quick [xai:reads=1]")
    assert client.task(task_id)["status"] == "completed"


@pytest.mark.parametrize(
    ("directive", "status", "code", "message"),
    [
        ("[xai:failed]", "failed", 5001, "generation failed"),
        ("[xai:cancelled]", "cancelled", 4001, "task was cancelled"),
        ("[xai:timeout]", "timeout", 5040, "generation timed out"),
        ("[xai:moderated-failed]", "failed", 4003, "content rejected by moderation"),
    ],
)
@pytest.mark.parametrize("kind", ["image", "video"])
def test_directives_force_each_unsuccessful_end(client, kind, directive, status, code, message):
    task_id = client.create(kind, prompt=f"a cat {directive}")
    final = client.finish(task_id)
    assert final["status"] == status
    assert final["errorCode"] == code
    assert final["errorMessage"] == message
    assert final["result"] is None
    assert "finishedAt" in final


def test_moderated_completes_without_media(client):
    final = client.finish(client.create(prompt="[xai:moderated] a cat"))
    assert final["status"] == "completed"
    assert final["result"] == {"respect_moderation": False}


@pytest.mark.parametrize("kind", ["image", "video"])
def test_nomedia_completes_without_any_url(client, kind):
    final = client.finish(client.create(kind, prompt="a cat [xai:nomedia]"))
    assert final["status"] == "completed"
    assert final["result"]
    assert "http" not in str(final["result"])


def test_unknown_status_is_reported_then_completes(client):
    task_id = client.create(prompt="a cat [xai:unknown-status]")
    statuses = [client.task(task_id)["status"] for _ in range(5)]
    assert statuses == ["pending", "queued_upstream", "queued_upstream", "queued_upstream", "completed"]
    task_id = client.create(prompt="a cat [xai:unknown-status=warming_up]")
    assert [client.task(task_id)["status"] for _ in range(2)] == ["pending", "warming_up"]


SHAPES = {
    "data": lambda u: {"data": [{"url": u, "revised_prompt": "p [xai:shape=data]"}]},
    "video": lambda u: {"video": {"url": u}, "model": "grok-imagine-image"},
    "url": lambda u: {"url": u},
    "urls": lambda u: {"urls": [u]},
    "imageUrl": lambda u: {"imageUrl": u},
    "videoUrl": lambda u: {"videoUrl": u},
    "nested": lambda u: {"output": {"items": [{"media": {"url": u}}]}},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_result_shapes_by_directive(client, shape):
    task_id = client.create(prompt=f"p [xai:shape={shape}]")
    final = client.finish(task_id)
    url = f"{client.url}/media/{task_id}/0.jpeg"
    assert final["result"] == SHAPES[shape](url)


def test_result_shape_setting_applies_to_every_task(client, emu):
    emu.configure(result_shape="urls")
    task_id = client.create("video")
    assert client.finish(task_id)["result"] == {"urls": [f"{client.url}/media/{task_id}/0.mp4"]}


def test_count_directive_gives_several_images(client):
    task_id = client.create(prompt="three [xai:count=3] [xai:shape=urls]")
    urls = client.finish(task_id)["result"]["urls"]
    assert urls == [f"{client.url}/media/{task_id}/{n}.jpeg" for n in range(3)]
    assert all(client.http.get(url, timeout=10).status_code == 200 for url in urls)


def test_media_urls_follow_the_host_header_or_public_url(client, emu):
    task_id = client.create(prompt="[xai:reads=1]")
    port = client.url.rsplit(":", 1)[1]
    answer = client.http.get(
        f"{client.url}/xai/tasks",
        params={"taskId": task_id},
        headers={"Host": f"localhost:{port}"},
        timeout=10,
    )
    assert answer.json()["result"]["data"][0]["url"].startswith(f"http://localhost:{port}/media/")
    emu.configure(public_url="https://cdn.example.com/")
    assert client.task(task_id)["result"]["data"][0]["url"].startswith("https://cdn.example.com/media/")


@pytest.mark.parametrize("status", [200, 201])
def test_create_status_setting(client, emu, status):
    emu.configure(create_status=status)
    answer = client.post("image", {"prompt": "a", "model": "grok-imagine-image"})
    assert answer.status_code == status
    assert emu.count("POST", "/xai/images") == 1


def test_envelope_mode_wraps_every_json_answer(client, emu):
    emu.configure(envelope=True, create_status=201)
    created = client.post("image", {"prompt": "a", "model": "grok-imagine-image"})
    assert created.status_code == 201
    envelope = created.json()
    assert set(envelope) == {"code", "message", "data", "traceId"}
    assert envelope["code"] == 201 and envelope["message"] == "success"
    task_id = envelope["data"]["taskId"]
    polled = client.get(task_id).json()
    assert polled["code"] == 200 and polled["data"]["taskId"] == task_id
    assert polled["traceId"] == polled["data"]["traceId"]
    bad = client.post("image", {"prompt": "", "model": "grok-imagine-image"})
    assert bad.status_code == 400
    assert bad.json()["code"] == 400 and bad.json()["data"] is None and "prompt" in bad.json()["message"]
    missing = client.get("nope")
    assert missing.status_code == 404 and missing.json()["code"] == 404
    unauthorised = requests.get(f"{client.url}/xai/tasks?taskId=x", timeout=10)
    assert unauthorised.status_code == 401 and unauthorised.json()["code"] == 401


def test_force_status_freezes_a_task(client, emu):
    task_id = client.create()
    client.task(task_id)
    emu.force_status(task_id, "failed", errorCode=9, errorMessage="GPU on fire")
    for _ in range(3):
        body = client.task(task_id)
        assert body["status"] == "failed"
        assert (body["errorCode"], body["errorMessage"]) == (9, "GPU on fire")
        assert "finishedAt" in body
    emu.force_status(task_id, "processing")
    assert [client.task(task_id)["status"] for _ in range(6)] == ["processing"] * 6
    emu.force_status(task_id, "completed")
    assert client.task(task_id)["result"]["data"][0]["url"].endswith("/0.jpeg")
    emu.force_status(task_id, "completed", result={"weird": [1, 2]})
    assert client.task(task_id)["result"] == {"weird": [1, 2]}


def test_forced_failure_without_fields_gets_default_error_fields(client, emu):
    task_id = client.create()
    emu.force_status(task_id, "timeout")
    body = client.task(task_id)
    assert (body["status"], body["errorCode"], body["errorMessage"]) == (
        "timeout",
        5040,
        "generation timed out",
    )


def test_control_api(client, emu):
    task_id = client.create()
    assert client.control("GET", "health").json() == {"ok": True}
    config = client.control("POST", "config", {"envelope": True, "fault_rate": 0}).json()
    assert config["envelope"] is True
    assert client.control("GET", "config").json()["envelope"] is True
    assert client.control("POST", "config", {"nonsense": 1}).status_code == 400
    assert client.control("POST", "config", {"progression": "sometimes"}).status_code == 400
    tasks = client.control("GET", "tasks").json()
    assert [task["taskId"] for task in tasks] == [task_id]
    assert tasks[0]["kind"] == "image" and tasks[0]["reads"] == 0
    forced = client.control("POST", f"tasks/{task_id}", {"status": "cancelled", "errorMessage": "by user"})
    assert forced.status_code == 200 and forced.json()["status"] == "cancelled"
    assert client.control("GET", f"tasks/{task_id}").json()["status"] == "cancelled"
    assert client.control("POST", "tasks/unknown", {"status": "failed"}).status_code == 404
    assert client.control("POST", f"tasks/{task_id}", {}).status_code == 400
    assert client.control("POST", "faults", {"path": "GET /xai/tasks", "kinds": ["429"]}).json() == {
        "ok": True
    }
    assert client.control("POST", "faults", {"path": "GET /xai/tasks", "kinds": ["boom"]}).status_code == 400
    log = client.control("GET", "requests").json()
    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("POST", "/xai/images", 200)
    ]
    assert client.control("POST", "reset").json() == {"ok": True}
    assert client.control("GET", "tasks").json() == []
    assert client.control("GET", "config").json()["envelope"] is False
    assert client.control("GET", "nothing").status_code == 404


def test_request_log_and_count(client, emu):
    task_id = client.create()
    client.task(task_id)
    client.get("unknown")
    log = emu.requests_log()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/xai/images", 200),
        ("GET", "/xai/tasks", 200),
        ("GET", "/xai/tasks", 404),
    ]
    assert log[1]["query"] == {"taskId": task_id}
    assert all(isinstance(e["time"], float) for e in log)
    assert emu.count("GET", "/xai/tasks") == 1
    assert emu.count("GET", "/xai/tasks", accepted_only=False) == 2


def test_time_progression():
    clock = [1_000_000.0]
    with EmulatorServer(clock=lambda: clock[0], image_seconds=10, video_seconds=40) as emu:
        http = requests.Session()
        http.headers["Authorization"] = "Bearer k"
        created = http.post(f"{emu.url}/xai/images", json={"prompt": "a", "model": "grok-imagine-image"})
        task_id = created.json()["taskId"]

        def status():
            return http.get(f"{emu.url}/xai/tasks", params={"taskId": task_id}).json()

        seen = []
        for moment in (0, 0.5, 1.5, 2.5, 5, 9.9, 10, 30):
            clock[0] = 1_000_000.0 + moment
            seen.append(status()["status"])
        assert seen == [
            "pending",
            "pending",
            "ready",
            "assigned",
            "processing",
            "processing",
            "completed",
            "completed",
        ]
        assert status()["finishedAt"] == "1970-01-12T13:46:50.000Z"
        fast = http.post(
            f"{emu.url}/xai/videos", json={"prompt": "v [xai:seconds=1]", "model": "grok-imagine-video"}
        )
        clock[0] += 1
        assert (
            http.get(f"{emu.url}/xai/tasks", params={"taskId": fast.json()["taskId"]}).json()["status"]
            == "completed"
        )
        http.close()


def test_time_progression_with_the_real_clock():
    with EmulatorServer(image_seconds=0.3) as emu:
        http = requests.Session()
        http.headers["Authorization"] = "Bearer k"

        def create(prompt):
            body = {"prompt": prompt, "model": "grok-imagine-image"}
            return http.post(f"{emu.url}/xai/images", json=body).json()["taskId"]

        def status(task_id):
            return http.get(f"{emu.url}/xai/tasks", params={"taskId": task_id}).json()["status"]

        slow = create("a [xai:seconds=600]")  # far from done however slow this machine is
        started = time.monotonic()
        fast = create("a")  # the 0.3 s setting
        while status(fast) != "completed":
            assert time.monotonic() - started < 30, "a 0.3 s task never completed"
            time.sleep(0.02)
        assert time.monotonic() - started >= 0.3  # not before its time
        assert status(slow) != "completed"
        http.close()


def test_keep_alive_reuses_one_connection(client):
    task_id = client.create()
    answers = [client.get(task_id) for _ in range(5)]
    assert all(a.headers.get("Connection", "").lower() != "close" for a in answers)
    assert all(int(a.headers["Content-Length"]) == len(a.content) for a in answers)
    pools = client.http.get_adapter(client.url).poolmanager.pools
    opened = sum(pools[key].num_connections for key in pools.keys())
    assert opened == 1  # six requests over one TCP connection (connections opened, not pools)


def test_concurrent_clients(client, emu):
    from concurrent.futures import ThreadPoolExecutor

    def work(n):
        with requests.Session() as http:
            http.headers["Authorization"] = "Bearer k"
            body = {"prompt": f"p{n} [xai:reads=2]", "model": "grok-imagine-image"}
            task_id = http.post(f"{client.url}/xai/images", json=body, timeout=10).json()["taskId"]
            return [
                http.get(f"{client.url}/xai/tasks", params={"taskId": task_id}, timeout=10).json()
                for _ in range(2)
            ]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(work, range(64)))
    assert all([r["status"] for r in pair] == ["pending", "completed"] for pair in results)
    assert len({pair[0]["taskId"] for pair in results}) == 64
    assert emu.count("POST", "/xai/images") == 64 and emu.count("GET", "/xai/tasks") == 128
