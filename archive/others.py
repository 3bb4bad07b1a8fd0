"""
Other web archives (archive.today, national libraries, a MemGator aggregator), asked **after** the
Wayback Machine and **only** for the citations it could not resolve: outcome ``no-capture`` or
``excluded``. An ``unknown`` answer (the Wayback Machine failed or stopped us) is not handed on:
it will be asked again on the next run, and another archive's capture must not hide that.

Archives are asked in the configured order (``ArchiveSettings.memento_archives``), each only for
the citations still without a capture. Per archive and URL: one TimeMap request (or one TimeGate
request per citation date when the archive has no TimeMap), choose.py's rule over its mementos
for each citation, and at most ``max_verify`` new replays per citation, each judged by the same
``PageJudge`` as a Wayback capture (archive/memento.py). A capture found there is a ``Snapshot``
whose ``archive`` is the archive's name and whose ``replay_url`` is the memento as listed.

**Politeness.** Each archive host gets its own ``ArchiveContext``, so its own ``ArchiveGate``: the
same per-host cap, the same even paces (lookups every 2.5 s, replays every 0.5 s) and the same
pause and stop after 429s as the Wayback Machine, but a budget of its own. We chose separate
budgets because IA's limits are IA's: sharing its lookup pace would make every TimeMap request to
archive.today delay the next CDX request, and a 429 from one archive would pause all the others.
All contexts share one HTTP client (one pool of kept-alive connections); each request carries its
archive's timeout.

**Circuit breaker.** An archive that fails ``memento_max_failures`` times in a row (5xx, timeout,
no answer, an unreadable TimeMap, or its gate stopping after repeated 429s) is not asked again in
this run; its citations keep the Wayback Machine's answer, with the reason saying so. Any answer
(a TimeMap, a 404 "no memento") resets the count.

Results stream on: a URL the Wayback Machine resolved is yielded at once; one that needs other
archives is completed in a task of its own, so slow archives never hold back the Wayback stream.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import httpx

from archive.choose import rank_captures
from archive.context import ArchiveContext, Fetched, host_key, make_client, start_tally
from archive.errors import ArchiveThrottled, ArchiveUnavailable
from archive.links import split_archive_link
from archive.memento import (
    Get,
    Memento,
    as_captures,
    ask_timegate,
    fetch_timemap,
    timeout_for,
    verify_memento,
)
from archive.models import (
    Choice,
    LookupRequest,
    LookupResult,
    Outcome,
    PageJudge,
    Snapshot,
    Target,
)
from archive.ratelimit import Clock, Kind, Sleep
from archive.replay import Verified
from archive.resolver import merge_requests
from archive.settings import MEMENTO_ARCHIVES, ArchiveSettings, MementoArchive

#: Wayback outcomes that other archives are asked about.
WANTS_OTHERS = frozenset({Outcome.NO_CAPTURE, Outcome.EXCLUDED})
# Pool room for hosts an aggregator's mementos live on, beyond the configured archives' hosts.
_SPARE_HOSTS = 4


class Breaker:
    """Per archive: open after ``max_failures`` failures in a row; then it is not asked."""

    def __init__(self, max_failures: int) -> None:
        self.max_failures = max(1, max_failures)
        self._failures: Counter[str] = Counter()
        self.opened: dict[str, str] = {}          # archive name -> why it is no longer asked

    def allows(self, name: str) -> bool:
        return name not in self.opened

    def failed(self, name: str, why: str) -> None:
        self._failures[name] += 1
        if self._failures[name] >= self.max_failures:
            self.opened.setdefault(
                name, f"{self._failures[name]} failures in a row, last: {why}")

    def succeeded(self, name: str) -> None:
        self._failures[name] = 0


class OtherArchives:
    """The archives after the Wayback Machine, for one run. Close with ``aclose()``."""

    def __init__(
        self, settings: ArchiveSettings, *, clock: Clock, sleep: Sleep,
        transport: httpx.AsyncBaseTransport | None = None, judge: PageJudge | None = None,
    ) -> None:
        self.settings = settings
        self.archives = settings.memento_archives
        self._clock = clock
        self._sleep = sleep
        self._judge = judge
        hosts = {host_key(a.timemap or a.timegate) for a in self.archives}
        self.http = make_client(settings, hosts=len(hosts) + _SPARE_HOSTS, transport=transport)
        self._contexts: dict[str, ArchiveContext] = {}
        self.breaker = Breaker(settings.memento_max_failures)
        self.requests: Counter[str] = Counter()   # sent, by archive name
        self.asked: Counter[str] = Counter()      # citations asked about, by archive name
        self.found: Counter[str] = Counter()      # citations resolved, by archive name

    async def aclose(self) -> None:
        await self.http.aclose()

    def _context(self, url: str) -> ArchiveContext:
        """The context (gate) of the host ``url`` is on: created on first use."""
        host = host_key(url)
        if host not in self._contexts:
            self._contexts[host] = ArchiveContext(
                self.settings, clock=self._clock, sleep=self._sleep, http=self.http,
                name=httpx.URL(url).host)
        return self._contexts[host]

    def _getter(self, archive: MementoArchive, replays: dict[str, Fetched]) -> Get:
        async def get(kind: Kind, url: str, headers: dict[str, str]) -> Fetched:
            if kind == "replay" and url in replays:
                return replays[url]          # two citations choosing one memento: one request
            self.requests[archive.name] += 1
            fetched = await self._context(url).fetch(kind, "GET", url, headers=headers,
                                                     timeout=timeout_for(archive))
            if kind == "replay":
                replays[url] = fetched
            return fetched
        return get

    async def follow(self, results: AsyncIterator[LookupResult],
                     requests: Sequence[LookupRequest]) -> AsyncIterator[LookupResult]:
        """Pass the Wayback results on, completing those with citations it could not resolve.

        If the Wayback stream raises ArchiveThrottled, the completions already started are
        finished and yielded first, then it is raised (the caller has stored everything).
        """
        by_url = {r.url: r for r in merge_requests(requests)}
        completing: set[asyncio.Task[LookupResult]] = set()

        async def next_result() -> LookupResult:
            return await anext(results)

        upstream: asyncio.Task[LookupResult] | None = asyncio.create_task(next_result())
        failure: BaseException | None = None
        try:
            while upstream is not None or completing:
                waiting: set[asyncio.Task[LookupResult]] = set(completing)
                if upstream is not None:
                    waiting.add(upstream)
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if upstream is not None and upstream in done:
                    finished, upstream = upstream, None
                    try:
                        result = finished.result()
                    except StopAsyncIteration:
                        pass
                    except ArchiveThrottled as exc:
                        failure = exc
                    else:
                        upstream = asyncio.create_task(next_result())
                        if self.archives and any(c.outcome in WANTS_OTHERS
                                                 for c in result.choices):
                            completing.add(asyncio.create_task(
                                self.complete(by_url[result.url], result)))
                        else:
                            yield result
                for task in done & completing:
                    completing.discard(task)
                    yield task.result()
        finally:
            for task in (*completing, *([upstream] if upstream else [])):
                task.cancel()
            await asyncio.gather(*completing, *([upstream] if upstream else []),
                                 return_exceptions=True)
        if failure is not None:
            raise failure

    async def complete(self, request: LookupRequest, result: LookupResult) -> LookupResult:
        """``result`` with the captures other archives have for its unresolved citations."""
        tally = start_tally()
        wanted = {c.key for c in result.choices if c.outcome in WANTS_OTHERS}
        targets = [t for t in request.targets if t.key in wanted]
        found: dict[str, Snapshot] = {}
        notes: dict[str, list[str]] = {t.key: [] for t in targets}
        asked: list[str] = []
        for archive in self.archives:
            remaining = [t for t in targets if t.key not in found]
            if not remaining:
                break
            if not self.breaker.allows(archive.name):
                for target in remaining:
                    notes[target.key].append(
                        f"{archive.name} not asked: {self.breaker.opened[archive.name]}")
                continue
            asked.append(archive.name)
            self.asked[archive.name] += len(remaining)
            try:
                answers = await self._lookup(archive, request, remaining, result)
            except ArchiveUnavailable as exc:    # ArchiveThrottled too: that host's gate stopped
                self.breaker.failed(archive.name, str(exc))
                for target in remaining:
                    notes[target.key].append(f"{archive.name} failed: {exc}")
                continue
            self.breaker.succeeded(archive.name)
            for key, answer in answers.items():
                if isinstance(answer, Snapshot):
                    found[key] = answer
                    self.found[archive.name] += 1
                else:
                    notes[key].append(f"{archive.name}: {answer}")
        choices = tuple(self._merged(choice, found, notes) for choice in result.choices)
        return replace(result, choices=choices,
                       requests_made=result.requests_made + tally.requests,
                       source="+".join([s for s in (result.source,) if s]
                                       + [f"memento:{name}" for name in asked]))

    @staticmethod
    def _merged(choice: Choice, found: dict[str, Snapshot], notes: dict[str, list[str]]
                ) -> Choice:
        if (snapshot := found.get(choice.key)) is not None:
            return Choice(key=choice.key, target=choice.target, outcome=Outcome.FOUND,
                          snapshot=snapshot)
        if notes.get(choice.key):
            reason = "; ".join([r for r in (choice.reason,) if r] + notes[choice.key])
            return replace(choice, reason=reason)
        return choice

    async def _lookup(self, archive: MementoArchive, request: LookupRequest,
                      targets: list[Target], result: LookupResult) -> dict[str, Snapshot | str]:
        """A Snapshot, or why there is none, per citation key. Raises ArchiveUnavailable."""
        replays: dict[str, Fetched] = {}
        get = self._getter(archive, replays)
        if not archive.timemap:
            return {t.key: await self._by_timegate(get, archive, request, t, result)
                    for t in targets}
        timemap = await fetch_timemap(get, archive, request.url)
        original = timemap.original or request.url
        # Wayback mementos in an aggregator's TimeMap were judged already: skip them.
        mementos = tuple(m for m in timemap.mementos
                         if split_archive_link(m.uri, replay_base=self.settings.replay_url) is None)
        if not mementos:
            return {t.key: "no memento" for t in targets}
        pool = as_captures(mementos, original)
        captures = [capture for capture, _ in pool.values()]
        out: dict[str, Snapshot | str] = {}
        for target in targets:
            ranked = rank_captures(captures, target.at, failing_since=request.failing_since,
                                   start=target.start)
            budget = self.settings.max_verify      # new replays per citation, as for Wayback
            rejected: list[str] = []
            for capture in ranked:
                memento = pool[capture.timestamp][1]
                if memento.uri not in replays:
                    if budget == 0:
                        break
                    budget -= 1
                verified = await verify_memento(get, memento.uri, asked_url=request.url,
                                                original=original,
                                                cited_title=target.cited_title, judge=self._judge)
                if verified.ok:
                    out[target.key] = self._snapshot(archive, memento, verified, target, request,
                                                     result)
                    break
                rejected.append(f"{capture.timestamp}: {verified.reason}")
            if target.key not in out:
                untried = len(ranked) - len(rejected)
                more = f" ({untried} more not tried)" if untried else ""
                out[target.key] = ("; ".join(rejected) + more) if rejected else \
                    "no usable memento"
        return out

    async def _by_timegate(self, get: Get, archive: MementoArchive, request: LookupRequest,
                           target: Target, result: LookupResult) -> Snapshot | str:
        uri = await ask_timegate(get, archive, request.url, target.at)
        if uri is None:
            return "no memento"
        verified = await verify_memento(get, uri, asked_url=request.url, original=request.url,
                                        cited_title=target.cited_title, judge=self._judge)
        if not verified.ok or verified.captured_at is None:
            return verified.reason or "the TimeGate's memento did not verify"
        memento = Memento(uri, verified.captured_at)
        return self._snapshot(archive, memento, verified, target, request, result)

    def _snapshot(self, archive: MementoArchive, memento: Memento, verified: Verified,
                  target: Target, request: LookupRequest, result: LookupResult) -> Snapshot:
        assert verified.timestamp and verified.captured_at and verified.original
        return Snapshot(
            archive=self._name_of(archive, memento.uri), url=request.url,
            original=verified.original, timestamp=verified.timestamp,
            captured_at=verified.captured_at, replay_url=memento.uri, status_code=200,
            title=verified.title, distance_s=target.distance_s(verified.captured_at),
            looked_up_at=result.looked_up_at,
        )

    @staticmethod
    def _name_of(archive: MementoArchive, uri: str) -> str:
        """The archive a memento is from: the one asked, or, through an aggregator, the known
        archive on the memento's host (else the host itself)."""
        if not archive.aggregator:
            return archive.name
        host = httpx.URL(uri).host
        for known in MEMENTO_ARCHIVES:
            if httpx.URL(known.timemap or known.timegate).host == host:
                return known.name
        return host


__all__ = ["WANTS_OTHERS", "Breaker", "OtherArchives"]
