"""
A local fake of the Wayback Machine that speaks the real shapes (reference §9), for tests and
benchmarks. A threaded loopback HTTP server on port 0; captures are data given per test.

Endpoints (all under ``fake.base_url``, which stands for both web.archive.org and archive.org):

* ``GET /wayback/available?url=&timestamp=[&statuscodes=…&closest=…]``: one "closest"
  snapshot (any status unless ``statuscodes`` is given), ``{"archived_snapshots": {}}`` on a miss
  or for URLs in ``availability_blind`` (the real API's flaky empty answers).
* ``POST /wayback/available`` with ``Wayback-Api-Version: 2``: IABot's batch form, body of
  newline-separated form-encoded lines, answer ``{"results": [{"tag", "archived_snapshots"}]}``.
* ``GET /cdx/search/cdx``: ``url`` (``matchType`` exact/prefix, trailing ``*``), ``from``/``to``,
  repeatable ``filter`` (``[!]field:regex``, full match; ``~`` substring), ``collapse`` (adjacent
  rows, ``field[:N]``), ``closest`` sorting **only** with ``sort=closest`` (``-``/``^`` prefixes:
  before/after only), ``sort=reverse``, ``limit`` ±N, ``offset``, ``fl``, ``output=json`` (header
  row; ``[]`` when empty), ``showResumeKey``/``resumeKey``, ``resolveRevisits``. Rows keep what
  the captures hold: ``-`` statuses, ``-`` lengths, ``00`` month timestamps, duplicates. Blocked
  URLs get the real 403 "Blocked Site Error".
* ``GET /web/<ts><flag>/<url>``: exact capture → its status + ``Memento-Datetime`` + ``Link``;
  an archived 3xx in ``id_`` form → the 3xx with ``Location: /web/<same ts>id_/<target>``, in
  view form → 200 "Got an HTTP 301 response at crawl time"; other timestamps → 302 to the nearest
  capture with ``X-Archive-Redirect-Reason: found capture at <ts>``; nothing archived → 404
  without ``Memento-Datetime``; blocked → 200 "excluded" page. ``/web/<url>`` is a TimeGate.
* Save Page Now 2: ``POST /save`` (``Authorization: LOW k:s`` checked against ``spn_keys``;
  anonymous allowed unless ``spn_allow_anonymous`` is false → 401), deterministic
  ``spn2-<40 hex>`` job ids per URL and hour (a repeat gets the "same snapshot" message), errors
  with HTTP 200 (``spn_post_errors``, daily cap ``spn_daily_limit``), ``if_not_archived_within``;
  ``GET /save/status/<job>`` pending ``spn_pending_polls`` times, then success (the capture is
  added and replays) or ``spn_job_errors``; ``/save/status/user`` and ``/save/status/system``.

Faults are queued per endpoint with ``fail(endpoint, status, times=…)``: 429 (HTML, no
Retry-After, as IA does), 5xx, or any body (a Java exception with 200). Every request is logged
(``log``, ``counts``) with the time of ``clock`` (inject the test's clock to count requests per
minute of test time: ``max_in_window``).

**It refuses like the real front end** (reference §9), per client address, with the 429 HTML
page and no Retry-After, by default:

* more than ``max_connections`` (3) requests *in progress at once*: archive.org users report
  429s from 3-4 concurrent downloads on. A request is in progress from when its headers have
  been read until just before its response is written (nginx ``limit_conn``), so a client that
  waits for each answer before reusing its slot is never refused for a request it no longer has
  out, however the threads are scheduled;
* more than ``burst_per_s`` (5) requests within any one second of ``clock`` (the window is
  ``(t - 1, t]``; every request counts, refused or not, so a client that keeps hammering stays
  refused). 5 is above what citewatch's paces send at their defaults: a lookup every 2.5 s, a
  replay or status poll every 0.5 s and a capture every 10 s or more make at most 2 + 1 + 1 = 4
  in any second; a burst of 6 is what the old sliding window sent (24 lookups at once).

Pass ``None`` to switch a rule off. With a virtual clock the burst rule is only fair if the
client sends on the same clock (``VirtualClock`` holds its time still while a request is out,
so the fake sees each request at the time the client sent it). For assertions and the bench it
records, per client address, the connections accepted (``accepted``), the most TCP connections
open at once (accept to close: ``most_connections``) and the most requests in progress at once
(``most_in_progress``, refused ones included), and counts refusals by rule (``refused``).
``hold()`` keeps admitted requests unanswered until ``release()``, so a test can see how many a
client has out at once without relying on timing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlsplit

from tests.front_end import FrontEnd, FrontEndHandler

ENDPOINTS = ("availability", "availability-batch", "cdx", "replay", "timegate", "save",
             "save-status")
FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
BLOCKED_ERROR = ("org.archive.util.io.RuntimeIOException: "
                 "org.archive.wayback.exception.AdministrativeAccessControlException: "
                 "Blocked Site Error")
TOO_MANY = ("<html><body><h1>429 Too Many Requests</h1>\n"
            "You have sent too many requests in a given amount of time.\n</body></html>")
_REPLAY = re.compile(r"^/web/(?P<ts>\d{1,14})(?P<flag>[a-z]{2}_)?/(?P<url>.*)$", re.DOTALL)


def urlkey(url: str) -> str:
    """A SURT-like key: scheme, ``www.``, default ports, case and a trailing slash ignored."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = re.sub(r"^www\d*\.", "", (parts.hostname or "").lower())
    path = parts.path.rstrip("/") or "/"
    key = ",".join(reversed(host.split("."))) + ")" + path.lower()
    return key + ("?" + parts.query.lower() if parts.query else "")


def repaired(timestamp: str) -> datetime:
    """Datetime of a (possibly short) Wayback timestamp; a spurious ``00`` month/day pair is
    dropped and the rest shifted left, as EDGI's wayback reads such real rows."""
    digits = timestamp.ljust(14, "0")
    if digits[4:6] == "00":
        digits = digits[:4] + digits[6:] + "00"
    elif digits[6:8] == "00":
        digits = digits[:6] + digits[8:] + "00"
    try:
        return datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return datetime(int(digits[:4]), 1, 1, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


@dataclass
class FakeCapture:
    """One archived response. ``status`` is the CDX string: "200", "301", "404", "-" (revisit)."""

    url: str
    timestamp: str
    status: str = "200"
    title: str | None = None
    body: str | None = None
    redirect_to: str | None = None
    mimetype: str = "text/html"
    digest: str | None = None
    length: str = "2048"
    replayable: bool = True     # False: listed by the CDX but replay redirects elsewhere (§1.3)

    def __post_init__(self) -> None:
        if self.status == "-" and self.mimetype == "text/html":
            self.mimetype = "warc/revisit"
        if self.digest is None:
            seed = f"{self.url} {self.timestamp} {self.status} {self.title}".encode()
            self.digest = base64.b32encode(hashlib.sha1(seed).digest()).decode()

    @property
    def key(self) -> str:
        return urlkey(self.url)

    @property
    def captured_at(self) -> datetime:
        return repaired(self.timestamp)


@dataclass
class LoggedRequest:
    endpoint: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str
    at: float
    status: int = 0
    refused: str | None = None       # "connections" or "burst" when the front end said 429


@dataclass
class Fault:
    status: int
    body: str | None = None
    delay_s: float = 0.0


@dataclass
class _Job:
    job_id: str
    url: str
    created: datetime
    polls_left: int
    timestamp: str | None = None       # set when done (new capture, or the recent one reused)
    error: tuple[str, str] | None = None


@dataclass
class FakeWayback:
    """State of the fake; start() it, or use ``serve_wayback()``."""

    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    captures: list[FakeCapture] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)               # url keys
    availability_blind: set[str] = field(default_factory=set)    # url keys answered with {}
    spn_keys: tuple[str, str] | None = None
    spn_allow_anonymous: bool = True
    spn_pending_polls: int = 1
    spn_daily_limit: int = 5
    spn_post_errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    spn_job_errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    spn_redirects: dict[str, str] = field(default_factory=dict)
    max_connections: int | None = 3      # requests in progress at once per client address
    burst_per_s: int | None = 5          # requests within any second of ``clock`` per address
    log: list[LoggedRequest] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)          # by rule
    accepted: Counter[str] = field(default_factory=Counter)         # connections, by address
    most_connections: dict[str, int] = field(default_factory=dict)  # by client address
    most_in_progress: dict[str, int] = field(default_factory=dict)  # by client address

    def __post_init__(self) -> None:
        self._open: Counter[str] = Counter()
        self._front = FrontEnd(self.max_connections, self.burst_per_s, refused=self.refused,
                               most_in_progress=self.most_in_progress)
        self._faults: dict[str, deque[Fault]] = {name: deque() for name in ENDPOINTS}
        self._jobs: dict[str, _Job] = {}
        self._daily: Counter[tuple[str, str]] = Counter()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._holding = False
        self.arrivals = 0                # requests since the last hold() (all, before that)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._by_key: dict[str, list[FakeCapture]] | None = None

    # configuration ---------------------------------------------------------------------------

    def add(self, url: str, timestamp: str, status: str = "200", **fields: Any) -> FakeCapture:
        """Archive one response; returns it."""
        capture = FakeCapture(url, timestamp, status, **fields)
        with self._lock:
            self.captures.append(capture)
            self._by_key = None
        return capture

    def block(self, url: str) -> None:
        self.blocked.add(urlkey(url))

    def blind(self, url: str) -> None:
        """The availability API will answer ``{}`` for this URL although it is archived."""
        self.availability_blind.add(urlkey(url))

    def hold(self) -> None:
        """Keep admitted requests in progress, unanswered, until ``release()``: a test can then
        see how many a client has out at once without relying on timing. Refused requests are
        still answered at once."""
        with self._changed:
            self._holding = True
            self.arrivals = 0

    def release(self) -> None:
        with self._changed:
            self._holding = False
            self._changed.notify_all()

    def wait_for_arrivals(self, count: int, timeout_s: float = 10.0) -> bool:
        """Block (in a thread) until ``count`` requests have arrived since ``hold()``."""
        with self._changed:
            return self._changed.wait_for(lambda: self.arrivals >= count, timeout_s)

    def fail(self, endpoint: str, status: int, *, times: int = 1, body: str | None = None,
             delay_s: float = 0.0) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with ``status`` (and ``body``)."""
        if endpoint not in self._faults:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        for _ in range(times):
            self._faults[endpoint].append(Fault(status, body, delay_s))

    # inspection ------------------------------------------------------------------------------

    def requests(self, endpoint: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if endpoint is None or r.endpoint == endpoint]

    @property
    def max_connections_seen(self) -> int:
        """The most connections any one client address had open at once."""
        with self._lock:
            return max(self.most_connections.values(), default=0)

    @property
    def max_in_progress_seen(self) -> int:
        """The most requests any one client address had in progress at once."""
        with self._lock:
            return max(self.most_in_progress.values(), default=0)

    def min_gap(self, endpoints: Iterable[str]) -> float:
        """The shortest time of ``clock`` between two requests to ``endpoints`` (inf if < 2)."""
        wanted = set(endpoints)
        times = sorted(r.at for r in self.requests() if r.endpoint in wanted)
        return min((b - a for a, b in zip(times, times[1:], strict=False)), default=float("inf"))

    def max_in_window(self, endpoints: Iterable[str] | None = None, window_s: float = 60.0) -> int:
        """Most requests to ``endpoints`` seen in any ``window_s`` seconds of ``clock`` time."""
        wanted = set(endpoints or ENDPOINTS)
        times = sorted(r.at for r in self.requests() if r.endpoint in wanted)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while times[start] <= moment - window_s:
                start += 1
            best = max(best, end - start + 1)
        return best

    # server ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> FakeWayback:
        fake = self

        class Handler(_Handler):
            wayback = fake

        class Server(_Server):
            wayback = fake

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWayback:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # the front end ---------------------------------------------------------------------------

    def _opened(self, address: str) -> None:
        with self._lock:
            self._open[address] += 1
            self.accepted[address] += 1
            self.most_connections[address] = max(self.most_connections.get(address, 0),
                                                 self._open[address])

    def _closed(self, address: str) -> None:
        with self._lock:
            self._open[address] -= 1

    def _admit(self, address: str, now: float) -> str | None:
        """Count one request in progress; the rule it breaks, if any (then answer 429)."""
        with self._changed:
            self.arrivals += 1
            self._changed.notify_all()
            return self._front.admit(address, now)

    def _wait_while_held(self) -> None:
        with self._changed:
            # bounded, so a test that forgets release() fails instead of hanging
            self._changed.wait_for(lambda: not self._holding, 30.0)

    def _done(self, address: str) -> None:
        with self._lock:
            self._front.done(address)

    # behaviour -------------------------------------------------------------------------------

    def _captures_for(self, key: str) -> list[FakeCapture]:
        with self._lock:
            if self._by_key is None:
                index: dict[str, list[FakeCapture]] = {}
                for capture in sorted(self.captures, key=lambda c: c.captured_at):
                    index.setdefault(capture.key, []).append(capture)
                self._by_key = index
            return list(self._by_key.get(key, []))

    def _resolved_status(self, capture: FakeCapture, history: list[FakeCapture]) -> tuple[str, str]:
        """A revisit's status and mimetype: those of the last earlier capture of that digest."""
        if capture.status != "-":
            return capture.status, capture.mimetype
        for earlier in reversed(history):
            if earlier.captured_at <= capture.captured_at and earlier.status != "-" \
                    and earlier.digest == capture.digest:
                return earlier.status, earlier.mimetype
        return "-", capture.mimetype

    def _closest(self, url: str, timestamp: str | None, statuses: list[str],
                 direction: str = "either") -> FakeCapture | None:
        key = urlkey(url)
        if key in self.availability_blind or key in self.blocked:
            return None
        history = self._captures_for(key)
        pool = [c for c in history
                if not statuses or self._resolved_status(c, history)[0] in statuses]
        target = repaired(timestamp) if timestamp else self.now()
        if direction == "before":
            pool = [c for c in pool if c.captured_at <= target]
        elif direction == "after":
            pool = [c for c in pool if c.captured_at >= target]
        if not pool:
            return None
        return min(pool, key=lambda c: abs((c.captured_at - target).total_seconds()))

    def _snapshot_json(self, capture: FakeCapture | None) -> dict[str, Any]:
        if capture is None:
            return {}
        history = self._captures_for(capture.key)
        return {"closest": {
            "status": self._resolved_status(capture, history)[0], "available": True,
            "url": f"http://web.archive.org/web/{capture.timestamp}/{capture.url}",
            "timestamp": capture.timestamp,
        }}


def _html_page(title: str, text: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{text}</p></body></html>")


class _Server(ThreadingHTTPServer):
    """Counts each client's open connections, from accept to close."""

    wayback: FakeWayback
    daemon_threads = True
    request_queue_size = 64      # socketserver's 5 drops a burst of connects (1 s SYN retry)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.wayback._opened(client_address[0])      # in the accepting thread: in order
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)   # closes the socket
        finally:
            self.wayback._closed(client_address[0])


class _Handler(FrontEndHandler):
    wayback: FakeWayback
    server_version = "FakeWayback/1.0"
    wbufsize = 1 << 16               # headers and body leave in one write (flushed per request)
    disable_nagle_algorithm = True

    # plumbing --------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        # In progress from here (headers read) until _send() starts the answer.
        address = self.client_address[0]
        at = self.wayback.clock()
        refused = self.wayback._admit(address, at)
        self._admitted(lambda: self.wayback._done(address))
        try:
            if refused is None:
                self.wayback._wait_while_held()
            self._answer(method, at, refused)
        finally:
            self._release()                # nothing was sent (a handler failed)

    def _answer(self, method: str, at: float, refused: str | None) -> None:
        fake = self.wayback
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        endpoint = self._endpoint(method, parts.path)
        entry = LoggedRequest(endpoint, method, self.path,
                              parse_qs(parts.query, keep_blank_values=True),
                              {k: v for k, v in self.headers.items()}, body, at, refused=refused)
        with fake._lock:
            fake.log.append(entry)
            fake.counts[endpoint] += 1
            fault = None
            if refused is None and fake._faults.get(endpoint):
                fault = fake._faults[endpoint].popleft()
        if refused is not None:
            entry.status = 429
            self._send(429, TOO_MANY, "text/html")
            return
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            entry.status = fault.status
            default = TOO_MANY if fault.status == 429 else \
                _html_page(f"{fault.status} Error", "The server failed.")
            self._send(fault.status, fault.body if fault.body is not None else default,
                       "text/html" if fault.body is None else "text/plain")
            return
        handler = getattr(self, "_" + endpoint.replace("-", "_"), None)
        if handler is None:
            entry.status = 404
            self._send(404, _html_page("Not Found"), "text/html")
            return
        entry.status = handler(method, parts, body)

    def _endpoint(self, method: str, path: str) -> str:
        if path == "/wayback/available":
            return "availability-batch" if method == "POST" else "availability"
        if path == "/cdx/search/cdx":
            return "cdx"
        if path == "/save" or path.startswith("/save/status"):
            return "save" if path == "/save" else "save-status"
        if path.startswith("/web/"):
            return "replay" if _REPLAY.match(self.path) else "timegate"
        return "other"

    def _json(self, status: int, payload: Any) -> int:
        return self._send(status, json.dumps(payload), "application/json")

    # availability ----------------------------------------------------------------------------

    def _availability(self, method: str, parts: Any, body: str) -> int:
        query = parse_qs(parts.query)
        url = query.get("url", [""])[0]
        timestamp = query.get("timestamp", [None])[0]
        capture = self.wayback._closest(url, timestamp, query.get("statuscodes", []),
                                        query.get("closest", ["either"])[0])
        answer: dict[str, Any] = {"url": url,
                                  "archived_snapshots": self.wayback._snapshot_json(capture)}
        if timestamp:
            answer["timestamp"] = timestamp
        return self._json(200, answer)

    def _availability_batch(self, method: str, parts: Any, body: str) -> int:
        if self.headers.get("Wayback-Api-Version") != "2":
            return self._json(400, {"error": "POST needs Wayback-Api-Version: 2"})
        results = []
        for line in body.splitlines():
            if not line.strip():
                continue
            fields: dict[str, list[str]] = {}
            for name, value in parse_qsl(line, keep_blank_values=True):
                fields.setdefault(name, []).append(value)
            url = fields.get("url", [""])[0]
            timestamp = fields.get("timestamp", [None])[0]
            capture = self.wayback._closest(url, timestamp, fields.get("statuscodes", []),
                                            fields.get("closest", ["either"])[0])
            results.append({"url": url, "tag": fields.get("tag", [""])[0], "timestamp": timestamp,
                            "archived_snapshots": self.wayback._snapshot_json(capture)})
        return self._json(200, {"results": results})

    # CDX -------------------------------------------------------------------------------------

    def _cdx(self, method: str, parts: Any, body: str) -> int:
        fake = self.wayback
        query = parse_qs(parts.query, keep_blank_values=True)
        one = {name: values[0] for name, values in query.items()}
        url = one.get("url", "")
        match_type = one.get("matchType", "exact")
        if url.endswith("*"):
            url, match_type = url[:-1], "prefix"
        key = urlkey(url)
        if key in fake.blocked:
            return self._send(403, BLOCKED_ERROR, "text/plain;charset=UTF-8",
                              {"X-Archive-Wayback-Runtime-Error": BLOCKED_ERROR})
        if match_type == "exact":
            chosen = fake._captures_for(key)
        else:
            with fake._lock:
                everything = sorted(fake.captures, key=lambda c: (c.key, c.captured_at))
            chosen = [c for c in everything if c.key.startswith(key.rstrip("/"))]
        rows = []
        for capture in chosen:
            history = [c for c in chosen if c.key == capture.key]
            status, mimetype = capture.status, capture.mimetype
            if one.get("resolveRevisits") == "true":
                status, mimetype = fake._resolved_status(capture, history)
            rows.append({"urlkey": capture.key, "timestamp": capture.timestamp,
                         "original": capture.url, "mimetype": mimetype, "statuscode": status,
                         "digest": capture.digest or "-", "length": capture.length})
        if "from" in one:
            rows = [r for r in rows if r["timestamp"] >= one["from"].ljust(14, "0")]
        if "to" in one:
            rows = [r for r in rows if r["timestamp"] <= one["to"].ljust(14, "9")]
        for spec in query.get("filter", []):
            rows = [r for r in rows if _filter_keeps(spec, r)]
        for spec in query.get("collapse", []):
            rows = _collapse(spec, rows)
        if one.get("sort") == "closest" and one.get("closest"):
            rows = _closest_sorted(one["closest"], rows)
        elif one.get("sort") == "reverse":
            rows.reverse()
        if "resumeKey" in one:
            resume = unquote(one["resumeKey"]).rstrip("!")
            seen = [i for i, r in enumerate(rows) if f"{r['urlkey']} {r['timestamp']}" == resume]
            rows = rows[seen[0] + 1:] if seen else rows
        rows = rows[int(one.get("offset", "0") or 0):]
        resume_key = None
        if one.get("limit"):
            limit = int(one["limit"])
            truncated = len(rows) > abs(limit)
            rows = rows[:limit] if limit >= 0 else rows[limit:]
            if truncated and limit > 0 and one.get("showResumeKey") == "true" and rows:
                resume_key = quote(f"{rows[-1]['urlkey']} {rows[-1]['timestamp']}!", safe="")
        names = [n for n in one.get("fl", "").split(",") if n] or list(FIELDS)
        table = [[row[name] for name in names] for row in rows]
        if one.get("output") == "json":
            payload: list[Any] = [names, *table] if table else []
            if resume_key:
                payload += [[], [resume_key]]
            return self._json(200, payload)
        text = "".join(" ".join(cells) + "\n" for cells in table)
        if resume_key:
            text += "\n" + resume_key + "\n"
        return self._send(200, text, "text/plain")

    # replay ----------------------------------------------------------------------------------

    def _replay(self, method: str, parts: Any, body: str) -> int:
        fake = self.wayback
        match = _REPLAY.match(self.path)
        assert match is not None
        timestamp, flag, original = match["ts"], match["flag"] or "", match["url"]
        if original.startswith(("http:/", "https:/")) and "://" not in original:
            original = original.replace(":/", "://", 1)
        key = urlkey(original)
        if key in fake.blocked:
            return self._send(200, _html_page(
                "Wayback Machine", "Sorry. This URL has been excluded from the Wayback Machine."),
                "text/html")
        history = [c for c in fake._captures_for(key) if c.replayable]
        if not history:
            return self._send(404, _html_page(
                "Wayback Machine", "The Wayback Machine has not archived that URL."),
                "text/html", {"x-ts": "404"})
        exact = [c for c in history if c.timestamp == timestamp]
        if not exact:
            target = repaired(timestamp)
            nearest = min(history, key=lambda c: abs((c.captured_at - target).total_seconds()))
            return self._send(302, "", "text/plain; charset=utf-8", {
                "Location": f"{fake.base_url}/web/{nearest.timestamp}{flag}/{nearest.url}",
                "X-Archive-Redirect-Reason": f"found capture at {nearest.timestamp}",
            })
        capture = exact[0]
        status_text, mimetype = fake._resolved_status(capture, history)
        status = int(status_text) if status_text.isdigit() else 200
        headers = {
            "Memento-Datetime": format_datetime(capture.captured_at, usegmt=True),
            "Link": _link_header(fake.base_url, capture, history),
            "X-Archive-Src": "fake-20000101000000-00001.warc.gz",
            "X-ts": str(status),
        }
        if 300 <= status < 400 and capture.redirect_to:
            if flag == "":
                headers.pop("Memento-Datetime")
                return self._send(200, _html_page(
                    "Wayback Machine", f"Got an HTTP {status} response at crawl time. "
                    f"Redirecting to... {capture.redirect_to}"), "text/html", headers)
            headers["Location"] = \
                f"{fake.base_url}/web/{capture.timestamp}{flag}/{capture.redirect_to}"
            return self._send(status, "", mimetype, headers)
        page = capture.body if capture.body is not None else \
            _html_page(capture.title or ("Not Found" if status == 404 else "Archived page"),
                       f"Captured {capture.timestamp}.")
        return self._send(status, page, mimetype if "/" in mimetype else "text/html", headers)

    def _timegate(self, method: str, parts: Any, body: str) -> int:
        fake = self.wayback
        original = self.path[len("/web/"):]
        history = fake._captures_for(urlkey(original))
        if not history:
            return self._send(404, _html_page("Wayback Machine", "Not archived."), "text/html")
        latest = history[-1]
        return self._send(302, "", "text/plain", {
            "Location": f"{fake.base_url}/web/{latest.timestamp}/{latest.url}"})

    # Save Page Now 2 -------------------------------------------------------------------------

    def _save(self, method: str, parts: Any, body: str) -> int:
        fake = self.wayback
        if method != "POST":
            return self._json(405, {"status": "error", "message": "POST only"})
        form = dict(parse_qsl(body, keep_blank_values=True))
        url = form.get("url", "")
        auth = self.headers.get("Authorization")
        if auth is not None:
            expected = f"LOW {fake.spn_keys[0]}:{fake.spn_keys[1]}" if fake.spn_keys else None
            if not auth.startswith("LOW ") or (expected is not None and auth != expected):
                return self._json(401, {"status": "error", "status_ext": "error:unauthorized",
                                        "message": "Invalid S3 keys."})
        elif not fake.spn_allow_anonymous:
            return self._json(401, {"status": "error", "status_ext": "error:unauthorized",
                                    "message": "You need to be logged in to use Save Page Now."})
        if not url:
            return self._json(200, {"status": "error", "status_ext": "error:invalid-url-syntax",
                                    "message": "Please provide a URL."})
        if url in fake.spn_post_errors:
            status_ext, message = fake.spn_post_errors[url]
            return self._json(200, {"status": "error", "status_ext": status_ext,
                                    "message": message})
        now = fake.now()
        key = urlkey(url)
        job_id = "spn2-" + hashlib.sha1(f"{key}|{now:%Y%m%d%H}".encode()).hexdigest()
        with fake._lock:
            job = fake._jobs.get(job_id)
            if job is not None:
                minutes = int((now - job.created).total_seconds() // 60)
                return self._json(200, {
                    "url": url, "job_id": job_id,
                    "message": f"The same snapshot had been made {minutes} minutes ago. "
                               "You can make new capture of this URL after 1 hour."})
            day = (key, now.strftime("%Y%m%d"))
            if fake._daily[day] >= fake.spn_daily_limit:
                return self._json(200, {
                    "status": "error", "status_ext": "error:too-many-daily-captures",
                    "message": f"This URL has been already captured {fake._daily[day]} times "
                               "today. Please try again tomorrow."})
            job = _Job(job_id, url, now, fake.spn_pending_polls)
            within = _interval_s(form.get("if_not_archived_within", ""))
            recent = [c for c in fake._captures_for(key) if c.status == "200"
                      and within is not None and (now - c.captured_at).total_seconds() < within]
            if recent:
                job.timestamp, job.polls_left = recent[-1].timestamp, 0
            else:
                fake._daily[day] += 1
            fake._jobs[job_id] = job
        return self._json(200, {"url": url, "job_id": job_id})

    def _save_status(self, method: str, parts: Any, body: str) -> int:
        fake = self.wayback
        name = parts.path[len("/save/status/"):]
        if name == "system":
            return self._json(200, {"status": "ok"})
        if name == "user":
            used = sum(fake._daily.values())
            return self._json(200, {"available": 6, "processing": 0, "daily_captures": used,
                                    "daily_captures_limit": 100000})
        with fake._lock:
            job = fake._jobs.get(name)
            if job is None:
                return self._json(404, {"status": "error", "message": "Job not found."})
            if job.polls_left > 0:
                job.polls_left -= 1
                return self._json(200, {"status": "pending", "job_id": job.job_id,
                                        "resources": []})
            if job.url in fake.spn_job_errors:
                status_ext, message = fake.spn_job_errors[job.url]
                return self._json(200, {"status": "error", "job_id": job.job_id,
                                        "status_ext": status_ext, "message": message,
                                        "exception": message, "resources": []})
            original = fake.spn_redirects.get(job.url, job.url)
            if job.timestamp is None:
                job.timestamp = stamp(fake.now())
                fake.captures.append(FakeCapture(original, job.timestamp, "200",
                                                 title=f"Saved: {original}"))
                fake._by_key = None
        return self._json(200, {
            "status": "success", "job_id": job.job_id, "original_url": original,
            "timestamp": job.timestamp, "duration_sec": 6.203, "http_status": 200,
            "resources": [original], "outlinks": {}, "counters": {"outlinks": 0, "embeds": 0}})


def _filter_keeps(spec: str, row: dict[str, str]) -> bool:
    substring = spec.startswith("~")
    spec = spec.lstrip("~")
    negate = spec.startswith("!")
    name, _, pattern = spec.lstrip("!").partition(":")
    name = FIELDS[int(name)] if name.isdigit() else name
    value = row.get(name, "")
    hit = pattern in value if substring else re.fullmatch(pattern, value) is not None
    return hit != negate


def _collapse(spec: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    name, _, size = spec.partition(":")
    kept: list[dict[str, str]] = []
    previous = None
    for row in rows:
        value = row.get(name, "")[: int(size)] if size else row.get(name, "")
        if value != previous:
            kept.append(row)
        previous = value
    return kept


def _closest_sorted(closest: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    direction = closest[0] if closest[:1] in ("-", "^") else ""
    target = repaired(closest.lstrip("-^"))
    if direction == "-":
        rows = [r for r in rows if repaired(r["timestamp"]) <= target]
    elif direction == "^":
        rows = [r for r in rows if repaired(r["timestamp"]) >= target]
    return sorted(rows, key=lambda r: abs((repaired(r["timestamp"]) - target).total_seconds()))


def _link_header(base: str, capture: FakeCapture, history: list[FakeCapture]) -> str:
    def memento(c: FakeCapture, rel: str) -> str:
        return (f'<{base}/web/{c.timestamp}/{c.url}>; rel="{rel}"; '
                f'datetime="{format_datetime(c.captured_at, usegmt=True)}"')

    index = history.index(capture)
    links = [f'<{capture.url}>; rel="original"',
             f'<{base}/web/timemap/link/{capture.url}>; rel="timemap"; '
             'type="application/link-format"',
             f'<{base}/web/{capture.url}>; rel="timegate"', memento(history[0], "first memento")]
    if index > 0:
        links.append(memento(history[index - 1], "prev memento"))
    links.append(memento(capture, "memento"))
    if index + 1 < len(history):
        links.append(memento(history[index + 1], "next memento"))
    links.append(memento(history[-1], "last memento"))
    return ", ".join(links)


def _interval_s(text: str) -> float | None:
    """SPN2 timedelta: "120" (seconds) or "3d 5h 20m"; None when absent or malformed."""
    text = text.split(",")[0].strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)\s*([dhms])", text)
    return float(sum(int(n) * units[u] for n, u in parts)) if parts else None


@contextmanager
def serve_wayback(**config: Any) -> Iterator[FakeWayback]:
    """``with serve_wayback() as fake:`` a started fake, stopped afterwards."""
    fake = FakeWayback(**config)
    with fake:
        yield fake


def days_ago(days: float, *, now: datetime | None = None) -> str:
    """A 14-digit timestamp ``days`` before now (helper for SPN tests)."""
    return stamp((now or datetime.now(UTC)) - timedelta(days=days))
