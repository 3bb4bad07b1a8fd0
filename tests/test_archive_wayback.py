"""CDX lookups through waybackpy (archive/wayback.py) against the fake, and the fake's shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from archive import ArchiveSettings, ArchiveUnavailable, settings_from_env
from archive.wayback import CDX_STATUS_FILTER, query_captures
from tests.fake_wayback import BLOCKED_ERROR, FakeWayback, serve_wayback

URL = "https://ex.org/report"


@pytest.fixture
def fake() -> Iterator[FakeWayback]:
    with serve_wayback() as fake:
        yield fake


def settings_for(fake: FakeWayback, **overrides: object) -> ArchiveSettings:
    return settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url},
                             base=ArchiveSettings(**overrides))  # type: ignore[arg-type]


def query(fake: FakeWayback, url: str = URL, closest: str = "20200101000000", **overrides: object):
    return query_captures(url, closest=closest, settings=settings_for(fake, **overrides))


def test_one_request_with_closest_sort_filter_and_no_paging(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000")
    answer = query(fake)
    assert answer.status_code == 200 and answer.parsed_by == "waybackpy"
    [request] = fake.requests("cdx")
    assert request.query["url"] == [URL]
    assert request.query["closest"] == ["20200101000000"]
    assert request.query["sort"] == ["closest"]
    assert request.query["filter"] == [CDX_STATUS_FILTER]
    assert request.query["limit"] == ["1000"] and request.query["resolveRevisits"] == ["true"]
    assert "showResumeKey" not in request.query
    assert request.headers["User-Agent"].startswith("citewatch/")


def test_keeps_2xx_and_3xx_rows_collapses_duplicates(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000")
    fake.add(URL, "20190101000000")                     # duplicate row
    fake.add(URL, "20190601000000", "404")
    fake.add(URL, "20190701000000", "301", redirect_to="https://ex.org/new")
    fake.add(URL, "20190801000000", "503")
    answer = query(fake)
    assert [(c.timestamp, c.status_code) for c in answer.captures] == [
        ("20190101000000", 200), ("20190701000000", 301)]
    assert answer.captures[0].captured_at == datetime(2019, 1, 1, tzinfo=UTC)


def test_revisits_are_resolved_or_dropped(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000", digest="SAMEDIGEST")
    fake.add(URL, "20190201000000", "-", digest="SAMEDIGEST")   # revisit of the first
    fake.add(URL, "20190301000000", "-", digest="ORPHAN")       # revisit of nothing we know
    answer = query(fake)
    assert [(c.timestamp, c.status_code) for c in answer.captures] == [
        ("20190101000000", 200), ("20190201000000", 200)]


def test_waybackpy_crashes_on_month_00_so_we_parse(fake: FakeWayback) -> None:
    fake.add(URL, "20000012170449", title="Old")                # month 00: real data
    fake.add(URL, "20190101000000")
    answer = query(fake)
    assert answer.parsed_by == "citewatch"
    assert [c.captured_at for c in answer.captures] == [
        datetime(2000, 12, 17, 4, 49, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC)]
    assert answer.captures[0].timestamp == "20000012170449"     # kept for replay
    assert len(fake.requests("cdx")) == 1                       # no second request


def test_no_capture_is_an_empty_answer(fake: FakeWayback) -> None:
    answer = query(fake)
    assert answer.status_code == 200 and answer.captures == ()


def test_blocked_site_is_excluded(fake: FakeWayback) -> None:
    fake.add(URL, "20190101000000")
    fake.block(URL)
    answer = query(fake)
    assert answer.status_code == 403 and answer.excluded
    assert "Blocked Site Error" in answer.excluded


def test_429_is_returned_for_the_gate(fake: FakeWayback) -> None:
    fake.fail("cdx", 429)
    assert query(fake).status_code == 429


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable_after_exactly_one_request(fake: FakeWayback, status: int) -> None:
    fake.fail("cdx", status, times=10)
    with pytest.raises(ArchiveUnavailable) as caught:
        query(fake)
    assert caught.value.status_code == status
    assert len(fake.requests("cdx")) == 1               # waybackpy's own retries are off


def test_java_exception_with_200_is_unavailable(fake: FakeWayback) -> None:
    fake.fail("cdx", 200, body="java.lang.IllegalArgumentException: fromKey > toKey\n")
    with pytest.raises(ArchiveUnavailable, match="unreadable"):
        query(fake)


def test_a_stalled_server_times_out(fake: FakeWayback) -> None:
    fake.fail("cdx", 200, delay_s=1.0)
    with pytest.raises(ArchiveUnavailable, match="timed out"):
        query(fake, timeout_s=0.2)


def test_url_with_a_query_string_is_encoded(fake: FakeWayback) -> None:
    url = "https://ex.org/page?id=7&lang=en"
    fake.add(url, "20190101000000")
    answer = query(fake, url=url)
    assert [c.original for c in answer.captures] == [url]


# --- the fake's CDX answers, compared with the real shapes (reference §2) ----------------------

def cdx(fake: FakeWayback, **params: object) -> httpx.Response:
    return httpx.get(f"{fake.base_url}/cdx/search/cdx", params=params)  # type: ignore[arg-type]


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
    single = httpx.get(f"{google.base_url}/wayback/available",
                       params={"url": "google.com", "timestamp": "20101010101010"}).json()
    assert single["archived_snapshots"]["closest"] == {
        "status": "301", "available": True, "timestamp": "20101010101435",
        "url": "http://web.archive.org/web/20101010101435/http://google.com/"}
    assert single["url"] == "google.com" and single["timestamp"] == "20101010101010"
    body = "\n".join([
        "url=google.com&timestamp=20101010101010&closest=before&statuscodes=200&tag=a",
        "url=nothing.example&timestamp=2010&tag=b"])
    batch = httpx.post(f"{google.base_url}/wayback/available", content=body,
                       headers={"Wayback-Api-Version": "2"}).json()
    assert [r["tag"] for r in batch["results"]] == ["a", "b"]
    assert batch["results"][0]["archived_snapshots"]["closest"]["timestamp"] == "20101010095238"
    assert batch["results"][1]["archived_snapshots"] == {}
    assert httpx.post(f"{google.base_url}/wayback/available", content=body).status_code == 400


def test_fake_replay_shapes(google: FakeWayback) -> None:
    base = google.base_url
    exact = httpx.get(f"{base}/web/20101010101708id_/http://www.google.com/")
    assert exact.status_code == 200 and exact.headers["Memento-Datetime"] == \
        "Sun, 10 Oct 2010 10:17:08 GMT"
    assert 'rel="memento"' in exact.headers["Link"]
    near = httpx.get(f"{base}/web/20101010101700id_/http://www.google.com/")
    assert near.status_code == 302 and "Memento-Datetime" not in near.headers
    assert near.headers["X-Archive-Redirect-Reason"] == "found capture at 20101010101708"
    moved = httpx.get(f"{base}/web/20101010101435id_/http://google.com/")
    assert moved.status_code == 301 and "Memento-Datetime" in moved.headers
    assert moved.headers["Location"] == f"{base}/web/20101010101435id_/http://www.google.com/"
    view = httpx.get(f"{base}/web/20101010101435/http://google.com/")
    assert view.status_code == 200 and "Got an HTTP 301 response at crawl time" in view.text
    missing = httpx.get(f"{base}/web/2010id_/http://nothing.example/")
    assert missing.status_code == 404 and "Memento-Datetime" not in missing.headers


def test_fake_counts_requests(google: FakeWayback) -> None:
    cdx(google, url="google.com")
    cdx(google, url="google.com")
    assert google.counts["cdx"] == 2
    assert json.loads(json.dumps(google.requests("cdx")[0].query))["url"] == ["google.com"]
