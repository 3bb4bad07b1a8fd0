"""checker.run.parallel: hosts split over worker processes, results streamed back, failures loud."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from contextlib import aclosing
from datetime import UTC, datetime

import pytest

from checker.errors import CheckFailed, WorkerError
from checker.models import CheckResult, Verdict
from checker.run import eventloop, parallel
from checker.run.checking import Target
from checker.run.parallel import check_targets
from checker.settings import CheckSettings
from tests.servers import LocalServer

NOW = datetime(2030, 1, 2, tzinfo=UTC)


def _targets(urls: list[str]) -> list[Target]:
    return [Target(url=url) for url in urls]


def test_partition_keeps_each_host_in_one_worker_and_balances() -> None:
    urls = [f"http://a.example/{n}" for n in range(6)] + [f"http://b.example/{n}" for n in range(3)]
    urls += [f"http://c.example/{n}" for n in range(3)]
    parts = parallel.partition(_targets(urls), 2)
    hosts = [{t.url.split("/")[2] for t in part} for part in parts]
    assert hosts == [{"a.example"}, {"b.example", "c.example"}]
    assert parallel.split_concurrency(5, 2) == [3, 2]
    assert sum(parallel.split_concurrency(64, 3)) == 64


def test_hosts_of_one_site_share_a_worker() -> None:
    assert parallel.site_of("www.example.org") == "example.org"
    assert parallel.site_of("docs.example.org") == "example.org"
    assert parallel.site_of("www.bbc.co.uk") == "bbc.co.uk"
    assert parallel.site_of("www.bbc.com") == "bbc.com"
    assert parallel.site_of("127.0.1.5") == "127.0.1.5"
    assert parallel.site_of("localhost") == "localhost"
    urls = ["http://example.org/a", "http://www.example.org/b", "http://other.net/c"]
    parts = parallel.partition(_targets(urls), 2)
    assert [len(part) for part in parts] == [2, 1]


def test_small_runs_and_single_hosts_stay_in_process() -> None:
    settings = CheckSettings()
    assert parallel.worker_count(_targets(["http://a.example/"] * 10), settings) == 1
    one_host = _targets([f"http://a.example/{n}" for n in range(1000)])
    assert parallel.worker_count(one_host, settings) == 1


async def _collect(targets: list[Target], settings: CheckSettings) -> list[CheckResult]:
    async with aclosing(check_targets(targets, settings, now=lambda: NOW)) as results:
        return [result async for result in results]


def test_the_processes_setting_decides_over_the_size_of_the_run() -> None:
    small = _targets(["http://a.example/", "http://b.example/"])
    assert parallel._processes(small, CheckSettings()) == 1  # too small to be worth it
    assert parallel._processes(small, CheckSettings(processes=3)) == 3
    assert parallel._processes(small, CheckSettings(processes=3, concurrency=2)) == 2
    assert parallel._processes(small, CheckSettings(processes=0)) == 1


def test_two_processes_check_every_target(web: LocalServer) -> None:
    # 127.0.0.1 and localhost are two hosts of the same server
    urls = [web.url("/ok"), web.url("/gone"), web.url("/moved")]
    urls += [url.replace("127.0.0.1", "localhost") for url in urls]
    settings = CheckSettings(per_host=2, host_interval_s=0, retries=0, processes=2)
    results = eventloop.run(_collect(_targets(urls), settings))
    assert sorted(r.url for r in results) == sorted(urls)
    by_url = {r.url: r for r in results}
    assert by_url[web.url("/ok")].verdict is Verdict.ALIVE
    assert by_url[web.url("/gone").replace("127.0.0.1", "localhost")].verdict is Verdict.DEAD
    assert all(r.checked_at == NOW for r in results)  # stamped by the parent's clock


# A library caller may pass anything: an exclusion that is not a regular expression fails for real
# where the targets are checked (the command line refuses it before).
_BROKEN = CheckSettings(host_interval_s=0, exclude=("(unclosed",))


def test_a_failing_worker_is_a_clear_error(web: LocalServer) -> None:
    urls = [web.url("/ok"), web.url("/ok").replace("127.0.0.1", "localhost")]
    settings = dataclasses.replace(_BROKEN, processes=2)
    with pytest.raises(WorkerError, match="a check worker failed(.|\n)*missing \\)"):
        eventloop.run(_collect(_targets(urls), settings))


def test_a_failing_check_in_process_is_the_same_kind_of_error(web: LocalServer) -> None:
    urls = [web.url("/ok"), web.url("/ok").replace("127.0.0.1", "localhost")]
    settings = dataclasses.replace(_BROKEN, processes=1)
    with pytest.raises(CheckFailed, match="the check failed(.|\n)*missing \\)"):
        eventloop.run(_collect(_targets(urls), settings))


def test_workers_that_died_while_waiting_are_a_clear_error(web: LocalServer) -> None:
    with parallel.Workers(2) as workers:
        for process in workers.processes:
            os.kill(process.pid, signal.SIGKILL)  # the OOM killer, say, between two batches
            process.join(10)
        with pytest.raises(WorkerError, match="ended without a word"):
            eventloop.run(_collect_with(_targets(_two_host_urls(web)),
                                        CheckSettings(host_interval_s=0), workers))


def _two_host_urls(web: LocalServer) -> list[str]:
    urls = [web.url("/ok"), web.url("/gone")]
    return urls + [url.replace("127.0.0.1", "localhost") for url in urls]


async def _collect_with(
    targets: list[Target], settings: CheckSettings, workers: parallel.Workers
) -> list[CheckResult]:
    checking = check_targets(targets, dataclasses.replace(settings, processes=2), now=lambda: NOW,
                             workers=workers)
    async with aclosing(checking) as results:
        return [result async for result in results]


def test_workers_forked_in_advance_check_their_shares_and_end(web: LocalServer) -> None:
    urls = _two_host_urls(web)
    with parallel.Workers(2) as workers:
        processes = list(workers.processes)
        results = eventloop.run(_collect_with(_targets(urls), CheckSettings(host_interval_s=0), workers))
    assert sorted(r.url for r in results) == sorted(urls)
    assert all(not process.is_alive() for process in processes)


def test_workers_not_worth_using_are_stopped_and_the_run_stays_in_process(
    web: LocalServer,
) -> None:
    with parallel.Workers(2) as workers:
        processes = list(workers.processes)
        checking = check_targets(_targets([web.url("/ok")]), CheckSettings(host_interval_s=0),
                                 now=lambda: NOW, workers=workers)

        async def run() -> list[CheckResult]:
            async with aclosing(checking) as results:
                return [result async for result in results]

        results = eventloop.run(run())
        assert len(workers) == 0  # stopped before the in-process run, not at the end
    assert [r.verdict for r in results] == [Verdict.ALIVE]
    assert all(not process.is_alive() for process in processes)


def test_leaving_a_parallel_run_early_ends_its_workers(web: LocalServer) -> None:
    urls = _two_host_urls(web) * 20
    with parallel.Workers(2) as workers:
        processes = list(workers.processes)

        async def first() -> CheckResult:
            checking = check_targets(_targets(urls), CheckSettings(host_interval_s=0, processes=2),
                                     now=lambda: NOW, workers=workers)
            async with aclosing(checking) as results:
                async for result in results:
                    return result
            raise AssertionError("no result")

        eventloop.run(first())
        assert all(not process.is_alive() for process in processes)  # before the pool's own exit


def test_an_idle_worker_ends_when_its_parent_goes_away() -> None:
    workers = parallel.Workers(1)
    (process,) = workers.processes
    workers.conns[0].close()  # as if the parent had died: the worker sees the pipe close
    process.join(10)
    assert not process.is_alive()
    workers.stop()


def test_results_cross_the_process_boundary_intact() -> None:
    import pickle

    from checker.models import FailureKind, Hop, Observation

    observation = Observation(
        url="http://a.example/x", final_url="http://a.example/y", status=200,
        chain=(Hop(301, "http://a.example/x"), Hop(200, "http://a.example/y")),
        headers=(("server", "x"),), title="T", headings=("H",), body_sample="text",
        failure=FailureKind.DECODING, error="bad body", attempts=2, retry_after_s=1.5,
    )
    result = CheckResult(url=observation.url, verdict=Verdict.MOVED, reason="301",
                         observation=observation, checked_at=NOW, suggested_url="http://a.example/y",
                         evidence={"k": "v"})
    assert pickle.loads(pickle.dumps(result)) == result


def test_workers_take_a_run_in_batches_each_site_staying_with_its_worker(
    web: LocalServer,
) -> None:
    hosts = ["127.0.0.1", "localhost"]
    batches = [
        [web.url(path).replace("127.0.0.1", host) for host in hosts for path in paths]
        for paths in (["/ok", "/gone"], ["/ok?again", "/moved"])
    ]
    settings = CheckSettings(per_host=1, host_interval_s=0, retries=0, processes=2)
    before = len([r for r in web.requests if "citewatch" in r.path])

    async def run_batches(workers: parallel.Workers) -> list[list[CheckResult]]:
        out = []
        for urls in batches:
            checking = check_targets(_targets(urls), settings, now=lambda: NOW, workers=workers)
            async with aclosing(checking) as results:
                out.append([result async for result in results])
            assert len(workers) == 2  # still there for the next batch
        return out

    with parallel.Workers(2) as workers:
        processes = list(workers.processes)
        first, second = eventloop.run(run_batches(workers))
        assert workers.sites == {"127.0.0.1": 0, "localhost": 1} or workers.sites == {
            "127.0.0.1": 1, "localhost": 0}
        assert all(process.is_alive() for process in processes)
    assert sorted(r.url for r in first) == sorted(batches[0])
    assert sorted(r.url for r in second) == sorted(batches[1])
    probes = [r for r in web.requests if "citewatch" in r.path][before:]
    assert len(probes) == 2  # one per host for the whole run, not one per batch
    assert all(not process.is_alive() for process in processes)


def test_a_watched_pipe_stays_blocking_so_messages_are_read_whole() -> None:
    # uvloop makes a watched descriptor non-blocking; a Connection then fails with EAGAIN in
    # the middle of a long message (a worker's share of thousands of links).
    import multiprocessing

    ours, theirs = multiprocessing.Pipe()
    big = ["x" * 100] * 50_000  # far more than a socket buffer holds

    async def exchange() -> object:
        loop = asyncio.get_running_loop()
        got: asyncio.Future[object] = loop.create_future()
        parallel._watch(loop, ours, lambda: got.set_result(ours.recv()))
        try:
            assert os.get_blocking(ours.fileno())
            sender = loop.run_in_executor(None, theirs.send, big)
            received = await got
            await sender
            return received
        finally:
            loop.remove_reader(ours.fileno())

    try:
        assert eventloop.run(exchange()) == big
    finally:
        ours.close()
        theirs.close()
