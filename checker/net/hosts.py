"""
Politeness: how many requests run at once, per host and overall, and when each may start.

`HostGate.slot(host)` admits one request. It holds, in this order:

1. the host's semaphore (`per_host`): a host never sees more requests at once than that;
2. the host's start time: starts on one host are at least `interval_s` apart, and never before
   a time set by `defer()` (a `Retry-After`, or a 429 backoff, that applies to the whole host);
3. the global semaphore (`concurrency`), taken last and only for the request itself, so that a
   request sleeping out a host's interval does not hold a slot that another host could use.

Taking the host before the global slot cannot deadlock: a request holds one host at a time (a
redirect to another host is a new request, admitted separately).

Retry timing lives here too (Sphinx linkcheck's `limit_rate`, lychee's `ratelimit/`):
`backoff_s()` is exponential with jitter, `parse_retry_after()` reads both forms of the header.
The clock and sleep are injected, so tests run on a fake clock and never sleep.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checker.settings import CheckSettings

Clock = Callable[[], float]
"""Monotonic seconds, like `time.monotonic`."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds, like `asyncio.sleep`."""

MAX_BACKOFF_S = 60.0


@dataclass(slots=True)
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0  # earliest start allowed by the interval
    not_before: float = 0.0  # earliest start allowed by defer()
    active: int = 0
    max_active: int = 0
    starts: list[float] = field(default_factory=list)  # only kept when recording


class _Slot:
    """One request's pass through a `HostGate` (see `HostGate.slot`)."""

    __slots__ = ("_gate", "_state")

    def __init__(self, gate: HostGate, state: _Host) -> None:
        self._gate = gate
        self._state = state

    async def __aenter__(self) -> None:
        await self._gate._enter(self._state)

    async def __aexit__(self, *exc_info: object) -> None:
        self._gate._leave(self._state)


class HostGate:
    """Admits requests under a global and a per-host concurrency limit and a per-host interval."""

    def __init__(
        self,
        *,
        concurrency: int,
        per_host: int,
        interval_s: float = 0.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        record_starts: bool = False,
        host_limits: dict[str, int] | None = None,
    ) -> None:
        if concurrency < 1 or per_host < 1:
            raise ValueError("concurrency and per_host must be at least 1")
        self.clock = clock
        self.sleep = sleep
        self._per_host = per_host
        self._host_limits = dict(host_limits or {})
        self._interval_s = max(0.0, interval_s)
        self._global = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, _Host] = {}
        self._record_starts = record_starts
        self.active = 0
        self.max_active = 0

    @classmethod
    def from_settings(
        cls, settings: CheckSettings, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> HostGate:
        return cls(
            concurrency=settings.concurrency,
            per_host=settings.per_host,
            interval_s=settings.host_interval_s,
            clock=clock,
            sleep=sleep,
            host_limits=settings.host_limits,
        )

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            limit = max(1, self._host_limits.get(host, self._per_host))
            state = self._hosts[host] = _Host(asyncio.Semaphore(limit))
        return state

    def slot(self, host: str) -> _Slot:
        """`async with gate.slot(host)`: wait until a request to `host` may start, and hold its
        slots while it runs. (A class, not an @asynccontextmanager: it is entered for every
        request, and the generator machinery cost more than the bookkeeping.)"""
        return _Slot(self, self._host(host))

    async def _enter(self, state: _Host) -> None:
        await state.slots.acquire()
        try:
            while True:
                now = self.clock()
                ready_at = max(state.next_start, state.not_before)
                if now < ready_at:
                    await self.sleep(ready_at - now)
                    continue
                await self._global.acquire()
                # Another request to this host may have started while we waited for the global
                # slot (per_host > 1): check again, without holding the slot while sleeping.
                now = self.clock()
                if now >= max(state.next_start, state.not_before):
                    break
                self._global.release()
        except BaseException:
            state.slots.release()
            raise
        state.next_start = now + self._interval_s
        if self._record_starts:
            state.starts.append(now)
        state.active += 1
        state.max_active = max(state.max_active, state.active)
        self.active += 1
        self.max_active = max(self.max_active, self.active)

    def _leave(self, state: _Host) -> None:
        state.active -= 1
        self.active -= 1
        self._global.release()
        state.slots.release()

    def defer(self, host: str, delay_s: float) -> None:
        """No request to `host` starts in the next `delay_s` seconds (Retry-After, 429)."""
        state = self._host(host)
        state.not_before = max(state.not_before, self.clock() + max(0.0, delay_s))

    def max_active_for(self, host: str) -> int:
        """The most requests to `host` that were ever running at once."""
        state = self._hosts.get(host)
        return 0 if state is None else state.max_active

    def starts_for(self, host: str) -> list[float]:
        """Start times of requests to `host` (clock time), when created with record_starts."""
        state = self._hosts.get(host)
        return [] if state is None else list(state.starts)


def backoff_s(
    attempt: int,
    base_s: float,
    *,
    cap_s: float = MAX_BACKOFF_S,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (1-based): base·2^(attempt-1), ±50% jitter.

    Jitter keeps the many URLs of one host that failed together from retrying together.
    """
    delay = base_s * 2.0 ** max(0, attempt - 1)
    return min(cap_s, delay * (0.5 + rng()))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait, from a `Retry-After` value in seconds or as an HTTP date.

    None when absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT; an obsolete form may come without a zone
        when = when.replace(tzinfo=UTC)
    now = datetime.now(UTC) if now is None else now
    return max(0.0, (when - now).total_seconds())
