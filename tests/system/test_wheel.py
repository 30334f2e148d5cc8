"""Ship it as users install it: build the wheel, install it into a clean virtualenv, use it from there.

An editable install hides files missing from the package (templates, static files, ``py.typed``): the
checkout is on ``sys.path``. Here nothing of the checkout is importable: the wheel alone must carry the
provider, its metadata, its UI plugin's files and the emulator.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata

import pytest

pytestmark = pytest.mark.system

REPO = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "airflow_provider_xai"

#: run inside the clean virtualenv (cwd outside the checkout): what a user's worker would do
CHECK = r"""
import json, os, pathlib, subprocess, sys, time
import airflow_provider_xai
from airflow.providers_manager import ProvidersManager

found = {}
found["package_file"] = airflow_provider_xai.__file__
manager = ProvidersManager()
provider = manager.providers.get("airflow-provider-xai")
found["provider"] = provider.data["name"] if provider else None
found["connection_type"] = "xai" in manager.hooks
found["extra_links"] = sorted(name for name in manager.extra_links_class_names if "xai" in name)
from airflow import plugins_manager
from airflow_provider_xai.plugins import render

plugins = subprocess.run(
    [str(pathlib.Path(sys.executable).parent / "airflow"), "plugins", "--output", "json"],
    capture_output=True, text=True, check=True,
).stdout
found["plugins"] = [p["name"] for p in json.loads(plugins[plugins.index("["):])]
found["page"] = render.render_page("wheel check", [])

emulator = subprocess.Popen(
    [str(pathlib.Path(sys.executable).parent / "xai-emulator"), "--port", "0", "--image-seconds", "0.2"],
    stdout=subprocess.PIPE, text=True,
)
try:
    url = emulator.stdout.readline().split(" listening on ", 1)[1].split()[0]
    os.environ["AIRFLOW_CONN_XAI_DEFAULT"] = json.dumps({"conn_type": "xai", "host": url, "password": "k"})
    from airflow_provider_xai import protocol
    from airflow_provider_xai.hooks.xai import XaiHook
    from airflow_provider_xai.storage import store_media

    hook = XaiHook()
    state = hook.wait_for_task(hook.submit(protocol.build_image_request("a lighthouse")), timeout=30)
    (uri,) = store_media(sys.argv[1], state, None)
    found["stored"] = pathlib.Path(uri.removeprefix("file://")).read_bytes()[:3].hex()
finally:
    emulator.terminate()
    emulator.wait(10)
print("CHECKED " + json.dumps(found))
"""


def _uv() -> str:
    uv = pathlib.Path(sys.executable).parent / "uv"
    return str(uv) if uv.exists() else (shutil.which("uv") or pytest.fail("uv is not installed"))


def _run(*args: str, cwd: pathlib.Path, env: dict | None = None, timeout: float = 600) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{args[:3]} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _tracked_package_files() -> set[str]:
    listed = _run("git", "ls-files", PACKAGE, cwd=REPO).split()
    return {name for name in listed if (REPO / name).is_file()}


def test_the_wheel_alone_carries_the_provider_its_files_and_the_emulator(tmp_path):
    dist = tmp_path / "dist"
    _run(_uv(), "build", "--wheel", "--out-dir", str(dist), str(REPO), cwd=tmp_path)
    (wheel,) = dist.glob("airflow_provider_xai-*.whl")

    # every file of the package in the repository is in the wheel: modules, templates, static files
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(
            archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")
        )
    missing = sorted(_tracked_package_files() - names)
    assert not missing, f"files missing from the wheel: {missing}"
    assert "[apache_airflow_provider]" in entry_points and "xai-emulator" in entry_points
    assert "[airflow.plugins]" in entry_points and "xai_media" in entry_points

    # a clean virtualenv with Airflow and the wheel: no checkout on its path
    venv = tmp_path / "venv"
    _run(_uv(), "venv", "--quiet", "--python", sys.executable, str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    airflow = metadata.version("apache-airflow")
    _run(
        _uv(), "pip", "install", "--quiet", "--python", str(python),
        f"{wheel}[emulator]", f"apache-airflow=={airflow}",
        cwd=tmp_path,
    )  # fmt: skip
    home, out = tmp_path / "airflow_home", tmp_path / "out"
    home.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    stdout = _run(str(python), "-c", CHECK, str(out), cwd=tmp_path, env=env, timeout=300)
    found = json.loads(stdout.split("CHECKED ", 1)[1])

    installed = pathlib.Path(found["package_file"]).parent
    assert installed.is_relative_to(venv), found  # the wheel's copy, not the checkout
    assert not str(installed).startswith(str(REPO)), found
    assert found["provider"] == "xAI"
    assert found["connection_type"] is True
    assert found["extra_links"] == ["airflow_provider_xai.links.XaiOutputLink"], found
    assert found["stored"] == "ffd8ff", found  # a JPEG, generated by the wheel's own emulator
    # the UI plugin, loaded under the default (lazy) provider discovery, renders with its packaged template
    assert found["plugins"] == ["xai_media"], found["plugins"]
    assert "wheel check" in found["page"] and "<style" in found["page"], found["page"][:500]
    for name in _tracked_package_files():
        assert (installed.parent / name).is_file(), f"{name} was not installed from the wheel"
