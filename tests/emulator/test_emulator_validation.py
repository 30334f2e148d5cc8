"""The contract's field rules, authentication and routing, over real HTTP."""

from __future__ import annotations

import pytest
import requests

IMAGE = {"prompt": "a red fox in the snow", "model": "grok-imagine-image"}
VIDEO = {"prompt": "a red fox running", "model": "grok-imagine-video"}
URL = "https://example.com/ref.png"

REJECTED = [
    # (kind, changes to a valid body; None removes the field, words expected in the message)
    ("image", {"prompt": ""}, "prompt must not be empty"),
    ("image", {"prompt": "x" * 1001}, "at most 1000"),
    ("image", {"prompt": None}, "prompt must be a string"),
    ("image", {"prompt": 12}, "prompt must be a string"),
    ("image", {"prompt": ...}, "prompt is required"),
    ("image", {"model": ...}, "model is required"),
    ("image", {"model": "grok-imagine-video"}, "grok-imagine-image"),
    ("image", {"model": "grok-2-image"}, "grok-imagine-image"),
    ("image", {"aspectRatio": "4:3"}, "aspectRatio"),
    ("image", {"aspectRatio": "16x9"}, "aspectRatio"),
    ("image", {"aspectRatio": None}, "aspectRatio"),
    ("image", {"images": [URL, URL]}, "at most 1"),
    ("image", {"images": URL}, "images must be an array"),
    ("image", {"images": [42]}, "URL strings"),
    ("image", {"images": ["ftp://example.com/a.png"]}, "http or https"),
    ("image", {"images": ["not a url"]}, "http or https"),
    ("image", {"duration": 6}, "unknown field"),
    ("image", {"resolution": "720P"}, "unknown field"),
    ("image", {"n": 2}, "unknown field"),
    ("video", {"resolution": "720p"}, "resolution"),
    ("video", {"resolution": "1080P"}, "resolution"),
    ("video", {"duration": "10"}, "duration must be a JSON number"),
    ("video", {"duration": 12}, "duration must be one of"),
    ("video", {"duration": 20}, "duration must be one of"),
    ("video", {"duration": 6.5}, "integer"),
    ("video", {"duration": True}, "duration must be a JSON number"),
    ("video", {"model": "grok-imagine-image"}, "grok-imagine-video"),
    ("video", {"images": [URL, URL]}, "at most 1"),
    ("video", {"prompt": "y" * 1001}, "at most 1000"),
    ("video", {"aspectRatio": "21:9"}, "aspectRatio"),
    ("video", {"seed": 1}, "unknown field"),
]

ACCEPTED = [
    ("image", {}),
    ("image", {"prompt": "x" * 1000}),
    ("image", {"prompt": "é" * 1000}),
    *[("image", {"aspectRatio": ratio}) for ratio in ("1:1", "2:3", "3:2", "9:16", "16:9")],
    ("image", {"images": [URL]}),
    ("image", {"images": []}),
    ("image", {"images": ["http://example.com/a.jpeg"], "aspectRatio": "16:9"}),
    ("video", {}),
    *[("video", {"duration": duration}) for duration in (6, 10, 15)],
    ("video", {"resolution": "480P"}),
    ("video", {"resolution": "720P", "aspectRatio": "9:16", "duration": 15}),
    ("video", {"images": [URL]}),
]


def _body(kind, changes):
    body = dict(IMAGE if kind == "image" else VIDEO)
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(("kind", "changes", "words"), REJECTED)
def test_breaking_a_rule_is_answered_400(client, emu, kind, changes, words):
    answer = client.post(kind, _body(kind, changes))
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["statusCode"] == 400
    assert words in answer.json()["message"]
    assert emu.count("POST", f"/xai/{kind}s") == 0
    assert emu.count("POST", f"/xai/{kind}s", accepted_only=False) == 1
    assert emu.tasks() == []


@pytest.mark.parametrize(("kind", "changes"), ACCEPTED)
def test_valid_requests_are_accepted(client, emu, kind, changes):
    answer = client.post(kind, _body(kind, changes))
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"taskId"}
    assert isinstance(answer.json()["taskId"], str)
    assert emu.count("POST", f"/xai/{kind}s") == 1


@pytest.mark.parametrize("raw", [b"not json", b"", b"[1, 2]", b'"a string"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_answered_400(client, raw):
    answer = client.http.post(f"{client.url}/xai/images", data=raw, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["statusCode"] == 400


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic abc"},
        {"Authorization": "k"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/xai/images"), ("POST", "/xai/videos"), ("GET", "/xai/tasks?taskId=x")]
)
def test_a_missing_key_is_answered_401(client, method, path, headers):
    answer = requests.request(method, f"{client.url}{path}", json=IMAGE, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["statusCode"] == 401
    assert answer.json()["message"]


def test_any_non_empty_key_is_accepted_by_default(client):
    answer = requests.post(
        f"{client.url}/xai/images", json=IMAGE, headers={"Authorization": "bearer whatever"}, timeout=10
    )
    assert answer.status_code == 200


def test_a_pinned_key_refuses_other_keys_without_echoing_them(client, emu):
    emu.configure(api_key="the-right-key")
    wrong = requests.post(
        f"{client.url}/xai/images",
        json=IMAGE,
        headers={"Authorization": "Bearer sk-wrong-secret"},
        timeout=10,
    )
    assert wrong.status_code == 401
    assert "sk-wrong-secret" not in wrong.text
    right = requests.post(
        f"{client.url}/xai/images", json=IMAGE, headers={"Authorization": "Bearer the-right-key"}, timeout=10
    )
    assert right.status_code == 200


def test_a_forbidden_key_is_answered_403(client, emu):
    emu.configure(forbidden_keys=["broke-key"])
    answer = requests.post(
        f"{client.url}/xai/images", json=IMAGE, headers={"Authorization": "Bearer broke-key"}, timeout=10
    )
    assert answer.status_code == 403
    assert answer.json()["statusCode"] == 403
    assert client.post("image", IMAGE).status_code == 200


def test_auth_is_checked_before_the_body(client):
    answer = requests.post(f"{client.url}/xai/images", json={"bad": 1}, timeout=10)
    assert answer.status_code == 401


def test_an_unknown_task_is_answered_404(client):
    answer = client.get("does-not-exist")
    assert answer.status_code == 404
    assert answer.json() == {"message": "task not found: does-not-exist", "statusCode": 404}


@pytest.mark.parametrize("query", ["", "?taskId=", "?task_id=abc"])
def test_a_missing_task_id_is_answered_400(client, query):
    answer = client.http.get(f"{client.url}/xai/tasks{query}", timeout=10)
    assert answer.status_code == 400
    assert "taskId" in answer.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/xai/images", 405),
        ("PUT", "/xai/videos", 405),
        ("POST", "/xai/tasks", 405),
        ("GET", "/xai/other", 404),
        ("GET", "/", 404),
    ],
)
def test_other_routes(client, method, path, status):
    answer = client.http.request(method, f"{client.url}{path}", timeout=10)
    assert answer.status_code == status
    assert answer.json()["statusCode"] == status
