"""A local emulator of the xAI generation service, for tests, demos and users' own DAG tests.

It implements ``api-contract.md`` (the task gateway: ``/xai/images``, ``/xai/videos``, ``/xai/tasks``) and
``xai-api-contract.md`` (xAI's own API: ``/v1/images/generations``, ``/v1/images/edits``,
``/v1/videos/generations|edits|extensions``, ``GET /v1/videos/<request_id>``, ``GET /v1/api-key``) on one
port, on its own (it imports nothing from the provider), as strict as the contracts. Run it from the
command line::

    xai-emulator --port 8089                      # or: python -m airflow_provider_xai.emulator
    xai-emulator --port 8089 --progression per-read --fault-rate 0.3 --seed 1

or from Python::

    from airflow_provider_xai.emulator import EmulatorServer

    with EmulatorServer(progression="per-read") as emulator:
        emulator.url                       # http://127.0.0.1:<free port>
        emulator.script_faults("GET /xai/tasks", ["429", "502html"])
        emulator.count("POST", "/xai/images")
        emulator.count("POST", "/v1/images/generations")
        for task in emulator.tasks():      # gateway tasks and xAI requests
            emulator.force_status(task.get("taskId") or task["requestId"], "expired")
        emulator.uploads()                 # PUTs made to xAI's output.upload_url

or as the pytest fixture ``xai_emulator`` (see :mod:`.pytest_plugin`).

Modules: :mod:`.models` (state), :mod:`.tasks` (a task's statuses and answer), :mod:`.app` (HTTP),
:mod:`.control` (the ``/_emulator/`` control API), :mod:`.media` (JPEG and MP4 bytes),
:mod:`.validation` (the contract's rules), :mod:`.directives` (prompt directives such as
``[xai:failed]``), :mod:`.settings` (settings and defaults), :mod:`.server` (the threaded server).
xAI's own API: :mod:`.xai_api` (HTTP: routes, authentication, error styles), :mod:`.xai_service` (its
operations on the state, uploads), :mod:`.xai_requests` (an xAI request's statuses and answers),
:mod:`.xai_validation` (its field rules).
"""

from .models import Backend
from .server import EmulatorServer
from .settings import DEFAULTS

__all__ = ["DEFAULTS", "Backend", "EmulatorServer"]
