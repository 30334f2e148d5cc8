"""Operators that generate images and videos with xAI's Grok Imagine models, on either API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.log import mask_secret

from airflow_provider_xai._compat import AirflowFailException
from airflow_provider_xai.delivery import UploadTarget, output_scheme, plan_upload, sign_upload
from airflow_provider_xai.exceptions import XaiError, XaiSubmissionUncertainError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.links import XaiOutputLink
from airflow_provider_xai.operators._base import XCOM_TASK_ID_KEY, XaiWaitMixin
from airflow_provider_xai.operators._ledger import RemoteTaskLedger
from airflow_provider_xai.polling import (
    DEFAULT_WAIT,
    IMAGE_WAIT,
    VIDEO_WAIT,
    WaitDefaults,
    WaitEnd,
    WaitResult,
)
from airflow_provider_xai.protocol import ImageParams, SubmitRequest, TaskState, VideoParams

if TYPE_CHECKING:
    from airflow.sdk import Context

#: XCom key of where the service uploads a video (an object URI, never the signed URL)
XCOM_DELIVERY_KEY = "xai_delivery"


class XaiSubmissionUncertainFailure(XaiSubmissionUncertainError, AirflowFailException):
    """A submission whose fate is unknown: the try fails without Airflow's automatic retries.

    After a 5xx, a dropped connection or a timeout on the POST the service may have created (and
    billed) the task; a retry would create another. A person decides, by clearing the task.
    """


def request_record(request: SubmitRequest, upload: UploadTarget | None = None) -> dict[str, Any]:
    """Return what is kept of a request (sidecar, ledger, ``next_kwargs``): its body, never a signed URL.

    An uploaded video's record names the object it goes to under ``delivery``.
    """
    record = dict(request.body)
    if upload is not None:
        record["delivery"] = upload.to_record()
    return record


class XaiBaseGenerateOperator(XaiWaitMixin, BaseOperator):
    """Submit one generation task, push its id to XCom, then return the id, wait, or defer.

    The connection's extra ``api`` picks the API (``"gateway"`` or ``"xai"``); every parameter is checked
    against that API's limits before anything is sent.

    :param prompt: what to generate (templated): 1 to 1000 characters on the gateway, 4096 on xAI.
    :param aspect_ratio: one of the API's ratios (templated); the gateway's: ``1:1``, ``2:3``, ``3:2``,
        ``9:16``, ``16:9``.
    :param image_url: one reference image URL, for image-to-image or image-to-video (templated).
    :param model: the model (templated); default the API's base image or video model.
    :param xai_conn_id: the Airflow connection of the service.
    :param wait_for_completion: ``False`` submits, pushes the id and returns it at once.
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    :param poll_interval: seconds before the first status poll; later polls back off up to a cap.
    :param timeout: how long to wait for the remote task (seconds or ``timedelta``).
    :param output_path: folder URI or ``ObjectStoragePath`` where the media are stored (templated).
    :param reattach_on_retry: on a retry, reattach to the task submitted by an earlier try.
    :param max_consecutive_failures: failed status polls in a row that end the wait (as the sensor's).
    :param max_poll_interval: the cap of the delay between polls (as the sensor's).
    """

    template_fields: Sequence[str] = ("prompt", "aspect_ratio", "image_url", "model", "output_path")
    ui_color = "#e8e3f7"
    operator_extra_links = (XaiOutputLink(),)
    #: the wait's defaults for this kind of media
    wait_defaults: WaitDefaults = IMAGE_WAIT

    def __init__(
        self,
        *,
        prompt: str,
        aspect_ratio: str | None = None,
        image_url: str | None = None,
        model: str | None = None,
        xai_conn_id: str = XaiHook.default_conn_name,
        wait_for_completion: bool = True,
        deferrable: bool = True,
        poll_interval: float | None = None,
        timeout: float | timedelta | None = None,
        output_path: Any = None,
        reattach_on_retry: bool = True,
        max_consecutive_failures: int = DEFAULT_WAIT.max_consecutive_failures,
        max_poll_interval: float = DEFAULT_WAIT.max_delay,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_consecutive_failures = max_consecutive_failures
        self.max_poll_interval = max_poll_interval
        self.prompt = prompt
        self.aspect_ratio = aspect_ratio
        self.image_url = image_url
        self.model = model
        self.xai_conn_id = xai_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval if poll_interval is not None else self.wait_defaults.first_delay
        self.timeout = timeout if timeout is not None else self.wait_defaults.timeout
        self.set_wait_timings("poll_interval", self.poll_interval, self.timeout)
        self.output_path = output_path
        self.reattach_on_retry = reattach_on_retry
        self._xai_task_id: str | None = None

    def build_request(self) -> SubmitRequest:
        """Validate the (rendered) parameters and build the request; raise before anything is sent."""
        raise NotImplementedError

    def execute(self, context: Context) -> Any:
        """Validate, submit (or reattach on a retry), push the id, then return it, wait, or defer.

        Images on xAI's API come back at once: they are stored now (nothing to wait for or defer), and
        with ``wait_for_completion=False`` the id is still what the task returns.
        """
        request = self.build_request()
        for warning in request.warnings:
            self.log.warning(warning)
        ledger = RemoteTaskLedger.for_context(context, enabled=self.reattach_on_retry, log=self.log)
        interrupted = ledger.interrupted_submission()
        if interrupted:
            raise XaiSubmissionUncertainFailure(
                f"An earlier try of this task died while its request was being sent ({interrupted}): the "
                "service may have created, and billed, a task whose id never came back. This try fails "
                "for good instead of submitting again. Check the service (xAI: the console's usage), then "
                "clear the task to submit anew."
            )
        xai_task_id = ledger.reattachable(self.hook)
        state: TaskState | None = None
        if xai_task_id is not None:
            record = ledger.saved(xai_task_id, "request") or request_record(request)
            saved = ledger.saved(xai_task_id, "state")
            state = TaskState.from_event(saved) if saved else None
        else:
            try:
                xai_task_id, record, state = self.send(context, request, ledger)
            except XaiSubmissionUncertainError as exc:  # the in-flight note stays: no retry resubmits
                raise XaiSubmissionUncertainFailure(
                    f"{exc} This try fails for good instead of being retried: Airflow's retries would "
                    "submit, and pay, again. Clear the task to submit anew once you have checked."
                ) from None
            except XaiError:  # refused for certain (429s, a refused connection, auth): nothing was created
                ledger.forget_submitting()
                raise
        self._xai_task_id = xai_task_id
        self.lineage_seen.update(xai_task_id=xai_task_id, request=record)
        context["ti"].xcom_push(key=XCOM_TASK_ID_KEY, value=xai_task_id)
        if state is not None:
            value = self.finish(context, WaitResult(xai_task_id, WaitEnd.TERMINAL, state), record)
            return value if self.wait_for_completion else xai_task_id
        if not self.wait_for_completion:
            return xai_task_id
        return self.wait_and_finish(context, xai_task_id, record)

    def send(
        self, context: Context, request: SubmitRequest, ledger: RemoteTaskLedger
    ) -> tuple[str, dict[str, Any], TaskState | None]:
        """Send a new request; return its id, its record and, for synchronous images, their state.

        What a retry needs is in the ledger before anything else can fail: the id (and where an upload
        goes) right after the submission, the images' URLs right after they are generated.
        """
        if request.synchronous:
            ledger.record_submitting()  # a worker killed mid-request leaves this: no blind resubmission
            state = self.hook.generate(request, timeout=self._timeout_seconds)
            record = request_record(request)
            ledger.record(state.xai_task_id, request=record, state=state.to_event())
            return state.xai_task_id, record, state
        upload = plan_upload(self.output_path) if request.delivery == "upload" else None
        upload_url = sign_upload(upload, self._timeout_seconds) if upload else None
        if upload_url:
            mask_secret(upload_url)  # a credential: masked in every log line, should one ever name it
        record = request_record(request, upload)
        ledger.record_submitting()  # right before the POST: a failed signing above leaves no note
        xai_task_id = self.hook.submit(request, upload_url=upload_url)
        ledger.record(xai_task_id, delivered=not self.wait_for_completion, request=record)
        if upload:
            self.log.info("xAI will upload the video of %s to %s itself.", xai_task_id, upload.uri)
            # where the video goes, for a resume without next_kwargs or task_state_store (no secret in it)
            context["ti"].xcom_push(key=XCOM_DELIVERY_KEY, value=upload.to_record())
        return xai_task_id, record, None

    def request_body(self) -> dict | None:
        """Return the validated body of this task's request."""
        return request_record(self.build_request())

    def saved_request(self, context: Context, xai_task_id: str) -> dict | None:
        """Return the request record kept for a retry (where an upload went), else rebuild it."""
        ledger = RemoteTaskLedger.for_context(context, enabled=True, log=None)
        saved = ledger.saved(xai_task_id, "request")
        if saved:
            return saved
        try:
            record = self.request_body()
        except Exception as exc:  # noqa: BLE001 - the record only describes the request in the sidecar
            self.log.info("The request of %s is not recorded in the sidecar: %s", xai_task_id, exc)
            return None
        ti = context["ti"]
        delivery = ti.xcom_pull(key=XCOM_DELIVERY_KEY, map_indexes=getattr(ti, "map_index", -1))
        if record is not None and isinstance(delivery, dict):
            record["delivery"] = delivery
        return record

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
    """Generate images: text-to-image, or image-to-image / edits from source images.

    On the task gateway one image per task (``grok-imagine-image``); on xAI's API up to 10 per request,
    edits from up to 5 sources, generated synchronously in the worker (``deferrable`` has nothing to
    defer there) under an id the provider makes.

    :param n: images per request, 1 to 10 (xAI only; templated).
    :param image_urls: source images, up to 5 on xAI (one on the gateway; templated).
    :param resolution: ``1k`` or ``2k`` (xAI only; templated).
    :param quality: ``low``, ``medium``, ``high`` or ``auto``, on models that have it (xAI; templated).

    See :class:`XaiBaseGenerateOperator` for the other parameters.
    """

    template_fields: Sequence[str] = (
        *XaiBaseGenerateOperator.template_fields,
        "n",
        "image_urls",
        "resolution",
        "quality",
    )

    def __init__(
        self,
        *,
        n: int | None = None,
        image_urls: list[str] | None = None,
        resolution: str | None = None,
        quality: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.n = n
        self.image_urls = image_urls
        self.resolution = resolution
        self.quality = quality

    def build_request(self) -> SubmitRequest:
        """Validate the rendered parameters for the connection's API and build the image request."""
        return self.hook.dialect.build_image(
            ImageParams(
                self.prompt,
                aspect_ratio=self.aspect_ratio,
                image_url=self.image_url,
                model=self.model,
                n=self.n,
                image_urls=self.image_urls,
                resolution=self.resolution,
                quality=self.quality,
            )
        )


class XaiVideoOperator(XaiBaseGenerateOperator):
    """Generate a video: text- or image-to-video; on xAI's API also from reference images, or an edit.

    On xAI's API a video can also extend another one, and be uploaded by the service into S3.

    :param duration: seconds (templated; a rendered whole-number string is accepted): 6, 10 or 15 on the
        gateway; 1 to 15 on xAI (10 at most with reference images; 2 to 10 for an extension).
    :param resolution: ``480p``/``720p`` (``1080p`` on ``grok-imagine-video-1.5``), in either case; sent
        in the case the API wants (templated).
    :param reference_image_urls: up to 7 reference images, not with ``image_url`` (xAI; templated).
    :param video_url: the video to edit or extend (xAI; templated).
    :param video_operation: ``"edit"`` or ``"extend"``, with ``video_url`` (xAI; templated).
    :param delivery: ``"auto"`` (default): on xAI's API with an ``output_path`` on S3 the service uploads
        the video straight into the bucket through a signed URL; elsewhere the worker downloads it.
        ``"upload"`` insists on the upload (an error where the path cannot be signed), ``"download"``
        forces the download (templated).

    See :class:`XaiBaseGenerateOperator` for the other parameters.
    """

    template_fields: Sequence[str] = (
        *XaiBaseGenerateOperator.template_fields,
        "duration",
        "resolution",
        "reference_image_urls",
        "video_url",
        "video_operation",
        "delivery",
    )
    wait_defaults = VIDEO_WAIT

    def __init__(
        self,
        *,
        duration: int | str | None = None,
        resolution: str | None = None,
        reference_image_urls: list[str] | None = None,
        video_url: str | None = None,
        video_operation: str | None = None,
        delivery: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.duration = duration
        self.resolution = resolution
        self.reference_image_urls = reference_image_urls
        self.video_url = video_url
        self.video_operation = video_operation
        self.delivery = delivery

    def build_request(self) -> SubmitRequest:
        """Validate the rendered parameters for the connection's API and build the video request."""
        return self.hook.dialect.build_video(
            VideoParams(
                self.prompt,
                duration=self.duration,
                aspect_ratio=self.aspect_ratio,
                resolution=self.resolution,
                image_url=self.image_url,
                model=self.model,
                reference_image_urls=self.reference_image_urls,
                video_url=self.video_url,
                video_operation=self.video_operation,
                delivery=self.delivery,
                output_scheme=output_scheme(self.output_path),
            )
        )
