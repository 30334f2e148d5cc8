"""System test: xAI's own API on the real components (api-server, scheduler, dag-processor, triggerer).

Images are generated in the worker; videos wait in the real triggerer on their ``request_id``; one video
is uploaded by the emulator itself into moto's S3 through a signed URL, and the worker downloads nothing.
"""

from __future__ import annotations

import json

import pytest

from tests.storage.s3 import aws_conn_json, moto_s3  # noqa: F401 - the fixture
from tests.system.stack import copy_dags

DAG_ID = "xai_sys_xai_api"
DEFERRING = {"video", "extended", "uploaded"}


@pytest.mark.system
@pytest.mark.timeout(240)
def test_xai_api_on_real_components(
    airflow_stack_factory,
    system_emulator,
    system_api_key,
    moto_s3,  # noqa: F811 - the fixture
    tmp_path,
):
    s3_folder = moto_s3.folder("sys-upload")
    conn = {
        "conn_type": "xai",
        "host": system_emulator.url,
        "password": system_api_key,
        "extra": {"api": "xai"},
    }
    stack = airflow_stack_factory(
        copy_dags(tmp_path / "dags", "xai_sys_xai_api_dag"),
        AIRFLOW_CONN_XAI_DEFAULT=json.dumps(conn),
        AIRFLOW_CONN_AWS_DEFAULT=aws_conn_json(moto_s3.endpoint_url),
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        XAI_SYS_S3_OUTPUT=s3_folder,
    )
    stack.wait_until_ready(DAG_ID, timeout=90)
    run_id = stack.trigger(DAG_ID)
    run = stack.wait_for_run(DAG_ID, run_id, timeout=120)
    states = stack.task_states(DAG_ID, run_id)
    assert run["state"] == "success", f"{states}\n{stack.diagnostics()}"
    tis = {ti["task_id"]: ti for ti in stack.task_instances(DAG_ID, run_id)}
    assert all(ti["state"] == "success" for ti in tis.values()), states

    # one accepted POST per task, on xAI's endpoints
    assert system_emulator.count("POST", "/v1/images/generations") == 1
    assert system_emulator.count("POST", "/v1/videos/generations") == 2
    assert system_emulator.count("POST", "/v1/videos/extensions") == 1
    assert [r for r in system_emulator.requests_log() if r["method"] == "POST" and r["status"] != 200] == []

    # the videos waited in the triggerer, polling GET /v1/videos/<request_id>
    logs = stack.home / "logs"
    trigger_tasks = {
        part.removeprefix("task_id=")
        for path in logs.rglob("*trigger*")
        for part in path.parts
        if part.startswith("task_id=")
    }
    assert DEFERRING <= trigger_tasks, sorted(p.relative_to(logs).as_posix() for p in logs.rglob("*"))

    # local files and sidecars for the downloaded media: 2 images + 2 videos
    names = sorted(p.name for p in stack.output_path.iterdir())
    assert sum(n.endswith(".jpeg") for n in names) == 2 and sum(n.endswith(".mp4") for n in names) == 2, names
    assert sum(n.endswith(".json") for n in names) == 3, names
    assert not [n for n in names if n.endswith(".partial")], names

    # the uploaded video: in S3 once with its sidecar, never downloaded by a worker
    (upload,) = system_emulator.uploads()
    assert upload["ok"], upload
    keys = sorted(key.rsplit("/", 1)[1] for key in moto_s3.keys(s3_folder))
    assert len(keys) == 2 and keys[0] == f"{upload['request_id']}.json", keys
    assert keys[1].startswith("xai-video-") and keys[1].endswith("_0.mp4"), keys
    sidecar = json.loads(moto_s3.read(f"{s3_folder}/{upload['request_id']}.json"))
    assert sidecar["files"][0]["delivery"] == "upload" and sidecar["cost_usd"] > 0
    assert system_emulator.count("GET", f"/media/{upload['request_id']}") == 0

    # neither the key nor a signed URL reached a log or an output file
    leaked = [
        str(p)
        for p in stack.home.parent.rglob("*")
        if p.is_file() and (system_api_key.encode() in (data := p.read_bytes()) or b"Signature=" in data)
    ]
    assert not leaked, f"a secret appears in: {leaked}"
