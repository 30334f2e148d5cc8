"""The operators on xAI's own API: synchronous images, videos, direct delivery into S3, retries."""

from __future__ import annotations

import json
import pathlib

import pytest

from airflow_provider_xai.exceptions import XaiInvalidRequestError, XaiMediaDownloadError
from airflow_provider_xai.operators._ledger import STATE_KEY
from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator
from tests.compat import TaskDeferred
from tests.conftest import API_KEY, run_trigger
from tests.storage.s3 import moto_s3  # noqa: F401 - the fixture

SIGNATURE = "Signature="  # SigV4's X-Amz-Signature= and SigV2's Signature=


class DictStore(dict):
    """``task_state_store``'s get/set contract."""

    def set(self, key, value, retention=None):
        self[key] = value


def ti_context(store=None, max_tries=1):
    from tests.conftest import RecordingTI

    ti = RecordingTI()
    ti.max_tries, ti.try_number = max_tries, 1
    context = {"ti": ti}
    if store is not None:
        context["task_state_store"] = store
    return context


def stored(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------------------------------
# images: generated in the worker, nothing to defer
# --------------------------------------------------------------------------------------------------
def test_several_images_in_one_task_are_stored_with_their_cost(xai_api_conn, tmp_path):
    context = ti_context()
    op = XaiImageOperator(task_id="img", prompt="a fox", n=2, resolution="2k", output_path=str(tmp_path))
    result = op.execute(context)  # deferrable=True by default: images on xAI have nothing to defer
    image_id = context["ti"].xcom["xai_task_id"]
    assert result["xai_task_id"] == image_id and image_id.startswith("xai-img-")
    assert (result["api"], result["status"], len(result["outputs"])) == ("xai", "completed", 2)
    assert result["usage"]["cost_usd"] == pytest.approx(0.04) and result["usage"]["media_count"] == 2
    assert stored(tmp_path) == [f"{image_id}.json", f"{image_id}_0.jpeg", f"{image_id}_1.jpeg"]
    sidecar = json.loads((tmp_path / f"{image_id}.json").read_text())
    assert sidecar["api"] == "xai" and sidecar["cost_usd"] == pytest.approx(0.04)
    assert sidecar["request"]["n"] == 2 and len(sidecar["files"]) == 2
    assert xai_api_conn.count("POST", "/v1/images/generations") == 1
    assert API_KEY not in json.dumps(result) + repr(op)


def test_an_edit_from_several_sources(xai_api_conn, tmp_path):
    first = XaiImageOperator(task_id="a", prompt="a fox", n=2).execute(ti_context())
    op = XaiImageOperator(
        task_id="b", prompt="bluer", image_urls=first["media_urls"], output_path=str(tmp_path)
    )
    result = op.execute(ti_context())
    assert result["status"] == "completed" and len(result["outputs"]) == 1
    assert xai_api_conn.count("POST", "/v1/images/edits") == 1


def test_without_waiting_the_id_is_returned_and_the_images_are_still_stored(xai_api_conn, tmp_path):
    context = ti_context()
    value = XaiImageOperator(
        task_id="img", prompt="a fox", wait_for_completion=False, output_path=str(tmp_path)
    ).execute(context)
    assert value == context["ti"].xcom["xai_task_id"]
    assert stored(tmp_path) == [f"{value}.json", f"{value}_0.jpeg"]


def test_a_retry_stores_the_generated_images_instead_of_paying_again(xai_api_conn, tmp_path):
    store = DictStore()
    xai_api_conn.configure(media_truncate_count=1)  # the first try's download breaks off
    op = XaiImageOperator(task_id="img", prompt="a fox", output_path=str(tmp_path))
    with pytest.raises(XaiMediaDownloadError):
        op.execute(ti_context(store))
    assert store[STATE_KEY]["status"] == "submitted" and store[STATE_KEY]["state"]["media_urls"]
    assert stored(tmp_path) == []  # nothing half-written under a final name
    result = op.execute(ti_context(store))  # the retry
    assert result["xai_task_id"] == store[STATE_KEY]["xai_task_id"] and len(result["outputs"]) == 1
    assert xai_api_conn.count("POST", "/v1/images/generations") == 1  # paid once
    assert store[STATE_KEY]["status"] == "delivered"


def test_a_moderated_image_fails_without_storing(xai_api_conn, tmp_path):
    with pytest.raises(Exception, match="errorCode=moderated"):
        XaiImageOperator(task_id="img", prompt="a fox [xai:moderated]", output_path=str(tmp_path)).execute(
            ti_context()
        )
    assert stored(tmp_path) == []


# --------------------------------------------------------------------------------------------------
# videos: deferred or blocking, like the gateway
# --------------------------------------------------------------------------------------------------
def test_a_video_defers_on_its_request_id_and_finishes(xai_api_conn, tmp_path):
    context = ti_context()
    op = XaiVideoOperator(
        task_id="vid", prompt="waves", duration="4", poll_interval=0.01, output_path=str(tmp_path)
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    request_id = context["ti"].xcom["xai_task_id"]
    assert deferred.value.trigger.xai_task_id == request_id
    result = op.execute_complete(context, run_trigger(deferred.value.trigger), **deferred.value.kwargs)
    assert (result["api"], result["model"], result["usage"]["video_seconds"]) == (
        "xai",
        "grok-imagine-video",
        4,
    )
    assert result["usage"]["cost_usd"] == pytest.approx(0.2)
    assert stored(tmp_path) == [f"{request_id}.json", f"{request_id}_0.mp4"]


def test_a_video_extended_from_the_previous_one(xai_api_conn):
    first = XaiVideoOperator(task_id="a", prompt="waves", deferrable=False, poll_interval=0.01).execute(
        ti_context()
    )
    result = XaiVideoOperator(
        task_id="b",
        prompt="and then a whale",
        video_url=first["media_urls"][0],
        video_operation="extend",
        duration=4,
        deferrable=False,
        poll_interval=0.01,
    ).execute(ti_context())
    assert result["status"] == "completed" and xai_api_conn.count("POST", "/v1/videos/extensions") == 1


# --------------------------------------------------------------------------------------------------
# direct delivery into S3 through a signed URL
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("deferrable", [True, False])
def test_a_video_is_uploaded_by_the_service_straight_into_s3(xai_api_conn, moto_s3, capsys, deferrable):  # noqa: F811
    folder = moto_s3.folder("direct")
    context = ti_context(DictStore())
    op = XaiVideoOperator(
        task_id="vid", prompt="waves", poll_interval=0.01, output_path=folder, deferrable=deferrable
    )
    leaked = ""
    if deferrable:
        with pytest.raises(TaskDeferred) as deferred:
            op.execute(context)
        trigger = deferred.value.trigger
        leaked += json.dumps(trigger.serialize()) + json.dumps(deferred.value.kwargs) + repr(trigger)
        result = op.execute_complete(context, run_trigger(trigger), **deferred.value.kwargs)
    else:
        result = op.execute(context)
    request_id = result["xai_task_id"]
    (uri,) = result["outputs"]
    assert uri.startswith(folder + "/xai-video-") and uri.endswith("_0.mp4")
    keys = moto_s3.keys(folder)
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == sorted([uri.rsplit("/", 1)[1], f"{request_id}.json"])
    assert moto_s3.read(uri)[4:8] == b"ftyp"
    (upload,) = xai_api_conn.uploads()
    assert (
        upload["ok"]
        and upload["request_id"] == request_id
        and upload["bytes"] == keys[uri.split("@")[1].split("/", 1)[1]]
    )
    assert xai_api_conn.count("GET", "/media") == 0  # the worker downloaded nothing from the service
    sidecar = json.loads(moto_s3.read(f"{folder}/{request_id}.json"))
    (file,) = sidecar["files"]
    assert file["delivery"] == "upload" and len(file["md5"]) == 32 and file["sha256"] is None
    assert sidecar["request"]["delivery"] == {
        "mode": "upload",
        "uri": uri,
        "name": file["uri"].rsplit("/", 1)[1][:-6],
    }
    leaked += json.dumps(result) + json.dumps(sidecar) + json.dumps(context["ti"].xcom) + repr(op)
    leaked += json.dumps(context["task_state_store"]) + capsys.readouterr().out
    assert SIGNATURE not in leaked and "X-Amz-Credential" not in leaked and API_KEY not in leaked


def test_a_failed_upload_fails_the_task_naming_the_code(xai_api_conn, moto_s3):  # noqa: F811
    folder = moto_s3.folder("direct").replace(moto_s3.bucket, "no-such-bucket")
    op = XaiVideoOperator(
        task_id="vid", prompt="waves", poll_interval=0.01, output_path=folder, deferrable=False
    )
    with pytest.raises(Exception, match="failed_precondition") as err:
        op.execute(ti_context())
    assert SIGNATURE not in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"delivery": "upload", "output_path": "/tmp/videos"}, "delivery"),
        ({"delivery": "upload"}, "delivery"),
        ({"resolution": "1080p"}, "resolution"),
        ({"video_operation": "extend", "video_url": "https://x/v.mp4", "duration": 12}, "duration"),
        (
            {"image_url": "https://x/a.jpg", "reference_image_urls": ["https://x/b.jpg"]},
            "reference_image_urls",
        ),
    ],
)
def test_bad_video_parameters_fail_before_sending(xai_api_conn, kwargs, parameter):
    with pytest.raises(XaiInvalidRequestError) as err:
        XaiVideoOperator(task_id="vid", prompt="waves", **kwargs).execute(ti_context())
    assert err.value.parameter == parameter and "api='xai'" in str(err.value)
    assert xai_api_conn.requests_log() == []


@pytest.mark.parametrize(
    ("op", "parameter"),
    [
        (lambda: XaiImageOperator(task_id="i", prompt="a fox", n=2), "n"),
        (lambda: XaiImageOperator(task_id="i", prompt="a fox", quality="high"), "quality"),
        (lambda: XaiVideoOperator(task_id="v", prompt="w", video_url="https://x/v.mp4"), "video_url"),
    ],
)  # fmt: skip
def test_the_gateway_refuses_xai_only_parameters_before_sending(xai_conn, op, parameter):
    with pytest.raises(XaiInvalidRequestError) as err:
        op().execute(ti_context())
    assert err.value.parameter == parameter and "api='gateway'" in str(err.value)
    assert xai_conn.requests_log() == []


def test_the_delivery_plan_survives_a_resume_without_next_kwargs(xai_api_conn, moto_s3):  # noqa: F811
    """Airflow 3.3.2's dag.test() resumes with the event alone: the ledger knows where the video went."""
    folder = moto_s3.folder("direct")
    context = ti_context(DictStore())
    op = XaiVideoOperator(task_id="vid", prompt="waves", poll_interval=0.01, output_path=folder)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    result = op.execute_complete(context, run_trigger(deferred.value.trigger))  # no kwargs
    assert result["outputs"] == [deferred.value.kwargs["request"]["delivery"]["uri"]]
    assert xai_api_conn.count("GET", "/media") == 0


def test_the_sidecar_request_never_holds_the_upload_url():
    from airflow_provider_xai.delivery import UploadTarget
    from airflow_provider_xai.operators.xai import request_record
    from airflow_provider_xai.protocol import SubmitRequest

    record = request_record(
        SubmitRequest("/v1/videos/generations", {"prompt": "w"}), UploadTarget("s3://b/k", "k")
    )
    assert record == {"prompt": "w", "delivery": {"mode": "upload", "uri": "s3://b/k", "name": "k"}}


def test_a_retried_video_reattaches_to_its_request(xai_api_conn, tmp_path):
    store = DictStore()
    op = XaiVideoOperator(task_id="vid", prompt="waves", poll_interval=0.01, output_path=str(tmp_path))
    with pytest.raises(TaskDeferred):
        op.execute(ti_context(store))  # the try is lost while deferred (a killed worker or triggerer)
    request_id = store[STATE_KEY]["xai_task_id"]
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ti_context(store))  # the retry
    assert deferred.value.trigger.xai_task_id == request_id
    assert xai_api_conn.count("POST", "/v1/videos/generations") == 1


def test_the_signed_url_outlives_the_wait(moto_s3):  # noqa: F811
    from urllib.parse import parse_qs, urlsplit

    from airflow_provider_xai.delivery import MAX_SIGNED_SECONDS, plan_upload, sign_upload

    target = plan_upload(moto_s3.folder("sign"))
    expires = {
        wait: int(parse_qs(urlsplit(sign_upload(target, wait)).query)["X-Amz-Expires"][0])
        for wait in (60, 3600, 30 * 24 * 3600)
    }
    assert expires == {60: 3660, 3600: 7200, 30 * 24 * 3600: MAX_SIGNED_SECONDS}
    url = sign_upload(target, 60)
    assert urlsplit(url).path.endswith(target.uri.split("@", 1)[1].split("/", 1)[1])


@pytest.mark.parametrize("api", ["gateway", "xai"])
def test_a_try_that_died_mid_request_is_not_resubmitted_by_a_retry(xai_emulator, monkeypatch, tmp_path, api):
    """A worker killed while its POST is in flight leaves the in-flight note: the retry must not pay again."""
    from airflow_provider_xai.exceptions import XaiSubmissionUncertainError
    from tests.conftest import conn_json

    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator.url, api=api))
    store = DictStore()
    store[STATE_KEY] = {"status": "submitting", "submitted_at": "2026-11-30T00:00:00+00:00", "max_tries": 1}
    op = XaiImageOperator(
        task_id="img", prompt="a fox", output_path=str(tmp_path), deferrable=False, poll_interval=0.01
    )
    with pytest.raises(XaiSubmissionUncertainError, match="died while its request was being sent"):
        op.execute(ti_context(store, max_tries=1))  # a retry of the same clearing
    assert xai_emulator.requests_log() == []
    result = op.execute(ti_context(store, max_tries=2))  # a person cleared the task: submit anew
    assert result["status"] == "completed" and len(xai_emulator.requests_log()) >= 1


def test_a_certainly_refused_submission_leaves_the_retry_free_to_submit(xai_conn, tmp_path):
    store = DictStore()
    xai_conn.configure(retry_after="0")
    xai_conn.script_faults("POST /xai/images", ["429"] * 3)
    op = XaiImageOperator(task_id="img", prompt="a fox", output_path=str(tmp_path), deferrable=False,
                          poll_interval=0.01)  # fmt: skip
    op.hook.submit_retries = 2
    with pytest.raises(Exception, match="429"):
        op.execute(ti_context(store))
    assert store[STATE_KEY]["status"] == "refused"
    assert op.execute(ti_context(store))["status"] == "completed"  # the retry submits: nothing was created


def test_a_failed_signing_leaves_no_in_flight_note(xai_api_conn, moto_s3, monkeypatch):  # noqa: F811
    """Nothing was sent, so a retry must stay free to submit: the note is written right before the POST."""
    import airflow_provider_xai.operators.xai as module

    def refuse(*args, **kwargs):
        raise RuntimeError("no credentials to sign with")

    monkeypatch.setattr(module, "sign_upload", refuse)
    store = DictStore()
    op = XaiVideoOperator(task_id="vid", prompt="waves", output_path=moto_s3.folder("sign"))
    with pytest.raises(RuntimeError, match="no credentials"):
        op.execute(ti_context(store))
    assert store == {} and xai_api_conn.requests_log() == []
