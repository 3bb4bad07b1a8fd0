"""The checker's HTTP/1.1 transport under httpx (checker.net.transport): which transport a URL takes,
what it does with connections and with the answers real servers give, and how its errors reach
checker.net.fetch. Every test runs on both event loops a command may run on (uvloop and asyncio's)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import socket
import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trustme

import checker.net.client
from checker.models import FailureKind
from checker.net.client import build_ssl_context, make_client
from checker.net.fetch import Fetcher, failure_of
from checker.net.httpcore_transport import GuardedTransport
from checker.net.transport import MAX_HEAD_BYTES, GuardedResolver, Http11Transport, _Connection
from checker.run import eventloop
from checker.settings import CheckSettings
from tests.servers import (
    Behaviour,
    Exchange,
    close_silently,
    endless,
    hang,
    malformed,
    page,
    sequence,
    serve,
    tls_server_context,
)

if TYPE_CHECKING:
    from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["uvloop", "asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    if request.param == "asyncio":
        return ("asyncio", {})
    factory = eventloop.loop_factory()
    if factory is None:
        pytest.skip("uvloop is not installed here")
    return ("asyncio", {"loop_factory": factory})


FAST = CheckSettings(
    timeout_s=0.5, connect_timeout_s=0.5, total_timeout_s=5.0, retries=0, host_interval_s=0.0
)
_CONTEXT = build_ssl_context({})


async def _fetch_all(urls: list[str]) -> list[object]:
    async with Fetcher(FAST, ssl_context=_CONTEXT) as fetcher:
        return [await fetcher.fetch(url) for url in urls]


def _dns_answers(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    """Every name resolves to `addresses` (the resolver the transports ask)."""

    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    monkeypatch.setattr(checker.net.client, "resolve_host", resolve)


def test_plain_requests_go_through_ours_and_http2_through_httpcore() -> None:
    url = httpx.URL("http://example.org/")
    plain = make_client("example.org", FAST, ssl_context=_CONTEXT)
    assert isinstance(plain.transport_for(url), Http11Transport)
    http2 = make_client("example.org", FAST, ssl_context=_CONTEXT, http2=True)
    assert isinstance(http2.transport_for(url), GuardedTransport)


def test_proxied_urls_go_through_httpx_and_no_proxy_hosts_through_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    client = make_client("example.org", FAST, ssl_context=_CONTEXT)
    proxied = client.transport_for(httpx.URL("http://example.org/"))
    assert isinstance(proxied, httpx.AsyncHTTPTransport)
    assert not isinstance(proxied, Http11Transport)
    assert isinstance(client.transport_for(httpx.URL("http://direct.example/")), Http11Transport)


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


class _Sink(asyncio.Transport):
    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def close(self) -> None:
        pass


async def test_a_connection_lost_while_nobody_waits_is_reported_at_once() -> None:
    # The end of a body cut short can arrive while the reader is busy with the last piece.
    connection = _Connection()
    connection.connection_made(_Sink())
    connection.send(b"GET / HTTP/1.1\r\n\r\n", skip_body=False)
    connection.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<html>")
    connection.connection_lost(None)
    assert connection.take() == b"<html>"
    with pytest.raises(httpx.ReadError):
        await asyncio.wait_for(connection.wait(None), 1)  # never waits for a wake-up


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

    monkeypatch.setattr(checker.net.client, "resolve_host", resolve)
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
    _dns_answers(monkeypatch, "93.184.216.34", "169.254.169.254")  # one bad address is enough
    (observation,) = await _fetch_all(["http://sneaky.example/"])
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS  # type: ignore[attr-defined]
    assert "169.254.169.254" in observation.error  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- answers and framing


async def _request(url: str, method: str = "GET", *, read_s: float = 2.0,
                   transport: Http11Transport | None = None) -> tuple[httpx.Response, bytes]:
    """One request through the transport alone; the body read whole, the response closed."""
    own = transport is None
    transport = transport or Http11Transport(
        ssl_context=_CONTEXT, max_connections=2, allow_private=True
    )
    request = httpx.Request(
        method, url, extensions={"timeout": {"connect": 2.0, "read": read_s, "write": 2.0, "pool": 2.0}}
    )
    try:
        response = await transport.handle_async_request(request)
        try:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
    finally:
        if own:
            await transport.aclose()
    return response, body


def _raw(answer: bytes, *, keep: bool = False) -> Behaviour:
    def behaviour(exchange: Exchange) -> bool:
        exchange.answered()
        exchange.send(answer)
        return keep

    return behaviour


async def test_informational_answers_are_skipped() -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nhello"
    )
    with serve({"/": _raw(answer)}) as web:
        response, body = await _request(web.url("/"))
    assert response.status_code == 200
    assert response.headers["x-final"] == "yes"
    assert "link" not in response.headers
    assert body == b"hello"


async def test_a_request_body_goes_out_after_its_head() -> None:
    # The test server reads Content-Length bytes of body before it answers: without them,
    # no answer would come.
    with serve({"/": page(200, title="Posted")}) as web:
        transport = Http11Transport(ssl_context=_CONTEXT, max_connections=1, allow_private=True)
        request = httpx.Request("POST", web.url("/"), content=b"a=1&b=2",
                                extensions={"timeout": {"read": 2.0}})
        response = await transport.handle_async_request(request)
        await response.aread()
        await transport.aclose()
        (recorded,) = web.requests
    assert response.status_code == 200
    assert (recorded.method, recorded.headers["content-length"]) == ("POST", "7")


async def test_a_body_that_ends_with_the_connection_is_read_whole() -> None:
    with serve({"/": _raw(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>all of it</p>")}) as web:
        response, body = await _request(web.url("/"))
    assert response.status_code == 200
    assert body == b"<p>all of it</p>"


async def test_a_body_that_ends_with_a_tls_connection_is_read_whole(tls_ca: trustme.CA) -> None:
    # The test server closes without TLS's close_notify, as many real servers do.
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)
    transport = Http11Transport(ssl_context=client_context, max_connections=1, allow_private=True)
    answer = _raw(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>all of it</p>")
    with serve({"/": answer}, tls=tls_server_context(tls_ca)) as web:
        response, body = await _request(web.url("/"), transport=transport)
        await transport.aclose()
    assert response.status_code == 200
    assert body == b"<p>all of it</p>"


async def test_sloppy_framing_is_read_as_lenient_clients_read_it() -> None:
    bare_lf = _raw(b"HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 2\n\nok", keep=True)
    both = _raw(
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n",
        keep=True,
    )
    with serve({"/lf": bare_lf, "/both": both, "/next": page(200, title="Next")}) as web:
        transport = Http11Transport(ssl_context=_CONTEXT, max_connections=1, allow_private=True)
        try:
            answers = [await _request(web.url(p), transport=transport) for p in ("/lf", "/both", "/next")]
        finally:
            await transport.aclose()
        assert [(r.status_code, body[:2]) for r, body in answers[:2]] == [(200, b"ok"), (200, b"ok")]
        assert answers[2][0].status_code == 200
        assert web.connections_accepted == 2  # the one that had both framings was not reused


async def test_a_chunked_body_is_read_and_the_connection_kept() -> None:
    chunked = _raw(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        keep=True,
    )
    with serve({"/a": chunked, "/b": chunked}) as web:
        transport = Http11Transport(ssl_context=_CONTEXT, max_connections=2, allow_private=True)
        try:
            bodies = [(await _request(web.url(p), transport=transport))[1] for p in ("/a", "/b")]
        finally:
            await transport.aclose()
        assert bodies == [b"hello world"] * 2
        assert web.connections_accepted == 1


async def test_a_head_answer_has_no_body_and_its_connection_is_not_reused() -> None:
    with serve({"/": page(200, title="Head")}) as web:
        transport = Http11Transport(ssl_context=_CONTEXT, max_connections=2, allow_private=True)
        try:
            response, body = await _request(web.url("/"), "HEAD", transport=transport)
            again, _ = await _request(web.url("/"), transport=transport)
        finally:
            await transport.aclose()
        assert response.status_code == 200 and body == b""
        assert int(response.headers["content-length"]) > 0  # announced, not sent
        assert again.status_code == 200
        assert web.connections_accepted == 2


async def test_a_head_beyond_its_bound_is_a_protocol_failure() -> None:
    line = b"X-Filler: " + b"f" * 30_000 + b"\r\n"
    lines = line * (MAX_HEAD_BYTES // len(line) + 2)
    with serve({"/": _raw(b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 0\r\n\r\n")}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.failure is FailureKind.PROTOCOL  # type: ignore[attr-defined]
    assert str(MAX_HEAD_BYTES) in observation.error  # type: ignore[attr-defined]


async def test_a_reused_connection_closed_as_the_request_went_out_is_retried_once() -> None:
    flaky = sequence(page(200, title="First"), close_silently(), page(200, title="Second"))
    with serve({"/": flaky}) as web:
        observations = await _fetch_all([web.url("/"), web.url("/")])
        assert [o.title for o in observations] == ["First", "Second"]  # type: ignore[attr-defined]
        assert web.connections_accepted == 2
        assert web.hits("/") == 3


async def test_a_fresh_connection_closed_without_an_answer_is_not_retried_here() -> None:
    with serve({"/": close_silently()}) as web:
        (observation,) = await _fetch_all([web.url("/")])
        assert observation.failure is FailureKind.RESET  # type: ignore[attr-defined]
        assert web.hits("/") == 1  # retries=0: the transport added none


async def test_a_connection_that_talks_unasked_is_not_reused() -> None:
    stray = _raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n", keep=True)
    with serve({"/a": stray, "/b": page(200, title="B")}) as web:
        observations = await _fetch_all([web.url("/a"), web.url("/b")])
        assert [o.status for o in observations] == [200, 200]  # type: ignore[attr-defined]
        assert web.connections_accepted == 2


async def test_an_unread_endless_body_stops_being_read() -> None:
    with serve({"/": endless()}) as web:
        transport = Http11Transport(ssl_context=_CONTEXT, max_connections=1, allow_private=True)
        request = httpx.Request("GET", web.url("/"), extensions={"timeout": {"read": 2.0}})
        response = await transport.handle_async_request(request)
        try:
            stream = response.aiter_raw()
            await stream.__anext__()
            pool = next(iter(transport._pools.values()))
            connection = response.stream._connection  # type: ignore[attr-defined]
            for _ in range(10_000):  # let the server fill what the client will take
                if connection.paused:
                    break
                await asyncio.sleep(0)
            assert connection.paused
            assert connection.buffered <= 2 * 256 * 1024
            await stream.aclose()
        finally:
            await response.aclose()
            await transport.aclose()
        assert pool.idle == []  # a body left unread closes its connection


# --------------------------------------------------------------------------- errors, one place


async def test_a_refused_connection_is_a_connect_error_caused_by_the_refusal() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as raised:
        await _request(f"http://127.0.0.1:{port}/")
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)
    assert failure_of(raised.value)[0] is FailureKind.REFUSED


async def test_a_malformed_status_line_is_a_protocol_error() -> None:
    with serve({"/": malformed()}) as web:
        with pytest.raises(httpx.RemoteProtocolError) as raised:
            await _request(web.url("/"))
    assert failure_of(raised.value)[0] is FailureKind.PROTOCOL


async def test_an_untrusted_certificate_is_a_tls_failure() -> None:
    with serve({"/": page(200, title="x")}, tls=tls_server_context(trustme.CA())) as web:
        with pytest.raises(httpx.ConnectError) as raised:
            await _request(web.url("/"))
    assert isinstance(raised.value.__cause__, ssl.SSLError)
    assert failure_of(raised.value)[0] is FailureKind.TLS


async def test_a_trusted_certificate_is_fetched_over_tls(tls_ca: trustme.CA) -> None:
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)
    transport = Http11Transport(ssl_context=client_context, max_connections=1, allow_private=True)
    with serve({"/": page(200, title="Secure")}, tls=tls_server_context(tls_ca)) as web:
        response, body = await _request(web.url("/"), transport=transport)
        await transport.aclose()
    assert response.status_code == 200 and b"Secure" in body


async def test_silence_is_a_read_timeout() -> None:
    with serve({"/": hang()}) as web:
        with pytest.raises(httpx.ReadTimeout) as raised:
            await _request(web.url("/"), read_s=0.05)
    assert failure_of(raised.value)[0] is FailureKind.TIMEOUT


async def test_a_resolver_that_never_answers_is_a_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(checker.net.client, "resolve_host", resolve)
    transport = Http11Transport(ssl_context=_CONTEXT, max_connections=1, allow_private=True)
    request = httpx.Request("GET", "http://stuck.example/", extensions={"timeout": {"connect": 0.05}})
    with pytest.raises(httpx.ConnectTimeout):
        await transport.handle_async_request(request)


async def test_a_name_that_does_not_exist_is_a_connect_error_caused_by_the_dns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _counting_resolver(monkeypatch, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    with pytest.raises(httpx.ConnectError) as raised:
        await _request("http://gone.example/")
    assert isinstance(raised.value.__cause__, socket.gaierror)
    assert failure_of(raised.value)[0] is FailureKind.NXDOMAIN


async def test_the_next_address_is_tried_when_one_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    with serve({"/": page(200, title="Second address")}) as web:  # 127.0.0.1 only

        _dns_answers(monkeypatch, "127.0.0.2", "127.0.0.1")
        response, body = await _request(f"http://two.example:{web.port}/")
    assert b"Second address" in body


@pytest.fixture
def silent_address() -> Iterator[tuple[str, int]]:
    """An address and port whose SYNs go unanswered: a listener with its queue full (a server
    that does not answer at all, like an IPv6 address without a route on the way)."""
    listener = socket.socket()
    listener.bind(("127.0.0.3", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.3", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    try:
        yield "127.0.0.3", port
    finally:
        for sock in (*fillers, listener):
            sock.close()


async def test_an_address_that_never_answers_does_not_hold_up_the_next(
    monkeypatch: pytest.MonkeyPatch, silent_address: tuple[str, int]
) -> None:
    silent, port = silent_address
    with serve({"/": page(200, title="Other address")}, port=port) as web:  # 127.0.0.1, same port

        _dns_answers(monkeypatch, silent, web.host)
        response, body = await _request(f"http://two.example:{port}/")  # connect timeout 2 s
    assert b"Other address" in body


async def test_a_forbidden_address_passes_through_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    _dns_answers(monkeypatch, "169.254.169.254")
    with pytest.raises(checker.net.client.ForbiddenAddress):
        await _request("http://metadata.example/")


async def test_idle_connections_are_closed_with_the_transport() -> None:
    with serve({"/": page(200, title="x")}) as web:
        transport = Http11Transport(ssl_context=_CONTEXT, max_connections=2, allow_private=True)
        await _request(web.url("/"), transport=transport)
        (pool,) = transport._pools.values()
        (connection,) = pool.idle
        assert not connection.closed
        await transport.aclose()
        assert connection.closed and transport._pools == {}


def test_the_tests_run_on_the_event_loop_of_the_commands() -> None:
    async def loop_type() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    factory = eventloop.loop_factory()
    expected = asyncio.new_event_loop if factory is None else factory
    probe = expected()
    try:
        assert eventloop.run(loop_type()) is type(probe)
    finally:
        probe.close()


async def test_the_http2_transport_refuses_a_metadata_address_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _dns_answers(monkeypatch, "169.254.169.254")
    http2 = functools.partial(make_client, http2=True)
    async with Fetcher(FAST, ssl_context=_CONTEXT, client_factory=http2) as fetcher:
        observation = await fetcher.fetch("https://sneaky.example/")
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS
    assert "169.254.169.254" in observation.error


async def test_the_http2_transport_connects_to_the_vetted_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _dns_answers(monkeypatch, "127.0.0.1")
    http2 = functools.partial(make_client, http2=True)
    with serve({"/": page(200, title="Vetted")}) as web:
        async with Fetcher(FAST, ssl_context=_CONTEXT, client_factory=http2) as fetcher:
            observation = await fetcher.fetch(f"http://named.example:{web.port}/")
    assert observation.title == "Vetted"


async def test_lookups_run_side_by_side_in_the_loops_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    # Five lookups that each wait for the others can only finish if five run at once: more than
    # libuv's pool of four threads, where uvloop's own getaddrinfo would queue them.
    import threading

    together = threading.Barrier(5, timeout=5)
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        asked.append(host)
        together.wait()
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answers = await asyncio.gather(
        *(checker.net.client.resolve_host(f"host{i}.example", 80) for i in range(5))
    )
    assert answers == [["127.0.0.1"]] * 5
    assert sorted(asked) == [f"host{i}.example" for i in range(5)]


def _counting_resolver(monkeypatch: pytest.MonkeyPatch, error: socket.gaierror) -> list[str]:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        raise error

    monkeypatch.setattr(checker.net.client, "resolve_host", resolve)
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
