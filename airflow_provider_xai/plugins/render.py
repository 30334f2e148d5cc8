"""One HTML rendering of generated media, shared by the Airflow view and the demo's gallery page.

Callers describe what to show with plain values (:class:`Generation`, :class:`Medium`, :class:`Section`)
and :func:`render_page` turns them into one self-contained page (styles inline, no external asset): every
image an ``<img>``, every video a ``<video controls>``, each with its prompt, a short list of parameters,
model, API, cost, remote id, status and timings. Nothing here reads storage or the metadata DB.

The page follows the Airflow UI's light or dark theme when it is shown inside it (an iframe of the same
origin), else the browser's ``prefers-color-scheme``. Elements carry ``data-testid`` attributes, stable
for browser tests.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

#: what each API is called on the page
API_TITLES = {
    "gateway": "Task gateway (api.mountsea.ai)",
    "xai": "xAI's own API (api.x.ai)",
}
#: request fields left out of the parameters: the prompt is the caption, the rest is plumbing
SKIPPED = {"prompt", "response_format", "output_path", "model"}
#: readable labels of request fields and operator parameters (both APIs' spellings)
LABELS = {
    "n": "images",
    "aspect_ratio": "aspect ratio",
    "aspectRatio": "aspect ratio",
    "resolution": "resolution",
    "quality": "quality",
    "duration": "duration",
    "image": "source image",
    "images": "source images",
    "imageUrl": "source image",
    "image_url": "source image",
    "image_urls": "source images",
    "video": "input video",
    "video_url": "input video",
    "video_operation": "video operation",
    "reference_images": "reference images",
    "reference_image_urls": "reference images",
    "delivery": "delivery",
}
#: parameters whose values are URLs (shown as links)
URL_FIELDS = {
    "image",
    "images",
    "imageUrl",
    "image_url",
    "image_urls",
    "video",
    "video_url",
    "reference_images",
    "reference_image_urls",
}


@dataclass
class Param:
    """One parameter as the page shows it: a label, a short text, and links (URLs shown whole, wrapped)."""

    label: str
    text: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Medium:
    """One image or video file.

    :param kind: ``"image"`` or ``"video"``.
    :param name: the file name (or the URL's last part).
    :param src: what the browser loads, or ``None`` when it cannot be shown.
    :param state: ``"stored"`` (served from storage), ``"remote"`` (from the service's URL while it lives),
        ``"missing"`` (the stored file is gone), ``"expired"`` (the URL no longer answers), ``"unknown"``.
    :param note: a message shown with the medium (and instead of it when ``src`` is ``None``).
    :param uri: where it is stored (``s3://...``, ``file://...``), if stored.
    :param details: a short line: size, content type, checksum.
    """

    kind: str
    name: str
    src: str | None
    state: str
    note: str | None = None
    uri: str | None = None
    details: str | None = None


@dataclass
class Generation:
    """What one request produced (one task instance, or one sidecar): its media and how they were made."""

    title: str
    prompt: str | None
    api: str | None
    model: str | None
    status: str | None
    xai_task_id: str | None
    cost: str
    media: list[Medium]
    params: list[Param] = field(default_factory=list)
    timings: list[tuple[str, str]] = field(default_factory=list)
    sidecar_href: str | None = None
    #: ``data-*`` attributes of the card (e.g. ``task-id``, ``map-index``), for tests and links
    data: dict[str, str] = field(default_factory=dict)
    note: str | None = None


@dataclass
class Section:
    """A titled group of generations (one task of a DAG run, one API of the gallery)."""

    title: str
    generations: list[Generation]
    summary: str | None = None
    data: dict[str, str] = field(default_factory=dict)


def params_of(request: dict[str, Any] | None) -> list[Param]:
    """Return a request's (or an operator's rendered fields') parameters, short and readable.

    :param request: the request record of a sidecar, or the task's rendered template fields.
    """
    params = []
    for key, value in (request or {}).items():
        if key in SKIPPED or value in (None, "", [], {}, "None"):
            continue
        label = LABELS.get(key, key.replace("_", " "))
        if key == "duration":
            params.append(Param(label, f"{value} s"))
        elif key == "delivery" and isinstance(value, dict):
            where = str(value.get("uri", ""))
            mode = value.get("mode")
            params.append(Param(label, f"uploaded by the service to {where}" if mode == "upload" else where))
        elif key in URL_FIELDS:
            urls = [_url_of(item) for item in (value if isinstance(value, list) else [value])]
            urls = [url for url in urls if url]
            params.append(Param(f"{label} ({len(urls)})" if len(urls) > 1 else label, links=_links(urls)))
        elif isinstance(value, (dict, list)):
            params.append(Param(label, json.dumps(value, separators=(", ", ": "))[:300]))
        else:
            params.append(Param(label, str(value)))
    return params


def _url_of(item: object) -> str:
    return str(item.get("url", "")) if isinstance(item, dict) else str(item)


def _links(urls: list[str]) -> list[tuple[str, str]]:
    """Return (href, text) pairs; a ``data:`` URI is cut short in its text."""
    return [(url, url[:40] + "..." if url.startswith("data:") else url) for url in urls]


def cost_text(cost: object, files: int = 1) -> str:
    """Return what a request cost (a request's cost is shared by the files it made)."""
    if isinstance(cost, bool) or not isinstance(cost, (int, float)):
        return "cost not reported"
    if files > 1:
        return f"{cost:.4f} USD for {files} files"
    return f"{cost:.4f} USD"


def total_cost(costs: list[object]) -> str:
    """Return the sum of the known costs, or say that none was reported."""
    known = [c for c in costs if isinstance(c, (int, float)) and not isinstance(c, bool)]
    if not known:
        return "cost not reported"
    return f"{sum(known):.4f} USD" + (
        f" ({len(costs) - len(known)} unreported)" if len(known) < len(costs) else ""
    )


def file_details(entry: dict[str, Any]) -> str | None:
    """Return a stored file's size, type and checksum (sha256 when downloaded, S3's md5 when uploaded)."""
    parts = []
    if isinstance(entry.get("size"), int):
        parts.append(human_size(entry["size"]))
    if entry.get("content_type"):
        parts.append(str(entry["content_type"]).split(";")[0])
    if entry.get("sha256"):
        parts.append(f"sha256 {entry['sha256'][:12]}")
    elif entry.get("md5"):
        parts.append(f"md5 {entry['md5'][:12]} (uploaded by the service)")
    return ", ".join(parts) or None


def human_size(size: int) -> str:
    """Return a byte count as people read it (``1.4 MB``)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def kind_of(content_type: str | None, name: str) -> str:
    """Return ``"video"`` or ``"image"`` from a content type, else from the file name's suffix."""
    if content_type:
        return "video" if content_type.lower().startswith("video/") else "image"
    return "video" if name.split("?")[0].lower().endswith((".mp4", ".mov", ".webm")) else "image"


def seconds_between(start: Any, end: Any) -> float | None:
    """Return the seconds between two moments (ISO 8601 texts or epoch numbers), or ``None`` if unknown."""
    try:
        first = _moment(start)
        last = _moment(end)
    except (TypeError, ValueError):
        return None
    if first is None or last is None or (first.tzinfo is None) != (last.tzinfo is None):
        return None
    return (last - first).total_seconds()


def _moment(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value).astimezone()
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


@functools.lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    folder = resources.files("airflow_provider_xai.plugins") / "templates"
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals["style"] = (folder / "media.css").read_text(encoding="utf-8")
    env.globals["api_titles"] = API_TITLES
    return env.from_string((folder / "media.html").read_text(encoding="utf-8"))


def render_page(
    title: str,
    sections: list[Section],
    *,
    intro: str | None = None,
    notice: str | None = None,
    context: dict[str, str] | None = None,
) -> str:
    """Return the whole HTML page (every value escaped).

    :param title: the page's title and heading.
    :param sections: the groups of generations to show.
    :param intro: a sentence under the heading.
    :param notice: a message shown instead of media (e.g. "this task produced no xAI media").
    :param context: ``data-*`` attributes of the page (e.g. the DAG and run it shows).
    """
    return str(
        _template().render(title=title, sections=sections, intro=intro, notice=notice, context=context or {})
    )
