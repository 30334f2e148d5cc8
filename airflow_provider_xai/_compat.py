"""Airflow names whose import path moved between the Airflow 3 versions the provider supports."""

from __future__ import annotations

try:  # Airflow 3.3+
    from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout
except ImportError:  # Airflow 3.1 - 3.2
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined]
        AirflowFailException,
        AirflowSensorTimeout,
    )

__all__ = ["AirflowFailException", "AirflowSensorTimeout"]
