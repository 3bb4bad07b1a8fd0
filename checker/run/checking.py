"""Check links: fetch (checker.run.engine), judge (checker.judge.classify), yield one CheckResult per link.

NXDOMAIN needs a witness (`DnsWitness`). ``classify()`` calls a name that does not resolve dead,
judging one observation. But a resolver that answers "no such name" for *every* name (a sandboxed
CI runner, some corporate networks, a captive portal) would make every link of a run dead, and
nightly runs would confirm them all lost. So a run's NXDOMAIN verdicts are trusted only when
the resolver is seen resolving a name that exists: **another name of the same run resolved**
(a host given by name, not an IP literal or ``localhost``, that answered HTTP, refused
or reset a connection or failed TLS, or any hop of a redirect chain), **or the canary resolves**
(``settings.dns_canary``, default ``web.archive.org``; asked once per run, at the first NXDOMAIN
that has no other witness, within the connect timeout). When the canary does not resolve,
NXDOMAIN results are held back (not yet recorded) until a name of the run resolves, which
releases them as dead, or the run ends (or is interrupted): then they are recorded
``unreachable``, saying why, and never count towards confirming a link dead. The verdicts are
vetted by the process that records them, as they arrive from every worker process, so a
witness in one worker vouches for the NXDOMAIN answers of another.

The soft-404 probe: a page that looks alive (200, a deep URL) is compared with the host's answer
for a random path that cannot exist. The probe is fetched once per host and run (on the same
client and under the same politeness as every other request), and only for hosts that have a
page worth comparing, so most hosts never see it.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar

from checker.judge.classify import classify, is_excluded
from checker.judge.soft404 import ProbeCache, SoftProbe, is_deep_url, random_probe_url
from checker.models import CheckResult, FailureKind, Observation, Verdict, pickled_as_tuples
from checker.net.client import Lookup, resolve_host
from checker.net.fetch import Fetcher
from checker.net.hosts import Clock, Sleep
from checker.run.engine import fetch_all
from checker.settings import CheckSettings
from citations.hosts import host_of
from citations.urls import InvalidUrl, normalize_url


@pickled_as_tuples  # sent to the worker processes by the thousand
@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A link to check and what its citations say the page is called."""

    url: str
    cited_titles: tuple[str, ...] = ()


async def check_in_this_process(
    targets: Sequence[Target],
    settings: CheckSettings,
    *,
    now: Callable[[], datetime],
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    fetcher: Fetcher | None = None,
    probes: ProbeCache | None = None,
) -> AsyncGenerator[CheckResult, None]:
    """Yield a CheckResult for every target, each as soon as it is known, checking them all in
    this process (``checker.run.parallel.check_targets`` chooses between this and worker
    processes; each worker runs this on its share).

    Excluded and unfetchable URLs are judged without a request; the rest go through the engine,
    paced on `clock` and `sleep`. `fetcher` and `probes`: for a run checked in batches, the
    Fetcher (clients, per-host politeness) and the soft-404 probes that carry over from one
    batch to the next.
    """
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


# Failures that come after a name resolved: the resolver found the host. (Not a timeout, which
# may be the lookup's own, nor a forbidden address, which a lying resolver may give.)
_PAST_DNS = frozenset({FailureKind.REFUSED, FailureKind.RESET, FailureKind.TLS,
                       FailureKind.PROTOCOL, FailureKind.DECODING})


K = TypeVar("K")
_MAX_HELD = 10_000  # NXDOMAIN results held back waiting for a witness (a batch's worth)


class DnsWitness(Generic[K]):
    """Whether a run's NXDOMAIN answers can be believed (the rule is in the module docstring).

    Give it every result of the run with the caller's key for it (a link id, say): ``vet()``
    returns what may be recorded now. A dead-by-NXDOMAIN result with no witness yet, and a
    canary that does not resolve, is held back until a name of the run resolves (then it is
    returned as it is) or the run ends: ``finish()``, also on an interruption, returns the held
    ones turned unreachable. ``distrusted`` counts those.
    """

    def __init__(self, settings: CheckSettings) -> None:
        self.canary = settings.dns_canary
        self._timeout_s = settings.connect_timeout_s
        self._lookup = settings.resolver or resolve_host
        self.resolved = False      # a name of this run resolved
        self._canary_resolves: bool | None = None  # asked at most once per run
        self._held: list[tuple[K, CheckResult]] = []
        self.distrusted = 0

    async def vet(self, key: K, result: CheckResult) -> list[tuple[K, CheckResult]]:
        observation = result.observation
        if not self.resolved and _resolved_a_name(observation):
            self.resolved = True
            released, self._held = [*self._held, (key, result)], []
            return released
        if result.verdict is not Verdict.DEAD or observation.failure is not FailureKind.NXDOMAIN:
            return [(key, result)]
        if self.resolved or await self._canary():
            return [(key, result)]
        if len(self._held) >= _MAX_HELD:  # memory stays bounded: the oldest is judged now
            self._held.append((key, result))
            return [self._distrust(*self._held.pop(0))]
        self._held.append((key, result))
        return []

    def finish(self) -> list[tuple[K, CheckResult]]:
        """The results still held, unreachable: nothing witnessed that the resolver works."""
        held, self._held = self._held, []
        return [self._distrust(key, result) for key, result in held]

    def _distrust(self, key: K, result: CheckResult) -> tuple[K, CheckResult]:
        self.distrusted += 1
        canary = f", nor did the canary {self.canary}" if self.canary else ""
        reason = (f"{result.reason}; not believed: no other name resolved in this run{canary}, "
                  "so the resolver may be lying or the network down")
        return key, replace(result, verdict=Verdict.UNREACHABLE, reason=reason)

    async def _canary(self) -> bool:
        if self._canary_resolves is None:
            self._canary_resolves = bool(self.canary) and await _resolves(
                self.canary, self._lookup, timeout_s=self._timeout_s
            )
        return self._canary_resolves


async def _resolves(name: str, lookup: Lookup, *, timeout_s: float) -> bool:
    """Whether the resolver gives `name` an address within `timeout_s` (a timeout is a no)."""
    try:
        async with asyncio.timeout(timeout_s):
            return bool(await lookup(name, 443))
    except (OSError, TimeoutError):  # socket.gaierror is an OSError
        return False


def _resolved_a_name(observation: Observation) -> bool:
    """The observation shows the resolver finding a host that was given by name: a response
    in the chain (each one came from a host that resolved), or a failure past the lookup."""
    if any(_is_name(hop.url) for hop in observation.chain):
        return True
    answered = observation.status is not None or observation.failure in _PAST_DNS
    return answered and _is_name(observation.final_url or observation.url)


def _is_name(url: str) -> bool:
    """A host name the DNS answers for: not an IP literal, and not localhost, which the hosts
    file answers even where the DNS lies."""
    try:
        host = host_of(url).strip("[]")
    except ValueError:
        return False
    return _is_name_host(host)


@functools.lru_cache(maxsize=4096)
def _is_name_host(host: str) -> bool:
    # Memoised: until a name resolves every result is vetted, and a run sees few distinct hosts
    # (parsing each as an IP address cost a tenth of a millisecond per result).
    if not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False
