"""
httpx's own transport (httpcore) with the checker's address guard, for HTTP/2.

The checker sends HTTP/1.1 through its own transport (checker.net.transport); HTTP/2, which that
does not speak, goes through httpcore, whose network backend here resolves names itself and vets every
address of the answer (see checker.net.client for the rules). Imported only when HTTP/2 is asked
for: httpcore (with h2 and hpack) is a tenth of a second of start-up.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import anyio.abc
import httpcore
import httpx
from httpcore._backends.anyio import AnyIOStream
from httpcore._utils import is_socket_readable

from checker.net import client as _client  # resolve_host is looked up at call time (tests swap it)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves names itself and refuses forbidden addresses."""

    def __init__(
        self, *, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._allow_private = allow_private
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await _client.resolve_host(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:  # socket.gaierror: checker.net.fetch tells NXDOMAIN from the rest
            raise httpcore.ConnectError(str(exc)) from exc
        for address in addresses:
            reason = _client.forbidden_reason(address, allow_private=self._allow_private)
            if reason is not None:
                raise _client.ForbiddenAddress(f"{host} resolves to {address}: {reason}")
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        last_error: Exception | None = None
        for address in addresses:  # in order, like a browser without happy eyeballs
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
                return _QuickStream.wrap(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used by the checker")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _QuickStream(AnyIOStream):
    """httpcore's anyio stream, with the raw socket looked up once.

    httpcore asks every idle connection of a pool `get_extra_info("is_readable")` each time it
    assigns a request, and anyio answers by building a dict of every attribute of the stream:
    that was a tenth of the client's CPU per URL.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._socket = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)

    @classmethod
    def wrap(cls, stream: httpcore.AsyncNetworkStream) -> httpcore.AsyncNetworkStream:
        return cls(stream._stream) if type(stream) is AnyIOStream else stream

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return is_socket_readable(self._socket)  # None counts as readable (closed)
        if info == "socket":
            return self._socket
        return super().get_extra_info(info)

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _QuickStream.wrap(await super().start_tls(ssl_context, server_hostname, timeout))


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on `GuardedBackend`.

    httpx does not take a network backend, so the pool it built is replaced by the same pool
    with ours (httpx 0.28 keeps it in `_pool`; tests cover the swap).
    """

    def __init__(
        self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits, http2: bool, allow_private: bool
    ) -> None:
        super().__init__(verify=ssl_context, limits=limits, http2=http2)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=GuardedBackend(allow_private=allow_private),
        )
