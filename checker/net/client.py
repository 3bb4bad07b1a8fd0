"""
What every HTTP client of `citewatch check` shares, without importing the HTTP engine: the
address guard's rules (`forbidden_reason`, `ForbiddenAddress`), the system resolver
(`resolve_host`) and the `Lookup` type a test or an embedder injects instead
(`CheckSettings.resolver`), the TLS context (`build_ssl_context`) and the request headers.
The engine itself, aiohttp, is in checker.net.session, imported when the first request goes out:
aiohttp builds two TLS contexts (the whole CA bundle, twice) as it is imported, a tenth of a
second that a `check` with nothing due, or a run of plain-HTTP links, never needs.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

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


Lookup = Callable[[str, int], Awaitable[list[str]]]
"""How names become addresses: `(host, port) -> addresses`, raising `socket.gaierror` for a name
that does not resolve. `resolve_host` asks the system; tests inject their own answers through
`CheckSettings.resolver`."""


class ForbiddenAddress(Exception):
    """The host resolves to an address the checker must not connect to.

    Not an OSError: aiohttp must not take it for a failed lookup or connection attempt and try
    the next address; it passes through aiohttp unchanged, and checker.net.fetch finds it in the
    exception chain."""


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
    """Every address `host` resolves to, in the resolver's order (IP literals as they are)."""
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


def ca_locations(env: Mapping[str, str]) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
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
    for located in ca_locations(os.environ if env is None else env):
        if located is not None and not os.path.exists(located[1]):
            return f"{located[0]}={located[1]}: no such file or directory"
    return None


def build_ssl_context(env: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The TLS context shared by every client of a run.

    CA certificates come from `SSL_CERT_FILE` or `REQUESTS_CA_BUNDLE` (and `SSL_CERT_DIR`),
    else from certifi, like requests and httpx together. A path that does not exist raises
    `OSError`, a configuration error for the caller to report.
    """
    bundle, directory = ca_locations(os.environ if env is None else env)
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
    headers.update(host_headers_for(settings.host_headers, host))
    return headers


def host_headers_for(host_headers: Mapping[str, Mapping[str, str]], host: str) -> dict[str, str]:
    """The extra headers configured for `host` (``[hosts."example.org"] headers``): the one
    rule, for link checks and document downloads alike. The host must match exactly (no
    subdomains: a cookie for one host is not sent to another)."""
    extra: dict[str, str] = {}
    for name, headers in host_headers.items():
        if name.lower() == host.lower():
            extra.update(headers)
    return extra


