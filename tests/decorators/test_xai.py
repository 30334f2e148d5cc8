"""``@task.xai_image`` / ``@task.xai_video``: real ``dag.test()`` runs on the emulator, and the errors."""

from __future__ import annotations

import json

import pytest

from airflow_provider_xai.decorators.xai import _XaiImageDecoratedOperator, _XaiVideoDecoratedOperator
from tests.compat import HAS_TASK_STATE_STORE
from tests.conftest import API_KEY, load_example


def test_task_xai_image_and_video_resolve_through_provider_discovery():
    from airflow.sdk import task

    from airflow_provider_xai.decorators.xai import xai_image_task, xai_video_task

    assert task.xai_image is xai_image_task
    assert task.xai_video is xai_video_task


@pytest.mark.usefixtures("airflow_db")
def test_taskflow_example_runs_mapped_deferred_and_with_a_dict(xai_conn, monkeypatch, tmp_path):
    resumed = []
    for cls in (_XaiImageDecoratedOperator, _XaiVideoDecoratedOperator):
        original = cls.execute_complete

        def spy(self, context, event=None, request=None, _original=original):
            resumed.append((type(self).__name__, self.task_id))
            return _original(self, context, event, request)

        monkeypatch.setattr(cls, "execute_complete", spy)
    monkeypatch.setenv("XAI_OUTPUT_PATH", str(tmp_path))

    run = load_example("example_xai_taskflow").dag.test()

    states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert sorted(states) == [("cover", -1), ("poster", 0), ("poster", 1), ("poster", 2), ("teaser", -1)]
    # every task deferred and resumed on the decorated class
    assert sorted(resumed) == sorted(
        [("_XaiImageDecoratedOperator", "poster")] * 3
        + [("_XaiImageDecoratedOperator", "cover"), ("_XaiVideoDecoratedOperator", "teaser")]
    )
    ti = {key: run.get_task_instance(key[0], map_index=key[1]) for key in states}
    results = {key: t.xcom_pull(task_ids=key[0], map_indexes=key[1]) for key, t in ti.items()}
    sidecars = {
        key: json.loads(next(tmp_path.rglob(f"{r['xai_task_id']}.json")).read_text())
        for key, r in results.items()
    }
    assert all(r["outputs"] and r["status"] == "completed" for r in results.values())
    assert results[("teaser", -1)]["model"] == "grok-imagine-video"
    assert API_KEY not in json.dumps(list(results.values()))
    if not HAS_TASK_STATE_STORE:
        # dag.test() resumes with the event alone (no next_kwargs) and Airflow < 3.3 has no task state
        # store: the function is not called again, so the sidecar cannot record the request
        assert all(sidecar["request"] is None for sidecar in sidecars.values())
        return
    prompts = sorted(sidecars[("poster", i)]["request"]["prompt"] for i in range(3))
    assert prompts == [f"A travel poster of {c}, art-deco style" for c in ("Kyoto", "Lisbon", "Reykjavik")]
    assert all(sidecars[("poster", i)]["request"]["aspectRatio"] == "2:3" for i in range(3))
    # the dict's image_url (the cover's media URL) and duration reached the request
    video = sidecars[("teaser", -1)]["request"]
    assert video["prompt"] == "The poster comes alive: a slow zoom, birds fly past"
    assert video["images"] == [results[("cover", -1)]["media_urls"][0]]
    assert video["duration"] == 6


def decorated(kind: str, value, **kwargs):
    """Build one decorated task returning ``value``, outside a DAG, and return its operator."""
    from airflow.sdk import DAG, task

    decorator = task.xai_image if kind == "image" else task.xai_video

    def make_prompt():
        return value

    with DAG(dag_id=f"decorated_{kind}", schedule=None):
        arg = decorator(**kwargs)(make_prompt)()
    return arg.operator


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, ["returned NoneType None", "the prompt (a str) or a dict"]),
        (42, ["returned int 42"]),
        (["a", "b"], ["returned list"]),
        ({"prompt": "x", "retries": 3}, ["unknown parameter(s) retries", "Allowed keys: prompt"]),
        ({"aspect_ratio": "1:1"}, ["returned no prompt", "give prompt= to the decorator"]),
    ],
)
def test_a_bad_return_value_names_the_function_and_what_is_allowed(xai_conn, context, value, words):
    op = decorated("image", value)
    with pytest.raises(TypeError) as error:
        op.execute(context)
    message = str(error.value)
    assert "@task.xai_image function" in message and "make_prompt()" in message
    for word in words:
        assert word in message
    assert xai_conn.count("POST", "/xai/images") == 0  # nothing sent


def test_a_dict_may_leave_the_prompt_to_the_decorator_and_set_runtime_parameters(xai_conn, context):
    op = decorated(
        "video", {"duration": "10", "wait_for_completion": False}, prompt="A kite over dunes", duration=6
    )
    xai_task_id = op.execute(context)
    assert context["ti"].xcom["xai_task_id"] == xai_task_id
    assert xai_conn.count("POST", "/xai/videos") == 1
    body = op.build_request().body
    assert body["prompt"] == "A kite over dunes" and body["duration"] == 10


def test_the_operators_validation_still_applies(xai_conn, context):
    op = decorated("image", {"prompt": "x", "aspect_ratio": "4:3"})
    with pytest.raises(Exception, match="aspect_ratio") as error:
        op.execute(context)
    assert "4:3" in str(error.value)
    assert xai_conn.count("POST", "/xai/images") == 0
