"""Every example DAG imports cleanly (deprecations are errors) and runs against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.compat import AIRFLOW_VERSION
from tests.conftest import ROOT, load_example

EXAMPLES = sorted(p.stem for p in (ROOT / "example_dags").glob("example_*.py"))
# the showcase, the ETL chain and the examples for xAI's own API (test_xai_api_examples.py) have
# end-to-end tests of their own
OWN_TESTS = (
    "example_xai_showcase",
    "example_xai_etl",
    "example_xai_several_images",
    "example_xai_edit_from_sources",
    "example_xai_extend_video",
    "example_xai_video_to_s3",
)
SIMPLE = [name for name in EXAMPLES if name not in OWN_TESTS]


CHECK_IMPORTS = """
import runpy, sys, warnings
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    for path in sys.argv[1:]:
        runpy.run_path(path)
ours = [
    f"{w.filename}:{w.lineno}: {w.message}"
    for w in seen
    if issubclass(w.category, (DeprecationWarning, FutureWarning))
    and ("example_dags" in w.filename or "airflow_provider_xai" in w.filename)
]
sys.exit("\\n".join(ours) or 0)
"""


def test_every_example_imports_without_deprecations(tmp_path):
    # On the newest Airflow every deprecation fails the import. Older 3.x releases warn about their own
    # internals, which are not ours to fix: there only those attributed to our files fail.
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    paths = [str(ROOT / "example_dags" / f"{name}.py") for name in EXAMPLES]
    if AIRFLOW_VERSION >= (3, 3):  # Airflow itself is clean: every deprecation is an error
        flags = ["-W", "error::DeprecationWarning", "-W", "error::FutureWarning"]
        command = [
            sys.executable,
            *flags,
            "-c",
            "import runpy, sys\n[runpy.run_path(p) for p in sys.argv[1:]]",
        ]
    else:
        command = [sys.executable, "-c", CHECK_IMPORTS]
    done = subprocess.run([*command, *paths], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(EXAMPLES) >= 12


@pytest.mark.parametrize("name", SIMPLE)
def test_example_runs_against_the_emulator(airflow_db, xai_conn, monkeypatch, tmp_path, name):
    from airflow.models.pool import Pool

    Pool.create_or_update_pool("xai_image", slots=5, description="xAI images", include_deferred=False)
    monkeypatch.setenv("XAI_OUTPUT_PATH", str(tmp_path))
    run = load_example(name).dag.test()
    states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert set(states.values()) == {"success"}
    stored = [p for p in tmp_path.rglob("*") if p.suffix in (".jpeg", ".mp4")]
    assert stored and len(list(tmp_path.rglob("*.json"))) == len(stored)
