"""Resolve lost citations to archive captures, verify cited archive links, save live links.

Which links: those whose state (checker.judge.state) is dead, soft-404, drifted or failing, for each of
their current citations; those that are unreachable now (a timeout, a TLS failure, a server that
hangs: as unusable to a reader as a lost page, so the report offers the capture as a fallback,
but they are never counted as lost); plus every cited Wayback link, whose capture must still
replay. A citation whose answer (found, no capture, excluded) is younger than ``max_age`` is not
looked up again, so a rerun within it sends no request to the archive at all; an "unknown" answer
(the archive failed) is always asked again.

The date a capture is chosen for (``target_of``), first that exists:

1. ``accessed``: the citation's "accessed" date;
2. ``published``: its publication date;
3. ``document``: the document's own date, from its metadata;
4. ``inferred``: the document's date inferred from the newest date it cites (citations.parse);
5. ``first-seen``: the day citewatch first saw the link.

Each may be a day or a period ("January 2023", "2021", "Summer 2005"); a period is handed to the
archive whole (``Target.start`` .. ``Target.at``), and archive/choose.py treats a capture inside
it as good as one on the exact day. The snapshot row keeps the cited date and its kind, so the
report says what each capture was chosen for.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from archive import (
    ArchiveSettings,
    ArchiveThrottled,
    Choice,
    LookupRequest,
    Outcome,
    ReplayCheck,
    SaveResult,
    Target,
    Wayback,
    capture_time,
    end_of_day,
    start_of_day,
)
from checker.judge.classify import judge_capture
from checker.judge.state import ConfirmRule, RunFolder, State
from checker.models import CheckResult, Observation, Verdict
from checker.report.overrides import LinkOverride
from checker.run import eventloop
from checker.run.progress import progress
from checker.store.database import Store
from checker.store.history import CURRENT
from checker.store.rows import CitedLink, SaveRow, SnapshotRow
from citations.dates import CitedDate
from citations.urls import InvalidUrl, normalize_url

#: Link states that want an archive capture: lost (or being confirmed lost), and unreachable now.
WANTS_CAPTURE = frozenset({State.DEAD, State.SOFT_404, State.DRIFTED, State.FAILING,
                           State.UNREACHABLE})
#: With ``drift``, live links want one too: the state ``check --drift`` compares them with.
LIVE_STATES = frozenset({State.ALIVE, State.MOVED})
#: A URL is not sent to Save Page Now again within this time after a try.
SAVE_RETRY_AFTER_S = 24 * 3600.0


@dataclass(slots=True)
class ArchiveSummary:
    looked_up: int = 0                 # links sent to the archive
    outcomes: Counter[str] = field(default_factory=Counter)   # per citation
    verified: Counter[str] = field(default_factory=Counter)   # cited archive links
    saves: Counter[str] = field(default_factory=Counter)
    requests: dict[str, int] = field(default_factory=dict)
    other_requests: dict[str, int] = field(default_factory=dict)   # by archive other than Wayback
    other_found: Counter[str] = field(default_factory=Counter)      # citations, by such archive
    cached: int = 0                    # citations answered from the database
    stopped: str | None = None         # why the run stopped early (the archive throttled us)


@dataclass(frozen=True, slots=True)
class CaptureTarget:
    """What a citation's capture should show: a moment or a period, and where it comes from."""

    end: datetime                  # the last moment of the period (the moment itself)
    start: datetime | None         # the first moment of a period; None for a moment
    kind: str                      # accessed | published | document | inferred | first-seen
    cited: CitedDate | None        # the date as cited (None for first-seen)


def target_of(cited: CitedLink) -> CaptureTarget | None:
    """The date a citation's capture is chosen for (rules in the module docstring). In a footnote
    citing several works, ``accessed`` and ``published`` are those of the work the URL belongs
    to (checker.store.database.work_fields, which the report shows beside the URL too)."""
    document_kind = "inferred" if cited.document_date_source == "inferred" else "document"
    for kind, when in (("accessed", cited.accessed), ("published", cited.published),
                       (document_kind, cited.document_date)):
        if when is not None:
            return CaptureTarget(end=end_of_day(when.end), start=start_of_day(when.start),
                                 kind=kind, cited=when)
    if cited.first_seen_at is not None:
        return CaptureTarget(end=cited.first_seen_at, start=None, kind="first-seen", cited=None)
    return None


@dataclass(slots=True)
class Plan:
    """What to ask the archive."""

    lookups: list[LookupRequest] = field(default_factory=list)      # lost links
    replays: list[tuple[int, str, list[CitedLink]]] = field(default_factory=list)  # cited Wayback links
    link_ids: dict[str, int] = field(default_factory=dict)           # link id per looked-up URL
    citations: dict[tuple[int, str], CitedLink] = field(default_factory=dict)  # (link id, key)
    cached: int = 0                                                  # answered by the database


def plan(store: Store, rule: ConfirmRule, *, document_ids: list[int] | None, max_age_s: float,
         drift: bool = False, overrides: Mapping[str, LinkOverride] | None = None) -> Plan:
    """Lookups for lost links and replay checks for cited Wayback links not answered recently;
    with ``drift``, lookups for live links too (``check --drift`` compares them with it).

    ``overrides`` (the configuration's ``[links."URL"] state``) win over the checks, as in every
    report: a link set "dead" by hand (InternetArchiveBot's permadead) is looked up like any lost
    link, whatever its checks say; one set "alive" is not, since no report offers its capture."""
    forced = _forced_states(overrides or {})
    wanted = WANTS_CAPTURE | LIVE_STATES if drift else WANTS_CAPTURE
    by_link: dict[int, list[CitedLink]] = defaultdict(list)
    for cited in store.cited_links(document_ids):
        by_link[cited.link_id].append(cited)
    histories = dict(store.histories(since=CURRENT, link_ids=sorted(by_link)))
    fold = RunFolder((), rule)
    fresh = store.fresh_lookups(max_age_s)
    out = Plan()
    for link_id, citations in by_link.items():
        stale = [c for c in citations if not _answered(fresh.get((c.citation_id, link_id)), c)]
        out.cached += len(citations) - len(stale)
        first = citations[0]
        if first.kind == "archive":
            if stale and first.archive == "wayback":   # others have no replay API to ask
                out.replays.append((link_id, first.url, stale))
            continue
        state = fold(histories.get(link_id, []))[0]
        said = forced.get(first.url)
        if said == "dead":
            state = replace(state, state=State.DEAD)
        elif said == "alive" and not drift:
            continue
        if state.state not in wanted or not stale:
            continue
        targets = []
        for c in stale:
            if (target := target_of(c)) is not None:
                targets.append(Target(key=str(c.citation_id), at=target.end, cited_title=c.title,
                                      start=target.start))
                out.citations[(link_id, str(c.citation_id))] = c
        if targets:
            out.lookups.append(LookupRequest(url=first.url, targets=tuple(targets),
                                             failing_since=state.failing_since))
            out.link_ids[first.url] = link_id
    return out


def _forced_states(overrides: Mapping[str, LinkOverride]) -> dict[str, str]:
    """{normalised URL: state set by hand}; a URL that does not normalise is matched as written."""
    out: dict[str, str] = {}
    for url, override in overrides.items():
        try:
            out[normalize_url(url)] = override.state
        except InvalidUrl:
            out[url] = override.state
    return out


def _answered(known: tuple[str | None, CitedDate | None] | None, cited: CitedLink) -> bool:
    """A fresh answer still answers the citation if it was chosen for the date the citation has
    now: an edited date, or one read by newer rules (a month where none was read before), asks
    the archive again."""
    if known is None:
        return False
    if cited.kind == "archive":
        return True                # a replay check of the cited capture: no date to choose for
    kind, when = known
    target = target_of(cited)
    if target is None or kind != target.kind:
        return False
    return when is None or when == target.cited


def snapshot_row(choice: Choice, cited: CitedLink, looked_up_at: datetime) -> SnapshotRow:
    target = target_of(cited)
    snap = choice.snapshot
    return SnapshotRow(
        citation_id=cited.citation_id, outcome=str(choice.outcome), target=choice.target,
        target_kind=target.kind if target else None, target_date=target.cited if target else None,
        looked_up_at=looked_up_at, reason=choice.reason,
        archive=snap.archive if snap else None, timestamp=snap.timestamp if snap else None,
        captured_at=snap.captured_at if snap else None,
        replay_url=snap.replay_url if snap else None, original=snap.original if snap else None,
        capture_status=snap.status_code if snap else None,
        capture_title=snap.title if snap else None,
        distance_s=snap.distance_s if snap else None,
        redirected_from=snap.redirected_from if snap else None,
    )


def replay_rows(check: ReplayCheck, citations: Sequence[CitedLink]) -> list[SnapshotRow]:
    snap = check.snapshot
    return [
        SnapshotRow(
            citation_id=c.citation_id, outcome=str(check.outcome),
            target=capture_time(c.url) or c.captured_at,   # archive/'s reading (build.py's too)
            target_kind="cited-capture", looked_up_at=check.checked_at, reason=check.reason,
            archive=snap.archive if snap else "wayback", timestamp=snap.timestamp if snap else None,
            captured_at=snap.captured_at if snap else None,
            replay_url=snap.replay_url if snap else check.archive_url,
            original=snap.original if snap else check.url,
            capture_status=snap.status_code if snap else None,
            capture_title=snap.title if snap else None,
            distance_s=snap.distance_s if snap else None,
        )
        for c in citations
    ]


def replay_check_result(check: ReplayCheck) -> CheckResult:
    """A cited archive link's replay check, as a check of that link (its history and state)."""
    verdict = {Outcome.FOUND: Verdict.ALIVE, Outcome.UNKNOWN: Verdict.UNREACHABLE}.get(
        check.outcome, Verdict.DEAD)
    snap = check.snapshot
    observation = Observation(
        url=check.archive_url, final_url=snap.replay_url if snap else None,
        status=snap.status_code if snap else None, title=snap.title if snap else None,
        error=check.reason,
    )
    return CheckResult(url=check.archive_url, verdict=verdict,
                       reason=check.reason or "the capture replays", observation=observation,
                       checked_at=check.checked_at)


def save_row(result: SaveResult) -> SaveRow:
    return SaveRow(
        requested_at=result.requested_at, outcome=str(result.outcome), job_id=result.job_id,
        timestamp=result.timestamp, captured_at=result.captured_at,
        original_url=result.original_url, replay_url=result.replay_url,
        status_ext=result.status_ext, message=result.message,
    )


def run_archive(
    store: Store, settings: ArchiveSettings, rule: ConfirmRule, *,
    document_ids: list[int] | None, max_age_s: float, save: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = asyncio.sleep,
    quiet: bool | None = None, drift: bool = False,
    overrides: Mapping[str, LinkOverride] | None = None,
) -> ArchiveSummary:
    """Ask the archive what the database does not know yet; store every answer as it arrives.

    ``overrides``: the configuration's per-link states (see ``plan``).

    Stops cleanly when the archive keeps answering 429 (``summary.stopped`` says so): everything
    found before that is already stored.
    """
    todo = plan(store, rule, document_ids=document_ids, max_age_s=max_age_s, drift=drift,
                overrides=overrides)
    summary = ArchiveSummary(cached=todo.cached)

    async def go() -> None:
        # judge_capture: a capture is accepted by the rules that judge the live page
        async with Wayback(settings, clock=clock, sleep=sleep,  # type: ignore[arg-type]
                           judge=judge_capture) as wayback:
            try:
                with progress(len(todo.replays) + len(todo.lookups), "Archive",
                              quiet=quiet) as advance:
                    await lookups(wayback, advance)
                if save:
                    await saves(wayback)
            except ArchiveThrottled as exc:
                summary.stopped = str(exc)
            summary.requests = wayback.requests_sent
            summary.other_requests = wayback.other_requests

    async def lookups(wayback: Wayback, advance: Callable[[], None]) -> None:
        for link_id, url, citations in todo.replays:
            check = await wayback.verify_archived(url, cited_title=citations[0].title)
            store.record_snapshots(link_id, "cited", 0, replay_rows(check, citations))
            store.record_check(link_id, replay_check_result(check), run_id=None)
            store.refresh_states([link_id])   # no check run ends to do it for the views
            summary.verified[str(check.outcome)] += 1
            advance()
        async for result in wayback.resolve(todo.lookups):
            link_id = todo.link_ids[result.url]
            rows = [snapshot_row(choice, todo.citations[(link_id, choice.key)],
                                 result.looked_up_at) for choice in result.choices]
            store.record_snapshots(link_id, result.source or "none", result.requests_made, rows)
            summary.looked_up += 1
            summary.outcomes.update(str(c.outcome) for c in result.choices)
            summary.other_found.update(c.snapshot.archive for c in result.choices
                                       if c.snapshot and c.snapshot.archive != "wayback")
            advance()

    async def saves(wayback: Wayback) -> None:
        candidates = store.save_candidates(document_ids, SAVE_RETRY_AFTER_S)
        ids = {url: link_id for link_id, url in candidates}
        async for saved in wayback.save([url for _, url in candidates]):
            store.record_save(ids[saved.url], save_row(saved))
            summary.saves[str(saved.outcome)] += 1

    eventloop.run(go())
    return summary


def summary_line(summary: ArchiveSummary) -> str:
    found = summary.outcomes.get(str(Outcome.FOUND), 0)
    unknown = summary.outcomes.get(str(Outcome.UNKNOWN), 0)
    parts = [f"Looked up {summary.looked_up} lost or unreachable link(s): "
             f"{found} citation(s) with a capture, {sum(summary.outcomes.values()) - found - unknown} without"
             + (f", {unknown} unknown (the archive did not answer)" if unknown else "")]
    if summary.verified:
        parts.append(f"verified {sum(summary.verified.values())} cited archive link(s) "
                     f"({summary.verified.get(str(Outcome.FOUND), 0)} replay)")
    if summary.saves:
        parts.append("saves: " + ", ".join(f"{n} {k}" for k, n in sorted(summary.saves.items())))
    if summary.cached:
        parts.append(f"{summary.cached} answered from the database")
    if summary.other_requests:
        parts.append("other archives: " + ", ".join(
            f"{name} {summary.other_found.get(name, 0)} found in {n} request(s)"
            for name, n in summary.other_requests.items()))
    total = sum(summary.requests.values()) + sum(summary.other_requests.values())
    parts.append(f"{total} archive request(s)")
    return "; ".join(parts) + "."


__all__ = ["ArchiveSummary", "CaptureTarget", "Plan", "plan", "run_archive", "summary_line", "target_of"]
