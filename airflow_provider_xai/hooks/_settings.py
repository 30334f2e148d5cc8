"""What a hook needs from its Airflow connection: base URL, API, key and TLS trust, resolved once."""

from __future__ import annotations

import functools
import os
import platform
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_xai import __version__
from airflow_provider_xai.apis import GATEWAY, XAI, ApiDialect, dialect_for

USER_AGENT = f"airflow-provider-xai/{__version__} (python/{platform.python_version()})"


@dataclass(frozen=True)
class ServiceSettings:
    """What a hook needs from its Airflow connection, resolved once.

    The key is kept out of ``repr`` so that it can never reach a log line through this object.
    """

    base_url: str
    api_key: str = ""
    ca_bundle: str | None = None
    verify: bool = True
    api: str = GATEWAY

    def __repr__(self) -> str:
        return (
            f"ServiceSettings(base_url={self.base_url!r}, api={self.api!r}, api_key='***', "
            f"ca_bundle={self.ca_bundle!r})"
        )

    @cached_property
    def dialect(self) -> ApiDialect:
        """Return what this connection's API needs (paths, limits, bodies, answers)."""
        return dialect_for(self.api)

    @cached_property
    def headers(self) -> dict[str, str]:
        """Return the headers of every request (credentials go per request, never into a pool)."""
        return {
            "Authorization": f"Bearer {self.api_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }

    @property
    def requests_verify(self) -> bool | str:
        """Return the ``verify`` argument for requests."""
        return (self.ca_bundle or True) if self.verify else False

    @property
    def media_verify(self) -> bool | str:
        """Return the ``verify`` argument for media downloads: public roots plus the connection's CA.

        A ``ca_bundle`` for a private API endpoint must not break downloads from a public media CDN,
        nor downloads from a host that the private authority signs: both are trusted.
        """
        if not self.verify:
            return False
        return combined_ca_bundle(self.ca_bundle) if self.ca_bundle else True

    def ssl_context(self) -> ssl.SSLContext | bool:
        """Return the TLS setting for aiohttp (the same trust as the blocking path)."""
        if not self.verify:
            return False
        return ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else True


@functools.lru_cache(maxsize=8)
def _combined_ca_bundle(ca_bundle: str, mtime: float) -> str:
    import certifi

    with open(certifi.where(), "rb") as public, open(ca_bundle, "rb") as private:
        data = public.read() + b"\n" + private.read()
    handle, path = tempfile.mkstemp(prefix="xai-ca-", suffix=".pem")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return path


def combined_ca_bundle(ca_bundle: str) -> str:
    """Return a PEM file with the public roots (certifi) and ``ca_bundle``'s authorities, made once."""
    try:
        return _combined_ca_bundle(ca_bundle, os.path.getmtime(ca_bundle))
    except OSError:
        return ca_bundle  # requests names the missing file in its error


def api_of(host: str, extra: Mapping[str, Any]) -> str:
    """Return the API a connection names: its extra ``api``, else ``"xai"`` for a host of api.x.ai."""
    api = extra.get("api")
    if api not in (None, ""):
        return str(api).strip().lower()
    return XAI if urlsplit(host if "://" in host else f"https://{host}").hostname == "api.x.ai" else GATEWAY


def settings_from_connection(conn: Any) -> ServiceSettings:
    """Build :class:`ServiceSettings` from an Airflow connection (host, password, extra)."""
    host = (conn.host or "").strip().rstrip("/")
    extra = conn.extra_dejson if isinstance(conn.extra_dejson, Mapping) else {}
    api = api_of(host, extra)
    if not host:
        base_url = dialect_for(api).default_base_url
    elif "://" in host:
        base_url = host
    else:
        base_url = f"{conn.schema or 'https'}://{host}"
    if conn.port and base_url.count(":") < 2:
        base_url = f"{base_url}:{conn.port}"
    ca_bundle = (
        extra.get("ca_bundle") or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    )
    verify = str(extra.get("verify", True)).lower() not in ("false", "0", "no")
    return ServiceSettings(
        base_url=base_url, api_key=conn.password or "", ca_bundle=ca_bundle, verify=verify, api=api
    )
