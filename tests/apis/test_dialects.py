"""Each API's limits table: bodies built and parameters refused, naming parameter, value and API (pure)."""

from __future__ import annotations

import pytest

from airflow_provider_xai.apis import dialect_for
from airflow_provider_xai.apis.gateway import GatewayDialect
from airflow_provider_xai.apis.xai import LIMITS, XaiApiDialect, cost_usd
from airflow_provider_xai.exceptions import XaiError, XaiInvalidRequestError
from airflow_provider_xai.protocol import ImageParams, Outcome, VideoParams, failure_of, outcome_of

XAI = XaiApiDialect()
GATEWAY = GatewayDialect()
URL = "https://example.com/a.jpg"
URL2 = "https://example.com/b.jpg"
VIDEO = "https://example.com/v.mp4"


def test_dialect_for_names_both_apis_and_refuses_others():
    assert isinstance(dialect_for("xai"), XaiApiDialect)
    assert isinstance(dialect_for("gateway"), GatewayDialect)
    with pytest.raises(XaiError, match="Invalid connection extra api: 'openai'"):
        dialect_for("openai")


# --------------------------------------------------------------------------------------------------
# xAI: bodies
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "path", "body"),
    [
        pytest.param(
            ImageParams("a fox"),
            "/v1/images/generations",
            {"prompt": "a fox", "model": "grok-imagine-image", "response_format": "url"},
            id="defaults",
        ),
        pytest.param(
            ImageParams(
                "a fox",
                n="4",
                aspect_ratio="19.5:9",
                resolution="2K",
                model="grok-imagine-image-2.0",
                quality="high",
            ),
            "/v1/images/generations",
            {
                "prompt": "a fox",
                "model": "grok-imagine-image-2.0",
                "n": 4,
                "aspect_ratio": "19.5:9",
                "resolution": "2k",
                "quality": "high",
                "response_format": "url",
            },
            id="every-field",
        ),  # fmt: skip
        pytest.param(
            ImageParams("a fox", image_url=URL),
            "/v1/images/edits",
            {
                "prompt": "a fox",
                "model": "grok-imagine-image",
                "image": {"url": URL, "type": "image_url"},
                "response_format": "url",
            },
            id="edit-one-source",
        ),  # fmt: skip
        pytest.param(
            ImageParams("a fox", image_urls=[URL, URL2]),
            "/v1/images/edits",
            {
                "prompt": "a fox",
                "model": "grok-imagine-image",
                "response_format": "url",
                "images": [{"url": URL, "type": "image_url"}, {"url": URL2, "type": "image_url"}],
            },
            id="edit-two-sources",
        ),  # fmt: skip
        pytest.param(
            ImageParams("a fox", image_urls=["data:image/png;base64,iVBOR"]),
            "/v1/images/edits",
            {
                "prompt": "a fox",
                "model": "grok-imagine-image",
                "response_format": "url",
                "image": {"url": "data:image/png;base64,iVBOR", "type": "image_url"},
            },
            id="data-uri",
        ),  # fmt: skip
    ],
)
def test_xai_image_bodies(params, path, body):
    request = XAI.build_image(params)
    assert (request.path, request.body, request.synchronous, request.api) == (path, body, True, "xai")


@pytest.mark.parametrize(
    ("params", "path", "body", "delivery"),
    [
        pytest.param(
            VideoParams("waves"), "/v1/videos/generations",
            {"prompt": "waves", "model": "grok-imagine-video"}, "download", id="defaults",
        ),
        pytest.param(
            VideoParams("waves", duration="12", aspect_ratio="4:3", resolution="1080P",
                        model="grok-imagine-video-1.5", output_scheme="s3"),
            "/v1/videos/generations",
            {"prompt": "waves", "model": "grok-imagine-video-1.5", "duration": 12, "aspect_ratio": "4:3",
             "resolution": "1080p"},
            "upload", id="1080p-on-1.5-uploaded-to-s3",
        ),
        pytest.param(
            VideoParams("waves", reference_image_urls=[URL, URL2], duration=10),
            "/v1/videos/generations",
            {"prompt": "waves", "model": "grok-imagine-video", "duration": 10,
             "reference_images": [{"url": URL}, {"url": URL2}]},
            "download", id="reference-images",
        ),
        pytest.param(
            VideoParams("waves", image_url=URL, output_scheme="s3", delivery="download"),
            "/v1/videos/generations",
            {"prompt": "waves", "model": "grok-imagine-video", "image": {"url": URL}},
            "download", id="first-frame-download-forced",
        ),
        pytest.param(
            VideoParams("bluer", video_url=VIDEO, video_operation="edit"),
            "/v1/videos/edits", {"prompt": "bluer", "model": "grok-imagine-video", "video": {"url": VIDEO}},
            "download", id="edit",
        ),
        pytest.param(
            VideoParams("on", video_url=VIDEO, video_operation="extend", duration=10, output_scheme="s3"),
            "/v1/videos/extensions",
            {"prompt": "on", "model": "grok-imagine-video", "video": {"url": VIDEO}, "duration": 10},
            "upload", id="extend-uploaded",
        ),
        pytest.param(
            VideoParams("waves", output_scheme="file"), "/v1/videos/generations",
            {"prompt": "waves", "model": "grok-imagine-video"}, "download", id="auto-on-local-downloads",
        ),
    ],
)  # fmt: skip
def test_xai_video_bodies(params, path, body, delivery):
    request = XAI.build_video(params)
    assert (request.path, request.body, request.delivery, request.synchronous) == (
        path,
        body,
        delivery,
        False,
    )


def test_first_frame_drops_ratio_and_resolution_with_a_warning():
    request = XAI.build_video(VideoParams("waves", image_url=URL, aspect_ratio="1:1", resolution="720p"))
    assert "aspect_ratio" not in request.body and "resolution" not in request.body
    assert len(request.warnings) == 2 and all("not sent" in w for w in request.warnings)


# --------------------------------------------------------------------------------------------------
# refusals, both APIs: parameter, value, what is allowed, and the API
# --------------------------------------------------------------------------------------------------
XAI_BAD_IMAGES = [
    ("n", {"n": 11}, "1 to 10"),
    ("n", {"n": 0}, "1 to 10"),
    ("n", {"n": "two"}, "1 to 10"),
    ("model", {"model": "grok-imagine-image-quality"}, "retired on 2026-11-02"),
    ("model", {"model": "dall-e"}, "grok-imagine-image-2.0"),
    ("quality", {"quality": "high"}, "only on grok-imagine-image-2.0"),
    ("quality", {"quality": "ultra", "model": "grok-imagine-image-2.0"}, "'low', 'medium', 'high', 'auto'"),
    ("resolution", {"resolution": "4k"}, "'1k', '2k'"),
    ("aspect_ratio", {"aspect_ratio": "5:4"}, "'21:9'"),
    ("image_urls", {"image_urls": [URL] * 6}, "1 to 5"),
    ("image_urls", {"image_urls": [URL], "image_url": URL}, "not both"),
    ("image_urls", {"image_urls": ["file:///etc/passwd"]}, "http or https URL, or a data: URI"),
    ("prompt", {"prompt": "x" * 4097}, "at most 4096"),
]


@pytest.mark.parametrize(("parameter", "kwargs", "allowed"), XAI_BAD_IMAGES)
def test_xai_refuses_bad_image_parameters(parameter, kwargs, allowed):
    with pytest.raises(XaiInvalidRequestError) as err:
        XAI.build_image(ImageParams(**{"prompt": "a fox", **kwargs}))
    assert_invalid(err.value, parameter, allowed)


XAI_BAD_VIDEOS = [
    ("resolution", {"resolution": "1080p"}, "needs grok-imagine-video-1.5"),
    ("resolution", {"resolution": "4k", "model": "grok-imagine-video-1.5"}, "'1080p'"),
    ("duration", {"duration": 16}, "1 to 15"),
    ("duration", {"duration": "8.5"}, "1 to 15"),
    ("duration", {"duration": 11, "reference_image_urls": [URL]}, "at most 10 with reference images"),
    ("duration", {"duration": 11, "video_url": VIDEO, "video_operation": "extend"}, "2 to 10"),
    ("duration", {"duration": 1, "video_url": VIDEO, "video_operation": "extend"}, "2 to 10"),
    ("duration", {"duration": 5, "video_url": VIDEO, "video_operation": "edit"}, "keeps its input's length"),
    (
        "reference_image_urls",
        {"reference_image_urls": [URL], "image_url": URL},
        "not together with image_url",
    ),
    ("reference_image_urls", {"reference_image_urls": [URL] * 8}, "1 to 7"),
    ("video_operation", {"video_operation": "trim", "video_url": VIDEO}, "'edit', 'extend'"),
    ("video_operation", {"video_url": VIDEO}, "'edit' or 'extend'"),
    ("video_url", {"video_operation": "edit"}, "the URL of the video to edit"),
    ("image_url", {"video_url": VIDEO, "video_operation": "edit", "image_url": URL}, "follows the input"),
    ("aspect_ratio", {"aspect_ratio": "21:9"}, "'2:3'"),
    ("model", {"model": "grok-imagine-image"}, "grok-imagine-video-1.5"),
    ("delivery", {"delivery": "upload"}, "only with an output_path on S3"),
    ("delivery", {"delivery": "upload", "output_scheme": "file"}, "the task has an output_path on 'file'"),
    ("delivery", {"delivery": "email"}, "'auto', 'upload', 'download'"),
]


@pytest.mark.parametrize(("parameter", "kwargs", "allowed"), XAI_BAD_VIDEOS)
def test_xai_refuses_bad_video_parameters(parameter, kwargs, allowed):
    with pytest.raises(XaiInvalidRequestError) as err:
        XAI.build_video(VideoParams(**{"prompt": "waves", **kwargs}))
    assert_invalid(err.value, parameter, allowed)


GATEWAY_REFUSES = [
    ("image", "n", {"n": 2}),
    ("image", "resolution", {"resolution": "2k"}),
    ("image", "quality", {"quality": "high"}),
    ("image", "model", {"model": "grok-imagine-image-2.0"}),
    ("image", "image_urls", {"image_urls": [URL], "image_url": URL}),
    ("video", "video_operation", {"video_operation": "edit"}),
    ("video", "video_url", {"video_url": VIDEO}),
    ("video", "reference_image_urls", {"reference_image_urls": [URL]}),
    ("video", "model", {"model": "grok-imagine-video-1.5"}),
    ("video", "delivery", {"delivery": "upload", "output_scheme": "s3"}),
]


@pytest.mark.parametrize(("kind", "parameter", "kwargs"), GATEWAY_REFUSES)
def test_the_gateway_refuses_what_only_xai_supports(kind, parameter, kwargs):
    build, params = (
        (GATEWAY.build_image, ImageParams) if kind == "image" else (GATEWAY.build_video, VideoParams)
    )
    with pytest.raises(XaiInvalidRequestError) as err:
        build(params(prompt="a fox", **kwargs))
    assert err.value.parameter == parameter and err.value.api == "gateway"
    assert "the task gateway (api='gateway')" in str(err.value) and "Nothing was sent" in str(err.value)


def test_the_gateway_takes_one_source_from_image_urls_and_n_1():
    request = GATEWAY.build_image(ImageParams("a fox", image_urls=[URL], n=1))
    assert request.body == {"prompt": "a fox", "model": "grok-imagine-image", "images": [URL]}
    assert GATEWAY.build_video(VideoParams("waves", output_scheme="s3")).delivery == "download"


def assert_invalid(error, parameter, allowed):
    assert error.parameter == parameter
    message = str(error)
    assert f"Invalid {parameter}:" in message and allowed in message and "Nothing was sent" in message
    assert error.api == "xai" and "xAI's own API (api='xai')" in message


@pytest.mark.parametrize(
    ("build", "params", "parameter"),
    [
        (GATEWAY.build_image, ImageParams("a fox", aspect_ratio="4:3"), "aspect_ratio"),
        (GATEWAY.build_image, ImageParams("x" * 1001), "prompt"),
        (GATEWAY.build_video, VideoParams("waves", duration=8), "duration"),
        (GATEWAY.build_video, VideoParams("waves", resolution="1080p"), "resolution"),
    ],
)
def test_the_gateway_names_itself_in_its_own_limits(build, params, parameter):
    with pytest.raises(XaiInvalidRequestError) as err:
        build(params)
    assert err.value.parameter == parameter and "on the task gateway (api='gateway')" in str(err.value)


def test_limits_table_is_the_one_the_checks_read():
    # the validation reads the table: a request at each documented edge passes
    XAI.build_image(ImageParams("a", n=LIMITS.max_images, image_urls=[URL] * LIMITS.max_source_images))
    XAI.build_video(VideoParams("a", reference_image_urls=[URL] * LIMITS.max_reference_images, duration=10))
    XAI.build_video(VideoParams("a", duration=LIMITS.durations[1]))


# --------------------------------------------------------------------------------------------------
# xAI: answers onto the shared state
# --------------------------------------------------------------------------------------------------
DONE = {
    "status": "done",
    "video": {"url": VIDEO, "duration": 8, "respect_moderation": True},
    "model": "grok-imagine-video",
    "usage": {"cost_in_usd_ticks": 4_000_000_000},
    "progress": 100,
}


@pytest.mark.parametrize(
    ("body", "status", "outcome", "media", "error"),
    [
        pytest.param({"status": "pending", "progress": 40}, "pending", Outcome.WAIT, (), None, id="pending"),
        pytest.param(DONE, "completed", Outcome.SUCCESS, (VIDEO,), None, id="done"),
        pytest.param(
            {**DONE, "video": {"url": "", "respect_moderation": False}}, "failed", Outcome.FAILURE, (),
            "moderated", id="done-moderated",
        ),
        pytest.param(
            {"status": "failed", "error": {"code": "permission_denied", "message": "no"}}, "failed",
            Outcome.FAILURE, (), "permission_denied", id="failed",
        ),
        pytest.param({"status": "expired"}, "expired", Outcome.FAILURE, (), None, id="expired"),
        pytest.param({"status": "queued_upstream"}, "queued_upstream", Outcome.WAIT, (), None, id="unknown"),
        pytest.param({"status": "DONE", "video": {"url": VIDEO}}, "completed", Outcome.SUCCESS, (VIDEO,),
                     None, id="case-folded"),
    ],
)  # fmt: skip
def test_xai_video_statuses_map_onto_the_shared_outcomes(body, status, outcome, media, error):
    state = XAI.parse_state(body, "req-1")
    assert (state.status, outcome_of(state), state.media_urls, state.error_code) == (
        status,
        outcome,
        media,
        error,
    )
    assert state.api == "xai" and state.result == body


def test_a_done_video_without_url_succeeds_only_when_uploaded():
    state = XAI.parse_state({**DONE, "video": {"url": "", "respect_moderation": True}}, "req-1")
    assert outcome_of(state) is Outcome.FAILURE and outcome_of(state, uploaded=True) is Outcome.SUCCESS
    moderated = XAI.parse_state({**DONE, "video": {"url": "", "respect_moderation": False}}, "req-1")
    assert outcome_of(moderated, uploaded=True) is Outcome.FAILURE  # an upload never hides moderation


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "failed", "error": {"code": "invalid_argument", "message": "bad prompt"}},
         "'failed': errorCode=invalid_argument, errorMessage='bad prompt'"),
        ({"status": "expired"}, "'expired': errorCode=None, errorMessage='the request expired before it"),
        ({**DONE, "video": {"respect_moderation": False}}, "errorCode=moderated"),
    ],
)  # fmt: skip
def test_xai_failures_name_code_and_message(body, message):
    error = failure_of(XAI.parse_state(body, "req-9"))
    assert message in str(error) and "req-9" in str(error)


def test_cost_is_read_from_ticks():
    assert XAI.parse_state(DONE, "r").cost_usd == pytest.approx(0.4)
    assert cost_usd({"usage": {}}) is None and cost_usd({}) is None
    assert cost_usd({"usage": {"cost_in_usd_ticks": True}}) is None


@pytest.mark.parametrize(
    ("body", "status", "urls", "code", "note"),
    [
        pytest.param(
            {"data": [{"url": URL, "respect_moderation": True}, {"url": URL2}],
             "usage": {"cost_in_usd_ticks": 4e8}},
            "completed", (URL, URL2), None, None, id="two-images",
        ),
        pytest.param(
            {"data": [{"url": URL}, {"url": "", "respect_moderation": False}]},
            "completed", (URL,), None, "1 of 2 images were withheld", id="one-of-two-moderated",
        ),
        pytest.param(
            {"data": [{"url": "", "respect_moderation": False}]}, "failed", (), "moderated", "withheld",
            id="all-moderated",
        ),
        pytest.param(
            {"data": [], "block_reason": "policy"}, "failed", (), "blocked", "blocked at input (policy)",
            id="blocked",
        ),
    ],
)  # fmt: skip
def test_xai_image_answers(body, status, urls, code, note):
    state = XAI.parse_generation(body, "xai-img-1", "2026-11-30T00:00:00+00:00")
    assert (state.status, state.media_urls, state.error_code) == (status, urls, code)
    assert note is None or note in state.error_message


def test_base64_images_are_not_kept_in_the_result():
    state = XAI.parse_generation({"data": [{"b64_json": "A" * 5000}]}, "xai-img-1", "t")
    assert state.result["data"][0]["b64_json"] == "<5000 base64 characters>"


def test_submit_answers_need_their_id():
    assert XAI.parse_submit({"request_id": "r1"}) == "r1"
    with pytest.raises(XaiError, match="no request_id"):
        XAI.parse_submit({"id": "r1"})
    assert XAI.status_path("a/b") == "/v1/videos/a%2Fb"
    assert XAI.unknown_local_id("xai-img-1") is not None and XAI.unknown_local_id("r1") is None


def test_a_list_rendered_as_text_is_read_back_as_the_list():
    rendered = str([URL, URL2])  # a templated list without render_template_as_native_obj
    assert XAI.build_image(ImageParams("a", image_urls=rendered)).body["images"][1]["url"] == URL2
    request = XAI.build_video(VideoParams("a", reference_image_urls=rendered))
    assert request.body["reference_images"] == [{"url": URL}, {"url": URL2}]
    assert GATEWAY.build_image(ImageParams("a", image_urls=str([URL]))).body["images"] == [URL]
    with pytest.raises(XaiInvalidRequestError, match="image_urls"):
        XAI.build_image(ImageParams("a", image_urls="[__import__('os')]"))


def test_an_uncertain_xai_submission_does_not_point_to_a_task_list():
    from airflow_provider_xai.protocol import uncertain_submission_message

    assert "task list" in uncertain_submission_message("POST /xai/images", "reset")
    message = uncertain_submission_message("POST /v1/videos/generations", "reset", "xai")
    assert "task list" not in message and "xAI console" in message
