"""The "Generated media" view over real HTTP: Airflow's own api-server app (``create_app``) served by uvicorn,
real XComs of a real run (``dag.test()`` against the emulator) in the suite's SQLite DB, files on the
local disk and in S3 (moto), and Airflow's auth (a SimpleAuthManager that denies one user this DAG).
"""

from __future__ import annotations

import json
import pathlib
import re
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from tests.conftest import API_KEY, conn_json, load_example
from tests.plugins.auth import DENIED_ENV
from tests.system.stack import free_port

DAG_ID = "xai_test_media_view"
PASSWORDS = {"admin": "admin-pw-7f3a", "outsider": "outsider-pw-91c2"}


@dataclass
class MediaRun:
    run_id: str
    local: pathlib.Path
    s3_folder: str
    results: dict[tuple[str, int], object]
    emulator: object
    moto: object


@dataclass
class Server:
    url: str
    tokens: dict[str, str]

    def get(self, path: str, user: str | None = "admin", **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if user:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return requests.get(urljoin(self.url, path), headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def media_run(airflow_db, xai_emulator_session, moto_s3, tmp_path_factory):
    local = tmp_path_factory.mktemp("media")
    s3_folder = moto_s3.folder("view")
    xai_emulator_session.reset()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_CONN_XAI_DEFAULT", conn_json(xai_emulator_session.url))
        mp.setenv("XAI_TEST_LOCAL_OUTPUT", str(local))
        mp.setenv("XAI_TEST_S3_OUTPUT", s3_folder)
        run = load_example("xai_media_view_dag").dag.test()
    states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    results = {
        (ti.task_id, ti.map_index): ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index)
        for ti in run.get_task_instances()
    }
    yield MediaRun(run.run_id, local, s3_folder, results, xai_emulator_session, moto_s3)
    xai_emulator_session.reset()


@pytest.fixture(scope="module")
def server(media_run, tmp_path_factory):
    """Airflow's api-server app, plugins and auth included, on a free port (uvicorn in a thread)."""
    import uvicorn
    from airflow.api_fastapi.app import create_app, purge_cached_app

    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__CORE__AUTH_MANAGER", "tests.plugins.auth.DenyingAuthManager")
        mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin,outsider:admin")
        mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
        mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(passwords))
        mp.setenv(DENIED_ENV, f"outsider:{DAG_ID}")
        purge_cached_app()
        app = create_app()
        port = free_port()
        uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not uv.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        tokens = {}
        for user, password in PASSWORDS.items():
            answer = requests.post(
                f"{url}/auth/token", json={"username": user, "password": password}, timeout=30
            )
            assert answer.status_code in (200, 201), answer.text
            tokens[user] = answer.json()["access_token"]
        try:
            yield Server(url, tokens)
        finally:
            uv.should_exit = True
            thread.join(timeout=15)
            purge_cached_app()


def ti_page(run: MediaRun, task_id: str, map_index: int | str = -1) -> str:
    """The task instance page's URL, as the UI fills in the view's href (each value URL-encoded)."""
    query = {"dag_id": DAG_ID, "run_id": run.run_id, "task_id": task_id, "map_index": map_index}
    return "/xai-media/task-instance?" + urlencode(query)


def run_page(run: MediaRun, run_id: str | None = None) -> str:
    return "/xai-media/dag-run?" + urlencode({"dag_id": DAG_ID, "run_id": run_id or run.run_id})


def file_url(run: MediaRun, task_id: str, uri: str, map_index: int = -1) -> str:
    query = {"dag_id": DAG_ID, "run_id": run.run_id, "task_id": task_id, "map_index": map_index, "uri": uri}
    return "/xai-media/file?" + urlencode(query)


class Page(HTMLParser):
    """The elements of a page that tests look at: media sources, links and ``data-testid`` texts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images: list[str] = []
        self.videos: list[dict] = []
        self.cards: list[dict] = []
        self.figures: list[dict] = []
        self.links: dict[str, list[str]] = {}
        self.texts: dict[str, list[str]] = {}
        self._open: list[str | None] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        testid = attrs.get("data-testid")
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "video":
            self.videos.append(attrs)
        if testid == "xai-generation":
            self.cards.append(attrs)
        if testid == "xai-medium":
            self.figures.append(attrs)
        if tag == "a" and testid:
            self.links.setdefault(testid, []).append(attrs["href"])
        if tag not in ("img", "meta", "br", "source"):
            self._open.append(testid)

    def handle_endtag(self, tag):
        if tag not in ("img", "meta", "br", "source") and self._open:
            self._open.pop()

    def handle_data(self, data):
        for testid in self._open:
            if testid and data.strip():
                self.texts.setdefault(testid, []).append(data.strip())

    def text(self, testid: str) -> str:
        return " ".join(self.texts.get(testid, []))


# ---- authentication and authorization ------------------------------------------------------------


def test_no_token_gets_401_and_no_bytes(server, media_run):
    uri = media_run.results[("clip", -1)]["outputs"][0]
    for path in (ti_page(media_run, "clip"), run_page(media_run)):
        answer = server.get(path, user=None)
        assert answer.status_code == 401, answer.text[:300]
    answer = server.get(file_url(media_run, "clip", uri), user=None)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Not authenticated"}
    # a browser gets a sentence, not JSON
    answer = server.get(ti_page(media_run, "clip"), user=None, headers={"Accept": "text/html"})
    assert answer.status_code == 401 and "Sign in to Airflow" in answer.text


def test_a_user_denied_the_dag_gets_403(server, media_run):
    uri = media_run.results[("clip", -1)]["outputs"][0]
    for path in (
        ti_page(media_run, "clip"),
        run_page(media_run),
        file_url(media_run, "clip", uri),
    ):
        answer = server.get(path, user="outsider", headers={"Range": "bytes=0-99"})
        assert answer.status_code == 403, (path, answer.status_code, answer.text[:300])
        assert b"ftyp" not in answer.content
    # the same user sees the API's DAG list but not this DAG there either: Airflow's own rules apply
    assert server.get(f"/api/v2/dags/{DAG_ID}", user="outsider").status_code == 403
    assert server.get(f"/api/v2/dags/{DAG_ID}", user="admin").status_code == 200


def test_the_ui_session_cookie_is_accepted(server, media_run):
    answer = requests.get(
        urljoin(server.url, ti_page(media_run, "clip")),
        cookies={"_token": server.tokens["admin"]},
        timeout=30,
    )
    assert answer.status_code == 200
    assert "<video" in answer.text


def test_a_forged_token_is_refused(server, media_run):
    answer = server.get(ti_page(media_run, "clip"), user=None, headers={"Authorization": "Bearer not.a.jwt"})
    assert answer.status_code in (401, 403)


# ---- pages ---------------------------------------------------------------------------------------


def test_a_mapped_task_instance_page_shows_its_image_and_how_it_was_made(server, media_run):
    result = media_run.results[("mapped", 1)]
    answer = server.get(ti_page(media_run, "mapped", 1))
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'self'" in answer.headers["content-security-policy"]
    page = Page(answer.text)
    assert len(page.cards) == 1 and page.cards[0]["data-map-index"] == "1"
    assert page.cards[0]["data-xai-task-id"] == result["xai_task_id"]
    assert page.text("xai-prompt") == "A blue whale in deep water"
    assert page.text("xai-model") == result["model"] == "grok-imagine-image"
    assert page.text("xai-api") == "gateway"
    assert page.text("xai-status") == "completed"
    assert page.text("xai-cost") == "cost not reported"
    assert page.text("xai-remote-id") == result["xai_task_id"]
    params = page.text("xai-params")
    assert "aspect ratio" in params and "1:1" in params and "{" not in params
    assert "created" in params and "finished" in params and "task duration" in params
    # the image is served by the view from where the task stored it, byte for byte
    (src,) = page.images
    assert src.startswith("file?")
    image = server.get(urljoin(answer.url, src))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["accept-ranges"] == "bytes"
    stored = pathlib.Path(result["outputs"][0].removeprefix("file://"))
    assert image.content == stored.read_bytes()
    # and its sidecar is one link away
    (sidecar,) = page.links["xai-sidecar-link"]
    manifest = server.get(urljoin(answer.url, sidecar))
    assert manifest.status_code == 200 and manifest.headers["content-type"] == "application/json"
    assert manifest.json()["xai_task_id"] == result["xai_task_id"]
    assert API_KEY not in answer.text


def test_an_unfilled_map_index_placeholder_means_an_unmapped_task(server, media_run):
    answer = server.get(ti_page(media_run, "clip", "{MAP_INDEX}"))
    assert answer.status_code == 200
    page = Page(answer.text)
    assert len(page.videos) == 1 and "controls" in page.videos[0]
    assert page.text("xai-prompt") == "Waves at sunset"
    assert "duration" in page.text("xai-params") and "6 s" in page.text("xai-params")


def test_a_task_that_is_not_xai_says_so_plainly(server, media_run):
    answer = server.get(ti_page(media_run, "plain"))
    assert answer.status_code == 200
    page = Page(answer.text)
    assert not page.figures
    assert "This task produced no xAI media" in page.text("xai-no-media")
    submitted = server.get(ti_page(media_run, "submit_only"))
    assert "without waiting" in Page(submitted.text).text("xai-no-media")
    missing = server.get(ti_page(media_run, "no_such_task"))
    assert missing.status_code == 404 and "No such task instance" in missing.text


def test_the_dag_run_page_lists_every_medium_mapped_tasks_included(server, media_run):
    answer = server.get(run_page(media_run))
    assert answer.status_code == 200
    page = Page(answer.text)
    cards = {(card["data-task-id"], int(card["data-map-index"])) for card in page.cards}
    assert cards == {
        ("mapped", 0),
        ("mapped", 1),
        ("mapped", 2),
        ("clip", -1),
        ("unstored", -1),
        ("to_s3", -1),
    }
    assert len(page.images) == 5 and len(page.videos) == 1
    sections = re.findall(r'data-testid="xai-section" data-task-id="([^"]+)"', answer.text)
    assert sorted(sections) == ["clip", "mapped", "to_s3", "unstored"]
    assert "3 generation(s), 3 file(s)" in answer.text
    # each mapped instance's file is its own
    mapped = sorted(src for src in page.images if "task_id=mapped" in src)
    assert {parse_qs(urlsplit(src).query)["map_index"][0] for src in mapped} == {"0", "1", "2"}
    for src in mapped:
        assert server.get(urljoin(answer.url, src)).status_code == 200
    empty = server.get(run_page(media_run, "no_such_run"))
    assert empty.status_code == 404


# ---- bytes ---------------------------------------------------------------------------------------


def test_video_ranges_are_served_for_seeking(server, media_run):
    uri = media_run.results[("clip", -1)]["outputs"][0]
    data = pathlib.Path(uri.removeprefix("file://")).read_bytes()
    size = len(data)
    assert size > 1000
    url = file_url(media_run, "clip", uri)
    whole = server.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-length"] == str(size) and whole.headers["content-type"] == "video/mp4"
    cases = {
        "bytes=100-199": (100, 199),
        "bytes=500-": (500, size - 1),
        "bytes=-64": (size - 64, size - 1),
        f"bytes={size - 10}-{size + 500}": (size - 10, size - 1),
    }
    for header, (start, end) in cases.items():
        part = server.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}", header
        assert part.headers["content-length"] == str(end - start + 1)
        assert part.content == data[start : end + 1], header
    too_far = server.get(url, headers={"Range": f"bytes={size}-"})
    assert too_far.status_code == 416 and too_far.headers["content-range"] == f"bytes */{size}"
    several = server.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200 and several.content == data  # one range or the whole file
    head = requests.head(
        urljoin(server.url, url), headers={"Authorization": f"Bearer {server.tokens['admin']}"}, timeout=30
    )
    assert head.status_code == 200 and head.headers["content-length"] == str(size) and not head.content


def test_s3_media_are_streamed_through_the_tasks_connection(server, media_run):
    result = media_run.results[("to_s3", -1)]
    (uri,) = result["outputs"]
    assert uri.startswith("s3://aws_default@")
    stored = media_run.moto.read(uri)
    answer = server.get(ti_page(media_run, "to_s3"))
    page = Page(answer.text)
    (src,) = page.images
    image = server.get(urljoin(answer.url, src))
    assert image.status_code == 200 and image.content == stored
    part = server.get(urljoin(answer.url, src), headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == stored[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(stored)}"


def test_only_the_task_instances_own_files_are_served(server, media_run):
    own = media_run.results[("mapped", 1)]["outputs"][0]
    other = media_run.results[("mapped", 0)]["outputs"][0]
    s3_uri = media_run.results[("to_s3", -1)]["outputs"][0]
    folder = own.rsplit("/", 1)[0]
    refused = {
        f"{folder}/../{own.rsplit('/', 1)[1]}": 403,  # a '..' segment
        f"{folder}/sub/../{own.rsplit('/', 1)[1]}": 403,
        other: 404,  # another task instance's file
        "file:///etc/passwd": 404,
        "/etc/passwd": 404,
        s3_uri.replace(media_run.moto.bucket, "another-bucket"): 404,  # another bucket
        s3_uri: 404,  # a real object, but another task's
        own + "x": 404,
    }
    for uri, status in refused.items():
        answer = server.get(file_url(media_run, "mapped", uri, map_index=1))
        assert answer.status_code == status, (uri, answer.status_code, answer.text[:200])
        assert answer.headers["content-type"] == "application/json"
        assert not answer.content.startswith(b"\xff\xd8")  # no JPEG bytes
    # the same URI under the task instance that stored it is served
    assert server.get(file_url(media_run, "mapped", other, map_index=0)).status_code == 200
    assert server.get(file_url(media_run, "mapped", own, map_index=1)).status_code == 200


def test_a_deleted_file_shows_a_message_instead_of_a_broken_picture(server, media_run):
    uri = media_run.results[("mapped", 2)]["outputs"][0]
    path = pathlib.Path(uri.removeprefix("file://"))
    kept = path.read_bytes()
    path.unlink()
    try:
        answer = server.get(ti_page(media_run, "mapped", 2))
        assert answer.status_code == 200
        page = Page(answer.text)
        assert not page.images
        assert page.figures[0]["data-state"] == "missing"
        assert "no longer exists" in page.text("xai-media-missing") and uri in answer.text
        gone = server.get(file_url(media_run, "mapped", uri, map_index=2))
        assert gone.status_code == 404 and "no longer exists" in gone.json()["detail"]
    finally:
        path.write_bytes(kept)


def test_media_that_were_not_stored_show_from_their_url_until_it_expires(server, media_run):
    result = media_run.results[("unstored", -1)]
    assert result["outputs"] == []
    page = Page(server.get(ti_page(media_run, "unstored")).text)
    assert page.images == result["media_urls"]
    assert page.figures[0]["data-state"] == "remote"
    media_run.emulator.configure(media_ttl=0.0)
    try:
        expired = Page(server.get(ti_page(media_run, "unstored")).text)
    finally:
        media_run.emulator.configure(media_ttl=3600.0)
    assert not expired.images
    assert expired.figures[0]["data-state"] == "expired"
    assert "URL has expired" in expired.text("xai-media-missing")
