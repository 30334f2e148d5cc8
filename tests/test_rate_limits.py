"""Submission under rate limits: 429s are retried (the service created nothing), nothing is doubled."""

from __future__ import annotations

from tests.conftest import load_example


def test_fifty_mapped_prompts_under_30_percent_429s_make_exactly_fifty_tasks(airflow_db, xai_conn):
    xai_conn.configure(
        fault_rate=0.3, fault_kinds=["429"], fault_paths=["POST /xai/images"], retry_after="0", seed=7
    )
    run = load_example("xai_mapped_submit_dag").dag.test()
    tis = run.get_task_instances()
    assert run.state == "success" and len(tis) == 50
    assert all(ti.state == "success" and ti.try_number == 1 for ti in tis)
    log = xai_conn.requests_log()
    refused = [r for r in log if r["path"] == "/xai/images" and r["status"] == 429]
    assert len(refused) > 5  # the faults really happened
    assert xai_conn.count("POST", "/xai/images") == 50  # exactly one accepted POST per prompt
    assert len(xai_conn.tasks()) == 50
    prompts = sorted(task["body"]["prompt"] for task in xai_conn.tasks())
    assert prompts == sorted(f"prompt number {n}" for n in range(50))
