"""Check links: fetch (checker.engine), judge (checker.classify), yield one CheckResult per link.

The soft-404 probe: a page that looks alive (200, a deep URL) is compared with the host's answer
for a random path that cannot exist. The probe is fetched once per host and run (on the same
client and under the same politeness as every other request), and only for hosts that have a
page worth comparing, so most hosts never see it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from checker.classify import classify, is_excluded
from checker.engine import fetch_all
from checker.fetch import Fetcher
from checker.hosts import Clock, Sleep
from checker.models import CheckResult, FailureKind, Observation, Verdict, pickled_as_tuples
from checker.settings import CheckSettings
from checker.soft404 import ProbeCache, SoftProbe, is_deep_url, random_probe_url
from citations.urls import InvalidUrl, normalize_url

if TYPE_CHECKING:
    from checker.parallel import Workers


@pickled_as_tuples  # sent to the worker processes by the thousand
@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A link to check and what its citations say the page is called."""

    url: str
    cited_titles: tuple[str, ...] = ()


async def check_targets(
    targets: Sequence[Target],
    settings: CheckSettings,
    *,
    now: Callable[[], datetime],
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    processes: int | None = None,
    workers: Workers | None = None,
    fetcher: Fetcher | None = None,
    probes: ProbeCache | None = None,
) -> AsyncGenerator[CheckResult, None]:
    """Yield a CheckResult for every target, each as soon as it is known.

    Excluded and unfetchable URLs are judged without a request; the rest go through the engine.
    `processes`: how many worker processes share the hosts (checker.parallel); None picks by the
    size of the run and the cores, and always 1 when a test passes its own `clock` or `sleep`.
    `workers`: processes forked in advance (`checker.parallel.Workers`), used if the run is
    worth it and stopped otherwise; without them, workers are forked here when needed.
    `fetcher` and `probes`: for a run checked in batches, the Fetcher (clients, per-host
    politeness) and the soft-404 probes that carry over from one batch to the next.
    """
    if processes is None:
        processes = 1
        if clock is time.monotonic and sleep is asyncio.sleep:
            from checker.parallel import worker_count

            processes = worker_count(targets, settings)
    if workers is not None:
        processes = min(processes, len(workers))
    if processes > 1:
        from checker.parallel import Workers, check_in_processes

        if workers is not None:
            workers.keep(processes)
        pool = workers if workers is not None else Workers(processes)
        async with aclosing(check_in_processes(targets, settings, now=now,
                                               workers=pool)) as parallel:
            async for result in parallel:
                yield result
        return
    if workers is not None:
        workers.stop()  # not worth it: free them now
    titles: dict[str, tuple[str, ...]] = {}
    to_fetch: list[str] = []
    for target in targets:
        if is_excluded(target.url, settings):
            yield _without_request(target.url, Verdict.SKIPPED, "excluded by configuration", now())
            continue
        try:
            normalize_url(target.url)
        except InvalidUrl as exc:
            yield _without_request(target.url, Verdict.INVALID, str(exc), now())
            continue
        titles[target.url] = target.cited_titles
        to_fetch.append(target.url)

    if probes is None:
        probes = ProbeCache()
    pending: dict[str, asyncio.Future[SoftProbe]] = {}

    async def probe_for(observation: Observation, fetcher: Fetcher) -> SoftProbe:
        url = observation.final_url or observation.url
        key = ProbeCache.key(url)
        cached = probes.get(url)
        if cached is not None:
            return cached
        if key in pending:  # another page of this host is probing right now
            return await asyncio.shield(pending[key])
        future: asyncio.Future[SoftProbe] = asyncio.get_running_loop().create_future()
        pending[key] = future
        try:
            probe = SoftProbe.from_observation(await fetcher.fetch(random_probe_url(url)))
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            pending.pop(key, None)
        probes.put(url, probe)
        future.set_result(probe)
        return probe

    async def judge(observation: Observation, fetcher: Fetcher) -> CheckResult:
        cited = titles.get(observation.url, ())
        # The host's probe, when already fetched, is given at once: one judgement, not two.
        # (classify only compares with it where the verdict would be alive, drifted or moved.)
        known = probes.get(observation.final_url or observation.url) if _probed(observation) else None
        judgement = classify(observation, cited_titles=cited, probe=known, settings=settings)
        if known is None and _wants_probe(observation, judgement.verdict):
            probe = await probe_for(observation, fetcher)
            judgement = classify(observation, cited_titles=cited, probe=probe, settings=settings)
        return CheckResult(
            url=observation.url, verdict=judgement.verdict, reason=judgement.reason,
            observation=observation, checked_at=now(), suggested_url=judgement.suggested_url,
        )

    # aclosing: leaving early (Ctrl-C, a failed write) stops every worker and closes every client
    async with aclosing(fetch_all(to_fetch, settings, clock=clock, sleep=sleep,
                                  after_fetch=judge, fetcher=fetcher)) as results:
        async for result in results:
            yield result


def _probed(observation: Observation) -> bool:
    """A page that the probe of its host may unmask: a deep URL answered with 200."""
    return observation.status == 200 and is_deep_url(observation.final_url or observation.url)


def _wants_probe(observation: Observation, verdict: Verdict) -> bool:
    return verdict in (Verdict.ALIVE, Verdict.DRIFTED, Verdict.MOVED) and _probed(observation)


def _without_request(url: str, verdict: Verdict, reason: str, at: datetime) -> CheckResult:
    failure = FailureKind.INVALID_URL if verdict is Verdict.INVALID else None
    observation = Observation(url=url, failure=failure, error=reason if failure else "", attempts=0)
    return CheckResult(url=url, verdict=verdict, reason=reason, observation=observation, checked_at=at)
