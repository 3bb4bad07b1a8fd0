"""
A local fake of a Memento web archive (RFC 7089), as pywb- and MemGator-style archives serve it
(reference §10), for tests and the benchmark. A threaded loopback HTTP server on port 0; its
mementos are data given per test. ``archive`` is the ``MementoArchive`` that points at it.

Endpoints (under ``base_url``):

* ``GET /timemap/link/<URL>``: ``application/link-format``, entries ``original``, ``self`` (with
  ``from``/``until``), ``timegate``, then every memento oldest first with ``rel="first memento"``,
  ``"memento"``, ``"last memento"`` (one memento: ``"first last memento"``) and ``datetime="<RFC
  1123>"``, separated by ``,\\n`` as real archives write them; 404 when nothing is archived.
* ``GET /timegate/<URL>`` with ``Accept-Datetime``: 302 to the closest memento, with ``Vary:
  accept-datetime`` and a ``Link`` header; 404 when nothing is archived.
* ``GET /<14 digits>/<URL>``: the memento: its archived status (200, or 404 for a capture of a
  missing page) with ``Memento-Datetime`` and ``Link`` (original, timegate, timemap); 404 without
  ``Memento-Datetime`` when there is no such memento. ``short_links``: the dated URL answers 302 to
  a short ``/s/<id>`` URL that serves the memento (archive.today does this).

Faults are queued per endpoint (``timemap``, ``timegate``, ``memento``) with ``fail()``. It refuses
like fake_wayback's front end, per client address, with 429: more than ``max_connections``
requests in progress at once, or more than ``burst_per_s`` within one second of ``clock``.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from http.server import ThreadingHTTPServer
from typing import Any

from archive import MementoArchive
from tests.fake_wayback import TOO_MANY, _html_page, repaired, urlkey
from tests.front_end import FrontEnd, FrontEndHandler

ENDPOINTS = ("timemap", "timegate", "memento", "short")
_MEMENTO = re.compile(r"^/(?P<ts>\d{14})/(?P<url>https?://.+)$", re.DOTALL)


@dataclass
class FakeMemento:
    """One archive's mementos: ``add(url, timestamp, title=…, status="200")``."""

    name: str = "fake-archive"
    clock: Callable[[], float] = time.monotonic
    max_connections: int | None = 3
    burst_per_s: int | None = 5
    short_links: bool = False
    mementos: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # key -> (ts, status, body)
    log: list[tuple[str, str, float, int]] = field(default_factory=list)  # endpoint, path, at, status
    counts: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    most_in_progress: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, deque[int]] = {e: deque() for e in ENDPOINTS}
        self._front = FrontEnd(self.max_connections, self.burst_per_s, refused=self.refused)
        self._short: dict[str, tuple[str, str]] = {}
        self._server: ThreadingHTTPServer | None = None

    # configuration ---------------------------------------------------------------------------

    def add(self, url: str, timestamp: str, *, title: str = "Archived page", status: str = "200",
            body: str | None = None) -> None:
        page = body if body is not None else _html_page(title, f"Captured {timestamp}.")
        with self._lock:
            self.mementos.setdefault(urlkey(url), []).append((timestamp, status, page))
            self.mementos[urlkey(url)].sort()

    def fail(self, endpoint: str, status: int, *, times: int = 1) -> None:
        if endpoint not in self._faults:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        self._faults[endpoint].extend([status] * times)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def archive(self) -> MementoArchive:
        """The archive entry that points at this fake."""
        return MementoArchive(self.name, f"{self.base_url}/timemap/link/",
                              f"{self.base_url}/timegate/", timeout_s=5.0)

    def memento_url(self, url: str, timestamp: str) -> str:
        return f"{self.base_url}/{timestamp}/{url}"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    # server ----------------------------------------------------------------------------------

    def __enter__(self) -> FakeMemento:
        fake = self

        class Handler(_Handler):
            archive_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _admit(self, address: str, now: float) -> str | None:
        with self._lock:
            reason = self._front.admit(address, now)
            self.most_in_progress = max(self._front.most_in_progress.values())
            return reason

    def _done(self, address: str) -> None:
        with self._lock:
            self._front.done(address)

    def _history(self, url: str) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self.mementos.get(urlkey(url), []))


def _http_date(timestamp: str) -> str:
    return format_datetime(repaired(timestamp), usegmt=True)


class _Handler(FrontEndHandler):
    archive_fake: FakeMemento
    server_version = "FakeMemento/1.0"

    def do_GET(self) -> None:
        fake = self.archive_fake
        address = self.client_address[0]
        at = fake.clock()
        refused = fake._admit(address, at)
        self._admitted(lambda: fake._done(address))
        try:
            endpoint = self._endpoint()
            with fake._lock:
                fake.counts[endpoint] += 1
                fault = fake._faults[endpoint].popleft() \
                    if refused is None and fake._faults.get(endpoint) else None
            if refused is not None:
                status = self._send(429, TOO_MANY, "text/html")
            elif fault is not None:
                status = self._send(fault, _html_page(f"{fault} Error"), "text/html")
            else:
                status = getattr(self, "_" + endpoint)()
            with fake._lock:
                fake.log.append((endpoint, self.path, at, status))
        finally:
            self._release()

    def _endpoint(self) -> str:
        if self.path.startswith("/timemap/link/"):
            return "timemap"
        if self.path.startswith("/timegate/"):
            return "timegate"
        if self.path.startswith("/s/"):
            return "short"
        return "memento"

    def _links(self, url: str) -> str:
        base = self.archive_fake.base_url
        return (f'<{url}>; rel="original", <{base}/timegate/{url}>; rel="timegate", '
                f'<{base}/timemap/link/{url}>; rel="timemap"; type="application/link-format"')

    def _timemap(self) -> int:
        base = self.archive_fake.base_url
        url = self.path[len("/timemap/link/"):]
        history = self.archive_fake._history(url)
        if not history:
            return self._send(404, _html_page("Not Found", "No mementos."), "text/html")
        entries = [
            f'<{url}>; rel="original"',
            f'<{base}/timemap/link/{url}>; rel="self"; type="application/link-format"; '
            f'from="{_http_date(history[0][0])}"; until="{_http_date(history[-1][0])}"',
            f'<{base}/timegate/{url}>; rel="timegate"',
        ]
        for index, (ts, _, _) in enumerate(history):
            rel = " ".join([*(["first"] if index == 0 else []),
                            *(["last"] if index == len(history) - 1 else []), "memento"])
            entries.append(f'<{base}/{ts}/{url}>; rel="{rel}"; datetime="{_http_date(ts)}"')
        return self._send(200, ",\n".join(entries) + "\n", "application/link-format")

    def _timegate(self) -> int:
        base = self.archive_fake.base_url
        url = self.path[len("/timegate/"):]
        history = self.archive_fake._history(url)
        if not history:
            return self._send(404, _html_page("Not Found", "No mementos."), "text/html")
        wanted = self.headers.get("Accept-Datetime")
        target = parsedate_to_datetime(wanted) if wanted else repaired(history[-1][0])
        ts = min(history, key=lambda h: abs((repaired(h[0]) - target).total_seconds()))[0]
        return self._send(302, "", "text/plain", {
            "Location": f"{base}/{ts}/{url}", "Vary": "accept-datetime",
            "Link": self._links(url)})

    def _memento(self) -> int:
        match = _MEMENTO.match(self.path)
        if match is None:
            return self._send(404, _html_page("Not Found"), "text/html")
        ts, url = match["ts"], match["url"]
        fake = self.archive_fake
        exact = [h for h in fake._history(url) if h[0] == ts]
        if not exact:
            return self._send(404, _html_page("Not Found", "Not in this archive."), "text/html")
        if fake.short_links:
            short = hashlib.sha1(f"{ts} {url}".encode()).hexdigest()[:5]
            with fake._lock:
                fake._short[short] = (ts, url)
            return self._send(302, "", "text/plain", {"Location": f"/s/{short}"})
        return self._serve(ts, url, exact[0])

    def _short(self) -> int:
        key = self.path[len("/s/"):]
        fake = self.archive_fake
        with fake._lock:
            found = fake._short.get(key)
        if found is None:
            return self._send(404, _html_page("Not Found"), "text/html")
        ts, url = found
        exact = [h for h in fake._history(url) if h[0] == ts]
        return self._serve(ts, url, exact[0])

    def _serve(self, ts: str, url: str, memento: tuple[str, str, str]) -> int:
        _, status, page = memento
        return self._send(int(status), page, "text/html; charset=utf-8", {
            "Memento-Datetime": _http_date(ts), "Link": self._links(url)})


@contextmanager
def serve_memento(**config: Any) -> Iterator[FakeMemento]:
    """``with serve_memento(name="archive.today") as fake:`` a started fake, stopped after."""
    with FakeMemento(**config) as fake:
        yield fake
