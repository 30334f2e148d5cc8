"""Templates that render bad values: every task must fail before any request (tests/test_templating.py)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_xai.operators.xai import XaiImageOperator, XaiVideoOperator

with DAG(
    dag_id="xai_test_bad_templates",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"empty": "", "ratio": "4:3"},
) as dag:
    XaiImageOperator(task_id="empty_prompt", prompt="{{ params.empty }}")
    XaiImageOperator(task_id="long_prompt", prompt="{{ 'x' * 1001 }}")
    XaiImageOperator(task_id="bad_ratio", prompt="a fox", aspect_ratio="{{ params.ratio }}")
    XaiVideoOperator(task_id="string_duration", prompt="waves", duration="{{ 5 + 5 }} s")
    XaiVideoOperator(task_id="bad_resolution", prompt="waves", resolution="{{ '1080' ~ 'p' }}")
    XaiImageOperator(task_id="file_url", prompt="a fox", image_url="{{ 'file:///etc/passwd' }}")
    XaiVideoOperator(task_id="not_a_url", prompt="waves", image_url="{{ 'not a url' }}")
