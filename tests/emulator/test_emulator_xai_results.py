"""xAI's own API on the emulator: image answers, video progression, directives, forced statuses, faults."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
import requests

from tests.emulator.test_emulator_xai import AUTH, VIDEO_EDIT, call

JPEG = b"\xff\xd8"


def post(server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = call(server, "POST", path, body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def video(server, **fields: Any) -> str:
    return post(server, "/v1/videos/generations", {"prompt": "a fox", **fields})["request_id"]


def poll(server, request_id: str) -> dict[str, Any]:
    answer = call(server, "GET", f"/v1/videos/{request_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def finish(server, request_id: str, limit: int = 20) -> dict[str, Any]:
    for _ in range(limit):
        body = poll(server, request_id)
        if body["status"] in ("done", "failed", "expired"):
            return body
    raise AssertionError(f"{request_id} did not finish: {body}")


# ---- images -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "items", "ticks"),
    [
        ("/v1/images/generations", {"prompt": "a fox"}, 1, 200_000_000),
        ("/v1/images/generations", {"prompt": "a fox", "n": 3}, 3, 600_000_000),
        ("/v1/images/edits", {"prompt": "blue", "image": {"url": "https://e.com/a.jpg"}}, 1, 220_000_000),
        (
            "/v1/images/edits",
            {"prompt": "blue", "n": 2, "images": [{"url": "https://e.com/a.jpg", "type": "image_url"}] * 3},
            2,
            460_000_000,
        ),
    ],
)
def test_images_answer_at_once_with_urls_and_cost(xai_emulator, path, body, items, ticks):
    answer = post(xai_emulator, path, body)
    assert answer["usage"] == {"cost_in_usd_ticks": ticks}
    assert len(answer["data"]) == items
    for item in answer["data"]:
        assert set(item) == {"url", "mime_type", "revised_prompt", "respect_moderation"}
        assert (item["mime_type"], item["revised_prompt"], item["respect_moderation"]) == (
            "image/jpeg",
            "",
            True,
        )
        media = requests.get(item["url"], timeout=10)
        assert media.status_code == 200
        assert media.headers["Content-Type"] == "image/jpeg"
        assert media.content.startswith(JPEG)
    assert len({item["url"] for item in answer["data"]}) == items
    assert xai_emulator.count("POST", path) == 1


@pytest.mark.parametrize(
    ("prompt", "prefix"), [("a fox", ""), ("a fox [xai:b64-prefix]", "data:image/jpeg;base64,")]
)
def test_b64_json_items_hold_real_jpegs(xai_emulator, prompt, prefix):
    answer = post(
        xai_emulator, "/v1/images/generations", {"prompt": prompt, "n": 2, "response_format": "b64_json"}
    )
    assert len(answer["data"]) == 2
    for item in answer["data"]:
        assert "url" not in item
        assert item["b64_json"].startswith(prefix)
        assert base64.b64decode(item["b64_json"][len(prefix) :]).startswith(JPEG)


@pytest.mark.parametrize("response_format", ["url", "b64_json"])
def test_moderated_image_is_one_item_without_url(xai_emulator, response_format):
    body = {"prompt": "a fox [xai:moderated]", "n": 3, "response_format": response_format}
    answer = post(xai_emulator, "/v1/images/generations", body)
    assert answer["data"] == [
        {"url": "", "mime_type": "image/jpeg", "revised_prompt": "", "respect_moderation": False}
    ]


def test_blocked_image_request_has_block_reason_and_no_item(xai_emulator):
    answer = post(xai_emulator, "/v1/images/generations", {"prompt": "a fox [xai:blocked]", "n": 2})
    assert answer["data"] == []
    assert answer["block_reason"]


def test_image_takes_xai_image_seconds(xai_emulator):
    xai_emulator.configure(xai_image_seconds=0.3)
    started = time.monotonic()
    post(xai_emulator, "/v1/images/generations", {"prompt": "a fox"})
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    post(xai_emulator, "/v1/images/generations", {"prompt": "a fox [xai:seconds=0]"})
    assert time.monotonic() - started < 0.3


def test_image_media_honours_ttl_size_and_truncation(xai_emulator):
    xai_emulator.configure(media_size=50_000)
    url = post(xai_emulator, "/v1/images/generations", {"prompt": "a fox"})["data"][0]["url"]
    assert len(requests.get(url, timeout=10).content) == 50_000
    xai_emulator.configure(media_truncate_count=1)
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.get(url, timeout=10).content  # noqa: B018
    xai_emulator.configure(media_ttl=0)
    assert requests.get(url, timeout=10).status_code == 403


@pytest.mark.xai_emulator(public_url="https://media.example.com")
def test_public_url_is_the_base_of_image_urls(xai_emulator):
    url = post(xai_emulator, "/v1/images/generations", {"prompt": "a fox"})["data"][0]["url"]
    assert url.startswith("https://media.example.com/media/")


# ---- videos -------------------------------------------------------------------------------------------


def test_video_progresses_per_read_then_done(xai_emulator):
    request_id = video(xai_emulator, duration=4, resolution="720p")
    seen = [poll(xai_emulator, request_id) for _ in range(4)]
    assert [body["status"] for body in seen] == ["pending"] * 4
    assert all(set(body) == {"status", "model", "progress"} for body in seen)
    progress = [body["progress"] for body in seen]
    assert progress == sorted(progress) and all(0 <= p <= 99 for p in progress)
    done = poll(xai_emulator, request_id)
    assert done["status"] == "done"
    assert done["progress"] == 100
    assert done["model"] == "grok-imagine-video"
    assert done["usage"] == {"cost_in_usd_ticks": 4 * 700_000_000}
    assert done["video"]["duration"] == 4 and done["video"]["respect_moderation"] is True
    media = requests.get(done["video"]["url"], timeout=60)
    assert media.status_code == 200
    assert media.headers["Content-Type"] == "video/mp4"
    assert media.content[4:8] == b"ftyp"
    assert poll(xai_emulator, request_id) == done


@pytest.mark.parametrize(
    ("fields", "ticks"),
    [
        ({}, 8 * 500_000_000),
        ({"duration": 3, "resolution": "480p"}, 3 * 500_000_000),
        ({"duration": 2, "resolution": "1080p", "model": "grok-imagine-video-1.5"}, 2 * 1_000_000_000),
    ],
)
def test_video_cost_by_resolution(xai_emulator, fields, ticks):
    xai_emulator.configure(media_size=4096)  # no encoding needed
    body = finish(xai_emulator, video(xai_emulator, prompt="a fox [xai:reads=1]", **fields))
    assert body["usage"]["cost_in_usd_ticks"] == ticks
    assert body["model"] == fields.get("model", "grok-imagine-video")


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (
            "[xai:failed]",
            {"status": "failed", "error": {"code": "internal_error", "message": "generation failed"}},
        ),
        ("[xai:failed=service_unavailable]", {"status": "failed", "error": {"code": "service_unavailable"}}),
        ("[xai:expired]", {"status": "expired"}),
    ],
)
def test_video_outcome_directives(xai_emulator, prompt, expected):
    body = finish(xai_emulator, video(xai_emulator, prompt=f"a fox {prompt} [xai:reads=2]"))
    assert body["status"] == expected["status"]
    if "error" in expected:
        assert expected["error"].items() <= body["error"].items()
        assert set(body) == {"status", "error"}
    else:
        assert body == expected


def test_moderated_video_is_done_without_url(xai_emulator):
    body = finish(xai_emulator, video(xai_emulator, prompt="a fox [xai:moderated]"))
    assert body["status"] == "done"
    assert body["video"]["url"] == "" and body["video"]["respect_moderation"] is False


def test_unknown_status_while_running_then_done(xai_emulator):
    request_id = video(xai_emulator, prompt="a fox [xai:unknown-status] [xai:reads=3]")
    assert [poll(xai_emulator, request_id)["status"] for _ in range(3)] == [
        "queued_upstream",
        "queued_upstream",
        "done",
    ]


def test_time_progression_and_directives(xai_emulator):
    xai_emulator.configure(progression="time", video_seconds=30)
    slow = video(xai_emulator)
    fast = video(xai_emulator, prompt="a fox [xai:seconds=0.2] [xai:size=3000]")
    assert poll(xai_emulator, slow)["status"] == "pending"
    time.sleep(0.3)
    done = poll(xai_emulator, fast)
    assert done["status"] == "done"
    assert len(requests.get(done["video"]["url"], timeout=10).content) == 3000
    assert poll(xai_emulator, slow)["status"] == "pending"


def test_edit_and_extension_durations(xai_emulator):
    xai_emulator.configure(media_size=4096)
    source = finish(xai_emulator, video(xai_emulator, prompt="a fox [xai:reads=1]", duration=5))
    url = source["video"]["url"]
    edit = post(xai_emulator, "/v1/videos/edits", {"prompt": "blue [xai:reads=1]", "video": {"url": url}})
    assert finish(xai_emulator, edit["request_id"])["video"]["duration"] == 5
    body = {"prompt": "more [xai:reads=1]", "video": {"url": url}, "duration": 4}
    extension = finish(xai_emulator, post(xai_emulator, "/v1/videos/extensions", body)["request_id"])
    assert extension["video"]["duration"] == 9
    assert extension["usage"]["cost_in_usd_ticks"] == 4 * 500_000_000
    long = finish(xai_emulator, video(xai_emulator, prompt="a fox [xai:reads=1]", duration=10))
    answer = call(
        xai_emulator, "POST", "/v1/videos/edits", {"prompt": "x", "video": {"url": long["video"]["url"]}}
    )
    assert answer.status_code == 400 and "8.7" in answer.json()["error"]


@pytest.mark.parametrize(
    ("status", "fields", "expected"),
    [
        ("expired", {}, {"status": "expired"}),
        (
            "failed",
            {},
            {"status": "failed", "error": {"code": "internal_error", "message": "generation failed"}},
        ),
        (
            "failed",
            {"error": {"code": "permission_denied", "message": "no"}},
            {"status": "failed", "error": {"code": "permission_denied", "message": "no"}},
        ),
        ("queued", {}, {"status": "queued", "model": "grok-imagine-video", "progress": 0}),
    ],
)
def test_force_status_on_an_xai_request(xai_emulator, status, fields, expected):
    request_id = video(xai_emulator)
    xai_emulator.force_status(request_id, status, **fields)
    assert poll(xai_emulator, request_id) == expected


def test_force_done_over_the_control_api(xai_emulator):
    xai_emulator.configure(media_size=2048)
    request_id = video(xai_emulator, duration=2)
    answer = requests.post(
        f"{xai_emulator.url}/_emulator/tasks/{request_id}", json={"status": "done"}, timeout=10
    )
    assert answer.status_code == 200 and answer.json()["requestId"] == request_id
    body = poll(xai_emulator, request_id)
    assert body["status"] == "done" and body["progress"] == 100
    assert len(requests.get(body["video"]["url"], timeout=10).content) == 2048
    record = requests.get(f"{xai_emulator.url}/_emulator/tasks/{request_id}", timeout=10).json()
    assert record["api"] == "xai" and record["forced"] is True


def test_gateway_and_xai_ids_do_not_mix(xai_emulator):
    request_id = video(xai_emulator)
    gateway = requests.get(
        f"{xai_emulator.url}/xai/tasks", params={"taskId": request_id}, headers=AUTH, timeout=10
    )
    assert gateway.status_code == 404
    body = {"prompt": "a fox", "model": "grok-imagine-image"}
    task_id = requests.post(f"{xai_emulator.url}/xai/images", json=body, headers=AUTH, timeout=10).json()[
        "taskId"
    ]
    assert call(xai_emulator, "GET", f"/v1/videos/{task_id}").status_code == 404


# ---- faults -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["flat", "nested"])
def test_scripted_429_on_a_video_read_uses_xai_style(xai_emulator, style):
    xai_emulator.configure(xai_error_style=style)
    request_id = video(xai_emulator)
    xai_emulator.script_faults("GET /v1/videos", ["429"])
    answer = call(xai_emulator, "GET", f"/v1/videos/{request_id}")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert ("code" in answer.json()) if style == "flat" else ("message" in answer.json()["error"])
    assert poll(xai_emulator, request_id)["status"] == "pending"
    assert xai_emulator.requests_log()[-2]["fault"] == "429"


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [("502html", 502, "text/html"), ("504html", 504, "text/html"), ("503json", 503, "application/json")],
)
def test_scripted_error_pages_on_image_posts(xai_emulator, kind, status, content_type):
    xai_emulator.script_faults("POST /v1/images/generations", [kind])
    answer = call(xai_emulator, "POST", "/v1/images/generations", {"prompt": "a fox"})
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == content_type
    assert xai_emulator.count("POST", "/v1/images/generations") == 0
    assert call(xai_emulator, "POST", "/v1/images/generations", {"prompt": "a fox"}).status_code == 200


@pytest.mark.parametrize("kind", ["drop", "drop-mid"])
def test_dropped_connections_on_v1_paths(xai_emulator, kind):
    xai_emulator.script_faults("/v1/videos", [kind])
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        call(xai_emulator, "POST", "/v1/videos/generations", {"prompt": "a fox"})
    assert xai_emulator.requests_log()[-1]["fault"] == kind


def test_random_faults_on_the_default_fault_paths(xai_emulator):
    request_id = video(xai_emulator)
    xai_emulator.configure(fault_rate=1.0, fault_kinds=["429"], seed=3)
    assert call(xai_emulator, "GET", f"/v1/videos/{request_id}").status_code == 429
    assert call(xai_emulator, "POST", "/v1/images/generations", {"prompt": "a fox"}).status_code == 200
    xai_emulator.configure(fault_paths=["POST /v1/images"])
    assert call(xai_emulator, "POST", "/v1/images/generations", {"prompt": "a fox"}).status_code == 429
    assert call(xai_emulator, "GET", f"/v1/videos/{request_id}").status_code == 200


def test_extension_request_body_shape(xai_emulator):
    request_id = post(xai_emulator, "/v1/videos/extensions", VIDEO_EDIT)["request_id"]
    assert poll(xai_emulator, request_id)["status"] == "pending"


@pytest.mark.xai_emulator(xai_rate_limits=True, retry_after="2")
def test_rate_limits_per_family(xai_emulator):
    assert call(xai_emulator, "POST", "/v1/videos/generations", {"prompt": "a fox"}).status_code == 200
    limited = call(xai_emulator, "POST", "/v1/videos/edits", VIDEO_EDIT)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert "rate limit" in limited.json()["error"]
    statuses = [
        call(xai_emulator, "POST", "/v1/images/generations", {"prompt": "x"}).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    time.sleep(1.05)
    assert call(xai_emulator, "POST", "/v1/videos/generations", {"prompt": "a fox"}).status_code == 200


def test_cli_settings_of_xai_api():
    from airflow_provider_xai.emulator import Backend
    from airflow_provider_xai.emulator.__main__ import build_parser, settings_from

    args = build_parser().parse_args(
        [
            "--xai-image-seconds",
            "0",
            "--xai-error-style",
            "nested",
            "--xai-rate-limits",
            "--xai-upload-empties-url",
        ]
    )
    config = Backend(**settings_from(args)).settings()
    assert config["xai_image_seconds"] == 0 and config["xai_error_style"] == "nested"
    assert config["xai_rate_limits"] is True and config["xai_upload_keeps_url"] is False
    assert "GET /v1/videos" in config["fault_paths"]
