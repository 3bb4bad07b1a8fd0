"""CDX lookups with waybackpy's query model and parser, sent through the archive context
(archive/wayback.py), against the fake; and the fake's shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from archive import ArchiveSettings, ArchiveUnavailable, VirtualClock, settings_from_env
from archive.context import ArchiveContext
from archive.wayback import CDX_STATUS_FILTER, CdxAnswer, fetch_captures
from tests.fake_wayback import BLOCKED_ERROR, FakeWayback

URL = "https://ex.org/report"


def settings_for(fake: FakeWayback, **overrides: object) -> ArchiveSettings:
    return settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url},
                             base=ArchiveSettings(**overrides))  # type: ignore[arg-type]


async def query(fake: FakeWayback, url: str = URL, closest: str = "20200101000000",
                **overrides: object) -> CdxAnswer:
    clock = fake.clock
    assert isinstance(clock, VirtualClock)
    async with ArchiveContext(settings_for(fake, **overrides), clock=clock,
                              sleep=clock.sleep) as ctx:
        return await fetch_captures(ctx, url, closest=datetime.strptime(
            closest, "%Y%m%d%H%M%S").replace(tzinfo=UTC))


@pytest.mark.anyio
async def test_one_request_with_closest_sort_filter_and_no_paging(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000")
    answer = await query(fake)
    assert answer.status_code == 200 and answer.parsed_by == "waybackpy"
    [request] = fake.requests("cdx")
    assert request.query["url"] == [URL]
    assert request.query["closest"] == ["20200101000000"]
    assert request.query["sort"] == ["closest"]
    assert request.query["filter"] == [CDX_STATUS_FILTER]
    assert request.query["limit"] == ["1000"] and request.query["resolveRevisits"] == ["true"]
    assert "showResumeKey" not in request.query
    assert request.headers["User-Agent"].startswith("citewatch/")


@pytest.mark.anyio
async def test_keeps_2xx_and_3xx_rows_collapses_duplicates(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000")
    fake.add(URL, "20190101000000")                     # duplicate row
    fake.add(URL, "20190601000000", "404")
    fake.add(URL, "20190701000000", "301", redirect_to="https://ex.org/new")
    fake.add(URL, "20190801000000", "503")
    answer = await query(fake)
    assert [(c.timestamp, c.status_code) for c in answer.captures] == [
        ("20190101000000", 200), ("20190701000000", 301)]
    assert answer.captures[0].captured_at == datetime(2019, 1, 1, tzinfo=UTC)


@pytest.mark.anyio
async def test_revisits_are_resolved_or_dropped(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000", digest="SAMEDIGEST")
    fake.add(URL, "20190201000000", "-", digest="SAMEDIGEST")   # revisit of the first
    fake.add(URL, "20190301000000", "-", digest="ORPHAN")       # revisit of nothing we know
    answer = await query(fake)
    assert [(c.timestamp, c.status_code) for c in answer.captures] == [
        ("20190101000000", 200), ("20190201000000", 200)]


@pytest.mark.anyio
async def test_waybackpy_crashes_on_month_00_so_we_parse(fake: FakeWayback) -> None:
    fake.add(URL, "20000012170449", title="Old")                # month 00: real data
    fake.add(URL, "20190101000000")
    answer = await query(fake)
    assert answer.parsed_by == "citewatch"
    assert [c.captured_at for c in answer.captures] == [
        datetime(2000, 12, 17, 4, 49, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC)]
    assert answer.captures[0].timestamp == "20000012170449"     # kept for replay
    assert len(fake.requests("cdx")) == 1                       # no second request


@pytest.mark.anyio
async def test_no_capture_is_an_empty_answer(fake: FakeWayback) -> None:
    answer = await query(fake)
    assert answer.status_code == 200 and answer.captures == ()


@pytest.mark.anyio
async def test_blocked_site_is_excluded(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000")
    fake.block(URL)
    answer = await query(fake)
    assert answer.status_code == 403 and answer.excluded
    assert "Blocked Site Error" in answer.excluded


@pytest.mark.anyio
async def test_a_429_waits_out_the_shared_pause_then_asks_again(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000")
    fake.fail("cdx", 429)
    answer = await query(fake)
    assert answer.status_code == 200 and len(answer.captures) == 1
    first, second = fake.requests("cdx")
    assert (first.status, second.status) == (429, 200) and second.at - first.at == 60.0


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_is_unavailable_after_exactly_one_request(fake: FakeWayback, status: int) -> None:
    fake.fail("cdx", status, times=10)
    with pytest.raises(ArchiveUnavailable) as caught:
        await query(fake)
    assert caught.value.status_code == status
    assert len(fake.requests("cdx")) == 1               # waybackpy's own retries are not used


@pytest.mark.anyio
async def test_java_exception_with_200_is_unavailable(fake: FakeWayback) -> None:
    fake.fail("cdx", 200, body="java.lang.IllegalArgumentException: fromKey > toKey\n")
    with pytest.raises(ArchiveUnavailable, match="unreadable"):
        await query(fake)


@pytest.mark.anyio
async def test_a_stalled_server_times_out(fake: FakeWayback) -> None:
    fake.fail("cdx", 200, delay_s=1.0)
    with pytest.raises(ArchiveUnavailable, match="timed out"):
        await query(fake, timeout_s=0.2)


@pytest.mark.anyio
async def test_url_with_a_query_string_is_encoded(fake: FakeWayback) -> None:
    url = "https://ex.org/page?id=7&lang=en"
    fake.add(url, "20190101000000")
    answer = await query(fake, url=url)
    assert [c.original for c in answer.captures] == [url]


@pytest.mark.anyio
async def test_a_long_answer_is_read_whole_and_the_connection_kept(fake: FakeWayback) -> None:
    for day in range(1, 29):                          # 28 rows: more than max_body_bytes
        fake.add(URL, f"201901{day:02d}000000", body="<title>Page</title>" + "y" * 5000)
    clock = fake.clock
    assert isinstance(clock, VirtualClock)
    settings = settings_for(fake, max_body_bytes=200)
    async with ArchiveContext(settings, clock=clock, sleep=clock.sleep) as ctx:
        for _ in range(3):
            answer = await fetch_captures(ctx, URL, closest=datetime(2019, 1, 15, tzinfo=UTC))
            assert len(answer.captures) == 28
        replay = await ctx.fetch("replay", "GET", f"{fake.base_url}/web/20190101000000id_/{URL}")
        assert replay.truncated and len(replay.text) == 200    # kept: the cap; read: all
    assert fake.accepted == {"127.0.0.1": 1}                  # one kept-alive connection


@pytest.mark.anyio
async def test_a_body_past_the_drain_limit_is_abandoned(fake: FakeWayback) -> None:
    big = "<html><title>Big</title>" + "x" * 50_000 + "</html>"
    fake.add(URL, "20190101000000", body=big)
    clock = fake.clock
    assert isinstance(clock, VirtualClock)
    settings = settings_for(fake, max_body_bytes=1000, max_drain_bytes=10_000)
    async with ArchiveContext(settings, clock=clock, sleep=clock.sleep) as ctx:
        for _ in range(2):
            replay = await ctx.fetch("replay", "GET",
                                     f"{fake.base_url}/web/20190101000000id_/{URL}")
            assert replay.truncated and replay.text.startswith("<html><title>Big</title>")
            assert len(replay.text) == 1000
    assert fake.counts["replay"] == 2
    assert fake.accepted == {"127.0.0.1": 2}      # 50 kB not read for 1 kB: a new connection


# --- the fake's CDX answers, compared with the real shapes (reference §2) ----------------------

def polite(fake: FakeWayback) -> None:
    """A raw request of these shape tests waits a second of the fake's clock after the last one,
    as a polite client would: the fake refuses bursts."""
    clock = fake.clock
    assert isinstance(clock, VirtualClock)
    clock.now += 1.0


def get(fake: FakeWayback, path: str, **kwargs: Any) -> httpx.Response:
    polite(fake)
    return httpx.get(f"{fake.base_url}{path}", **kwargs)


def post(fake: FakeWayback, path: str, **kwargs: Any) -> httpx.Response:
    polite(fake)
    return httpx.post(f"{fake.base_url}{path}", **kwargs)


def cdx(fake: FakeWayback, **params: object) -> httpx.Response:
    return get(fake, "/cdx/search/cdx", params=params)


@pytest.fixture
def google(fake: FakeWayback) -> FakeWayback:
    fake.add("http://google.com/", "20100622065311")
    fake.add("https://www.google.com/", "20101010095238")
    fake.add("http://google.com/", "20101010101435", "301", redirect_to="http://www.google.com/")
    fake.add("http://www.google.com/", "20101010101708")
    fake.add("http://www.google.com/", "20101010102540")
    return fake


def test_fake_closest_sorts_only_with_sort_closest(google: FakeWayback) -> None:
    unsorted = cdx(google, url="google.com", closest="20101010101010", limit=1).text
    assert unsorted.split()[1] == "20100622065311"          # the real pitfall
    lines = cdx(google, url="google.com", closest="20101010101010", sort="closest",
                limit=5).text.splitlines()
    assert [line.split()[1] for line in lines] == [
        "20101010101435", "20101010101708", "20101010102540", "20101010095238",
        "20100622065311"]
    assert lines[0].split()[4] == "301"
    assert lines[0] .startswith("com,google)/ 20101010101435 http://google.com/ text/html 301 ")


def test_fake_filters_match_whole_fields(google: FakeWayback) -> None:
    assert cdx(google, url="google.com", filter="statuscode:2").text == ""
    assert len(cdx(google, url="google.com", filter="statuscode:2..").text.splitlines()) == 4
    assert len(cdx(google, url="google.com", filter="!statuscode:200").text.splitlines()) == 1


def test_fake_json_limit_fl_and_resume_key(google: FakeWayback) -> None:
    rows = cdx(google, url="google.com", output="json", fl="timestamp,statuscode", limit=-2).json()
    assert rows == [["timestamp", "statuscode"], ["20101010101708", "200"],
                    ["20101010102540", "200"]]
    assert cdx(google, url="nothing.example", output="json").json() == []
    paged = cdx(google, url="google.com", output="json", limit=2, showResumeKey="true").json()
    assert paged[-2] == [] and paged[-1][0].endswith("%21")
    text = cdx(google, url="google.com", limit=2, showResumeKey="true").text.splitlines()
    assert text[-2] == "" and text[-1] == paged[-1][0]
    rest = cdx(google, url="google.com", resumeKey=paged[-1][0]).text.splitlines()
    assert len(rest) == 3


def test_fake_collapse_and_from_to(google: FakeWayback) -> None:
    assert len(cdx(google, url="google.com", collapse="timestamp:8").text.splitlines()) == 2
    assert len(cdx(google, url="google.com", **{"from": "2010101010"}, to="2010101010").text
               .splitlines()) == 3


def test_fake_blocked_answer_is_the_real_403(fake: FakeWayback) -> None:
    fake.block("https://blocked.example/")
    response = cdx(fake, url="blocked.example")
    assert response.status_code == 403
    assert response.headers["X-Archive-Wayback-Runtime-Error"] == BLOCKED_ERROR
    assert response.text == BLOCKED_ERROR


def test_fake_429_has_no_retry_after(fake: FakeWayback) -> None:
    fake.fail("cdx", 429)
    response = cdx(fake, url="ex.org")
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert "Too Many Requests" in response.text


def test_fake_availability_shapes(google: FakeWayback) -> None:
    single = get(google, "/wayback/available",
                 params={"url": "google.com", "timestamp": "20101010101010"}).json()
    assert single["archived_snapshots"]["closest"] == {
        "status": "301", "available": True, "timestamp": "20101010101435",
        "url": "http://web.archive.org/web/20101010101435/http://google.com/"}
    assert single["url"] == "google.com" and single["timestamp"] == "20101010101010"
    body = "\n".join([
        "url=google.com&timestamp=20101010101010&closest=before&statuscodes=200&tag=a",
        "url=nothing.example&timestamp=2010&tag=b"])
    batch = post(google, "/wayback/available", content=body,
                 headers={"Wayback-Api-Version": "2"}).json()
    assert [r["tag"] for r in batch["results"]] == ["a", "b"]
    assert batch["results"][0]["archived_snapshots"]["closest"]["timestamp"] == "20101010095238"
    assert batch["results"][1]["archived_snapshots"] == {}
    assert post(google, "/wayback/available", content=body).status_code == 400


def test_fake_replay_shapes(google: FakeWayback) -> None:
    base = google.base_url
    exact = get(google, "/web/20101010101708id_/http://www.google.com/")
    assert exact.status_code == 200 and exact.headers["Memento-Datetime"] == \
        "Sun, 10 Oct 2010 10:17:08 GMT"
    assert 'rel="memento"' in exact.headers["Link"]
    near = get(google, "/web/20101010101700id_/http://www.google.com/")
    assert near.status_code == 302 and "Memento-Datetime" not in near.headers
    assert near.headers["X-Archive-Redirect-Reason"] == "found capture at 20101010101708"
    moved = get(google, "/web/20101010101435id_/http://google.com/")
    assert moved.status_code == 301 and "Memento-Datetime" in moved.headers
    assert moved.headers["Location"] == f"{base}/web/20101010101435id_/http://www.google.com/"
    view = get(google, "/web/20101010101435/http://google.com/")
    assert view.status_code == 200 and "Got an HTTP 301 response at crawl time" in view.text
    missing = get(google, "/web/2010id_/http://nothing.example/")
    assert missing.status_code == 404 and "Memento-Datetime" not in missing.headers


def test_fake_counts_requests(google: FakeWayback) -> None:
    cdx(google, url="google.com")
    cdx(google, url="google.com")
    assert google.counts["cdx"] == 2
    assert json.loads(json.dumps(google.requests("cdx")[0].query))["url"] == ["google.com"]
