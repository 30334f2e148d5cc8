"""Hook for the xAI generation service: requests for the blocking path, aiohttp for the trigger."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import requests
from airflow.sdk import BaseHook
from requests.adapters import HTTPAdapter
from yarl import URL

from airflow_provider_xai import protocol
from airflow_provider_xai.apis import ApiDialect
from airflow_provider_xai.apis.xai import LOCAL_ID_PREFIX
from airflow_provider_xai.exceptions import (
    XaiConnectionError,
    XaiError,
    XaiRateLimitedError,
    XaiSubmissionUncertainError,
    XaiTransientError,
)
from airflow_provider_xai.hooks._pool import leased_session, request_slot
from airflow_provider_xai.hooks._settings import (
    USER_AGENT,
    ServiceSettings,
    api_of,
    combined_ca_bundle,
    settings_from_connection,
)
from airflow_provider_xai.hooks._transport import _connection_error, _parse_answer, _was_sent
from airflow_provider_xai.polling import DEFAULT_WAIT, PollPolicy, PollTracker, WaitResult, submission_delay
from airflow_provider_xai.protocol import ImageParams, SubmitRequest, TaskState, VideoParams

__all__ = [
    "USER_AGENT",
    "ServiceSettings",
    "XaiHook",
    "api_of",
    "combined_ca_bundle",
    "settings_from_connection",
]

CONNECT_TIMEOUT = 15.0
READ_TIMEOUT = 60.0


class XaiHook(BaseHook):
    """Talk to the xAI generation service (Grok Imagine) through an Airflow connection.

    :param xai_conn_id: the Airflow connection: host = base URL, password = API key.
    :param submit_retries: how many times a submission refused with 429 (or a refused connection) is
        retried with backoff. A submission that may have reached the service is never retried.
    """

    conn_name_attr = "xai_conn_id"
    default_conn_name = "xai_default"
    conn_type = "xai"
    hook_name = "xAI (Grok Imagine)"

    def __init__(self, xai_conn_id: str = default_conn_name, *, submit_retries: int = 8, **kwargs) -> None:
        super().__init__(**kwargs)
        self.xai_conn_id = xai_conn_id
        self.submit_retries = submit_retries
        self._settings: ServiceSettings | None = None
        self._session: requests.Session | None = None
        self._task_urls: dict[str, URL] = {}
        #: images that xAI's API generated synchronously through this hook, by the id the provider made
        self._generated: dict[str, TaskState] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(xai_conn_id={self.xai_conn_id!r})"

    # ------------------------------------------------------------------------------------------
    # connection
    # ------------------------------------------------------------------------------------------
    @property
    def settings(self) -> ServiceSettings:
        """Return the connection's settings, resolved once (blocking)."""
        if self._settings is None:
            self._settings = settings_from_connection(self.get_connection(self.xai_conn_id))
        return self._settings

    async def asettings(self) -> ServiceSettings:
        """Return the connection's settings, resolved once without blocking the event loop."""
        if self._settings is None:
            conn = await self.aget_connection(self.xai_conn_id)
            self._settings = settings_from_connection(conn)
        return self._settings

    def get_conn(self) -> requests.Session:
        """Return this hook's keep-alive HTTP session (no automatic retries: we decide what to retry)."""
        if self._session is None:
            session = requests.Session()
            session.mount("http://", HTTPAdapter(max_retries=0))
            session.mount("https://", HTTPAdapter(max_retries=0))
            self._session = session
        return self._session

    # ------------------------------------------------------------------------------------------
    # blocking I/O: the only lines that differ from the async path are the send and the sleep
    # ------------------------------------------------------------------------------------------
    @property
    def dialect(self) -> ApiDialect:
        """Return the dialect of the connection's API (``"gateway"`` or ``"xai"``)."""
        return self.settings.dialect

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        read_timeout: float = READ_TIMEOUT,
        **kwargs,
    ) -> requests.Response:
        """Send one request (the blocking path's only I/O line); a transport failure is classified."""
        settings = self.settings
        try:
            return self.get_conn().request(
                method,
                settings.base_url + path,
                headers=settings.headers if headers is None else headers,
                timeout=(CONNECT_TIMEOUT, read_timeout),
                verify=settings.requests_verify,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise _connection_error(exc, what=what, sent=_was_sent(exc)) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        secrets: tuple[str, ...] = (),
        read_timeout: float = READ_TIMEOUT,
        **kwargs,
    ) -> Any:
        settings = self.settings
        response = self._request(method, path, what=what, read_timeout=read_timeout, **kwargs)
        return _parse_answer(
            response.status_code,
            response.text,
            response.headers.get("Retry-After"),
            what,
            self.xai_conn_id,
            settings.dialect,
            (settings.api_key, *secrets),
        )

    def submit(self, request: SubmitRequest, *, upload_url: str | None = None) -> str:
        """Send a validated asynchronous request and return the remote id (taskId or request_id).

        Only a 429 or a refused connection is retried: then the service certainly created nothing.

        :param request: the validated request.
        :param upload_url: a signed PUT URL the service uploads the finished video to. It is a
            credential: it is sent, and never logged or repeated in an error.
        """
        body = self._post(request, upload_url)
        task_id = self.dialect.parse_submit(body)
        self.log.info("Submitted xAI %s request %s", request.model, task_id)
        return task_id

    def generate(self, request: SubmitRequest, *, timeout: float | None = None) -> TaskState:
        """Send a synchronous request (images on xAI's API) and return its finished state.

        The service gives no id, so the provider makes one; it names the files and the sidecar.

        :param request: the validated request.
        :param timeout: the longest wait for the answer, in seconds (the operator's ``timeout``). An
            answer that does not come in time may still be billed: it is an uncertain submission.
        """
        body = self._post(request, None, read_timeout=timeout or READ_TIMEOUT)
        xai_task_id = f"{LOCAL_ID_PREFIX}{uuid.uuid4().hex}"
        finished = datetime.datetime.now(datetime.timezone.utc).isoformat()
        state = self.dialect.parse_generation(body, xai_task_id, finished)
        self._generated[xai_task_id] = state
        self.log.info(
            "xAI generated %d image(s) with %s (cost %s USD); id %s",
            len(state.media_urls),
            request.model,
            state.cost_usd,
            xai_task_id,
        )
        return state

    def _post(
        self, request: SubmitRequest, upload_url: str | None, read_timeout: float = READ_TIMEOUT
    ) -> Any:
        what = f"POST {request.path}"
        json_body = request.body
        if upload_url:
            json_body = {**request.body, "output": {"upload_url": upload_url}}
        secrets = (upload_url, urlsplit(upload_url).query) if upload_url else ()
        for attempt in range(self.submit_retries + 1):
            try:
                return self._send(
                    "POST",
                    request.path,
                    what=what,
                    secrets=secrets,
                    read_timeout=read_timeout,
                    json=json_body,
                )
            except (XaiRateLimitedError, XaiConnectionError) as exc:
                if getattr(exc, "request_sent", False):
                    raise XaiSubmissionUncertainError(
                        protocol.uncertain_submission_message(what, str(exc), self.settings.api)
                    ) from None
                if attempt >= self.submit_retries:
                    raise
                delay = submission_delay(attempt, exc.retry_after)
                self.log.warning("%s not accepted (%s); retrying in %.1fs", what, exc, delay)
                time.sleep(delay)
                continue
            except XaiTransientError as exc:
                raise XaiSubmissionUncertainError(
                    protocol.uncertain_submission_message(what, str(exc), self.settings.api)
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def submit_image(
        self,
        prompt: str,
        *,
        aspect_ratio: str | None = None,
        image_url: str | None = None,
        **xai_params: Any,
    ) -> str:
        """Validate and send an image request; return its remote id.

        On the task gateway this is the remote taskId. On xAI's API images are generated at once: the id
        is one the provider makes, and :meth:`get_task` answers it from this hook.

        :param xai_params: xAI's own parameters: ``model``, ``n``, ``image_urls``, ``resolution``,
            ``quality``.
        """
        request = self.dialect.build_image(
            ImageParams(prompt, aspect_ratio=aspect_ratio, image_url=image_url, **xai_params)
        )
        self._log_warnings(request)
        if request.synchronous:
            return self.generate(request).xai_task_id
        return self.submit(request)

    def submit_video(
        self,
        prompt: str,
        *,
        duration: int | None = None,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        image_url: str | None = None,
        **xai_params: Any,
    ) -> str:
        """Validate and submit a video request (text- or image-to-video, or on xAI an edit or extension).

        :param xai_params: xAI's own parameters: ``model``, ``reference_image_urls``, ``video_url``,
            ``video_operation``. The service's own download URL is used (no upload here: the operators
            sign upload URLs).
        """
        request = self.dialect.build_video(
            VideoParams(
                prompt,
                duration=duration,
                aspect_ratio=aspect_ratio,
                resolution=resolution,
                image_url=image_url,
                delivery="download",
                **xai_params,
            )
        )
        self._log_warnings(request)
        return self.submit(request)

    def get_task(self, xai_task_id: str) -> TaskState:
        """Return the current state of a remote task."""
        if xai_task_id in self._generated:
            return self._generated[xai_task_id]
        dialect = self.dialect
        local = dialect.unknown_local_id(xai_task_id)
        if local is not None:
            raise local
        body = self._send("GET", dialect.status_path(xai_task_id), what=_status_what(dialect, xai_task_id))
        return dialect.parse_state(body, xai_task_id)

    def wait(
        self,
        xai_task_id: str,
        *,
        poll_interval: float = DEFAULT_WAIT.first_delay,
        timeout: float | None = DEFAULT_WAIT.timeout,
        max_consecutive_failures: int = DEFAULT_WAIT.max_consecutive_failures,
        max_poll_interval: float = DEFAULT_WAIT.max_delay,
    ) -> WaitResult:
        """Poll a remote task until it is terminal, the deadline passes or polls keep failing."""
        started = time.time()
        tracker = PollTracker(
            xai_task_id,
            PollPolicy(
                first_delay=poll_interval,
                max_delay=max_poll_interval,
                max_consecutive_failures=max_consecutive_failures,
            ),
            started_at=started,
            deadline=started + timeout if timeout is not None else None,
        )
        step = tracker.first_step(started)
        while step.result is None:
            time.sleep(step.delay)
            try:
                step = tracker.on_state(self.get_task(xai_task_id), time.time())
            except XaiError as exc:
                step = tracker.on_error(exc, time.time())
            if step.warning:
                self.log.warning(step.warning)
        return step.result

    def wait_for_task(
        self,
        xai_task_id: str,
        *,
        poll_interval: float = DEFAULT_WAIT.first_delay,
        timeout: float | None = DEFAULT_WAIT.timeout,
    ) -> TaskState:
        """Wait for a remote task and return it finished with media; raise on any other ending."""
        return self.wait(xai_task_id, poll_interval=poll_interval, timeout=timeout).resolve()

    def test_connection(self) -> tuple[bool, str]:
        """Prove that the service accepts the API key, generating nothing billable.

        xAI's API describes the key for free (``GET /v1/api-key``). The gateway is asked for an unknown
        task and must answer a JSON 404 with the key, and refuse the same request without it (401/403):
        only then is the 404 provably the service's, not a wrong base URL's.
        """
        settings, dialect = self.settings, self.dialect
        where = f"Connection to {settings.base_url} ({dialect.name} API)"
        try:
            status, body = self._probe(dialect.key_check_path, authenticated=True)
            verdict = dialect.check_key(status, body)
            if verdict is not None and verdict[0] and dialect.needs_auth_probe:
                anonymous, _ = self._probe(dialect.key_check_path, authenticated=False)
                if anonymous not in (401, 403):
                    verdict = None
        except XaiError as exc:
            return False, str(exc)
        if verdict is None:
            return False, (
                f"{settings.base_url} answered {status} to {dialect.key_check_path}, which is not the "
                f"answer of the {dialect.name} API: check the connection's base URL and its extra api."
            )
        ok, message = verdict
        return ok, f"{where}: {message}."

    def _probe(self, path: str, *, authenticated: bool) -> tuple[int, Any]:
        """GET ``path`` once; return (status, JSON body) for 200 and 404, raise the classified error else.

        :param authenticated: send the key (``False``: the same request without any credential).
        """
        settings = self.settings
        headers = dict(settings.headers)
        if not authenticated:
            headers.pop("Authorization")
        response = self._request("GET", path, what=f"GET {path}", headers=headers)
        if not authenticated or response.status_code == 404:
            try:
                return response.status_code, response.json()
            except ValueError:
                return response.status_code, None
        body = _parse_answer(
            response.status_code,
            response.text,
            response.headers.get("Retry-After"),
            f"GET {path}",
            self.xai_conn_id,
            settings.dialect,
            (settings.api_key,),
        )
        return response.status_code, body

    # ------------------------------------------------------------------------------------------
    # async I/O for the trigger
    # ------------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def async_session(self) -> AsyncIterator[aiohttp.ClientSession]:
        """Resolve the connection once and lease this event loop's shared keep-alive session."""
        settings = await self.asettings()
        pool_key = (settings.ca_bundle, settings.verify)
        # the context is built only if this event loop has no pool for these TLS settings yet
        async with leased_session(pool_key, settings.ssl_context) as session:
            yield session

    async def aget_task(self, xai_task_id: str, session: aiohttp.ClientSession | None = None) -> TaskState:
        """Return the current state of a remote task without blocking the event loop."""
        if session is None:
            async with self.async_session() as leased:
                return await self.aget_task(xai_task_id, leased)
        settings = self._settings or await self.asettings()
        dialect = settings.dialect
        url = self._task_urls.get(xai_task_id)
        if url is None:  # built once per task: the hot loop of a waiting trigger does no URL work
            local = dialect.unknown_local_id(xai_task_id)
            if local is not None:
                raise local
            url = self._task_urls[xai_task_id] = URL(
                f"{settings.base_url}{dialect.status_path(xai_task_id)}", encoded=True
            )
        try:
            async with request_slot(session), session.get(url, headers=settings.headers) as response:
                text = await response.text()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _connection_error(exc, what=_status_what(dialect, xai_task_id), sent=True) from None
        # the hot path: one json.loads; anything else takes the slow path that classifies the answer
        try:
            body = json.loads(text) if status == 200 else None
        except ValueError:
            body = None
        if body is None or dialect.answer_error(body):
            what = _status_what(dialect, xai_task_id)
            body = _parse_answer(
                status, text, retry_after, what, self.xai_conn_id, dialect, (settings.api_key,)
            )
        return dialect.parse_state(body, xai_task_id)

    def _log_warnings(self, request: SubmitRequest) -> None:
        for warning in request.warnings:
            self.log.warning(warning)


def _status_what(dialect: ApiDialect, xai_task_id: str) -> str:
    return f"GET {dialect.status_path(xai_task_id).split('?')[0]} for task {xai_task_id}"
