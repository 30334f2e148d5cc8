"""Fixtures that run the real Airflow components (api-server, scheduler, dag-processor, triggerer).

The stack itself (:class:`~tests.system.stack.AirflowStack`, :func:`~tests.system.stack.start_stack` and
their helpers) lives in ``stack.py``: plain Python, which ``benchmarks/bench_e2e.py`` uses too.
"""

from __future__ import annotations

import pathlib
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.system.stack import AirflowStack, migrate_home, start_stack

StackFactory = Callable[..., AirflowStack]


@pytest.fixture
def system_api_key() -> str:
    """A throwaway API key; the emulator accepts only this one."""
    return f"xai-systest-{secrets.token_hex(12)}"


@pytest.fixture
def system_emulator(system_api_key: str) -> Iterator[Any]:
    """The emulator in ``time`` progression with short durations, so that tasks really defer."""
    from airflow_provider_xai.emulator.server import EmulatorServer

    server = EmulatorServer(progression="time", image_seconds=3, video_seconds=4, api_key=system_api_key)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """An ``AIRFLOW_HOME`` with a freshly migrated DB and its ``airflow.cfg``, made once per session."""
    return migrate_home(tmp_path_factory.mktemp("airflow_home_template"))


@pytest.fixture
def airflow_stack_factory(
    request: pytest.FixtureRequest,
    tmp_path: pathlib.Path,
    system_emulator: Any,
    system_api_key: str,
    migrated_template: pathlib.Path,
) -> StackFactory:
    """Return ``start(dags_folder=None, conn_key=None, **env)``: a fresh home and DB, and the components.

    :param dags_folder: the child's ``AIRFLOW__CORE__DAGS_FOLDER`` (default ``example_dags``).
    :param conn_key: the API key of the ``xai_default`` connection (default: the key the emulator pins).
    :param env: more settings of every component (e.g. the ``XAI_TEST_*`` of ``tests/dags/xai_retry_dag.py``).

    Every component is stopped at the end of the test, even when it fails.
    """

    def start(
        dags_folder: pathlib.Path | None = None, conn_key: str | None = None, **extra: str
    ) -> AirflowStack:
        stack = start_stack(
            tmp_path,
            system_emulator.url,
            conn_key or system_api_key,
            dags_folder=dags_folder,
            template=migrated_template,
            secrets=(system_api_key,),
            **{"XAI_EXAMPLE_POLL_INTERVAL": "0.5", **extra},
        )
        request.addfinalizer(stack.stop)
        return stack

    return start


@pytest.fixture
def airflow_stack(airflow_stack_factory: StackFactory) -> AirflowStack:
    """The four components on ``example_dags``, with the key the emulator accepts."""
    return airflow_stack_factory()
