"""Politeness end to end: a few hundred lost links at the default settings against the fake
Wayback Machine that refuses like archive.org's front end (too many requests at once, bursts),
and proof that the fake does refuse an impolite client. Everything runs on one VirtualClock,
read by the client's gate and by the fake alike."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from archive import (
    ArchiveSettings,
    ArchiveThrottled,
    LookupRequest,
    LookupResult,
    Outcome,
    Target,
    VirtualClock,
    Wayback,
    settings_from_env,
)
from archive.context import ArchiveContext
from tests.fake_wayback import FakeWayback, stamp

pytestmark = pytest.mark.anyio

LOOKUPS = ("cdx", "availability", "availability-batch")
REPLAYS = ("replay",)


def settings_for(fake: FakeWayback, **overrides: object) -> ArchiveSettings:
    return settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url},
                             base=ArchiveSettings(**overrides))  # type: ignore[arg-type]


def lost_links(fake: FakeWayback, count: int, seed: int = 3) -> list[LookupRequest]:
    """Archived, redirect-only, availability-blind and never-archived URLs, cited 1-3 times."""
    rng = random.Random(seed)
    start = datetime(2010, 1, 1, tzinfo=UTC)
    requests = []
    for n in range(count):
        kind = ("archived", "archived", "redirect", "blind", "never")[n % 5]
        url = f"https://site{n % 13}.example/{kind}/{n}"
        cited = [start + timedelta(days=rng.randrange(0, 4000)) for _ in range(1 + n % 3)]
        if kind in ("archived", "blind"):
            for _ in range(rng.randrange(1, 4)):
                fake.add(url, stamp(start + timedelta(days=rng.randrange(0, 4500))),
                         title=f"Report {n}")
            if kind == "blind":
                fake.blind(url)
        elif kind == "redirect":
            moment = start + timedelta(days=rng.randrange(0, 4500))
            fake.add(url, stamp(moment), "301", redirect_to=url + "/moved")
            fake.add(url + "/moved", stamp(moment + timedelta(seconds=30)), title=f"Report {n}")
        targets = tuple(Target(f"{n}-{i}", at) for i, at in enumerate(cited))
        requests.append(LookupRequest(url, targets))
    return requests


async def test_hundreds_of_lost_links_at_the_defaults_draw_no_429(
        fake: FakeWayback, clock: VirtualClock) -> None:
    assert (fake.max_connections, fake.burst_per_s) == (3, 5)   # the strict defaults
    requests = lost_links(fake, 300)
    results: list[LookupResult] = []
    async with Wayback(settings_for(fake), clock=clock, sleep=clock.sleep) as wayback:
        async for result in wayback.resolve(requests):
            results.append(result)
        throttled = wayback.throttled
    assert len(results) == 300
    outcomes = [c.outcome for r in results for c in r.choices]
    assert len(outcomes) == 600
    assert outcomes.count(Outcome.FOUND) == 480 and outcomes.count(Outcome.NO_CAPTURE) == 120
    # the front end never refused: no 429 seen by the client, none sent by the fake
    assert throttled == 0 and not fake.refused
    assert all(r.status != 429 for r in fake.log)
    # never more than the per-host cap open or in progress (the fake would allow 3)
    assert fake.max_connections_seen <= 2 and fake.max_in_progress_seen <= 2
    # evenly spaced: lookups 2.5 s apart at least, replays 0.5 s, never a burst
    assert fake.min_gap(LOOKUPS) >= 2.5 and fake.min_gap(REPLAYS) >= 0.5
    assert fake.max_in_window(window_s=1.0) <= 3
    assert fake.max_in_window(LOOKUPS) <= 24
    assert sum(fake.counts.values()) > 600          # it was a real workload


async def test_saves_and_their_polls_keep_the_pace_too(fake: FakeWayback,
                                                      clock: VirtualClock) -> None:
    fake.spn_pending_polls = 2
    urls = [f"https://live.example/{n}" for n in range(8)]
    async with Wayback(settings_for(fake), clock=clock, sleep=clock.sleep) as wayback:
        saved = [r async for r in wayback.save(urls)]
        assert wayback.throttled == 0
    assert len(saved) == 8 and not fake.refused
    assert fake.min_gap(["save"]) >= 30.0                # 2 a minute without keys
    assert fake.max_in_progress_seen <= 2 and fake.max_in_window(window_s=1.0) <= 3


async def test_the_fake_refuses_more_than_three_requests_at_once(fake: FakeWayback) -> None:
    fake.burst_per_s = None                              # only the connection rule here
    fake.add("https://ex.org/a", "20190101000000", title="A")
    fake.hold()                                          # the first three stay in progress
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=8)) as client:
        asked = [asyncio.create_task(
            client.get(f"{fake.base_url}/web/20190101000000id_/https://ex.org/a"))
            for _ in range(8)]
        assert await asyncio.to_thread(fake.wait_for_arrivals, 8)
        fake.release()
        answers = await asyncio.gather(*asked)
    assert sorted(a.status_code for a in answers) == [200] * 3 + [429] * 5
    refused = [a for a in answers if a.status_code == 429]
    assert all("Retry-After" not in a.headers and "Too Many Requests" in a.text
               for a in refused)
    assert fake.refused == {"connections": 5}
    assert fake.max_in_progress_seen >= 4 and fake.max_connections_seen == 8


@pytest.mark.parametrize("cap", [2, 3])
async def test_the_per_host_cap_holds_the_next_request_back(
        fake: FakeWayback, clock: VirtualClock, cap: int) -> None:
    """A lookup, a replay and a capture at once (three kinds, so no pace stands between them):
    with the cap at 2 the third is not sent while two are out; at 3 it is."""
    url = "https://ex.org/a"
    fake.add(url, "20190101000000", title="A")
    async with ArchiveContext(settings_for(fake, per_host_connections=cap), clock=clock,
                              sleep=clock.sleep) as ctx:
        fake.hold()
        asked = [
            asyncio.create_task(ctx.fetch("lookup", "GET", ctx.settings.cdx_url,
                                          params={"url": url})),
            asyncio.create_task(ctx.fetch("replay", "GET", f"{ctx.settings.replay_url}"
                                                           f"20190101000000id_/{url}")),
            asyncio.create_task(ctx.fetch("save", "POST", ctx.settings.save_url,
                                          data={"url": url})),
        ]
        assert await asyncio.to_thread(fake.wait_for_arrivals, min(cap, 3))
        for _ in range(20):
            await asyncio.sleep(0)
        sent = sum(ctx.gate.requests.values())
        fake.release()
        answers = await asyncio.gather(*asked)
    assert sent == min(cap, 3)                  # the third waited at the gate for a slot
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert fake.max_in_progress_seen == min(cap, 3) and not fake.refused
    assert fake.accepted == {"127.0.0.1": min(cap, 3)}      # the third reused a connection


async def test_the_fake_refuses_bursts(fake: FakeWayback) -> None:
    async with httpx.AsyncClient() as client:             # one at a time, but all at once
        statuses = [(await client.get(f"{fake.base_url}/cdx/search/cdx?url=ex.org")).status_code
                    for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    assert fake.refused == {"burst": 2}


async def test_an_impolite_client_is_refused(fake: FakeWayback, clock: VirtualClock) -> None:
    """The converse of the first test: six connections per host and paces with no spacing to
    speak of are what the fake refuses, as archive.org would."""
    requests = lost_links(fake, 60)
    impolite = settings_for(fake, per_host_connections=6, concurrency=16,
                            lookup_per_min=60_000, replay_per_min=60_000, batch_threshold=1000)
    results: list[LookupResult] = []
    async with Wayback(impolite, clock=clock, sleep=clock.sleep) as wayback:
        try:
            async for result in wayback.resolve(requests):
                results.append(result)
        except ArchiveThrottled:
            pass
        throttled = wayback.throttled
    assert throttled > 0 and fake.refused["burst"] > 0
