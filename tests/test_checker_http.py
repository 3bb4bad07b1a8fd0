"""The HTTP engine of `citewatch check` (aiohttp behind checker.net.fetch's `Fetcher`): what it
does with connections, with the answers real servers give, and with names and addresses, against
real loopback servers. Every test runs on both event loops a command may run on (uvloop and
asyncio's). The regression tests at the end pin the five defects of the home-made transport it
replaced (issue 13). DNS answers are injected (`CheckSettings.resolver`), never patched in."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import trustme

from checker.models import FailureKind, Observation
from checker.net.client import Lookup, build_ssl_context, resolve_host
from checker.net.fetch import Fetcher
from checker.net.session import GuardedResolver
from checker.run import eventloop
from checker.settings import CheckSettings
from tests.servers import (
    Behaviour,
    Exchange,
    close_silently,
    hang,
    html_page,
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


async def _fetch_all(
    urls: list[str], config: CheckSettings = FAST, *, context: ssl.SSLContext = _CONTEXT
) -> list[Observation]:
    async with Fetcher(config, ssl_context=context) as fetcher:
        return [await fetcher.fetch(url) for url in urls]


def _answering(*addresses: str) -> Lookup:
    """A resolver that answers every name with `addresses`."""

    async def lookup(host: str, port: int) -> list[str]:
        return list(addresses)

    return lookup


def _with(lookup: Lookup, config: CheckSettings = FAST) -> CheckSettings:
    return dataclasses.replace(config, resolver=lookup)


def _raw(answer: bytes, *, keep: bool = False) -> Behaviour:
    def behaviour(exchange: Exchange) -> bool:
        exchange.answered()
        exchange.send(answer)
        return keep

    return behaviour


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


# --------------------------------------------------------------------------- connections


async def test_one_host_reuses_its_connection() -> None:
    with serve({f"/{i}": page(200, title=f"Page {i}") for i in range(5)}) as web:
        observations = await _fetch_all([web.url(f"/{i}") for i in range(5)])
        assert [o.title for o in observations] == [f"Page {i}" for i in range(5)]
        assert web.connections_accepted == 1


async def test_a_connection_closed_by_the_server_is_not_reused() -> None:
    closing = page(200, title="Closing", headers=[("Connection", "close")])
    with serve({"/a": closing, "/b": closing}) as web:
        observations = await _fetch_all([web.url("/a"), web.url("/b")])
        assert [o.status for o in observations] == [200, 200]
        assert web.connections_accepted == 2


async def test_a_reused_connection_closed_as_the_request_went_out_is_retried_once() -> None:
    flaky = sequence(page(200, title="First"), close_silently(), page(200, title="Second"))
    with serve({"/": flaky}) as web:
        observations = await _fetch_all([web.url("/"), web.url("/")])
        assert [o.title for o in observations] == ["First", "Second"]
        assert web.connections_accepted == 2
        assert web.hits("/") == 3


async def test_a_connection_closed_without_an_answer_is_a_reset_after_one_repeat() -> None:
    # aiohttp repeats a GET once when the connection closes before any answer (RFC 9112 9.3.1
    # allows it for idempotent requests; it does so on fresh connections too, and has no public
    # switch). retries=0: the checker adds none of its own.
    with serve({"/": close_silently()}) as web:
        (observation,) = await _fetch_all([web.url("/")])
        assert observation.failure is FailureKind.RESET
        assert observation.attempts == 1
        assert web.hits("/") == 2


def _short_body(exchange: Exchange) -> bool:
    exchange.answered()
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<html>")
    return False


async def test_a_body_cut_short_is_a_reset_and_retried(fake_clock: FakeClock) -> None:
    with serve({"/": _short_body}) as web:
        async with Fetcher(
            dataclasses.replace(FAST, retries=1), ssl_context=_CONTEXT, clock=fake_clock,
            sleep=fake_clock.sleep,
        ) as fetcher:
            observation = await fetcher.fetch(web.url("/"))
    assert observation.failure is FailureKind.RESET
    assert observation.status is None
    assert observation.attempts == 2


async def test_idle_connections_are_closed_with_the_fetcher() -> None:
    closed = threading.Event()   # set by the server's thread

    def watching(exchange: Exchange) -> bool:
        exchange.answered()
        exchange.send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        exchange.sock.settimeout(5)
        closed.set() if exchange.sock.recv(1) == b"" else None  # EOF: the client closed it
        return False

    with serve({"/": watching}) as web:
        async with Fetcher(FAST, ssl_context=_CONTEXT) as fetcher:
            assert (await fetcher.fetch(web.url("/"))).status == 200
            assert not closed.is_set()
        # the server's thread sees the close: wait on its event, not by polling
        assert await asyncio.to_thread(closed.wait, 5)


# --------------------------------------------------------------------------- answers and framing


def _header_of(size: int) -> Behaviour:
    return _raw(b"HTTP/1.1 200 OK\r\nContent-Security-Policy: " + b"a" * size
                + b"\r\nContent-Length: 0\r\n\r\n")


async def test_a_long_header_line_as_real_sites_send_is_accepted() -> None:
    with serve({"/": _header_of(20_000)}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.status == 200


async def test_a_header_beyond_the_line_limit_is_a_protocol_failure() -> None:
    with serve({"/": _header_of(100_000)}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.failure is FailureKind.PROTOCOL
    assert observation.status is None


async def test_the_request_target_is_sent_exactly_as_encoded() -> None:
    with serve({}) as web:
        await _fetch_all([web.url("/a%20b/%7Euser;p=1?q=%C3%A9&x=1&y")])
        (request,) = web.requests
    assert request.target == "/a%20b/%7Euser;p=1?q=%C3%A9&x=1&y"


async def test_informational_answers_are_skipped() -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\nServer: final\r\n\r\n<title>Final</title>\r\n"
    )
    with serve({"/": _raw(answer)}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert (observation.status, observation.title) == (200, "Final")
    assert dict(observation.headers)["server"] == "final"


async def test_a_body_that_ends_with_the_connection_is_read_whole() -> None:
    answer = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + html_page("All of it").encode()
    with serve({"/": _raw(answer)}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert (observation.status, observation.title, observation.failure) == (200, "All of it", None)


async def test_a_body_that_ends_with_a_tls_connection_is_read_whole(tls_ca: trustme.CA) -> None:
    # The test server closes without TLS's close_notify, as many real servers do.
    answer = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + html_page("All of it").encode()
    with serve({"/": _raw(answer)}, tls=tls_server_context(tls_ca)) as web:
        (observation,) = await _fetch_all([web.url("/")], context=_trusting(tls_ca))
    assert (observation.status, observation.title, observation.failure) == (200, "All of it", None)


async def test_sloppy_framing_is_read_as_lenient_clients_read_it() -> None:
    bare_lf = _raw(b"HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 17\n\n"
                   b"<title>LF</title>", keep=True)
    with serve({"/lf": bare_lf, "/next": page(200, title="Next")}) as web:
        observations = await _fetch_all([web.url("/lf"), web.url("/next")])
    assert [(o.status, o.title) for o in observations] == [(200, "LF"), (200, "Next")]


async def test_content_length_beside_chunked_is_a_protocol_failure_and_not_reused() -> None:
    # Where the old client read such an answer as curl does (chunked wins), aiohttp refuses it:
    # RFC 9112 6.3 says it "ought to be handled as an error" (response splitting). It stays a
    # protocol failure (unreachable, never dead), and its connection is not reused.
    both = _raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 99\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n11\r\n<title>Both</title>\r\n0\r\n\r\n",
                keep=True)
    with serve({"/both": both, "/next": page(200, title="Next")}) as web:
        observations = await _fetch_all([web.url("/both"), web.url("/next")])
        assert observations[0].failure is FailureKind.PROTOCOL
        assert "Transfer-Encoding can't be present with Content-Length" in observations[0].error
        assert (observations[1].status, observations[1].title) == (200, "Next")
        assert web.connections_accepted == 2


async def test_a_chunked_body_is_read_and_the_connection_kept() -> None:
    chunked = _raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"7\r\n<title>\r\n6\r\nChunks\r\n8\r\n</title>\r\n0\r\n\r\n",
        keep=True,
    )
    with serve({"/a": chunked, "/b": chunked}) as web:
        observations = await _fetch_all([web.url("/a"), web.url("/b")])
        assert [o.title for o in observations] == ["Chunks", "Chunks"]
        assert web.connections_accepted == 1


# --------------------------------------------------------------------------- failures


async def test_a_refused_connection_is_refused() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    (observation,) = await _fetch_all([f"http://127.0.0.1:{port}/"])
    assert observation.failure is FailureKind.REFUSED


async def test_a_malformed_status_line_is_a_protocol_failure() -> None:
    with serve({"/": malformed()}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.failure is FailureKind.PROTOCOL


async def test_an_untrusted_certificate_is_a_tls_failure() -> None:
    with serve({"/": page(200, title="x")}, tls=tls_server_context(trustme.CA())) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.failure is FailureKind.TLS


async def test_a_trusted_certificate_is_fetched_over_tls(tls_ca: trustme.CA) -> None:
    with serve({"/": page(200, title="Secure")}, tls=tls_server_context(tls_ca)) as web:
        (observation,) = await _fetch_all([web.url("/")], context=_trusting(tls_ca))
    assert (observation.status, observation.title) == (200, "Secure")


async def test_silence_is_a_timeout() -> None:
    with serve({"/": hang()}) as web:
        (observation,) = await _fetch_all([web.url("/")], dataclasses.replace(FAST, timeout_s=0.05))
    assert observation.failure is FailureKind.TIMEOUT


async def test_a_resolver_that_never_answers_is_a_timeout() -> None:
    async def stuck(host: str, port: int) -> list[str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    config = _with(stuck, dataclasses.replace(FAST, connect_timeout_s=0.05))
    (observation,) = await _fetch_all(["http://stuck.example/"], config)
    assert observation.failure is FailureKind.TIMEOUT


# --------------------------------------------------------------------------- names and addresses


async def test_an_international_name_is_asked_for_in_its_ascii_form() -> None:
    asked: list[str] = []

    async def lookup(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    with serve({"/": page(200, title="Bücher")}) as web:
        (observation,) = await _fetch_all([f"http://bücher.example:{web.port}/"], _with(lookup))
        (request,) = web.requests
    assert observation.status == 200
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
    assert observation.title == "Six"
    assert request.headers["host"] == f"[::1]:{web.port}"


async def test_a_name_answered_with_a_metadata_address_is_refused_by_the_resolver() -> None:
    config = _with(_answering("93.184.216.34", "169.254.169.254"))  # one bad address is enough
    (observation,) = await _fetch_all(["http://sneaky.example/"], config)
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS
    assert "169.254.169.254" in observation.error


async def test_a_name_that_does_not_exist_is_nxdomain() -> None:
    async def missing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    (observation,) = await _fetch_all(["http://gone.example/"], _with(missing))
    assert observation.failure is FailureKind.NXDOMAIN


async def test_the_next_address_is_tried_when_one_refuses() -> None:
    with serve({"/": page(200, title="Second address")}) as web:  # 127.0.0.1 only
        config = _with(_answering("127.0.0.2", "127.0.0.1"))
        (observation,) = await _fetch_all([f"http://two.example:{web.port}/"], config)
    assert observation.title == "Second address"


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
    silent_address: tuple[str, int],
) -> None:
    silent, port = silent_address
    with serve({"/": page(200, title="Other address")}, port=port) as web:  # 127.0.0.1, same port
        config = _with(_answering(silent, web.host), dataclasses.replace(FAST, connect_timeout_s=2))
        (observation,) = await _fetch_all([f"http://two.example:{port}/"], config)
    assert observation.title == "Other address"  # Happy Eyeballs: the next after 250 ms


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


async def test_lookups_run_side_by_side_in_the_loops_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    # Five lookups that each wait for the others can only finish if five run at once: more than
    # libuv's pool of four threads, where uvloop's own getaddrinfo would queue them. (The one
    # patch of this file: getaddrinfo is the system, not one of our seams.)
    import threading

    together = threading.Barrier(5, timeout=5)
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        asked.append(host)
        together.wait()
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answers = await asyncio.gather(*(resolve_host(f"host{i}.example", 80) for i in range(5)))
    assert answers == [["127.0.0.1"]] * 5
    assert sorted(asked) == [f"host{i}.example" for i in range(5)]


def _counting(error: socket.gaierror) -> tuple[Lookup, list[str]]:
    asked: list[str] = []

    async def lookup(host: str, port: int) -> list[str]:
        asked.append(host)
        raise error

    return lookup, asked


async def test_a_name_that_does_not_exist_is_asked_for_once() -> None:
    lookup, asked = _counting(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    observations = await _fetch_all([f"http://gone.example/{i}" for i in range(3)], _with(lookup))
    assert [o.failure for o in observations] == [FailureKind.NXDOMAIN] * 3
    assert asked == ["gone.example"]


async def test_a_temporary_dns_failure_is_asked_again() -> None:
    lookup, asked = _counting(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    observations = await _fetch_all([f"http://flaky.example/{i}" for i in range(3)], _with(lookup))
    assert [o.failure for o in observations] == [FailureKind.DNS] * 3
    assert asked == ["flaky.example"] * 3


async def test_a_missing_name_is_forgotten_after_its_time() -> None:
    lookup, asked = _counting(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    now = [0.0]
    resolver = GuardedResolver(allow_private=True, lookup=lookup, clock=lambda: now[0])
    for at in (0.0, GuardedResolver.NEGATIVE_TTL_S - 1, GuardedResolver.NEGATIVE_TTL_S + 1):
        now[0] = at
        with pytest.raises(socket.gaierror) as raised:
            await resolver.resolve("gone.example", 80)
        assert raised.value.errno == socket.EAI_NONAME
    assert asked == ["gone.example", "gone.example"]  # asked again only once the time was up


async def test_the_resolver_hands_aiohttp_the_vetted_addresses_of_both_families() -> None:
    resolver = GuardedResolver(allow_private=True, lookup=_answering("127.0.0.1", "::1"))
    answers = await resolver.resolve("both.example", 443)
    assert [(a["host"], a["family"], a["port"]) for a in answers] == [
        ("127.0.0.1", socket.AF_INET, 443), ("::1", socket.AF_INET6, 443)
    ]


# --------------------------------------------------------------------------- regressions (issue 13)


def _trailer_flood(exchange: Exchange) -> bool:
    """A chunked page followed by trailer lines that never end."""
    exchange.answered()
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"17\r\n<title>Flooded</title>\r\n0\r\n")
    line = b"X-Trailer: " + b"t" * 1000 + b"\r\n"
    try:
        while not exchange.stopping:
            exchange.send(line * 64)
    except OSError:
        pass  # the client hung up: what the test wants
    return False


async def test_a_trailer_flood_is_cut_off_not_buffered() -> None:
    # The old transport read trailer lines without a bound (900 MiB in 3 s). aiohttp counts
    # trailer fields against the header limit and gives up on the connection.
    with serve({"/": _trailer_flood}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.failure is FailureKind.PROTOCOL
    assert "Too many headers" in observation.error


async def test_a_connection_left_with_a_paused_body_is_not_reused() -> None:
    # A non-HTML body is read one chunk at a time and left there (the old transport then put
    # the connection back in the pool, and the next URL on the host hit a read timeout).
    blob = page(200, body=b"\x89PNG" + b"\0" * 400_000, content_type="image/png")
    with serve({"/big.png": blob, "/next": page(200, title="Next")}) as web:
        observations = await _fetch_all([web.url("/big.png"), web.url("/next")])
        assert observations[0].status == 200 and observations[0].truncated
        assert (observations[1].status, observations[1].title, observations[1].failure) == (
            200, "Next", None)
        assert web.connections_accepted == 2


async def test_bytes_after_a_response_are_not_taken_for_the_answer() -> None:
    # A stray second answer in the same read must not rewrite the status and body the caller
    # sees, and the connection that carried it is not reused.
    stray = _raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<title>First</title>"
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n<title>Stray</title>",
        keep=True,
    )
    with serve({"/a": stray, "/b": page(200, title="B")}) as web:
        observations = await _fetch_all([web.url("/a"), web.url("/b")])
        assert [(o.status, o.title) for o in observations] == [(200, "First"), (200, "B")]
        assert web.connections_accepted == 2


async def test_a_redirect_to_a_name_with_a_trailing_dot_is_fetched_over_tls(
    tls_ca: trustme.CA,
) -> None:
    # The certificate names "secure.test"; the redirect says "secure.test." (an absolute DNS
    # name). The dot must not reach the TLS name (the old transport's "certificate is not
    # valid for 'secure.test.'").
    with serve({"/b": page(200, title="Behind the dot")},
               tls=tls_server_context(tls_ca, "secure.test")) as target:
        with serve({"/a": page(301, headers=[("Location", f"https://secure.test.:{target.port}/b")])},
                   tls=tls_server_context(tls_ca, "secure.test")) as first:
            config = _with(_answering("127.0.0.1"))
            (observation,) = await _fetch_all(
                [f"https://secure.test:{first.port}/a"], config, context=_trusting(tls_ca)
            )
    assert observation.failure is None, observation.error
    assert (observation.status, observation.title) == (200, "Behind the dot")
    assert observation.final_url == f"https://secure.test.:{target.port}/b"


def _gzip_members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(part) for part in parts)


async def test_a_gzip_body_of_several_members_is_read_whole() -> None:
    # nginx's gzip_static serves concatenated files as they are: several gzip members. The old
    # decoder stopped after the first, and the title in the second was never seen.
    html = html_page("Found in the second member", "<p>text</p>").encode()
    body = _gzip_members(html[:30], html[30:])
    headers = [("Content-Encoding", "gzip")]
    with serve({"/": page(200, body=body, headers=headers, content_type="text/html")}) as web:
        (observation,) = await _fetch_all([web.url("/")])
    assert observation.failure is None, observation.error
    assert observation.title == "Found in the second member"
    assert observation.body_bytes == len(html) and not observation.truncated


async def test_a_gzip_body_of_several_members_is_capped_in_decoded_bytes() -> None:
    body = _gzip_members(*(b"<p>" + b"x" * 9_996 + b"</p>" for _ in range(20)))  # 200 kB decoded
    headers = [("Content-Encoding", "gzip")]
    config = dataclasses.replace(FAST, max_body_bytes=25_000)
    with serve({"/": page(200, body=body, headers=headers, content_type="text/html")}) as web:
        (observation,) = await _fetch_all([web.url("/")], config)
    assert observation.failure is None
    assert observation.body_bytes == 25_000 and observation.truncated
