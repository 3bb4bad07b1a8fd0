"""
The plumbing every archive request goes through: the gate (paces, per-host cap, 429 pause and
stop), one httpx client, and a per-task request tally (so each LookupResult can say what it
cost).

Every request, whatever its kind (CDX, availability and its batch POST, replays, Save Page Now
and its status polls), is sent by ``fetch()`` on the one ``httpx.AsyncClient``, so they share
the gate and the kept-alive connections. The client's pool is sized to the per-host cap times
the archive hosts in the settings, and the gate's slot is held until the body has been read and
the connection handed back to the pool: the archive never sees more than the cap open at once
from us. Bodies are read to their end (up to ``max_drain_bytes``, beyond what is kept), because
a connection left mid-body is closed and a new one opened, which is what a polite client avoids.

httpx errors are translated here, at one point: timeouts and transport errors become
``ArchiveUnavailable``. A 429 is reported to the gate (which pauses every kind of request and
raises ``ArchiveThrottled`` after too many in a row) and the request is sent again once the
pause is over; any other status is returned to the caller to judge.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from archive.errors import ArchiveUnavailable
from archive.ratelimit import ArchiveGate, Clock, Kind, Sleep, VirtualClock
from archive.settings import ArchiveSettings

R = TypeVar("R")

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(slots=True)
class Tally:
    """Requests sent by the current task (a batch POST counts once)."""

    requests: int = 0


_TALLY: ContextVar[Tally | None] = ContextVar("archive_tally", default=None)


def start_tally() -> Tally:
    """Count the requests of the current asyncio task from now on (tasks copy their context)."""
    tally = Tally()
    _TALLY.set(tally)
    return tally


def _count_request() -> None:
    if (tally := _TALLY.get()) is not None:
        tally.requests += 1


def host_key(url: str) -> str:
    """``scheme://host:port`` of a URL: what the per-host cap counts by (and a pool reuses)."""
    parsed = httpx.URL(url)
    port = parsed.port or _DEFAULT_PORTS.get(parsed.scheme, 0)
    return f"{parsed.scheme}://{parsed.host}:{port}"


def archive_hosts(settings: ArchiveSettings) -> frozenset[str]:
    """The hosts the endpoints of ``settings`` live on (two for the real service)."""
    return frozenset(host_key(url) for url in (settings.cdx_url, settings.availability_url,
                                               settings.replay_url, settings.save_url))


@dataclass(frozen=True, slots=True)
class Fetched:
    """An HTTP answer, reduced to what archive/ judges: no httpx object leaves this module."""

    url: str
    status_code: int
    headers: dict[str, str]      # lower-cased names
    text: str
    truncated: bool = False      # the body was longer than the bytes kept in ``text``


def make_client(settings: ArchiveSettings, *, hosts: int,
                transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The one HTTP client of a run. The gate keeps each host to the cap; the pool is sized so
    that it could not exceed it either, and keeps the connections alive between paced requests."""
    pool = settings.per_host_connections * max(hosts, 1)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout_s), follow_redirects=False,
        headers={"User-Agent": settings.user_agent}, transport=transport,
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool,
                            keepalive_expiry=settings.keepalive_s),
    )


class ArchiveContext:
    """Shared state of one run against the Wayback Machine. Use as an async context manager."""

    def __init__(
        self, settings: ArchiveSettings, *, clock: Clock, sleep: Sleep,
        transport: httpx.AsyncBaseTransport | None = None, http: httpx.AsyncClient | None = None,
        name: str = "the Wayback Machine",
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.gate = ArchiveGate(settings, clock=clock, sleep=sleep, name=name)
        # A context for another archive's host shares its caller's client (``http``, closed by
        # that caller): one pool of kept-alive connections, one gate per host (archive/others.py).
        self._owns_http = http is None
        self.http = http or make_client(settings, hosts=len(archive_hosts(settings)),
                                        transport=transport)

    async def __aenter__(self) -> ArchiveContext:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def fetch(
        self, kind: Kind, method: str, url: str, *, max_bytes: int | None = None,
        **kwargs: object,
    ) -> Fetched:
        """Send one request through the gate; 429s are retried after the shared pause.

        At most ``max_bytes`` (default ``max_body_bytes``) of the body are kept in ``text``.
        """
        keep = self.settings.max_body_bytes if max_bytes is None else max_bytes
        host = host_key(url)
        while True:
            await self.gate.acquire(kind, host)
            _count_request()
            status: int | None = None
            try:
                with self._on_the_wire():
                    async with self.http.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
                        body, truncated = await self._read(response, keep)
                    status = response.status_code
            except httpx.TimeoutException as exc:
                raise ArchiveUnavailable(f"timed out: {method} {url}") from exc
            except httpx.HTTPError as exc:
                raise ArchiveUnavailable(f"{type(exc).__name__}: {method} {url}: {exc}") from exc
            finally:
                # always, so the host slot comes back and a probe after a 429 never hangs
                self.gate.report(status, host)
            if status == 429:
                continue
            return Fetched(
                url=str(response.url), status_code=status,
                headers={k.lower(): v for k, v in response.headers.items()},
                text=body.decode(response.encoding or "utf-8", "replace"), truncated=truncated,
            )

    async def _read(self, response: httpx.Response, keep: int) -> tuple[bytes, bool]:
        """The first ``keep`` bytes of the body, and whether there were more.

        The rest is read and dropped up to ``max_drain_bytes``, so the connection goes back to
        the pool; a body announced or found longer than that is abandoned once ``keep`` bytes
        are in (its connection is closed: cheaper for the archive than sending it all).
        """
        drain = max(keep, self.settings.max_drain_bytes)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > drain:
            drain = keep
        body = bytearray()
        seen = 0
        async for chunk in response.aiter_bytes():
            seen += len(chunk)
            if len(body) < keep:
                body += chunk[: keep - len(body)]
            if seen > drain:
                break
        return bytes(body), seen > keep

    def _on_the_wire(self) -> contextlib.AbstractContextManager[None]:
        """Tell a VirtualClock that a request is out, so virtual time stands still meanwhile."""
        if isinstance(self.clock, VirtualClock):
            return self.clock.on_the_wire()
        return contextlib.nullcontext()


T = TypeVar("T")


async def stream_bounded(
    items: AsyncIterator[T], work: Callable[[T], Coroutine[Any, Any, R]], *, limit: int,
    stop: Callable[[], bool],
) -> AsyncIterator[R]:
    """Run ``work`` on items with at most ``limit`` in flight, yielding results as they finish.

    Once ``stop()`` turns true, or ``items`` raises (e.g. ArchiveThrottled from a batch request),
    no new item is started, but the ones in flight are awaited and their (partial) results
    yielded, so the caller keeps everything finished; the exception from ``items`` is raised
    after them. An exception from ``work`` (a bug) cancels the rest and is re-raised.
    """
    pending: set[asyncio.Task[R]] = set()
    failure: BaseException | None = None
    exhausted = False
    try:
        while True:
            while not exhausted and not stop() and len(pending) < limit:
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    exhausted = True
                except Exception as exc:
                    failure, exhausted = exc, True
                else:
                    pending.add(asyncio.create_task(work(item)))
            if not pending:
                break
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            broken = [task.exception() for task in done if task.exception() is not None]
            for task in done:
                if task.exception() is None:
                    yield task.result()
            if broken:
                failure = broken[0]
                break
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    if failure is not None:
        raise failure
