"""One dialect per remote API: the only place that knows what differs between the two.

The task gateway (``api-contract.md``) and xAI's own API (``xai-api-contract.md``) differ in paths,
limits, request bodies, answers and statuses. Each :class:`ApiDialect` turns the user's parameters into
a validated :class:`~airflow_provider_xai.protocol.SubmitRequest` and the service's answers into the
shared :class:`~airflow_provider_xai.protocol.TaskState`; the hook, trigger, sensor, operators and
``finish`` never ask which API they talk to. Pure: no I/O and no Airflow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from airflow_provider_xai.exceptions import XaiError, XaiInvalidRequestError, XaiNotFoundError
from airflow_provider_xai.protocol import ImageParams, SubmitRequest, TaskState, VideoParams

GATEWAY = "gateway"
XAI = "xai"
APIS = (GATEWAY, XAI)
XAI_BASE_URL = "https://api.x.ai"


class ApiDialect:
    """What one remote API needs: its paths, limits, bodies and answers.

    :cvar name: the connection extra ``api`` that selects this dialect.
    :cvar default_base_url: the base URL of a connection with no host.
    :cvar key_check_path: the free endpoint ``test_connection`` asks.
    :cvar needs_auth_probe: the key check's answer alone does not prove the service (the gateway's
        404): the same request without a key must then be refused.
    """

    name: str = ""
    default_base_url: str = ""
    key_check_path: str = ""
    #: whether ``test_connection`` must also see the key check refused without a key (401/403)
    needs_auth_probe: bool = False

    def build_image(self, params: ImageParams) -> SubmitRequest:
        """Validate image parameters for this API and build the request; raise before anything is sent."""
        raise NotImplementedError

    def build_video(self, params: VideoParams) -> SubmitRequest:
        """Validate video parameters for this API and build the request; raise before anything is sent."""
        raise NotImplementedError

    def parse_submit(self, body: object) -> str:
        """Return the remote id of an accepted asynchronous request."""
        raise NotImplementedError

    def parse_generation(self, body: object, xai_task_id: str, finished_at: str) -> TaskState:
        """Return the finished state of a synchronous request's answer (the media themselves)."""
        raise XaiError(f"The {self.name} API has no synchronous requests.")

    def status_path(self, xai_task_id: str) -> str:
        """Return the path (with its query) that reports a remote task's status."""
        raise NotImplementedError

    def parse_state(self, body: object, xai_task_id: str) -> TaskState:
        """Return the shared state of a status answer."""
        raise NotImplementedError

    def answer_error(self, body: object) -> tuple[int, str] | None:
        """Return (status, message) when a 2xx answer still reports an error, else ``None``."""
        return None

    def check_key(self, status_code: int, body: object) -> tuple[bool, str] | None:
        """Judge the answer of :attr:`key_check_path`; ``None`` defers to the HTTP error's class."""
        raise NotImplementedError

    def unknown_local_id(self, xai_task_id: str) -> XaiNotFoundError | None:
        """Return the error for an id the provider made and the service cannot know, else ``None``."""
        return None


@contextlib.contextmanager
def naming_api(api: str) -> Iterator[None]:
    """Name the API in every parameter error raised inside (the limits differ between the two)."""
    try:
        yield
    except XaiInvalidRequestError as exc:
        if exc.api is not None:
            raise
        raise XaiInvalidRequestError(exc.parameter, exc.value, exc.allowed, api=api) from None


def dialect_for(api: str) -> ApiDialect:
    """Return the dialect of an API name (``"gateway"`` or ``"xai"``)."""
    from airflow_provider_xai.apis.gateway import GatewayDialect
    from airflow_provider_xai.apis.xai import XaiApiDialect

    dialects: dict[str, Any] = {GATEWAY: GatewayDialect, XAI: XaiApiDialect}
    try:
        return dialects[api]()
    except KeyError:
        raise XaiError(
            f"Invalid connection extra api: {api!r}. Allowed: 'gateway' (the task gateway) or 'xai' "
            "(xAI's own API)."
        ) from None
