"""The task gateway of ``api-contract.md``: POST returns a ``taskId``, GET ``/xai/tasks`` polls it."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from airflow_provider_xai import protocol
from airflow_provider_xai.apis import GATEWAY, ApiDialect
from airflow_provider_xai.exceptions import XaiInvalidRequestError
from airflow_provider_xai.protocol import ImageParams, SubmitRequest, TaskState, VideoParams

_XAI_ONLY = "not supported by the task gateway; use a connection with api='xai' (xAI's own API)"


def _refuse_if_set(name: str, value: object, unset: tuple[object, ...] = (None,)) -> None:
    if value not in unset and not (isinstance(value, (list, tuple)) and not value):
        raise XaiInvalidRequestError(name, value, _XAI_ONLY, api=GATEWAY)


class GatewayDialect(ApiDialect):
    """The task gateway: every request is asynchronous; the limits are :data:`protocol.LIMITS`."""

    name = GATEWAY
    default_base_url = protocol.DEFAULT_BASE_URL
    key_check_path = protocol.TASKS_PATH + "?" + urlencode({"taskId": "airflow-connection-test"})

    def build_image(self, params: ImageParams) -> SubmitRequest:
        """Validate and build a text-to-image or image-to-image request (one reference image at most)."""
        _refuse_if_set("n", protocol.whole_number(params.n), (None, 1))
        _refuse_if_set("resolution", params.resolution)
        _refuse_if_set("quality", params.quality)
        _refuse_if_set("model", params.model, (None, protocol.IMAGE_MODEL))
        image_url = params.image_url
        if params.image_urls:
            if image_url is not None:
                raise XaiInvalidRequestError(
                    "image_urls", params.image_urls, "either image_url or image_urls, not both", api=GATEWAY
                )
            image_url = params.image_urls
        return protocol.build_image_request(
            params.prompt, aspect_ratio=params.aspect_ratio, image_url=image_url
        )

    def build_video(self, params: VideoParams) -> SubmitRequest:
        """Validate and build a text-to-video or image-to-video request."""
        _refuse_if_set("model", params.model, (None, protocol.VIDEO_MODEL))
        _refuse_if_set("reference_image_urls", params.reference_image_urls)
        _refuse_if_set("video_url", params.video_url)
        _refuse_if_set("video_operation", params.video_operation)
        if params.delivery not in ("auto", "download"):
            allowed = "'auto' or 'download' (the task gateway cannot upload to a signed URL)"
            raise XaiInvalidRequestError("delivery", params.delivery, allowed, api=GATEWAY)
        return protocol.build_video_request(
            params.prompt,
            duration=params.duration,
            aspect_ratio=params.aspect_ratio,
            resolution=params.resolution,
            image_url=params.image_url,
        )

    def parse_submit(self, body: object) -> str:
        """Return the ``taskId`` of a creation answer (bare or enveloped)."""
        return protocol.parse_task_id(body)

    def status_path(self, xai_task_id: str) -> str:
        """Return ``/xai/tasks?taskId=<id>``."""
        return f"{protocol.TASKS_PATH}?{urlencode({'taskId': xai_task_id})}"

    def parse_state(self, body: object, xai_task_id: str) -> TaskState:
        """Return the state of a status answer (bare or enveloped); the gateway reports no cost."""
        return TaskState.from_response(body, xai_task_id)

    def answer_error(self, body: object) -> tuple[int, str] | None:
        """Return the error an enveloped 2xx answer reports, if any."""
        return protocol.envelope_error(body)

    def check_key(self, status_code: int, body: object) -> tuple[bool, str] | None:
        """Accept the gateway's 404 for the unknown test task only when the answer is the service's JSON."""
        if status_code == 404 and isinstance(body, Mapping):
            return True, "the API key is accepted (the service answered 404 for an unknown task)"
        if status_code == 200:
            return True, "the API key is accepted"
        return None
