"""Build the Report (checker.report.model) from the store: states from check history, captures,
suggested fixes, the summary and the change since the previous run."""

from __future__ import annotations

import bisect
import itertools
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from archive import capture_time
from checker.judge.state import (
    ConfirmRule,
    LinkState,
    RunFolder,
    State,
    link_state,
)
from checker.report.common import problems
from checker.report.model import (
    STATES,
    Capture,
    CitationRow,
    DocumentReport,
    HostCount,
    LastRun,
    LinkRow,
    Report,
    RunPoint,
    Summary,
)
from checker.store.database import Store
from checker.store.history import CURRENT
from checker.store.rows import ReportSource, SnapshotRow
from citations.dates import CitedDate

#: How many past check runs the chart of states over time shows.
HISTORY_RUNS = 30


def build_report(
    store: Store, rule: ConfirmRule, *, document_ids: list[int] | None = None,
    only: Iterable[str] = (),
) -> Report:
    """Everything a reader needs; ``only`` keeps the rows in those states (the summary counts all).

    Read in two streamed passes, so that memory follows the report's rows, not the history or
    the query's: each link's history (only what the report shows: states now and at the end of
    the charted runs, the previous run among them) gives its state and its part of the chart and
    is dropped; then the rows, a citation at a time."""
    runs = store.finished_runs("check", limit=HISTORY_RUNS)
    states, history, changed = _link_states(store, rule, runs, store.report_links(document_ids))
    rows: list[LinkRow] = []
    news: dict[str, list[str]] = {"newly_dead": [], "recovered": []}
    documents = []
    for _, in_document in itertools.groupby(store.report_rows(document_ids),
                                            key=operator.attrgetter("document")):
        citations = []
        head: ReportSource | None = None
        for _, in_citation in itertools.groupby(in_document, key=operator.attrgetter("citation_id")):
            sources = list(in_citation)
            head = head or sources[0]
            cited = _cited_captures(sources, states)
            links = []
            for source in sources:
                links.append(_link_row(source, states[source.link_id],
                                       cited.get((source.citation_id, source.url))))
                change = changed.pop(source.link_id, None)   # a URL once, however often cited
                if change is not None:
                    news[change].append(source.url)
            rows.extend(links)
            citations.append(_citation(sources[0], links))
        assert head is not None
        documents.append(DocumentReport(path=head.document, format=head.document_format,
                                        title=head.document_title, citations=tuple(citations)))
    report = Report(
        generated_at=store.clock(),
        documents=tuple(documents),
        summary=_summary(rows, store, news),
        history=history,
    )
    return only_states(report, only) if only else report


def only_states(report: Report, states: Iterable[str]) -> Report:
    """The report with only the rows in ``states`` (the summary still counts every row); a
    citation or document left without rows is left out."""
    wanted = set(states)
    return replace(_keep(report, lambda link: link.state in wanted), only=tuple(sorted(wanted)))


def _keep(report: Report, keep: Callable[[LinkRow], bool]) -> Report:
    documents = []
    for document in report.documents:
        citations = tuple(
            replace(c, links=links) for c in document.citations
            if (links := tuple(row for row in c.links if keep(row)))
        )
        if citations:
            documents.append(replace(document, citations=citations))
    return replace(report, documents=tuple(documents))


#: States whose rows reports leave out unless asked (``--all``): nothing to do about them.
HIDDEN_BY_DEFAULT = ("skipped", "alive")


def hide_states(report: Report, states: Iterable[str] = HIDDEN_BY_DEFAULT) -> Report:
    """The report without the rows in ``states``, which it names in ``hidden`` so renderers can
    say how many rows were left out (the summary still counts every row)."""
    hidden = frozenset(states)
    return replace(_keep(report, lambda link: link.state not in hidden),
                   hidden=tuple(s for s in STATES if s in hidden))


def with_paths_relative_to(report: Report, folder: Path) -> Report:
    """Document paths as a reader in ``folder`` types them: relative when the document is inside
    it, absolute only when it is outside (never ``../..``), as stored when already relative."""
    paths: dict[str, str] = {}

    def shown(path: str) -> str:   # once per document, not per citation (resolve() is slow)
        if path not in paths:
            paths[path] = relative_path(path, folder)
        return paths[path]

    return replace(report, documents=tuple(
        d if shown(d.path) == d.path and all(c.document == d.path for c in d.citations)
        else replace(d, path=shown(d.path), citations=tuple(
            replace(c, document=shown(c.document)) for c in d.citations))
        for d in report.documents))


def relative_path(path: str, folder: Path) -> str:
    """``path`` relative to ``folder`` when it is an absolute path inside it, else unchanged."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return path
    for base in dict.fromkeys((folder, folder.resolve())):
        try:
            return candidate.relative_to(base).as_posix() or "."
        except ValueError:
            continue
    return path


def _cited_captures(sources: list[ReportSource], states: dict[int, LinkState]
                    ) -> dict[tuple[int, str], Capture]:
    """Captures the author already cites: a citation's Wayback link, keyed by (citation, the URL
    it archives). A lost URL with one is not unrecoverable: the reader has the capture."""
    out: dict[tuple[int, str], Capture] = {}
    for source in sources:
        if source.kind != "archive" or not source.original_url:
            continue
        state = states[source.link_id].state
        if state not in (State.ALIVE, State.UNCHECKED):
            continue   # the capture no longer replays (or was never a page)
        out[(source.citation_id, source.original_url)] = Capture(
            outcome="found", archive=source.archive,
            # archive/ reads the time from the URL (its one rule for timestamps); the stored time
            # is only a note's day for a capture on a host archive/ does not know
            captured_at=capture_time(source.url) or source.link_captured_at,
            replay_url=source.cited_url,
            reason="the citation already cites this capture"
                   + ("" if state is State.ALIVE else " (not verified: run citewatch archive)"),
        )
    return out


def _link_row(source: ReportSource, state: LinkState, cited: Capture | None = None) -> LinkRow:
    capture = _capture(source.snapshot)
    if cited is not None and (capture is None or capture.outcome != "found"):
        capture = cited
    fix = None
    found = capture is not None and capture.outcome == "found"
    if (state.state.is_lost or state.state is State.UNREACHABLE) and found:
        assert capture is not None
        fix = capture.replay_url   # for unreachable: a fallback while the site is down
    elif state.state is State.MOVED and source.suggested_url:
        fix = source.suggested_url
    return LinkRow(
        cited_url=source.cited_url, url=source.url, host=source.host or "", kind=source.kind,
        state=state.state, state_label=state.label, verdict=source.verdict,
        reason=source.reason, status=source.status, final_url=source.final_url,
        suggested_url=source.suggested_url, failing_since=state.failing_since,
        checks=source.checks, last_checked_at=source.checked_at, capture=capture, fix=fix,
        similarity=source.similarity, compared_with=source.compared_with,
        title=source.work_title, published=source.work_published, accessed=source.work_accessed,
    )


def _capture(snapshot: SnapshotRow | None) -> Capture | None:
    if snapshot is None:
        return None
    return Capture(
        outcome="found" if snapshot.outcome == "found" else (
            "unknown" if snapshot.outcome == "unknown" else "no-capture"),
        archive=snapshot.archive, captured_at=snapshot.captured_at,
        replay_url=snapshot.replay_url, status=snapshot.capture_status,
        title=snapshot.capture_title,
        target=snapshot.target_date or (
            CitedDate.day(snapshot.target.date()) if snapshot.target else None),
        target_kind=snapshot.target_kind,
        distance_days=round(snapshot.distance_s / 86400, 1) if snapshot.distance_s is not None else None,
        looked_up_at=snapshot.looked_up_at, reason=snapshot.reason,
    )


def _citation(s: ReportSource, links: list[LinkRow]) -> CitationRow:
    return CitationRow(
        document=s.document, key=s.key, label=s.label, line=s.line, text=s.text, title=s.title,
        published=s.published, accessed=s.accessed, links=tuple(links), page=s.page,
    )


def _summary(rows: list[LinkRow], store: Store, news: dict[str, list[str]]) -> Summary:
    counts = Counter(row.state for row in rows)
    by_host: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        by_host[row.host][row.state] += 1
    hosts = sorted(by_host.items(), key=lambda kv: (-problems(kv[1]), kv[0]))
    newly_dead, recovered = news["newly_dead"], news["recovered"]
    last_check = store.last_run("check")
    return Summary(
        citations=len(rows),
        counts={state: counts[state] for state in STATES if counts[state]},
        hosts=tuple(HostCount(host=h, counts=dict(c)) for h, c in hosts),
        lost=sum(1 for row in rows if row.lost),
        lost_unrecoverable=sum(1 for row in rows if row.unrecoverable),
        lost_not_looked_up=sum(1 for row in rows if row.unrecoverable and row.not_looked_up),
        newly_dead=tuple(sorted(newly_dead)),
        recovered=tuple(sorted(recovered)),
        unfinished_run=_unfinished(last_check),
        last_run=None if last_check is None else LastRun(last_check[1], last_check[0]),
    )


def _unfinished(last: tuple[str | None, datetime] | None) -> str | None:
    if last is None or last[0] == "finished":
        return None
    return last[0] or ""




def _link_states(
    store: Store, rule: ConfirmRule, runs: list[tuple[int, datetime]], link_ids: list[int],
) -> tuple[dict[int, LinkState], tuple[RunPoint, ...], dict[int, str]]:
    """Each link's state now; the states of all of them at the end of each charted run; and the
    links lost since the previous run ("newly_dead") or back from it ("recovered").

    One pass over each link's history, read from the store a link at a time and then dropped."""
    moments = [finished_at for _, finished_at in runs]
    ascending = sorted(range(len(moments)), key=moments.__getitem__)   # run ids need not be
    in_order = [moments[i] for i in ascending]
    rank = {i: k for k, i in enumerate(ascending)}   # where each run's moment is in in_order
    # Links with the same states at every charted run are counted together (most links are
    # alive all along): a count per link and run would cost more than the rest of the report.
    tally: Counter[tuple[State, ...]] = Counter()
    steady: Counter[tuple[State, int]] = Counter()   # (state, charted runs before its run)
    states: dict[int, LinkState] = {}
    changed: dict[int, str] = {}
    unchecked = link_state([], rule)
    now_only, charted = RunFolder((), rule), RunFolder(in_order, rule)
    for link_id, link_runs in store.histories(since=in_order[0] if moments else CURRENT,
                                              link_ids=link_ids):
        if len(link_runs) == 1 and not link_runs[0].verdict.is_failure:
            state = states[link_id] = now_only(link_runs)[0]
            # One run of the same answer (alive all along, say): its verdict's state from its
            # first check on (no streak to count), without a fold per charted run.
            before = bisect.bisect_left(in_order, link_runs[0].first)
            steady[(state.state, before)] += 1
            previous = (state.state if len(moments) >= 2 and rank[len(moments) - 2] >= before
                        else unchecked.state)
        else:
            state, at_ = charted(link_runs)
            states[link_id] = state
            past = tuple(at_[rank[i]] for i in range(len(moments)))
            tally[past] += 1
            previous = past[-2] if len(past) >= 2 else unchecked.state
        if len(moments) >= 2:   # the change since the previous check run
            if state.state.is_lost and not previous.is_lost:
                changed[link_id] = "newly_dead"
            elif previous.is_lost and not state.state.is_lost:
                changed[link_id] = "recovered"
    never = sum(1 for link_id in link_ids if link_id not in states)
    if never:
        tally[(unchecked.state,) * len(moments)] += never
        for link_id in link_ids:
            states.setdefault(link_id, unchecked)
    for (steady_state, before), n in steady.items():
        tally[tuple(steady_state if rank[i] >= before else unchecked.state
                    for i in range(len(moments)))] += n
    counts: list[Counter[str]] = [Counter() for _ in runs]
    for past, n in tally.items():
        for count, at in zip(counts, past, strict=True):
            count[at] += n
    chart = tuple(
        RunPoint(run_id=run_id, finished_at=finished_at,
                 counts={s: count[s] for s in STATES if count[s]})
        for (run_id, finished_at), count in zip(runs, counts, strict=True))
    return states, chart, changed
