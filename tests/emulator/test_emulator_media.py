"""Media files: valid bytes, content types, expiry, truncation and large streamed files."""

from __future__ import annotations

import io
import struct

import av
import pytest
import requests

from airflow_provider_xai.emulator import media


def _boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """Walk the top-level MP4 boxes: (type, offset, size)."""
    found, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        assert size >= 8
        found.append((kind, offset, size))
        offset += size
    assert offset == len(data)
    return found


def _tkhd_size(data: bytes) -> tuple[int, int]:
    at = data.index(b"tkhd")
    width, height = struct.unpack(">II", data[at + 4 + 76 : at + 4 + 84])
    return width >> 16, height >> 16


def _media_url(client, kind="image", **fields):
    task_id = client.create(kind, **fields)
    result = client.finish(task_id)["result"]
    return result["data"][0]["url"] if kind == "image" else result["video"]["url"]


def test_completed_image_downloads_as_a_jpeg_without_auth(client):
    url = _media_url(client)
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    assert answer.content[:2] == b"\xff\xd8" and answer.content[-2:] == b"\xff\xd9"


@pytest.mark.parametrize(
    ("ratio", "size"),
    [
        ("1:1", (1024, 1024)),
        ("16:9", (1408, 768)),
        ("9:16", (768, 1408)),
        ("2:3", (832, 1248)),
        ("3:2", (1248, 832)),
    ],
)
def test_image_sizes_follow_the_aspect_ratio(client, ratio, size):
    pil = pytest.importorskip("PIL.Image")
    content = requests.get(_media_url(client, aspectRatio=ratio), timeout=10).content
    picture = pil.open(io.BytesIO(content))
    picture.load()
    assert picture.format == "JPEG"
    assert picture.size == size


@pytest.mark.parametrize(
    ("fields", "size"),
    [
        ({}, (1280, 720)),
        ({"resolution": "480P"}, (848, 480)),
        ({"resolution": "480P", "aspectRatio": "9:16"}, (480, 848)),
        ({"aspectRatio": "1:1"}, (720, 720)),
        ({"aspectRatio": "2:3"}, (720, 1080)),
    ],
)
def test_completed_video_downloads_as_an_mp4(client, fields, size):
    answer = requests.get(_media_url(client, "video", **fields), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "video/mp4"
    data = answer.content
    assert data[4:8] == b"ftyp"
    assert {b"ftyp", b"moov", b"mdat"} <= {kind for kind, _, _ in _boxes(data)}
    with av.open(io.BytesIO(data)) as container:  # a real, playable H.264 video
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == size


def test_head_gives_the_length_without_a_body(client):
    url = _media_url(client)
    head = requests.head(url, timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) == len(requests.get(url, timeout=10).content)


def test_unknown_or_unfinished_media_is_404(client):
    task_id = client.create()
    url = f"{client.url}/media/{task_id}/0.jpeg"
    assert requests.get(url, timeout=10).status_code == 404  # not completed yet
    client.finish(task_id)
    assert requests.get(url, timeout=10).status_code == 200
    for bad in (f"/media/{task_id}/0.mp4", f"/media/{task_id}/1.jpeg", "/media/nope/0.jpeg", "/media/x"):
        answer = requests.get(f"{client.url}{bad}", timeout=10)
        assert answer.status_code == 404
        assert "<Code>NoSuchKey</Code>" in answer.text


def test_failed_or_moderated_tasks_have_no_media(client):
    for prompt in ("[xai:failed]", "[xai:moderated]", "[xai:nomedia]"):
        task_id = client.create(prompt=prompt)
        client.finish(task_id)
        assert requests.get(f"{client.url}/media/{task_id}/0.jpeg", timeout=10).status_code == 404


def test_media_expire_with_an_s3_like_403(client, emu):
    url = _media_url(client)
    assert requests.get(url, timeout=10).status_code == 200
    emu.configure(media_ttl=0)
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code>" in answer.text and "expired" in answer.text


def test_truncated_media_for_the_next_n_downloads(client, emu):
    url = _media_url(client)
    emu.configure(media_truncate_count=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(url, timeout=10)
    full = requests.get(url, timeout=10)
    assert full.status_code == 200 and int(full.headers["Content-Length"]) == len(full.content)


def test_truncated_media_gives_half_the_body(client, emu):
    url = _media_url(client, "video")
    emu.configure(media_truncate=True)
    for _ in range(2):
        answer = requests.get(url, stream=True, timeout=10)
        length = int(answer.headers["Content-Length"])
        received = b""
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
            for chunk in answer.iter_content(1024):
                received += chunk
        assert 0 < len(received) < length


@pytest.mark.parametrize("kind", ["image", "video"])
def test_large_media_is_streamed_at_the_exact_size(client, kind):
    size = 50_000_000
    url = _media_url(client, kind, prompt=f"big [xai:size={size}]")
    answer = requests.get(url, stream=True, timeout=30)
    assert int(answer.headers["Content-Length"]) == size
    total, head, tail = 0, b"", b""
    for chunk in answer.iter_content(1 << 20):
        if not head:
            head = chunk[:16]
        total += len(chunk)
        tail = (tail + chunk)[-2:]
    assert total == size
    if kind == "image":
        assert head[:2] == b"\xff\xd8" and tail == b"\xff\xd9"
    else:
        assert head[4:8] == b"ftyp"


def test_media_size_setting_applies_to_every_task(client, emu):
    emu.configure(media_size=123_457)
    answer = requests.get(_media_url(client, "video"), timeout=10)
    assert len(answer.content) == 123_457
    boxes = [kind for kind, _, _ in _boxes(answer.content)]
    assert boxes[-1] == b"mdat"
    # a sized file is the described header and filler: one mdat, no encoded video before it
    assert boxes.count(b"mdat") == 1


def test_a_gigabyte_download_keeps_memory_small(client):
    size = 1 << 30
    url = _media_url(client, "video", prompt=f"huge [xai:size={size}]")

    def peak_rss_kb():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

    before = peak_rss_kb()
    total = 0
    with requests.get(url, stream=True, timeout=60) as answer:
        assert int(answer.headers["Content-Length"]) == size
        for chunk in answer.iter_content(1 << 20):
            total += len(chunk)
    assert total == size
    assert peak_rss_kb() - before < 100_000


# ---- the media module directly ---------------------------------------------------------------------------


def test_builtin_jpeg_is_valid():
    pil = pytest.importorskip("PIL.Image")
    for width, height in ((1408, 768), (17, 9), (8, 8)):
        data = media.builtin_jpeg(width, height, shade=5)
        picture = pil.open(io.BytesIO(data))
        picture.load()
        assert picture.size == (width, height)
        assert picture.getextrema()[0] < picture.getextrema()[1] or width == 8


def test_render_jpeg_without_pillow(monkeypatch):
    monkeypatch.setattr(media, "_pillow", lambda: None)
    data = media.render_jpeg(1024, 1024, ["a prompt"])
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert struct.unpack(">HH", data[data.index(b"\xff\xc0") + 5 : data.index(b"\xff\xc0") + 9]) == (
        1024,
        1024,
    )


@pytest.mark.parametrize("extra", [1, 3, 4, 5, 65537, 65538, 65540, 65541, 2 * 65537 + 2, 300_000])
def test_grown_jpegs_have_the_exact_size_and_stay_valid(extra):
    natural = media.builtin_jpeg(64, 48)
    grown = media.jpeg_file(natural, len(natural) + extra)
    data = grown.read_all()
    assert len(data) == grown.length == len(natural) + extra
    pil = pytest.importorskip("PIL.Image")
    picture = pil.open(io.BytesIO(data))
    picture.load()
    assert picture.size == (64, 48)


def test_mp4_past_four_gib_uses_a_64_bit_mdat():
    header = media.mp4_header(1280, 720, 6, {})
    big = media.mp4_file(header, size=5 << 32)
    assert big.length == 5 << 32
    first = next(iter(big.chunks()))
    assert first[len(header) : len(header) + 16] == struct.pack(">I4sQ", 1, b"mdat", (5 << 32) - len(header))


def test_cut_files_are_served_at_the_requested_size():
    natural = media.builtin_jpeg(64, 48)
    assert media.jpeg_file(natural, 10).read_all() == natural[:10]
    assert media.mp4_file(media.mp4_header(8, 8, 1, {}), size=12).length == 12
