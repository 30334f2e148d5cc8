"""XaiImageOperator / XaiVideoOperator: execute -> defer -> execute_complete, and the blocking path."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from airflow_provider_xai.exceptions import XaiError, XaiInvalidRequestError, XaiTaskFailedError
from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator
from airflow_provider_xai.sensors.xai import XaiTaskSensor
from airflow_provider_xai.triggers.xai import XaiTaskTrigger
from tests.compat import TaskDeferred
from tests.conftest import API_KEY, run_trigger

KEYS = {
    "api",
    "xai_task_id",
    "status",
    "model",
    "media_urls",
    "outputs",
    "result",
    "created_at",
    "finished_at",
    "trace_id",
    "usage",
}


def image(**kwargs):
    return XaiImageOperator(
        task_id="img", prompt=kwargs.pop("prompt", "a red fox"), poll_interval=0.01, **kwargs
    )


def test_deferrable_execute_defers_then_completes(xai_conn, context):
    op = image(timeout=120)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    task_id = context["ti"].xcom["xai_task_id"]
    trigger = deferred.value.trigger
    assert isinstance(trigger, XaiTaskTrigger) and trigger.xai_task_id == task_id
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout == timedelta(seconds=180)  # the trigger's own deadline fires first
    assert trigger.deadline - trigger.started_at == 120
    result = op.execute_complete(context, run_trigger(trigger), **deferred.value.kwargs)
    assert set(result) == KEYS and result["status"] == "completed" and result["xai_task_id"] == task_id
    assert result["model"] == "grok-imagine-image" and result["media_urls"] and result["outputs"] == []
    json.dumps(result)
    assert API_KEY not in json.dumps(deferred.value.kwargs) + repr(trigger) + repr(op)


def test_blocking_wait_returns_the_same_dict(xai_conn, context):
    result = XaiVideoOperator(
        task_id="vid", prompt="waves", duration=6, resolution="720p", deferrable=False, poll_interval=0.01
    ).execute(context)
    assert set(result) == KEYS and result["model"] == "grok-imagine-video"
    assert result["media_urls"][0].endswith(".mp4")


def test_no_wait_returns_the_id(xai_conn, context):
    task_id = image(wait_for_completion=False).execute(context)
    assert isinstance(task_id, str) and context["ti"].xcom["xai_task_id"] == task_id
    assert xai_conn.count("GET", "/xai/tasks") == 0


def test_already_terminal_task_finishes_without_deferring(xai_conn, context):
    result = image(prompt="a fox [xai:reads=1]").execute(context)
    assert result["status"] == "completed"


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (None, "no usable event"),
        ({"reason": "success", "xai_task_id": "t"}, "unknown event reason"),
        ({"reason": "terminal"}, "without a task id"),
    ],
)
def test_execute_complete_refuses_malformed_events(context, event, error):
    with pytest.raises(XaiError, match=error):
        image().execute_complete(context, event)


def test_execute_complete_fails_a_cancelled_task(context):
    event = {
        "reason": "terminal",
        "xai_task_id": "t1",
        "state": {"xai_task_id": "t1", "status": "cancelled", "error_code": 4001, "trace_id": "tr"},
        "message": "",
    }
    with pytest.raises(XaiTaskFailedError, match="'cancelled'.*4001.*tr"):
        image().execute_complete(context, event)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 1001}, "prompt"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"image_url": "file:///tmp/a.png"}, "image_url"),
        ({"duration": "10s"}, "duration"),
        ({"duration": 7}, "duration"),
        ({"resolution": "1080p"}, "resolution"),
    ],
)
def test_bad_input_fails_before_sending(xai_conn, context, kwargs, parameter):
    op = XaiVideoOperator(task_id="vid", **{"prompt": "waves", **kwargs})
    with pytest.raises(XaiInvalidRequestError) as err:
        op.execute(context)
    assert err.value.parameter == parameter and "Allowed" in str(err.value)
    assert xai_conn.requests_log() == [] and context["ti"].xcom == {}


@pytest.mark.parametrize("bad", [0, -1, "5", None])
def test_poll_interval_must_be_positive(bad):
    with pytest.raises(ValueError, match="poll_interval"):
        XaiImageOperator(task_id="x", prompt="p", poll_interval=bad if bad is not None else -0.0)


WAITERS = {
    "image": (lambda **kw: XaiImageOperator(task_id="x", prompt="p", **kw), "poll_interval"),
    "video": (lambda **kw: XaiVideoOperator(task_id="x", prompt="p", **kw), "poll_interval"),
    "sensor": (lambda **kw: XaiTaskSensor(task_id="x", xai_task_id="t", **kw), "poke_interval"),
}


@pytest.mark.parametrize("waiter", WAITERS)
def test_operators_and_sensor_check_their_wait_timings_alike(waiter):
    make, interval = WAITERS[waiter]
    op = make(**{interval: timedelta(milliseconds=250), "timeout": timedelta(minutes=2)})
    assert (op._first_delay, op._timeout_seconds) == (0.25, 120.0)
    with pytest.raises(ValueError, match=f"Invalid {interval}: 0"):
        make(**{interval: 0})
    with pytest.raises(ValueError, match="Invalid timeout: 0"):
        make(timeout=0)


def test_every_parameter_is_rendered_from_templates():
    import jinja2

    env = jinja2.Environment()
    ctx = {"params": {"n": 3, "url": "https://example.com/a.jpg"}, "ds": "2026-01-01"}
    image = XaiImageOperator(
        task_id="i", prompt="fox {{ ds }}", aspect_ratio="{{ '1:1' }}", image_url="{{ params.url }}",
        model="{{ 'grok-imagine-image' }}", n="{{ params.n }}", image_urls=["{{ params.url }}"],
        resolution="{{ '2k' }}", quality="{{ 'high' }}", output_path="/tmp/{{ ds }}",
    )  # fmt: skip
    image.render_template_fields(ctx, jinja_env=env)
    assert (image.prompt, image.n, image.image_urls, image.output_path) == (
        "fox 2026-01-01",
        "3",
        ["https://example.com/a.jpg"],
        "/tmp/2026-01-01",
    )
    assert (image.aspect_ratio, image.model, image.resolution, image.quality) == (
        "1:1",
        "grok-imagine-image",
        "2k",
        "high",
    )
    video = XaiVideoOperator(
        task_id="v", prompt="p", duration="{{ 5 + 5 }}", resolution="{{ '720p' }}",
        reference_image_urls=["{{ params.url }}"], video_url="{{ params.url }}",
        video_operation="{{ 'extend' }}", delivery="{{ 'download' }}",
    )  # fmt: skip
    video.render_template_fields(ctx, jinja_env=env)
    assert (video.duration, video.resolution, video.video_url, video.video_operation, video.delivery) == (
        "10",
        "720p",
        "https://example.com/a.jpg",
        "extend",
        "download",
    )
    assert video.reference_image_urls == ["https://example.com/a.jpg"]


@pytest.mark.parametrize("deferrable", [True, False])
def test_execution_timeout_bounds_the_wait_in_both_paths(xai_conn, context, deferrable):
    from airflow_provider_xai.exceptions import XaiWaitTimeoutError

    op = XaiImageOperator(
        task_id="img",
        prompt="a fox [xai:reads=100000]",
        poll_interval=0.01,
        timeout=3600,
        execution_timeout=timedelta(seconds=0.5),
        deferrable=deferrable,
    )
    if deferrable:
        with pytest.raises(TaskDeferred) as deferred:
            op.execute(context)
        trigger = deferred.value.trigger
        assert trigger.deadline - trigger.started_at <= 0.5  # not the hour of `timeout`
        assert deferred.value.timeout <= timedelta(seconds=0.5 + 60)
        with pytest.raises(XaiWaitTimeoutError, match="Timed out after waiting 0.5s"):
            op.execute_complete(context, run_trigger(trigger), **deferred.value.kwargs)
    else:
        with pytest.raises(XaiWaitTimeoutError, match="Timed out after waiting 0.5s"):
            op.execute(context)


def test_the_operators_expose_the_sensors_wait_knobs(xai_conn, context):
    from airflow_provider_xai.polling import IMAGE_WAIT, VIDEO_WAIT

    op = XaiVideoOperator(
        task_id="v", prompt="waves", poll_interval=0.01, max_consecutive_failures=2, max_poll_interval=7
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    kwargs = deferred.value.trigger.serialize()[1]
    assert (kwargs["max_consecutive_failures"], kwargs["max_poll_interval"]) == (2, 7.0)
    sensor = XaiTaskSensor(task_id="s", xai_task_id="t", max_consecutive_failures=2, max_poll_interval=7)
    assert (sensor._policy.max_consecutive_failures, sensor._policy.max_delay) == (2, 7)
    image, video = XaiImageOperator(task_id="i", prompt="x"), XaiVideoOperator(task_id="w", prompt="x")
    assert (image.poll_interval, image.timeout) == (IMAGE_WAIT.first_delay, IMAGE_WAIT.timeout)
    assert (video.poll_interval, video.timeout) == (VIDEO_WAIT.first_delay, VIDEO_WAIT.timeout)
    # two failed polls in a row end the blocking wait too
    xai_conn.script_faults("GET /xai/tasks", ["503json", "503json"])
    blocking = XaiImageOperator(
        task_id="b", prompt="x", poll_interval=0.01, deferrable=False, max_consecutive_failures=2
    )
    with pytest.raises(XaiError, match="after 2 failed status polls"):
        blocking.execute(context)
