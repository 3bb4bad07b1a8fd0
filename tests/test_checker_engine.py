"""fetch_all against several loopback hosts: limits as the servers count them, streaming results,
connection reuse, the after_fetch hook, and stopping cleanly."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import threading
import time
from contextlib import aclosing
from typing import TYPE_CHECKING

import pytest

from checker.models import FailureKind, Observation
from checker.net.fetch import Fetcher
from checker.run import engine
from checker.run.engine import fetch_all, fetch_one, plan_lanes
from checker.settings import CheckSettings
from tests.servers import (
    Behaviour,
    Exchange,
    Meter,
    hang,
    page,
    serve,
    serve_hosts,
    slow,
)

if TYPE_CHECKING:
    from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio
WAIT_S = 60.0  # upper bound for an event that comes at once; reached only by a hang

FAST = CheckSettings(
    timeout_s=1.0,
    connect_timeout_s=1.0,
    total_timeout_s=5.0,
    retries=0,
    host_interval_s=0.0,
    concurrency=8,
    per_host=2,
)


def settings(**changes: object) -> CheckSettings:
    return dataclasses.replace(FAST, **changes)  # type: ignore[arg-type]


async def collect(
    urls: list[str], config: CheckSettings = FAST, clock: FakeClock | None = None
) -> list[Observation]:
    """Every observation of a run (waits on the fake clock when one is given)."""
    results = fetch_all(
        urls,
        config,
        clock=time.monotonic if clock is None else clock,
        sleep=asyncio.sleep if clock is None else clock.sleep,
    )
    async with aclosing(results):
        return [item async for item in results]


def test_lanes_put_the_busiest_host_first_and_give_each_host_at_most_per_host() -> None:
    urls = ["http://a/1", "http://b/1", "http://b/2", "http://b/3", "http://c/1"]
    lanes = plan_lanes(urls, per_host=2)
    assert [list(lane)[0] for lane in lanes] == [
        "http://b/1",
        "http://b/1",
        "http://a/1",
        "http://c/1",
    ]
    assert lanes[0] is lanes[1]  # b's two lanes share one queue


async def test_every_url_gets_one_observation() -> None:
    with serve_hosts(
        lambda: {f"/{i}": page(200, title=f"Page {i}") for i in range(10)}, 3
    ) as hosts:
        urls = [server.url(f"/{i}") for server in hosts for i in range(10)]
        observations = await collect(urls)
    assert sorted(o.url for o in observations) == sorted(urls)
    assert all(
        o.status == 200 and o.title == f"Page {o.url.rsplit('/', 1)[1]}" for o in observations
    )


async def test_no_host_ever_sees_more_than_per_host_requests_and_the_total_stays_bounded() -> None:
    everywhere = Meter()
    with serve_hosts({"/": slow(0.02, page(200))}, 4, meters=[everywhere]) as hosts:
        urls = [server.url(f"/?n={n}") for server in hosts for n in range(12)]
        observations = await collect(urls, settings(per_host=2, concurrency=5))
        per_host = [server.max_active_requests for server in hosts]
    assert len(observations) == 48 and all(o.status == 200 for o in observations)
    assert max(per_host) == 2  # reached, never exceeded
    assert everywhere.maximum <= 5


async def test_a_host_can_have_its_own_limit() -> None:
    with serve_hosts({"/": slow(0.02, page(200))}, 2) as hosts:
        strict, other = hosts
        limits = {"127.0.0.1": 1}   # serve_hosts starts at 127.0.0.1
        urls = [server.url(f"/?n={n}") for server in hosts for n in range(8)]
        observations = await collect(urls, settings(per_host=3, host_limits=limits))
        assert strict.max_active_requests == 1
        assert other.max_active_requests == 3
    assert len(observations) == 16
    assert len(plan_lanes(["http://a/1", "http://a/2", "http://b/1", "http://b/2"], 2, {"a": 1})) == 3


async def test_connections_are_reused() -> None:
    with serve({"/": page(200, title="Again")}, host="127.0.0.2") as web:
        observations = await collect([web.url(f"/?n={n}") for n in range(30)], settings(per_host=2))
        assert web.connections_accepted <= 2
        assert web.max_open_connections <= 2
    assert len(observations) == 30


async def test_idle_clients_beyond_the_limit_are_closed_and_recreated_on_demand() -> None:
    with serve_hosts({"/": page(200)}, 4) as hosts:
        async with Fetcher(FAST, max_clients=2) as fetcher:
            for _ in range(2):
                for server in hosts:
                    assert (await fetcher.fetch(server.url("/"))).status == 200
            assert fetcher.clients_created == 8  # each host's client evicted before its turn
            assert len(fetcher._clients) == 2


def _held_until(release: threading.Event, then: Behaviour) -> Behaviour:
    """Answer with `then` once `release` is set; 503 if it never is (a bound only a hang reaches)."""

    def behaviour(exchange: Exchange) -> bool:
        return then(exchange) if release.wait(WAIT_S) else page(503)(exchange)

    return behaviour


def _tell_when_hit(hit: threading.Event, then: Behaviour) -> Behaviour:
    def behaviour(exchange: Exchange) -> bool:
        hit.set()
        return then(exchange)

    return behaviour


async def test_results_stream_as_they_complete() -> None:
    release = threading.Event()  # /held answers only once /ok has been yielded
    routes = {"/held": _held_until(release, page(200, title="Held")), "/ok": page(200)}
    with serve(routes) as web:
        config = settings(timeout_s=WAIT_S, total_timeout_s=2 * WAIT_S, per_host=4)
        arrivals: list[tuple[str, int | None, bool]] = []
        async with aclosing(fetch_all([web.url("/held"), web.url("/ok")], config)) as results:
            async for observation in results:
                arrivals.append((observation.url, observation.status, release.is_set()))
                release.set()
    # the fast page did not wait for the slow one: it came while /held was still held
    assert arrivals == [(web.url("/ok"), 200, False), (web.url("/held"), 200, True)]


async def test_the_host_interval_is_kept_without_sleeping_for_real(fake_clock: FakeClock) -> None:
    with serve({"/": page(200)}) as web:
        observations = await collect(
            [web.url(f"/?n={n}") for n in range(5)],
            settings(host_interval_s=2.0, per_host=1),
            fake_clock,
        )
    assert len(observations) == 5
    # 4 gaps of 2 s, all waited on the fake clock (a real sleep would not be recorded there)
    assert sum(fake_clock.sleeps) == pytest.approx(8.0)


async def test_after_fetch_can_probe_the_same_host_and_shapes_what_is_yielded() -> None:
    with serve(
        {"/a": page(200, title="A"), "/b": page(200, title="B")},
        default=page(404, title="Not found"),
    ) as web:

        async def probe(
            observation: Observation, fetcher: Fetcher
        ) -> tuple[Observation, Observation]:
            random_path = observation.url.rsplit("/", 1)[0] + "/no-such-page-xyz"
            return observation, await fetcher.fetch(random_path)

        async with aclosing(
            fetch_all([web.url("/a"), web.url("/b")], FAST, after_fetch=probe)
        ) as results:
            pairs = [pair async for pair in results]
        assert web.hits("/no-such-page-xyz") == 2
        assert web.connections_accepted <= FAST.per_host  # probes reused the host's client
    assert sorted(o.title for o, _ in pairs) == ["A", "B"]  # type: ignore[type-var]
    assert {p.status for _, p in pairs} == {404}


async def test_an_exception_in_the_hook_ends_the_run() -> None:
    async def broken(observation: Observation, fetcher: Fetcher) -> None:
        raise RuntimeError("bug in the hook")

    with serve({"/": page(200)}) as web:
        with pytest.raises(RuntimeError, match="bug in the hook"):
            async with aclosing(fetch_all([web.url("/")], FAST, after_fetch=broken)) as results:
                async for _ in results:
                    pass


async def test_stopping_early_cancels_the_rest() -> None:
    with serve({"/ok": page(200), "/hang": hang()}) as web:
        urls = [web.url("/ok")] + [web.url(f"/hang?n={n}") for n in range(4)]
        # The hanging requests would wait an hour: leaving ends them, or the bound (reached
        # only by a hang) fails the test.
        async with asyncio.timeout(WAIT_S):
            async with aclosing(
                fetch_all(urls, settings(timeout_s=3600, total_timeout_s=7200, per_host=5))
            ) as results:
                async for observation in results:
                    assert observation.status == 200
                    break


async def test_cancelling_the_consumer_cancels_the_run() -> None:
    reached = threading.Event()
    with serve({"/hang": _tell_when_hit(reached, hang())}) as web:

        async def consume() -> None:
            async with aclosing(
                fetch_all([web.url("/hang")], settings(timeout_s=30, total_timeout_s=60))
            ) as results:
                async for _ in results:
                    pass

        task = asyncio.create_task(consume())
        assert await asyncio.to_thread(reached.wait, WAIT_S)  # the request is in flight
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_failures_are_yielded_like_answers() -> None:
    observations = await collect(["not a url", "http://169.254.169.254/"])
    assert {o.failure for o in observations} == {
        FailureKind.INVALID_URL,
        FailureKind.FORBIDDEN_ADDRESS,
    }


async def test_no_urls_yield_nothing() -> None:
    assert await collect([]) == []


async def test_fetch_one() -> None:
    with serve({"/": page(200, title="One")}) as web:
        observation = await fetch_one(web.url("/"), FAST)
    assert (observation.status, observation.title) == (200, "One")


async def test_the_collector_runs_at_the_checking_pace_during_a_run_only() -> None:
    before = gc.get_threshold()
    seen = []
    with serve({"/a": page(200, title="A"), "/b": page(200, title="B")}) as web:
        async with aclosing(fetch_all([web.url("/a"), web.url("/b")], FAST)) as results:
            async for _ in results:
                seen.append(gc.get_threshold())
    assert seen == [engine._CHECKING_GC_THRESHOLD] * 2
    assert gc.get_threshold() == before
