"""System tests: the "Generated media" view on the real ``airflow api-server``, after a real run.

The four components run a DAG of mapped images, a video, an unstored image and a plain task; the api-server
loads the provider's plugin by itself (default, lazy provider discovery) and serves the view under Airflow's
auth: a SimpleAuthManager (``tests/plugins/auth.py``) that denies one user this DAG. One run serves two
tests: the view over HTTP (auth, ranges, path escapes), and headless Chromium driven through the UI as a
person would, from the login form to the task instance's and the DAG run's tabs.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urljoin

import pytest
import requests

from tests.plugins.auth import DENIED_ENV
from tests.system.stack import ROOT, AirflowStack, copy_dags, migrate_home, start_stack

pytestmark = pytest.mark.system

DAG_ID = "xai_test_media_view"
#: where the browser test leaves its screenshots for the docs (``docs/img``), when set
SCREENSHOTS_ENV = "XAI_UI_SCREENSHOTS"


@dataclass
class MediaRun:
    """The stack and its finished run of the view's DAG."""

    stack: AirflowStack
    run_id: str

    def page(self, path: str, **query: object) -> str:
        return f"{self.stack.base_url}/xai-media/{path}?" + urlencode(
            {"dag_id": DAG_ID, "run_id": self.run_id, **query}
        )

    def token_of(self, user: str) -> str:
        passwords = json.loads((self.stack.home / "simple_auth_manager_passwords.json.generated").read_text())
        answer = requests.post(
            f"{self.stack.base_url}/auth/token",
            json={"username": user, "password": passwords[user]},
            timeout=30,
        )
        return answer.json()["access_token"]


@pytest.fixture(scope="module")
def media_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaRun]:
    """The real components after one successful run of ``tests/dags/xai_media_view_dag.py``."""
    import secrets

    from airflow_provider_xai.emulator.server import EmulatorServer

    key = f"xai-systest-{secrets.token_hex(12)}"
    emulator = EmulatorServer(progression="time", image_seconds=3, video_seconds=4, api_key=key)
    emulator.start()
    base = tmp_path_factory.mktemp("media_view")
    stack = None
    try:
        stack = start_stack(
            base,
            emulator.url,
            key,
            dags_folder=copy_dags(base / "dags", "xai_media_view_dag"),
            template=migrate_home(base / "template"),
            secrets=(key,),
            XAI_EXAMPLE_POLL_INTERVAL="0.5",
            PYTHONPATH=str(ROOT),
            AIRFLOW__CORE__AUTH_MANAGER="tests.plugins.auth.DenyingAuthManager",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin,outsider:admin",
            **{DENIED_ENV: f"outsider:{DAG_ID}"},
        )
        stack.wait_until_ready(DAG_ID, timeout=180)
        run_id = stack.trigger(DAG_ID)
        run = stack.wait_for_run(DAG_ID, run_id, timeout=300)
        assert run["state"] == "success", stack.task_states(DAG_ID, run_id)
        yield MediaRun(stack, run_id)
    finally:
        if stack is not None:
            stack.stop()
        emulator.stop()


def test_the_view_on_the_real_api_server(media_run):
    stack = media_run.stack
    admin = {"Authorization": f"Bearer {stack._token}"}
    # the api-server lists the plugin with its two views
    plugins = requests.get(f"{stack.base_url}/api/v2/plugins", headers=admin, timeout=30).json()["plugins"]
    (plugin,) = [p for p in plugins if p["name"] == "xai_media"]
    assert {v["destination"] for v in plugin["external_views"]} == {"task_instance", "dag_run"}

    ti_page = media_run.page("task-instance", task_id="clip", map_index="{MAP_INDEX}")
    answer = requests.get(ti_page, cookies={"_token": stack._token}, timeout=60)  # as the UI's iframe does
    assert answer.status_code == 200, answer.text[:500]
    assert "<video" in answer.text and "Waves at sunset" in answer.text
    src = answer.text.split('<video src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    video = requests.get(urljoin(ti_page, src), headers={**admin, "Range": "bytes=0-11"}, timeout=60)
    assert video.status_code == 206 and video.content[4:8] == b"ftyp"
    assert video.headers["content-range"].startswith("bytes 0-11/")

    run_page = requests.get(media_run.page("dag-run"), headers=admin, timeout=60)
    assert run_page.status_code == 200
    # 3 mapped + clip + unstored + to_s3 (stored locally here)
    assert run_page.text.count('data-testid="xai-generation"') == 6

    # no session, no bytes; a user who may not read the DAG gets 403; a path outside the outputs is refused
    assert requests.get(ti_page, timeout=30).status_code == 401
    assert requests.get(urljoin(ti_page, src), timeout=30).status_code == 401
    outsider = {"Authorization": f"Bearer {media_run.token_of('outsider')}"}
    assert requests.get(ti_page, headers=outsider, timeout=30).status_code == 403
    assert requests.get(urljoin(ti_page, src), headers=outsider, timeout=30).status_code == 403
    file_url = media_run.page("file", task_id="clip", map_index=-1)
    for uri, refused in (
        ("file:///etc/passwd", 404),  # not one of the task's outputs
        ("s3://aws_default@another-bucket/x.mp4", 404),  # another bucket
    ):
        answer = requests.get(f"{file_url}&uri={quote(uri, safe='')}", headers=admin, timeout=30)
        assert answer.status_code == refused, (uri, answer.status_code, answer.text[:200])
    own = src.split("uri=", 1)[1].split("&", 1)[0]
    escape = src.replace(own, own + quote("/../../../../etc/passwd", safe=""), 1)
    assert requests.get(urljoin(ti_page, escape), headers=admin, timeout=30).status_code == 403


# ---- as a person would: headless Chromium through the UI ----------------------------------------------


def _browser():
    """Headless Chromium (Debian's package) through its chromedriver."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.geteuid() == 0:
            pytest.fail("chromium and chromedriver are missing (scripts/system_packages.sh installs them)")
        pytest.skip("chromium and chromedriver are missing: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(driver), options=options)


def _wait(what: str, check, timeout: float = 60.0, interval: float = 0.25):
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # noqa: BLE001 - the page is still loading
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def _log_in(browser, base_url: str, user: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{base_url}/")
    name = _wait("the login form", lambda: browser.find_element(By.CSS_SELECTOR, "input[name='username']"))
    name.send_keys(user)
    secret = browser.find_element(By.CSS_SELECTOR, "input[type='password']")
    secret.send_keys(password, Keys.ENTER)
    _wait("the session cookie", lambda: browser.get_cookie("_token"))


def _enter_view(browser, url: str):
    """Open a UI page holding the plugin's tab and switch into the view's frame."""
    from selenium.webdriver.common.by import By

    browser.switch_to.default_content()
    browser.get(url)
    frame = _wait(
        "the view's frame",
        lambda: [
            f
            for f in browser.find_elements(By.TAG_NAME, "iframe")
            if "/xai-media/" in (f.get_attribute("src") or "")
        ],
    )[0]
    browser.switch_to.frame(frame)
    return _wait(
        "the view's page", lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid='xai-media-page']")
    )


def _distinct_colours(png: bytes) -> int:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return len(image.convert("RGB").resize((64, 64)).getcolors(64 * 64) or [])


def _keep(browser, name: str, folder: pathlib.Path) -> pathlib.Path:
    browser.switch_to.default_content()
    path = folder / name
    browser.save_screenshot(str(path))
    wanted = os.environ.get(SCREENSHOTS_ENV)
    if wanted:
        pathlib.Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, pathlib.Path(wanted) / name)
    return path


def test_a_person_sees_the_image_and_plays_the_video_in_the_ui(media_run, tmp_path):
    from selenium.webdriver.common.by import By

    stack, run_id = media_run.stack, media_run.run_id
    browser = _browser()
    try:
        _log_in(browser, stack.base_url, "admin", stack.admin_password())
        run_ui = f"{stack.base_url}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}"

        # a mapped image's task instance: the picture is decoded and drawn, with its card
        _enter_view(browser, f"{run_ui}/tasks/mapped/mapped/1/plugin/xai-media")
        image = _wait(
            "a decoded image", lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid='xai-image']")
        )
        _wait(
            "the image's pixels",
            lambda: browser.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth", image
            ),
        )
        assert _distinct_colours(image.screenshot_as_png) > 20  # a picture, not a blank or a broken icon
        assert (
            "A blue whale in deep water"
            in browser.find_element(By.CSS_SELECTOR, "[data-testid='xai-prompt']").text
        )
        for testid in (
            "xai-model",
            "xai-api",
            "xai-status",
            "xai-remote-id",
            "xai-timing",
            "xai-sidecar-link",
        ):
            assert browser.find_element(By.CSS_SELECTOR, f"[data-testid='{testid}']").text.strip(), testid
        task_shot = _keep(browser, "ui-task-instance-view.png", tmp_path)

        # the video's task instance: it has a duration, and it plays (its time advances)
        _enter_view(browser, f"{run_ui}/tasks/clip/plugin/xai-media")
        video = _wait(
            "the video element", lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid='xai-video']")
        )
        duration = _wait(
            "the video's metadata",
            lambda: browser.execute_script(
                "return arguments[0].readyState >= 1 && arguments[0].duration", video
            ),
        )
        assert 5 <= duration <= 7, duration  # the DAG asks for 6 s
        browser.execute_script("arguments[0].muted = true; return arguments[0].play();", video)
        start = browser.execute_script("return arguments[0].currentTime", video)
        advanced = _wait(
            "the video to play",
            lambda: browser.execute_script("return arguments[0].currentTime", video) > start + 0.5,
            timeout=20,
        )
        assert advanced
        browser.execute_script("arguments[0].currentTime = 4.0", video)  # seeking (Range requests)
        _wait(
            "a seek",
            lambda: browser.execute_script(
                "return !arguments[0].seeking && arguments[0].currentTime >= 4.0", video
            ),
        )
        assert browser.execute_script("return arguments[0].error", video) is None

        # the run's tab: every medium of the run, mapped tasks included
        _enter_view(browser, f"{run_ui}/plugin/xai-media-run")
        cards = browser.find_elements(By.CSS_SELECTOR, "[data-testid='xai-generation']")
        assert len(cards) == 6, [c.get_attribute("data-task-id") for c in cards]
        assert sorted(
            c.get_attribute("data-map-index") for c in cards if c.get_attribute("data-task-id") == "mapped"
        ) == ["0", "1", "2"]
        images = browser.find_elements(By.CSS_SELECTOR, "[data-testid='xai-image']")
        _wait(
            "every stored image drawn",
            lambda: all(browser.execute_script("return arguments[0].naturalWidth", i) for i in images[:3]),
        )
        for clip in browser.find_elements(By.CSS_SELECTOR, "[data-testid='xai-video']"):
            _wait(
                "a video's first frame",
                lambda c=clip: browser.execute_script("return arguments[0].readyState >= 2", c),
            )
        mapped_card = browser.find_element(
            By.CSS_SELECTOR, "[data-testid='xai-generation'][data-task-id='mapped']"
        )
        browser.execute_script("arguments[0].closest('section').scrollIntoView()", mapped_card)
        run_shot = _keep(browser, "ui-dag-run-view.png", tmp_path)

        # Airflow's dark theme (here from the system's preference): the view follows it
        browser.switch_to.default_content()
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
        )
        _enter_view(browser, f"{run_ui}/tasks/mapped/mapped/1/plugin/xai-media")
        background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        rgb = [
            int(part) for part in background[background.index("(") + 1 : background.index(")")].split(",")[:3]
        ]
        assert sum(rgb) < 3 * 80, background  # a dark page, not a white box inside Airflow's dark UI
        _keep(browser, "ui-task-instance-view-dark.png", tmp_path)
    finally:
        browser.quit()
    assert task_shot.stat().st_size > 10_000 and run_shot.stat().st_size > 10_000
