"""Other web archives (Memento) after the Wayback Machine: against the strict Wayback fake and
tests/fake_memento.py, on one virtual clock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime

import pytest

from archive import (
    ArchiveSettings,
    LookupRequest,
    LookupResult,
    MementoArchive,
    Outcome,
    Target,
    VirtualClock,
    Wayback,
    end_of_day,
    known_archives,
    memento_aggregator,
    parse_memento_archive,
    settings_from_env,
)
from archive.memento import parse_timemap
from checker.judge.classify import judge_capture
from tests.fake_memento import FakeMemento, serve_memento
from tests.fake_wayback import FakeWayback

pytestmark = pytest.mark.anyio

URL = "https://ex.org/plan"
TITLE = "National Plan 2015"


@pytest.fixture
def other(clock: VirtualClock) -> Iterator[FakeMemento]:
    with serve_memento(name="archive.today", clock=clock) as fake:
        yield fake


def day(text: str) -> datetime:
    return end_of_day(date.fromisoformat(text))


async def resolve(fake: FakeWayback, clock: VirtualClock, requests: Sequence[LookupRequest],
                  archives: Sequence[MementoArchive], **overrides: object
                  ) -> tuple[list[LookupResult], Wayback]:
    settings = settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url},
                                 base=ArchiveSettings(**overrides))  # type: ignore[arg-type]
    settings = replace(settings, memento_archives=tuple(archives))
    async with Wayback(settings, clock=clock, sleep=clock.sleep, judge=judge_capture) as wb:
        return [r async for r in wb.resolve(requests)], wb


def cited(url: str = URL, key: str = "fn1", at: str = "2020-05-01") -> LookupRequest:
    return LookupRequest(url, (Target(key, day(at), TITLE),))


async def test_a_citation_wayback_has_nothing_for_gets_the_other_archives_capture_of_its_date(
        fake: FakeWayback, other: FakeMemento, clock: VirtualClock) -> None:
    for ts in ("20150301000000", "20190601000000", "20210101000000"):
        other.add(URL, ts, title=TITLE)
    [result], wb = await resolve(fake, clock, [cited()], [other.archive])
    choice = result.choice("fn1")
    assert choice.outcome is Outcome.FOUND and choice.snapshot is not None
    snap = choice.snapshot
    assert snap.archive == "archive.today"
    assert snap.timestamp == "20190601000000"          # closest before "accessed May 1, 2020"
    assert snap.replay_url == other.memento_url(URL, "20190601000000")
    assert snap.title == TITLE and snap.distance_s < 0
    assert fake.counts["cdx"] == 1                     # Wayback was asked first
    assert other.counts == {"timemap": 1, "memento": 1}
    assert result.source == "cdx+memento:archive.today"
    assert result.requests_made == 1 + 2
    assert wb.other_requests == {"archive.today": 2}


async def test_the_other_archive_is_not_asked_for_what_wayback_resolved(
        fake: FakeWayback, other: FakeMemento, clock: VirtualClock) -> None:
    fake.add(URL, "20190601000000", title=TITLE)
    other.add(URL, "20190601000000", title=TITLE)
    other.add("https://ex.org/unknown", "20190601000000", title=TITLE)
    fake.fail("cdx", 503)                              # unknown is not handed on either
    fake.fail("availability", 503)
    results, _ = await resolve(fake, clock, [cited("https://ex.org/unknown"), cited()],
                               [other.archive])
    outcomes = {r.url: r.choice("fn1").outcome for r in results}
    assert outcomes == {URL: Outcome.FOUND, "https://ex.org/unknown": Outcome.UNKNOWN}
    found = next(r for r in results if r.url == URL).choice("fn1").snapshot
    assert found is not None and found.archive == "wayback"
    assert other.total == 0


async def test_a_memento_of_a_not_found_page_is_rejected_by_the_judge(
        fake: FakeWayback, other: FakeMemento, clock: VirtualClock) -> None:
    other.add(URL, "20150301000000", title=TITLE)
    other.add(URL, "20200401000000", title="Page not found")   # the nearest: a soft-404
    [result], _ = await resolve(fake, clock, [cited()], [other.archive])
    choice = result.choice("fn1")
    assert choice.snapshot is not None and choice.snapshot.timestamp == "20150301000000"
    assert other.counts["memento"] == 2


async def test_no_usable_memento_keeps_waybacks_outcome_and_says_what_was_asked(
        fake: FakeWayback, other: FakeMemento, clock: VirtualClock) -> None:
    other.add(URL, "20200401000000", title="Page not found")
    results, _ = await resolve(fake, clock, [cited(), cited("https://ex.org/none")],
                               [other.archive])
    reasons = {r.url: r.choice("fn1").reason for r in results}
    assert all(r.choice("fn1").outcome is Outcome.NO_CAPTURE for r in results)
    assert reasons[URL] == "no capture; archive.today: 20200401000000: soft-404: the page " \
        "says it is not found: 'Page not found'"
    assert reasons["https://ex.org/none"] == "no capture; archive.today: no memento"


async def test_an_archive_that_keeps_failing_is_skipped_for_the_rest_of_the_run(
        fake: FakeWayback, other: FakeMemento, clock: VirtualClock) -> None:
    other.fail("timemap", 503, times=50)
    urls = [f"https://ex.org/lost/{n}" for n in range(8)]
    results, _ = await resolve(fake, clock, [cited(u) for u in urls], [other.archive],
                               memento_max_failures=3, concurrency=1)
    reasons = [r.choice("fn1").reason for r in results]
    assert all(r.choice("fn1").outcome is Outcome.NO_CAPTURE for r in results)
    assert 3 <= other.counts["timemap"] < len(urls)
    assert sum("archive.today not asked: 3 failures in a row" in r for r in reasons) == \
        len(urls) - other.counts["timemap"]


async def test_archives_are_asked_in_order_and_only_until_one_has_a_capture(
        fake: FakeWayback, clock: VirtualClock) -> None:
    with serve_memento(name="first", clock=clock) as first, \
            serve_memento(name="second", clock=clock) as second:
        second.add(URL, "20190601000000", title=TITLE)
        second.add("https://ex.org/both", "20190601000000", title=TITLE)
        first.add("https://ex.org/both", "20180601000000", title=TITLE)
        results, _ = await resolve(fake, clock, [cited(), cited("https://ex.org/both")],
                                   [first.archive, second.archive])
        by_url = {r.url: r.choice("fn1").snapshot for r in results}
        assert by_url[URL] is not None and by_url[URL].archive == "second"
        both = by_url["https://ex.org/both"]
        assert both is not None and both.archive == "first"
        assert second.counts["timemap"] == 1               # not asked about ex.org/both


async def test_an_archive_without_a_timemap_is_asked_through_its_timegate(
        fake: FakeWayback, other: FakeMemento, clock: VirtualClock) -> None:
    for ts in ("20150301000000", "20200415000000"):
        other.add(URL, ts, title=TITLE)
    gate_only = replace(other.archive, timemap="")
    [result], _ = await resolve(fake, clock, [cited()], [gate_only])
    snap = result.choice("fn1").snapshot
    assert snap is not None and snap.timestamp == "20200415000000"
    assert other.counts == {"timegate": 1, "memento": 1}


async def test_a_dated_memento_url_redirecting_to_a_short_one_is_followed(
        fake: FakeWayback, clock: VirtualClock) -> None:
    with serve_memento(name="archive.today", clock=clock, short_links=True) as other:
        other.add(URL, "20190601000000", title=TITLE)
        [result], _ = await resolve(fake, clock, [cited()], [other.archive])
        expected = other.memento_url(URL, "20190601000000")
    snap = result.choice("fn1").snapshot
    assert snap is not None and snap.replay_url == expected      # the dated URL, as listed
    assert other.counts["short"] == 1


async def test_an_aggregator_names_each_capture_by_its_archive_host(
        fake: FakeWayback, other: FakeMemento, clock: VirtualClock) -> None:
    other.add(URL, "20190601000000", title=TITLE)
    [result], _ = await resolve(fake, clock, [cited()], [memento_aggregator(other.base_url)])
    snap = result.choice("fn1").snapshot
    assert snap is not None and snap.archive == "127.0.0.1"


async def test_each_archive_host_is_paced_on_its_own_and_never_hammered(
        fake: FakeWayback, other: FakeMemento, clock: VirtualClock) -> None:
    urls = [f"https://ex.org/lost/{n}" for n in range(12)]
    for url in urls:
        other.add(url, "20190601000000", title=TITLE)
    results, _ = await resolve(fake, clock, [cited(u) for u in urls], [other.archive])
    assert all(r.choice("fn1").outcome is Outcome.FOUND for r in results)
    assert other.refused == {} and fake.refused == {}
    assert other.most_in_progress <= 2
    times = sorted(at for endpoint, _, at, _ in other.log if endpoint == "timemap")
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 2.5 - 1e-6


def test_timemap_entries_are_read_by_their_links_not_split_on_commas() -> None:
    text = (
        '<http://www.discontents.com.au:80/>; rel="original",\n'
        '<https://web.archive.org/web/timemap/link/http://discontents.com.au/>; rel="self"; '
        'type="application/link-format"; from="Sun, 06 Dec 1998 01:22:33 GMT",\n'
        '<https://web.archive.org/web/http://discontents.com.au/>; rel="timegate",\n'
        '<https://web.archive.org/web/19981206012233/http://www.discontents.com.au:80/>; '
        'rel="first memento"; datetime="Sun, 06 Dec 1998 01:22:33 GMT",\n'
        '<https://web.archive.org/web/19981212024410/http://www.discontents.com.au:80/>; '
        'rel="memento"; datetime="Sat, 12 Dec 1998 02:44:10 GMT",\n'
    )
    timemap = parse_timemap(text)
    assert timemap.original == "http://www.discontents.com.au:80/"
    assert [m.uri.split("/")[4] for m in timemap.mementos] == ["19981206012233", "19981212024410"]
    with pytest.raises(ValueError):
        parse_timemap("<html><body>Error</body></html>")


def test_archives_are_chosen_by_name_or_by_prefixes() -> None:
    assert [a.name for a in known_archives("wayback,archive.today,loc")] == \
        ["archive.today", "loc"]
    with pytest.raises(ValueError, match="unknown archive 'nope'"):
        known_archives("nope")
    custom = parse_memento_archive("pt=https://arquivo.pt/wayback/timemap/link/")
    assert custom.name == "pt" and custom.timegate == ""
    with pytest.raises(ValueError):
        parse_memento_archive("pt")
