"""Injected faults: what each looks like on the wire, scripted order and seeded random faults."""

from __future__ import annotations

import pytest
import requests

IMAGE = {"prompt": "a red fox", "model": "grok-imagine-image"}


def test_429_has_retry_after_and_json(client, emu):
    emu.script_faults("GET /xai/tasks", ["429"])
    answer = client.get("whatever")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["statusCode"] == 429


def test_retry_after_can_be_an_http_date(client, emu):
    emu.configure(retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    emu.script_faults("/xai/tasks", ["429"])
    assert client.get("x").headers["Retry-After"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    emu.configure(retry_after=None)
    emu.script_faults("/xai/tasks", ["429"])
    assert "Retry-After" not in client.get("x").headers


def test_502_is_an_html_page(client, emu):
    emu.script_faults("GET /xai/tasks", ["502html"])
    answer = client.get("x")
    assert answer.status_code == 502
    assert answer.headers["Content-Type"] == "text/html"
    assert "<html>" in answer.text and "502 Bad Gateway" in answer.text


def test_503_is_json(client, emu):
    emu.script_faults("GET /xai/tasks", ["503json"])
    answer = client.get("x")
    assert answer.status_code == 503
    assert answer.json() == {"message": "service unavailable"}


@pytest.mark.parametrize(("kind", "status"), [("500json", 500), ("504html", 504)])
def test_extra_error_kinds(client, emu, kind, status):
    emu.script_faults("GET /xai/tasks", [kind])
    assert client.get("x").status_code == status


def test_drop_closes_the_connection_without_answer(client, emu):
    emu.script_faults("GET /xai/tasks", ["drop"])
    with pytest.raises(requests.ConnectionError):
        client.get("x")
    assert emu.requests_log()[-1]["status"] == 0
    assert emu.requests_log()[-1]["fault"] == "drop"
    assert client.get("x").status_code == 404  # the next request is served normally


def test_drop_mid_answer(client, emu):
    emu.script_faults("GET /xai/tasks", ["drop-mid"])
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        client.get("x")
    assert client.get("x").status_code == 404


def test_scripted_faults_come_in_order_and_do_not_advance_tasks(client, emu):
    task_id = client.create()
    emu.script_faults("GET /xai/tasks", ["429", "502html", "503json", "429"])
    assert [client.get(task_id).status_code for _ in range(5)] == [429, 502, 503, 429, 200]
    assert client.task(task_id)["status"] == "ready"  # only the successful reads advanced it
    statuses = [entry["status"] for entry in emu.requests_log()]
    assert statuses == [200, 429, 502, 503, 429, 200, 200]
    assert emu.count("GET", "/xai/tasks") == 2
    assert emu.count("GET", "/xai/tasks", accepted_only=False) == 6


def test_faulted_posts_create_no_task(client, emu):
    emu.script_faults("POST /xai/images", ["429", "drop"])
    assert client.post("image", IMAGE).status_code == 429
    with pytest.raises(requests.ConnectionError):
        client.post("image", IMAGE)
    assert emu.tasks() == []
    assert client.post("image", IMAGE).status_code == 200
    assert emu.count("POST", "/xai/images") == 1
    assert len(emu.tasks()) == 1


def test_scripted_faults_are_per_path(client, emu):
    emu.script_faults("POST /xai/videos", ["503json"])
    assert client.post("image", IMAGE).status_code == 200
    assert client.get("x").status_code == 404
    assert client.post("video", {"prompt": "v", "model": "grok-imagine-video"}).status_code == 503


def test_unknown_fault_kind_is_refused(emu):
    with pytest.raises(ValueError, match="unknown fault kind"):
        emu.script_faults("GET /xai/tasks", ["418"])


def _random_statuses(client, emu, count=40):
    emu.reset()
    emu.configure(fault_rate=0.5, seed=7, fault_kinds=["429", "503json"])
    return [client.get("x").status_code for _ in range(count)]


def test_random_faults_are_seeded_and_only_on_fault_paths(client, emu):
    first = _random_statuses(client, emu)
    assert first == _random_statuses(client, emu)
    assert set(first) == {404, 429, 503}
    assert client.post("image", IMAGE).status_code == 200  # POST is not a fault path by default
    emu.configure(fault_rate=1.0, fault_paths=["POST /xai/images"])
    assert client.post("image", IMAGE).status_code in (429, 503)
    assert client.get("x").status_code == 404


def test_random_faults_on_every_request(client, emu):
    emu.configure(fault_rate=1.0, fault_kinds=["502html"], fault_paths=["/xai"])
    assert client.post("image", IMAGE).status_code == 502
    assert client.get("x").status_code == 502


def test_faults_do_not_touch_the_control_api(client, emu):
    emu.configure(fault_rate=1.0, fault_paths=["/"], fault_kinds=["drop"])
    assert client.control("GET", "health").status_code == 200
