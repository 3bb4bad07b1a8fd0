"""The refusal rules of a web archive's front end, shared by the local archive fakes
(tests/fake_wayback.py, tests/fake_memento.py), so that both refuse a client the same way.

Per client address, a request is refused with 429 when it makes more than ``max_connections``
requests in progress at once, or more than ``burst_per_s`` within one second of the fake's clock
(every request counts, refused or not, so a client that keeps hammering stays refused). ``None``
switches a rule off. Not thread-safe by itself: the fake calls it under its own lock.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any


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


class FrontEndHandler(BaseHTTPRequestHandler):
    """A fake's request handler: its request counts as in progress from ``_admitted`` until its
    answer starts (``_send``), or until the handler ends without one (``_release`` in a
    ``finally``), so a client that waits for each answer is never counted twice."""

    protocol_version = "HTTP/1.1"
    _done: Callable[[], None] | None = None

    def log_message(self, format: str, *args: Any) -> None:   # quiet
        pass

    def _admitted(self, done: Callable[[], None]) -> None:
        self._done = done

    def _release(self) -> None:
        if self._done is not None:
            done, self._done = self._done, None
            done()

    def _send(self, status: int, body: str | bytes, content_type: str,
              headers: dict[str, str] | None = None) -> int:
        data = body.encode() if isinstance(body, str) else body
        self._release()                    # the request stops counting before its answer leaves
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        return status
