"""The blocking and async paths' shared handling of answers and transport errors (no I/O here)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from typing import Any

import aiohttp
import requests
from urllib3.exceptions import NewConnectionError

from airflow_provider_xai import protocol
from airflow_provider_xai.apis import ApiDialect
from airflow_provider_xai.exceptions import XaiConnectionError, XaiTlsError


def _parse_answer(
    status: int,
    text: str,
    retry_after: str | None,
    what: str,
    conn_id: str,
    dialect: ApiDialect,
    secrets: tuple[str, ...] = (),
) -> Any:
    """Return the JSON of a 2xx answer; raise the classified error for anything else.

    The secrets (the key, a signed URL and its query) are blanked out of the answer first, in case the
    service or a proxy echoes the request.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    if status >= 300:
        raise protocol.classify_http_error(status, text, what=what, conn_id=conn_id, retry_after=retry_after)
    try:
        body = json.loads(text)
    except ValueError:
        # A proxy's HTML page behind a 2xx is as transient as a 502.
        raise protocol.classify_http_error(
            502, text, what=f"{what} (answer {status} was not JSON)", conn_id=conn_id
        ) from None
    enveloped = dialect.answer_error(body)
    if enveloped:
        code, message = enveloped
        raise protocol.classify_http_error(
            code, json.dumps({"message": message}), what=what, conn_id=conn_id, retry_after=retry_after
        )
    return body


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """Yield an exception and everything behind it: causes, contexts, urllib3 reasons, wrapped args."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(
            (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args)
        )


def _was_sent(exc: requests.RequestException) -> bool:
    """Tell whether a failed request may have reached the service, from the exceptions' types.

    A connect timeout, a refused connection and a failed name lookup (urllib3's ``NewConnectionError``
    and its ``NameResolutionError``) never sent anything; anything later may have.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        return not any(isinstance(cause, NewConnectionError) for cause in _causes(exc))
    return True


def _connection_error(exc: BaseException, *, what: str, sent: bool) -> XaiConnectionError | XaiTlsError:
    detail = " ".join(str(exc).split())[:200]
    if isinstance(exc, aiohttp.ClientConnectorCertificateError) or any(
        isinstance(cause, ssl.SSLCertVerificationError) for cause in _causes(exc)
    ):
        return XaiTlsError(
            f"The service's TLS certificate is not trusted on {what}: {detail}. Nothing was sent. If the "
            "service sits behind a private or corporate certificate authority, set the connection's extra "
            '"ca_bundle" (or REQUESTS_CA_BUNDLE / SSL_CERT_FILE) to that authority\'s PEM file.'
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        sent = False
    return XaiConnectionError(
        f"Connection problem on {what}: {type(exc).__name__}: {detail}", request_sent=sent
    )
