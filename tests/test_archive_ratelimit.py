"""The archive gate: even paces, the per-host cap, the shared 60 s pause on 429, the stop; and
the virtual clock the tests run it on. No sleeping."""

from __future__ import annotations

import asyncio

import pytest

from archive import ArchiveSettings, ArchiveThrottled, VirtualClock
from archive.ratelimit import ArchiveGate, EvenPace

HOST = "https://web.archive.org:443"


def max_in_window(times: list[float], window_s: float = 60.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_even_pace_saves_no_credit() -> None:
    pace = EvenPace(24)
    assert pace.interval_s == 2.5
    assert pace.wait_s(0.0) == 0.0
    pace.record(0.0)
    assert pace.wait_s(1.0) == 1.5
    assert pace.wait_s(100.0) == 0.0        # idle for long: one may go now …
    pace.record(100.0)
    assert pace.wait_s(100.0) == 2.5        # … and the next a full interval later, no burst


@pytest.mark.anyio
async def test_concurrent_lookups_go_one_every_2_5_s() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(), clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def one() -> None:
        await gate.acquire("lookup", HOST)
        sent.append(clock())
        gate.report(200, HOST)

    await asyncio.gather(*(one() for _ in range(100)))
    assert sent == [2.5 * n for n in range(100)]          # not 24 at once, then a wait
    assert max_in_window(sent) == 24 and max_in_window(sent, 1.0) == 1
    assert gate.requests["lookup"] == 100


@pytest.mark.anyio
async def test_kinds_have_their_own_paces() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(lookup_per_min=1, replay_per_min=2), clock=clock,
                       sleep=clock.sleep)
    sent: list[tuple[str, float]] = []
    for kind in ("lookup", "replay", "replay", "lookup"):
        await gate.acquire(kind)  # type: ignore[arg-type]
        sent.append((kind, clock()))
        gate.report(200)
    assert sent == [("lookup", 0.0), ("replay", 0.0), ("replay", 30.0), ("lookup", 60.0)]


@pytest.mark.anyio
async def test_replays_and_lookups_interleave_at_their_paces() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(), clock=clock, sleep=clock.sleep)
    sent: dict[str, list[float]] = {"lookup": [], "replay": []}

    async def one(kind: str) -> None:
        await gate.acquire(kind, HOST)  # type: ignore[arg-type]
        sent[kind].append(clock())
        gate.report(200, HOST)

    await asyncio.gather(*(one("lookup") for _ in range(4)), *(one("replay") for _ in range(20)))
    assert sent["lookup"] == [0.0, 2.5, 5.0, 7.5]
    assert sent["replay"] == [0.5 * n for n in range(20)]
    everything = sent["lookup"] + sent["replay"]
    assert max_in_window([t for t in everything], 1.0) == 3   # a lookup and two replays at most


@pytest.mark.anyio
async def test_a_host_never_has_more_than_its_cap_in_flight() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(replay_per_min=6000, per_host_connections=2),
                       clock=clock, sleep=clock.sleep)
    in_flight = {"a": 0, "b": 0}
    most = {"a": 0, "b": 0}

    async def request(host: str) -> None:
        await gate.acquire("replay", host)
        in_flight[host] += 1
        most[host] = max(most[host], in_flight[host])
        await clock.sleep(1.0)                      # on the wire for a second
        in_flight[host] -= 1
        gate.report(200, host)

    await asyncio.gather(*(request("a") for _ in range(6)), *(request("b") for _ in range(2)))
    assert most == {"a": 2, "b": 2}                 # each host its own two slots
    assert gate.hosts.most == {"a": 2, "b": 2}
    assert clock() == pytest.approx(3.01, abs=0.02)  # host a: three rounds of two


@pytest.mark.anyio
async def test_a_request_that_waited_for_a_slot_is_still_spaced() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(per_host_connections=2), clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def request() -> None:
        await gate.acquire("replay", HOST)
        sent.append(clock())
        await clock.sleep(max(0.0, 3.0 - clock()))  # the first two both answer at t = 3
        gate.report(200, HOST)

    await asyncio.gather(*(request() for _ in range(4)))
    # two slots free at once at t = 3, yet the waiting replays leave 0.5 s apart
    assert sent == [0.0, 0.5, 3.0, 3.5]


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

    async def request(name: str, kind: str, answer: int) -> None:
        await gate.acquire(kind)  # type: ignore[arg-type]
        order.append(f"{name} sent at {clock():.0f}")
        await asyncio.sleep(0)                # in flight
        order.append(f"{name} answered")
        gate.report(answer)

    await asyncio.gather(request("probe", "replay", 200), request("next", "save", 200),
                         request("last", "lookup", 200))
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
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(max_consecutive_429=2), clock=clock, sleep=clock.sleep)
    gate.report(429)                          # a 60 s pause
    waiter = asyncio.create_task(gate.acquire("lookup"))
    with clock.on_the_wire():                 # another request is out: time stands still
        for _ in range(20):
            await asyncio.sleep(0)
        assert not waiter.done()
        with pytest.raises(ArchiveThrottled):
            gate.report(429)                  # its answer: the second 429 in a row
        with pytest.raises(ArchiveThrottled):
            await waiter
    assert clock() == 0.0                     # the waiter did not sit out the pause


@pytest.mark.anyio
async def test_the_stop_wakes_requests_waiting_for_a_host_slot() -> None:
    clock = VirtualClock()
    gate = ArchiveGate(ArchiveSettings(per_host_connections=1, max_consecutive_unanswered=1),
                       clock=clock, sleep=clock.sleep)
    await gate.acquire("lookup", HOST)
    waiter = asyncio.create_task(gate.acquire("replay", HOST))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiter.done()
    with pytest.raises(ArchiveThrottled):
        gate.report(None, HOST)               # no answer at all: stop
    with pytest.raises(ArchiveThrottled):
        await waiter


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


# --- the virtual clock ----------------------------------------------------------------------

@pytest.mark.anyio
async def test_sleepers_wake_in_order_at_their_deadlines() -> None:
    clock = VirtualClock(100.0)
    woke: list[tuple[str, float]] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock()))

    await asyncio.gather(nap("c", 3.0), nap("a", 1.0), nap("b", 2.0), nap("a2", 1.0))
    assert woke == [("a", 101.0), ("a2", 101.0), ("b", 102.0), ("c", 103.0)]


@pytest.mark.anyio
async def test_time_stands_still_while_a_request_is_on_the_wire() -> None:
    clock = VirtualClock()
    answered = asyncio.Event()
    seen_by_server: list[float] = []

    async def sleeper() -> float:
        await clock.sleep(5.0)
        return clock()

    async def request() -> None:
        with clock.on_the_wire():
            await answered.wait()             # the server takes its (real) time
            seen_by_server.append(clock())

    napping = asyncio.create_task(sleeper())
    out = asyncio.create_task(request())
    for _ in range(50):                       # far more rounds than the clock waits for
        await asyncio.sleep(0)
    assert not napping.done() and clock() == 0.0
    answered.set()
    await out
    assert await napping == 5.0
    assert seen_by_server == [0.0]


@pytest.mark.anyio
async def test_a_cancelled_sleeper_does_not_hold_time() -> None:
    clock = VirtualClock()
    early = asyncio.create_task(clock.sleep(1.0))
    await asyncio.sleep(0)
    early.cancel()
    await clock.sleep(10.0)
    assert clock() == 10.0 and early.cancelled()


@pytest.mark.anyio
async def test_time_waits_for_a_task_that_is_still_working() -> None:
    clock = VirtualClock()
    times: list[float] = []

    async def worker() -> None:
        for _ in range(3):                    # busy for a few rounds, then sleeps 1 s
            await asyncio.sleep(0)
        await clock.sleep(1.0)
        times.append(clock())

    async def other() -> None:
        await clock.sleep(2.0)
        times.append(clock())

    await asyncio.gather(other(), worker())
    assert times == [1.0, 2.0]                # not 3.0: time did not jump to 2 meanwhile
