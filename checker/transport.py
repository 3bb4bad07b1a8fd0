"""
An httpx transport that sends requests with aiohttp: the checker keeps httpx's interface
(`httpx.AsyncClient`, `Request`, `Response`, its exceptions) and gets aiohttp's speed.

Why: on the checker's benchmark (bench/bench_check.py: 5,000 URLs over 100 hosts) httpx's own
transport, httpcore over h11 and anyio, cost about 1.1 ms of CPU per request, most of it in h11
and in the pool polling idle sockets; aiohttp, whose HTTP parser is in C, costs about 0.25 ms,
and httpx's client layer on top adds 0.05 ms. The `httpx-aiohttp` package does the same, but
0.2.0 sent redirected GETs with `Transfer-Encoding: chunked` and an empty body (some servers
answer 400), and maps errors more coarsely than checker.fetch needs.

What the transport keeps from httpx's:

* **Exceptions**: every aiohttp error is raised as the httpx exception httpx's own transport
  would raise (`map_errors()`), chained to the original, so checker.fetch's `failure_of()` stays
  the one place that turns errors into failures (it reads the OS error, gaierror or SSL error
  from the chain).
* **Timeouts**: the request's httpx timeouts (`extensions["timeout"]`) become aiohttp's
  `sock_connect` and `sock_read`; the pool timeout is not needed, because `HostGate` never lets
  more requests at a host than its pool has connections.
* **Addresses**: names are resolved by `GuardedResolver`, which vets every address of the answer
  with `checker.client.forbidden_reason`, as `GuardedBackend` does for httpcore. aiohttp skips
  the resolver for IP literals, which checker.fetch vets before every hop anyway.
* **Bodies as they came**: no decompression (checker.fetch decodes under its own cap), no cookie
  jar, no redirects, no added headers beyond those of the request.

Proxies stay with httpx: checker.client mounts httpx's own transports for the proxy variables,
so a proxied URL never reaches this transport. HTTP/2 stays with httpcore too (aiohttp speaks
HTTP/1.1 only).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from checker import client as _client  # resolve_host is looked up at call time (tests swap it)

_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
_READ_CHUNK_BYTES = 65_536
_MAX_HEADER_LINE_BYTES = 65_536


def _text(value: bytes) -> str:
    """A request header as aiohttp wants it, text that it encodes back as UTF-8: the same bytes
    for the ASCII (or UTF-8) that httpx produces, a replacement character for anything else."""
    return value.decode("utf-8", "replace")


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that refuses names resolving to a forbidden address (any of them).

    A name that does not exist (NXDOMAIN) is remembered for `NEGATIVE_TTL_S`: link rot is
    often a whole domain gone, and each of its URLs would otherwise ask the DNS again (aiohttp
    caches answers, not their absence). Temporary failures are not remembered.
    """

    NEGATIVE_TTL_S = 300.0

    def __init__(self, *, allow_private: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self._allow_private = allow_private
        self._clock = clock
        self._missing: dict[str, tuple[float, socket.gaierror]] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
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
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=_NUMERIC,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass


@contextmanager
def map_errors(*, connecting: bool) -> Iterator[None]:
    """Raise aiohttp's errors as the httpx exceptions httpx's own transport would raise.

    `connecting` is True until the response head has arrived (a disconnect then means "closed
    without sending a response", a timeout is the connect timeout only if aiohttp says so).
    """
    try:
        yield
    except _client.ForbiddenAddress:
        raise
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
    except (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
    except TimeoutError as exc:  # aiohttp's own (the caller's deadlines arrive as cancellation)
        raise (httpx.ConnectTimeout if connecting else httpx.ReadTimeout)(str(exc)) from exc
    except aiohttp.ServerDisconnectedError as exc:
        if connecting:  # httpcore's words, which checker.fetch reads as a reset
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc
        raise httpx.ReadError("the server closed the connection in the middle of the body") from exc
    except aiohttp.ClientConnectorError as exc:  # DNS, refused, TLS: the OS error is chained
        raise httpx.ConnectError(str(exc)) from exc
    except aiohttp.ClientPayloadError as exc:  # mostly a body cut short: a dropped connection
        raise httpx.ReadError(str(exc)) from exc
    except aiohttp.ClientResponseError as exc:  # a malformed status line or header
        raise httpx.RemoteProtocolError(exc.message or str(exc)) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.InvalidURL(str(exc)) from exc
    except aiohttp.ClientOSError as exc:  # reset, broken pipe: the OS error is chained
        raise (httpx.ConnectError if connecting else httpx.ReadError)(str(exc)) from exc
    except aiohttp.ClientError as exc:
        raise httpx.TransportError(f"{type(exc).__name__}: {exc}") from exc


class _Body(httpx.AsyncByteStream):
    """An aiohttp response body as an httpx stream; closing it returns the connection."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        while True:
            with map_errors(connecting=False):
                chunk = await content.readany()
            if not chunk:
                return
            yield chunk

    async def aclose(self) -> None:
        # release() keeps the connection only if the body was read to its end.
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 requests through one aiohttp session of at most `max_connections` connections.

    The session is created on first use, inside the event loop that uses it.
    """

    def __init__(
        self, *, ssl_context: ssl.SSLContext, max_connections: int, allow_private: bool
    ) -> None:
        self._ssl_context = ssl_context
        self._max_connections = max_connections
        self._allow_private = allow_private
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, Any], aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            ssl=self._ssl_context,
            resolver=GuardedResolver(allow_private=self._allow_private),
        )
        return aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            read_bufsize=_READ_CHUNK_BYTES,
            timeout=aiohttp.ClientTimeout(total=None),
            # aiohttp's 8 KiB per header line turns away real sites with a long
            # Content-Security-Policy or Set-Cookie; still bounded.
            max_line_size=_MAX_HEADER_LINE_BYTES,
            max_field_size=_MAX_HEADER_LINE_BYTES,
        )

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        given = request.extensions.get("timeout", {})
        key = (given.get("connect"), given.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, sock_connect=key[0], sock_read=key[1]
            )
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session
        if session is None:
            session = self._session = self._open()
        with map_errors(connecting=True):
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=[(_text(name), _text(value)) for name, value in request.headers.raw],
                data=request.content or None,
                allow_redirects=False,
                timeout=self._timeout(request),
            )
        version = response.version or aiohttp.HttpVersion11
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            extensions={"http_version": b"HTTP/%d.%d" % (version.major, version.minor)},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await asyncio.sleep(0)  # let aiohttp's transports see their close before the loop ends
