"""An auth manager that can deny a user one DAG: SimpleAuthManager, minus the pairs in ``DENIED``.

Configured with ``AIRFLOW__CORE__AUTH_MANAGER=tests.plugins.auth.DenyingAuthManager`` (the api-server
must find the ``tests`` package: run it from the repository root or with it on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

#: (user name, DAG id) pairs refused every access; ``XAI_TEST_DENIED="user:dag,user2:dag2"`` sets them
DENIED_ENV = "XAI_TEST_DENIED"


def denied_pairs() -> set[tuple[str, str]]:
    """Return the refused (user, DAG) pairs from the environment."""
    pairs = (item.split(":", 1) for item in os.environ.get(DENIED_ENV, "").split(",") if ":" in item)
    return {(user.strip(), dag.strip()) for user, dag in pairs}


class DenyingAuthManager(SimpleAuthManager):
    """SimpleAuthManager whose ``is_authorized_dag`` refuses the configured (user, DAG) pairs."""

    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        if details is not None and (user.get_name(), details.id) in denied_pairs():
            return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
