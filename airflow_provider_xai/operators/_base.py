"""What every xAI operator and the sensor share: wait or defer, then one ``finish`` for every path."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk import Asset

from airflow_provider_xai.exceptions import XaiMediaExpiredError, XaiTransientError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.links import XaiOutputLink, output_link
from airflow_provider_xai.polling import DEFAULT_WAIT, WaitEnd, WaitResult
from airflow_provider_xai.protocol import IMAGE_MODEL, VIDEO_MODEL, Outcome, TaskState, outcome_of
from airflow_provider_xai.triggers.xai import XaiTaskTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

#: extra time the Airflow deferral timeout gets over the trigger's own deadline, so that the
#: trigger's clearer timeout event wins
DEFERRAL_MARGIN_SECONDS = 60.0
XCOM_TASK_ID_KEY = "xai_task_id"
#: each API's default video duration (seconds), when the request names none
DEFAULT_VIDEO_SECONDS = {"gateway": 6, "xai": 8}


def positive_seconds(name: str, value: object) -> float:
    """Return ``value`` (a number or ``timedelta``) in seconds if it is positive, else raise."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"Invalid {name}: {value!r}. Allowed: a positive number of seconds or a timedelta.")
    return float(seconds)


class XaiWaitMixin:
    """Wait for a remote task in the worker or in the triggerer, and finish it the same way.

    Subclasses set ``xai_conn_id``, ``deferrable``, ``output_path`` and call :meth:`set_wait_timings`.
    """

    xai_conn_id: str
    deferrable: bool
    output_path: Any
    _first_delay: float
    _timeout_seconds: float
    #: failed status polls in a row that end a wait
    max_consecutive_failures: int = DEFAULT_WAIT.max_consecutive_failures
    #: the cap of the delay between polls
    max_poll_interval: float = DEFAULT_WAIT.max_delay
    if TYPE_CHECKING:  # provided by BaseOperator
        log: Any

        def defer(self, **kwargs: Any) -> NoReturn: ...

    def set_wait_timings(self, interval_name: str, interval: object, timeout: object) -> None:
        """Check and keep the first poll delay and the timeout, in seconds (a bad value fails at once).

        :param interval_name: the parameter that holds the first delay (named in the error).
        :param interval: the first poll delay (a number or ``timedelta``).
        :param timeout: how long to wait (a number or ``timedelta``).
        """
        self._first_delay = positive_seconds(interval_name, interval)
        self._timeout_seconds = positive_seconds("timeout", timeout)

    @property
    def lineage_seen(self) -> dict[str, Any]:
        """Return what this try learned for OpenLineage, kept on the instance the OpenLineage listener reads.

        Keys: ``xai_task_id``, ``request``, ``state``, ``result``, ``files`` (the stored files' descriptions).
        """
        seen = self.__dict__.get("_xai_lineage_seen")
        if seen is None:
            seen = self.__dict__["_xai_lineage_seen"] = {}
        return seen

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Return the OpenLineage lineage of a successful try: sources in, stored files out, a run facet.

        Needs the OpenLineage provider (the ``openlineage`` extra), which calls it; see
        :mod:`airflow_provider_xai.lineage` for the dataset names.
        """
        from airflow_provider_xai.lineage import operator_lineage

        return operator_lineage(self, self.lineage_seen, failed=False)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """Return the OpenLineage lineage of a failed try: its sources, what is known of the remote task."""
        from airflow_provider_xai.lineage import operator_lineage

        return operator_lineage(self, self.lineage_seen, failed=True)

    @cached_property
    def hook(self) -> XaiHook:
        """Return the hook of this task's connection."""
        return XaiHook(xai_conn_id=self.xai_conn_id)

    def wait_and_finish(self, context: Context, xai_task_id: str, request: dict | None) -> dict[str, Any]:
        """Wait in the worker (blocking) or defer to the triggerer; return the result dict."""
        if self.deferrable:
            return self.defer_wait(context, xai_task_id, request)
        result = self.hook.wait(
            xai_task_id,
            poll_interval=self._first_delay,
            timeout=self.wait_budget(context),
            max_consecutive_failures=self.max_consecutive_failures,
            max_poll_interval=self.max_poll_interval,
        )
        return self.finish(context, result, request)

    def wait_budget(self, context: Context) -> float:
        """Return how long this try may wait: ``timeout``, or less when ``execution_timeout`` ends first.

        Airflow does not enforce ``execution_timeout`` while a task is deferred, so the wait's own
        deadline honours what is left of it, in the blocking and the deferred path alike.
        """
        budget = self._timeout_seconds
        execution_timeout = getattr(self, "execution_timeout", None)
        if isinstance(execution_timeout, timedelta):
            started = getattr(context.get("ti"), "start_date", None)
            spent = (
                (datetime.now(timezone.utc) - started).total_seconds()
                if isinstance(started, datetime)
                else 0.0
            )
            budget = min(budget, max(execution_timeout.total_seconds() - spent, 0.0))
        return budget

    def defer_wait(self, context: Context, xai_task_id: str, request: dict | None) -> dict[str, Any]:
        """Finish at once if the task is already terminal; otherwise defer to :class:`XaiTaskTrigger`."""
        started = time.time()
        budget = self.wait_budget(context)
        try:
            state = self.hook.get_task(xai_task_id)
        except XaiTransientError as exc:
            self.log.info("Status check before deferring failed (%s); the trigger will retry.", exc)
        else:
            if outcome_of(state) is not Outcome.WAIT:
                self.log.info(
                    "xAI task %s is already %s; finishing without deferring.", xai_task_id, state.status
                )
                return self.finish(context, WaitResult(xai_task_id, WaitEnd.TERMINAL, state), request)
        trigger = XaiTaskTrigger(
            xai_task_id=xai_task_id,
            xai_conn_id=self.xai_conn_id,
            poll_interval=self._first_delay,
            started_at=started,
            deadline=started + budget,
            max_consecutive_failures=self.max_consecutive_failures,
            max_poll_interval=self.max_poll_interval,
        )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            kwargs={"request": request},
            timeout=timedelta(seconds=budget + DEFERRAL_MARGIN_SECONDS),
        )

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, request: dict | None = None
    ) -> dict[str, Any]:
        """Resume after the trigger fired: validate its event, then finish like the blocking path."""
        result = WaitResult.from_event(event)
        if request is None:  # dag.test() resumes with the event alone: the ledger or the fields hold it
            request = self.saved_request(context, result.xai_task_id)
        return self.finish(context, result, request)

    def request_body(self) -> dict | None:
        """Return the record of the request this task sends (``None`` for a task that does not submit)."""
        return None

    def saved_request(self, context: Context, xai_task_id: str) -> dict | None:
        """Return the record of the request that created ``xai_task_id``, where this task knows it."""
        return self.request_body()

    def finish(self, context: Context, result: WaitResult, request: dict | None) -> dict[str, Any]:
        """Turn the end of a wait into the task's outcome: the one place every path ends in."""
        self.lineage_seen.update(xai_task_id=result.xai_task_id, request=request, state=result.state)
        state = result.resolve(uploaded=upload_of(request) is not None)
        if state.finished_at is None and state.api == "xai":  # xAI's answers carry no times: when seen
            state = dataclasses.replace(state, finished_at=datetime.now(timezone.utc).isoformat())
        self.log.info(
            "xAI task %s completed with %d media URL(s) on the %s API (cost %s USD); trace id %s",
            state.xai_task_id,
            len(state.media_urls),
            state.api,
            state.cost_usd,
            state.trace_id,
        )
        if state.error_message:  # a success with a note, e.g. some of several images were moderated
            self.log.warning("xAI task %s: %s", state.xai_task_id, state.error_message)
        try:
            files = self.store_media(context, state, request)
        except XaiMediaExpiredError:
            self.on_expired(context, state.xai_task_id)
            raise
        value = result_dict(state, request, [f["uri"] for f in files])
        value["usage"] = usage_of(state, request, context)
        self.lineage_seen.update(result=value, files=files)
        self.add_outlet_extra(context, value)
        context["ti"].xcom_push(key=XaiOutputLink().xcom_key, value=output_link(value))
        self.on_delivered(context, state.xai_task_id)
        return value

    def on_delivered(self, context: Context, xai_task_id: str) -> None:
        """Record that the task's media were delivered (operators remember it for retries)."""

    def on_expired(self, context: Context, xai_task_id: str) -> None:
        """Record that the task's media URLs expired (operators then resubmit on a retry)."""

    def store_media(self, context: Context, state: TaskState, request: dict | None) -> list[dict[str, Any]]:
        """Store the media under ``output_path`` (when set); return the stored files' descriptions."""
        if not self.output_path:
            return []
        import requests

        from airflow_provider_xai.storage import record_upload_files, store_media_files

        upload = upload_of(request)
        if upload is not None:
            return record_upload_files(self.output_path, state, request, upload["uri"], log=self.log)

        with requests.Session() as session:
            session.verify = self.hook.settings.media_verify  # public roots plus the connection's CA
            return store_media_files(
                self.output_path,
                state,
                request,
                log=self.log,
                session=session,
                abort_unfinished=context["ti"].try_number > 1,
            )

    def add_outlet_extra(self, context: Context, value: dict[str, Any]) -> None:
        """Give every asset event of this task flat ``extra`` (see :func:`outlet_extra`)."""
        outlets = [o for o in (getattr(self, "outlets", None) or []) if isinstance(o, Asset)]
        if not outlets:
            return
        extra = outlet_extra(value, self.output_path)
        events = context["outlet_events"]
        for asset in outlets:
            events[asset].extra.update(extra)


def outlet_extra(value: dict[str, Any], output_path: Any = None) -> dict[str, Any]:
    """Return the flat ``extra`` of a task's asset events: what a consumer needs, without XCom.

    ``xai_task_id``, ``api``, ``model``, ``status``, ``finished_at``, ``outputs`` (the stored files),
    ``sidecar`` (their description, ``None`` without ``output_path``), ``media_count``, ``video_seconds``
    and ``cost_usd`` (``None`` where the API reports none). Never a media URL: they are short-lived and
    may be signed.

    :param value: the task's result dict (with ``usage``).
    :param output_path: the task's rendered ``output_path``, where the sidecar is.
    """
    usage = value.get("usage") or {}
    sidecar = None
    if output_path:
        from airflow_provider_xai.storage import as_storage_path

        sidecar = str(as_storage_path(output_path) / f"{value['xai_task_id']}.json")
    return {
        "xai_task_id": value["xai_task_id"],
        "api": value["api"],
        "model": value["model"],
        "status": value["status"],
        "finished_at": value["finished_at"],
        "outputs": value["outputs"],
        "sidecar": sidecar,
        "media_count": usage.get("media_count"),
        "video_seconds": usage.get("video_seconds"),
        "cost_usd": usage.get("cost_usd"),
    }


def upload_of(request: dict | None) -> dict[str, Any] | None:
    """Return where the service uploads the media itself (``{"mode": "upload", "uri"}``), else ``None``."""
    delivery = request.get("delivery") if isinstance(request, dict) else None
    if isinstance(delivery, dict) and delivery.get("mode") == "upload" and delivery.get("uri"):
        return delivery
    return None


def model_of(state: TaskState, request: dict | None) -> str | None:
    """Return the model that produced a task: from the request, else from the result or its media."""
    if request and request.get("model"):
        return request["model"]
    for source in (
        state.result,
        (state.result or {}).get("data") if isinstance(state.result, dict) else None,
    ):
        if isinstance(source, dict) and isinstance(source.get("model"), str):
            return source["model"]
    if any(url.split("?")[0].lower().endswith((".mp4", ".mov", ".webm")) for url in state.media_urls):
        return VIDEO_MODEL
    return IMAGE_MODEL if state.media_urls else None


def result_dict(state: TaskState, request: dict | None, outputs: list[str]) -> dict[str, Any]:
    """Build the small JSON-serializable return value of every operator and the sensor."""
    return {
        "xai_task_id": state.xai_task_id,
        "api": state.api,
        "status": state.status,
        "model": model_of(state, request),
        "media_urls": list(state.media_urls),
        "outputs": outputs,
        "result": state.result,
        "created_at": state.created_at,
        "finished_at": state.finished_at,
        "trace_id": state.trace_id,
    }


def usage_of(state: TaskState, request: dict | None, context: Context) -> dict[str, Any]:
    """Return the usage of a delivered task: media count, video seconds, cost in USD, try number."""
    seconds: int | None = 0
    if str(model_of(state, request) or "").startswith(VIDEO_MODEL):
        video = state.result.get("video") if isinstance(state.result, dict) else None
        if isinstance(video, dict) and isinstance(video.get("duration"), (int, float)):
            seconds = video["duration"]  # what xAI reports it made
        elif request is not None:
            seconds = request.get("duration", DEFAULT_VIDEO_SECONDS[state.api])
        else:
            seconds = None  # a sensor's task: the request is unknown
    return {
        "media_count": len(state.media_urls) or (1 if upload_of(request) else 0),
        "video_seconds": seconds,
        "cost_usd": state.cost_usd,
        "try_number": getattr(context.get("ti"), "try_number", None),
    }
