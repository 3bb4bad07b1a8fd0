"""
The plumbing every archive request goes through: the gate (rate limits, 429 pause and stop),
one httpx client, a bounded pool of worker threads for the synchronous waybackpy, and a per-task
request tally (so each LookupResult can say what it cost).

httpx errors are translated here, at one point: timeouts and transport errors become
``ArchiveUnavailable``. A 429 is reported to the gate (which pauses every kind of request and
raises ``ArchiveThrottled`` after too many in a row) and the request is sent again once the
pause is over; any other status is returned to the caller to judge. Bodies are read up to a cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from archive.errors import ArchiveUnavailable
from archive.ratelimit import ArchiveGate, Clock, Kind, Sleep
from archive.settings import ArchiveSettings

R = TypeVar("R")


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


@dataclass(frozen=True, slots=True)
class Fetched:
    """An HTTP answer, reduced to what archive/ judges: no httpx object leaves this module."""

    url: str
    status_code: int
    headers: dict[str, str]      # lower-cased names
    text: str


class ArchiveContext:
    """Shared state of one run against the Wayback Machine. Use as an async context manager."""

    def __init__(
        self, settings: ArchiveSettings, *, clock: Clock, sleep: Sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.gate = ArchiveGate(settings, clock=clock, sleep=sleep)
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_s), follow_redirects=False,
            headers={"User-Agent": settings.user_agent}, transport=transport,
        )
        self._threads = asyncio.Semaphore(settings.cdx_threads)

    async def __aenter__(self) -> ArchiveContext:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch(
        self, kind: Kind, method: str, url: str, *, max_bytes: int | None = None,
        **kwargs: object,
    ) -> Fetched:
        """Send one request through the gate; 429s are retried after the shared pause."""
        cap = self.settings.max_body_bytes if max_bytes is None else max_bytes
        while True:
            await self.gate.acquire(kind)
            _count_request()
            status: int | None = None
            try:
                async with self.http.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= cap:
                            break
                    text = bytes(body[:cap]).decode(response.encoding or "utf-8", "replace")
                status = response.status_code
            except httpx.TimeoutException as exc:
                raise ArchiveUnavailable(f"timed out: {method} {url}") from exc
            except httpx.HTTPError as exc:
                raise ArchiveUnavailable(f"{type(exc).__name__}: {method} {url}: {exc}") from exc
            finally:
                self.gate.report(status)   # always, so a probe after a 429 never hangs
            if status == 429:
                continue
            return Fetched(
                url=str(response.url), status_code=status,
                headers={k.lower(): v for k, v in response.headers.items()}, text=text,
            )

    async def call_sync(
        self, kind: Kind, fn: Callable[[], R], status_of: Callable[[R], int]
    ) -> R:
        """Run a blocking request in a worker thread, through the gate, capped in time.

        ``fn`` returns an answer whose HTTP status ``status_of`` extracts, or raises
        ``ArchiveUnavailable``. A 429 answer is retried after the shared pause, like fetch().
        """
        cap_s = 2 * self.settings.timeout_s + 5   # connect + read timeouts, plus slack
        while True:
            await self.gate.acquire(kind)
            _count_request()
            status: int | None = None
            try:
                async with self._threads:
                    answer = await asyncio.wait_for(asyncio.to_thread(fn), timeout=cap_s)
                status = status_of(answer)
            except TimeoutError as exc:
                raise ArchiveUnavailable(f"no answer within {cap_s:.0f} s") from exc
            except ArchiveUnavailable as exc:
                status = exc.status_code
                raise
            finally:
                self.gate.report(status)
            if status != 429:
                return answer


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
