"""The FastAPI app of the "Generated media" view, mounted on the api-server under ``/xai-media``.

Routes (each takes the task instance or run in its query string, as the UI's iframe fills it in):

- ``GET /xai-media/task-instance?dag_id=&run_id=&task_id=&map_index=``: one task instance's media.
- ``GET /xai-media/dag-run?dag_id=&run_id=``: every medium the run produced, mapped tasks included.
- ``GET|HEAD /xai-media/file?dag_id=&run_id=&task_id=&map_index=&uri=``: the bytes of one stored file of
  that task instance (one of its ``outputs``, or its sidecar), streamed in chunks, with ``Range`` support.

Every route is behind Airflow's own authentication (the UI's ``_token`` cookie or a Bearer token) and
authorization: the caller must be allowed to read the DAG's task instances and XComs. No other file is
served: a ``uri`` that is not exactly one of the task instance's own stored files gets 404.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from airflow_provider_xai.plugins import files, results
from airflow_provider_xai.plugins.render import Section, render_page, total_cost

#: pages may show media from the service's hosts (while their URLs live); nothing else comes from outside
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' https: http: data:; media-src 'self' https: http:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'"
)


def map_index_of(map_index: Annotated[str, Query()] = "-1") -> int:
    """Return the map index of the query (``-1`` when absent or when the UI left ``{MAP_INDEX}`` unfilled)."""
    try:
        return int(map_index)
    except ValueError:
        return -1


MapIndex = Annotated[int, Depends(map_index_of)]
#: Airflow's checks: a user (401 without a valid token) who may read the DAG's task instances and XComs
#: (403 otherwise), the DAG named by the ``dag_id`` query parameter
GUARDED: list[Any] = [
    Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.TASK_INSTANCE)),
    Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.XCOM)),
]


def create_app() -> FastAPI:
    """Build the app (called once, on the api-server's first request to ``/xai-media``)."""
    app = FastAPI(title="xAI generated media", docs_url=None, redoc_url=None, openapi_url=None)
    guarded = GUARDED

    @app.exception_handler(HTTPException)
    async def explain(request: Request, exc: HTTPException) -> Response:
        """Answer an error in HTML to a browser's page request, else in JSON (``{"detail": ...}``)."""
        return _error(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        """Name the missing or bad query parameters."""
        names = ", ".join(str(error.get("loc", ["", "?"])[-1]) for error in exc.errors())
        return _error(request, 422, f"Missing or invalid query parameters: {names}.")

    @app.get("/task-instance", response_class=HTMLResponse, dependencies=guarded)
    def task_instance_page(
        session: SessionDep, dag_id: str, run_id: str, task_id: str, map_index: MapIndex
    ) -> HTMLResponse:
        """Render one task instance's media (or say why there is none)."""
        found = results.load_task_results(session, dag_id, run_id, task_id, map_index)
        result = found[0] if found else None
        cards = results.generations(found)
        title = f"Generated media of {task_id}" + (f" [{map_index}]" if map_index >= 0 else "")
        page = render_page(
            title,
            [Section(title="", generations=cards)] if cards else [],
            intro=f"DAG {dag_id}, run {run_id}",
            notice=None if cards else results.notice_for(result),
            context={"dag-id": dag_id, "run-id": run_id, "task-id": task_id, "map-index": str(map_index)},
        )
        return _html(page, 200 if result is not None else 404)

    @app.get("/dag-run", response_class=HTMLResponse, dependencies=guarded)
    def dag_run_page(session: SessionDep, dag_id: str, run_id: str) -> HTMLResponse:
        """Render every medium a DAG run produced, one section per task (mapped instances together)."""
        if not results.run_exists(session, dag_id, run_id):
            raise HTTPException(404, f"No run {run_id} of DAG {dag_id}.")
        found = results.load_task_results(session, dag_id, run_id)
        by_task: dict[str, list] = {}
        for card in results.generations(found):
            by_task.setdefault(card.data["task-id"], []).append(card)
        sections = []
        for task_id, cards in by_task.items():
            costs = [
                (r.value.get("usage") or {}).get("cost_usd")
                for r in found
                if r.task_id == task_id and r.is_xai
            ]
            media = sum(len(card.media) for card in cards)
            sections.append(
                Section(
                    title=task_id,
                    generations=cards,
                    summary=f"{len(cards)} generation(s), {media} file(s), {total_cost(costs)}",
                    data={"task-id": task_id},
                )
            )
        page = render_page(
            f"Generated media of run {run_id}",
            sections,
            intro=f"DAG {dag_id}: every image and video of this run, mapped tasks included.",
            notice=None if sections else "This DAG run produced no xAI media.",
            context={"dag-id": dag_id, "run-id": run_id},
        )
        return _html(page)

    @app.api_route("/file", methods=["GET", "HEAD"], dependencies=guarded)
    def stored_file(
        request: Request,
        session: SessionDep,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: MapIndex,
        uri: str,
    ) -> Response:
        """Stream one of the task instance's stored files (or its sidecar), honouring ``Range``."""
        if "\x00" in uri or ".." in uri.replace("\\", "/").split("/"):
            raise HTTPException(403, "Refused: the file URI contains '..'.")
        found = results.load_task_results(session, dag_id, run_id, task_id, map_index)
        if uri not in results.allowed_uris(found[0].value if found else None):
            raise HTTPException(404, "Not found: this URI is not one of the files this task instance stored.")
        stored = files.find(uri)
        if stored is None:
            raise HTTPException(404, f"The stored file no longer exists at {uri}: it was deleted or expired.")
        return _stream(request, stored)

    return app


def _stream(request: Request, stored: files.StoredFile) -> Response:
    """Return the file (or the asked range of it) as a streamed response."""
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(stored.name)}",
        "Cache-Control": "private, max-age=300",
        "X-Content-Type-Options": "nosniff",
        # the bytes as stored: the api-server's GZip middleware would otherwise compress a video (already
        # compressed) and drop Content-Length, which players use to seek
        "Content-Encoding": "identity",
    }
    try:
        asked = files.parse_range(request.headers.get("range"), stored.size)
    except files.RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{stored.size}"
        return Response(status_code=416, headers=headers)
    start, end = asked if asked is not None else (0, stored.size - 1)
    length = max(end - start + 1, 0)
    headers["Content-Length"] = str(length)
    status = 200
    if asked is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{stored.size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=stored.content_type)
    return StreamingResponse(
        files.iter_bytes(stored, start, length),
        status_code=status,
        headers=headers,
        media_type=stored.content_type,
    )


def _html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        page, status_code=status, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY}
    )


def _error(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    if request.url.path.endswith("/file") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    messages = {
        401: "Sign in to Airflow to see the generated media.",
        403: "You are not allowed to see this DAG's task instances and their results.",
    }
    page = render_page("Generated media", [], notice=messages.get(status, detail))
    return HTMLResponse(page, status_code=status, headers=headers)
