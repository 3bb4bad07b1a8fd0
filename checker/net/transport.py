"""
The checker's HTTP/1.1 transport under httpx: asyncio connections, responses parsed by
httptools (llhttp, Node's parser, in C), so the checker keeps httpx's interface
(`httpx.AsyncClient`, `Request`, `Response`, its exceptions) and pays little for each request.

Why not a library's client: on the checker's benchmark (bench/bench_check.py: 5,000 URLs over
100 hosts, CPU-bound on two cores) httpx's own transport, httpcore over h11 and anyio, cost
about 1.1 ms of CPU per request, and aiohttp under httpx about 0.25 ms, much of it aiohttp's own
Python (sessions, tracing, timers, cookie and URL handling the checker does not use). The
benchmark's requests alone, in one process, cost 1.30 s of CPU through bare aiohttp on asyncio's
loop (1.25 s on uvloop: its Python dominated), 1.15 s through a bare asyncio protocol with this
parser, and 0.69 s through the same on uvloop (checker.run.eventloop). What a checker needs of a client is
small: one GET at a time per connection, keep-alive, a pool per host no larger than the host's
limit, bodies streamed raw (checker.net.fetch decodes and caps them), timeouts, and every failure
raised as httpx's exception for it.

What it keeps from httpx's own transport:

* **Exceptions**: the httpx exception httpx would raise, chained to the OS, TLS or DNS error
  (`ConnectError` from `ConnectionRefusedError`, `ssl.SSLError` or `socket.gaierror`;
  `ReadTimeout`; `RemoteProtocolError` for a malformed answer or "Server disconnected without
  sending a response."; `ReadError` for a body cut short), so checker.net.fetch's `failure_of()`
  stays the one place that turns errors into failures.
* **Timeouts**: `extensions["timeout"]` of the request: `connect` bounds resolving, connecting
  and the TLS handshake, `read` each wait for data (a server that drips bytes is bounded by
  checker.net.fetch's total time per URL). The pool timeout is not needed: `HostGate` never lets
  more requests at a host than its pool has connections.
* **Addresses**: names are resolved by `GuardedResolver`, which vets every address of the answer
  with `checker.net.client.forbidden_reason` (as `GuardedBackend` does for httpcore), and the
  connection goes to a vetted address, with Happy Eyeballs when there are several
  (aiohappyeyeballs, as in aiohttp: the next address after 250 ms of silence, families
  interleaved). IP literals are connected to as they are: checker.net.fetch
  vets them before every hop.
* **Bodies as they came**: no decompression, no cookies, no redirects, no headers beyond the
  request's.

Bounds: a response head over `MAX_HEAD_BYTES` (or one header line over `MAX_HEADER_LINE_BYTES`:
real sites send 20 KiB Content-Security-Policy lines) is a protocol error; at most
`_HIGH_WATER_BYTES` of body are buffered before reading pauses. A reused keep-alive connection
that the server closed just as the request went out is retried once on a new connection, as
browsers, httpcore and aiohttp do (only for GET and HEAD, which are safe to repeat). Informational
answers (100, 103) are skipped. The parser is lenient with the framing sloppy servers send (see
`_Connection.__init__`): a checker must read what they say, and nothing is forwarded.

Proxies stay with httpx: checker.net.client mounts httpx's own transports for the proxy variables,
so a proxied URL never reaches this transport. HTTP/2 stays with httpcore
(checker.net.httpcore_transport).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

import aiohappyeyeballs
import httptools
import httpx

from checker.net import client as _client  # resolve_host is looked up at call time (tests swap it)

MAX_HEAD_BYTES = 256 * 1024
MAX_HEADER_LINE_BYTES = 64 * 1024
_HIGH_WATER_BYTES = 256 * 1024
_REPEATABLE = frozenset({b"GET", b"HEAD"})
_NO_BODY_STATUSES = frozenset({204, 304})
_DISCONNECTED = "Server disconnected without sending a response."
_HAPPY_EYEBALLS_DELAY_S = 0.25  # httpcore's words: a reset


class GuardedResolver:
    """Resolves names and refuses those resolving to a forbidden address (any of them).

    A name that does not exist (NXDOMAIN) is remembered for `NEGATIVE_TTL_S`: link rot is
    often a whole domain gone, and each of its URLs would otherwise ask the DNS again.
    Temporary failures are not remembered. Answers are not cached: the system resolver (or the
    local cache in front of it) does that, and a connection outlives its lookup anyway.
    """

    NEGATIVE_TTL_S = 300.0

    def __init__(self, *, allow_private: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self._allow_private = allow_private
        self._clock = clock
        self._missing: dict[str, tuple[float, socket.gaierror]] = {}

    async def resolve(self, host: str, port: int) -> list[str]:
        """The vetted addresses of `host`; raises `socket.gaierror`, `ForbiddenAddress` or
        `OSError` (no address at all)."""
        missing = self._missing.get(host)
        if missing is not None and self._clock() < missing[0]:
            raise socket.gaierror(*missing[1].args)
        try:
            addresses = await _client.resolve_host(host, port)
        except socket.gaierror as exc:
            if exc.errno in _client.NO_SUCH_NAME_ERRNOS:
                self._missing[host] = (self._clock() + self.NEGATIVE_TTL_S, exc)
            raise
        for address in addresses:
            reason = _client.forbidden_reason(address, allow_private=self._allow_private)
            if reason is not None:
                raise _client.ForbiddenAddress(f"{host} resolves to {address}: {reason}")
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        return addresses


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: sends a request, then parses its answer as it arrives.

    The parser's callbacks fill in the answer; `wait()` returns when something new is there
    (the head, a piece of body, the end, an error) or the read timeout passed.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        # Lenient with what sloppy servers send (the page is there all the same): odd header
        # bytes, bare LF line ends, an unknown HTTP version, spaces after a chunk size, and both
        # Content-Length and chunked (chunked wins, as RFC 9112 says; the connection is then
        # not reused). Nothing is forwarded, so none of it can smuggle a request anywhere.
        self.parser.set_dangerous_leniencies(
            lenient_headers=True,
            lenient_optional_cr_before_lf=True,
            lenient_version=True,
            lenient_spaces_after_chunk_size=True,
            lenient_chunked_length=True,
        )
        self.closed = False
        self.busy = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_done = False
        self.done = False
        self.keep_alive = False
        self.ends_at_close = False
        self.mixed_framing = False
        self.skip_body = False
        self.error: BaseException | None = None
        self.received = 0
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.paused = False
        self._waiter: asyncio.Future[None] | None = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.busy or self.done:  # nothing was asked: a confused server
            self.closed = True
            if self.transport is not None:
                self.transport.close()
            return
        if not self.head_done:
            self.received += len(data)
            if self.received > MAX_HEAD_BYTES:
                self._fail(httpx.RemoteProtocolError(f"response head over {MAX_HEAD_BYTES} bytes"))
                return
        try:
            self.parser.feed_data(data)
            self._wake()  # even a byte of a head restarts the read timeout
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols unasked"))
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            if isinstance(cause, httpx.HTTPError):  # raised by one of our callbacks
                self._fail(cause)
            else:
                error = httpx.RemoteProtocolError(f"malformed response: {exc}")
                error.__cause__ = exc
                self._fail(error)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.busy or self.done or self.error is not None:
            return
        if self.head_done and self.ends_at_close and exc is None:
            self.done = True  # a body delimited by the end of the connection
        else:
            error: httpx.TransportError
            if not self.head_done and self.received == 0:
                error = httpx.RemoteProtocolError(_DISCONNECTED)
            else:
                error = httpx.ReadError("the server closed the connection mid-answer")
            error.__cause__ = exc  # a ConnectionResetError, for checker.net.fetch to read
            self.error = error
        self._wake()

    # -- httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) + len(value) > MAX_HEADER_LINE_BYTES:
            raise httpx.RemoteProtocolError(f"a header line over {MAX_HEADER_LINE_BYTES} bytes")
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # 100 Continue, 103 Early Hints: the real answer follows
            self.headers = []
            return
        self.status = status
        self.head_done = True
        if self.skip_body or status in _NO_BODY_STATUSES:
            self.done = True  # llhttp cannot know a HEAD answer has no body: stop here
        else:
            length = chunked = False
            for name, value in self.headers:
                lowered = name.lower()
                if lowered == b"content-length":
                    length = True
                elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            self.ends_at_close = not (length or chunked)
            self.mixed_framing = length and chunked
        self._wake()

    def on_message_begin(self) -> None:
        if self.done:  # a second answer to one request: the connection is out of step
            self.keep_alive = False

    def on_body(self, body: bytes) -> None:
        if self.skip_body:  # a server that sends a body after HEAD anyway
            return
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER_BYTES and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.head_done:
            self.done = True
            # Asked now: llhttp forgets the message's headers once it is complete.
            self.keep_alive = self.parser.should_keep_alive()
            self._wake()

    # -- the transport's side

    def send(self, data: bytes, *, skip_body: bool) -> None:
        self.busy = True
        self.skip_body = skip_body
        assert self.transport is not None
        self.transport.write(data)

    async def wait(self, timeout: float | None) -> None:
        """Until the parser has something new, an error, or `timeout` seconds of silence."""
        if self.error is not None:  # it came while nobody was waiting (say, mid-body)
            raise self.error
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = None if timeout is None else loop.call_later(timeout, self._time_out, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
        if self.error is not None:
            raise self.error

    def take(self) -> bytes:
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self.paused and self.buffered <= _HIGH_WATER_BYTES // 2 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return chunk

    def reusable(self) -> bool:
        # After HEAD the parser still expects the body the headers announce, and after both
        # framings the server may have meant the other one: neither connection is reused.
        return (
            self.done and self.keep_alive and not self.closed and not self.skip_body
            and not self.mixed_framing
        )

    def reset(self) -> None:
        """Ready for the next request on the same connection."""
        self.busy = self.head_done = self.done = self.keep_alive = self.ends_at_close = False
        self.mixed_framing = False
        self.status = self.received = self.buffered = 0
        self.headers = []
        self.chunks.clear()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _time_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            self.error = httpx.ReadTimeout("timed out waiting for the server")
            waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self.close()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Body(httpx.AsyncByteStream):
    """The body of an answer as it arrives; closing it returns the connection to the pool (when
    the whole body was read and the server keeps connections alive) or closes it."""

    __slots__ = ("_pool", "_connection", "_read_timeout", "_closed")

    def __init__(self, pool: _Pool, connection: _Connection, read_timeout: float | None) -> None:
        self._pool = pool
        self._connection = connection
        self._read_timeout = read_timeout
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while True:
            if connection.chunks:
                yield connection.take()
            elif connection.done:
                return
            else:
                await connection.wait(self._read_timeout)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.put_back(self._connection)


class _Pool:
    """The idle connections to one origin (scheme, host, port), newest last."""

    __slots__ = ("idle", "slots")

    def __init__(self, size: int) -> None:
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(size)

    def take_idle(self) -> _Connection | None:
        idle = self.idle
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    def put_back(self, connection: _Connection) -> None:
        if connection.reusable():
            connection.reset()
            self.idle.append(connection)
        else:
            connection.close()
        self.slots.release()

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 requests over at most `max_connections` connections per origin."""

    def __init__(
        self, *, ssl_context: _client.SSLContextSource, max_connections: int, allow_private: bool
    ) -> None:
        self._ssl_source = ssl_context
        self._ssl_context: ssl.SSLContext | None = None  # built for the first TLS connection
        self._max_connections = max_connections
        self._resolver = GuardedResolver(allow_private=allow_private)
        self._pools: dict[tuple[bytes, bytes, int], _Pool] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        tls = scheme == b"https"
        port = url.port or (443 if tls else 80)
        key = (scheme, url.raw_host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self._max_connections)
        timeouts = request.extensions.get("timeout") or {}
        connect_timeout = timeouts.get("connect")
        read_timeout = timeouts.get("read")
        method = request.method.encode("ascii")
        stream = request.stream
        # A body given whole (the checker's GETs: none) is joined without an async iteration.
        body = b"".join(stream) if isinstance(stream, httpx.ByteStream) else await request.aread()
        head = _request_head(method, request) + body
        skip_body = method == b"HEAD"

        await pool.slots.acquire()
        connection: _Connection | None = None
        try:
            connection = pool.take_idle()
            if connection is not None:
                connection.send(head, skip_body=skip_body)
                try:
                    await self._head_of(connection, read_timeout)
                except httpx.RemoteProtocolError as exc:
                    # Closed by the server just as it went out: a reused connection's hazard.
                    if str(exc) != _DISCONNECTED or method not in _REPEATABLE:
                        raise
                    connection.close()
                    connection = None
            if connection is None:
                connection = await self._connect(url, tls, port, connect_timeout)
                connection.send(head, skip_body=skip_body)
                await self._head_of(connection, read_timeout)
        except BaseException:
            if connection is not None:
                connection.close()
            pool.slots.release()
            raise
        return httpx.Response(
            connection.status,
            headers=connection.headers,
            stream=_Body(pool, connection, read_timeout),
            extensions={"http_version": b"HTTP/1.1"},
        )

    @staticmethod
    async def _head_of(connection: _Connection, read_timeout: float | None) -> None:
        while not connection.head_done:
            await connection.wait(read_timeout)

    async def _connect(
        self, url: httpx.URL, tls: bool, port: int, timeout: float | None
    ) -> _Connection:
        host = url.raw_host.decode("ascii")  # an international name in its ASCII form
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                if _is_ip_literal(host):
                    addresses = [host]
                else:
                    addresses = await self._resolver.resolve(host, port)
                ssl_context = self._tls_context() if tls else None
                server_hostname = host if tls else None
                if len(addresses) == 1:  # the loop's own connect: no race to run
                    _, connection = await loop.create_connection(
                        _Connection, addresses[0], port, ssl=ssl_context,
                        server_hostname=server_hostname,
                    )
                    return connection
                # Happy Eyeballs (RFC 8305), as browsers and aiohttp: the next address is tried
                # when one has not answered within 250 ms, families interleaved, so a name whose
                # IPv6 address is unreachable without a word still gets its IPv4 one.
                sock = await aiohappyeyeballs.start_connection(
                    [_address_info(address, port) for address in addresses],
                    happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY_S,
                )
                try:
                    _, connection = await loop.create_connection(
                        _Connection, sock=sock, ssl=ssl_context, server_hostname=server_hostname
                    )
                except BaseException:
                    sock.close()
                    raise
                return connection
        except _client.ForbiddenAddress:
            raise
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection to {host} within {timeout} s") from exc
        except OSError as exc:  # gaierror, SSLError, ConnectionRefusedError: chained for fetch
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = _client.ssl_context_of(self._ssl_source)
        return self._ssl_context

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        await asyncio.sleep(0)  # let the transports see their close before the loop ends


def _address_info(address: str, port: int) -> aiohappyeyeballs.AddrInfoType:
    """A vetted address as getaddrinfo would give it."""
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))


def _request_head(method: bytes, request: httpx.Request) -> bytes:
    lines = [method, b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)
