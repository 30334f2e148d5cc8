"""xAI's own API on the emulator: routes, authentication, error styles and every field rule (real HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

KEY = "xai-test-key-1234abcd"
AUTH = {"Authorization": f"Bearer {KEY}"}
IMAGE = {"prompt": "a red fox in the snow"}
VIDEO = {"prompt": "a red fox running"}
MEDIA_URL = "https://example.com/source.jpg"
VIDEO_URL = "https://example.com/source.mp4"
EDIT = {"prompt": "make it blue", "image": {"url": MEDIA_URL, "type": "image_url"}}
VIDEO_EDIT = {"prompt": "make it blue", "video": {"url": VIDEO_URL}}


def call(server, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **kw):
    return requests.request(
        method,
        f"{server.url}{path}",
        json=body,
        headers=AUTH if headers is None else headers,
        timeout=30,
        **kw,
    )


# ---- routes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        ("/v1/images/generations", IMAGE, "data"),
        ("/v1/images/edits", EDIT, "data"),
        ("/v1/videos/generations", VIDEO, "request_id"),
        ("/v1/videos/edits", VIDEO_EDIT, "request_id"),
        ("/v1/videos/extensions", {**VIDEO_EDIT, "duration": 4}, "request_id"),
    ],
)
def test_every_post_route_answers_200(xai_emulator, path, body, key):
    answer = call(xai_emulator, "POST", path, body)
    assert answer.status_code == 200, answer.text
    assert key in answer.json()
    assert xai_emulator.count("POST", path) == 1


def test_video_request_id_is_pollable_and_unknown_id_is_404(xai_emulator):
    request_id = call(xai_emulator, "POST", "/v1/videos/generations", VIDEO).json()["request_id"]
    assert len(request_id) >= 32
    assert call(xai_emulator, "GET", f"/v1/videos/{request_id}").status_code == 200
    missing = call(xai_emulator, "GET", "/v1/videos/0000-not-a-request")
    assert missing.status_code == 404
    assert set(missing.json()) == {"code", "error"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/images/generations", "POST"),
        ("PUT", "/v1/images/edits", "POST"),
        ("GET", "/v1/videos/generations", "POST"),
        ("DELETE", "/v1/videos/some-id", "GET"),
        ("POST", "/v1/videos/some-id", "GET"),
        ("POST", "/v1/api-key", "GET"),
    ],
)
def test_wrong_method_is_405(xai_emulator, method, path, allow):
    answer = call(xai_emulator, method, path, {})
    assert answer.status_code == 405
    assert answer.headers["Allow"] == allow


def test_unknown_v1_path_is_404(xai_emulator):
    assert call(xai_emulator, "POST", "/v1/chat/completions", {}).status_code == 404


def test_api_key_describes_the_key(xai_emulator):
    answer = call(xai_emulator, "GET", "/v1/api-key")
    assert answer.status_code == 200
    body = answer.json()
    assert body["redacted_api_key"] == "xai-...abcd"
    assert body["acls"] == ["api-key:model:*", "api-key:endpoint:*"]
    assert (body["api_key_blocked"], body["api_key_disabled"], body["team_blocked"]) == (False, False, False)
    assert {"name", "team_id", "api_key_id"} <= set(body)
    assert KEY not in answer.text


# ---- authentication -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "Token xyz"])
@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/images/generations"), ("GET", "/v1/api-key")])
def test_missing_key_is_401(xai_emulator, header, method, path):
    headers = {} if header is None else {"Authorization": header}
    answer = call(xai_emulator, method, path, IMAGE, headers=headers)
    assert answer.status_code == 401
    assert set(answer.json()) == {"code", "error"}


@pytest.mark.xai_emulator(api_key="xai-the-right-key")
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/images/generations", IMAGE),
        ("POST", "/v1/videos/generations", VIDEO),
        ("GET", "/v1/videos/whatever", None),
        ("GET", "/v1/api-key", None),
    ],
)
def test_wrong_key_is_400_with_masked_fragment(xai_emulator, method, path, body):
    answer = call(xai_emulator, method, path, body, headers={"Authorization": "Bearer xa-wrong-key-4f"})
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: xa***4f. You can obtain an API key from https://console.x.ai.",
    }
    assert call(xai_emulator, "GET", "/v1/api-key", headers={"Authorization": "Bearer xai-the-right-key"}).ok


@pytest.mark.xai_emulator(api_key="xai-the-right-key", xai_error_style="nested")
def test_wrong_key_in_the_nested_style(xai_emulator):
    answer = call(xai_emulator, "GET", "/v1/api-key")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_api_key"
    assert error["message"].startswith("Incorrect API key provided: xa***cd.")
    assert error["type"] == "invalid_request_error"


@pytest.mark.xai_emulator(forbidden_keys=[KEY])
def test_forbidden_key_is_403_but_may_describe_itself(xai_emulator):
    assert call(xai_emulator, "POST", "/v1/images/generations", IMAGE).status_code == 403
    assert call(xai_emulator, "POST", "/v1/videos/generations", VIDEO).status_code == 403
    assert call(xai_emulator, "GET", "/v1/api-key").status_code == 200


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ("xai_key_blocked", "api_key_blocked"),
        ("xai_key_disabled", "api_key_disabled"),
        ("xai_team_blocked", "team_blocked"),
    ],
)
def test_blocked_key_cannot_generate(xai_emulator, setting, field):
    request_id = call(xai_emulator, "POST", "/v1/videos/generations", VIDEO).json()["request_id"]
    xai_emulator.configure(**{setting: True})
    assert call(xai_emulator, "GET", "/v1/api-key").json()[field] is True
    assert call(xai_emulator, "POST", "/v1/images/generations", IMAGE).status_code == 403
    assert call(xai_emulator, "POST", "/v1/videos/generations", VIDEO).status_code == 403
    assert call(xai_emulator, "GET", f"/v1/videos/{request_id}").status_code == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data; boundary=x"])
@pytest.mark.parametrize("path", ["/v1/images/generations", "/v1/images/edits", "/v1/videos/generations"])
def test_non_json_content_type_is_415(xai_emulator, content_type, path):
    headers = dict(AUTH)
    if content_type:
        headers["Content-Type"] = content_type
    answer = requests.post(f"{xai_emulator.url}{path}", data=b'{"prompt": "x"}', headers=headers, timeout=10)
    assert answer.status_code == 415


def test_json_content_type_with_charset_and_broken_json(xai_emulator):
    headers = {**AUTH, "Content-Type": "application/json; charset=utf-8"}
    url = f"{xai_emulator.url}/v1/images/generations"
    assert requests.post(url, data=b'{"prompt": "x"}', headers=headers, timeout=10).status_code == 200
    assert requests.post(url, data=b'{"prompt": ', headers=headers, timeout=10).status_code == 400


# ---- field rules --------------------------------------------------------------------------------------

IMAGE_CASES = [
    # (body, status, fragment of the message)
    ({}, 422, "prompt"),
    ({"prompt": 3}, 422, "prompt"),
    ({"prompt": ""}, 400, "prompt"),
    ({"prompt": "x" * 4097}, 400, "prompt"),
    ({**IMAGE, "colour": "red"}, 422, "colour"),
    ({**IMAGE, "model": "grok-2-image"}, 404, "grok-2-image"),
    ({**IMAGE, "model": "grok-imagine-image-quality"}, 404, "retired"),
    ({**IMAGE, "model": 5}, 422, "model"),
    ({**IMAGE, "n": 0}, 400, "n"),
    ({**IMAGE, "n": 11}, 400, "n"),
    ({**IMAGE, "n": "2"}, 422, "n"),
    ({**IMAGE, "n": 2.0}, 422, "n"),
    ({**IMAGE, "n": True}, 422, "n"),
    ({**IMAGE, "response_format": "png"}, 422, "response_format"),
    ({**IMAGE, "aspect_ratio": "5:4"}, 422, "aspect_ratio"),
    ({**IMAGE, "aspectRatio": "1:1"}, 422, "aspectRatio"),
    ({**IMAGE, "resolution": "1K"}, 422, "resolution"),
    ({**IMAGE, "resolution": "4k"}, 422, "resolution"),
    ({**IMAGE, "quality": "high"}, 400, "quality"),
    ({**IMAGE, "model": "grok-imagine-image-2.0", "quality": "best"}, 422, "quality"),
    ({**IMAGE, "user": 7}, 422, "user"),
    ({**IMAGE, "n": None}, 422, "n"),
]
GOOD_IMAGES = [
    IMAGE,
    {**IMAGE, "model": "grok-imagine-image", "n": 10, "response_format": "url", "user": "u-1"},
    {
        **IMAGE,
        "model": "grok-imagine-image-2.0",
        "quality": "high",
        "resolution": "2k",
        "aspect_ratio": "auto",
    },
    *({**IMAGE, "aspect_ratio": ratio} for ratio in ("9:19.5", "19.5:9", "21:9", "5:2", "1:2", "20:9")),
    {"prompt": "x" * 4096},
]


@pytest.mark.parametrize(("body", "status", "fragment"), IMAGE_CASES)
def test_image_generation_rules(xai_emulator, body, status, fragment):
    answer = call(xai_emulator, "POST", "/v1/images/generations", body)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"code", "error"}
    assert fragment in answer.json()["error"]


@pytest.mark.parametrize("body", GOOD_IMAGES)
def test_valid_image_generations(xai_emulator, body):
    answer = call(xai_emulator, "POST", "/v1/images/generations", body)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["data"]) == body.get("n", 1)


ONE = {"url": MEDIA_URL, "type": "image_url"}
EDIT_CASES = [
    ({"prompt": "edit"}, 400, "image"),
    ({**EDIT, "images": [ONE]}, 400, "image"),
    ({"prompt": "edit", "images": []}, 400, "images"),
    ({"prompt": "edit", "images": [ONE] * 6}, 400, "images"),
    ({"prompt": "edit", "images": ONE}, 422, "images"),
    ({"prompt": "edit", "image": MEDIA_URL}, 422, "image"),
    ({"prompt": "edit", "image": {"type": "image_url"}}, 422, "url"),
    ({"prompt": "edit", "image": {**ONE, "detail": "high"}}, 422, "detail"),
    ({"prompt": "edit", "image": {**ONE, "type": "url"}}, 422, "image.type"),
    ({"prompt": "edit", "image": {"url": "ftp://example.com/a.jpg"}}, 400, "image.url"),
    ({"prompt": "edit", "image": {"url": "data:text/plain;base64,aGk="}}, 400, "image.url"),
    ({"prompt": "edit", "images": [ONE, {"url": 3}]}, 422, "images[1].url"),
]
GOOD_EDITS = [
    EDIT,
    {"prompt": "edit", "image": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    {"prompt": "edit", "images": [ONE] * 5, "n": 2, "response_format": "url"},
]


@pytest.mark.parametrize(("body", "status", "fragment"), EDIT_CASES)
def test_image_edit_rules(xai_emulator, body, status, fragment):
    answer = call(xai_emulator, "POST", "/v1/images/edits", body)
    assert answer.status_code == status, answer.text
    assert fragment in answer.json()["error"]


@pytest.mark.parametrize("body", GOOD_EDITS)
def test_valid_image_edits(xai_emulator, body):
    assert call(xai_emulator, "POST", "/v1/images/edits", body).status_code == 200


REF = {"url": MEDIA_URL}
VIDEO_CASES = [
    ({}, 422, "prompt"),
    ({"prompt": "   "}, 400, "prompt"),
    ({"prompt": "x" * 4097}, 400, "prompt"),
    ({**VIDEO, "model": "grok-imagine-video-2"}, 404, "grok-imagine-video-2"),
    ({**VIDEO, "duration": "8"}, 422, "duration"),
    ({**VIDEO, "duration": 8.0}, 422, "duration"),
    ({**VIDEO, "duration": 0}, 400, "duration"),
    ({**VIDEO, "duration": 16}, 400, "duration"),
    ({**VIDEO, "aspect_ratio": "21:9"}, 422, "aspect_ratio"),
    ({**VIDEO, "resolution": "480P"}, 422, "resolution"),
    ({**VIDEO, "resolution": "4k"}, 422, "resolution"),
    ({**VIDEO, "resolution": "1080p"}, 400, "1080p"),
    ({**VIDEO, "image": MEDIA_URL}, 422, "image"),
    ({**VIDEO, "image": {"url": MEDIA_URL, "type": "image_url"}}, 422, "type"),
    ({**VIDEO, "image": REF, "reference_images": [REF]}, 400, "reference_images"),
    ({**VIDEO, "reference_images": [REF] * 8}, 400, "reference_images"),
    ({**VIDEO, "reference_images": [REF], "duration": 11}, 400, "duration"),
    ({**VIDEO, "reference_images": REF}, 422, "reference_images"),
    ({**VIDEO, "output": "https://bucket/x"}, 422, "output"),
    ({**VIDEO, "output": {}}, 422, "upload_url"),
    ({**VIDEO, "output": {"upload_url": "https://b/x", "acl": "private"}}, 422, "acl"),
    ({**VIDEO, "output": {"upload_url": "s3://bucket/key"}}, 400, "output.upload_url"),
    ({**VIDEO, "output": {"upload_url": "https://bucket:port/x"}}, 400, "output.upload_url"),
    ({**VIDEO, "output": {"upload_url": "https:///x"}}, 400, "output.upload_url"),
    ({**VIDEO, "images": [MEDIA_URL]}, 422, "images"),
    ({**VIDEO, "user": ["u"]}, 422, "user"),
]
GOOD_VIDEOS = [
    VIDEO,
    {
        **VIDEO,
        "model": "grok-imagine-video-1.5",
        "resolution": "1080p",
        "duration": 15,
        "aspect_ratio": "4:3",
    },
    {**VIDEO, "duration": 1, "resolution": "720p", "aspect_ratio": "2:3", "user": "u"},
    {**VIDEO, "image": REF, "duration": 15},
    {**VIDEO, "reference_images": [REF] * 7, "duration": 10},
    {**VIDEO, "output": {"upload_url": "https://bucket.example.com/key?X-Amz-Signature=abc"}},
]


@pytest.mark.parametrize(("body", "status", "fragment"), VIDEO_CASES)
def test_video_generation_rules(xai_emulator, body, status, fragment):
    answer = call(xai_emulator, "POST", "/v1/videos/generations", body)
    assert answer.status_code == status, answer.text
    assert fragment in answer.json()["error"]
    assert "bucket/x" not in answer.text


@pytest.mark.parametrize("body", GOOD_VIDEOS)
def test_valid_video_generations(xai_emulator, body):
    answer = call(xai_emulator, "POST", "/v1/videos/generations", body)
    assert answer.status_code == 200, answer.text
    assert "request_id" in answer.json()


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/v1/videos/edits", {"prompt": "edit"}, 422, "video"),
        ("/v1/videos/edits", {**VIDEO_EDIT, "duration": 5}, 400, "duration"),
        ("/v1/videos/edits", {**VIDEO_EDIT, "resolution": "480p"}, 422, "resolution"),
        ("/v1/videos/edits", {**VIDEO_EDIT, "video": VIDEO_URL}, 422, "video"),
        ("/v1/videos/edits", {**VIDEO_EDIT, "model": "grok-imagine-image"}, 404, "grok-imagine-image"),
        ("/v1/videos/extensions", {**VIDEO_EDIT, "duration": 1}, 400, "duration"),
        ("/v1/videos/extensions", {**VIDEO_EDIT, "duration": 11}, 400, "duration"),
        ("/v1/videos/extensions", {**VIDEO_EDIT, "duration": "4"}, 422, "duration"),
        ("/v1/videos/extensions", {**VIDEO_EDIT, "aspect_ratio": "16:9"}, 422, "aspect_ratio"),
        (
            "/v1/videos/extensions",
            {**VIDEO_EDIT, "video": {"url": "data:video/mp4;base64,AA=="}},
            400,
            "video",
        ),
    ],
)
def test_video_edit_and_extension_rules(xai_emulator, path, body, status, fragment):
    answer = call(xai_emulator, "POST", path, body)
    assert answer.status_code == status, answer.text
    assert fragment in answer.json()["error"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/videos/edits", {**VIDEO_EDIT, "model": "grok-imagine-video-1.5", "user": "u"}),
        ("/v1/videos/edits", {**VIDEO_EDIT, "output": {"upload_url": "https://b.example.com/k"}}),
        ("/v1/videos/extensions", {**VIDEO_EDIT, "duration": 2}),
        ("/v1/videos/extensions", {**VIDEO_EDIT, "duration": 10}),
        ("/v1/videos/extensions", VIDEO_EDIT),
    ],
)
def test_valid_video_edits_and_extensions(xai_emulator, path, body):
    assert call(xai_emulator, "POST", path, body).status_code == 200


@pytest.mark.xai_emulator(xai_error_style="nested")
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**VIDEO, "duration": "8"}, 422, "unprocessable_entity"),
        ({**VIDEO, "duration": 16}, 400, "invalid_argument"),
        ({**VIDEO, "model": "nope"}, 404, "model_not_found"),
    ],
)
def test_nested_error_style(xai_emulator, body, status, code):
    answer = call(xai_emulator, "POST", "/v1/videos/generations", body)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "code"}
    assert error["code"] == code


@pytest.mark.xai_emulator(xai_retired_alias=True)
def test_retired_model_can_be_answered_by_2_0(xai_emulator):
    body = {**IMAGE, "model": "grok-imagine-image-quality"}
    assert call(xai_emulator, "POST", "/v1/images/generations", body).status_code == 200
    assert xai_emulator.tasks()[0]["body"]["model"] == "grok-imagine-image-2.0"
    assert xai_emulator.tasks()[0]["body"]["quality"] == "low"
