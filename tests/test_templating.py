"""Bad values that only appear after templating fail before any request, naming parameter and value."""

from __future__ import annotations

from tests.conftest import load_example

EXPECTED = {
    "empty_prompt": "Invalid prompt: ''",
    "long_prompt": "(1001 characters)",
    "bad_ratio": "Invalid aspect_ratio: '4:3'",
    "string_duration": "Invalid duration: '10 s'",  # a whole-number string ("10") is accepted
    "bad_resolution": "Invalid resolution: '1080p'",
    "file_url": "Invalid image_url: 'file:///etc/passwd'",
    "not_a_url": "Invalid image_url: 'not a url'",
}


def test_rendered_bad_values_fail_before_sending(airflow_db, xai_conn, capsys):
    run = load_example("xai_bad_template_dag").dag.test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == dict.fromkeys(EXPECTED, "failed")
    assert xai_conn.requests_log() == []  # nothing sent, nothing billed
    out = capsys.readouterr().out
    for task_id, message in EXPECTED.items():
        assert message in out, task_id
    assert out.count("Nothing was sent to the service") >= len(EXPECTED)
