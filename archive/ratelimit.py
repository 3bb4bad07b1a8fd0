"""
One gate for every request to the Wayback Machine: even pacing per kind of request, a cap on
the requests in flight to each host, one shared pause after any 429, and a hard stop after
repeated 429s.

Kinds and their pace (settings.py has the numbers and their sources):

* ``lookup``: CDX, timemap and availability requests (single and batch) share IA's one rate
  pool: at 24 a minute, one every 2.5 s;
* ``replay``: ``/web/<ts>id_/<url>`` replays and SPN status polls: at 120 a minute, one every
  0.5 s;
* ``save``: Save Page Now captures: one every 10 s with keys, every 30 s without.

Why even spacing rather than "N per minute": archive.org's front end answers bursts (and more
than 3-4 simultaneous connections from one address) with 429, whatever the per-minute average
(reference §9). A sliding window of 24 a minute let 24 lookups leave in the same instant and then
slept; a pace of one every 2.5 s sends as many a minute and never two close together. The pace
saves no credit while idle: the first request after a quiet spell goes at once and the next one a
full interval later, so a pause never ends in a catch-up burst. At the default paces the archive
sees at most 2 replays, 1 lookup and 1 save in any second.

Per host (scheme, host and port): at most ``per_host_connections`` requests in flight, each
held from the moment it is sent until its body has been read and its connection handed back to
the pool (``report()``). The slot is taken last, once the pace and any pause allow the request
and while its kind's turn is held, so a request that had to wait for a slot is still spaced from
the previous one of its kind. (So a lookup waiting for a web.archive.org slot also holds back an
availability lookup to archive.org behind it: rare, slower at worst, never less polite.)

IA sends no ``Retry-After`` with its 429s and firewalls clients that keep going for a minute, so
*any* 429 pauses *every* kind for ``pause_on_429_s`` (shared state); after the pause a single
request goes out alone (a probe) and the others wait for its answer, so a pause never ends in a
burst; ``max_consecutive_429`` 429s in a row raise ``ArchiveThrottled`` from then on: the caller
stops cleanly. Requests that get no answer at all (network down) stop it the same way.

The clock and sleep are injected. ``VirtualClock`` is a discrete-event clock for tests and the
benchmark: sleeping moves its time forward instead of waiting, but only once no request is on
the wire, so a server reading the same clock sees each request at the time it was sent.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Literal

from archive.errors import ArchiveThrottled
from archive.settings import ArchiveSettings

Kind = Literal["lookup", "replay", "save"]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_DAY_S = 86_400.0
# Event-loop rounds in which no task touches the clock before virtual time may move: a finished
# request's task reaches its next wait within a few rounds (asyncio.wait callbacks, the stream
# starting the next URL's task); twice that leaves a margin.
_SETTLE_ROUNDS = 8


class EvenPace:
    """At most one event every ``60 / per_min`` seconds, with no credit saved up while idle."""

    def __init__(self, per_min: float) -> None:
        if per_min <= 0:
            raise ValueError("a pace needs more than zero requests per minute")
        self.interval_s = 60.0 / per_min
        self._next = float("-inf")

    def wait_s(self, now: float) -> float:
        """Seconds until the next event may happen (0 when it may happen now)."""
        return max(0.0, self._next - now)

    def record(self, now: float) -> None:
        self._next = now + self.interval_s


class HostSlots:
    """At most ``per_host`` requests in flight per host key; remembers the most there were."""

    def __init__(self, per_host: int) -> None:
        if per_host < 1:
            raise ValueError("a host needs at least one connection")
        self.per_host = per_host
        self._used: Counter[str] = Counter()
        self._freed = asyncio.Event()
        self.most: dict[str, int] = {}

    def take(self, host: str) -> bool:
        """Take a slot if one is free (never waits)."""
        if self._used[host] >= self.per_host:
            return False
        self._used[host] += 1
        self.most[host] = max(self.most.get(host, 0), self._used[host])
        return True

    def give(self, host: str) -> None:
        self._used[host] -= 1
        # A fresh event per release: everyone waiting on the old one wakes and looks again.
        freed, self._freed = self._freed, asyncio.Event()
        freed.set()

    def freed(self) -> Coroutine[object, object, bool]:
        """An awaitable that ends when some slot is given back after this call.

        Bound to the current event now, not when first awaited, so a slot given back before
        the waiting task first runs still wakes it.
        """
        return self._freed.wait()


class VirtualClock:
    """A discrete-event clock for tests and benchmarks: time moves only when everyone waits.

    ``sleep(s)`` waits until virtual time reaches its deadline. Time jumps to the earliest
    pending deadline when no archive request is on the wire (``on_the_wire()``, which
    ``ArchiveContext`` holds from the gate's grant to its report) and the event loop has run
    ``_SETTLE_ROUNDS`` rounds in which no task slept or sent, i.e. every task has reached a wait.
    A server reading the clock in its own thread therefore sees each request at the virtual time
    it was sent, and the gaps it measures are the gaps the gate made. Requests take no virtual
    time, so two of one kind (whose pace needs time to pass) are never out together: the cap
    shows in tests only across kinds, or with the fake holding answers (tests/fake_wayback.py).

    asyncio has no public "every task is waiting" signal, hence the rounds: a task that computes
    across more rounds than that without sleeping or sending may find time moved meanwhile
    (later than it would be, never earlier: the gate still spaces what it sends). Nothing here
    waits for real time.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._on_the_wire = 0
        self._activity = 0
        self._driver: asyncio.Task[None] | None = None
        self._wire_idle: asyncio.Future[None] | None = None

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._activity += 1
        if seconds <= 0:
            await asyncio.sleep(0)    # let other tasks run, as a real sleep would
            return
        wake: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), wake))
        if self._driver is None or self._driver.done() or self._driver.get_loop() is not loop:
            self._driver = loop.create_task(self._drive())
        await wake

    @contextmanager
    def on_the_wire(self) -> Iterator[None]:
        """Hold virtual time still while one request is out."""
        self._on_the_wire += 1
        self._activity += 1
        try:
            yield
        finally:
            self._on_the_wire -= 1
            self._activity += 1
            idle = self._wire_idle
            if not self._on_the_wire and idle is not None and not idle.done():
                idle.set_result(None)

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._settle(loop)
            while self._sleepers and (self._sleepers[0][2].done()
                                      or self._sleepers[0][2].get_loop() is not loop):
                heapq.heappop(self._sleepers)      # cancelled, or left by a finished loop
            if not self._sleepers:
                return
            self.now = max(self.now, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self.now:
                wake = heapq.heappop(self._sleepers)[2]
                if not wake.done() and wake.get_loop() is loop:
                    wake.set_result(None)

    async def _settle(self, loop: asyncio.AbstractEventLoop) -> None:
        """Return once no request is on the wire and every task has reached a wait."""
        quiet = 0
        while quiet < _SETTLE_ROUNDS:
            if self._on_the_wire:
                self._wire_idle = loop.create_future()
                await self._wire_idle
                quiet = 0
                continue
            seen = self._activity
            await asyncio.sleep(0)
            quiet = quiet + 1 if seen == self._activity else 0


class ArchiveGate:
    """Shared politeness state for one run: acquire() before each request, then report()."""

    def __init__(
        self, settings: ArchiveSettings, *, clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep, name: str = "the Wayback Machine",
    ) -> None:
        self.settings = settings
        self.name = name                  # who is asked, for the stop reason
        self.clock = clock
        self.sleep = sleep
        self._paces: dict[Kind, EvenPace] = {
            "lookup": EvenPace(settings.lookup_per_min),
            "replay": EvenPace(settings.replay_per_min),
            "save": EvenPace(settings.save_per_min),
        }
        self._locks: dict[Kind, asyncio.Lock] = {kind: asyncio.Lock() for kind in self._paces}
        self.hosts = HostSlots(settings.per_host_connections)
        self._paused_until = float("-inf")
        self._consecutive_429 = 0
        self._consecutive_unanswered = 0  # transport failures: DNS, refused, timeouts
        self._stop_reason = ""
        self._stopped = False
        self._stop_event = asyncio.Event()      # wakes every waiting request when the gate stops
        self._probe_needed = False        # after a 429: one request at a time until an answer
        self._probe_out = False
        self._answered = asyncio.Event()
        self._saves_per_url: dict[str, deque[float]] = {}
        self.requests: Counter[str] = Counter()      # sent, per kind
        self.throttled: int = 0                      # 429s seen
        self.paused_s: float = 0.0                   # time spent waiting because of 429s

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def stop_reason(self) -> str:
        """Why the gate stopped ("" while it has not)."""
        return self._stop_reason

    async def acquire(self, kind: Kind, host: str | None = None) -> None:
        """Wait until a request of this kind (to ``host``, if given) may go out.

        Raises ArchiveThrottled once stopped. Every acquire() must be followed by one report()
        with the same ``host``, whatever happens to the request: it gives the host slot back.
        """
        async with self._locks[kind]:      # first come, first served within one kind
            while True:
                self.raise_if_stopped()
                now = self.clock()
                pause = self._paused_until - now
                wait = max(pause, self._paces[kind].wait_s(now))
                if wait > 0:
                    if pause > 0:
                        self.paused_s += min(wait, pause)
                    await self._wait(self.sleep(wait))
                    continue
                if self._probe_needed and self._probe_out:
                    await self._wait(self._answered.wait())   # the probe goes first and alone
                    continue
                if host is not None and not self.hosts.take(host):
                    # Look at the pace and the pause again afterwards: time passes meanwhile.
                    await self._wait(self.hosts.freed())
                    continue
                if self._probe_needed:
                    self._probe_out = True
                    self._answered.clear()
                self._paces[kind].record(now)
                self.requests[kind] += 1
                return

    def report(self, status_code: int | None, host: str | None = None) -> None:
        """Tell the gate how a request ended (None: no HTTP answer). Raises after repeated 429s."""
        if host is not None:
            self.hosts.give(host)
        self._probe_out = False
        self._answered.set()
        if status_code is None:
            # No answer at all, again and again: the archive (or this machine's network) is down,
            # and asking on would only spend the pacing's waits for nothing.
            self._consecutive_unanswered += 1
            if self._consecutive_unanswered >= self.settings.max_consecutive_unanswered:
                self._stop(f"{self.name} did not answer {self._consecutive_unanswered} "
                           "requests in a row (is the network down?); stopped all archive requests")
            return
        self._consecutive_unanswered = 0
        if status_code != 429:
            self._consecutive_429 = 0
            self._probe_needed = False
            return
        self.throttled += 1
        self._consecutive_429 += 1
        self._probe_needed = True
        self._paused_until = max(self._paused_until, self.clock() + self.settings.pause_on_429_s)
        if self._consecutive_429 >= self.settings.max_consecutive_429:
            self._stop(f"{self.name} answered 429 {self._consecutive_429} times in a row; "
                       "stopped all archive requests")

    def _stop(self, reason: str) -> None:
        self._stopped = True
        self._stop_reason = reason
        self._stop_event.set()
        self.raise_if_stopped()

    def claim_save(self, url: str) -> bool:
        """Count one capture of ``url`` against its per-day cap; False when the cap is reached."""
        now = self.clock()
        times = self._saves_per_url.setdefault(url, deque())
        while times and times[0] <= now - _DAY_S:
            times.popleft()
        if len(times) >= self.settings.max_saves_per_url_per_day:
            return False
        times.append(now)
        return True

    async def _wait(self, waiting: Awaitable[object]) -> None:
        """Await a sleep or an event, but wake at once if the gate stops meanwhile."""
        task = asyncio.ensure_future(waiting)
        stop = asyncio.ensure_future(self._stop_event.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (task, stop):
                waiter.cancel()
            await asyncio.gather(task, stop, return_exceptions=True)

    def raise_if_stopped(self) -> None:
        """Raise ArchiveThrottled once repeated 429s (or repeated silence) have stopped the gate."""
        if self._stopped:
            raise ArchiveThrottled(self._stop_reason,
                                   status_code=429 if self._consecutive_429 else None)
