"""The ``airflow providers`` commands see the provider, its hook (conn type ``xai``) and its triggers."""

from __future__ import annotations

import json
import subprocess

from tests.system.stack import AIRFLOW_BIN, child_env


def test_providers_list_hooks_and_triggers(tmp_path):
    env = child_env(tmp_path)
    # the three commands are independent: run them side by side (each spends seconds importing Airflow)
    procs = {
        name: subprocess.Popen(
            [str(AIRFLOW_BIN), "providers", name, "--output", "json"],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("list", "hooks", "triggers")
    }
    out = {}
    for name, proc in procs.items():
        try:
            stdout, stderr = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        detail = f"providers {name}: rc={proc.returncode}\n{stdout[-2000:]}\n{stderr[-3000:]}"
        assert proc.returncode == 0, detail
        out[name] = json.loads(stdout)

    providers = {p["package_name"]: p for p in out["list"]}
    assert "airflow-provider-xai" in providers, sorted(providers)
    assert providers["airflow-provider-xai"]["version"] == "0.1.0"

    hooks = [h for h in out["hooks"] if h["package_name"] == "airflow-provider-xai"]
    assert hooks == [
        {
            "connection_type": "xai",
            "class": "airflow_provider_xai.hooks.xai.XaiHook",
            "conn_id_attribute_name": "xai_conn_id",
            "package_name": "airflow-provider-xai",
            "hook_name": "xAI (Grok Imagine)",
        }
    ]

    triggers = [t for t in out["triggers"] if t["package_name"] == "airflow-provider-xai"]
    assert [t["class"] for t in triggers] == ["airflow_provider_xai.triggers.xai"]
