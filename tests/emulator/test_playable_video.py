from __future__ import annotations

import io

import av
import pytest

from tests.emulator.conftest import Client


@pytest.mark.parametrize(
    ("fields", "size", "seconds"),
    [
        ({"resolution": "480P", "aspectRatio": "16:9", "duration": 6}, (848, 480), 6),
        ({"resolution": "720P", "duration": 10}, (1280, 720), 10),
    ],
)
def test_videos_are_playable_mp4_of_the_requested_resolution(client: Client, fields, size, seconds):
    task_id = client.create("video", **fields)
    (url,) = [client.finish(task_id)["result"]["video"]["url"]]
    data = client.http.get(url, timeout=60).content
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert (frames[0].width, frames[0].height) == size
    assert float(stream.duration * stream.time_base) == pytest.approx(seconds, abs=0.5)
