"""Hermetic Airflow settings for the whole suite (set before Airflow is imported) and shared fixtures."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
_HOME = tempfile.mkdtemp(prefix="xai_test_airflow_home_")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
# dag.test() only runs DAGs of the configured dags folder: it holds copies of the examples and the
# tests' own DAGs, so that both run unchanged.
DAGS = pathlib.Path(_HOME) / "dags"
DAGS.mkdir()
for _source in [*(ROOT / "example_dags").glob("*.py"), *(ROOT / "tests" / "dags").glob("*.py")]:
    shutil.copy(_source, DAGS / _source.name)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ.setdefault("XAI_EXAMPLE_POLL_INTERVAL", "0.05")

import pytest  # noqa: E402

API_KEY = "sk-test-SECRET-0123456789"


@pytest.fixture(scope="session")
def airflow_db():
    """Create the metadata DB once (only tests that run DAGs need it)."""
    from airflow.utils import db

    db.resetdb()


def conn_json(url: str, key: str = API_KEY, api: str | None = None) -> str:
    """Return an ``AIRFLOW_CONN_*`` value for the emulator (``api="xai"`` for xAI's own API)."""
    conn = {"conn_type": "xai", "host": url, "password": key}
    if api:
        conn["extra"] = {"api": api}
    return json.dumps(conn)


@pytest.fixture
def xai_conn(xai_emulator, monkeypatch):
    """Point the ``xai_default`` connection at the emulator's task gateway; yield the emulator."""
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator.url))
    return xai_emulator


@pytest.fixture
def xai_api_conn(xai_emulator, monkeypatch):
    """Point the ``xai_default`` connection at the emulator's xAI API (extra ``api: "xai"``)."""
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator.url, api="xai"))
    return xai_emulator


@pytest.fixture(params=["gateway", "xai"])
def any_api_conn(request, xai_emulator, monkeypatch):
    """Point ``xai_default`` at the emulator on each API in turn; yield the emulator (``.api`` names it)."""
    monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator.url, api=request.param))
    xai_emulator.api = request.param
    return xai_emulator


def load_example(name: str):
    """Import the dags folder's copy of ``<name>.py`` afresh (it reads its settings from the environment)."""
    spec = importlib.util.spec_from_file_location(f"xai_dags_{name}", DAGS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def asset_events(run_id: str, uri: str) -> list:
    """Return the asset events of one DAG run for one asset URI, detached from their DB session."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri, AssetEvent.source_run_id == run_id)
        ).all()
        for event in events:
            session.expunge(event)
        return events


class RecordingTI:
    """What the operators use of a TaskInstance outside a DAG run: XComs and the try number."""

    def __init__(self, try_number: int = 1) -> None:
        self.xcom: dict[str, object] = {}
        self.try_number = try_number

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value

    def xcom_pull(self, key: str, **kwargs: object) -> object:
        return self.xcom.get(key)


@pytest.fixture
def context():
    """A minimal task context for calling ``execute`` directly."""
    return {"ti": RecordingTI()}


def run_trigger(trigger):
    """Run a trigger to its single event and return the event's payload."""
    import asyncio

    async def first():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(first())
