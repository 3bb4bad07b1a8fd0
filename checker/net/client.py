"""
The HTTP clients of `citewatch check`: one shared TLS context, one httpx client per host.

Each host's client is an `httpx.AsyncClient` (headers, timeouts, proxy mounts: httpx is the
interface) over a transport with its own connection pool sized to the host's limit:
checker.net.transport's own for HTTP/1.1, the default, or httpcore's for HTTP/2
(checker.net.httpcore_transport). Measured on bench/bench_check.py (5,000 URLs over 100 hosts):
httpcore over h11 cost about 1.1 ms of CPU per request, aiohttp about 0.25 ms, ours less still
(checker.net.transport says how much). checker.net.fetch sends through `CheckerClient.transport_for()`,
so httpx's client machinery for auth, redirects and hooks (which the checker does not use) is
skipped.

Why one pool per host: a pool keeps its connections and its waiting requests in lists scanned on
every request (httpcore's did), so one big pool behind one global semaphore costs time in
proportion to connections × queued requests (17–102 s for the benchmark's 5,000 URLs, against
6–7 s for small per-host pools). A per-host pool sized to the per-host limit never queues more
than that limit, because `HostGate` admits no more.

Cheap wins: ONE `ssl.SSLContext` for every client (building one loads the whole CA bundle:
~20 ms and a lot of memory each time), no cookie jar (httpx parses every `Set-Cookie` through
`http.cookiejar`, and the checker wants no state between URLs anyway; checker.net.fetch carries
cookies along one redirect chain by hand), and redirects followed by hand.

The environment: httpx honours `HTTP(S)_PROXY`, `ALL_PROXY` and `NO_PROXY` (`trust_env`) only
when it builds its transport itself, and we give it ours, so `proxy_mounts()` mounts httpx's
own transports for them, with httpx's own parser of the variables (a proxied URL never reaches
our transport). httpx reads `SSL_CERT_FILE`/`SSL_CERT_DIR` only when it builds the TLS
context itself and ignores `REQUESTS_CA_BUNDLE`, so `build_ssl_context()` reads all three (then
certifi).

Addresses: link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254,
Alibaba's 100.100.100.200) are never connected to, and private or loopback ones only when
`settings.allow_private`. The check sits in name resolution (`GuardedResolver` for our transport,
`GuardedBackend` for httpcore): names are resolved by `resolve_host()`, every address of the
answer is vetted, and the connection goes to a vetted address, so a redirect, a DNS answer or a
rebinding between check and connect cannot slip past it (TLS still verifies the certificate
against the name). IP literals skip resolution, so checker.net.fetch vets them before every hop.
Limits: when a proxy is configured, the proxy resolves names, so only literal IP addresses in
URLs can be vetted; and a *connection* is vetted, not each request on it, which is enough
because a connection stays bound to its vetted address.

`make_client()` is the one place that builds a client (`Fetcher(client_factory=...)` takes any
function with its signature).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import httpx

if TYPE_CHECKING:
    from checker.settings import CheckSettings

# Browser-like request headers: some sites answer bare clients with 403 or a different page.
# No "br": brotli is not a dependency, and checker.net.fetch decodes bodies itself to cap their size.
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "en-US,en;q=0.9,*;q=0.5"
ACCEPT_ENCODING = "gzip, deflate"


# Addresses that answer with credentials on cloud machines, whatever allow_private says.
_METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud metadata
    }
)


# getaddrinfo's "no such name" (NXDOMAIN) errors, as opposed to a resolver that failed.
NO_SUCH_NAME_ERRNOS = frozenset(
    code
    for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None))
    if code is not None
)


SSLContextSource = ssl.SSLContext | Callable[[], ssl.SSLContext]
"""A TLS context, or the function that builds it when the first TLS connection needs it:
building one reads the whole CA bundle (tens of milliseconds per process), which a run of
plain-HTTP links never needs."""


def ssl_context_of(source: SSLContextSource) -> ssl.SSLContext:
    return source if isinstance(source, ssl.SSLContext) else source()


class ClientFactory(Protocol):
    """The signature of `make_client`, for plugging in another client builder."""

    def __call__(
        self, host: str, settings: CheckSettings, *, ssl_context: SSLContextSource
    ) -> CheckerClient: ...


class ForbiddenAddress(Exception):
    """The host resolves to an address the checker must not connect to.

    Not an OSError: neither our transport nor httpcore may take it for a failed connection attempt and
    try the next address; checker.net.fetch finds it in the exception chain."""


@functools.lru_cache(maxsize=4096)  # asked before every request, mostly for the same hosts
def forbidden_reason(address: str, *, allow_private: bool) -> str | None:
    """Why connecting to this literal IP address is refused, or None if it is allowed.

    Returns None for anything that is not an IP address (names are vetted after resolution).
    """
    ip = _as_ip(address)
    if ip is None:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    if ip.is_link_local or ip in _METADATA_ADDRESSES:
        return f"{ip} is a link-local or cloud-metadata address"
    if not allow_private and (ip.is_private or ip.is_loopback or ip.is_unspecified):
        return f"{ip} is a private or loopback address"
    return None


def _as_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        pass
    # Legacy spellings that resolvers still accept: 2852039166, 0xa9fea9fe, 169.254.43518.
    if address and set(address.lower()) <= _LEGACY_IPV4_CHARS:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(address))
        except OSError:
            return None
    return None


_LEGACY_IPV4_CHARS = frozenset("0123456789abcdefx.")


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order (IP literals as they are).

    Module-level so tests can replace it to simulate DNS answers.
    """
    if _is_plain_ipv4(host):  # what getaddrinfo would answer, without a trip to its thread
        return [host]
    # In the loop's executor, as asyncio's own loop.getaddrinfo does: uvloop's sends it to
    # libuv's pool of 4 threads, where slow answers queue and lookups ran past the connect
    # timeout (a DNS-less run of the shared report: 107 of 263 links "timeout" instead of
    # "no such name", and twice the time).
    infos = await asyncio.get_running_loop().run_in_executor(
        None, functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_plain_ipv4(host: str) -> bool:
    """A dotted-quad IPv4 literal in its canonical spelling (no legacy forms, no zeros added)."""
    try:
        return str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        return False


class _NoCookies(httpx.Cookies):
    """Cookies that are never kept: no state between URLs, and no parsing cost.

    An empty `CookieJar` is not enough: httpx still wraps every response for `http.cookiejar`
    before the jar can ignore it (~50 µs a response).
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        pass

    def set_cookie_header(self, request: httpx.Request) -> None:
        pass


class CheckerClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` whose cookie store keeps nothing.

    checker.net.fetch sends through `transport_for()` rather than `send()`: it follows redirects,
    keeps cookies and times requests itself, so the client's machinery for those (an auth flow,
    a redirect loop, event hooks: a tenth of the CPU per request) has nothing to do.
    """

    _no_cookies = _NoCookies()

    def transport_for(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        """The transport `send()` would use for `url`: a proxy's (by the environment) or ours."""
        return self._transport_for_url(url)  # httpx's own mount matching, private since 0.18

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        pass


def _ca_locations(env: Mapping[str, str]) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """The CA variables that count, as (name, path): the bundle file (`SSL_CERT_FILE`, else
    `REQUESTS_CA_BUNDLE`) and the hashed directory (`SSL_CERT_DIR`); None where unset."""
    bundle = next(
        ((name, env[name]) for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE") if env.get(name)),
        None,
    )
    directory = ("SSL_CERT_DIR", env["SSL_CERT_DIR"]) if env.get("SSL_CERT_DIR") else None
    return bundle, directory


def ca_environment_problem(env: Mapping[str, str] | None = None) -> str | None:
    """What is wrong with the CA variables `build_ssl_context` reads (a path that does not
    exist), or None: asked before a run, because the context itself is built only when the
    first TLS connection needs it, when every HTTPS link would fail for this one reason."""
    for located in _ca_locations(os.environ if env is None else env):
        if located is not None and not os.path.exists(located[1]):
            return f"{located[0]}={located[1]}: no such file or directory"
    return None


def build_ssl_context(env: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The TLS context shared by every client of a run.

    CA certificates come from `SSL_CERT_FILE` or `REQUESTS_CA_BUNDLE` (and `SSL_CERT_DIR`),
    else from certifi, like requests and httpx together. A path that does not exist raises
    `OSError`, a configuration error for the caller to report.
    """
    bundle, directory = _ca_locations(os.environ if env is None else env)
    cafile = bundle[1] if bundle else None
    capath = directory[1] if directory else None
    if cafile is None and capath is None:
        import certifi  # a dependency of httpx

        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile, capath=capath)


def request_headers(settings: CheckSettings, host: str) -> dict[str, str]:
    """The headers sent with every request to `host`: a browser's, then the host's extras."""
    headers = {
        "User-Agent": settings.user_agent,
        "Accept": ACCEPT,
        "Accept-Language": ACCEPT_LANGUAGE,
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    for name, extra in settings.host_headers.items():
        if name.lower() == host:  # hosts arrive lower-cased from httpx
            headers.update(extra)
    return headers


def make_client(
    host: str, settings: CheckSettings, *, ssl_context: SSLContextSource, http2: bool | None = None
) -> CheckerClient:
    """The client for one host: pool sized to the per-host limit, no redirects, no cookies.

    Host-specific headers live on the host's own client, so a redirect to another host never
    carries them along.
    """
    size = settings.per_host_for(host)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
    if http2 is None:
        http2 = settings.http2
    transport: httpx.AsyncBaseTransport
    if http2:
        from checker.net.httpcore_transport import GuardedTransport  # httpcore only for HTTP/2

        transport = GuardedTransport(
            ssl_context=ssl_context_of(ssl_context), limits=limits, http2=True,
            allow_private=settings.allow_private,
        )
    else:
        from checker.net.transport import Http11Transport  # imported only when checking

        transport = Http11Transport(
            ssl_context=ssl_context, max_connections=size, allow_private=settings.allow_private
        )
    return CheckerClient(
        transport=transport,
        mounts=proxy_mounts(ssl_context=ssl_context, limits=limits, http2=http2),
        timeout=timeout,
        headers=request_headers(settings, host),
        follow_redirects=False,
        trust_env=False,  # with a transport given, httpx ignores proxies: proxy_mounts does it
    )


def proxy_mounts(
    *, ssl_context: SSLContextSource, limits: httpx.Limits, http2: bool = False
) -> dict[str, httpx.AsyncBaseTransport | None]:
    """Transports for the proxies of `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`.

    httpx reads these only when it builds its own transport, so we mount them as `trust_env`
    would, with httpx's own parser of the variables. A `NO_PROXY` pattern maps to None: the
    client's own (guarded) transport.
    """
    from httpx._utils import get_environment_proxies  # httpx's trust_env semantics, verbatim

    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    for pattern, proxy_url in get_environment_proxies().items():
        mounts[pattern] = (
            None
            if proxy_url is None
            else httpx.AsyncHTTPTransport(
                verify=ssl_context_of(ssl_context), limits=limits, http2=http2, proxy=proxy_url
            )
        )
    return mounts
