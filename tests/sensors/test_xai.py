"""XaiTaskSensor in poke mode and deferred mode: the same result through the same finish."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from airflow_provider_xai.exceptions import XaiError, XaiNoMediaError, XaiWaitAbortedError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.sensors.xai import XaiTaskSensor
from tests.compat import AirflowRescheduleException, TaskDeferred
from tests.conftest import RecordingTI, conn_json, run_trigger


def sensor(task_id, **kwargs):
    return XaiTaskSensor(task_id="wait", xai_task_id=task_id, poke_interval=0.01, timeout=30, **kwargs)


def test_poke_mode_returns_the_result(xai_conn, context):
    task_id = XaiHook().submit_image("a fox")
    result = sensor(task_id, deferrable=False).execute(context)
    assert result["xai_task_id"] == task_id and result["status"] == "completed" and result["media_urls"]


def test_deferred_mode_returns_the_same_result(xai_conn, context):
    hook = XaiHook()
    task_id = hook.submit_image("a fox")
    op = sensor(task_id)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    result = op.execute_complete(context, run_trigger(deferred.value.trigger), **deferred.value.kwargs)
    poked = sensor(task_id, deferrable=False).execute(context)
    assert result == poked


def test_poke_survives_transient_faults(xai_conn, context):
    task_id = XaiHook().submit_image("a fox")
    xai_conn.script_faults("GET /xai/tasks", ["429", "drop", "502html"])
    assert sensor(task_id, deferrable=False).execute(context)["status"] == "completed"


def test_poke_and_deferred_fail_alike(xai_conn, context):
    task_id = XaiHook().submit_image("a fox [xai:nomedia]")
    with pytest.raises(XaiNoMediaError) as poked:
        sensor(task_id, deferrable=False).execute(context)
    op = sensor(task_id)
    with pytest.raises(XaiNoMediaError) as deferred:
        op.execute(context)  # already terminal: finishes before deferring
    assert str(poked.value) == str(deferred.value)


@pytest.mark.parametrize("bad", ["", "   ", None])
def test_empty_task_id_fails_clearly(context, bad):
    with pytest.raises(XaiError, match="xai_task_id"):
        sensor(bad).execute(context)


class _FlakyService(http.server.BaseHTTPRequestHandler):
    """A status endpoint that answers ``processing`` ``ok_reads`` times, then 503 for good."""

    ok_reads = 0

    def do_GET(self):  # noqa: N802 - the stdlib's name
        cls = type(self)
        if cls.ok_reads > 0:
            cls.ok_reads -= 1
            status, body = 200, {"taskId": "task-1", "status": "processing"}
        else:
            status, body = 503, {"message": "service unavailable"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky(monkeypatch):
    """Point ``xai_default`` at a service whose status polls start failing; yield its handler class."""
    handler = type("Flaky", (_FlakyService,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(f"http://127.0.0.1:{server.server_port}"))
    yield handler
    server.shutdown()
    server.server_close()


def failure(fn):
    with pytest.raises(XaiError) as err:
        fn()
    return type(err.value), str(err.value)


def deferred_then_completed(op, context):
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    return op.execute_complete(context, run_trigger(deferred.value.trigger), **deferred.value.kwargs)


def test_failing_polls_end_every_path_alike(flaky, context):
    flaky.ok_reads = 1
    blocking = failure(lambda: XaiHook().wait_for_task("task-1", poll_interval=0.01, timeout=30))
    flaky.ok_reads = 1
    poked = failure(lambda: sensor("task-1", deferrable=False).execute(context))
    flaky.ok_reads = 2  # the check before deferring, then the trigger's first poll
    deferred = failure(lambda: deferred_then_completed(sensor("task-1"), context))

    assert poked == deferred == blocking
    kind, message = poked
    assert kind is XaiWaitAbortedError
    assert "after 5 failed status polls in a row" in message
    assert "last status seen: processing" in message
    assert "service unavailable" in message  # the last error


def test_poke_mode_counts_failures_across_pokes_and_resets_on_success(flaky, context):
    op = sensor("task-1", deferrable=False, max_consecutive_failures=3)
    flaky.ok_reads = 1
    assert [op.poke(context), op.poke(context), op.poke(context)] == [False, False, False]
    flaky.ok_reads = 1  # a good answer in between starts the count again
    assert [op.poke(context), op.poke(context), op.poke(context)] == [False, False, False]
    with pytest.raises(XaiWaitAbortedError, match="after 3 failed.*last status seen: processing"):
        op.poke(context)


class _RescheduleTI(RecordingTI):
    def get_first_reschedule_date(self, context):
        return None


def test_reschedule_mode_starts_every_poke_afresh(flaky):
    # in reschedule mode every poke is a new execute (in a new process): failures do not add up, and the
    # sensor's timeout ends the wait; this keeps the behaviour the sensor always had in this mode
    flaky.ok_reads = 0
    op = sensor("task-1", deferrable=False, mode="reschedule", max_consecutive_failures=2)
    for _ in range(3):
        with pytest.raises(AirflowRescheduleException):
            op.execute({"ti": _RescheduleTI()})
    assert op._tracker is not None and op._tracker.failures == 1


def test_the_deferred_sensor_gives_its_failure_limit_to_the_trigger(xai_conn, context):
    task_id = XaiHook().submit_image("a fox")
    with pytest.raises(TaskDeferred) as deferred:
        sensor(task_id, max_consecutive_failures=2).execute(context)
    assert deferred.value.trigger.serialize()[1]["max_consecutive_failures"] == 2
    xai_conn.script_faults("GET /xai/tasks", ["503json", "503json", "503json"])
    with pytest.raises(XaiWaitAbortedError, match="after 2 failed status polls"):
        sensor(task_id, max_consecutive_failures=2).execute_complete(
            context, run_trigger(deferred.value.trigger), **deferred.value.kwargs
        )


@pytest.mark.parametrize("soft_fail", [False, True])
def test_poke_and_deferred_time_out_alike_and_soft_fail_skips_both(xai_conn, context, soft_fail):
    from airflow_provider_xai.sensors.xai import XaiSensorTimeout
    from tests.compat import AirflowSkipException

    def timed_out_sensor(deferrable):
        task_id = XaiHook().submit_image("a fox [xai:reads=100000]")
        return XaiTaskSensor(
            task_id="wait", xai_task_id=task_id, poke_interval=0.01, timeout=0.3,
            deferrable=deferrable, soft_fail=soft_fail,
        )  # fmt: skip

    expected = AirflowSkipException if soft_fail else XaiSensorTimeout
    with pytest.raises(expected) as poked:
        timed_out_sensor(False).execute(context)
    op = timed_out_sensor(True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    kwargs = {"event": run_trigger(deferred.value.trigger), **(deferred.value.kwargs or {})}
    with pytest.raises(expected) as resumed:
        op.resume_execution("execute_complete", kwargs, context)  # as Airflow resumes a deferred task
    if not soft_fail:
        assert "Timed out after waiting 0.3s" in str(poked.value) and "Timed out after waiting 0.3s" in str(
            resumed.value
        )


def test_poke_mode_honours_retry_after(xai_conn, context):
    task_id = XaiHook().submit_image("a fox")
    xai_conn.configure(retry_after="2")
    xai_conn.script_faults("GET /xai/tasks", ["429"])
    op = XaiTaskSensor(task_id="wait", xai_task_id=task_id, poke_interval=0.01, timeout=30, deferrable=False)
    op._tracker = None
    assert op.poke(context) is False  # the 429
    assert op._get_next_poke_interval(0.0, lambda: 0.0, 1) >= 2.0  # what the service asked for
