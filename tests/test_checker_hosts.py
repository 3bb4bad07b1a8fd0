"""HostGate politeness and retry timing, on a fake clock: nothing here sleeps for real."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from checker.net.hosts import HostGate, backoff_s, parse_retry_after
from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio


async def _run_requests(gate: HostGate, hosts: list[str], work: int = 3) -> None:
    async def one(host: str) -> None:
        async with gate.slot(host):
            for _ in range(work):  # stay inside the slot across several loop turns
                await asyncio.sleep(0)

    await asyncio.gather(*(one(host) for host in hosts))


async def test_a_host_never_sees_more_than_per_host_requests_at_once(fake_clock: FakeClock) -> None:
    clock = fake_clock
    gate = HostGate(concurrency=10, per_host=2, clock=clock, sleep=clock.sleep)
    await _run_requests(gate, ["a"] * 12 + ["b"] * 12)
    assert gate.max_active_for("a") == 2
    assert gate.max_active_for("b") == 2
    assert clock.sleeps == []  # no interval: nobody waits on the clock


async def test_the_global_limit_bounds_all_hosts_together(fake_clock: FakeClock) -> None:
    clock = fake_clock
    gate = HostGate(concurrency=3, per_host=2, clock=clock, sleep=clock.sleep)
    await _run_requests(gate, [f"host{i}" for i in range(10)] * 2)
    assert gate.max_active == 3


async def test_starts_on_one_host_are_an_interval_apart(fake_clock: FakeClock) -> None:
    clock = fake_clock
    gate = HostGate(
        concurrency=10,
        per_host=2,
        interval_s=0.5,
        clock=clock,
        sleep=clock.sleep,
        record_starts=True,
    )
    await _run_requests(gate, ["a"] * 6)
    starts = gate.starts_for("a")
    assert len(starts) == 6
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.5
    assert gate.max_active_for("a") <= 2


async def test_the_interval_of_one_host_does_not_delay_another(fake_clock: FakeClock) -> None:
    clock = fake_clock
    gate = HostGate(
        concurrency=10,
        per_host=1,
        interval_s=5.0,
        clock=clock,
        sleep=clock.sleep,
        record_starts=True,
    )
    await _run_requests(gate, ["a", "b", "c"])
    assert clock.sleeps == []
    assert gate.starts_for("a") == gate.starts_for("b") == gate.starts_for("c") == [0.0]


async def test_defer_holds_every_request_to_the_host_until_then(fake_clock: FakeClock) -> None:
    clock = fake_clock
    gate = HostGate(concurrency=10, per_host=2, clock=clock, sleep=clock.sleep, record_starts=True)
    gate.defer("a", 30.0)
    await _run_requests(gate, ["b", "a", "a"])
    assert gate.starts_for("b") == [0.0]
    assert min(gate.starts_for("a")) >= 30.0


async def test_defer_never_shortens_an_earlier_deferral(fake_clock: FakeClock) -> None:
    clock = fake_clock
    gate = HostGate(concurrency=1, per_host=1, clock=clock, sleep=clock.sleep, record_starts=True)
    gate.defer("a", 10.0)
    gate.defer("a", 2.0)
    await _run_requests(gate, ["a"])
    assert gate.starts_for("a") == [10.0]


async def test_the_global_slot_is_not_held_while_waiting_for_a_host(fake_clock: FakeClock) -> None:
    """With one global slot, a host that must wait 100 s does not block another host."""
    clock = fake_clock
    gate = HostGate(concurrency=1, per_host=1, clock=clock, sleep=clock.sleep, record_starts=True)
    gate.defer("slow", 100.0)
    order: list[str] = []

    async def one(host: str) -> None:
        async with gate.slot(host):
            order.append(host)

    await asyncio.gather(one("slow"), one("fast"))
    assert order == ["fast", "slow"]


async def test_a_request_cancelled_while_waiting_or_running_gives_its_slots_back() -> None:
    gate = HostGate(concurrency=1, per_host=1)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with gate.slot("a"):
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    waiter = asyncio.create_task(_run_requests(gate, ["a"]))
    await asyncio.sleep(0)
    waiter.cancel()  # cancelled while waiting for the host's slot
    holder.cancel()  # cancelled while holding both slots
    await asyncio.gather(waiter, holder, return_exceptions=True)
    await asyncio.wait_for(_run_requests(gate, ["a", "b"]), 1)  # both slots free again
    assert gate.active == 0 and gate.max_active == 1


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        HostGate(concurrency=0, per_host=1)


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 0.5, 1.5), (2, 1.0, 3.0), (3, 2.0, 6.0), (4, 4.0, 12.0)],
)
def test_backoff_doubles_with_jitter(attempt: int, low: float, high: float) -> None:
    assert backoff_s(attempt, 1.0, rng=lambda: 0.0) == low
    assert backoff_s(attempt, 1.0, rng=lambda: 1.0) == high


def test_backoff_is_capped() -> None:
    assert backoff_s(30, 1.0, cap_s=60.0, rng=lambda: 0.5) == 60.0


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected
