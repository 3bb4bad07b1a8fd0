"""resolve() and verify_archived() against the fake Wayback Machine, on an injected clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from urllib.parse import parse_qs

import pytest

from archive import (
    ArchiveSettings,
    ArchiveThrottled,
    LookupRequest,
    LookupResult,
    Outcome,
    PageJudge,
    Target,
    VirtualClock,
    Wayback,
    end_of_day,
    settings_from_env,
)
from archive.context import stream_bounded
from checker.judge.classify import judge_capture
from tests.fake_wayback import FakeWayback

pytestmark = pytest.mark.anyio

URL = "https://ex.org/plan"


def settings_for(fake: FakeWayback, **overrides: object) -> ArchiveSettings:
    return settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url},
                             base=ArchiveSettings(**overrides))  # type: ignore[arg-type]


def day(text: str) -> datetime:
    return end_of_day(date.fromisoformat(text))


async def resolve_all(fake: FakeWayback, clock: VirtualClock, requests: Sequence[LookupRequest],
                      judge: PageJudge | None = None, **overrides: object) -> list[LookupResult]:
    async with Wayback(settings_for(fake, **overrides), clock=clock, sleep=clock.sleep,
                       judge=judge) as wb:
        return [result async for result in wb.resolve(requests)]


async def resolve_one(fake: FakeWayback, clock: VirtualClock, *targets: Target,
                      url: str = URL, failing_since: datetime | None = None,
                      judge: PageJudge | None = None, **overrides: object) -> LookupResult:
    [result] = await resolve_all(fake, clock, [LookupRequest(url, targets, failing_since)],
                                 judge, **overrides)
    return result


async def test_accessed_and_published_dates_pick_different_captures_with_one_cdx_request(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20150301120000", title="National Plan 2015")
    fake.add(URL, "20180601000000", title="National Plan 2015")
    fake.add(URL, "20210101000000", title="National Plan 2015")
    result = await resolve_one(
        fake, clock,
        Target("fn1-accessed", day("2020-05-01"), "National Plan 2015"),
        Target("fn1-published", day("2015-12-31")),
        Target("fn7", day("2020-05-01")),             # cited again elsewhere
    )
    accessed, published, again = (result.choice(k) for k in ("fn1-accessed", "fn1-published",
                                                              "fn7"))
    assert accessed.outcome is Outcome.FOUND and accessed.snapshot is not None
    assert accessed.snapshot.timestamp == "20180601000000"
    assert accessed.snapshot.distance_s < 0                      # before the access date
    assert accessed.snapshot.replay_url == f"{fake.base_url}/web/20180601000000/{URL}"
    assert accessed.snapshot.title == "National Plan 2015" and accessed.snapshot.archive == \
        "wayback"
    assert published.snapshot is not None and published.snapshot.timestamp == "20150301120000"
    assert again.snapshot == accessed.snapshot
    assert fake.counts["cdx"] == 1                               # one CDX request per URL
    assert fake.counts["replay"] == 2                            # one replay per chosen capture
    assert result.requests_made == 3 and result.source == "cdx"
    assert fake.counts["availability"] == fake.counts["availability-batch"] == 0


async def test_a_404_capture_is_never_chosen_and_a_not_found_page_is_skipped(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200420000000", "404")                        # closest, but a 404
    fake.add(URL, "20200301000000", title="Sorry, page not found")   # a soft-404 capture
    fake.add(URL, "20190101000000", title="The plan")
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01")), judge=judge_capture)
    choice = result.choice("k")
    assert choice.snapshot is not None and choice.snapshot.timestamp == "20190101000000"
    replayed = [r.path for r in fake.requests("replay")]
    assert replayed == [f"/web/20200301000000id_/{URL}", f"/web/20190101000000id_/{URL}"]


async def test_a_capture_of_a_not_found_page_is_not_a_fix(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200301000000", title="404 Not Found")
    fake.add(URL, "20200302000000", title="Just a moment...")
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01")), judge=judge_capture)
    choice = result.choice("k")
    assert choice.outcome is Outcome.NO_CAPTURE and choice.snapshot is None
    assert "soft-404: the page says it is not found" in choice.reason
    assert "blocked: HTTP 200: bot challenge page" in choice.reason


async def test_the_cited_title_must_resemble_the_archived_one(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200301000000", title="Parked domain: buy this name")
    fake.add(URL, "20170101000000", title="Annual Report 2016 | Ministry of Plans")
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01"), "Annual report 2016"),
                               judge=judge_capture)
    snapshot = result.choice("k").snapshot
    assert snapshot is not None and snapshot.timestamp == "20170101000000"


async def test_a_redirect_capture_is_followed_to_its_target(
        fake: FakeWayback, clock: VirtualClock) -> None:
    new = "https://ex.org/plans/2019"
    fake.add(URL, "20200101000000", "301", redirect_to=new)
    fake.add(new, "20200101000013", title="Plan 2019")
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01"), "Plan 2019"))
    snapshot = result.choice("k").snapshot
    assert snapshot is not None
    assert (snapshot.original, snapshot.timestamp, snapshot.redirected_from) == (
        new, "20200101000013", URL)
    assert snapshot.replay_url.endswith(f"/web/20200101000013/{new}")
    assert [r.status for r in fake.requests("replay")] == [301, 302, 200]


async def test_a_redirect_to_nothing_archived_is_no_capture(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200101000000", "302", redirect_to="https://ex.org/login")
    choice = (await resolve_one(fake, clock, Target("k", day("2020-05-01")))).choice("k")
    assert choice.outcome is Outcome.NO_CAPTURE
    assert "without Memento-Datetime" in choice.reason


async def test_no_capture_at_all(fake: FakeWayback, clock: VirtualClock) -> None:
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01")))
    assert result.choice("k").outcome is Outcome.NO_CAPTURE
    assert result.choice("k").reason == "no capture"
    assert result.requests_made == 1 and fake.counts["replay"] == 0


async def test_a_blocked_site_is_excluded(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20190101000000")
    fake.block(URL)
    choice = (await resolve_one(fake, clock, Target("k", day("2020-05-01")))).choice("k")
    assert choice.outcome is Outcome.EXCLUDED and "Wayback Machine" in choice.reason


async def test_never_a_capture_taken_after_the_link_failed_when_an_earlier_one_exists(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20150101000000", title="Plan")
    fake.add(URL, "20230101000000", title="Plan")                  # closer, but after failing
    result = await resolve_one(fake, clock, Target("k", day("2022-12-01")),
                               failing_since=datetime(2021, 3, 1, tzinfo=UTC))
    snapshot = result.choice("k").snapshot
    assert snapshot is not None and snapshot.timestamp == "20150101000000"


async def test_a_listed_capture_that_does_not_replay_records_the_real_timestamp(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200119032503", replayable=False)   # in the CDX, but replay goes elsewhere
    fake.add(URL, "20200110000000", title="Plan")
    fake.add(URL, "20190101000000", "301", redirect_to="https://ex.org/x")
    snapshot = (await resolve_one(fake, clock, Target("k", day("2020-01-20")))).choice("k").snapshot
    assert snapshot is not None and snapshot.timestamp == "20200110000000"
    assert [r.status for r in fake.requests("replay")] == [302, 200]


async def test_cdx_failure_falls_back_to_availability(fake: FakeWayback, clock: VirtualClock
                                                      ) -> None:
    fake.add(URL, "20190101000000", title="Plan")
    fake.fail("cdx", 503)
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01")))
    assert result.choice("k").outcome is Outcome.FOUND and result.source == "availability"
    [asked] = fake.requests("availability")
    assert asked.query["timestamp"] == ["20200501235959"]
    assert asked.query["statuscodes"] == ["200", "203", "206"]


async def test_an_empty_availability_answer_is_unknown_not_no_capture(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20190101000000", title="Plan")
    fake.blind(URL)
    fake.fail("cdx", 504)
    choice = (await resolve_one(fake, clock, Target("k", day("2020-05-01")))).choice("k")
    assert choice.outcome is Outcome.UNKNOWN and not choice.outcome.is_final
    assert "CDX failed" in choice.reason


async def test_a_cdx_timeout_is_unknown(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.fail("cdx", 200, delay_s=0.6)
    fake.fail("availability", 502)
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01")), timeout_s=0.2)
    assert result.choice("k").outcome is Outcome.UNKNOWN
    assert "timed out" in result.choice("k").reason


async def test_the_rate_limit_is_held(fake: FakeWayback, clock: VirtualClock) -> None:
    urls = [f"https://ex.org/page/{n}" for n in range(30)]
    for url in urls:
        fake.add(url, "20190101000000", title="Page")
    requests = [LookupRequest(url, (Target("k", day("2020-01-01")),)) for url in urls]
    started = clock()
    results = await resolve_all(fake, clock, requests, concurrency=1, batch_threshold=1000)
    assert all(r.choice("k").outcome is Outcome.FOUND for r in results)
    assert fake.counts["cdx"] == 30
    assert fake.max_in_window(["cdx", "availability", "availability-batch"]) == 24
    cdx_times = [r.at - started for r in fake.requests("cdx")]
    assert cdx_times == [2.5 * n for n in range(30)]   # evenly spaced, not 24 at once
    assert clock() - started >= 60.0


async def test_any_429_pauses_every_request_60_s(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20190101000000", title="Plan")
    fake.fail("cdx", 429)
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01")))
    assert result.choice("k").outcome is Outcome.FOUND
    first, second = fake.requests("cdx")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 60.0
    assert fake.requests("replay")[0].at >= first.at + 60.0
    assert result.requests_made == 3


async def test_repeated_429s_stop_with_the_results_so_far_kept(
        fake: FakeWayback, clock: VirtualClock) -> None:
    urls = [f"https://ex.org/page/{n}" for n in range(6)]
    for url in urls:
        fake.add(url, "20190101000000", title="Page")
    requests = [LookupRequest(url, (Target("k", day("2020-01-01")),)) for url in urls]
    kept: list[LookupResult] = []
    async with Wayback(settings_for(fake, concurrency=1), clock=clock, sleep=clock.sleep) as wb:
        with pytest.raises(ArchiveThrottled):
            async for result in wb.resolve(requests):
                kept.append(result)                     # the caller stores each one at once
                if len(kept) == 2:
                    fake.fail("cdx", 429, times=10)
        assert wb.throttled == 3
    assert [r.choice("k").outcome for r in kept] == [Outcome.FOUND, Outcome.FOUND, Outcome.UNKNOWN]
    assert "429" in kept[2].choice("k").reason
    assert fake.counts["cdx"] == 2 + 3                 # nothing sent after the third 429


async def test_many_urls_use_the_batch_availability_api_with_cdx_fallback(
        fake: FakeWayback, clock: VirtualClock) -> None:
    urls = [f"https://ex.org/doc/{n}" for n in range(24)]
    for url in urls[:20]:
        fake.add(url, "20190101000000", title="Doc")
    for url in urls[20:22]:                            # archived, but the batch answers {}
        fake.add(url, "20190101000000", title="Doc")
        fake.blind(url)
    fake.add(urls[0], "20191201000000", title="Page not found")   # batch names a soft-404
    requests = [LookupRequest(url, (Target("a", day("2020-01-01")),)) for url in urls]
    requests.append(LookupRequest(urls[5], (Target("b", day("2019-06-01")),)))  # merged
    results = {r.url: r for r in await resolve_all(fake, clock, requests, judge_capture)}
    assert len(results) == 24
    assert fake.counts["availability-batch"] == 1
    [post] = fake.requests("availability-batch")
    assert post.headers["Wayback-Api-Version"] == "2"
    lines = post.body.split("\n")
    assert len(lines) == 25
    assert parse_qs(lines[0]) == {"url": [urls[0]], "timestamp": ["20200101235959"],
                                  "closest": ["before"], "statuscodes": ["200", "203", "206"],
                                  "tag": ["0"]}
    # CDX only for: the soft-404 one, the two blind ones, the two never archived
    assert sorted(r.query["url"][0] for r in fake.requests("cdx")) == sorted(
        [urls[0], urls[20], urls[21], urls[22], urls[23]])
    assert results[urls[3]].source == "availability-batch"
    assert results[urls[0]].choice("a").snapshot.timestamp == "20190101000000"  # type: ignore[union-attr]
    assert results[urls[20]].source == "cdx"
    assert results[urls[22]].choice("a").outcome is Outcome.NO_CAPTURE
    assert {c.key for c in results[urls[5]].choices} == {"a", "b"}
    assert sum(r.requests_made for r in results.values()) == sum(fake.counts.values())


async def test_below_the_threshold_no_batch(fake: FakeWayback, clock: VirtualClock) -> None:
    requests = [LookupRequest(f"https://ex.org/{n}", (Target("a", day("2020-01-01")),))
                for n in range(19)]
    await resolve_all(fake, clock, requests)
    assert fake.counts["availability-batch"] == 0 and fake.counts["cdx"] == 19


async def test_results_stream_before_the_end(fake: FakeWayback, clock: VirtualClock) -> None:
    requests = [LookupRequest(f"https://ex.org/{n}", (Target("a", day("2020-01-01")),))
                for n in range(5)]
    async with Wayback(settings_for(fake, concurrency=1), clock=clock, sleep=clock.sleep) as wb:
        stream: AsyncIterator[LookupResult] = wb.resolve(requests)
        first = await anext(stream)
        assert first.url == "https://ex.org/0" and fake.counts["cdx"] == 1
        await stream.aclose()                                 # type: ignore[attr-defined]


# --- cited archive links --------------------------------------------------------------------

async def verify(fake: FakeWayback, clock: VirtualClock, link: str, **kw: object):
    async with Wayback(settings_for(fake), clock=clock, sleep=clock.sleep) as wb:
        return await wb.verify_archived(link, **kw)  # type: ignore[arg-type]


async def test_verify_a_cited_archive_link(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20190101000000", title="Plan")
    check = await verify(fake, clock, f"https://web.archive.org/web/20190101000000/{URL}")
    assert check.outcome is Outcome.FOUND and check.snapshot is not None
    assert check.snapshot.distance_s == 0 and check.url == URL
    assert [r.path for r in fake.requests("replay")] == [f"/web/20190101000000id_/{URL}"]


async def test_verify_an_inexact_link_records_the_real_timestamp(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20190101000042", title="Plan")
    check = await verify(fake, clock, f"http://web.archive.org/web/2019/{URL}")
    assert check.snapshot is not None and check.snapshot.timestamp == "20190101000042"
    assert check.snapshot.distance_s == 42


@pytest.mark.parametrize(
    ("setup", "outcome", "reason"),
    [("404", Outcome.NO_CAPTURE, "HTTP 404 page"),
     ("none", Outcome.NO_CAPTURE, "without Memento-Datetime"),
     ("blocked", Outcome.EXCLUDED, "excluded"),
     ("503", Outcome.UNKNOWN, "replay failed")],
)
async def test_verify_a_link_that_no_longer_replays(
        fake: FakeWayback, clock: VirtualClock, setup: str, outcome: Outcome, reason: str) -> None:
    if setup == "404":
        fake.add(URL, "20190101000000", "404")
    elif setup == "blocked":
        fake.add(URL, "20190101000000")
        fake.block(URL)
    elif setup == "503":
        fake.fail("replay", 503)
    check = await verify(fake, clock, f"https://web.archive.org/web/20190101000000/{URL}")
    assert check.outcome is outcome and reason in check.reason and check.snapshot is None


async def test_verify_rejects_what_is_not_a_wayback_link(fake: FakeWayback,
                                                          clock: VirtualClock) -> None:
    with pytest.raises(ValueError):
        await verify(fake, clock, "https://archive.today/abcd")


async def test_a_throttled_batch_request_stops_after_the_urls_already_resolved(
        fake: FakeWayback, clock: VirtualClock) -> None:
    urls = [f"https://ex.org/doc/{n}" for n in range(25)]
    for url in urls:
        fake.add(url, "20190101000000", title="Doc")
    fake.fail("availability-batch", 200, body='{"results": []}')   # first batch: no answers
    fake.fail("availability-batch", 429, times=3)                    # second batch: throttled
    requests = [LookupRequest(url, (Target("a", day("2020-01-01")),)) for url in urls]
    kept: list[LookupResult] = []
    settings = settings_for(fake, batch_size=10, concurrency=1)
    async with Wayback(settings, clock=clock, sleep=clock.sleep) as wb:
        with pytest.raises(ArchiveThrottled):
            async for result in wb.resolve(requests):
                kept.append(result)
    assert [r.url for r in kept] == urls[:10]                        # the whole first batch
    assert all(r.choice("a").outcome is Outcome.FOUND for r in kept)
    assert fake.counts["availability-batch"] == 4 and fake.counts["cdx"] == 10


async def test_stream_bounded_drains_work_in_flight_when_the_items_fail() -> None:
    async def items() -> AsyncIterator[int]:
        for n in range(3):
            yield n
        raise ArchiveThrottled("stop")

    async def work(n: int) -> int:
        for _ in range(5 - n):                  # the first item finishes last
            await asyncio.sleep(0)
        return n

    got: list[int] = []
    with pytest.raises(ArchiveThrottled):
        async for n in stream_bounded(items(), work, limit=4, stop=lambda: False):
            got.append(n)
    assert sorted(got) == [0, 1, 2]
