"""The refusal rules of a web archive's front end, shared by the local archive fakes
(tests/fake_wayback.py, tests/fake_memento.py), so that both refuse a client the same way.

Per client address, a request is refused with 429 when it makes more than ``max_connections``
requests in progress at once, or more than ``burst_per_s`` within one second of the fake's clock
(every request counts, refused or not, so a client that keeps hammering stays refused). ``None``
switches a rule off. Not thread-safe by itself: the fake calls it under its own lock.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass
class FrontEnd:
    max_connections: int | None = 3
    burst_per_s: int | None = 5
    refused: Counter[str] = field(default_factory=Counter)          # by rule
    most_in_progress: dict[str, int] = field(default_factory=dict)  # by client address
    _in_progress: Counter[str] = field(default_factory=Counter)
    _arrivals: dict[str, deque[float]] = field(default_factory=dict)

    def admit(self, address: str, now: float) -> str | None:
        """Count one request in progress from ``address`` at ``now``; the rule it breaks
        ("connections" or "burst"), if any: then the fake answers 429."""
        self._in_progress[address] += 1
        active = self._in_progress[address]
        self.most_in_progress[address] = max(self.most_in_progress.get(address, 0), active)
        arrivals = self._arrivals.setdefault(address, deque())
        while arrivals and arrivals[0] <= now - 1.0:
            arrivals.popleft()
        arrivals.append(now)
        if self.max_connections is not None and active > self.max_connections:
            reason = "connections"
        elif self.burst_per_s is not None and len(arrivals) > self.burst_per_s:
            reason = "burst"
        else:
            return None
        self.refused[reason] += 1
        return reason

    def done(self, address: str) -> None:
        """The request's answer is about to be written: it no longer counts as in progress."""
        self._in_progress[address] -= 1
