"""The ``xai_media`` plugin is found by Airflow under either provider discovery, and stays light to import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.system.stack import AIRFLOW_BIN, child_env

PLUGIN_STATE = """
import json
from airflow import plugins_manager as pm
if hasattr(pm, "_get_plugins"):  # Airflow 3.2+
    plugins, errors = pm._get_plugins()
    views, _ = pm._get_ui_plugins()
    apps, _ = pm.get_fastapi_plugins()
else:  # Airflow 3.1: module-level state
    pm.ensure_plugins_loaded()
    pm.initialize_ui_plugins()
    pm.initialize_fastapi_plugins()
    plugins, errors, views, apps = pm.plugins, pm.import_errors, pm.external_views, pm.fastapi_apps
print(json.dumps({
    "plugins": [p.name for p in plugins],
    "errors": errors,
    "views": views,
    "apps": [{"name": a["name"], "url_prefix": a["url_prefix"]} for a in apps],
}))
"""


def _run(args: list[str], env: dict[str, str], cwd) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen, what: str):
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0, f"{what}: rc={proc.returncode}\n{out[-2000:]}\n{err[-3000:]}"
    return json.loads(out.strip().splitlines()[-1])


def test_airflow_loads_the_plugin_under_lazy_and_eager_provider_discovery(tmp_path):
    """Default (lazy) discovery reads the entry point; eager discovery the provider info: never both."""
    lazy = child_env(tmp_path / "lazy")
    eager = child_env(tmp_path / "eager", AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS="False")
    procs = {
        "airflow plugins": _run([str(AIRFLOW_BIN), "plugins", "--output", "json"], lazy, tmp_path),
        "lazy": _run([sys.executable, "-c", PLUGIN_STATE], lazy, tmp_path),
        "eager": _run([sys.executable, "-c", PLUGIN_STATE], eager, tmp_path),
    }
    out = {name: _finish(proc, name) for name, proc in procs.items()}

    (listed,) = [p for p in out["airflow plugins"] if p["name"] == "xai_media"]
    assert "airflow-provider-xai" in listed["source"] and "airflow.plugins" in listed["source"]
    assert [a["url_prefix"] for a in listed["fastapi_apps"]] == ["/xai-media"]
    assert {(v["destination"], v["name"]) for v in listed["external_views"]} == {
        ("task_instance", "Generated media"),
        ("dag_run", "Generated media"),
    }
    for mode in ("lazy", "eager"):
        state = out[mode]
        assert state["plugins"].count("xai_media") == 1, (mode, state)
        # no "already registered" import error of ours (the OpenLineage provider's plugin has its own one,
        # under eager discovery, when that provider is installed)
        ours = {name: e for name, e in state["errors"].items() if "xai" in name.lower() or "xai" in e.lower()}
        assert ours == {}, (mode, state["errors"])
        assert {a["url_prefix"] for a in state["apps"]} == {"/xai-media"}
        routes = {v["url_route"]: v for v in state["views"]}
        assert routes["xai-media"]["href"] == (
            "/xai-media/task-instance?dag_id={DAG_ID}&run_id={RUN_ID}&task_id={TASK_ID}&map_index={MAP_INDEX}"
        )
        assert routes["xai-media-run"]["href"] == "/xai-media/dag-run?dag_id={DAG_ID}&run_id={RUN_ID}"


def test_the_plugin_module_imports_nothing_of_the_api_server(tmp_path):
    """Every Airflow component imports the plugin: the app (security, models) is built on first request."""
    code = (
        "import sys, airflow_provider_xai.plugins.media as m; "
        "print(sorted(n for n in sys.modules if n.startswith(('airflow_provider_xai.plugins.', "
        "'airflow.api_fastapi.core_api'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "['airflow_provider_xai.plugins.media']"


def test_the_views_follow_the_api_servers_base_path(monkeypatch):
    from airflow_provider_xai.plugins.media import base_path, external_views

    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/team-a/")
    assert base_path() == "/team-a"
    hrefs = [view["href"] for view in external_views()]
    assert all(href.startswith("/team-a/xai-media/") for href in hrefs), hrefs
    assert [view["href"].split("?")[0] for view in external_views("")] == [
        "/xai-media/task-instance",
        "/xai-media/dag-run",
    ]


def test_the_provider_info_declares_the_same_plugin():
    from airflow_provider_xai.get_provider_info import get_provider_info
    from airflow_provider_xai.plugins.media import XaiMediaPlugin, entry_point_plugin

    (plugin,) = get_provider_info()["plugins"]
    assert plugin == {
        "name": "xai_media",
        "plugin-class": "airflow_provider_xai.plugins.media.XaiMediaPlugin",
    }
    assert XaiMediaPlugin.name == plugin["name"]
    assert entry_point_plugin is XaiMediaPlugin  # the suite runs with lazy discovery (the default)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=2-5", 10, (2, 5)),
        ("bytes=2-", 10, (2, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=8-100", 10, (8, 9)),
        ("bytes=5-2", 10, None),  # malformed: the whole file
        ("bytes=0-1,4-5", 10, None),  # several ranges: the whole file
        ("items=0-1", 10, None),
        ("bytes=abc", 10, None),
        ("bytes=x-1", 10, None),
    ],
)
def test_range_headers(header, size, expected):
    from airflow_provider_xai.plugins.files import parse_range

    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=-0", 10), ("bytes=-1", 0)]
)
def test_unsatisfiable_ranges(header, size):
    from airflow_provider_xai.plugins.files import RangeNotSatisfiable, parse_range

    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)
