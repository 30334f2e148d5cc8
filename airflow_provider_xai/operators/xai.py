"""Operators that generate images and videos with xAI's Grok Imagine models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_xai import protocol
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.links import XaiOutputLink
from airflow_provider_xai.operators._base import XCOM_TASK_ID_KEY, XaiWaitMixin
from airflow_provider_xai.operators._ledger import RemoteTaskLedger
from airflow_provider_xai.protocol import SubmitRequest

if TYPE_CHECKING:
    from airflow.sdk import Context


class XaiBaseGenerateOperator(XaiWaitMixin, BaseOperator):
    """Submit one generation task, push its id to XCom, then return the id, wait, or defer.

    :param prompt: what to generate, 1 to 1000 characters (templated).
    :param aspect_ratio: ``1:1``, ``2:3``, ``3:2``, ``9:16`` or ``16:9`` (templated).
    :param image_url: one reference image URL, for image-to-image or image-to-video (templated).
    :param xai_conn_id: the Airflow connection of the service.
    :param wait_for_completion: ``False`` submits, pushes the id and returns it at once.
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    :param poll_interval: seconds before the first status poll; later polls back off up to a cap.
    :param timeout: how long to wait for the remote task (seconds or ``timedelta``).
    :param output_path: folder URI or ``ObjectStoragePath`` where the media are stored (templated).
    :param reattach_on_retry: on a retry, reattach to the task submitted by an earlier try.
    """

    template_fields: Sequence[str] = ("prompt", "aspect_ratio", "image_url", "output_path")
    ui_color = "#e8e3f7"
    operator_extra_links = (XaiOutputLink(),)
    default_timeout: float = 900.0
    default_poll_interval: float = 2.0

    def __init__(
        self,
        *,
        prompt: str,
        aspect_ratio: str | None = None,
        image_url: str | None = None,
        xai_conn_id: str = XaiHook.default_conn_name,
        wait_for_completion: bool = True,
        deferrable: bool = True,
        poll_interval: float | None = None,
        timeout: float | timedelta | None = None,
        output_path: Any = None,
        reattach_on_retry: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.prompt = prompt
        self.aspect_ratio = aspect_ratio
        self.image_url = image_url
        self.xai_conn_id = xai_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval if poll_interval is not None else self.default_poll_interval
        self.timeout = timeout if timeout is not None else self.default_timeout
        self.set_wait_timings("poll_interval", self.poll_interval, self.timeout)
        self.output_path = output_path
        self.reattach_on_retry = reattach_on_retry
        self._xai_task_id: str | None = None

    def build_request(self) -> SubmitRequest:
        """Validate the (rendered) parameters and build the request; raise before anything is sent."""
        raise NotImplementedError

    def execute(self, context: Context) -> Any:
        """Validate, submit (or reattach on a retry), push the id, then return it, wait, or defer."""
        request = self.build_request()
        for warning in request.warnings:
            self.log.warning(warning)
        ledger = RemoteTaskLedger.for_context(context, enabled=self.reattach_on_retry, log=self.log)
        xai_task_id = ledger.reattachable(self.hook)
        if xai_task_id is None:
            xai_task_id = self.hook.submit(request)
            ledger.record(xai_task_id, delivered=not self.wait_for_completion)
        self._xai_task_id = xai_task_id
        context["ti"].xcom_push(key=XCOM_TASK_ID_KEY, value=xai_task_id)
        if not self.wait_for_completion:
            return xai_task_id
        return self.wait_and_finish(context, xai_task_id, request.body)

    def request_body(self) -> dict | None:
        """Return the validated body of this task's request."""
        return self.build_request().body

    def on_delivered(self, context: Context, xai_task_id: str) -> None:
        """Mark the remote task delivered, so that clearing this task generates anew."""
        self._mark_remote(context, xai_task_id, "delivered")

    def on_expired(self, context: Context, xai_task_id: str) -> None:
        """Mark the remote task's media expired, so that the next try submits anew."""
        self._mark_remote(context, xai_task_id, "expired")

    def _mark_remote(self, context: Context, xai_task_id: str, status: str) -> None:
        RemoteTaskLedger.for_context(context, enabled=self.reattach_on_retry, log=None).mark(
            xai_task_id, status
        )

    def on_kill(self) -> None:
        """Say that the remote task keeps running: the service has no cancel endpoint."""
        if self._xai_task_id:
            self.log.warning(
                "Task killed; xAI task %s may still run and be billed (the service has no cancel endpoint).",
                self._xai_task_id,
            )


class XaiImageOperator(XaiBaseGenerateOperator):
    """Generate an image with ``grok-imagine-image`` (text-to-image, or image-to-image with ``image_url``).

    See :class:`XaiBaseGenerateOperator` for the parameters.
    """

    def build_request(self) -> SubmitRequest:
        """Validate the rendered parameters and build the image request."""
        return protocol.build_image_request(
            self.prompt, aspect_ratio=self.aspect_ratio, image_url=self.image_url
        )


class XaiVideoOperator(XaiBaseGenerateOperator):
    """Generate a video with ``grok-imagine-video`` (text-to-video, or image-to-video with ``image_url``).

    :param duration: 6, 10 or 15 seconds (templated; a number, not a string).
    :param resolution: ``480P`` or ``720P``; ``480p``/``720p`` are accepted and sent upper case (templated).

    See :class:`XaiBaseGenerateOperator` for the other parameters.
    """

    template_fields: Sequence[str] = (*XaiBaseGenerateOperator.template_fields, "duration", "resolution")
    default_timeout = 3600.0
    default_poll_interval = 10.0

    def __init__(self, *, duration: int | None = None, resolution: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.duration = duration
        self.resolution = resolution

    def build_request(self) -> SubmitRequest:
        """Validate the rendered parameters and build the video request."""
        return protocol.build_video_request(
            self.prompt,
            duration=self.duration,
            aspect_ratio=self.aspect_ratio,
            resolution=self.resolution,
            image_url=self.image_url,
        )
