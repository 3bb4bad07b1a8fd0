"""
Loopback HTTP(S) servers described as route tables, for tests and benchmarks.

    with serve({"/ok": page(200, title="Annual report"), "/old": redirect(301, "/ok")}) as web:
        web.url("/ok")            # "http://127.0.0.1:<port>/ok"
        web.requests              # every request seen: method, target, path, headers
        web.max_active_requests   # the most requests it was answering at once

The server speaks HTTP/1.1 over raw sockets (one thread per connection, keep-alive supported),
because the checker must be tested against answers no polite server gives: malformed status
lines, resets, drips, endless bodies, gzip bombs. A *behaviour* is any callable taking an
`Exchange` (the parsed request plus the socket) and returning True when the connection may serve
another request; the factories below cover the common ones, and a test can write its own.

Paths are matched exactly, without the query string; anything else gets `default` (a 404 page).
`host` may be any loopback address (127.0.0.2, 127.0.0.3, ... work on Linux), so a test can have
several hosts. Pass `tls=` a server `ssl.SSLContext` (see `tls_server_context()`, made with
trustme) for HTTPS; it answers in HTTP/2 when the context offers h2 (`http2=True`). Nothing here
sleeps except where a behaviour is meant to be slow, and every wait ends when the server stops:
`hang()` and `drip()` return as soon as `close()` is called.
"""

from __future__ import annotations

import functools
import gzip
import ipaddress
import socket
import ssl
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

HeaderList = Iterable[tuple[str, str]]
Behaviour = Callable[["Exchange"], bool]

REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_MAX_HEADER_BYTES = 65_536
_MAX_WAIT_S = 60.0  # no behaviour keeps a thread longer than this, even if never stopped


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server read it (header names lower-cased; the last value wins)."""

    method: str
    target: str  # as sent: origin-form "/a?b", or absolute-form through a proxy
    path: str  # without the query string
    headers: Mapping[str, str]
    client: tuple[str, int]
    connection: int  # the server's number for the connection it came on
    version: str = "HTTP/1.1"  # or "HTTP/2"


class Meter:
    """Counts things in progress and remembers the most at once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.maximum = 0
        self.total = 0

    def __enter__(self) -> Meter:
        with self._lock:
            self.current += 1
            self.total += 1
            self.maximum = max(self.maximum, self.current)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.current -= 1

    def reset(self) -> None:
        with self._lock:
            self.maximum = self.current
            self.total = 0


class Exchange:
    """What a behaviour gets: the request, the socket to answer on, and the server."""

    def __init__(self, server: LocalServer, sock: socket.socket, request: RecordedRequest) -> None:
        self.server = server
        self.sock = sock
        self.request = request
        self._meters: list[Meter] = []

    def answered(self) -> None:
        """Stop counting this request as active. `respond()` calls it *before* sending, so a
        client that has its answer can never see the server still counting the request."""
        meters, self._meters = self._meters, []
        for meter in meters:
            meter.__exit__()

    @property
    def stopping(self) -> bool:
        return self.server.stopping.is_set()

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`; True if the server is stopping (the behaviour should end)."""
        return self.server.stopping.wait(seconds)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def respond(
        self, status: int, body: bytes = b"", headers: HeaderList = (), *, keep_alive: bool = True
    ) -> bool:
        """Send a complete response with Content-Length; returns whether to keep the connection."""
        keep_alive = keep_alive and self.request.headers.get("connection", "").lower() != "close"
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        names = set()
        for name, value in headers:
            head.append(f"{name}: {value}")
            names.add(name.lower())
        if "content-length" not in names:
            head.append(f"Content-Length: {len(body)}")
        if not keep_alive:
            head.append("Connection: close")
        self.answered()
        self.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        return keep_alive


# --------------------------------------------------------------------------- behaviours


def html_page(title: str | None = None, body: str = "", *, head: str = "") -> str:
    """A small HTML document."""
    title_tag = "" if title is None else f"<title>{title}</title>"
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{title_tag}{head}</head>'
        f"<body>{body}</body></html>"
    )


def page(
    status: int = 200,
    title: str | None = None,
    body: str | bytes | None = None,
    *,
    headers: HeaderList = (),
    content_type: str | None = "text/html; charset=utf-8",
) -> Behaviour:
    """A complete response. `body` as bytes is sent verbatim; as str it is the HTML <body>."""
    if isinstance(body, bytes):
        payload = body
    else:
        payload = html_page(title, body or "").encode("utf-8")
    fixed = list(headers)
    if content_type is not None:
        fixed.insert(0, ("Content-Type", content_type))

    def behaviour(exchange: Exchange) -> bool:
        return exchange.respond(status, payload, fixed)

    return behaviour


def redirect(status: int, location: str | None, *, headers: HeaderList = ()) -> Behaviour:
    """A redirect to `location` (relative or absolute); None sends the 3xx without Location."""
    fixed = list(headers)
    if location is not None:
        fixed.append(("Location", location))
    return page(status, body=b"", headers=fixed, content_type=None)


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The n-th request gets the n-th behaviour; the last one repeats (stateful, thread-safe)."""
    if not behaviours:
        raise ValueError("sequence() needs at least one behaviour")
    lock = threading.Lock()
    count = 0

    def behaviour(exchange: Exchange) -> bool:
        nonlocal count
        with lock:
            index = min(count, len(behaviours) - 1)
            count += 1
        return behaviours[index](exchange)

    return behaviour


def retry_after(value: str, then: Behaviour, *, times: int = 1, status: int = 429) -> Behaviour:
    """`times` answers of `status` with `Retry-After: value`, then `then`."""
    refusal = page(status, title="Slow down", headers=[("Retry-After", value)])
    return sequence(*([refusal] * times), then)


def slow(seconds: float, then: Behaviour) -> Behaviour:
    """Wait `seconds` (the server is slow, e.g. to measure concurrency), then `then`."""

    def behaviour(exchange: Exchange) -> bool:
        if exchange.wait(seconds):
            return False
        return then(exchange)

    return behaviour


def hang() -> Behaviour:
    """Read the request and never answer; ends when the server stops."""

    def behaviour(exchange: Exchange) -> bool:
        exchange.wait(_MAX_WAIT_S)
        return False

    return behaviour


def drip(
    interval_s: float = 0.05, *, in_status_line: bool = False, content_type: str = "text/html"
) -> Behaviour:
    """One byte every `interval_s`: of the body (after complete headers), or of the status line.

    Fast enough that no read timeout fires; only a total time limit ends it. Stops when the
    client goes away or the server stops.
    """

    def behaviour(exchange: Exchange) -> bool:
        if in_status_line:
            exchange.send(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        else:
            exchange.send(
                f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
                "Content-Length: 100000000\r\n\r\n<html><head><title>".encode()
            )
        for _ in range(int(_MAX_WAIT_S / max(interval_s, 0.001))):
            if exchange.wait(interval_s):
                break
            exchange.send(b"x")
        return False

    return behaviour


def endless(
    *, content_type: str = "text/html", chunk_bytes: int = 16_384, max_bytes: int = 1 << 30
) -> Behaviour:
    """A body with no end (close-delimited), until the client goes away (bounded by max_bytes)."""
    chunk = (b"<p>" + b"endless " * (chunk_bytes // 8))[:chunk_bytes]

    def behaviour(exchange: Exchange) -> bool:
        exchange.send(f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n\r\n".encode())
        sent = 0
        while sent < max_bytes and not exchange.stopping:
            exchange.send(chunk)
            sent += len(chunk)
        return False

    return behaviour


@functools.lru_cache(maxsize=4)
def gzip_bomb_payload(decoded_bytes: int) -> bytes:
    """gzip of an HTML page padded with spaces to `decoded_bytes` (about 1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(b"<html><head><title>Bomb</title></head><body>")]
    block = b" " * (1 << 20)
    for _ in range(decoded_bytes // len(block)):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    return b"".join(parts)


def gzip_bomb(decoded_bytes: int = 64 << 20) -> Behaviour:
    """A small gzip body that inflates to `decoded_bytes`."""
    payload = gzip_bomb_payload(decoded_bytes)
    return page(200, body=payload, headers=[("Content-Encoding", "gzip")], content_type="text/html")


def gzipped(status: int, html: str, *, content_type: str = "text/html; charset=utf-8") -> Behaviour:
    """An ordinary page sent with Content-Encoding: gzip."""
    return page(
        status,
        body=gzip.compress(html.encode("utf-8")),
        headers=[("Content-Encoding", "gzip")],
        content_type=content_type,
    )


def malformed(status_line: bytes = b"HTTP/1.1 OK-ish\r\n\r\n") -> Behaviour:
    """A status line no HTTP client can parse, then close."""

    def behaviour(exchange: Exchange) -> bool:
        exchange.send(status_line)
        return False

    return behaviour


def reset() -> Behaviour:
    """Read the request, then reset the connection (RST, not FIN)."""

    def behaviour(exchange: Exchange) -> bool:
        exchange.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise _Reset

    return behaviour


def close_silently() -> Behaviour:
    """Read the request and close the connection without a byte of answer."""
    return lambda exchange: False


def forward_proxy() -> Behaviour:
    """A plain HTTP forward proxy for absolute-form requests (no CONNECT), loopback only.

    Records what it forwards in its own request log; refuses (502) targets that are not loopback
    addresses, so a test can never reach anything beyond this machine through it.
    """

    def behaviour(exchange: Exchange) -> bool:
        request = exchange.request
        parts = urlsplit(request.target)
        host = parts.hostname or ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if parts.scheme != "http" or not loopback:
            return exchange.respond(502, b"loopback http only", keep_alive=False)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        lines = [f"{request.method} {path} HTTP/1.1"]
        for name, value in request.headers.items():
            if name not in ("connection", "proxy-connection", "keep-alive"):
                lines.append(f"{name}: {value}")
        lines.append("Connection: close")
        with socket.create_connection((host, parts.port or 80), timeout=10) as upstream:
            upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            while chunk := upstream.recv(65_536):
                exchange.send(chunk)
        return False

    return behaviour


def standard_routes() -> dict[str, Behaviour]:
    """Stateless routes that a shared session server can offer every test."""
    return {
        "/ok": page(200, title="Annual report 2019", body="<h1>Annual report</h1><p>Figures.</p>"),
        "/gone": page(410, title="Gone"),
        "/missing": page(404, title="Page not found"),
        "/soft-404": page(200, title="Page not found", body="<p>Sorry, nothing here.</p>"),
        "/moved": redirect(301, "/ok"),
        "/found": redirect(302, "/ok"),
        "/loop": redirect(302, "/loop-back"),
        "/loop-back": redirect(302, "/loop"),
        "/forbidden": page(403, title="Access denied"),
        "/unavailable": page(503, title="Service unavailable"),
        "/pdf": page(200, body=b"%PDF-1.4\n" + b"0" * 200_000, content_type="application/pdf"),
        "/slow": hang(),
    }


class _Reset(Exception):
    """Raised by reset() to make the connection close abortively."""


# --------------------------------------------------------------------------- the server


class LocalServer:
    """A threaded HTTP/1.1 server on a loopback address and an ephemeral port."""

    def __init__(
        self,
        routes: Mapping[str, Behaviour] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        default: Behaviour | None = None,
        meters: Sequence[Meter] = (),
    ) -> None:
        self.routes: dict[str, Behaviour] = dict(routes or {})
        self.default = default if default is not None else page(404, title="Not found")
        self.tls = tls
        self.stopping = threading.Event()
        self.requests_meter = Meter()
        self.connections_meter = Meter()
        self._extra_meters = tuple(meters)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._hits: Counter[str] = Counter()
        self._open: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(512)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop, daemon=True, name=f"serve {host}"
        )
        self._started = False

    # -- addresses

    @property
    def scheme(self) -> str:
        return "http" if self.tls is None else "https"

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    # -- what it saw

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits[path]

    @property
    def max_active_requests(self) -> int:
        return self.requests_meter.maximum

    @property
    def max_open_connections(self) -> int:
        return self.connections_meter.maximum

    @property
    def connections_accepted(self) -> int:
        return self.connections_meter.total

    def reset_stats(self) -> None:
        with self._lock:
            self._requests.clear()
            self._hits.clear()
        self.requests_meter.reset()
        self.connections_meter.reset()

    # -- life cycle

    def start(self) -> LocalServer:
        if not self._started:
            self._started = True
            self._acceptor.start()
        return self

    def close(self) -> None:
        """Stop accepting, end every behaviour's wait, close every connection, join threads."""
        self.stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            open_sockets = list(self._open)
            threads = list(self._threads)
        for sock in open_sockets:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass
        if self._started:
            self._acceptor.join(timeout=2)
        for thread in threads:
            thread.join(timeout=2)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        number = 0
        while not self.stopping.is_set():
            try:
                conn, address = self._listener.accept()
            except OSError:
                return
            number += 1
            thread = threading.Thread(
                target=self._serve_connection, args=(conn, address, number), daemon=True
            )
            with self._lock:
                self._open.add(conn)
                self._threads.add(thread)
            thread.start()

    def _serve_connection(self, conn: socket.socket, address: Any, number: int) -> None:
        raw = conn
        meters = (self.connections_meter,)
        try:
            with _entered(meters):
                if self.tls is not None:
                    conn.settimeout(5)
                    conn = self.tls.wrap_socket(conn, server_side=True)
                    conn.settimeout(None)
                    if conn.selected_alpn_protocol() == "h2":  # type: ignore[attr-defined]
                        self._serve_h2(conn, address, number)
                        return
                buffer = b""
                while not self.stopping.is_set():
                    parsed = _read_request(conn, buffer)
                    if parsed is None:
                        return
                    method, target, headers, buffer = parsed
                    request = RecordedRequest(
                        method=method,
                        target=target,
                        path=urlsplit(target).path or "/",
                        headers=headers,
                        client=(str(address[0]), int(address[1])),
                        connection=number,
                    )
                    keep = self._dispatch(Exchange(self, conn, request))
                    if not keep:
                        return
        except (_Reset, OSError, ssl.SSLError, ValueError):
            pass  # the client went away, reset() asked for it, or the server is stopping
        finally:
            with self._lock:
                self._open.discard(raw)
                self._threads.discard(threading.current_thread())
            try:
                conn.close()
            except OSError:
                pass

    def _dispatch(self, exchange: Exchange) -> bool:
        request = exchange.request
        with self._lock:
            self._requests.append(request)
            self._hits[request.path] += 1
        behaviour = self.routes.get(request.path, self.default)
        exchange._meters = [self.requests_meter, *self._extra_meters]
        for meter in exchange._meters:
            meter.__enter__()
        try:
            return behaviour(exchange)
        finally:
            exchange.answered()

    def _serve_h2(self, conn: socket.socket, address: Any, number: int) -> None:
        """HTTP/2 (negotiated by ALPN): streams are answered one after another, in this thread.

        Only behaviours that answer through `Exchange.respond()` work here (page, redirect,
        sequence, slow, retry_after); raw-socket ones (drip, reset, ...) are HTTP/1.1 only.
        """
        import h2.config
        import h2.connection
        import h2.events

        connection = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        connection.initiate_connection()
        conn.sendall(connection.data_to_send())
        while not self.stopping.is_set():
            data = conn.recv(65_536)
            if not data:
                return
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    fields = {str(k): str(v) for k, v in event.headers or []}
                    target = fields.get(":path", "/")
                    request = RecordedRequest(
                        method=fields.get(":method", "GET"),
                        target=target,
                        path=urlsplit(target).path or "/",
                        headers={"host": fields.get(":authority", "")}
                        | {k: v for k, v in fields.items() if not k.startswith(":")},
                        client=(str(address[0]), int(address[1])),
                        connection=number,
                        version="HTTP/2",
                    )
                    assert event.stream_id is not None
                    self._dispatch(_H2Exchange(self, conn, request, connection, event.stream_id))
                elif isinstance(event, h2.events.ConnectionTerminated):
                    return
            conn.sendall(connection.data_to_send())


class _H2Exchange(Exchange):
    """An exchange on one HTTP/2 stream: `respond()` works, raw `send()` does not."""

    def __init__(
        self,
        server: LocalServer,
        sock: socket.socket,
        request: RecordedRequest,
        connection: Any,
        stream_id: int,
    ) -> None:
        super().__init__(server, sock, request)
        self._h2 = connection
        self._stream_id = stream_id

    def send(self, data: bytes) -> None:
        raise NotImplementedError("raw bytes cannot be sent on an HTTP/2 stream")

    def respond(
        self, status: int, body: bytes = b"", headers: HeaderList = (), *, keep_alive: bool = True
    ) -> bool:
        fields = [(":status", str(status))]
        fields += [(name.lower(), value) for name, value in headers]
        if not any(name == "content-length" for name, _ in fields):
            fields.append(("content-length", str(len(body))))
        if len(body) > self._h2.local_flow_control_window(self._stream_id):
            raise NotImplementedError("bodies beyond one flow-control window (64 KiB)")
        self._h2.send_headers(self._stream_id, fields, end_stream=not body)
        size = self._h2.max_outbound_frame_size
        for offset in range(0, len(body), size):
            last = offset + size >= len(body)
            self._h2.send_data(self._stream_id, body[offset : offset + size], end_stream=last)
        self.answered()
        self.sock.sendall(self._h2.data_to_send())
        return True


@contextmanager
def _entered(meters: Iterable[Meter]) -> Iterator[None]:
    entered = list(meters)
    for meter in entered:
        meter.__enter__()
    try:
        yield
    finally:
        for meter in entered:
            meter.__exit__()


def _read_request(
    conn: socket.socket, buffer: bytes
) -> tuple[str, str, dict[str, str], bytes] | None:
    """One request (method, target, headers, rest of the buffer), or None at end of stream."""
    while b"\r\n\r\n" not in buffer:
        data = conn.recv(65_536)
        if not data:
            return None
        buffer += data
        if len(buffer) > _MAX_HEADER_BYTES:
            return None
    head, buffer = buffer.split(b"\r\n\r\n", 1)
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(buffer) < length:  # a request body is read and ignored
        data = conn.recv(65_536)
        if not data:
            return None
        buffer += data
    return method, target, headers, buffer[length:]


@contextmanager
def serve(
    routes: Mapping[str, Behaviour] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: ssl.SSLContext | None = None,
    default: Behaviour | None = None,
    meters: Sequence[Meter] = (),
) -> Iterator[LocalServer]:
    """Run a `LocalServer` for the duration of a `with` block."""
    server = LocalServer(routes, host=host, port=port, tls=tls, default=default, meters=meters)
    with server:
        yield server


def tls_server_context(ca: Any, *names: str, http2: bool = False) -> ssl.SSLContext:
    """A server TLS context with a certificate from the trustme `ca` for `names`.

    With `http2`, the server offers h2 by ALPN and answers HTTP/2 clients in HTTP/2.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("localhost", "127.0.0.1", "::1"))).configure_cert(context)
    context.set_alpn_protocols(["h2", "http/1.1"] if http2 else ["http/1.1"])
    return context


@dataclass
class Hosts:
    """Several servers on several loopback addresses, one route table: "several hosts"."""

    servers: list[LocalServer] = field(default_factory=list)

    def __iter__(self) -> Iterator[LocalServer]:
        return iter(self.servers)

    def __len__(self) -> int:
        return len(self.servers)

    def __getitem__(self, index: int) -> LocalServer:
        return self.servers[index]


@contextmanager
def serve_hosts(
    routes: Mapping[str, Behaviour] | Callable[[], Mapping[str, Behaviour]],
    count: int,
    *,
    first: int = 1,
    tls: ssl.SSLContext | None = None,
    meters: Sequence[Meter] = (),
) -> Iterator[Hosts]:
    """`count` servers on 127.0.0.<first>, 127.0.0.<first+1>, ...

    `routes` may be a function, called once per server, for stateful behaviours.
    """
    hosts = Hosts()
    try:
        for index in range(count):
            table = routes() if callable(routes) else routes
            server = LocalServer(table, host=f"127.0.0.{first + index}", tls=tls, meters=meters)
            hosts.servers.append(server.start())
        yield hosts
    finally:
        for server in hosts.servers:
            server.close()
