"""The pure protocol: request building and validation, statuses, task states, outcomes and HTTP errors."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import json

import pytest

from airflow_provider_xai import protocol
from airflow_provider_xai.exceptions import (
    XaiAuthError,
    XaiError,
    XaiHttpError,
    XaiInvalidRequestError,
    XaiNoMediaError,
    XaiNotFoundError,
    XaiRateLimitedError,
    XaiServiceError,
    XaiTaskFailedError,
    XaiTransientError,
)
from airflow_provider_xai.protocol import (
    IMAGE_MODEL,
    IMAGES_PATH,
    LIMITS,
    VIDEO_MODEL,
    VIDEOS_PATH,
    Outcome,
    TaskState,
    TaskStatus,
    build_image_request,
    build_video_request,
    classify_http_error,
    extract_media_urls,
    failure_of,
    outcome_of,
    parse_retry_after,
    parse_task_id,
    unknown_status_warning,
)

API_KEY = "sk-test-SECRET-0123456789"
URL = "https://cdn.example.com/ref.png"
URL2 = "https://cdn.example.com/other.png"
PROMPT = "a red fox in the snow"

BUILDERS = [
    pytest.param(build_image_request, id="image"),
    pytest.param(build_video_request, id="video"),
]


# --------------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------------
def test_limits_table_matches_the_contract():
    assert LIMITS.prompt_max_chars == 1000
    assert LIMITS.aspect_ratios == ("1:1", "2:3", "3:2", "9:16", "16:9")
    assert LIMITS.durations == (6, 10, 15)
    assert LIMITS.resolutions == ("480P", "720P")
    assert LIMITS.max_reference_images == 1
    assert (IMAGE_MODEL, VIDEO_MODEL) == ("grok-imagine-image", "grok-imagine-video")
    assert (IMAGES_PATH, VIDEOS_PATH, protocol.TASKS_PATH) == ("/xai/images", "/xai/videos", "/xai/tasks")


# --------------------------------------------------------------------------------------------------
# Bad inputs: every one is refused before anything is sent
# --------------------------------------------------------------------------------------------------
PROMPT_ALLOWED = "a non-empty string of at most 1000 characters"
RATIO_ALLOWED = "one of '1:1', '2:3', '3:2', '9:16', '16:9'"
URL_ALLOWED = "one absolute http or https URL of a reference image"
DURATION_ALLOWED = "one of 6, 10, 15"
RESOLUTION_ALLOWED = "one of '480P', '720P'"

BAD_COMMON = [
    # prompt
    pytest.param("prompt", None, PROMPT_ALLOWED, id="prompt-None"),
    pytest.param("prompt", "", PROMPT_ALLOWED, id="prompt-empty"),
    pytest.param("prompt", "   ", PROMPT_ALLOWED, id="prompt-blank"),
    pytest.param("prompt", "\n\t", PROMPT_ALLOWED, id="prompt-whitespace"),
    pytest.param("prompt", "x" * 1001, PROMPT_ALLOWED, id="prompt-1001-chars"),
    pytest.param("prompt", 42, PROMPT_ALLOWED, id="prompt-int"),
    pytest.param("prompt", b"bytes", PROMPT_ALLOWED, id="prompt-bytes"),
    pytest.param("prompt", ["a fox"], PROMPT_ALLOWED, id="prompt-list"),
    # aspect_ratio
    pytest.param("aspect_ratio", "4:3", RATIO_ALLOWED, id="aspect_ratio-4:3"),
    pytest.param("aspect_ratio", "16x9", RATIO_ALLOWED, id="aspect_ratio-16x9"),
    pytest.param("aspect_ratio", "", RATIO_ALLOWED, id="aspect_ratio-empty"),
    pytest.param("aspect_ratio", 1, RATIO_ALLOWED, id="aspect_ratio-int"),
    pytest.param("aspect_ratio", " 16:9", RATIO_ALLOWED, id="aspect_ratio-leading-space"),
    # image_url
    pytest.param("image_url", "file:///x.png", URL_ALLOWED, id="image_url-file-scheme"),
    pytest.param("image_url", "not a url", URL_ALLOWED, id="image_url-not-a-url"),
    pytest.param("image_url", "ftp://h/x", URL_ALLOWED, id="image_url-ftp"),
    pytest.param("image_url", "", URL_ALLOWED, id="image_url-empty"),
    pytest.param("image_url", [URL, URL2], URL_ALLOWED, id="image_url-two-urls"),
    pytest.param("image_url", [], URL_ALLOWED, id="image_url-empty-list"),
    pytest.param("image_url", "http:// space", URL_ALLOWED, id="image_url-space"),
    pytest.param("image_url", "https://", URL_ALLOWED, id="image_url-no-host"),
    pytest.param("image_url", "/tmp/x.png", URL_ALLOWED, id="image_url-local-path"),
    pytest.param("image_url", "https://[::1", URL_ALLOWED, id="image_url-unparsable"),
    pytest.param("image_url", 123, URL_ALLOWED, id="image_url-int"),
]
BAD_VIDEO_ONLY = [
    # duration
    pytest.param("duration", "7", DURATION_ALLOWED, id="duration-string-7"),
    pytest.param("duration", "10.0", DURATION_ALLOWED, id="duration-string-10.0"),
    pytest.param("duration", 7, DURATION_ALLOWED, id="duration-7"),
    pytest.param("duration", 0, DURATION_ALLOWED, id="duration-0"),
    pytest.param("duration", -6, DURATION_ALLOWED, id="duration-negative"),
    pytest.param("duration", True, DURATION_ALLOWED, id="duration-True"),
    pytest.param("duration", 6.5, DURATION_ALLOWED, id="duration-6.5"),
    pytest.param("duration", "six", DURATION_ALLOWED, id="duration-six"),
    pytest.param("duration", 12, DURATION_ALLOWED, id="duration-12-other-doc-copy"),
    pytest.param("duration", float("nan"), DURATION_ALLOWED, id="duration-nan"),
    pytest.param("duration", dt.timedelta(seconds=7), DURATION_ALLOWED, id="duration-timedelta-7s"),
    # resolution
    pytest.param("resolution", "1080P", RESOLUTION_ALLOWED, id="resolution-1080P"),
    pytest.param("resolution", "720", RESOLUTION_ALLOWED, id="resolution-720"),
    pytest.param("resolution", "", RESOLUTION_ALLOWED, id="resolution-empty"),
    pytest.param("resolution", 720, RESOLUTION_ALLOWED, id="resolution-int"),
    pytest.param("resolution", "720px", RESOLUTION_ALLOWED, id="resolution-720px"),
]


def _call(builder, parameter, value):
    kwargs = {"prompt": PROMPT}
    kwargs[parameter] = value
    prompt = kwargs.pop("prompt")
    return builder(prompt, **kwargs)


def _assert_invalid(excinfo, parameter, value, allowed):
    err = excinfo.value
    message = str(err)
    assert isinstance(err, ValueError)
    assert err.parameter == parameter
    assert err.value is value
    assert message.startswith(f"Invalid {parameter}: ")
    if isinstance(value, str) and len(value) > 80:
        assert f"({len(value)} characters)" in message
    else:
        assert repr(value) in message
    assert allowed in message
    assert "Nothing was sent" in message


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize(("parameter", "value", "allowed"), BAD_COMMON)
def test_bad_common_input_is_refused(builder, parameter, value, allowed):
    with pytest.raises(XaiInvalidRequestError) as excinfo:
        _call(builder, parameter, value)
    _assert_invalid(excinfo, parameter, value, allowed)


@pytest.mark.parametrize(("parameter", "value", "allowed"), BAD_VIDEO_ONLY)
def test_bad_video_input_is_refused(parameter, value, allowed):
    with pytest.raises(XaiInvalidRequestError) as excinfo:
        _call(build_video_request, parameter, value)
    _assert_invalid(excinfo, parameter, value, allowed)


@pytest.mark.parametrize("rendered", ["10", " 10 ", "6", "15"])
def test_a_rendered_whole_number_duration_is_sent_as_a_number(rendered):
    assert build_video_request(PROMPT, duration=rendered).body["duration"] == int(rendered)


def test_resolution_message_says_lower_case_is_accepted():
    with pytest.raises(XaiInvalidRequestError, match="lower-case p is accepted"):
        build_video_request(PROMPT, resolution="1080p")


def test_image_url_message_says_how_many_are_taken():
    with pytest.raises(XaiInvalidRequestError, match=r"takes at most 1\)"):
        build_image_request(PROMPT, image_url=[URL, URL2])


def test_image_builder_takes_no_video_parameters():
    with pytest.raises(TypeError):
        build_image_request(PROMPT, duration=6)  # type: ignore[call-arg]


# --------------------------------------------------------------------------------------------------
# Good inputs: exactly the body the contract wants
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "body", "n_warnings"),
    [
        pytest.param({}, {"prompt": PROMPT, "model": IMAGE_MODEL}, 0, id="text-only"),
        pytest.param(
            {"aspect_ratio": "16:9"},
            {"prompt": PROMPT, "model": IMAGE_MODEL, "aspectRatio": "16:9"},
            0,
            id="aspect-16:9",
        ),
        pytest.param(
            {"image_url": URL}, {"prompt": PROMPT, "model": IMAGE_MODEL, "images": [URL]}, 0, id="reference"
        ),
        pytest.param(
            {"image_url": [URL]},
            {"prompt": PROMPT, "model": IMAGE_MODEL, "images": [URL]},
            0,
            id="reference-one-element-list",
        ),
        pytest.param(
            {"image_url": (URL,)},
            {"prompt": PROMPT, "model": IMAGE_MODEL, "images": [URL]},
            0,
            id="reference-one-element-tuple",
        ),
        pytest.param(
            {"image_url": URL, "aspect_ratio": "1:1"},
            {"prompt": PROMPT, "model": IMAGE_MODEL, "images": [URL]},
            1,
            id="reference-drops-aspect",
        ),
    ],
)
def test_image_request_body(kwargs, body, n_warnings):
    request = build_image_request(PROMPT, **kwargs)
    assert request.path == IMAGES_PATH
    assert request.model == IMAGE_MODEL
    assert request.body == body
    assert len(request.warnings) == n_warnings


@pytest.mark.parametrize(
    ("kwargs", "body", "n_warnings"),
    [
        pytest.param({}, {"prompt": PROMPT, "model": VIDEO_MODEL}, 0, id="text-only"),
        pytest.param(
            {"duration": 10, "aspect_ratio": "9:16", "resolution": "480p"},
            {
                "prompt": PROMPT,
                "model": VIDEO_MODEL,
                "duration": 10,
                "aspectRatio": "9:16",
                "resolution": "480P",
            },
            0,
            id="all-text-params",
        ),
        pytest.param(
            {"duration": 6.0}, {"prompt": PROMPT, "model": VIDEO_MODEL, "duration": 6}, 0, id="6.0-becomes-6"
        ),
        pytest.param(
            {"duration": dt.timedelta(seconds=15)},
            {"prompt": PROMPT, "model": VIDEO_MODEL, "duration": 15},
            0,
            id="timedelta-15s",
        ),
        pytest.param(
            {"resolution": "720p"},
            {"prompt": PROMPT, "model": VIDEO_MODEL, "resolution": "720P"},
            0,
            id="720p-upper-cased",
        ),
        pytest.param(
            {"image_url": URL, "duration": 15},
            {"prompt": PROMPT, "model": VIDEO_MODEL, "duration": 15, "images": [URL]},
            0,
            id="reference-keeps-duration",
        ),
        pytest.param(
            {"image_url": [URL], "aspect_ratio": "16:9", "resolution": "720P"},
            {"prompt": PROMPT, "model": VIDEO_MODEL, "images": [URL]},
            2,
            id="reference-drops-aspect-and-resolution",
        ),
        pytest.param(
            {"image_url": URL, "resolution": "480p"},
            {"prompt": PROMPT, "model": VIDEO_MODEL, "images": [URL]},
            1,
            id="reference-drops-resolution",
        ),
    ],
)
def test_video_request_body(kwargs, body, n_warnings):
    request = build_video_request(PROMPT, **kwargs)
    assert request.path == VIDEOS_PATH
    assert request.model == VIDEO_MODEL
    assert request.body == body
    assert len(request.warnings) == n_warnings


def _expected_body(model, image_url, aspect_ratio, duration=None, resolution=None):
    body = {"prompt": PROMPT, "model": model}
    if duration is not None:
        body["duration"] = int(duration)
    if image_url is not None:
        body["images"] = [URL]
    else:
        if aspect_ratio is not None:
            body["aspectRatio"] = aspect_ratio
        if resolution is not None:
            body["resolution"] = resolution.upper()
    return body


IMAGE_URLS = [None, URL, [URL]]
RATIOS = [None, *LIMITS.aspect_ratios]
DURATIONS = [None, 6, 10, 15, 6.0, 10.0, 15.0]
RESOLUTIONS = [None, "480p", "720p", "480P", "720P"]


@pytest.mark.parametrize(
    ("image_url", "aspect_ratio"),
    list(itertools.product(IMAGE_URLS, RATIOS)),
    ids=lambda v: "list-url" if isinstance(v, list) else str(v),
)
def test_every_valid_image_combination(image_url, aspect_ratio):
    request = build_image_request(PROMPT, aspect_ratio=aspect_ratio, image_url=image_url)
    assert request.body == _expected_body(IMAGE_MODEL, image_url, aspect_ratio)
    assert json.loads(json.dumps(request.body)) == request.body
    ignored = image_url is not None and aspect_ratio is not None
    assert len(request.warnings) == int(ignored)


@pytest.mark.parametrize(
    ("image_url", "aspect_ratio"),
    list(itertools.product(IMAGE_URLS, RATIOS)),
    ids=lambda v: "list-url" if isinstance(v, list) else str(v),
)
def test_every_valid_video_combination(image_url, aspect_ratio):
    # durations x resolutions are looped here (35 cases each) to keep the suite fast
    for duration, resolution in itertools.product(DURATIONS, RESOLUTIONS):
        case = f"duration={duration!r}, resolution={resolution!r}"
        request = build_video_request(
            PROMPT, duration=duration, aspect_ratio=aspect_ratio, resolution=resolution, image_url=image_url
        )
        expected = _expected_body(VIDEO_MODEL, image_url, aspect_ratio, duration, resolution)
        assert request.body == expected, case
        if "duration" in request.body:
            assert type(request.body["duration"]) is int, case
        assert json.loads(json.dumps(request.body)) == request.body, case
        ignored = 0 if image_url is None else (aspect_ratio is not None) + (resolution is not None)
        assert len(request.warnings) == ignored, case


def test_reference_warnings_name_the_dropped_parameter():
    request = build_video_request(PROMPT, image_url=URL, aspect_ratio="3:2", resolution="480p")
    aspect, resolution = request.warnings
    assert "aspect_ratio='3:2'" in aspect
    assert "resolution='480P'" in resolution
    for warning in request.warnings:
        assert "no effect with a reference image" in warning
        assert "not sent" in warning
    (image_warning,) = build_image_request(PROMPT, image_url=URL, aspect_ratio="2:3").warnings
    assert "aspect_ratio='2:3'" in image_warning
    assert "reference image's size" in image_warning


@pytest.mark.parametrize(
    "prompt",
    [
        pytest.param("x", id="1-char"),
        pytest.param("x" * 1000, id="1000-chars"),
        pytest.param("  padded  ", id="padded-kept-as-is"),
        pytest.param("émoji 🦊 ünïcode", id="unicode"),
    ],
)
@pytest.mark.parametrize("builder", BUILDERS)
def test_valid_prompts_are_sent_unchanged(builder, prompt):
    assert builder(prompt).body["prompt"] == prompt


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:8089/x.png", id="http-local"),
        pytest.param("HTTPS://CDN.EXAMPLE.COM/A.JPG", id="upper-case-scheme"),
        pytest.param("https://cdn.example.com/a.jpg?sig=abc&exp=1", id="query-string"),
    ],
)
def test_valid_reference_urls(url):
    assert build_image_request(PROMPT, image_url=url).body["images"] == [url]


# --------------------------------------------------------------------------------------------------
# Statuses
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "terminal", "success"),
    [
        pytest.param(TaskStatus.PENDING, False, False, id="pending"),
        pytest.param(TaskStatus.READY, False, False, id="ready"),
        pytest.param(TaskStatus.ASSIGNED, False, False, id="assigned"),
        pytest.param(TaskStatus.PROCESSING, False, False, id="processing"),
        pytest.param(TaskStatus.COMPLETED, True, True, id="completed"),
        pytest.param(TaskStatus.FAILED, True, False, id="failed"),
        pytest.param(TaskStatus.CANCELLED, True, False, id="cancelled"),
        pytest.param(TaskStatus.TIMEOUT, True, False, id="timeout"),
        pytest.param(TaskStatus.EXPIRED, True, False, id="expired"),
    ],
)
def test_status_table(status, terminal, success):
    assert status.is_terminal is terminal
    assert status.is_success is success


def test_status_table_covers_the_contract():
    assert {s.value for s in TaskStatus} == {
        "pending",
        "ready",
        "assigned",
        "processing",
        "completed",
        "failed",
        "cancelled",
        "timeout",
        "expired",  # xAI's API (a video request that expired); shared by both dialects
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("completed", TaskStatus.COMPLETED, id="lower"),
        pytest.param("COMPLETED", TaskStatus.COMPLETED, id="upper"),
        pytest.param("Processing", TaskStatus.PROCESSING, id="title"),
        pytest.param("  failed\n", TaskStatus.FAILED, id="padded"),
        pytest.param("TimeOut", TaskStatus.TIMEOUT, id="mixed-case"),
        pytest.param("queued", None, id="unknown-queued"),
        pytest.param("canceled", None, id="unknown-us-spelling"),
        pytest.param("success", None, id="unknown-success"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="None"),
        pytest.param(3, None, id="int"),
    ],
)
def test_status_parse(raw, expected):
    assert TaskStatus.parse(raw) is expected


def test_status_parse_accepts_its_own_members():
    assert [TaskStatus.parse(s) for s in TaskStatus] == list(TaskStatus)


# --------------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------------
MEDIA_RESULT = {"data": [{"url": "https://cdn.example.com/a.jpeg", "revised_prompt": "a fox"}]}
NO_MEDIA_RESULT = {"respect_moderation": False, "model": "grok-imagine-image"}


def _state(status, result=None, **kwargs):
    return TaskState(
        xai_task_id=kwargs.pop("xai_task_id", "task-1"),
        status=status,
        result=result,
        media_urls=extract_media_urls(result),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("status", "result", "outcome"),
    [
        pytest.param("pending", None, Outcome.WAIT, id="pending"),
        pytest.param("ready", None, Outcome.WAIT, id="ready"),
        pytest.param("assigned", None, Outcome.WAIT, id="assigned"),
        pytest.param("processing", None, Outcome.WAIT, id="processing"),
        pytest.param("processing", MEDIA_RESULT, Outcome.WAIT, id="processing-with-early-media"),
        pytest.param("completed", MEDIA_RESULT, Outcome.SUCCESS, id="completed-with-media"),
        pytest.param("completed", NO_MEDIA_RESULT, Outcome.FAILURE, id="completed-without-media"),
        pytest.param("completed", None, Outcome.FAILURE, id="completed-null-result"),
        pytest.param("completed", {}, Outcome.FAILURE, id="completed-empty-result"),
        pytest.param("failed", None, Outcome.FAILURE, id="failed"),
        pytest.param("failed", MEDIA_RESULT, Outcome.FAILURE, id="failed-with-media"),
        pytest.param("cancelled", None, Outcome.FAILURE, id="cancelled"),
        pytest.param("timeout", None, Outcome.FAILURE, id="timeout"),
        pytest.param("queued", None, Outcome.WAIT, id="unknown-status"),
        pytest.param("", None, Outcome.WAIT, id="empty-status"),
    ],
)
def test_outcome_of_every_status(status, result, outcome):
    assert outcome_of(_state(status, result)) is outcome


@pytest.mark.parametrize(
    "status", ["pending", "ready", "assigned", "processing", "completed", "failed", "cancelled", "timeout"]
)
def test_known_statuses_give_no_unknown_warning(status):
    assert unknown_status_warning(_state(status)) is None


@pytest.mark.parametrize("status", ["queued", "paused", "", "succeeded"])
def test_unknown_status_warning(status):
    state = _state(status, xai_task_id="abc")
    warning = unknown_status_warning(state)
    assert warning is not None
    assert "abc" in warning
    assert repr(status) in warning
    assert "timeout" in warning


@pytest.mark.parametrize(
    ("result", "keys"),
    [
        pytest.param(NO_MEDIA_RESULT, ["model", "respect_moderation"], id="moderated"),
        pytest.param({"data": []}, ["data"], id="empty-data"),
        pytest.param({"video": {"url": ""}}, ["video"], id="empty-url"),
        pytest.param({}, [], id="empty-object"),
    ],
)
def test_completed_without_media_fails_clearly(result, keys):
    state = _state("completed", result, trace_id="trace-9", xai_task_id="t-42")
    assert outcome_of(state) is Outcome.FAILURE
    err = failure_of(state)
    assert isinstance(err, XaiNoMediaError)
    message = str(err)
    assert "completed without media" in message
    assert str(keys) in message
    assert "t-42" in message
    assert "trace-9" in message
    assert err.result_keys == keys
    assert err.xai_task_id == "t-42"


@pytest.mark.parametrize("result", [None, "a string", ["x"]], ids=["None", "string", "list"])
def test_completed_with_non_object_result_fails_clearly(result):
    err = failure_of(_state("completed", result))
    assert isinstance(err, XaiNoMediaError)
    assert "completed without media" in str(err)
    assert type(result).__name__ in str(err)
    assert err.result_keys == []


@pytest.mark.parametrize("status", ["failed", "cancelled", "timeout", "FAILED"])
def test_failed_statuses_name_everything(status):
    state = _state(
        status, error_code=4001, error_message="blocked by moderation", trace_id="trace-7", xai_task_id="t-9"
    )
    assert outcome_of(state) is Outcome.FAILURE
    err = failure_of(state)
    assert isinstance(err, XaiTaskFailedError)
    message = str(err)
    for fragment in (repr(status), "errorCode=4001", "'blocked by moderation'", "traceId=trace-7", "t-9"):
        assert fragment in message
    assert (err.status, err.error_code, err.error_message, err.trace_id, err.xai_task_id) == (
        status,
        4001,
        "blocked by moderation",
        "trace-7",
        "t-9",
    )


def test_failed_status_without_details_still_says_so():
    message = str(failure_of(_state("timeout")))
    assert "'timeout'" in message
    assert "errorCode=None" in message
    assert "traceId=None" in message


# --------------------------------------------------------------------------------------------------
# Media URLs
# --------------------------------------------------------------------------------------------------
A = "https://cdn.example.com/a.jpeg"
B = "https://cdn.example.com/b.jpeg"
V = "https://vidgen.example.com/v.mp4"


def _nest(value, depth):
    for i in range(depth):
        value = {"level": value} if i % 2 else [value]
    return value


@pytest.mark.parametrize(
    ("result", "urls"),
    [
        pytest.param({"data": [{"url": A, "revised_prompt": "a fox"}]}, (A,), id="images-data-list"),
        pytest.param(
            {"data": [{"url": A}, {"url": B}]},
            (A, B),
            id="images-two",
        ),
        pytest.param(
            {"video": {"url": V, "duration": 6}, "model": "grok-imagine-video"}, (V,), id="video-object"
        ),
        pytest.param({"url": A}, (A,), id="flat-url"),
        pytest.param({"urls": [A, B]}, (A, B), id="flat-urls"),
        pytest.param({"imageUrl": A}, (A,), id="flat-imageUrl"),
        pytest.param({"videoUrl": V}, (V,), id="flat-videoUrl"),
        pytest.param(
            {"url": "http://127.0.0.1:8089/media/x.png"}, ("http://127.0.0.1:8089/media/x.png",), id="http"
        ),
        pytest.param(_nest({"url": A}, 20), (A,), id="deeply-nested"),
        pytest.param({"a": {"b": [{"c": [[{"d": V}]]}]}}, (V,), id="mixed-nesting"),
        pytest.param({"urls": [A, B, A], "data": [{"url": B}], "url": A}, (A, B), id="duplicates-ordered"),
        pytest.param({"urls": [B, A]}, (B, A), id="order-kept"),
        pytest.param(
            {"model": "grok", "revised_prompt": "a fox at https sunset", "id": "abc", "n": 6, "ok": True},
            (),
            id="non-url-strings",
        ),
        pytest.param(
            {"url": "file:///tmp/a.png", "other": "ftp://h/x", "p": "/rel/a.png", "s": "https://x y"},
            (),
            id="non-http-urls",
        ),
        pytest.param({"respect_moderation": False}, (), id="moderated"),
        pytest.param(None, (), id="None"),
        pytest.param({}, (), id="empty-object"),
        pytest.param([], (), id="empty-list"),
        pytest.param("", (), id="empty-string"),
        pytest.param(A, (A,), id="bare-string"),
        pytest.param([A, {"url": B}], (A, B), id="bare-list"),
        pytest.param({A: "key-is-not-a-value"}, (), id="url-as-key-ignored"),
    ],
)
def test_extract_media_urls(result, urls):
    assert extract_media_urls(result) == urls


# --------------------------------------------------------------------------------------------------
# TaskState
# --------------------------------------------------------------------------------------------------
STATUS_ANSWER = {
    "taskId": "task-1",
    "status": "completed",
    "result": {"video": {"url": V, "duration": 6}, "model": "grok-imagine-video"},
    "createdAt": "2025-01-01T00:00:00Z",
    "finishedAt": "2025-01-01T00:01:00Z",
    "traceId": "trace-inner",
}
EXPECTED_STATE = TaskState(
    xai_task_id="task-1",
    status="completed",
    result=STATUS_ANSWER["result"],
    media_urls=(V,),
    trace_id="trace-inner",
    created_at="2025-01-01T00:00:00Z",
    finished_at="2025-01-01T00:01:00Z",
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(STATUS_ANSWER, id="bare"),
        pytest.param({"code": 200, "message": "ok", "data": STATUS_ANSWER, "traceId": "t"}, id="enveloped"),
        pytest.param({"code": 200, "data": STATUS_ANSWER}, id="enveloped-code-only"),
        pytest.param({"message": "ok", "data": STATUS_ANSWER}, id="enveloped-message-only"),
    ],
)
def test_task_state_from_response(body):
    assert TaskState.from_response(body, "task-1") == EXPECTED_STATE


def test_task_state_takes_the_envelope_trace_id_when_the_payload_has_none():
    inner = {k: v for k, v in STATUS_ANSWER.items() if k != "traceId"}
    state = TaskState.from_response({"code": 200, "message": "ok", "data": inner, "traceId": "t"}, "task-1")
    assert state.trace_id == "t"


def test_task_state_failed_answer():
    body = {
        "taskId": "task-2",
        "status": "FAILED",
        "result": None,
        "errorMessage": "content policy",
        "errorCode": 4001,
        "createdAt": "2025-01-01T00:00:00Z",
    }
    state = TaskState.from_response(body, "task-2")
    assert state.status == "failed"
    assert state.known_status is TaskStatus.FAILED
    assert state.is_terminal
    assert (state.error_message, state.error_code, state.media_urls) == ("content policy", 4001, ())
    assert state.finished_at is None


def test_task_state_minimal_answer_falls_back_to_the_asked_id():
    state = TaskState.from_response({"status": "processing"}, "asked-id")
    assert state.xai_task_id == "asked-id"
    assert state.known_status is TaskStatus.PROCESSING
    assert not state.is_terminal
    assert (state.result, state.media_urls, state.trace_id) == (None, (), None)


def test_task_state_without_status_is_unknown_and_not_terminal():
    state = TaskState.from_response({"taskId": "x"}, "x")
    assert state.status == ""
    assert state.known_status is None
    assert not state.is_terminal


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="None"),
        pytest.param([STATUS_ANSWER], id="list"),
        pytest.param("<html>oops</html>", id="string"),
        pytest.param({"code": 500, "message": "boom", "data": None}, id="envelope-without-data"),
    ],
)
def test_task_state_from_non_object_answer_raises(body):
    with pytest.raises(XaiError, match="task-1 is not a JSON object"):
        TaskState.from_response(body, "task-1")


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(EXPECTED_STATE, id="completed-video"),
        pytest.param(TaskState("t", "processing"), id="minimal"),
        pytest.param(
            TaskState("t", "failed", None, (), "policy", 4001, "tr", "2025-01-01T00:00:00Z", None),
            id="failed",
        ),
        pytest.param(_state("completed", {"urls": [A, B]}), id="two-urls"),
    ],
)
def test_task_state_event_round_trip(state):
    event = state.to_event()
    wire = json.loads(json.dumps(event))
    assert wire == event
    assert isinstance(event["media_urls"], list)
    assert TaskState.from_event(wire) == state
    assert TaskState.from_event(event) == state


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(None, id="None"),
        pytest.param("task-1", id="string"),
        pytest.param({}, id="empty"),
        pytest.param({"status": "completed"}, id="no-task-id"),
        pytest.param({"xai_task_id": "", "status": "completed"}, id="empty-task-id"),
    ],
)
def test_task_state_from_bad_event_raises(data):
    with pytest.raises(XaiError, match="Malformed task state"):
        TaskState.from_event(data)


# --------------------------------------------------------------------------------------------------
# Creation answers
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "task_id"),
    [
        pytest.param({"taskId": "abc"}, "abc", id="bare"),
        pytest.param(
            {"code": 200, "message": "ok", "data": {"taskId": "abc"}, "traceId": "t"}, "abc", id="env"
        ),
        pytest.param({"code": 201, "data": {"taskId": "abc"}}, "abc", id="envelope-201"),
        pytest.param({"taskId": 123}, "123", id="numeric-id"),
        pytest.param({"taskId": "abc", "extra": 1}, "abc", id="extra-fields"),
    ],
)
def test_parse_task_id(body, task_id):
    assert parse_task_id(body) == task_id


@pytest.mark.parametrize(
    ("body", "seen"),
    [
        pytest.param({}, "[]", id="empty-object"),
        pytest.param({"id": "abc"}, "['id']", id="other-key"),
        pytest.param({"taskId": ""}, "['taskId']", id="empty-id"),
        pytest.param({"taskId": None}, "['taskId']", id="null-id"),
        pytest.param({"taskId": True}, "['taskId']", id="bool-id"),
        pytest.param({"taskId": ["a"]}, "['taskId']", id="list-id"),
        pytest.param({"code": 200, "message": "ok", "data": {}}, "[]", id="envelope-empty-data"),
        pytest.param(
            {"code": 429, "message": "slow down", "data": None}, "NoneType", id="envelope-null-data"
        ),
        pytest.param(None, "NoneType", id="None"),
        pytest.param("abc", "str", id="string"),
        pytest.param(["abc"], "list", id="list"),
    ],
)
def test_parse_task_id_missing_raises(body, seen):
    with pytest.raises(XaiError, match="holds no taskId") as excinfo:
        parse_task_id(body)
    assert seen in str(excinfo.value)


# --------------------------------------------------------------------------------------------------
# HTTP errors
# --------------------------------------------------------------------------------------------------
HTML_PAGE = (
    "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
    + "<center><h1>502 Bad Gateway</h1></center>\n" * 40
    + "<hr><center>nginx</center>\n</body>\n</html>\n"
)
WHAT = "GET /xai/tasks for task abc"


@pytest.mark.parametrize(
    ("code", "body", "cls", "transient", "fragments"),
    [
        pytest.param(
            400,
            '{"message": "prompt too long"}',
            XaiHttpError,
            False,
            ["refused", "(400)", "prompt too long", WHAT],
            id="400-json",
        ),
        pytest.param(
            401,
            '{"message": "Invalid API key"}',
            XaiAuthError,
            False,
            ["rejected the API key", "(401)", "'my_xai'", "Invalid API key"],
            id="401",
        ),
        pytest.param(
            403,
            '{"message": "insufficient balance"}',
            XaiAuthError,
            False,
            ["refused access", "no balance", "(403)", "'my_xai'", "insufficient balance"],
            id="403",
        ),
        pytest.param(
            404,
            '{"message": "task not found"}',
            XaiNotFoundError,
            False,
            ["(404)", "task not found"],
            id="404",
        ),
        pytest.param(409, "conflict", XaiHttpError, False, ["(409)", "conflict"], id="409-text"),
        pytest.param(
            429,
            '{"message": "too many requests"}',
            XaiRateLimitedError,
            True,
            ["(429)", "too many requests"],
            id="429",
        ),
        pytest.param(500, "", XaiServiceError, True, ["(500)", "(empty body)"], id="500-empty"),
        pytest.param(500, None, XaiServiceError, True, ["(500)", "(empty body)"], id="500-none"),
        pytest.param(
            502,
            HTML_PAGE,
            XaiServiceError,
            True,
            ["(502)", "<html> <head><title>502 Bad Gateway"],
            id="502-html",
        ),
        pytest.param(
            503,
            '{"message": "service overloaded", "code": 503}',
            XaiServiceError,
            True,
            ["(503)", "service overloaded"],
            id="503-json",
        ),
        pytest.param(
            504, '{"error": "upstream timeout"}', XaiServiceError, True, ["upstream timeout"], id="504"
        ),
    ],
)
def test_classify_http_error(code, body, cls, transient, fragments):
    err = classify_http_error(code, body, what=WHAT, conn_id="my_xai")
    assert type(err) is cls
    assert isinstance(err, XaiTransientError) is transient
    assert getattr(err, "status_code", 429) == code
    message = str(err)
    for fragment in fragments:
        assert fragment in message
    assert WHAT in message
    assert API_KEY not in message


@pytest.mark.parametrize("code", [401, 403])
def test_auth_errors_name_the_connection_and_never_a_key(code):
    err = classify_http_error(code, '{"message": "bad key"}', what="POST /xai/images", conn_id="xai_prod")
    assert isinstance(err, XaiAuthError)
    assert err.status_code == code
    message = str(err)
    assert "'xai_prod'" in message
    assert "password" in message
    assert "Bearer" not in message
    assert API_KEY not in message


def test_html_error_page_is_shown_as_short_text():
    err = classify_http_error(502, HTML_PAGE, what=WHAT, conn_id="c")
    message = str(err)
    assert len(message) < 450
    assert "\n" not in message
    assert message.endswith("...")
    assert "nginx" not in message  # the end of the page is not shown
    assert "b'" not in message


def test_long_json_message_is_cut():
    err = classify_http_error(503, json.dumps({"message": "m" * 5000}), what=WHAT, conn_id="c")
    assert len(str(err)) < 450


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, None, id="no-header"),
        pytest.param("7", 7.0, id="seconds"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("garbage", None, id="garbage"),
    ],
)
def test_rate_limited_error_carries_retry_after(header, expected):
    err = classify_http_error(429, "slow down", what=WHAT, conn_id="c", retry_after=header)
    assert isinstance(err, XaiRateLimitedError)
    assert err.retry_after == expected


def test_rate_limited_error_with_http_date():
    future = email.utils.format_datetime(
        dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1), usegmt=True
    )
    err = classify_http_error(429, "", what=WHAT, conn_id="c", retry_after=future)
    assert 3500 < err.retry_after <= 3600


def test_service_error_carries_retry_after():
    err = classify_http_error(503, "", what=WHAT, conn_id="c", retry_after="12")
    assert isinstance(err, XaiServiceError)
    assert err.retry_after == 12.0


NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("3", 3.0, id="3"),
        pytest.param("0", 0.0, id="0"),
        pytest.param(" 12 ", 12.0, id="padded"),
        pytest.param("1.5", 1.5, id="fraction"),
        pytest.param("-1", 0.0, id="negative-clamped"),
        pytest.param("garbage", None, id="garbage"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="None"),
        pytest.param("Sun, 01 Jun 2025 12:00:30 GMT", 30.0, id="date-30s-ahead"),
        pytest.param("Sun, 01 Jun 2025 13:00:00 GMT", 3600.0, id="date-1h-ahead"),
        pytest.param("Sun, 01 Jun 2025 11:59:00 GMT", 0.0, id="date-past"),
        pytest.param("Sun, 01 Jun 2025 12:00:00 GMT", 0.0, id="date-now"),
        pytest.param("Sun, 01 Jun 2025 14:00:00 +0200", 0.0, id="date-with-offset"),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_date_uses_the_clock_by_default():
    future = email.utils.format_datetime(
        dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=600), usegmt=True
    )
    assert 590 < parse_retry_after(future) <= 600


# --------------------------------------------------------------------------------------------------
# error_for_status and the uncertain-submission message
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "cls"),
    [
        pytest.param(401, XaiAuthError, id="401"),
        pytest.param(403, XaiAuthError, id="403"),
        pytest.param(404, XaiNotFoundError, id="404"),
        pytest.param(400, XaiHttpError, id="400"),
        pytest.param(None, XaiError, id="None"),
    ],
)
def test_error_for_status(code, cls):
    err = protocol.error_for_status(code, "the message")
    assert type(err) is cls
    assert str(err) == "the message"
    assert getattr(err, "status_code", None) == code


def test_uncertain_submission_message():
    message = protocol.uncertain_submission_message("POST /xai/videos", "read timed out")
    assert "POST /xai/videos" in message
    assert "read timed out" in message
    assert "may exist" in message
    assert "not resubmitted" in message
