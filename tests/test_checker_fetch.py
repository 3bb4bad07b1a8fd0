"""Fetching one URL against real loopback servers: what the Observation records, and every way a
server can misbehave ending as a value, quickly. Backoff and Retry-After waits use a fake clock."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import socket
import ssl
import time
import types
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

import checker.net.client
import checker.net.fetch
from checker.judge.classify import classify
from checker.models import FailureKind, Hop, Observation, Verdict
from checker.net.client import (
    build_ssl_context,
    ca_environment_problem,
    forbidden_reason,
    request_headers,
    resolve_host,
)
from checker.net.fetch import Fetcher, failure_of, read_page, refresh_target
from checker.settings import CheckSettings
from tests.servers import (
    Behaviour,
    Exchange,
    LocalServer,
    close_silently,
    drip,
    endless,
    forward_proxy,
    gzip_bomb,
    gzip_bomb_payload,
    hang,
    html_page,
    malformed,
    page,
    redirect,
    reset,
    retry_after,
    sequence,
    serve,
)

if TYPE_CHECKING:
    from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio

FAST = CheckSettings(
    timeout_s=0.3,
    connect_timeout_s=0.3,
    total_timeout_s=5.0,
    retries=0,
    host_interval_s=0.0,
    backoff_base_s=1.0,
    max_body_bytes=100_000,
)
_CERTIFI_CONTEXT = build_ssl_context({})


def settings(**changes: object) -> CheckSettings:
    return dataclasses.replace(FAST, **changes)  # type: ignore[arg-type]


async def fetch(
    url: str, config: CheckSettings = FAST, clock: FakeClock | None = None, *, env_tls: bool = False
) -> Observation:
    """One URL through a fresh Fetcher; waits go to the fake clock when one is given."""
    async with Fetcher(
        config,
        clock=time.monotonic if clock is None else clock,
        sleep=asyncio.sleep if clock is None else clock.sleep,
        ssl_context=None if env_tls else _CERTIFI_CONTEXT,  # None: built from the environment
    ) as fetcher:
        return await fetcher.fetch(url)


class FakeDns(dict[str, "list[str] | BaseException"]):
    """Fake DNS answers: name -> addresses (or an exception); other names resolve for real.
    Injected as `CheckSettings.resolver`."""

    async def lookup(self, host: str, port: int) -> list[str]:
        answer = self.get(host)
        if answer is None:
            return await resolve_host(host, port)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def settings(self, config: CheckSettings = FAST) -> CheckSettings:
        return dataclasses.replace(config, resolver=self.lookup)


@pytest.fixture
def resolver() -> FakeDns:
    return FakeDns()


# --------------------------------------------------------------------------- answers


async def test_a_page_is_observed_with_title_headings_and_text(web: LocalServer) -> None:
    observation = await fetch(web.url("/ok"))
    assert observation.url == observation.final_url == web.url("/ok")
    assert observation.status == 200
    assert observation.chain == (Hop(200, web.url("/ok")),)
    assert observation.method == "GET"
    assert observation.content_type == "text/html"
    assert observation.title == "Annual report 2019"
    assert observation.headings == ("Annual report",)
    assert observation.body_sample == "Annual report Figures."
    assert observation.body_bytes > 100
    assert observation.truncated is False
    assert observation.failure is None and observation.error == ""
    assert observation.attempts == 1
    assert observation.retry_after_s is None
    assert observation.elapsed_ms >= 0
    assert ("content-type", "text/html; charset=utf-8") in observation.headers


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/gone", 410, "Gone"),
        ("/missing", 404, "Page not found"),
        ("/forbidden", 403, "Access denied"),
    ],
)
async def test_error_statuses_are_answers_not_failures(
    web: LocalServer, path: str, status: int, title: str
) -> None:
    observation = await fetch(web.url(path))
    assert (observation.status, observation.title, observation.failure) == (status, title, None)
    assert observation.attempts == 1  # 4xx are never retried


async def test_requests_look_like_a_browser_and_carry_host_headers_to_that_host_only() -> None:
    with serve({"/": page(200, title="Target")}, host="127.0.0.3") as target:
        with serve({"/": redirect(302, target.url("/"))}, host="127.0.0.2") as origin:
            config = settings(
                user_agent="citewatch-test/1", host_headers={"127.0.0.2": {"X-Token": "secret"}}
            )
            observation = await fetch(origin.url("/"), config)
    assert observation.status == 200
    sent = origin.requests[0].headers
    assert sent["user-agent"] == "citewatch-test/1"
    assert sent["accept"].startswith("text/html,application/xhtml+xml")
    assert sent["accept-language"].startswith("en-US,en;q=0.9")
    assert "gzip" in sent["accept-encoding"]
    assert sent["x-token"] == "secret"
    assert "x-token" not in target.requests[0].headers
    assert "cookie" not in sent
    assert sent["host"] == f"127.0.0.2:{origin.port}"
    assert target.requests[0].headers["host"] == f"127.0.0.3:{target.port}"
    assert not {"content-length", "transfer-encoding"} & set(sent)  # a GET has no body


async def test_selected_headers_are_kept_and_cookies_only_noted() -> None:
    headers = [
        ("Set-Cookie", "session=abc"),
        ("Server", "nginx"),
        ("X-Unrelated", "1"),
        ("CF-Mitigated", "challenge"),
    ]
    with serve({"/": page(403, title="Just a moment...", headers=headers)}) as web:
        observation = await fetch(web.url("/"))
    kept = dict(observation.headers)
    assert kept["set-cookie"] == "present"
    assert kept["server"] == "nginx"
    assert kept["cf-mitigated"] == "challenge"
    assert "x-unrelated" not in kept


# --------------------------------------------------------------------------- redirects


async def test_redirects_are_followed_by_hand_and_recorded() -> None:
    routes = {
        "/a/start": redirect(301, "/a/next"),
        "/a/next": redirect(302, "../b/end?x=1"),  # relative Location
        "/b/end": page(200, title="End"),
    }
    with serve(routes) as web:
        observation = await fetch(web.url("/a/start"))
    assert observation.status == 200
    assert observation.title == "End"
    assert observation.final_url == web.url("/b/end?x=1")
    assert observation.chain == (
        Hop(301, web.url("/a/start")),
        Hop(302, web.url("/a/next")),
        Hop(200, web.url("/b/end?x=1")),
    )


async def test_a_redirect_to_another_host_uses_that_host(web: LocalServer) -> None:
    with serve({"/": redirect(308, web.url("/ok"))}, host="127.0.0.2") as origin:
        observation = await fetch(origin.url("/"))
    assert [hop.status for hop in observation.chain] == [308, 200]
    assert observation.final_url == web.url("/ok")


async def test_a_3xx_without_location_is_a_final_answer() -> None:
    with serve({"/": redirect(302, None)}) as web:
        observation = await fetch(web.url("/"))
    assert (observation.status, observation.failure) == (302, None)
    assert observation.chain == (Hop(302, web.url("/")),)


async def test_a_redirect_loop_is_detected(web: LocalServer) -> None:
    observation = await fetch(web.url("/loop"))
    assert observation.failure is FailureKind.REDIRECT_LOOP
    assert observation.status is None
    assert [hop.status for hop in observation.chain] == [302, 302]


@pytest.mark.parametrize(
    ("max_redirects", "failure"), [(2, FailureKind.TOO_MANY_REDIRECTS), (3, None)]
)
async def test_redirects_are_capped(max_redirects: int, failure: FailureKind | None) -> None:
    routes = {
        "/1": redirect(302, "/2"),
        "/2": redirect(302, "/3"),
        "/3": redirect(302, "/ok"),
        "/ok": page(200),
    }
    with serve(routes) as web:
        observation = await fetch(web.url("/1"), settings(max_redirects=max_redirects))
    assert observation.failure is failure
    assert len(observation.chain) == (3 if failure else 4)


async def test_a_cookie_wall_that_redirects_to_itself_is_not_a_loop() -> None:
    def cookie_wall(exchange: Exchange) -> bool:
        if "seen=1" in exchange.request.headers.get("cookie", ""):
            return page(200, title="Article")(exchange)
        return redirect(302, "/article", headers=[("Set-Cookie", "seen=1; Path=/; HttpOnly")])(
            exchange
        )

    with serve({"/article": cookie_wall}) as web:
        observation = await fetch(web.url("/article"))
        second = await fetch(web.url("/article"))
    assert (observation.status, observation.title) == (200, "Article")
    assert [hop.status for hop in observation.chain] == [302, 200]
    assert [hop.status for hop in second.chain] == [302, 200]  # no cookie kept between URLs


def _refreshing(content: str, title: str = "Redirecting") -> Behaviour:
    """A 200 page whose <meta http-equiv="refresh"> sends the reader on."""
    return page(200, body=html_page(
        title, "<p>This page has moved.</p>",
        head=f'<meta http-equiv="refresh" content="{content}">',
    ).encode())


async def test_a_meta_refresh_to_a_404_is_a_dead_link() -> None:
    routes = {"/reports/2019": _refreshing("0; url=/gone")}
    with serve(routes) as web:
        observation = await fetch(web.url("/reports/2019"))
    assert observation.status == 404
    assert observation.chain == (Hop(200, web.url("/reports/2019")), Hop(404, web.url("/gone")))
    assert classify(observation).verdict is Verdict.DEAD


async def test_a_meta_refresh_to_a_live_page_is_alive_not_moved() -> None:
    routes = {
        "/reports/2019": _refreshing("3;URL='/archive/report-2019.html'"),
        "/archive/report-2019.html": page(200, title="Annual report 2019"),
    }
    with serve(routes) as web:
        observation = await fetch(web.url("/reports/2019"))
    assert (observation.status, observation.title) == (200, "Annual report 2019")
    assert observation.final_url == web.url("/archive/report-2019.html")
    assert classify(observation).verdict is Verdict.ALIVE  # like a 302: moved needs a 301/308


async def test_a_permanent_redirect_then_a_meta_refresh_is_moved_by_the_usual_rules() -> None:
    routes = {
        "/reports/2019": redirect(301, "/new/reports"),
        "/new/reports": _refreshing("0; url=/new/reports/2019.html"),
        "/new/reports/2019.html": page(200, title="Annual report 2019"),
    }
    with serve(routes) as web:
        observation = await fetch(web.url("/reports/2019"))
    assert [hop.status for hop in observation.chain] == [301, 200, 200]
    judgement = classify(observation)
    assert judgement.verdict is Verdict.MOVED
    assert judgement.suggested_url == web.url("/new/reports/2019.html")


async def test_a_refresh_header_is_followed_too() -> None:
    routes = {
        "/reports/2019": page(200, title="Moved", headers=[("Refresh", "0; url=/gone")]),
    }
    with serve(routes) as web:
        observation = await fetch(web.url("/reports/2019"))
    assert observation.status == 404


@pytest.mark.parametrize("content", ["10; url=/gone", "60", "0", "0; url=/reports/2019#top"])
async def test_a_slow_refresh_or_a_reload_is_not_followed(content: str) -> None:
    with serve({"/reports/2019": _refreshing(content, title="Report 2019")}) as web:
        observation = await fetch(web.url("/reports/2019"))
    assert (observation.status, observation.title) == (200, "Report 2019")
    assert observation.chain == (Hop(200, web.url("/reports/2019")),)


async def test_a_refresh_loop_is_detected_and_a_refresh_chain_capped() -> None:
    routes = {
        "/a": _refreshing("0; url=/b"),
        "/b": _refreshing("0; url=/a"),
        **{f"/step/{i}": _refreshing(f"0; url=/step/{i + 1}") for i in range(30)},
    }
    with serve(routes) as web:
        loop = await fetch(web.url("/a"))
        chain = await fetch(web.url("/step/0"), settings(max_redirects=5))
    assert loop.failure is FailureKind.REDIRECT_LOOP
    assert [hop.status for hop in loop.chain] == [200, 200]
    assert chain.failure is FailureKind.TOO_MANY_REDIRECTS
    assert len(chain.chain) == 6
    assert classify(loop).verdict is classify(chain).verdict is Verdict.UNREACHABLE


@pytest.mark.parametrize(
    ("header", "meta", "content_type", "expected"),
    [
        (None, '<meta http-equiv="refresh" content="0; url=/next">', "text/html", "/next"),
        (None, "<META HTTP-EQUIV=Refresh CONTENT='5;URL=/next'>", "text/html", "/next"),
        (None, '<meta content="1, /next" http-equiv="refresh">', "text/html", "/next"),
        (None, '<meta http-equiv="refresh" content="0; url=&quot;/next&quot;">', None, "/next"),
        (None, '<meta http-equiv="refresh" content="5.5; url=/next">', "text/html", None),
        (None, '<meta http-equiv="refresh" content="0; url=/next">', "text/plain", None),
        (None, '<meta http-equiv="refresh" content="0; url=http://[bad">', "text/html", None),
        ("0;url=/next", "", "application/pdf", "/next"),
    ],
)
def test_refresh_target_reads_what_browsers_read(
    header: str | None, meta: str, content_type: str | None, expected: str | None
) -> None:
    body = f"<html><head>{meta}</head><body></body></html>".encode()
    assert refresh_target(header, body, content_type, "http://example.org/page") == expected


async def test_a_redirect_to_a_non_http_scheme_is_an_invalid_url() -> None:
    with serve({"/": redirect(301, "ftp://files.example/report.pdf")}) as web:
        observation = await fetch(web.url("/"))
    assert observation.failure is FailureKind.INVALID_URL
    assert observation.chain == (Hop(301, web.url("/")),)
    assert observation.final_url == "ftp://files.example/report.pdf"


# --------------------------------------------------------------------------- bounds


async def test_a_server_that_never_answers_times_out(web: LocalServer) -> None:
    # /slow would keep the connection a minute: a timeout is what ends it, not the server
    observation = await fetch(web.url("/slow"))
    assert observation.failure is FailureKind.TIMEOUT
    assert observation.status is None


async def test_timeouts_are_retried_with_backoff(fake_clock: FakeClock) -> None:
    with serve({"/": hang()}) as web:
        observation = await fetch(web.url("/"), settings(retries=2), fake_clock)
        assert web.hits("/") == 3
    assert observation.failure is FailureKind.TIMEOUT
    assert observation.attempts == 3
    assert len(fake_clock.sleeps) == 2
    assert 0.5 <= fake_clock.sleeps[0] <= 1.5 and 1.0 <= fake_clock.sleeps[1] <= 3.0


@pytest.mark.parametrize("in_status_line", [False, True], ids=["body", "status-line"])
async def test_a_dripping_server_is_stopped_by_the_total_time_limit(in_status_line: bool) -> None:
    with serve({"/": drip(0.02, in_status_line=in_status_line)}) as web:
        observation = await fetch(web.url("/"), settings(total_timeout_s=0.5, retries=3))
    assert observation.failure is FailureKind.TIMEOUT
    assert "total time limit" in observation.error
    assert observation.attempts == 1


async def test_an_endless_body_is_capped() -> None:
    with serve({"/": endless()}) as web:
        observation = await fetch(web.url("/"), settings(max_body_bytes=50_000))
    assert (observation.status, observation.failure) == (200, None)
    assert observation.body_bytes == 50_000
    assert observation.truncated is True
    assert observation.body_sample.startswith("endless endless")


async def test_a_gzip_bomb_is_capped_in_decoded_bytes() -> None:
    decoded = 16 << 20
    assert len(gzip_bomb_payload(decoded)) < decoded // 500
    with serve({"/": gzip_bomb(decoded)}) as web:
        observation = await fetch(web.url("/"), settings(max_body_bytes=100_000))
    assert observation.status == 200
    assert observation.body_bytes == 100_000
    assert observation.truncated is True
    assert observation.title == "Bomb"


@pytest.mark.parametrize(
    "encode",
    [gzip.compress, zlib.compress, lambda data: zlib.compress(data)[2:-4]],
    ids=["gzip", "deflate", "raw-deflate"],
)
async def test_compressed_pages_are_decoded(encode: object) -> None:
    html = b"<html><head><title>Compressed</title></head><body><h1>Big</h1></body></html>"
    name = "gzip" if encode is gzip.compress else "deflate"
    body = encode(html)  # type: ignore[operator]
    with serve({"/": page(200, body=body, headers=[("Content-Encoding", name)])}) as web:
        observation = await fetch(web.url("/"))
    assert observation.title == "Compressed"
    assert observation.body_bytes == len(html)
    assert observation.failure is None


@pytest.mark.parametrize(
    ("encoding", "body"),
    [("br", b"\x0b\x02\x80hello\x03"), ("gzip", b"\x1f\x8b\x08\x00not gzip at all")],
)
async def test_an_undecodable_body_keeps_its_status(encoding: str, body: bytes) -> None:
    with serve({"/": page(200, body=body, headers=[("Content-Encoding", encoding)])}) as web:
        observation = await fetch(web.url("/"))
    assert observation.status == 200
    assert observation.failure is FailureKind.DECODING
    assert observation.error


async def test_non_html_bodies_are_not_read_past_the_first_chunk(web: LocalServer) -> None:
    observation = await fetch(web.url("/pdf"), settings(max_body_bytes=10_000_000))
    assert (observation.status, observation.content_type) == (200, "application/pdf")
    assert 0 < observation.body_bytes < 200_000
    assert observation.truncated is True
    assert observation.title is None and observation.body_sample == ""


async def test_a_small_non_html_body_read_whole_is_not_truncated() -> None:
    with serve({"/": page(200, body=b"just text", content_type="text/plain")}) as web:
        observation = await fetch(web.url("/"))
    assert (observation.body_sample, observation.truncated) == ("just text", False)


async def test_a_malformed_status_line_is_a_protocol_failure() -> None:
    with serve({"/": malformed()}) as web:
        observation = await fetch(web.url("/"), settings(retries=2))
    assert observation.failure is FailureKind.PROTOCOL
    assert observation.attempts == 1  # not transient: no retry


@pytest.mark.parametrize("behaviour", [reset(), close_silently()], ids=["rst", "close"])
async def test_a_reset_connection_is_a_reset(behaviour: object, fake_clock: FakeClock) -> None:
    with serve({"/": behaviour}) as web:  # type: ignore[dict-item]
        observation = await fetch(web.url("/"), settings(retries=1), fake_clock)
    assert observation.failure is FailureKind.RESET
    assert observation.attempts == 2


async def test_invalid_utf8_is_replaced_not_fatal() -> None:
    body = (
        b"<html><head><title>Caf\xc3\xa9 \xff\xfe report</title></head><body>\x80ok</body></html>"
    )
    with serve({"/": page(200, body=body)}) as web:
        observation = await fetch(web.url("/"))
    assert observation.title == "Café \ufffd\ufffd report"
    assert observation.failure is None


async def test_a_meta_charset_decodes_the_title() -> None:
    html = '<html><head><meta charset="windows-1252"><title>Résumé – 2019</title></head></html>'
    body = html.encode("cp1252")
    with serve({"/": page(200, body=body, content_type="text/html")}) as web:
        observation = await fetch(web.url("/"))
    assert observation.title == "Résumé – 2019"


# --------------------------------------------------------------------------- retries


async def test_a_429_with_retry_after_is_retried_after_that_wait(fake_clock: FakeClock) -> None:
    with serve({"/": retry_after("7", page(200, title="Finally"))}) as web:
        observation = await fetch(web.url("/"), settings(retries=2, total_timeout_s=60), fake_clock)
        assert web.hits("/") == 2
    assert (observation.status, observation.title, observation.attempts) == (200, "Finally", 2)
    assert fake_clock.sleeps == [7.0]


async def test_retry_after_as_an_http_date(fake_clock: FakeClock) -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    with serve({"/": retry_after(when, page(200), status=503)}) as web:
        observation = await fetch(web.url("/"), settings(retries=1, total_timeout_s=60), fake_clock)
    assert observation.status == 200
    assert len(fake_clock.sleeps) == 1 and 25 <= fake_clock.sleeps[0] <= 30


async def test_a_retry_after_beyond_the_maximum_is_recorded_not_waited(
    fake_clock: FakeClock,
) -> None:
    with serve({"/": retry_after("3600", page(200))}) as web:
        observation = await fetch(
            web.url("/"), settings(retries=3, max_retry_after_s=60), fake_clock
        )
    assert (observation.status, observation.retry_after_s, observation.attempts) == (429, 3600.0, 1)
    assert fake_clock.sleeps == []


async def test_no_retry_is_started_that_would_end_after_the_total_time_limit(
    fake_clock: FakeClock,
) -> None:
    with serve({"/": retry_after("10", page(200))}) as web:
        observation = await fetch(web.url("/"), settings(retries=3, total_timeout_s=5), fake_clock)
    assert (observation.status, observation.retry_after_s, observation.attempts) == (429, 10.0, 1)
    assert fake_clock.sleeps == []


async def test_a_503_then_200_is_retried_with_backoff(fake_clock: FakeClock) -> None:
    with serve({"/": sequence(page(503), page(200, title="Back"))}) as web:
        observation = await fetch(web.url("/"), settings(retries=2), fake_clock)
    assert (observation.status, observation.title, observation.attempts) == (200, "Back", 2)
    assert len(fake_clock.sleeps) == 1 and 0.5 <= fake_clock.sleeps[0] <= 1.5


async def test_a_lasting_503_ends_after_the_last_retry(fake_clock: FakeClock) -> None:
    with serve({"/": page(503)}) as web:
        observation = await fetch(web.url("/"), settings(retries=2), fake_clock)
        assert web.hits("/") == 3
    assert (observation.status, observation.failure, observation.attempts) == (503, None, 3)


# --------------------------------------------------------------------------- network failures


async def test_a_refused_connection_is_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once it is closed
    observation = await fetch(f"http://127.0.0.1:{port}/")
    assert observation.failure is FailureKind.REFUSED
    assert observation.status is None and observation.chain == ()


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), FailureKind.NXDOMAIN),
        (
            socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
            FailureKind.DNS,
        ),
    ],
)
async def test_dns_failures_tell_nxdomain_from_the_rest(
    resolver: FakeDns, error: socket.gaierror, kind: FailureKind
) -> None:
    resolver["gone.test"] = error
    observation = await fetch("http://gone.test/page", resolver.settings())
    assert observation.failure is kind
    assert observation.error


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
        "http://100.100.100.200/",
        "http://2852039166/",  # 169.254.169.254 spelt as one number
        "http://0xA9FEA9FE/",
        "http://169.254.43518/",
    ],
)
async def test_link_local_and_metadata_addresses_are_never_fetched(url: str) -> None:
    observation = await fetch(url)
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS
    assert observation.chain == ()


async def test_a_redirect_to_the_metadata_address_is_refused() -> None:
    with serve({"/": redirect(302, "http://169.254.169.254/latest/meta-data/")}) as web:
        observation = await fetch(web.url("/"))
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS
    assert observation.chain == (Hop(302, web.url("/")),)
    assert observation.final_url == "http://169.254.169.254/latest/meta-data/"


async def test_a_name_resolving_to_the_metadata_address_is_refused(
    resolver: FakeDns,
) -> None:
    resolver["metadata.test"] = ["10.0.0.1", "169.254.169.254"]  # any bad address in the answer
    with serve({"/": redirect(302, "http://metadata.test/latest/meta-data/")}) as web:
        observation = await fetch(web.url("/"), resolver.settings())
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS
    assert "169.254.169.254" in observation.error
    assert [hop.status for hop in observation.chain] == [302]


async def test_a_name_is_connected_to_at_the_address_that_was_vetted(
    resolver: FakeDns,
) -> None:
    with serve({"/": page(200, title="Pinned")}, host="127.0.0.2") as web:
        resolver["site.test"] = ["127.0.0.2"]
        observation = await fetch(f"http://site.test:{web.port}/", resolver.settings())
        assert web.requests[0].headers["host"] == f"site.test:{web.port}"
    assert (observation.status, observation.title) == (200, "Pinned")


async def test_private_addresses_are_refused_when_not_allowed(
    web: LocalServer, resolver: FakeDns
) -> None:
    resolver["intranet.test"] = ["127.0.0.1"]
    strict = resolver.settings(settings(allow_private=False))
    direct = await fetch(web.url("/ok"), strict)
    by_name = await fetch(f"http://intranet.test:{web.port}/ok", strict)
    assert direct.failure is by_name.failure is FailureKind.FORBIDDEN_ADDRESS


@pytest.mark.parametrize(
    ("address", "allow_private", "refused"),
    [
        ("169.254.1.1", True, True),
        ("fe80::1%eth0", True, True),
        ("127.0.0.1", True, False),
        ("127.0.0.1", False, True),
        ("192.168.1.10", False, True),
        ("::1", False, True),
        ("93.184.215.14", False, False),
        ("example.org", False, False),
        ("deadbeef.cafe", False, False),
        ("2130706433", False, True),  # 127.0.0.1
    ],
)
def test_forbidden_reason(address: str, allow_private: bool, refused: bool) -> None:
    assert (forbidden_reason(address, allow_private=allow_private) is not None) is refused


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "http://", "not a url", "mailto:someone@example.org"]
)
async def test_unfetchable_urls_are_invalid(url: str) -> None:
    observation = await fetch(url)
    assert observation.failure is FailureKind.INVALID_URL
    assert observation.attempts == 1


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
async def test_https_trusts_the_ca_named_in_the_environment(
    secure_web: LocalServer, ca_file: object, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, str(ca_file))
    observation = await fetch(secure_web.url("/ok"), env_tls=True)
    assert (observation.status, observation.title) == (200, "Annual report 2019")


async def test_an_untrusted_certificate_is_a_tls_failure(secure_web: LocalServer) -> None:
    observation = await fetch(secure_web.url("/ok"), env_tls=True)  # certifi does not know our CA
    assert observation.failure is FailureKind.TLS
    assert "certificate" in observation.error.lower()


def test_ssl_cert_file_wins_over_requests_ca_bundle(ca_file: object, tmp_path: object) -> None:
    missing = f"{tmp_path}/missing.pem"
    assert build_ssl_context({"SSL_CERT_FILE": str(ca_file), "REQUESTS_CA_BUNDLE": missing})
    with pytest.raises(OSError):
        build_ssl_context({"REQUESTS_CA_BUNDLE": missing})


def test_a_ca_variable_naming_a_missing_path_is_a_problem_named_before_a_run(
    ca_file: object, tmp_path: object
) -> None:
    missing = f"{tmp_path}/missing.pem"
    assert ca_environment_problem({}) is None
    assert ca_environment_problem({"SSL_CERT_FILE": str(ca_file), "REQUESTS_CA_BUNDLE": missing}) is None
    assert ca_environment_problem({"REQUESTS_CA_BUNDLE": missing}) == (
        f"REQUESTS_CA_BUNDLE={missing}: no such file or directory"
    )
    assert ca_environment_problem({"SSL_CERT_DIR": missing}) is not None


async def test_the_tls_context_is_built_only_when_a_tls_connection_needs_it(
    web: LocalServer, secure_web: LocalServer, ca_file: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    async with Fetcher(FAST) as fetcher:
        assert (await fetcher.fetch(web.url("/ok"))).status == 200
        assert fetcher._ssl_context is None  # plain HTTP: no CA bundle read
        assert (await fetcher.fetch(secure_web.url("/ok"))).status == 200
        assert fetcher._ssl_context is not None


@pytest.fixture
def proxy() -> Iterator[LocalServer]:
    with serve({}, host="127.0.0.5", default=forward_proxy()) as server:
        yield server


async def test_http_proxy_from_the_environment_is_used(
    web: LocalServer, proxy: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
    observation = await fetch(web.url("/ok"))
    assert (observation.status, observation.title) == (200, "Annual report 2019")
    assert [request.target for request in proxy.requests] == [web.url("/ok")]


async def test_no_proxy_bypasses_the_proxy(
    web: LocalServer, proxy: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    observation = await fetch(web.url("/ok"))
    assert observation.status == 200
    assert proxy.requests == []


async def test_literal_metadata_addresses_are_refused_behind_a_proxy_too(
    proxy: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
    observation = await fetch("http://169.254.169.254/")
    assert observation.failure is FailureKind.FORBIDDEN_ADDRESS
    assert proxy.requests == []


async def test_a_proxy_named_in_the_environment_is_not_vetted_as_a_target(
    proxy: LocalServer, resolver: FakeDns, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user chose the proxy: its name resolving to a private address does not refuse it,
    # even with private addresses refused; the proxy resolves the target itself.
    resolver["proxy.test"] = [proxy.host]
    monkeypatch.setenv("HTTP_PROXY", f"http://proxy.test:{proxy.port}")
    observation = await fetch("http://www.example.test/page",
                              resolver.settings(settings(allow_private=False)))
    assert observation.status == 502  # the test proxy forwards only to loopback addresses
    assert [request.target for request in proxy.requests] == ["http://www.example.test/page"]


# --------------------------------------------------------------------------- one place for errors


def _raised_from(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


def _connection_key() -> Any:
    """What aiohttp's connect errors read of the connection they were making (host, port, ssl)."""
    return types.SimpleNamespace(host="example.org", port=80, ssl=True, is_ssl=False)


def _connector_error(cls: type[aiohttp.ClientConnectorError], cause: OSError) -> BaseException:
    """aiohttp's connect failure as it raises it: wrapping the OS error, chained from it."""
    return _raised_from(cls(_connection_key(), cause), cause)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), FailureKind.TIMEOUT),  # a TimeoutError first
        (aiohttp.SocketTimeoutError("read"), FailureKind.TIMEOUT),
        (aiohttp.InvalidURL("nope"), FailureKind.INVALID_URL),
        (
            _raised_from(aiohttp.ClientError("x"), checker.net.client.ForbiddenAddress("metadata")),
            FailureKind.FORBIDDEN_ADDRESS,
        ),
        (
            _connector_error(
                aiohttp.ClientConnectorDNSError,
                socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            ),
            FailureKind.NXDOMAIN,
        ),
        (
            _connector_error(
                aiohttp.ClientConnectorDNSError, socket.gaierror(socket.EAI_AGAIN, "Temporary failure")
            ),
            FailureKind.DNS,
        ),
        (
            _connector_error(
                aiohttp.ClientConnectorError, ssl.SSLCertVerificationError("certificate verify failed")
            ),
            FailureKind.TLS,
        ),
        (
            _connector_error(
                aiohttp.ClientConnectorError, ConnectionRefusedError(111, "Connection refused")
            ),
            FailureKind.REFUSED,
        ),
        (
            _raised_from(aiohttp.ClientOSError(104, "reset"), ConnectionResetError(104, "reset")),
            FailureKind.RESET,
        ),
        (aiohttp.ServerDisconnectedError(), FailureKind.RESET),
        (
            aiohttp.ClientPayloadError(
                "Response payload is not completed: <ContentLengthError: 400, message='Not enough "
                "data to satisfy content length header.'>"
            ),
            FailureKind.RESET,
        ),
        (
            aiohttp.ClientPayloadError(
                "Response payload is not completed: <BadHttpMessage: 400, message='Too many "
                "headers received'>"
            ),
            FailureKind.PROTOCOL,
        ),
        (
            aiohttp.ClientResponseError(
                types.SimpleNamespace(real_url="http://example.org/"),  # type: ignore[arg-type]
                (), status=400, message="Invalid response status",
            ),
            FailureKind.PROTOCOL,
        ),
        (_connector_error(aiohttp.ClientConnectorError, OSError("no route")), FailureKind.CONNECT),
        (OSError("All connection attempts failed"), FailureKind.CONNECT),
        (RuntimeError("a surprise"), FailureKind.PROTOCOL),
    ],
)
def test_failure_of_maps_most_specific_first(exc: BaseException, kind: FailureKind) -> None:
    assert failure_of(exc)[0] is kind


# --------------------------------------------------------------------------- page text


async def test_an_internal_error_is_still_an_observation(
    web: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(body: bytes, content_type: str | None) -> None:
        raise ValueError("a bug in page reading")

    monkeypatch.setattr(checker.net.fetch, "read_page", broken)
    observation = await fetch(web.url("/ok"))
    assert observation.failure is FailureKind.PROTOCOL
    assert observation.error == "internal error: ValueError: a bug in page reading"


def test_host_headers_match_the_host_whatever_its_case() -> None:
    config = settings(host_headers={"Example.ORG": {"Authorization": "Bearer x"}})
    assert request_headers(config, "example.org")["Authorization"] == "Bearer x"
    assert "Authorization" not in request_headers(config, "other.org")


@pytest.mark.parametrize(
    ("body", "content_type", "title", "headings"),
    [
        (b"<title>  A &amp; B\n report </title>", "text/html", "A & B report", ()),
        (b"<TITLE lang=en>Upper</TITLE>", "text/html", "Upper", ()),
        (
            b'<head><meta content="OG title" property="og:title"><title>T</title></head>'
            b'<body><h1 class="x">First <em>heading</em></h1><h1>Second</h1>',
            "text/html",
            "T",
            ("OG title", "First heading"),
        ),
        (
            b"<head><meta property='og:title' content='Only OG'></head><body></body>",
            "text/html",
            "Only OG",
            ("Only OG",),
        ),
        (
            b"<html><body><svg><title>icon</title></svg><p>x</p></body></html>",
            "text/html",
            None,
            (),
        ),
        (b"<!doctype html><title>Sniffed</title>", None, "Sniffed", ()),
        (b"%PDF-1.7 <title>no</title>", "application/pdf", None, ()),
        (b"", "text/html", None, ()),
        ("<title>Привет</title>".encode("koi8-r"), "text/html; charset=koi8-r", "Привет", ()),
        ("<title>caf\u00e9</title>".encode("utf-16"), "text/html", "caf\u00e9", ()),
        (b"<title>x</title>", "text/html; charset=no-such-charset", "x", ()),
        (b"<title>unclosed and long" + b" x" * 1000, "text/html", None, ()),
    ],
)
def test_read_page_titles(
    body: bytes, content_type: str | None, title: str | None, headings: tuple[str, ...]
) -> None:
    text = read_page(body, content_type)
    assert text.title == title
    assert text.headings == headings


def test_read_page_sample_is_visible_text_only() -> None:
    body = (
        b"<html><head><title>T</title><style>p{}</style></head><body>"
        b"<script>var hidden = '<p>not me</p>';</script><!-- nor me -->"
        b"<p>Hello&nbsp;world,</p>\n\n   <div>second   line</div><noscript>no</noscript><p>end</p>"
    )
    assert read_page(body, "text/html").sample == "Hello\xa0world, second line end"


def test_read_page_sample_is_capped() -> None:
    body = b"<body>" + b"<p>word</p>" * 5000
    sample = read_page(body, "text/html").sample
    assert 1900 <= len(sample) <= 2000


def test_read_page_reads_a_large_page() -> None:
    """A typical 100 KB page (bench/bench_budgets.py times it: well under a millisecond)."""
    head = (
        b"<head><title>Budget</title>"
        + b'<meta name="x" content="y">' * 30
        + b"<script>"
        + b"var a = 1;" * 3000
        + b"</script></head>"
    )
    body = (
        b"<body>"
        + b'<div class="nav"><a href="/x">Link</a></div>' * 1500
        + b"<h1>Heading</h1><p>Text.</p></body>"
    )
    document = head + body
    assert 90_000 < len(document) < 150_000
    text = read_page(document, "text/html; charset=utf-8")
    assert text.title == "Budget" and text.headings == ("Heading",)
