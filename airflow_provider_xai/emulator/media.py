"""Make real media bytes: JPEG images and MP4 video files, optionally at any size, streamed.

Images are valid JPEG files of the contract's sizes. With Pillow installed, the prompt and the request's
parameters are drawn into the picture; without it, a small built-in encoder writes a valid baseline
grayscale JPEG (a gradient) of the same size. Videos are structurally valid MP4 files (``ftyp``, ``moov``
with ``mvhd`` and a ``trak``/``tkhd`` of the right width and height, a ``free`` box describing the
request, and ``mdat``); they are not playable.

A size override serves a file of exactly that many bytes without holding it in memory: JPEG files grow
by comment (``COM``) segments inserted after the header, which keeps them valid; MP4 files grow their
``mdat`` box (with a 64-bit size past 4 GiB). The bytes are deterministic.
"""

from __future__ import annotations

import io
import json
import struct
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

CHUNK_SIZE = 64 * 1024

#: Output sizes of images by aspect ratio (the upstream model's sizes).
IMAGE_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1408, 768),
    "9:16": (768, 1408),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
}

_SHORT_SIDE = {"480P": 480, "720P": 720}
_LONG_SIDE = {("480P", "16:9"): 848, ("720P", "16:9"): 1280, ("480P", "3:2"): 720, ("720P", "3:2"): 1080}

_PATTERN = bytes((i * 37 + 11) & 0xFF for i in range(CHUNK_SIZE))
_MAX_COM = 65537  # marker (2) + length field (2) + at most 65533 bytes of comment


def video_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Return the (width, height) of a video.

    :param resolution: ``480P`` or ``720P``.
    :param aspect_ratio: one of the contract's aspect ratios.
    """
    short = _SHORT_SIDE.get(resolution, 720)
    if aspect_ratio == "1:1":
        return short, short
    landscape = {"9:16": "16:9", "2:3": "3:2"}.get(aspect_ratio, aspect_ratio)
    long = _LONG_SIDE.get((resolution, landscape), short * 16 // 9)
    return (long, short) if landscape == aspect_ratio else (short, long)


class MediaFile:
    """A media body that knows its exact length and yields its bytes in chunks.

    :param content_type: the ``Content-Type`` to answer with.
    :param length: the exact number of bytes that ``chunks()`` yields.
    :param produce: a callable returning an iterator over the bytes.
    """

    def __init__(self, content_type: str, length: int, produce: Callable[[], Iterator[bytes]]) -> None:
        self.content_type = content_type
        self.length = length
        self._produce = produce

    def chunks(self) -> Iterator[bytes]:
        """Yield the body in chunks of at most about 64 KiB."""
        return self._produce()

    def read_all(self) -> bytes:
        """Return the whole body (for small files and tests)."""
        return b"".join(self.chunks())


def _slices(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK_SIZE):
        yield data[start : start + CHUNK_SIZE]


def _filler(count: int) -> Iterator[bytes]:
    while count > 0:
        take = min(count, CHUNK_SIZE)
        yield _PATTERN[:take]
        count -= take


def _com_segment_sizes(total: int) -> Iterator[int]:
    full, rest = divmod(total, _MAX_COM)
    tail: list[int] = []
    if 0 < rest < 4:  # too short for one segment: split the last full one in two
        full -= 1
        tail = [_MAX_COM - 4, 4 + rest]
    elif rest:
        tail = [rest]
    for _ in range(full):
        yield _MAX_COM
    yield from tail


def jpeg_file(natural: bytes, size: int | None = None) -> MediaFile:
    """Wrap JPEG bytes as a media body, grown (or cut) to exactly ``size`` bytes when given.

    :param natural: a complete JPEG file.
    :param size: the exact size to serve; ``None`` serves the file as it is. A size below the file's
        own size cuts it (the result is then not a valid JPEG).
    """
    if size is None or size == len(natural):
        return MediaFile("image/jpeg", len(natural), lambda: _slices(natural))
    if size < len(natural):
        return MediaFile("image/jpeg", size, lambda: _slices(natural[:size]))
    extra = size - len(natural)
    cut = 2
    if natural[2:4] == b"\xff\xe0":  # keep the JFIF APP0 segment right after SOI
        cut = 4 + struct.unpack(">H", natural[4:6])[0]

    def produce() -> Iterator[bytes]:
        yield natural[:cut]
        if extra < 4:  # trailing bytes after EOI, which decoders ignore
            yield from _slices(natural[cut:])
            yield b"\x00" * extra
            return
        for segment in _com_segment_sizes(extra):
            yield b"\xff\xfe" + struct.pack(">H", segment - 2) + _PATTERN[: segment - 4]
        yield from _slices(natural[cut:])

    return MediaFile("image/jpeg", size, produce)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def mp4_header(width: int, height: int, duration: float, note: dict[str, Any]) -> bytes:
    """Build the boxes of an MP4 file that come before ``mdat``.

    :param width: the video track's width.
    :param height: the video track's height.
    :param duration: the duration in seconds.
    :param note: facts about the request, stored as JSON in a ``free`` box.
    """
    millis = int(duration * 1000)
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    mvhd = _box(
        b"mvhd",
        struct.pack(">I4I", 0, 0, 0, 1000, millis)
        + struct.pack(">IH10x", 0x10000, 0x100)
        + _MATRIX
        + bytes(24)
        + struct.pack(">I", 2),
    )
    tkhd = _box(
        b"tkhd",
        struct.pack(">I5I", 3, 0, 0, 1, 0, millis)
        + bytes(8)
        + struct.pack(">hhHH", 0, 0, 0, 0)
        + _MATRIX
        + struct.pack(">II", width << 16, height << 16),
    )
    moov = _box(b"moov", mvhd + _box(b"trak", tkhd))
    free = _box(b"free", json.dumps(note, sort_keys=True).encode())
    return ftyp + moov + free


def _has_mdat(data: bytes) -> bool:
    """Tell whether ``data`` already holds a complete MP4 (a top-level ``mdat`` box)."""
    offset = 0
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"mdat":
            return True
        if length < 8:
            return False
        offset += length
    return False


def render_mp4(width: int, height: int, seconds: float, lines: list[str], shade: int = 0) -> bytes | None:
    """Encode a real, playable H.264 MP4 showing the request, or return ``None`` without PyAV and Pillow.

    :param width: the frame width.
    :param height: the frame height.
    :param seconds: the video's length.
    :param lines: the text to draw (the prompt and the request's parameters).
    :param shade: a number that varies the colours between tasks.
    """
    try:
        import av
    except ImportError:
        return None
    if _pillow() is None:
        return None
    still = render_jpeg(width, height, lines, shade)
    from PIL import Image, ImageDraw

    base = Image.open(io.BytesIO(still)).convert("RGB")
    fps = 8
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "32"}
        frames = max(1, int(seconds * fps))
        for index in range(frames):
            frame = base.copy()
            x = int((width - 40) * index / max(frames - 1, 1))
            ImageDraw.Draw(frame).ellipse((x, height - 60, x + 30, height - 30), fill=(255, 220, 80))
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def mp4_file(header: bytes, size: int | None = None, payload_size: int = 2048) -> MediaFile:
    """Build an MP4 media body: ``header`` then an ``mdat`` box, of exactly ``size`` bytes when given.

    :param header: the boxes before ``mdat`` (see :func:`mp4_header`).
    :param size: the exact size to serve; ``None`` uses a small ``mdat``.
    :param payload_size: the ``mdat`` payload size when ``size`` is not given.
    """
    if size is None and _has_mdat(header):  # a complete, playable file: serve it as it is
        return MediaFile("video/mp4", len(header), lambda: _slices(header))
    total = len(header) + 8 + payload_size if size is None else size
    mdat = total - len(header)
    if mdat < 8:
        data = (header + _box(b"mdat", b""))[:total]
        return MediaFile("video/mp4", total, lambda: _slices(data))
    if mdat <= 0xFFFFFFFF:
        box_header = struct.pack(">I4s", mdat, b"mdat")
    else:
        box_header = struct.pack(">I4sQ", 1, b"mdat", mdat)

    def produce() -> Iterator[bytes]:
        yield header + box_header
        yield from _filler(mdat - len(box_header))

    return MediaFile("video/mp4", total, produce)


# ---- JPEG images -------------------------------------------------------------------------------------

_DC_COUNTS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)  # the standard luminance DC table


def _dc_codes() -> list[str]:
    codes: list[str] = []
    code = 0
    for length, count in enumerate(_DC_COUNTS, start=1):
        for _ in range(count):
            codes.append(format(code, f"0{length}b"))
            code += 1
        code <<= 1
    return codes


_DC_CODE = _dc_codes()


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def builtin_jpeg(width: int, height: int, shade: int = 0) -> bytes:
    """Encode a baseline grayscale JPEG of a gradient, without any third-party library.

    Each 8x8 block is flat (DC only), which keeps the encoder tiny and the file small.

    :param width: the image width.
    :param height: the image height.
    :param shade: shifts the gradient, so that different tasks give different pictures.
    """
    blocks_x, blocks_y = (width + 7) // 8, (height + 7) // 8
    span = blocks_x + blocks_y
    bits: list[str] = []
    previous = 0
    for by in range(blocks_y):
        for bx in range(blocks_x):
            level = 48 + (160 * (bx + by) // span + shade) % 160
            dc = 8 * (level - 128)
            diff, previous = dc - previous, dc
            category = abs(diff).bit_length()
            bits.append(_DC_CODE[category])
            if category:
                bits.append(format(diff if diff > 0 else diff + (1 << category) - 1, f"0{category}b"))
            bits.append("0")  # AC: end of block
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    scan = int(stream, 2).to_bytes(len(stream) // 8, "big").replace(b"\xff", b"\xff\x00")
    return b"".join(
        (
            b"\xff\xd8",
            _segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xFFDB, b"\x00" + b"\x01" * 64),
            _segment(0xFFC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
            _segment(0xFFC4, b"\x00" + bytes(_DC_COUNTS) + bytes(range(12))),
            _segment(0xFFC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),
            _segment(0xFFDA, b"\x01\x01\x00\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        )
    )


def _pillow() -> Any:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        return None
    return Image, ImageDraw, ImageFont


def render_jpeg(width: int, height: int, lines: list[str], shade: int = 0) -> bytes:
    """Render a JPEG picture of the given size showing the given lines of text (with Pillow when installed).

    :param width: the image width.
    :param height: the image height.
    :param lines: the text to draw (the prompt and the request's parameters).
    :param shade: a number that varies the colours between tasks.
    """
    pil = _pillow()
    if pil is None:
        return builtin_jpeg(width, height, shade)
    image_mod, draw_mod, font_mod = pil
    background = (40 + shade % 60, 60 + (shade * 7) % 80, 90 + (shade * 13) % 100)
    image = image_mod.new("RGB", (width, height), background)
    draw = draw_mod.Draw(image)
    font_size = max(14, width // 36)
    try:
        font = font_mod.load_default(size=font_size)
    except (TypeError, OSError, ImportError, AttributeError):
        font = font_mod.load_default()
    margin = width // 20
    draw.rectangle((margin // 2, margin // 2, width - margin // 2, height - margin // 2), outline="white")
    y = margin
    wrap = max(10, (width - 2 * margin) * 2 // font_size)
    for line in lines:
        for piece in textwrap.wrap(line, wrap) or [""]:
            if y > height - margin:
                break
            draw.text((margin, y), piece, fill=(255, 255, 255), font=font)
            y += int(font_size * 1.4)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
