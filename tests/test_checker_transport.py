"""The aiohttp transport under httpx (checker.transport): which transport a URL takes, what it
does with connections and broken answers, and how its errors reach checker.fetch."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import socket
import ssl
from types import SimpleNamespace
from typing import TYPE_CHECKING

import aiohttp
import httpx
import pytest

import checker.client
from checker.client import build_ssl_context, make_client
from checker.fetch import Fetcher, failure_of
from checker.httpcore_transport import GuardedTransport
from checker.models import FailureKind
from checker.settings import CheckSettings
from checker.transport import AiohttpTransport, GuardedResolver, map_errors
from tests.servers import Behaviour, Exchange, page, serve

if TYPE_CHECKING:
    from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio

FAST = CheckSettings(
    timeout_s=0.5, connect_timeout_s=0.5, total_timeout_s=5.0, retries=0, host_interval_s=0.0
)
_CONTEXT = build_ssl_context({})


async def _fetch_all(urls: list[str]) -> list[object]:
    async with Fetcher(FAST, ssl_context=_CONTEXT) as fetcher:
        return [await fetcher.fetch(url) for url in urls]


def test_plain_requests_go_through_aiohttp_and_http2_through_httpcore() -> None:
    url = httpx.URL("http://example.org/")
    plain = make_client("example.org", FAST, ssl_context=_CONTEXT)
    assert isinstance(plain.transport_for(url), AiohttpTransport)
    http2 = make_client("example.org", FAST, ssl_context=_CONTEXT, http2=True)
    assert isinstance(http2.transport_for(url), GuardedTransport)


def test_proxied_urls_go_through_httpx_and_no_proxy_hosts_through_aiohttp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    client = make_client("example.org", FAST, ssl_context=_CONTEXT)
    proxied = client.transport_for(httpx.URL("http://example.org/"))
    assert isinstance(proxied, httpx.AsyncHTTPTransport)
    assert not isinstance(proxied, AiohttpTransport)
    assert isinstance(client.transport_for(httpx.URL("http://direct.example/")), AiohttpTransport)


async def test_one_host_reuses_its_connection() -> None:
    with serve({f"/{i}": page(200, title=f"Page {i}") for i in range(5)}) as web:
        observations = await _fetch_all([web.url(f"/{i}") for i in range(5)])
        assert [o.status for o in observations] == [200] * 5  # type: ignore[attr-defined]
        assert web.connections_accepted == 1


async def test_a_connection_closed_by_the_server_is_not_reused() -> None:
    closing = page(200, title="Closing", headers=[("Connection", "close")])
    with serve({"/a": closing, "/b": closing}) as web:
        observations = await _fetch_all([web.url("/a"), web.url("/b")])
        assert [o.status for o in observations] == [200, 200]  # type: ignore[attr-defined]
        assert web.connections_accepted == 2


def _short_body(exchange: Exchange) -> bool:
    exchange.answered()
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<html>")
    return False


def _header_of(size: int) -> Behaviour:
    def behaviour(exchange: Exchange) -> bool:
        exchange.answered()
        exchange.send(
            b"HTTP/1.1 200 OK\r\nContent-Security-Policy: " + b"a" * size
            + b"\r\nContent-Length: 0\r\n\r\n"
        )
        return False

    return behaviour


async def test_a_body_cut_short_is_a_reset_and_retried(fake_clock: FakeClock) -> None:
    with serve({"/": _short_body}) as web:
        async with Fetcher(
            dataclasses.replace(FAST, retries=1),
            ssl_context=_CONTEXT,
            clock=fake_clock,
            sleep=fake_clock.sleep,
        ) as fetcher:
            observation = await fetcher.fetch(web.url("/"))
    assert observation.failure is FailureKind.RESET
    assert observation.status is None
    assert observation.attempts == 2


async def test_a_long_header_line_as_real_sites_send_is_accepted() -> None:
    with serve({"/": _header_of(20_000)}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.status == 200  # type: ignore[attr-defined]


async def test_a_header_beyond_the_line_limit_is_a_protocol_failure() -> None:
    with serve({"/": _header_of(100_000)}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.failure is FailureKind.PROTOCOL  # type: ignore[attr-defined]
    assert observation.status is None  # type: ignore[attr-defined]


async def test_the_request_target_is_sent_exactly_as_encoded() -> None:
    with serve({}) as web:
        await _fetch_all([web.url("/a%20b/%7Euser;p=1?q=%C3%A9&x=1&y")])
        (request,) = web.requests
    assert request.target == "/a%20b/%7Euser;p=1?q=%C3%A9&x=1&y"


async def test_an_international_name_is_asked_for_in_its_ascii_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(checker.client, "resolve_host", resolve)
    with serve({"/": page(200, title="Bücher")}) as web:
        (observation,) = await _fetch_all([f"http://bücher.example:{web.port}/"])
        (request,) = web.requests
    assert observation.status == 200  # type: ignore[attr-defined]
    assert asked == ["xn--bcher-kva.example"]
    assert request.headers["host"] == f"xn--bcher-kva.example:{web.port}"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
async def test_an_ipv6_literal_is_fetched() -> None:
    with serve({"/": page(200, title="Six")}, host="::1") as web:
        (observation,) = await _fetch_all([f"http://[::1]:{web.port}/"])
        (request,) = web.requests
    assert observation.title == "Six"  # type: ignore[attr-defined]
    assert request.headers["host"] == f"[::1]:{web.port}"


async def test_a_name_answered_with_a_metadata_address_is_refused_by_the_resolver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "169.254.169.254"]  # one bad address is enough

    monkeypatch.setattr(checker.client, "resolve_host", resolve)
    (observation,) = await _fetch_all(["http://sneaky.example/"])
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS  # type: ignore[attr-defined]
    assert "169.254.169.254" in observation.error  # type: ignore[attr-defined]


async def test_the_session_is_closed_with_the_transport() -> None:
    transport = AiohttpTransport(ssl_context=_CONTEXT, max_connections=2, allow_private=True)
    with serve({"/": page(200, title="x")}) as web:
        response = await transport.handle_async_request(httpx.Request("GET", web.url("/")))
        await response.aread()
        session = transport._session
        assert session is not None and not session.closed
        await transport.aclose()
        assert session.closed


# --------------------------------------------------------------------------- errors, one place

_KEY = SimpleNamespace(host="example.org", port=443, ssl=True, is_ssl=True)


def _raised_from(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


def _mapped(exc: BaseException, *, connecting: bool = True) -> BaseException:
    try:
        with map_errors(connecting=connecting):
            raise exc
    except BaseException as mapped:  # noqa: BLE001 - the test inspects what came out
        return mapped
    raise AssertionError("map_errors swallowed the error")


@pytest.mark.parametrize(
    ("exc", "connecting", "httpx_type", "kind"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), True, httpx.ConnectTimeout, FailureKind.TIMEOUT),
        (aiohttp.SocketTimeoutError("read"), False, httpx.ReadTimeout, FailureKind.TIMEOUT),
        (TimeoutError(), True, httpx.ConnectTimeout, FailureKind.TIMEOUT),
        (
            aiohttp.ServerDisconnectedError(),
            True,
            httpx.RemoteProtocolError,
            FailureKind.RESET,  # closed without a word: as good as a reset
        ),
        (aiohttp.ServerDisconnectedError(), False, httpx.ReadError, FailureKind.RESET),
        (
            _raised_from(
                aiohttp.ClientConnectorDNSError(_KEY, OSError(-2, "Name or service not known")),  # type: ignore[arg-type]
                socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            ),
            True,
            httpx.ConnectError,
            FailureKind.NXDOMAIN,
        ),
        (
            _raised_from(
                aiohttp.ClientConnectorError(_KEY, ConnectionRefusedError(111, "refused")),  # type: ignore[arg-type]
                ConnectionRefusedError(111, "Connection refused"),
            ),
            True,
            httpx.ConnectError,
            FailureKind.REFUSED,
        ),
        (
            _raised_from(
                aiohttp.ClientConnectorCertificateError(  # type: ignore[arg-type]
                    _KEY, ssl.SSLCertVerificationError("certificate verify failed")
                ),
                ssl.SSLCertVerificationError("certificate verify failed"),
            ),
            True,
            httpx.ConnectError,
            FailureKind.TLS,
        ),
        (
            _raised_from(aiohttp.ClientOSError(104, "reset"), ConnectionResetError(104, "reset")),
            False,
            httpx.ReadError,
            FailureKind.RESET,
        ),
        (aiohttp.ClientPayloadError("cut short"), False, httpx.ReadError, FailureKind.RESET),
        (aiohttp.InvalidURL("http://[::1"), True, httpx.InvalidURL, FailureKind.INVALID_URL),
        (aiohttp.ClientError("something else"), True, httpx.TransportError, FailureKind.CONNECT),
    ],
)
def test_aiohttp_errors_arrive_as_httpx_errors_with_their_cause(
    exc: BaseException, connecting: bool, httpx_type: type[Exception], kind: FailureKind
) -> None:
    mapped = _mapped(exc, connecting=connecting)
    assert type(mapped) is httpx_type
    assert mapped.__cause__ is exc
    assert failure_of(mapped)[0] is kind


def test_a_forbidden_address_passes_through_unchanged() -> None:
    forbidden = checker.client.ForbiddenAddress("x resolves to 169.254.169.254")
    assert _mapped(forbidden) is forbidden
    assert failure_of(forbidden)[0] is FailureKind.FORBIDDEN_ADDRESS


def test_cancellation_is_never_mapped() -> None:
    cancelled = asyncio.CancelledError()
    assert _mapped(cancelled) is cancelled




async def test_the_http2_transport_refuses_a_metadata_address_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["169.254.169.254"]

    monkeypatch.setattr(checker.client, "resolve_host", resolve)
    http2 = functools.partial(make_client, http2=True)
    async with Fetcher(FAST, ssl_context=_CONTEXT, client_factory=http2) as fetcher:
        observation = await fetcher.fetch("https://sneaky.example/")
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS
    assert "169.254.169.254" in observation.error


async def test_the_http2_transport_connects_to_the_vetted_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(checker.client, "resolve_host", resolve)
    http2 = functools.partial(make_client, http2=True)
    with serve({"/": page(200, title="Vetted")}) as web:
        async with Fetcher(FAST, ssl_context=_CONTEXT, client_factory=http2) as fetcher:
            observation = await fetcher.fetch(f"http://named.example:{web.port}/")
    assert observation.title == "Vetted"


def _counting_resolver(monkeypatch: pytest.MonkeyPatch, error: socket.gaierror) -> list[str]:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        raise error

    monkeypatch.setattr(checker.client, "resolve_host", resolve)
    return asked


async def test_a_name_that_does_not_exist_is_asked_for_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _counting_resolver(
        monkeypatch, socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    )
    observations = await _fetch_all([f"http://gone.example/{i}" for i in range(3)])
    assert [o.failure for o in observations] == [FailureKind.NXDOMAIN] * 3  # type: ignore[attr-defined]
    assert asked == ["gone.example"]


async def test_a_temporary_dns_failure_is_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _counting_resolver(
        monkeypatch, socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    )
    observations = await _fetch_all([f"http://flaky.example/{i}" for i in range(3)])
    assert [o.failure for o in observations] == [FailureKind.DNS] * 3  # type: ignore[attr-defined]
    assert asked == ["flaky.example"] * 3


async def test_a_missing_name_is_forgotten_after_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _counting_resolver(
        monkeypatch, socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    )
    now = [0.0]
    resolver = GuardedResolver(allow_private=True, clock=lambda: now[0])
    for at in (0.0, GuardedResolver.NEGATIVE_TTL_S - 1, GuardedResolver.NEGATIVE_TTL_S + 1):
        now[0] = at
        with pytest.raises(socket.gaierror) as raised:
            await resolver.resolve("gone.example", 80)
        assert raised.value.errno == socket.EAI_NONAME
    assert asked == ["gone.example", "gone.example"]  # asked again only once the time was up
