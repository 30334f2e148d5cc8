"""Write ``gallery.html``: every stored image and video with its prompt, parameters, API and cost.

Reads the sidecars (``<xai_task_id>.json``) under a folder, whatever API made them, and groups the items
by API. ``python scripts/gallery.py demo_output`` rebuilds the page of an earlier run.
"""

from __future__ import annotations

import html
import json
import pathlib
import sys
from collections.abc import Iterable
from typing import Any

API_TITLES = {
    "gateway": "Task gateway (api.mountsea.ai)",
    "xai": "xAI's own API (api.x.ai)",
}
#: request fields the page leaves out: the prompt is the caption, the rest is plumbing
SKIPPED = {"prompt", "response_format"}
LABELS = {
    "model": "model",
    "n": "images",
    "aspect_ratio": "aspect ratio",
    "aspectRatio": "aspect ratio",
    "resolution": "resolution",
    "quality": "quality",
    "duration": "duration",
    "image": "source image",
    "images": "source images",
    "imageUrl": "source image",
    "video": "input video",
    "reference_images": "reference images",
    "delivery": "delivery",
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em}
.cards{display:flex;flex-wrap:wrap;gap:1.2em}
figure{width:360px;margin:0;border:1px solid #ddd;border-radius:6px;overflow:hidden;background:#fafafa}
img,video{width:100%;display:block;background:#eee}
figcaption{font-size:12px;padding:.6em;overflow-wrap:anywhere;word-break:break-word}
figcaption b{font-size:13px}
ul{margin:.4em 0;padding-left:1.1em}li{margin:.1em 0}
.api{display:inline-block;font-size:11px;padding:0 .4em;border-radius:3px;color:#fff}
.api-gateway{background:#5b6b8c}.api-xai{background:#111}
.cost{font-weight:bold}.muted{color:#777}
a{color:#2a5db0}
"""


def write_gallery(folder: pathlib.Path) -> pathlib.Path:
    """Write ``gallery.html`` in ``folder`` from every sidecar below it; return the page's path."""
    folder = pathlib.Path(folder)
    items = [item for sidecar in sidecars(folder) for item in cards_of(folder, sidecar)]
    sections = []
    for api in sorted({item["api"] for item in items}, key=lambda a: (a not in API_TITLES, a)):
        mine = [item for item in items if item["api"] == api]
        sections.append(
            f"<h2>{html.escape(API_TITLES.get(api, api))}: {len(mine)} files, "
            f"{html.escape(total_cost(sidecar_costs(mine)))}</h2>"
            f"<div class=cards>{''.join(item['html'] for item in mine)}</div>"
        )
    page = folder / "gallery.html"
    page.write_text(
        "<!doctype html><meta charset=utf-8><title>xAI demo gallery</title>"
        f"<style>{STYLE}</style><h1>xAI demo gallery</h1>"
        "<p class=muted>Every file the demo stored, with the request that made it. Costs are what the API "
        "reported (<code>usage.cost_in_usd_ticks</code> on xAI's API); the task gateway reports none.</p>"
        + "".join(sections)
    )
    return page


def sidecars(folder: pathlib.Path) -> list[pathlib.Path]:
    """Return the sidecars below ``folder``, oldest first."""
    found = [p for p in folder.rglob("*.json") if not p.name.startswith(".")]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def cards_of(folder: pathlib.Path, sidecar: pathlib.Path) -> Iterable[dict[str, Any]]:
    """Yield one card per file a sidecar describes."""
    manifest = json.loads(sidecar.read_text())
    if not isinstance(manifest, dict) or "files" not in manifest:
        return
    request = manifest.get("request") or {}
    api = manifest.get("api") or "gateway"
    files = manifest["files"]
    for entry in files:
        local = local_file(sidecar, entry["uri"])
        src = html.escape(
            local.relative_to(folder).as_posix() if local.is_relative_to(folder) else str(local)
        )
        if str(entry.get("content_type", "")).startswith("video/"):
            media = f'<video src="{src}" controls loop muted></video>'
        else:
            media = f'<img src="{src}" alt="{html.escape(local.name)}">'
        prompt = request.get("prompt") or "(submitted elsewhere: a sensor's task)"
        facts = [
            f"<span class='api api-{html.escape(api)}'>{html.escape(api)}</span> "
            f"<span class=cost>{html.escape(cost_text(manifest.get('cost_usd'), len(files)))}</span>",
            *(f"{html.escape(label)}: {value}" for label, value in describe(request)),
            f"task {html.escape(str(manifest.get('xai_task_id')))}",
            *(
                f"{moment} {html.escape(str(manifest[moment + '_at']))}"
                for moment in ("created", "finished")
                if manifest.get(moment + "_at")
            ),
            html.escape(file_text(entry)),
        ]
        yield {
            "api": api,
            "cost": manifest.get("cost_usd"),
            "sidecar": str(sidecar),
            "html": f"<figure>{media}<figcaption><b>{html.escape(prompt)}</b><ul>"
            + "".join(f"<li>{fact}</li>" for fact in facts)
            + "</ul></figcaption></figure>",
        }


def local_file(sidecar: pathlib.Path, uri: str) -> pathlib.Path:
    """Return the local file of a stored URI (an object in S3 was copied beside its sidecar)."""
    if uri.startswith("file://"):
        return pathlib.Path(uri.removeprefix("file://"))
    if "://" not in uri:
        return pathlib.Path(uri)
    return sidecar.parent / uri.rsplit("/", 1)[1]


def describe(request: dict[str, Any]) -> list[tuple[str, str]]:
    """Return a request's parameters as (label, HTML) pairs: short, readable, URLs as wrapped links."""
    facts = []
    for key, value in request.items():
        if key in SKIPPED or value in (None, "", []):
            continue
        label = LABELS.get(key, key.replace("_", " "))
        if key == "duration":
            facts.append((label, f"{html.escape(str(value))} s"))
        elif key == "delivery" and isinstance(value, dict):
            where = html.escape(str(value.get("uri", "")))
            facts.append(
                (label, f"uploaded by the service to {where}" if value.get("mode") == "upload" else where)
            )
        elif key in ("image", "images", "imageUrl", "video", "reference_images"):
            urls = [_url_of(item) for item in (value if isinstance(value, list) else [value])]
            links = ", ".join(link(url) for url in urls)
            facts.append((f"{label} ({len(urls)})" if len(urls) > 1 else label, links))
        elif isinstance(value, (dict, list)):
            facts.append((label, html.escape(json.dumps(value))))
        else:
            facts.append((label, html.escape(str(value))))
    return facts


def _url_of(item: object) -> str:
    return str(item.get("url", "")) if isinstance(item, dict) else str(item)


def link(url: str) -> str:
    """Return a link showing the whole URL (wrapped by the page's style; a data: URI is cut short)."""
    text = url[:40] + "..." if url.startswith("data:") else url
    return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'


def cost_text(cost: object, files: int) -> str:
    """Return what an item cost (a request's cost is shared by the files it made)."""
    if not isinstance(cost, (int, float)):
        return "cost not reported"
    if files > 1:
        return f"{cost:.4f} USD for {files} files"
    return f"{cost:.4f} USD"


def file_text(entry: dict[str, Any]) -> str:
    """Return a file's size and checksum (sha256 when downloaded, S3's md5 when the service uploaded it)."""
    text = f"{entry.get('size')} bytes"
    if entry.get("sha256"):
        return f"{text}, sha256 {entry['sha256'][:12]}"
    if entry.get("md5"):
        return f"{text}, md5 {entry['md5'][:12]} (uploaded by the service, nothing downloaded)"
    return text


def sidecar_costs(items: list[dict[str, Any]]) -> list[object]:
    """Return one cost per sidecar of the items (several files can share one request's cost)."""
    return list({item["sidecar"]: item["cost"] for item in items}.values())


def total_cost(costs: list[object]) -> str:
    """Return the sum of the known costs, or say that none was reported."""
    known = [c for c in costs if isinstance(c, (int, float))]
    if not known:
        return "cost not reported"
    return f"{sum(known):.4f} USD" + (
        f" ({len(costs) - len(known)} unreported)" if len(known) < len(costs) else ""
    )


if __name__ == "__main__":
    print(write_gallery(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "demo_output")))
