"""
One gate for every request to the Wayback Machine: sliding-window rate limits per kind of
request, one shared pause after any 429, and a hard stop after repeated 429s.

Kinds and their pools (see settings.py for the numbers):

* ``lookup``: CDX, timemap and availability requests share IA's one rate pool;
* ``replay``: ``/web/<ts>id_/<url>`` replays and SPN status polls;
* ``save``: Save Page Now captures (a lower rate, with or without keys).

IA sends no ``Retry-After`` with its 429s and firewalls clients that keep going for a minute, so
*any* 429 pauses *every* kind for ``pause_on_429_s`` (shared state); after the pause a single
request goes out alone (a probe) and the others wait for its answer, so a pause never ends in a
burst; ``max_consecutive_429`` 429s in a row raise ``ArchiveThrottled`` from then on: the caller
stops cleanly.

The clock and sleep are injected. ``VirtualClock`` is a clock whose sleep only moves time
forward: tests and the benchmark use it to run the real limiter in "accounting" mode without
waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Literal

from archive.errors import ArchiveThrottled
from archive.settings import ArchiveSettings

Kind = Literal["lookup", "replay", "save"]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_WINDOW_S = 60.0
_DAY_S = 86_400.0


class SlidingWindow:
    """At most ``per_window`` events in any ``window_s`` seconds (exact, not a token estimate)."""

    def __init__(self, per_window: int, window_s: float = _WINDOW_S) -> None:
        if per_window < 1:
            raise ValueError("a rate limit needs at least one request per window")
        self.per_window = per_window
        self.window_s = window_s
        self._times: deque[float] = deque()

    def wait_s(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self._times and self._times[0] <= now - self.window_s:
            self._times.popleft()
        if len(self._times) < self.per_window:
            return 0.0
        return self._times[0] + self.window_s - now

    def record(self, now: float) -> None:
        self._times.append(now)


class VirtualClock:
    """A clock for tests and benchmarks: ``sleep`` advances ``now`` instead of waiting."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept_s = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now += seconds
            self.slept_s += seconds
        await asyncio.sleep(0)   # let other tasks run, as a real sleep would


class ArchiveGate:
    """Shared politeness state for one run: acquire() before each request, then report()."""

    def __init__(
        self, settings: ArchiveSettings, *, clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self._windows: dict[Kind, SlidingWindow] = {
            "lookup": SlidingWindow(settings.lookup_per_min),
            "replay": SlidingWindow(settings.replay_per_min),
            "save": SlidingWindow(settings.save_per_min),
        }
        self._locks: dict[Kind, asyncio.Lock] = {kind: asyncio.Lock() for kind in self._windows}
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

    async def acquire(self, kind: Kind) -> None:
        """Wait until a request of this kind may go out; raise ArchiveThrottled once stopped.

        Every acquire() must be followed by one report(), whatever happens to the request.
        """
        async with self._locks[kind]:      # first come, first served within one kind
            while True:
                self.raise_if_stopped()
                now = self.clock()
                pause = self._paused_until - now
                wait = max(pause, self._windows[kind].wait_s(now))
                if wait > 0:
                    if pause > 0:
                        self.paused_s += min(wait, pause)
                    await self._wait(self.sleep(wait))
                    continue
                if self._probe_needed:
                    if self._probe_out:    # after a 429, one request goes first and alone
                        await self._wait(self._answered.wait())
                        continue
                    self._probe_out = True
                    self._answered.clear()
                self._windows[kind].record(now)
                self.requests[kind] += 1
                return

    def report(self, status_code: int | None) -> None:
        """Tell the gate how a request ended (None: no HTTP answer). Raises after repeated 429s."""
        self._probe_out = False
        self._answered.set()
        if status_code is None:
            # No answer at all, again and again: the archive (or this machine's network) is down,
            # and asking on would only spend the rate limit's waits for nothing.
            self._consecutive_unanswered += 1
            if self._consecutive_unanswered >= self.settings.max_consecutive_unanswered:
                self._stop(f"the Wayback Machine did not answer {self._consecutive_unanswered} "
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
            self._stop(f"the Wayback Machine answered 429 {self._consecutive_429} times in a row; "
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
