"""The shared page: every value escaped, parameters as a short list, media as <img>/<video>."""

from __future__ import annotations

from airflow_provider_xai.plugins.render import (
    Generation,
    Medium,
    Param,
    Section,
    cost_text,
    human_size,
    params_of,
    render_page,
    total_cost,
)


def _generation(**changes) -> Generation:
    values = dict(
        title="mapped [0]",
        prompt="A fox",
        api="xai",
        model="grok-imagine-image",
        status="completed",
        xai_task_id="abc123",
        cost="0.0200 USD",
        media=[Medium(kind="image", name="a.jpeg", src="file?uri=a", state="stored", uri="s3://b/a.jpeg")],
    )
    values.update(changes)
    return Generation(**values)


def test_every_value_is_escaped():
    evil = '<script>alert("x")</script>'
    page = render_page(
        evil,
        [
            Section(
                title=evil, generations=[_generation(prompt=evil, params=[Param(evil, evil, [(evil, evil)])])]
            )
        ],
        intro=evil,
        context={"dag-id": evil},
    )
    assert evil not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_images_videos_and_gone_files():
    media = [
        Medium(kind="image", name="a.jpeg", src="file?a", state="stored"),
        Medium(kind="video", name="b.mp4", src="file?b", state="stored"),
        Medium(
            kind="image", name="c.jpeg", src=None, state="missing", note="The stored file no longer exists."
        ),
    ]
    page = render_page("t", [Section(title="", generations=[_generation(media=media)])])
    assert '<img src="file?a"' in page
    assert '<video src="file?b" controls' in page
    assert "The stored file no longer exists." in page and 'data-state="missing"' in page
    assert page.count('data-testid="xai-medium"') == 3


def test_a_notice_replaces_the_media():
    page = render_page("t", [], notice="This task produced no xAI media.")
    assert 'data-testid="xai-no-media">This task produced no xAI media.</p>' in page


def test_parameters_are_a_short_readable_list():
    params = params_of(
        {
            "prompt": "skipped: the caption",
            "model": "skipped: a badge",
            "response_format": "url",
            "aspect_ratio": "16:9",
            "duration": 6,
            "image_urls": ["https://a/1.png", "https://a/2.png"],
            "delivery": {"mode": "upload", "uri": "s3://b/v.mp4", "name": "v"},
            "n": None,
            "image": {"url": "data:image/png;base64," + "A" * 500},
        }
    )
    assert [(p.label, p.text) for p in params] == [
        ("aspect ratio", "16:9"),
        ("duration", "6 s"),
        ("source images (2)", ""),
        ("delivery", "uploaded by the service to s3://b/v.mp4"),
        ("source image", ""),
    ]
    assert params[2].links == [("https://a/1.png", "https://a/1.png"), ("https://a/2.png", "https://a/2.png")]
    assert params[4].links[0][1].endswith("...") and len(params[4].links[0][1]) == 43


def test_costs_and_sizes():
    assert cost_text(None) == "cost not reported"
    assert cost_text(0.06, 3) == "0.0600 USD for 3 files"
    assert total_cost([0.02, None, 0.01]) == "0.0300 USD (1 unreported)"
    assert (
        human_size(512) == "512 bytes"
        and human_size(1536) == "1.5 KB"
        and human_size(3 * 1024**2) == "3.0 MB"
    )
