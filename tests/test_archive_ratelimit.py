"""The archive gate: sliding-window limits, the shared 60 s pause on 429, the stop. No sleeping."""

from __future__ import annotations

import asyncio
import time

import pytest

from archive import ArchiveSettings, ArchiveThrottled, VirtualClock
from archive.ratelimit import ArchiveGate, SlidingWindow


def max_in_window(times: list[float], window_s: float = 60.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_sliding_window() -> None:
    window = SlidingWindow(2, 60.0)
    assert window.wait_s(0.0) == 0.0
    window.record(0.0)
    window.record(10.0)
    assert window.wait_s(30.0) == 30.0        # the first slot frees at t = 60
    assert window.wait_s(60.0) == 0.0


@pytest.mark.anyio
async def test_concurrent_lookups_hold_24_per_minute() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(), clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def one() -> None:
        await gate.acquire("lookup")
        sent.append(clock())

    await asyncio.gather(*(one() for _ in range(100)))
    assert len(sent) == 100
    assert max_in_window(sent) == 24
    assert clock() == pytest.approx(240.0)    # 24 at t = 0, 60, 120, 180, and the last 4 at 240
    assert gate.requests["lookup"] == 100


@pytest.mark.anyio
async def test_kinds_have_their_own_pools() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(lookup_per_min=1, replay_per_min=2), clock=clock,
                       sleep=clock.sleep)
    await gate.acquire("lookup")
    await gate.acquire("replay")
    await gate.acquire("replay")
    assert clock() == 0.0
    await gate.acquire("lookup")
    assert clock() == 60.0


@pytest.mark.anyio
async def test_any_429_pauses_every_kind_for_60_s() -> None:
    clock = VirtualClock(1000.0)
    gate = ArchiveGate(ArchiveSettings(), clock=clock, sleep=clock.sleep)
    await gate.acquire("lookup")
    gate.report(429)                          # a CDX 429 …
    await gate.acquire("replay")              # … holds back replays too
    assert clock() == pytest.approx(1060.0)
    gate.report(200)
    await gate.acquire("save")
    assert clock() == pytest.approx(1060.0)
    assert gate.throttled == 1 and gate.paused_s == pytest.approx(60.0)


@pytest.mark.anyio
async def test_after_a_pause_one_request_goes_first_and_alone() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(), clock=clock, sleep=clock.sleep)
    await gate.acquire("lookup")
    gate.report(429)
    order: list[str] = []

    async def request(name: str, answer: int) -> None:
        await gate.acquire("replay")
        order.append(f"{name} sent at {clock():.0f}")
        await asyncio.sleep(0)                # in flight
        order.append(f"{name} answered")
        gate.report(answer)

    await asyncio.gather(request("probe", 200), request("next", 200), request("last", 200))
    assert order == ["probe sent at 60", "probe answered", "next sent at 60", "last sent at 60",
                     "next answered", "last answered"]


@pytest.mark.anyio
async def test_three_429s_in_a_row_stop_everything() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(), clock=clock, sleep=clock.sleep)
    gate.report(429)
    gate.report(200)                          # an answer in between resets the count
    gate.report(429)
    gate.report(429)
    assert not gate.stopped
    with pytest.raises(ArchiveThrottled):
        gate.report(429)
    assert gate.stopped
    with pytest.raises(ArchiveThrottled):
        await gate.acquire("replay")


@pytest.mark.anyio
async def test_the_stop_wakes_requests_waiting_out_a_pause() -> None:
    gate = ArchiveGate(ArchiveSettings(max_consecutive_429=2), clock=time.monotonic,
                       sleep=asyncio.sleep)   # real clock: the pause would last 60 s
    gate.report(429)
    waiter = asyncio.create_task(gate.acquire("lookup"))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    with pytest.raises(ArchiveThrottled):
        gate.report(429)
    started = time.monotonic()
    with pytest.raises(ArchiveThrottled):
        await asyncio.wait_for(waiter, 1.0)
    assert time.monotonic() - started < 0.5


def test_saves_per_url_per_day() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(max_saves_per_url_per_day=2), clock=clock,
                       sleep=clock.sleep)
    assert gate.claim_save("https://ex.org/")
    assert gate.claim_save("https://ex.org/")
    assert not gate.claim_save("https://ex.org/")
    assert gate.claim_save("https://ex.org/other")
    clock.now += 86_400.0
    assert gate.claim_save("https://ex.org/")


def test_save_rate_depends_on_keys() -> None:
    assert ArchiveSettings().save_per_min == 2
    assert ArchiveSettings(access_key="k", secret_key="s").save_per_min == 6


@pytest.mark.anyio
async def test_repeated_silence_stops_the_gate_but_one_answer_resets_the_count() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(max_consecutive_unanswered=3), clock=clock,
                       sleep=clock.sleep)
    for _ in range(2):
        await gate.acquire("lookup")
        gate.report(None)
    await gate.acquire("lookup")
    gate.report(200)                      # an answer: the network is there after all
    for _ in range(2):
        await gate.acquire("lookup")
        gate.report(None)
    await gate.acquire("lookup")
    with pytest.raises(ArchiveThrottled, match="did not answer 3 requests in a row"):
        gate.report(None)
    with pytest.raises(ArchiveThrottled):
        await gate.acquire("replay")      # every kind stops
