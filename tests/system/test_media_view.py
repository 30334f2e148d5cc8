"""System test: the "Generated media" view on the real ``airflow api-server``, after a real run.

The four components run a DAG of mapped images, a video, an unstored image and a plain task; the api-server
loads the provider's plugin by itself (default, lazy provider discovery) and serves the view under Airflow's
auth: a SimpleAuthManager (``tests/plugins/auth.py``) that denies one user this DAG.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urljoin

import pytest
import requests

from tests.plugins.auth import DENIED_ENV
from tests.system.stack import ROOT, copy_dags

DAG_ID = "xai_test_media_view"


@pytest.mark.system
def test_the_view_on_the_real_api_server(airflow_stack_factory, tmp_path):
    dags = copy_dags(tmp_path / "dags", "xai_media_view_dag")
    stack = airflow_stack_factory(
        dags_folder=dags,
        PYTHONPATH=str(ROOT),
        AIRFLOW__CORE__AUTH_MANAGER="tests.plugins.auth.DenyingAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin,outsider:admin",
        **{DENIED_ENV: f"outsider:{DAG_ID}"},
    )
    stack.wait_until_ready(DAG_ID, timeout=180)
    run_id = stack.trigger(DAG_ID)
    run = stack.wait_for_run(DAG_ID, run_id, timeout=300)
    assert run["state"] == "success", stack.task_states(DAG_ID, run_id)

    admin = {"Authorization": f"Bearer {stack._token}"}
    # the api-server lists the plugin with its two views
    plugins = requests.get(f"{stack.base_url}/api/v2/plugins", headers=admin, timeout=30).json()["plugins"]
    (plugin,) = [p for p in plugins if p["name"] == "xai_media"]
    assert {v["destination"] for v in plugin["external_views"]} == {"task_instance", "dag_run"}

    def page(path: str, **query: object) -> str:
        return f"{stack.base_url}/xai-media/{path}?" + urlencode(
            {"dag_id": DAG_ID, "run_id": run_id, **query}
        )

    ti_page = page("task-instance", task_id="clip", map_index="{MAP_INDEX}")
    answer = requests.get(ti_page, cookies={"_token": stack._token}, timeout=60)  # as the UI's iframe does
    assert answer.status_code == 200, answer.text[:500]
    assert "<video" in answer.text and "Waves at sunset" in answer.text
    src = answer.text.split('<video src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    video = requests.get(urljoin(ti_page, src), headers={**admin, "Range": "bytes=0-11"}, timeout=60)
    assert video.status_code == 206 and video.content[4:8] == b"ftyp"
    assert video.headers["content-range"].startswith("bytes 0-11/")

    run_page = requests.get(page("dag-run"), headers=admin, timeout=60)
    assert run_page.status_code == 200
    assert run_page.text.count('data-testid="xai-generation"') == 5  # 3 mapped + clip + unstored

    assert requests.get(ti_page, timeout=30).status_code == 401
    outsider_pw = json.loads((stack.home / "simple_auth_manager_passwords.json.generated").read_text())[
        "outsider"
    ]
    token = requests.post(
        f"{stack.base_url}/auth/token", json={"username": "outsider", "password": outsider_pw}, timeout=30
    ).json()["access_token"]
    assert requests.get(ti_page, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 403
    assert (
        requests.get(
            urljoin(ti_page, src), headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code
        == 403
    )
