"""Keep-alive aiohttp sessions shared by every trigger of one event loop.

A session per waiting trigger costs hundreds of KB of RSS and a TLS handshake per connection; a new
session per poll also burns CPU. Triggers of one event loop that talk to the same service therefore
share one pool of keep-alive connections. The pool holds no credentials: each request carries its own
``Authorization`` header. A pool is leased: the last lease to end closes it, so nothing leaks when
an event loop ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp


@dataclass
class _Pool:
    """One event loop's shared session, its leases, and how many requests it lets run at once.

    Requests beyond :meth:`connections` wait for a free slot, so the connector never opens more
    connections than the waiters need: a TLS connection costs about 300 KB, and with coalesced wake-ups
    an unbounded burst would open the most the connector allows whatever the number of waiters.
    """

    session: aiohttp.ClientSession
    leases: int = 0
    in_flight: int = 0
    free: asyncio.Condition = field(default_factory=asyncio.Condition)

    def connections(self) -> int:
        """Return the requests (so connections) allowed at once: one per few dozen waiters, within bounds."""
        return max(MIN_CONNECTIONS, min(POOL_CONNECTIONS, math.ceil(self.leases / WAITERS_PER_CONNECTION)))


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[object, _Pool]] = (
    weakref.WeakKeyDictionary()
)
_BY_SESSION: weakref.WeakKeyDictionary[aiohttp.ClientSession, _Pool] = weakref.WeakKeyDictionary()


#: Connections one shared session keeps to the service. A TLS connection costs about 300 KB of memory
#: (asyncio's 256 KiB read buffer and OpenSSL's state), so the pool is small; with wake-ups coalesced the
#: waiters' polls come in bursts that queue briefly for a connection, and 32 connections carry some
#: 200 polls/s at 150 ms per status answer.
POOL_CONNECTIONS = 32
#: the fewest connections a pool may use, and how many waiting triggers one more connection serves:
#: 300 waiters use 10 connections, 1000 use 32 (about 33 polls/s per connection at 150 ms an answer,
#: against some 12 polls/s for 60 waiters of every age)
MIN_CONNECTIONS = 4
WAITERS_PER_CONNECTION = 30

#: aiohttp trace configs given to every shared session created from now on (diagnostics and benchmarks,
#: e.g. counting connections with ``on_connection_create_end``). Empty by default: tracing costs CPU.
TRACE_CONFIGS: list[aiohttp.TraceConfig] = []


def _new_session(ssl_context: ssl.SSLContext | bool) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        ssl=ssl_context, limit=0, limit_per_host=POOL_CONNECTIONS, keepalive_timeout=60
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=60, connect=15),
        trace_configs=list(TRACE_CONFIGS) or None,
    )


SslSetting = ssl.SSLContext | bool


@contextlib.asynccontextmanager
async def leased_session(
    key: object, ssl_context: SslSetting | Callable[[], SslSetting] = True
) -> AsyncIterator[aiohttp.ClientSession]:
    """Lease this event loop's shared session for ``key`` (create it on first use).

    :param key: what tells pools apart: the TLS settings, never a credential.
    :param ssl_context: the TLS context (or ``True`` for the default, ``False`` for none), or a
        function that builds it. A function is only called when the pool is created: loading a CA
        bundle takes tens of milliseconds of blocking CPU, too much to pay for every trigger.
    """
    loop = asyncio.get_running_loop()
    pools = _POOLS.setdefault(loop, {})
    pool = pools.get(key)
    if pool is None or pool.session.closed:
        pool = pools[key] = _Pool(_new_session(ssl_context() if callable(ssl_context) else ssl_context))
        _BY_SESSION[pool.session] = pool
    pool.leases += 1
    try:
        yield pool.session
    finally:
        pool.leases -= 1
        if pool.leases == 0 and pools.get(key) is pool:
            del pools[key]
            await pool.session.close()


@contextlib.asynccontextmanager
async def request_slot(session: aiohttp.ClientSession) -> AsyncIterator[None]:
    """Hold one of the shared pool's request slots while a request runs (no limit on other sessions)."""
    pool = _BY_SESSION.get(session)
    if pool is None:
        yield
        return
    async with pool.free:
        await pool.free.wait_for(lambda: pool.in_flight < pool.connections())
        pool.in_flight += 1
    try:
        yield
    finally:
        async with pool.free:
            pool.in_flight -= 1
            pool.free.notify()


def open_pool_count() -> int:
    """Return how many shared sessions are open in the running event loop (for tests and benchmarks)."""
    return len(_POOLS.get(asyncio.get_running_loop(), {}))
