"""Write ``gallery.html``: every stored image and video with its prompt, parameters, API and cost.

Reads the sidecars (``<xai_task_id>.json``) under a folder, whatever API made them, groups the requests by
API, and renders them with the provider's own page (``airflow_provider_xai.plugins.render``, the one the
"Generated media" view in the Airflow UI uses). ``python scripts/gallery.py demo_output`` rebuilds the page
of an earlier run.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Iterator
from typing import Any

from airflow_provider_xai.plugins.render import (
    API_TITLES,
    Generation,
    Medium,
    Section,
    cost_text,
    file_details,
    kind_of,
    params_of,
    render_page,
    seconds_between,
    total_cost,
)

INTRO = (
    "Every file the demo stored, with the request that made it. Costs are what the API reported "
    "(usage.cost_in_usd_ticks on xAI's API); the task gateway reports none."
)


def write_gallery(folder: pathlib.Path) -> pathlib.Path:
    """Write ``gallery.html`` in ``folder`` from every sidecar below it; return the page's path."""
    folder = pathlib.Path(folder)
    by_api: dict[str, list[tuple[Generation, object]]] = {}
    for sidecar in sidecars(folder):
        for api, generation, cost in generations_of(folder, sidecar):
            by_api.setdefault(api, []).append((generation, cost))
    sections = []
    for api in sorted(by_api, key=lambda a: (a not in API_TITLES, a)):
        mine = by_api[api]
        files = sum(len(generation.media) for generation, _ in mine)
        sections.append(
            Section(
                title=API_TITLES.get(api, api),
                summary=f"{files} files, {total_cost([cost for _, cost in mine])}",
                generations=[generation for generation, _ in mine],
                data={"api": api},
            )
        )
    page = folder / "gallery.html"
    page.write_text(render_page("xAI demo gallery", sections, intro=INTRO), encoding="utf-8")
    return page


def sidecars(folder: pathlib.Path) -> list[pathlib.Path]:
    """Return the sidecars below ``folder``, oldest first."""
    found = [p for p in folder.rglob("*.json") if not p.name.startswith(".")]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def generations_of(folder: pathlib.Path, sidecar: pathlib.Path) -> Iterator[tuple[str, Generation, Any]]:
    """Yield (API, the request's card, its cost) for a sidecar (nothing for another JSON file)."""
    manifest = json.loads(sidecar.read_text())
    if not isinstance(manifest, dict) or "files" not in manifest:
        return
    request = manifest.get("request") or {}
    api = manifest.get("api") or "gateway"
    files = manifest["files"]
    media = []
    for entry in files:
        local = local_file(sidecar, entry["uri"])
        src = local.relative_to(folder).as_posix() if local.is_relative_to(folder) else str(local)
        media.append(
            Medium(
                kind=kind_of(entry.get("content_type"), local.name),
                name=local.name,
                src=src,
                state="stored",
                details=file_details(entry),
            )
        )
    timings = [
        (moment, str(manifest[f"{moment}_at"]))
        for moment in ("created", "finished")
        if manifest.get(f"{moment}_at")
    ]
    took = seconds_between(manifest.get("created_at"), manifest.get("finished_at"))
    if took is not None:
        timings.append(("generation", f"{took:.1f} s"))
    generation = Generation(
        title=sidecar.relative_to(folder).parent.as_posix() if sidecar.parent != folder else sidecar.stem,
        prompt=request.get("prompt"),
        api=api,
        model=request.get("model"),
        status=manifest.get("status"),
        xai_task_id=manifest.get("xai_task_id"),
        cost=cost_text(manifest.get("cost_usd"), len(files)),
        media=media,
        params=params_of(request),
        timings=timings,
        sidecar_href=sidecar.relative_to(folder).as_posix(),
    )
    yield api, generation, manifest.get("cost_usd")


def local_file(sidecar: pathlib.Path, uri: str) -> pathlib.Path:
    """Return the local file of a stored URI (an object in S3 was copied beside its sidecar)."""
    if uri.startswith("file://"):
        return pathlib.Path(uri.removeprefix("file://"))
    if "://" not in uri:
        return pathlib.Path(uri)
    return sidecar.parent / uri.rsplit("/", 1)[1]


if __name__ == "__main__":
    print(write_gallery(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "demo_output")))
