"""
Both cores for a large check: hosts are split over worker processes, each running the ordinary
async engine (fetch and judgement, soft-404 probe included) on its share, and the results stream
back to the parent, which alone writes the database.

* **Politeness stays per host**: a host's URLs all go to one worker, whose `HostGate` applies the
  host's limit and interval as in a single process. The global `concurrency` is split between
  the workers (their shares add up to it). Hosts of one site (`site_of`: example.org,
  www.example.org, docs.example.org) share a worker, so redirects within a site stay under one
  gate. Limit: a host reached through a redirect from *another site* in another worker is gated
  in each worker that reaches it, so it can see up to workers × its limit at once (3× with the
  three workers of a two-core machine).
* **Nothing finished is lost**: each worker sends its results in small batches (64 results or
  50 ms, whichever comes first), and the parent yields each one as it arrives. When the parent
  stops (Ctrl-C, an error, the end) the workers are terminated: they ignore SIGINT themselves, so
  the parent decides, and what they had not yet sent was not finished from the parent's view.
* **Failures are loud**: an exception in a worker ends the run with `WorkerError` carrying the
  worker's traceback; a worker that dies without a word (killed, out of memory), before or
  during a batch, does too, and so does a worker that cannot be started. The command line makes
  it one line and exit 4 (`checker.errors`).
* **Memory**: workers are forked before the links are loaded (`Workers`) and receive only
  their share. A long run comes in batches (`citewatch check` loads 10,000 links at a time):
  the same workers serve every batch, each keeping one event loop, one Fetcher (connections,
  per-host politeness) and one set of soft-404 probes for the whole run, and a site stays with
  the worker it started with.

`check_targets()` is the way in: it checks a run in this process (`checker.run.checking`) or over
worker processes. How many is the `processes` setting (`CheckSettings.processes`, `check
--processes N`): 0 or 1 checks in this process, N > 1 uses N workers (at most one per unit of
`concurrency`), and unset lets `worker_count()` choose: one process for small runs, a single
site, or one core.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from checker.errors import CheckerError, CheckFailed, WorkerError
from checker.net.hosts import Clock, Sleep
from checker.run import eventloop
from checker.run.checking import Target, check_in_this_process
from checker.run.engine import _lane_key, collector_paced_for_checking

if TYPE_CHECKING:
    from checker.judge.soft404 import ProbeCache
    from checker.models import CheckResult
    from checker.net.fetch import Fetcher
    from checker.settings import CheckSettings

#: Runs smaller than this stay in one process: start-up would cost more than it saves.
MIN_URLS = 500
MAX_WORKERS = 4
_BATCH_RESULTS = 64
_BATCH_S = 0.05


async def check_targets(
    targets: Sequence[Target],
    settings: CheckSettings,
    *,
    now: Callable[[], datetime],
    workers: Workers | None = None,
    fetcher: Fetcher | None = None,
    probes: ProbeCache | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> AsyncGenerator[CheckResult, None]:
    """Yield a CheckResult for every target, each as soon as it is known: in this process, or
    over worker processes as `settings.processes` says (see the module docstring).

    `workers`: processes forked in advance (`Workers`), used if the run is worth it and stopped
    otherwise; without them, workers are forked here when needed.
    `fetcher`, `probes`, `clock` and `sleep`: for the in-process path (`check_in_this_process`);
    worker processes keep their own, on the real clock.
    A failure of the checking itself (not a link's: those are verdicts) raises `CheckFailed`,
    and one in a worker `WorkerError`, so that both end the command the same way.
    """
    processes = _processes(targets, settings)
    if workers is not None:
        processes = min(processes, len(workers))
    if processes > 1:
        if workers is not None:
            workers.keep(processes)
        pool = workers if workers is not None else Workers(processes)
        async with aclosing(check_in_processes(targets, settings, now=now,
                                               workers=pool)) as results:
            async for result in results:
                yield result
        return
    if workers is not None:
        workers.stop()  # not worth it: free them now
    checking = check_in_this_process(targets, settings, now=now, clock=clock, sleep=sleep,
                                     fetcher=fetcher, probes=probes)
    try:
        async with aclosing(checking) as results:
            async for result in results:
                yield result
    except CheckerError:
        raise
    except Exception as exc:
        # Only the checking's own exceptions land here: the caller's, raised while it holds a
        # result, stay in the caller (nothing is thrown into this generator but GeneratorExit).
        raise CheckFailed(f"the check failed:\n{traceback.format_exc()}") from exc


def _processes(targets: Sequence[Target], settings: CheckSettings) -> int:
    """How many processes check these targets: the setting, else `worker_count`."""
    if settings.processes is None:
        return worker_count(targets, settings)
    return max(1, min(settings.processes, settings.concurrency))


def worker_count(targets: Sequence[Target], settings: CheckSettings) -> int:
    """How many processes to check these targets with when the settings leave it open
    (1: in this process)."""
    most = max_workers()
    if most < 2 or len(targets) < MIN_URLS:
        return 1
    sites = len({site_of(_lane_key(t.url)) for t in targets})
    return max(1, min(most, sites, settings.concurrency))


# Second-level labels under a country code that name a registry, not a site (co.uk, com.au).
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gv"})


def site_of(host: str) -> str:
    """The hosts kept in one worker: a name's last two labels (three under co.uk, com.au and
    the like), so that the commonest cross-host redirects (example.org to
    www.example.org, a site to its subdomains) stay under one worker's gate."""
    labels = host.split(".")
    if len(labels) <= 2 or labels[-1].isdigit() or ":" in host:  # short names, IP addresses
        return host
    keep = 3 if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def partition(
    targets: Sequence[Target], workers: int, assigned: dict[str, int] | None = None
) -> list[list[Target]]:
    """Whole sites (see `site_of`) to each worker, busiest first to the least loaded one: one
    list per worker (some may be empty). `assigned` (site -> worker) keeps a site with the worker
    it had in an earlier batch of the same run, and learns the new ones."""
    by_site: dict[str, list[Target]] = {}
    for target in targets:
        by_site.setdefault(site_of(_lane_key(target.url)), []).append(target)
    sticky = {} if assigned is None else assigned
    parts: list[list[Target]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for site, share in sorted(by_site.items(), key=lambda kv: len(kv[1]), reverse=True):
        i = sticky.get(site)
        if i is None:
            i = sticky[site] = loads.index(min(loads))
        parts[i].extend(share)
        loads[i] += len(share)
    return parts


def split_concurrency(total: int, workers: int) -> list[int]:
    """Shares of the global limit that add up to it (each at least 1; workers <= total)."""
    return [total // workers + (1 if i < total % workers else 0) for i in range(workers)]


_DIED = "a check worker process ended without a word"
_UNSTAMPED = datetime(1970, 1, 1, tzinfo=UTC)


def _unstamped() -> datetime:
    """A worker's results are stamped by the parent as they arrive (with its clock)."""
    return _UNSTAMPED


def _serve(conn: Connection, parent_ends: list[Connection]) -> None:
    """A worker process: check each ("check", targets, settings) the parent sends, sending the
    results in small batches and then ("done", None), until the parent closes the pipe.

    `parent_ends`: the parent's ends of the pipes, which a forked worker inherits and closes, so
    that it sees its own pipe close when the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    # and stops it with SIGTERM: the default action, not the parent's handler (checker.cli.main)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for end in parent_ends:
        end.close()
    try:
        eventloop.run(_serve_shares(conn))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        try:
            conn.send(("error", traceback.format_exc()))
        except Exception:  # noqa: BLE001 - the parent is gone: nobody to tell
            pass
    finally:
        conn.close()


async def _serve_shares(conn: Connection) -> None:
    """One event loop, one Fetcher and one set of soft-404 probes for all the shares of a run,
    so that a host keeps its connections, its politeness and its probe from batch to batch."""
    from checker.judge.soft404 import ProbeCache
    from checker.net.fetch import Fetcher

    fetcher: Fetcher | None = None
    probes = ProbeCache()
    try:
        while (message := await _receive(conn)) is not None:
            _, targets, settings = message
            if fetcher is None:
                fetcher = Fetcher(settings)
            await _stream(conn, targets, settings, fetcher, probes)
            conn.send(("done", None))
    finally:
        if fetcher is not None:
            await fetcher.aclose()


def _watch(
    loop: asyncio.AbstractEventLoop, conn: Connection, callback: Callable[..., object], *args: Any
) -> None:
    """`loop.add_reader` for a pipe whose messages are read and written whole, blocking.

    uvloop (libuv) makes a watched descriptor non-blocking, and a Connection then fails with
    EAGAIN in the middle of a message: blocking is put back (polling does not need it off)."""
    loop.add_reader(conn.fileno(), callback, *args)
    os.set_blocking(conn.fileno(), True)


async def _receive(conn: Connection) -> Any:
    """The parent's next message, without blocking the event loop; None once it has closed."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    _watch(loop, conn, readable)
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


async def _stream(
    conn: Connection, targets: list[Target], settings: CheckSettings, fetcher: Fetcher,
    probes: ProbeCache,
) -> None:
    batch: list[CheckResult] = []
    last = time.monotonic()

    def flush() -> None:
        nonlocal batch, last
        if batch:
            conn.send(("results", batch))
            batch = []
        last = time.monotonic()

    async def ticker() -> None:  # a slow host must not hold finished results back
        while True:
            await asyncio.sleep(_BATCH_S)
            if time.monotonic() - last >= _BATCH_S:
                flush()

    tick = asyncio.create_task(ticker())
    try:
        checking = check_in_this_process(targets, settings, now=_unstamped, fetcher=fetcher,
                                         probes=probes)
        async with aclosing(checking) as results:
            async for result in results:
                batch.append(result)
                if len(batch) >= _BATCH_RESULTS or time.monotonic() - last >= _BATCH_S:
                    flush()
        flush()
    finally:
        tick.cancel()


def max_workers() -> int:
    """The most worker processes a run on this machine can use (1: none): one per core this
    process may run on, and one more, at most `MAX_WORKERS`.

    The extra one because the parent (recording the results) shares the cores: with exactly one
    worker per core, the scheduler leaves one of them behind and the run ends on one core.
    Measured on bench/bench_check.py on two cores, three times each way: three workers took
    1.37-1.50 s, two 1.48-1.57 s, for the same CPU time."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cores or cores < 2:
        return 1
    return min(cores + 1, MAX_WORKERS)


class Workers:
    """Check worker processes, each waiting for its share of a run (or of each of its batches).

    Fork them early, *before* loading the links to check (`citewatch check` forks them first
    thing): a worker then starts with the checker's code already imported and none of the run's
    data, and receives only its share, pickled. Forked after the links were loaded, each worker
    would map the parent's whole heap, and every process's RSS would count it again.
    Where `fork` is not available, workers are spawned (and import the checker themselves).
    Use as a context manager, or call `stop()`: unused and unfinished workers are terminated.
    """

    def __init__(self, count: int) -> None:
        import checker.net.session  # noqa: F401 - what every worker runs (aiohttp), imported once before fork

        forking = "fork" in multiprocessing.get_all_start_methods()
        context: Any = multiprocessing.get_context("fork" if forking else "spawn")
        self.processes: list[Any] = []
        self.conns: list[Connection] = []
        self.sites: dict[str, int] = {}  # which worker has which site, for the whole run
        try:
            for _ in range(count):
                ours, theirs = context.Pipe(duplex=True)
                inherited = [*self.conns, ours] if forking else []
                process = context.Process(
                    target=_serve, args=(theirs, inherited), name="citewatch-check", daemon=True
                )
                process.start()
                theirs.close()
                self.processes.append(process)
                self.conns.append(ours)
        except OSError as exc:  # no memory or no process slot left to fork one
            self.stop()
            raise WorkerError(f"could not start a check worker process: {exc}") from exc
        except BaseException:
            self.stop()
            raise

    def __len__(self) -> int:
        return len(self.processes)

    def keep(self, count: int) -> None:
        """Stop the workers beyond the first `count` (a run that cannot use them all)."""
        extra = len(self.processes) - count
        if extra > 0:
            _stop(self.processes[count:], self.conns[count:])
            del self.processes[count:], self.conns[count:]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End every worker now: what a busy one had not sent was not finished."""
        _stop(self.processes, self.conns)
        self.processes, self.conns = [], []


def _stop(processes: list[Any], conns: list[Connection]) -> None:
    for conn in conns:
        conn.close()
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


async def check_in_processes(
    targets: Sequence[Target],
    settings: CheckSettings,
    *,
    now: Callable[[], datetime],
    workers: Workers,
) -> AsyncGenerator[CheckResult, None]:
    """Like `check_targets`, over the `workers`; each result is stamped with `now()`.

    Called once per batch of a run, with the same workers: a site stays with its worker. They
    are left waiting for the next batch when this one is done, and stopped if it fails or the
    caller stops iterating (what they had not sent was not finished)."""
    loop = asyncio.get_running_loop()
    messages: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    parts = partition(targets, len(workers), workers.sites)
    shares = split_concurrency(settings.concurrency, len(workers))
    watched: set[int] = set()

    def unwatch(fd: int) -> None:
        if fd in watched:
            watched.discard(fd)
            loop.remove_reader(fd)

    def readable(conn: Connection) -> None:
        fd = conn.fileno()
        try:
            while fd in watched and conn.poll():
                message = conn.recv()
                messages.put_nowait(message)
                if message[0] != "results":
                    unwatch(fd)
        except (EOFError, OSError):
            unwatch(fd)
            messages.put_nowait(("error", _DIED))

    finished = False
    try:
        for conn, part, share in zip(workers.conns, parts, shares, strict=True):
            if part:
                try:
                    conn.send(("check", part, dataclasses.replace(settings, concurrency=share)))
                except OSError:  # BrokenPipeError: it died while waiting for this batch
                    raise WorkerError(_DIED) from None
                watched.add(conn.fileno())
                _watch(loop, conn, readable, conn)
        running = len(watched)
        with collector_paced_for_checking():  # the parent's share: results in, rows out
            while running:
                kind, payload = await messages.get()
                if kind == "results":
                    for result in payload:
                        # Just unpickled and nobody else's: stamped in place, not copied.
                        object.__setattr__(result, "checked_at", now())
                        yield result
                elif kind == "done":
                    running -= 1
                elif payload == _DIED:
                    raise WorkerError(_DIED)
                else:
                    raise WorkerError(f"a check worker failed:\n{payload}")
        finished = True
    finally:
        for fd in list(watched):
            unwatch(fd)
        if not finished:
            workers.stop()
