"""The check step: the stored links that are due, checked in batches (checker.run.checking), every
result recorded as it arrives, the end-of-run summary, and the optional drift measure."""

from __future__ import annotations

import asyncio
import itertools
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from checker.judge.soft404 import ProbeCache
from checker.judge.state import ConfirmRule, RunFolder, State, link_state, state_of_latest
from checker.models import CheckResult, FailureKind, Verdict
from checker.net.fetch import Fetcher
from checker.run import eventloop, parallel
from checker.run.checking import DnsWitness, Target
from checker.run.parallel import Workers, check_targets
from checker.run.progress import progress
from checker.settings import CheckSettings
from checker.store.database import Store
from checker.store.history import CURRENT
from checker.store.rows import DueLink
from citations.hosts import host_of

if TYPE_CHECKING:
    # Only `check --drift` needs the archive and the drift meter (bs4, httpx for the archive):
    # imported where they are used, so a plain check starts without them.
    from archive import ArchiveSettings, Wayback
    from checker.run.drift import DriftMeter, DriftTally


ArchiveClock = Callable[[], float]



ArchiveSleep = Callable[[float], Awaitable[None]]



#: Checked before the oldest, after the never-checked: a failing link is the news a run is for.
FAILING_VERDICTS = [str(Verdict.DEAD), str(Verdict.SOFT_404), str(Verdict.UNREACHABLE)]



@dataclass(frozen=True, slots=True)
class CheckSummary:
    checked: int
    verdicts: Counter[str]
    states: Counter[str]
    seconds: float
    hosts_answering: int = 0     # hosts that gave at least one HTTP answer
    hosts_unresolved: int = 0    # hosts whose every request failed in DNS (or timed out)
    dns_distrusted: int = 0      # NXDOMAIN checks recorded unreachable (checker.run.checking.DnsWitness)
    dns_canary: str = ""
    drift: DriftTally | None = None  # check --drift

    @property
    def looks_offline(self) -> bool:
        """Every host failed in DNS: more likely this machine's network than the web."""
        return self.hosts_unresolved >= OFFLINE_HOSTS and self.hosts_answering == 0



#: From this many hosts all failing DNS (and none answering), warn that the machine looks offline.
OFFLINE_HOSTS = 3



# Links loaded and checked at a time: memory stays that of a batch (about 0.35 kB a link in the
# parent, its share in each worker) whatever the number of links.
CHECK_BATCH = 10_000



# A timeout counts: a resolver that does not answer ends in one (the lookup is in the connect).
_DNS_FAILURES = frozenset({FailureKind.NXDOMAIN, FailureKind.DNS, FailureKind.TIMEOUT})



def run_check(
    store: Store, settings: CheckSettings, rule: ConfirmRule, *, max_age_s: float,
    document_ids: list[int] | None, limit: int | None, quiet: bool,
    drift: ArchiveSettings | None = None, archive_clock: ArchiveClock = time.monotonic,
    archive_sleep: ArchiveSleep = asyncio.sleep, batch_size: int = CHECK_BATCH,
) -> CheckSummary:
    """Check the due links, writing each check as it ends (committed within 0.2 s, and on every
    exit path: an interruption keeps them all).

    ``drift``: measure content drift against archive captures (``checker.run.drift``) through a
    Wayback client with these settings, paced on ``archive_clock``/``archive_sleep``.
    ``batch_size``: links loaded and checked at a time (``CHECK_BATCH``).

    Holds the database's run lock from before the due links are chosen to the end: two runs
    started together would otherwise both choose, and check, every link."""
    if drift is not None:
        settings = replace(settings, main_text=True)
    with store.run_lock():
        workers = _early_workers(store, settings, limit)
        try:
            return _run_check(store, settings, rule, max_age_s=max_age_s,
                              document_ids=document_ids, limit=limit, quiet=quiet,
                              workers=workers, drift=drift, archive_clock=archive_clock,
                              archive_sleep=archive_sleep, batch_size=batch_size)
        finally:
            if workers is not None:
                workers.stop()



def _early_workers(store: Store, settings: CheckSettings, limit: int | None) -> Workers | None:
    """Worker processes for a run that may be large enough for them (checker.run.parallel), forked
    before its links are loaded, so that they share none of that data: as many as
    ``settings.processes`` asks, else as many as the machine can use when the run may reach
    ``parallel.MIN_URLS``."""
    if settings.processes is not None:
        count = min(settings.processes, settings.concurrency)
        return parallel.Workers(count) if count > 1 else None
    possible = store.counts()["links"] if limit is None else limit
    if parallel.max_workers() < 2 or possible < parallel.MIN_URLS:
        return None
    return parallel.Workers(parallel.max_workers())



def _due_in_batches(
    store: Store, *, max_age_s: float, document_ids: list[int] | None, limit: int | None,
    batch_size: int,
) -> tuple[Sequence[int], Iterator[list[DueLink]]]:
    """The ids of the due links, in order, and the links themselves a batch at a time: the first
    batch as the query gave it, the others loaded by id when their turn comes. Of the links
    beyond the first batch only the ids are kept for the whole run, so memory does not grow
    with their number."""
    due = store.links_due(max_age_s=max_age_s, document_ids=document_ids, limit=limit,
                          failing_first=FAILING_VERDICTS)
    first = list(itertools.islice(due, batch_size))
    later = array("q", (link.id for link in due))  # 8 bytes a link, not a Python int's 36

    def batches(first: list[DueLink]) -> Iterator[list[DueLink]]:
        yield first
        del first  # not kept through the later batches
        for start in range(0, len(later), batch_size):
            yield list(store.links_due(ids=later[start : start + batch_size],
                                       document_ids=document_ids))

    return array("q", (link.id for link in first)) + later, batches(first)



def _run_check(
    store: Store, settings: CheckSettings, rule: ConfirmRule, *, max_age_s: float,
    document_ids: list[int] | None, limit: int | None, quiet: bool, workers: Workers | None,
    drift: ArchiveSettings | None, archive_clock: ArchiveClock, archive_sleep: ArchiveSleep,
    batch_size: int,
) -> CheckSummary:
    due_ids, batches = _due_in_batches(store, max_age_s=max_age_s, document_ids=document_ids,
                                       limit=limit, batch_size=batch_size)
    run_id = store.start_run("check")
    verdicts: Counter[str] = Counter()
    answering: set[str] = set()
    unresolved: set[str] = set()
    dns: DnsWitness[int] = DnsWitness(settings)  # NXDOMAIN is believed only with a witness
    started = time.perf_counter()
    outcome = "crashed"   # an exception: recorded as such, unlike a kill (see Store.start_run)

    window = store.commit_window()
    wayback: Wayback | None = None
    meter: DriftMeter | None = None
    if drift is not None:
        from archive import Wayback
        from checker.run.drift import DriftMeter

        wayback = Wayback(drift, clock=archive_clock, sleep=archive_sleep)
        meter = DriftMeter(store, wayback, settings)

    async def go() -> None:
        ticker = asyncio.create_task(window.tick())  # commits a quiet window too
        # Batches checked in this process share one Fetcher and one set of soft-404 probes, so
        # that a host's connections, politeness and probe carry over (workers keep their own).
        fetcher = Fetcher(settings)
        probes = ProbeCache()
        measuring = _Measuring(meter, record)
        try:
            with progress(len(due_ids), "Checking", quiet=quiet) as advance:
                for batch in batches:
                    id_of: dict[str, int] = {}
                    titles: dict[int, tuple[str, ...]] = {}
                    targets: list[Target] = []
                    for link in batch:
                        id_of[link.url] = link.id
                        titles[link.id] = link.cited_titles
                        targets.append(Target(url=link.url, cited_titles=link.cited_titles))
                    store.expect_checks(list(titles))   # no query per recorded check
                    captures = store.drift_captures(list(titles)) if meter is not None else {}
                    checking = check_targets(targets, settings, now=store.clock, workers=workers,
                                             fetcher=fetcher, probes=probes)
                    async with aclosing(checking) as results:
                        async for result in results:
                            for link_id, vetted in await dns.vet(id_of[result.url], result):
                                capture = captures.get(link_id)
                                if capture is None:
                                    record(link_id, vetted)
                                else:
                                    await measuring.start(link_id, vetted, capture,
                                                          titles[link_id])
                            advance()
                await measuring.finish()
        finally:
            await measuring.cancel()     # an interruption records them as checked, unmeasured
            for link_id, vetted in dns.finish():  # held NXDOMAIN results, never witnessed
                record(link_id, vetted)
            ticker.cancel()
            await fetcher.aclose()
            if wayback is not None:
                await wayback.aclose()

    def record(link_id: int, result: CheckResult) -> None:
        window.open()
        store.record_check(link_id, result, run_id=run_id)
        window.written()
        verdicts[str(result.verdict)] += 1
        host = host_of(result.url)
        if result.observation.status is not None:
            answering.add(host)
        elif result.observation.failure in _DNS_FAILURES:
            unresolved.add(host)

    try:
        try:
            eventloop.run(go())
        finally:
            window.commit()  # every exit path, Ctrl-C included, keeps what was finished
        outcome = "finished"
    except KeyboardInterrupt:  # Ctrl-C, and SIGTERM (checker.cli.main.Terminated)
        outcome = "interrupted"
        raise
    finally:
        store.finish_run(run_id, outcome)
    # Most links' states follow from this run's verdict alone (alive, moved, ...): only the
    # others' histories are read back.
    states: Counter[str] = Counter()
    open_verdicts = []
    for verdict, count in verdicts.items():
        settled = state_of_latest(Verdict(verdict))
        if settled is None:
            open_verdicts.append(verdict)
        else:
            states[str(settled)] += count
    fold = RunFolder((), rule)
    for _, runs in store.histories(since=CURRENT, run_id=run_id, run_verdicts=open_verdicts):
        states[str(fold(runs)[0].state)] += 1
    unchecked = len(due_ids) - sum(states.values())
    if unchecked:  # due but not reached (an interrupted run)
        states[str(link_state([], rule).state)] += unchecked
    return CheckSummary(checked=sum(verdicts.values()), verdicts=verdicts, states=states,
                        seconds=time.perf_counter() - started, hosts_answering=len(answering),
                        hosts_unresolved=len(unresolved - answering),
                        dns_distrusted=dns.distrusted, dns_canary=dns.canary,
                        drift=None if meter is None else meter.tally)



#: Drift measurements waiting for their capture at once: each holds a page's main text (at most
#: checker.judge.maintext.MAX_MAIN_TEXT_CHARS), and the archive's pace decides how fast they go anyway.
MAX_PENDING_DRIFT = 32



class _Measuring:
    """Drift measurements running beside the check (``checker.run.drift``): each waits for its
    capture at the archive's pace and then records its check, so the live checks go on meanwhile
    and memory stays bounded (``MAX_PENDING_DRIFT``)."""

    def __init__(self, meter: DriftMeter | None,
                 record: Callable[[int, CheckResult], None]) -> None:
        self._meter = meter
        self._record = record
        self._slots = asyncio.Semaphore(MAX_PENDING_DRIFT)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, link_id: int, result: CheckResult, capture: str,
                    titles: tuple[str, ...]) -> None:
        if self._meter is None or not self._meter.wants(result):
            self._record(link_id, result)
            return
        await self._slots.acquire()
        task = asyncio.create_task(self._measure(self._meter, link_id, result, capture, titles))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _measure(self, meter: DriftMeter, link_id: int, result: CheckResult,
                       capture: str, titles: tuple[str, ...]) -> None:
        judged = result
        try:
            judged = await meter.judge(result, capture, titles)
        finally:   # also when cancelled: the check itself is kept, without its similarity
            self._slots.release()
            self._record(link_id, judged)

    async def finish(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks)

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)



def drift_line(tally: DriftTally) -> str:
    line = (f"Drift: {tally.compared} live link(s) compared with their archive capture, "
            f"{tally.drifted} drifted; {tally.replays} capture(s) fetched from the archive.")
    if tally.failed:
        line += f" {tally.failed} capture(s) could not be fetched (asked again next run)."
    if tally.stopped:
        line += f" Stopped comparing: {tally.stopped}"
    return line



def summary_line(summary: CheckSummary) -> str:
    if not summary.checked:
        return "Nothing to check: every link was checked recently (see --max-age)."
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(summary.verdicts.items(), key=lambda kv: -kv[1]))
    confirmed = summary.states.get(str(State.DEAD), 0) + summary.states.get(str(State.SOFT_404), 0)
    failing = summary.states.get(str(State.FAILING), 0)
    line = (f"Checked {summary.checked} link(s) in {summary.seconds:.1f} s: {verdicts}. "
            f"States: {confirmed} confirmed lost, {failing} failing (not yet confirmed).")
    if summary.drift is not None:
        line += "\n" + drift_line(summary.drift)
    if summary.dns_distrusted:
        canary = f", not even {summary.dns_canary}" if summary.dns_canary else ""
        line += (f"\nWarning: {summary.dns_distrusted} link(s) got \"no such name\" (NXDOMAIN) "
                 f"while no name resolved in this run{canary}: the resolver looks broken or the "
                 "network down, so they were recorded unreachable, not dead, and this run says "
                 "nothing about them.")
    elif summary.looks_offline:
        line += (f"\nWarning: none of the {summary.hosts_unresolved} hosts could be resolved: this "
                 "machine looks offline or its DNS is broken, so these failures may say nothing "
                 "about the links.")
    return line

