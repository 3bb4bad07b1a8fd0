"""
Check many URLs at once and yield each Observation the moment it is complete.

Scheduling: URLs are grouped by host into *lanes*. A host with n URLs gets min(per_host, n)
lanes that share its queue, and a bounded pool of workers (4 × concurrency) drains lanes, busiest
hosts first: the run cannot end before its busiest host is done (n × interval / per_host), so that
host starts at once. Workers that reach a host's limit wait on that host only, and the global
limit is taken per request (see checker.net.hosts), so one slow or rate-limited host never holds the
slots of the others. Every task is cancelled, and every client closed (unless the Fetcher is
the caller's, shared by the batches of a run), when the caller stops iterating (Ctrl-C
included): what was yielded is all that was finished.

The caller writes each result as it arrives (the store commits within 0.2 s, and at once on any
exit), so an interrupted run loses nothing it finished. `after_fetch` lets another module act on
each result inside the run, with the same per-host clients and politeness: it receives the
`Observation` and the `Fetcher`, may call `fetcher.fetch(other_url)` (e.g. the soft-404 probe of
a random path on the same host), and what it returns is what `fetch_all` yields. An exception in
the hook is a bug: it ends the run and propagates.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, aclosing, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar, overload

from checker.net.fetch import Fetcher
from checker.net.hosts import Clock, Sleep
from citations.hosts import host_of

if TYPE_CHECKING:
    from checker.models import Observation
    from checker.settings import CheckSettings

T = TypeVar("T")
AfterFetch = Callable[["Observation", Fetcher], Awaitable[T]]

_WORKERS_PER_SLOT = 4


class _WorkerDone:
    """Put on the results queue by a worker that ran out of lanes."""


class _WorkerFailed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def plan_lanes(
    urls: Iterable[str], per_host: int, host_limits: dict[str, int] | None = None
) -> list[deque[str]]:
    """Lanes, busiest host first. A host's lanes are one deque, listed min(limit, n) times, the
    limit being the host's own (``host_limits``) or ``per_host``."""
    by_host: dict[str, deque[str]] = {}
    for url in urls:
        by_host.setdefault(_lane_key(url), deque()).append(url)
    limits = host_limits or {}
    hosts = sorted(by_host.items(), key=lambda kv: len(kv[1]), reverse=True)  # stable sort
    return [
        queue for host, queue in hosts
        for _ in range(min(max(1, limits.get(host, per_host)), len(queue)))
    ]


def _lane_key(url: str) -> str:
    """The host for planning: cheaper than httpx.URL, and a rare disagreement (an IDN spelt two
    ways) only costs a lane, never politeness, which HostGate keys on httpx's host."""
    try:
        return host_of(url)
    except ValueError:
        return ""


@overload
def fetch_all(
    urls: Iterable[str],
    settings: CheckSettings,
    *,
    clock: Clock = ...,
    sleep: Sleep = ...,
    after_fetch: None = None,
    fetcher: Fetcher | None = ...,
) -> AsyncGenerator[Observation, None]: ...


@overload
def fetch_all(
    urls: Iterable[str],
    settings: CheckSettings,
    *,
    clock: Clock = ...,
    sleep: Sleep = ...,
    after_fetch: AfterFetch[T],
    fetcher: Fetcher | None = ...,
) -> AsyncGenerator[T, None]: ...


async def fetch_all(
    urls: Iterable[str],
    settings: CheckSettings,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    after_fetch: AfterFetch[Any] | None = None,
    fetcher: Fetcher | None = None,
) -> AsyncGenerator[Any, None]:
    """Fetch every URL (each as often as listed), yielding results in order of completion.

    `clock` and `sleep` drive politeness waits and retry backoff (tests pass fake ones).
    `fetcher`: one that outlives this call, for a run fetched in batches (its clients and each
    host's politeness carry over from one batch to the next; it is left open); by default a
    Fetcher of this call's own. Iterate under `contextlib.aclosing`, so that leaving the loop
    early stops the run at once:

        async with aclosing(fetch_all(urls, settings)) as results:
            async for observation in results:
                store.record(observation)
    """
    lanes = deque(plan_lanes(urls, settings.per_host, settings.host_limits))
    if not lanes:
        return
    shared: AbstractAsyncContextManager[Fetcher] = (
        nullcontext(fetcher) if fetcher is not None else Fetcher(settings, clock=clock, sleep=sleep)
    )
    with collector_paced_for_checking():
        async with shared as active:
            async with aclosing(_fetch_lanes(lanes, settings, active, after_fetch)) as results:
                async for item in results:
                    yield item


# The cyclic garbage collector's default pace (a young collection every 700 allocations, each
# older generation every 10 of the one below) cost a fifth of a run's CPU on bench_check: a
# request allocates hundreds of objects, nearly all freed by reference counting, and every
# collection walks the hundreds of live connections and requests again. A young collection
# every 50,000 allocations keeps the few cycles (exceptions and their tracebacks) bounded at a
# few megabytes. And what exists when a run starts (modules, settings, the links to check)
# lives through it: frozen, the collector never walks it again during the run.
_CHECKING_GC_THRESHOLD = (50_000, 50, 50)
_paced_runs = 0
_saved_threshold: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def collector_paced_for_checking() -> Iterator[None]:
    """The collector at the checking pace, and what existed before frozen, while any run of
    this process is on; as before once the last one ends."""
    global _paced_runs, _saved_threshold
    if _paced_runs == 0:
        _saved_threshold = gc.get_threshold()
        gc.set_threshold(*_CHECKING_GC_THRESHOLD)
        gc.freeze()
    _paced_runs += 1
    try:
        yield
    finally:
        _paced_runs -= 1
        if _paced_runs == 0:
            gc.unfreeze()  # a run's leftovers (and a batch's) are collected as usual again
            gc.set_threshold(*_saved_threshold)


async def _fetch_lanes(
    lanes: deque[deque[str]],
    settings: CheckSettings,
    fetcher: Fetcher,
    after_fetch: AfterFetch[Any] | None,
) -> AsyncGenerator[Any, None]:
    """The run proper: workers drain the lanes through one Fetcher (see the module docstring)."""
    results: asyncio.Queue[Any] = asyncio.Queue(maxsize=settings.concurrency * 2)

    async def worker() -> None:
        try:
            while lanes:
                lane = lanes.popleft()
                while lane:
                    observation = await fetcher.fetch(lane.popleft())
                    if after_fetch is None:
                        await results.put(observation)
                    else:
                        await results.put(await after_fetch(observation, fetcher))
        except Exception as exc:  # a bug or a failing hook: end the run with it
            await results.put(_WorkerFailed(exc))
        else:
            await results.put(_WorkerDone())

    count = min(len(lanes), settings.concurrency * _WORKERS_PER_SLOT)
    workers = [asyncio.create_task(worker()) for _ in range(count)]
    try:
        running = count
        while running:
            item = await results.get()
            if isinstance(item, _WorkerDone):
                running -= 1
            elif isinstance(item, _WorkerFailed):
                raise item.error
            else:
                yield item
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def fetch_one(
    url: str,
    settings: CheckSettings,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> Observation:
    """Fetch a single URL with fresh clients: a library convenience (tests use it). The command
    line checks stored links only; there is no ``citewatch check URL``."""
    async with Fetcher(settings, clock=clock, sleep=sleep) as fetcher:
        return await fetcher.fetch(url)
