"""Provide pytest fixtures that serve the emulator (a ``pytest11`` plugin, loaded automatically).

``xai_emulator`` (function scope) yields a started
:class:`~airflow_provider_xai.emulator.server.EmulatorServer`, reset for the test, in ``per-read``
progression mode (each status read advances a task one status, so polling tests need no sleeps) with fast
timings. It reuses the session-wide ``xai_emulator_session`` server. Mark a test to change settings::

    @pytest.mark.xai_emulator(envelope=True, create_status=201)
    def test_enveloped(xai_emulator, monkeypatch):
        conn = {"conn_type": "xai", "host": xai_emulator.url, "password": "any-key"}
        monkeypatch.setenv("AIRFLOW_CONN_XAI_DEFAULT", json.dumps(conn))
        assert XaiHook().submit_image("a fox")
        assert xai_emulator.count("POST", "/xai/images") == 1

The plugin imports nothing heavy (no Airflow); the emulator itself is imported when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

#: The fixtures' settings: per-read progression and fast timings.
FIXTURE_SETTINGS: dict[str, Any] = {
    "progression": "per-read",
    "image_seconds": 0.5,
    "video_seconds": 1.0,
    "xai_image_seconds": 0.0,
}


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``xai_emulator`` marker."""
    config.addinivalue_line(
        "markers", "xai_emulator(**settings): settings of the xai_emulator fixture for this test"
    )


@pytest.fixture(scope="session")
def xai_emulator_session() -> Iterator[Any]:
    """Serve one emulator for the whole session (per-read progression, fast timings)."""
    from airflow_provider_xai.emulator.server import EmulatorServer

    server = EmulatorServer(**FIXTURE_SETTINGS).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def xai_emulator(xai_emulator_session: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Yield the session's emulator, reset for this test and set up by an ``xai_emulator`` marker."""
    xai_emulator_session.reset()
    marker = request.node.get_closest_marker("xai_emulator")
    if marker is not None:
        xai_emulator_session.configure(**marker.kwargs)
    yield xai_emulator_session
    xai_emulator_session.reset()
