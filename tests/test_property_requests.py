"""Property: no invalid combination reaches the network; every valid one is sent as the contract says."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_xai.exceptions import XaiInvalidRequestError
from airflow_provider_xai.hooks.xai import XaiHook

RATIOS = ["1:1", "2:3", "3:2", "9:16", "16:9"]
prompts = st.one_of(
    st.text(min_size=0, max_size=1100),
    st.sampled_from(["", " ", "x" * 1000, "x" * 1001]),
    st.none(),
    st.integers(),
)
ratios = st.one_of(st.none(), st.sampled_from([*RATIOS, "4:3", "", "16X9"]), st.integers())
durations = st.one_of(
    st.none(), st.sampled_from([6, 10, 15, 6.0, 7, 0, -6, "6", "10", True, 10.5]), st.integers(-5, 20)
)
resolutions = st.one_of(st.none(), st.sampled_from(["480P", "720P", "480p", "720p", "1080P", "720", "", 720]))
urls = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "https://example.com/a.jpg",
            "http://h/x.png",
            "file:///etc/passwd",
            "ftp://h/x",
            "not a url",
            "",
            "https://",
        ]
    ),
)


def expected_body(prompt, duration, aspect_ratio, resolution, image_url):
    """The contract's body for a valid combination, or None when any value is invalid."""
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > 1000:
        return None
    if aspect_ratio is not None and aspect_ratio not in RATIOS:
        return None
    if isinstance(duration, str) and duration.strip().isdigit():
        duration = int(duration)  # what a template renders: a whole-number string is the number
    if duration is not None and (isinstance(duration, (bool, str)) or duration not in (6, 10, 15)):
        return None
    if resolution is not None and (
        not isinstance(resolution, str) or resolution.upper() not in ("480P", "720P")
    ):
        return None
    if image_url is not None and image_url not in ("https://example.com/a.jpg", "http://h/x.png"):
        return None
    body = {"prompt": prompt, "model": "grok-imagine-video"}
    if duration is not None:
        body["duration"] = int(duration)
    if image_url:
        body["images"] = [image_url]
    else:
        if aspect_ratio:
            body["aspectRatio"] = aspect_ratio
        if resolution:
            body["resolution"] = resolution.upper()
    return body


@pytest.fixture
def hook(xai_conn):
    return XaiHook()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompt=prompts, duration=durations, aspect_ratio=ratios, resolution=resolutions, image_url=urls)
def test_only_valid_requests_reach_the_service(
    hook, xai_conn, prompt, duration, aspect_ratio, resolution, image_url
):
    xai_conn.reset()
    expected = expected_body(prompt, duration, aspect_ratio, resolution, image_url)
    kwargs = dict(duration=duration, aspect_ratio=aspect_ratio, resolution=resolution, image_url=image_url)
    if expected is None:
        with pytest.raises(XaiInvalidRequestError):
            hook.submit_video(prompt, **kwargs)
        assert xai_conn.requests_log() == []
    else:
        hook.submit_video(prompt, **kwargs)
        (task,) = xai_conn.tasks()
        assert task["body"] == expected
        assert type(task["body"].get("duration", 0)) is int
