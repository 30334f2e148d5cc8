"""Read what the provider's tasks returned (XCom ``return_value``) and turn it into cards to show.

Runs on the api-server. The metadata DB is read first, in the request's session (task instances, their
result dicts and rendered template fields); the storage is reached afterwards, in a few threads (a stat per
file, a read per sidecar, a check per media URL that was never stored), so that a DAG run of many mapped
tasks renders in about the time of its slowest file.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from airflow_provider_xai.plugins import files
from airflow_provider_xai.plugins.render import (
    Generation,
    Medium,
    cost_text,
    file_details,
    kind_of,
    params_of,
    seconds_between,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: the provider's task classes (a task of another class may still return an xAI result: it is shown)
XAI_OPERATORS = {"XaiImageOperator", "XaiVideoOperator", "XaiTaskSensor"}
#: operator parameters worth showing when no sidecar holds the request
SHOWN_FIELDS = (
    "aspect_ratio",
    "n",
    "resolution",
    "quality",
    "duration",
    "image_url",
    "image_urls",
    "reference_image_urls",
    "video_url",
    "video_operation",
)
#: how many files, sidecars and URLs are checked at once
IO_THREADS = 8


@dataclass
class TaskResult:
    """One task instance and what it returned (``value``), as read from the metadata DB."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    value: Any
    operator: str | None = None
    state: str | None = None
    try_number: int | None = None
    duration: float | None = None
    rendered: dict[str, Any] = field(default_factory=dict)

    @property
    def is_xai(self) -> bool:
        """Tell whether the task returned an xAI result dict."""
        return is_xai_result(self.value)

    def query(self, **extra: str) -> str:
        """Return the query string that names this task instance (for the file endpoint)."""
        keys = {"dag_id": self.dag_id, "run_id": self.run_id, "task_id": self.task_id}
        return urlencode({**keys, "map_index": str(self.map_index), **extra})


def is_xai_result(value: Any) -> bool:
    """Tell whether an XCom value is the result dict of the provider's operators and sensor."""
    return (
        isinstance(value, dict) and "xai_task_id" in value and ("outputs" in value or "media_urls" in value)
    )


def is_xai_operator(operator: str | None) -> bool:
    """Tell whether a task class is the provider's (or a subclass or TaskFlow form named after one)."""
    return bool(operator) and (operator in XAI_OPERATORS or "Xai" in str(operator))


def sidecar_uri(value: dict[str, Any]) -> str | None:
    """Return the URI of a result's sidecar (``<folder>/<xai_task_id>.json``), if it stored files."""
    outputs = [uri for uri in value.get("outputs") or [] if isinstance(uri, str) and "/" in uri]
    if not outputs or not value.get("xai_task_id"):
        return None
    return f"{outputs[0].rsplit('/', 1)[0]}/{value['xai_task_id']}.json"


def allowed_uris(value: Any) -> set[str]:
    """Return the only URIs the file endpoint serves for a task instance: its outputs and its sidecar."""
    if not is_xai_result(value):
        return set()
    allowed = {uri for uri in value.get("outputs") or [] if isinstance(uri, str)}
    sidecar = sidecar_uri(value)
    if sidecar:
        allowed.add(sidecar)
    return allowed


# ---- the metadata DB -----------------------------------------------------------------------------


def load_task_results(
    session: Session, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
) -> list[TaskResult]:
    """Return the task instances of a run (or one of them) with their ``return_value``, in task order.

    :param task_id: only this task (all of its map indexes unless ``map_index`` is given).
    :param map_index: only this map index (``-1`` for a task that is not mapped).
    """
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    def narrow(query: Any, model: Any) -> Any:
        query = query.where(model.dag_id == dag_id, model.run_id == run_id)
        if task_id is not None:
            query = query.where(model.task_id == task_id)
        if map_index is not None:
            query = query.where(model.map_index == map_index)
        return query

    tis = session.scalars(narrow(select(TI), TI).order_by(TI.task_id, TI.map_index)).all()
    values = {
        (row.task_id, row.map_index): XComModel.deserialize_value(row)
        for row in session.scalars(
            narrow(select(XComModel).where(XComModel.key == "return_value"), XComModel)
        )
    }
    rendered = {
        (row.task_id, row.map_index): row.rendered_fields
        for row in session.scalars(narrow(select(RTIF), RTIF))
    }
    results = []
    for ti in tis:
        key = (ti.task_id, ti.map_index)
        fields = rendered.get(key)
        results.append(
            TaskResult(
                dag_id=dag_id,
                run_id=run_id,
                task_id=ti.task_id,
                map_index=ti.map_index,
                value=values.get(key),
                operator=ti.operator,
                state=str(ti.state) if ti.state is not None else None,
                try_number=ti.try_number,
                duration=ti.duration,
                rendered=fields if isinstance(fields, dict) else {},
            )
        )
    return results


def run_exists(session: Session, dag_id: str, run_id: str) -> bool:
    """Tell whether the DAG run exists."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    found = session.scalar(select(DagRun.id).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    return found is not None


# ---- cards ---------------------------------------------------------------------------------------


def generations(results: list[TaskResult], *, prefix: str = "") -> list[Generation]:
    """Return one card per xAI result, the storage checked in a few threads.

    :param prefix: what the file endpoint's relative URL starts with (the pages live beside it).
    """
    mine = [result for result in results if result.is_xai]
    if not mine:
        return []
    with ThreadPoolExecutor(max_workers=min(IO_THREADS, len(mine)), thread_name_prefix="xai-media") as pool:
        return list(pool.map(lambda result: generation_of(result, prefix=prefix), mine))


def generation_of(result: TaskResult, *, prefix: str = "") -> Generation:
    """Return the card of one task instance's result: each medium checked, its sidecar read."""
    value: dict[str, Any] = result.value
    sidecar = sidecar_uri(value)
    manifest = files.read_sidecar(sidecar) if sidecar else None
    entries = {
        entry.get("uri"): entry
        for entry in (manifest or {}).get("files") or []
        if isinstance(entry, dict) and entry.get("uri")
    }
    outputs = [uri for uri in value.get("outputs") or [] if isinstance(uri, str)]
    if outputs:
        media = [stored_medium(result, uri, entries.get(uri) or {}, prefix) for uri in outputs]
    else:
        media = [remote_medium(url, value.get("model")) for url in value.get("media_urls") or []]
    request = (manifest or {}).get("request")
    if not isinstance(request, dict):
        request = {key: result.rendered.get(key) for key in SHOWN_FIELDS if key in result.rendered}
    prompt = (request or {}).get("prompt") or result.rendered.get("prompt")
    usage = value.get("usage")
    if not isinstance(usage, dict):
        usage = {}
    title = result.task_id if result.map_index < 0 else f"{result.task_id} [{result.map_index}]"
    return Generation(
        title=title,
        prompt=str(prompt) if prompt else None,
        api=value.get("api"),
        model=value.get("model"),
        status=value.get("status"),
        xai_task_id=str(value.get("xai_task_id")),
        cost=cost_text(usage.get("cost_usd"), max(len(media), 1)),
        media=media,
        params=params_of(request),
        timings=timings_of(value, result),
        sidecar_href=f"{prefix}file?{result.query(uri=sidecar)}"
        if manifest is not None and sidecar
        else None,
        data={"task-id": result.task_id, "map-index": str(result.map_index)},
        note=None if outputs else "Not stored (no output_path): shown from the service's URL while it lives.",
    )


def stored_medium(result: TaskResult, uri: str, entry: dict[str, Any], prefix: str) -> Medium:
    """Return a stored file, served by the file endpoint, or a message when it is gone."""
    name = uri.rsplit("/", 1)[-1]
    kind = kind_of(entry.get("content_type"), name)
    found = files.find(uri, entry.get("content_type"))
    if found is None:
        return Medium(
            kind=kind,
            name=name,
            src=None,
            state="missing",
            uri=uri,
            note=(
                f"The stored file no longer exists at {uri}: it was deleted or expired "
                "(e.g. by a bucket lifecycle rule)."
            ),
            details=file_details(entry),
        )
    details = file_details(entry) or f"{found.size} bytes, {found.content_type}"
    return Medium(
        kind=kind_of(entry.get("content_type") or found.content_type, name),
        name=name,
        src=f"{prefix}file?{result.query(uri=uri)}",
        state="stored",
        uri=uri,
        details=details,
    )


def remote_medium(url: str, model: str | None) -> Medium:
    """Return a medium that was never stored: shown from the service's URL while it lives."""
    name = url.split("?", 1)[0].rsplit("/", 1)[-1] or url
    kind = kind_of(None, name)
    if kind == "image" and str(model or "").startswith("grok-imagine-video"):
        kind = "video"
    state = files.probe_url(url)
    if state == "expired":
        return Medium(
            kind=kind,
            name=name,
            src=None,
            state="expired",
            note=(
                "This medium was not stored (the task had no output_path) and the service's URL has "
                "expired: generated media URLs live only for hours."
            ),
        )
    return Medium(kind=kind, name=name, src=url, state="remote" if state == "live" else "unknown")


def timings_of(value: dict[str, Any], result: TaskResult) -> list[tuple[str, str]]:
    """Return when the remote task was created and finished, how long it took, and the Airflow try."""
    timings = []
    created, finished = value.get("created_at"), value.get("finished_at")
    if created:
        timings.append(("created", str(created)))
    if finished:
        timings.append(("finished", str(finished)))
    took = seconds_between(created, finished)
    if took is not None:
        timings.append(("generation", f"{took:.1f} s"))
    if result.duration is not None:
        timings.append(("task duration", f"{result.duration:.1f} s"))
    if result.try_number:
        timings.append(("try", str(result.try_number)))
    return timings


def notice_for(result: TaskResult | None) -> str:
    """Return what a task instance's page says when it shows no media."""
    if result is None:
        return "No such task instance in this DAG run."
    if not is_xai_operator(result.operator):
        return "This task produced no xAI media: it is not one of the xAI provider's tasks."
    if isinstance(result.value, str):
        return (
            f"This task submitted xAI task {result.value} without waiting (wait_for_completion=False); "
            "its media appear on the page of the task that waits for it (e.g. an XaiTaskSensor)."
        )
    if result.state in ("failed", "upstream_failed"):
        return f"This task produced no xAI media: it {result.state.replace('_', ' ')} before delivering any."
    return f"No xAI media yet: the task is {result.state or 'not started'}."
