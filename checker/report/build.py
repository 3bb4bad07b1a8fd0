"""Build the Report (checker.report.model) from the store: states from check history, captures,
suggested fixes, the summary and the change since the previous run."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from checker.judge.state import (
    CheckRecord,
    ConfirmRule,
    LinkState,
    history_of,
    link_state,
    states_at,
)
from checker.report.model import (
    LOST_STATES,
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
    """Everything a reader needs; ``only`` keeps the rows in those states (the summary counts all)."""
    sources = store.report_rows(document_ids)
    link_ids = {s.link_id for s in sources}
    # Only the history the report shows: states now and at the end of the charted runs (the
    # previous run among them), so a compacted history is read from the earliest of those on.
    runs = store.finished_runs("check", limit=HISTORY_RUNS)
    histories = {
        link_id: history_of(link_runs)
        for link_id, link_runs in store.histories(
            since=runs[0][1] if runs else CURRENT, link_ids=sorted(link_ids))
    }
    states = {i: link_state(histories.get(i, []), rule) for i in link_ids}
    cited = _cited_captures(sources, states)
    rows = [
        (source, _link_row(source, states[source.link_id],
                           cited.get((source.citation_id, source.url))))
        for source in sources
    ]

    url_of = {source.link_id: source.url for source in sources}
    summary = _summary([row for _, row in rows], store, histories, url_of, rule, states)
    documents: dict[str, list[tuple[ReportSource, LinkRow]]] = defaultdict(list)
    for source, row in rows:
        documents[source.document].append((source, row))
    report = Report(
        generated_at=store.clock(),
        documents=tuple(_document(pairs) for _, pairs in sorted(documents.items())),
        summary=summary,
        history=_history(runs, histories, link_ids, rule),
    )
    return only_states(report, only) if only else report


def only_states(report: Report, states: Iterable[str]) -> Report:
    """The report with only the rows in ``states`` (the summary still counts every row); a
    citation or document left without rows is left out."""
    wanted = set(states)
    documents = []
    for document in report.documents:
        citations = tuple(
            replace(c, links=links) for c in document.citations
            if (links := tuple(row for row in c.links if row.state in wanted))
        )
        if citations:
            documents.append(replace(document, citations=citations))
    return replace(report, documents=tuple(documents), only=tuple(sorted(wanted)))


def _cited_captures(sources: list[ReportSource], states: dict[int, LinkState]
                    ) -> dict[tuple[int, str], Capture]:
    """Captures the author already cites: a citation's Wayback link, keyed by (citation, the URL
    it archives). A lost URL with one is not unrecoverable: the reader has the capture."""
    out: dict[tuple[int, str], Capture] = {}
    for source in sources:
        if source.kind != "archive" or not source.original_url:
            continue
        state = str(states[source.link_id].state)
        if state not in ("alive", "unchecked"):
            continue   # the capture no longer replays (or was never a page)
        out[(source.citation_id, source.original_url)] = Capture(
            outcome="found", archive=source.archive, captured_at=source.link_captured_at,
            replay_url=source.cited_url,
            reason="the citation already cites this capture"
                   + ("" if state == "alive" else " (not verified: run citewatch archive)"),
        )
    return out


def _link_row(source: ReportSource, state: LinkState, cited: Capture | None = None) -> LinkRow:
    capture = _capture(source.snapshot)
    if cited is not None and (capture is None or capture.outcome != "found"):
        capture = cited
    fix = None
    found = capture is not None and capture.outcome == "found"
    if str(state.state) in (*LOST_STATES, "unreachable") and found:
        assert capture is not None
        fix = capture.replay_url   # for unreachable: a fallback while the site is down
    elif str(state.state) == "moved" and source.suggested_url:
        fix = source.suggested_url
    return LinkRow(
        cited_url=source.cited_url, url=source.url, host=source.host or "", kind=source.kind,
        state=str(state.state), state_label=state.label, verdict=source.verdict,
        reason=source.reason, status=source.status, final_url=source.final_url,
        suggested_url=source.suggested_url, failing_since=state.failing_since,
        checks=source.checks, last_checked_at=source.checked_at, capture=capture, fix=fix,
        similarity=source.similarity, compared_with=source.compared_with,
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


def _document(pairs: list[tuple[ReportSource, LinkRow]]) -> DocumentReport:
    first = pairs[0][0]
    citations: dict[int, tuple[ReportSource, list[LinkRow]]] = {}
    for source, row in pairs:
        citations.setdefault(source.citation_id, (source, []))[1].append(row)
    return DocumentReport(
        path=first.document, format=first.document_format, title=first.document_title,
        citations=tuple(
            CitationRow(
                document=s.document, key=s.key, label=s.label, line=s.line, text=s.text,
                title=s.title, published=s.published, accessed=s.accessed, links=tuple(links),
                page=s.page,
            )
            for s, links in citations.values()
        ),
    )


def _summary(rows: list[LinkRow], store: Store, histories: dict[int, list[CheckRecord]],
             url_of: dict[int, str], rule: ConfirmRule, states: dict[int, LinkState]) -> Summary:
    counts = Counter(row.state for row in rows)
    by_host: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        by_host[row.host][row.state] += 1
    hosts = sorted(by_host.items(), key=lambda kv: (-_problems(kv[1]), kv[0]))
    newly_dead: list[str] = []
    recovered: list[str] = []
    runs = store.finished_runs("check", limit=2)
    if len(runs) == 2:  # the change since the previous check run
        previous_end = runs[0][1]
        for link_id, url in url_of.items():
            before = str(_state_at(histories.get(link_id, []), previous_end, rule).state)
            now = str(states[link_id].state)
            if now in LOST_STATES and before not in LOST_STATES:
                newly_dead.append(url)
            elif before in LOST_STATES and now not in LOST_STATES:
                recovered.append(url)
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


def _problems(counts: Counter[str]) -> int:
    return sum(n for state, n in counts.items() if state not in ("alive", "unchecked", "skipped"))


def _state_at(history: list[CheckRecord], moment: datetime, rule: ConfirmRule) -> LinkState:
    return link_state([c for c in history if c.checked_at <= moment], rule)


def _history(runs: list[tuple[int, datetime]], histories: dict[int, list[CheckRecord]],
             link_ids: Iterable[int], rule: ConfirmRule) -> tuple[RunPoint, ...]:
    """States of the report's links at the end of each of the last check runs."""
    moments = [finished_at for _, finished_at in runs]
    counts: list[Counter[str]] = [Counter() for _ in runs]
    for i in link_ids:   # one pass over each link's history for all the runs
        for count, state in zip(counts, states_at(histories.get(i, []), moments, rule),
                                strict=True):
            count[str(state)] += 1
    return tuple(
        RunPoint(run_id=run_id, finished_at=finished_at,
                 counts={s: count[s] for s in STATES if count[s]})
        for (run_id, finished_at), count in zip(runs, counts, strict=True))
