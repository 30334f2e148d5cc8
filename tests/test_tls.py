"""HTTPS end to end: the emulator over TLS, trusted through the connection's ``ca_bundle`` extra.

The real service is only reachable over HTTPS; these tests prove that both I/O paths (requests for the
worker, aiohttp for the trigger) and media downloads use the trust the connection names, and that an
untrusted certificate fails at once with a message that says what to set.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import requests

from airflow_provider_xai.emulator.server import EmulatorServer
from airflow_provider_xai.exceptions import XaiTlsError
from airflow_provider_xai.hooks.xai import XaiHook
from airflow_provider_xai.polling import WaitEnd, WaitResult
from airflow_provider_xai.storage import store_media
from airflow_provider_xai.triggers.xai import XaiTaskTrigger
from tests.conftest import API_KEY, run_trigger

PROMPT = "a lighthouse at dusk"


def certifi_or_system_bundle() -> str:
    """Return a public CA bundle that does not trust the emulator's throw-away authority."""
    import certifi

    return certifi.where()


@pytest.fixture(scope="module")
def tls_emulator():
    with EmulatorServer(tls=True, progression="per-read", reads_to_complete=2) as server:
        yield server


@pytest.fixture
def trusted(tls_emulator, monkeypatch):
    """Point ``xai_default`` at the HTTPS emulator and trust its authority through the extra."""
    tls_emulator.reset()
    # the machine's own bundle stays in the environment: the connection's extra must win over it
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi_or_system_bundle())
    conn = {"conn_type": "xai", "host": tls_emulator.url, "password": API_KEY}
    monkeypatch.setenv(
        "AIRFLOW_CONN_XAI_DEFAULT", json.dumps({**conn, "extra": {"ca_bundle": tls_emulator.ca_bundle}})
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_XAI_UNTRUSTED", json.dumps({**conn, "extra": {"ca_bundle": certifi_or_system_bundle()}})
    )
    return tls_emulator


def test_the_emulator_serves_https_with_https_media_urls(tls_emulator):
    assert tls_emulator.url.startswith("https://127.0.0.1:")
    headers = {"Authorization": f"Bearer {API_KEY}"}
    created = requests.post(
        f"{tls_emulator.url}/xai/images",
        json={"model": "grok-imagine-image", "prompt": PROMPT},
        headers=headers,
        verify=tls_emulator.ca_bundle,
        timeout=10,
    )
    assert created.status_code == 200
    with pytest.raises(requests.exceptions.SSLError, match="certificate verify failed"):
        requests.get(f"{tls_emulator.url}/xai/tasks", params={"taskId": "x"}, verify=True, timeout=10)


def test_the_blocking_path_and_media_download_use_the_connections_trust(trusted, tmp_path):
    hook = XaiHook()
    task_id = hook.submit_image(PROMPT)
    state = hook.wait_for_task(task_id, poll_interval=0.05, timeout=30)
    assert state.media_urls and all(url.startswith("https://") for url in state.media_urls)
    session = requests.Session()
    session.verify = hook.settings.requests_verify
    stored = store_media(tmp_path, state, None, session=session)
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".json"] == [f"{task_id}_0.jpeg"]
    assert len(stored) == 1


def test_the_trigger_polls_over_https(trusted):
    task_id = XaiHook().submit_image(PROMPT)
    event = run_trigger(XaiTaskTrigger(xai_task_id=task_id, poll_interval=0.05, max_poll_interval=0.05))
    result = WaitResult.from_event(event)
    assert result.reason is WaitEnd.TERMINAL
    assert result.resolve().media_urls


def test_an_untrusted_certificate_fails_at_once_and_says_what_to_set(trusted):
    hook = XaiHook(xai_conn_id="xai_untrusted")
    with pytest.raises(XaiTlsError, match=r'certificate is not trusted.*Nothing was sent.*"ca_bundle"'):
        hook.submit_image(PROMPT)
    with pytest.raises(XaiTlsError, match="certificate is not trusted"):
        asyncio.run(hook.aget_task("any"))
    assert trusted.count("POST", "/xai/images", accepted_only=False) == 0


def test_the_trigger_ends_on_an_untrusted_certificate_without_retrying(trusted):
    trigger = XaiTaskTrigger(xai_task_id="any", xai_conn_id="xai_untrusted", poll_interval=0.05)
    result = WaitResult.from_event(run_trigger(trigger))
    assert result.reason is WaitEnd.ERROR
    assert "certificate is not trusted" in result.message
    assert trusted.count("GET", "/xai/tasks", accepted_only=False) == 0


def test_the_operator_stores_https_media_with_the_connections_trust(trusted, tmp_path):
    from airflow_provider_xai.operators.xai import XaiImageOperator
    from tests.conftest import RecordingTI

    operator = XaiImageOperator(
        task_id="tls", prompt=PROMPT, output_path=str(tmp_path), deferrable=False, poll_interval=0.05
    )
    result = operator.execute({"ti": RecordingTI()})
    assert len(result["outputs"]) == 1
    assert (tmp_path / f"{result['xai_task_id']}_0.jpeg").stat().st_size > 0


def test_the_cli_serves_https_and_prints_the_authority_to_trust():
    import re
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_xai.emulator", "--port", "0", "--tls"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = re.search(r"https://\S+", process.stdout.readline()).group(0)
        bundle = re.search(r"CA bundle: (\S+)", process.stdout.readline()).group(1)
        answer = requests.get(f"{url}/xai/tasks", params={"taskId": "x"}, verify=bundle, timeout=10)
        assert answer.status_code == 401  # no key: the TLS layer worked, the API answered
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_a_private_ca_bundle_keeps_the_public_roots_for_media(tmp_path):
    """A ca_bundle for a private API endpoint must not break downloads from a public media CDN."""
    import certifi

    from airflow_provider_xai.hooks.xai import ServiceSettings

    private = tmp_path / "corp-ca.pem"
    private.write_text("-----BEGIN CERTIFICATE-----\nMIIBcorp\n-----END CERTIFICATE-----\n")
    settings = ServiceSettings(base_url="https://xai.corp.example", ca_bundle=str(private))
    assert settings.requests_verify == str(private)  # the API itself: the private authority
    bundle = open(settings.media_verify, "rb").read()  # media: the public roots and the private one
    assert open(certifi.where(), "rb").read() in bundle and private.read_bytes() in bundle
    assert settings.media_verify == settings.media_verify  # made once, not per download
    assert ServiceSettings(base_url="https://x").media_verify is True
    assert ServiceSettings(base_url="https://x", ca_bundle=str(private), verify=False).media_verify is False
