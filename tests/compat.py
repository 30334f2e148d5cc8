"""Names whose import path moved between the Airflow 3 versions the provider supports."""

from __future__ import annotations

try:  # Airflow 3.3+
    from airflow.sdk.exceptions import AirflowRescheduleException, AirflowSkipException, TaskDeferred
except ImportError:  # Airflow 3.0 - 3.2
    from airflow.exceptions import AirflowRescheduleException, AirflowSkipException, TaskDeferred

__all__ = [
    "AIRFLOW_VERSION",
    "HAS_TASK_STATE_STORE",
    "AirflowRescheduleException",
    "AirflowSkipException",
    "TaskDeferred",
]

try:  # Airflow 3.3+: a retry can reattach to the remote task of an earlier try
    from airflow.sdk.execution_time.context import TaskStateStoreAccessor  # noqa: F401

    HAS_TASK_STATE_STORE = True
except ImportError:
    HAS_TASK_STATE_STORE = False

from airflow import __version__ as _airflow_version  # noqa: E402

AIRFLOW_VERSION = tuple(int(part) for part in _airflow_version.split(".")[:2])
