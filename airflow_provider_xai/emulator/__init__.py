"""A local emulator of the xAI generation service, for tests, demos and users' own DAG tests.

It implements ``api-contract.md`` on its own (it imports nothing from the provider) and is as strict as
the contract. Run it from the command line::

    xai-emulator --port 8089                      # or: python -m airflow_provider_xai.emulator
    xai-emulator --port 8089 --progression per-read --fault-rate 0.3 --seed 1

or from Python::

    from airflow_provider_xai.emulator import EmulatorServer

    with EmulatorServer(progression="per-read") as emulator:
        emulator.url                       # http://127.0.0.1:<free port>
        emulator.script_faults("GET /xai/tasks", ["429", "502html"])
        emulator.count("POST", "/xai/images")

or as the pytest fixture ``xai_emulator`` (see :mod:`.pytest_plugin`).

Modules: :mod:`.models` (state), :mod:`.tasks` (a task's statuses and answer), :mod:`.app` (HTTP),
:mod:`.control` (the ``/_emulator/`` control API), :mod:`.media` (JPEG and MP4 bytes),
:mod:`.validation` (the contract's rules), :mod:`.directives` (prompt directives such as
``[xai:failed]``), :mod:`.settings` (settings and defaults), :mod:`.server` (the threaded server).
"""

from .models import Backend
from .server import EmulatorServer
from .settings import DEFAULTS

__all__ = ["DEFAULTS", "Backend", "EmulatorServer"]
