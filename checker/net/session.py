"""
The HTTP clients of `citewatch check`: aiohttp sessions, one per host, behind one address guard.

Each host gets its own `aiohttp.ClientSession` over its own `TCPConnector`, whose pool is sized to
the host's limit (`HostGate` never lets more requests at a host than that), so closing a host's
client closes its connections and idle sockets never pile up over a run of thousands of hosts.
aiohttp does the HTTP/1.1 (llhttp, lenient about the framing sloppy servers send), keep-alive,
Happy Eyeballs (the next address after 250 ms of silence, families interleaved), TLS with the
name of the URL (a trailing dot dropped) and proxies. checker.net.fetch sends one GET at a time
per connection, with redirects, cookies and decompression off: it follows redirects by hand,
carries cookies along one chain, and decodes bodies itself to cap them.

Why aiohttp and not our own client or httpx's (issue 13): citewatch's own HTTP/1.1 client on
httptools saved about 0.15 ms of CPU per request and carried defects that a client library with
years of field reports had long fixed (unbounded trailers, paused bodies and stray bytes on
reused connections, the trailing dot in TLS names: see the regression tests at the end of
tests/test_checker_http.py); httpcore over h11 cost about 1.1 ms per request. There is no
HTTP/2: aiohttp speaks HTTP/1.1 only, as every server a citation points to does (the README
says why the `--http2` option went).

Kept from before: ONE `ssl.SSLContext` for every client (building one loads the whole CA bundle,
~20 ms and a lot of memory), built only when the first TLS connection needs it, and this module
(with aiohttp) imported only when the first client is built; no cookie jar (`DummyCookieJar`); no
DNS cache in aiohttp (the system resolver or the cache in front of it does that, and our guard
must see every answer). aiohttp repeats a GET once when a connection closes before any answer
(RFC 9112 allows it for safe requests; there is no public switch), so a server that hangs up
silently sees two requests per attempt.

The environment: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case) are read
by `urllib.request.getproxies()` and `proxy_bypass()` (the semantics requests and aiohttp's
`trust_env` use), once per host client. Only http:// and https:// proxies are supported (aiohttp
has no SOCKS). The CA bundle comes from `SSL_CERT_FILE`, else `REQUESTS_CA_BUNDLE`, and
`SSL_CERT_DIR`, else certifi (`build_ssl_context()`).

Addresses: link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254,
Alibaba's 100.100.100.200) are never connected to, and private or loopback ones only when
`settings.allow_private`. The check sits in aiohttp's resolver hook (`GuardedResolver`, an
`aiohttp.abc.AbstractResolver` given to every `TCPConnector`): names are looked up by the
injected `Lookup` (`settings.resolver`, default `resolve_host()`), every address of the answer is
vetted, and aiohttp connects to the vetted addresses only, so a redirect, a DNS answer or a
rebinding between check and connect cannot slip past it (TLS still verifies the certificate
against the name). IP literals never reach a resolver, so checker.net.fetch vets them before
every hop. Limits: when a proxy is configured, the proxy resolves names (the proxy's own name is
not vetted), so only literal IP addresses in URLs can be vetted; and a *connection* is vetted,
not each request on it, which is enough because a connection stays bound to its address.

`make_client()` is the one place that builds a client (`Fetcher(client_factory=...)` takes any
function with its signature).
"""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import aiohttp
import aiohttp.abc

from checker.net.client import (
    NO_SUCH_NAME_ERRNOS,
    ForbiddenAddress,
    Lookup,
    forbidden_reason,
    request_headers,
    resolve_host,
)

if TYPE_CHECKING:
    from checker.settings import CheckSettings

# Bound on a header line: real sites send 20 KiB Content-Security-Policy lines (aiohttp's default
# is 8 KiB). The count of header and trailer lines keeps aiohttp's own bound (128).
MAX_HEADER_LINE_BYTES = 64 * 1024
HAPPY_EYEBALLS_DELAY_S = 0.25  # as browsers and aiohttp's default


class ClientFactory(Protocol):
    """The signature of `make_client`, for plugging in another client builder."""

    def __call__(
        self, host: str, settings: CheckSettings, *, resolver: aiohttp.abc.AbstractResolver
    ) -> HostClient: ...


class GuardedResolver(aiohttp.abc.AbstractResolver):
    """aiohttp's resolver hook: looks names up and refuses those resolving to a forbidden
    address (any of them), so aiohttp only ever connects to vetted addresses.

    A name that does not exist (NXDOMAIN) is remembered for `NEGATIVE_TTL_S`: link rot is
    often a whole domain gone, and each of its URLs would otherwise ask the DNS again.
    Temporary failures are not remembered, and answers are not cached. `trusted` names (the
    proxies of the environment) are looked up but not vetted: the user chose them. One resolver
    serves every host client of a Fetcher.
    """

    NEGATIVE_TTL_S = 300.0

    def __init__(
        self,
        *,
        allow_private: bool,
        lookup: Lookup | None = None,
        clock: Callable[[], float] = time.monotonic,
        trusted: frozenset[str] = frozenset(),
    ) -> None:
        self._allow_private = allow_private
        self._lookup = lookup if lookup is not None else resolve_host
        self._clock = clock
        self._trusted = trusted
        self._missing: dict[str, tuple[float, socket.gaierror]] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        """The vetted addresses of `host`, as aiohttp wants them (`family` is ignored: aiohttp
        asks for AF_UNSPEC and gets both families, for Happy Eyeballs)."""
        return [
            aiohttp.abc.ResolveResult(
                hostname=host, host=address, port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST,
            )
            for address in await self.addresses(host, port)
        ]

    async def addresses(self, host: str, port: int) -> list[str]:
        """The vetted addresses of `host`; raises `socket.gaierror`, `ForbiddenAddress` or
        `OSError` (no address at all)."""
        missing = self._missing.get(host)
        if missing is not None and self._clock() < missing[0]:
            raise socket.gaierror(*missing[1].args)
        try:
            addresses = await self._lookup(host, port)
        except socket.gaierror as exc:
            if exc.errno in NO_SUCH_NAME_ERRNOS:
                self._missing[host] = (self._clock() + self.NEGATIVE_TTL_S, exc)
            raise
        if host.rstrip(".") not in self._trusted:
            for address in addresses:
                reason = forbidden_reason(address, allow_private=self._allow_private)
                if reason is not None:
                    raise ForbiddenAddress(f"{host} resolves to {address}: {reason}")
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        return addresses

    async def close(self) -> None:
        pass


def environment_proxies() -> dict[str, str]:
    """The proxies of the environment by scheme ("http", "https", "all"), as urllib reads them."""
    return {
        scheme: url for scheme, url in urllib.request.getproxies().items()
        if scheme in ("http", "https", "all")
    }


def proxy_hosts(proxies: Mapping[str, str]) -> frozenset[str]:
    """The names of the proxies, which the address guard lets through."""
    return frozenset(filter(None, (urlsplit(url).hostname for url in proxies.values())))


class HostClient:
    """One host's aiohttp session (which carries the host's request headers) and its proxies."""

    __slots__ = ("session", "_proxies")

    def __init__(self, session: aiohttp.ClientSession, proxies: Mapping[str, str | None]) -> None:
        self.session = session
        self._proxies = proxies

    def proxy_for(self, scheme: str) -> str | None:
        """The proxy for a URL of this host with this scheme, or None to connect directly."""
        return self._proxies.get(scheme)

    async def aclose(self) -> None:
        await self.session.close()


def _host_proxies(host: str) -> dict[str, str | None]:
    proxies = environment_proxies()
    if not proxies or urllib.request.proxy_bypass(host):  # NO_PROXY
        return {}
    return {scheme: proxies.get(scheme) or proxies.get("all") for scheme in ("http", "https")}


def make_client(
    host: str, settings: CheckSettings, *, resolver: aiohttp.abc.AbstractResolver
) -> HostClient:
    """The client for one host: pool sized to the per-host limit, no redirects, no cookies, no
    decompression, every name through `resolver` (the address guard).

    Host-specific headers live on the host's own session, so a redirect to another host never
    carries them along. Call within the event loop that will use it.
    """
    size = settings.per_host_for(host)
    connector = aiohttp.TCPConnector(
        limit=size,
        resolver=resolver,
        use_dns_cache=False,  # the guard sees every answer; the system caches
        happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY_S,
        interleave=1,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        headers=request_headers(settings, host),
        timeout=aiohttp.ClientTimeout(
            total=None,  # checker.net.fetch bounds a whole URL itself
            connect=settings.connect_timeout_s,  # lookup, connect and TLS handshake
            sock_read=settings.timeout_s,  # each wait for data
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,  # checker.net.fetch decodes with a cap (gzip bombs)
        trust_env=False,  # proxies are chosen per host below, once
        requote_redirect_url=False,
        max_line_size=MAX_HEADER_LINE_BYTES,
        max_field_size=MAX_HEADER_LINE_BYTES,
    )
    return HostClient(session, _host_proxies(host))
