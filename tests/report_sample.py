"""A Report built by hand for the renderer tests: every state, and text that tries to break out.

Tricky on purpose: ``|`` and ``<script>`` in citation text and titles, rich markup, Cyrillic text
and an IDN URL, a 200-character URL, a ``javascript:`` URL, a control character, ``&`` in URLs.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from checker.report.model import (
    LOST_STATES,
    Capture,
    CitationRow,
    DocumentReport,
    HostCount,
    LinkRow,
    Report,
    RunPoint,
    StatePolicy,
    Summary,
)
from citations.dates import CitedDate

GENERATED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LONG_URL = (
    "https://long.example.org/" + "/".join(f"segment-{i:02d}" for i in range(17)) + "?q=a&b=c"
)
XSS = '<script>alert("pwned")</script>'


def link(cited: str, state: str, **kw: object) -> LinkRow:
    from urllib.parse import urlsplit

    values: dict[str, object] = {
        "cited_url": cited,
        "url": cited,
        "host": (urlsplit(cited).hostname or "").lower(),
        "kind": "web",
        "state": state,
        "state_label": state,
        "verdict": state,
    }
    values.update(kw)
    return LinkRow(**values)  # type: ignore[arg-type]


def capture_of(url: str, when: datetime, *, target: CitedDate, kind: str = "accessed") -> Capture:
    start = datetime(target.start.year, target.start.month, target.start.day, tzinfo=UTC)
    end = datetime(target.end.year, target.end.month, target.end.day, 23, 59, 59, tzinfo=UTC)
    distance = min(0.0, (when - start).total_seconds()) + max(0.0, (when - end).total_seconds())
    stamp = when.strftime("%Y%m%d%H%M%S")
    return Capture(
        outcome="found",
        archive="wayback",
        captured_at=when,
        replay_url=f"https://web.archive.org/web/{stamp}/{url}",
        status=200,
        title="Archived | title",
        target=target,
        target_kind=kind,
        distance_days=distance / 86400,
        looked_up_at=datetime(2024, 4, 30, 8, 0, tzinfo=UTC),
    )


def summary_of(documents: tuple[DocumentReport, ...], **kw: object) -> Summary:
    rows = [ln for d in documents for c in d.citations for ln in c.links]
    hosts: dict[str, Counter[str]] = {}
    for ln in rows:
        hosts.setdefault(ln.host, Counter())[ln.state] += 1
    return Summary(
        citations=len(rows),
        counts=dict(Counter(ln.state for ln in rows)),
        hosts=tuple(HostCount(host=h, counts=dict(c)) for h, c in hosts.items()),
        lost=sum(1 for ln in rows if ln.state in LOST_STATES),
        lost_unrecoverable=sum(1 for ln in rows if ln.unrecoverable),
        **kw,  # type: ignore[arg-type]
    )


def sample_report() -> Report:
    dead = "https://dead.example.com/report|2019.pdf"
    dead_capture = capture_of(
        dead, datetime(2022, 11, 19, 4, 5, 6, tzinfo=UTC), target=CitedDate.day(date(2022, 11, 16))
    )
    cyrillic = "https://пример.рф/новости/статья?id=1"
    drifted = "https://news.example.net/story?id=7&lang=en"
    drift_capture = capture_of(
        drifted, datetime(2021, 2, 1, tzinfo=UTC), target=CitedDate.month(2021, 2), kind="published"
    )
    plain = DocumentReport(
        path="docs/report.txt",
        format="plaintext",
        title=f"Digital isolation | review {XSS}",
        citations=(
            CitationRow(
                document="docs/report.txt",
                key="1",
                label="1",
                line=3,
                text=f"Ministry | Plan, “Report 2019,” {XSS} accessed November 16, 2022, {dead}.",
                title="Report 2019",
                accessed=CitedDate.day(date(2022, 11, 16)),
                links=(
                    link(
                        dead,
                        "dead",
                        status=404,
                        reason="Not Found | gone",
                        failing_since=datetime(2024, 3, 1, 6, 0, tzinfo=UTC),
                        checks=4,
                        last_checked_at=datetime(2024, 5, 1, 11, 0, tzinfo=UTC),
                        capture=dead_capture,
                        fix=dead_capture.replay_url,
                    ),
                ),
            ),
            CitationRow(
                document="docs/report.txt",
                key="2",
                label="2",
                line=5,
                text=f"Роскомнадзор, «Новости», {cyrillic}",
                title="Новости",
                published=CitedDate.year(2021),
                links=(
                    link(
                        cyrillic,
                        "moved",
                        url="https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D1%8F?id=1",
                        host="xn--e1afmkfd.xn--p1ai",
                        status=301,
                        reason="permanent redirect",
                        final_url="https://пример.рф/news/article?id=1",
                        suggested_url="https://пример.рф/news/article?id=1",
                        checks=2,
                        fix="https://пример.рф/news/article?id=1",
                    ),
                ),
            ),
            CitationRow(
                document="docs/report.txt",
                key="3",
                label="3",
                line=7,
                text=f"A long one: {LONG_URL}",
                links=(link(LONG_URL, "alive", status=200, checks=1),),
            ),
            CitationRow(
                document="docs/report.txt",
                key="4",
                label="4",
                line=9,
                text="Failing once: https://flaky.example.com/a",
                links=(
                    link(
                        "https://flaky.example.com/a",
                        "failing",
                        state_label="failing (1 of 3)",
                        verdict="dead",
                        status=404,
                        checks=1,
                        failing_since=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
                    ),
                ),
            ),
            CitationRow(
                document="docs/report.txt",
                key="10",
                label="10",
                line=11,
                text="Two sources: https://soft.example.com/x; https://wall.example.com/y",
                links=(
                    link(
                        "https://soft.example.com/x",
                        "soft-404",
                        status=200,
                        reason='title says "Page not found"',
                        checks=3,
                        capture=Capture(
                            outcome="no-capture",
                            archive="wayback",
                            reason="no 2xx capture before 2023-01-01",
                        ),
                    ),
                    link(
                        "https://wall.example.com/y",
                        "blocked",
                        status=403,
                        reason="bot wall\x07",
                        checks=2,
                    ),
                ),
            ),
        ),
    )
    markdown = DocumentReport(
        path="docs/notes.md",
        format="markdown",
        title="Notes [bold]not markup[/bold]",
        citations=(
            CitationRow(
                document="docs/notes.md",
                key="@" + drifted,
                label=None,
                line=4,
                text="the story",
                title="Story",
                published=CitedDate.month(2021, 2),
                links=(
                    link(
                        drifted,
                        "drifted",
                        status=200,
                        reason="title changed",
                        checks=5,
                        capture=drift_capture,
                        fix=drift_capture.replay_url,
                    ),
                ),
            ),
            CitationRow(
                document="docs/notes.md",
                key="a",
                label="a",
                line=10,
                text='=HYPERLINK("https://evil.example") down',
                links=(
                    link(
                        "https://down.example.org/",
                        "unreachable",
                        reason="timeout after 15 s",
                        checks=3,
                    ),
                ),
            ),
            CitationRow(
                document="docs/notes.md",
                key="b",
                label="b",
                line=12,
                text="[red]markup[/red] `code` *stars* & javascript:alert(1)",
                links=(
                    link(
                        "javascript:alert(1)",
                        "invalid",
                        host="",
                        reason="not an http(s) URL",
                        verdict=None,
                    ),
                ),
            ),
            CitationRow(
                document="docs/notes.md",
                key="c",
                label="c",
                line=14,
                text="Skipped and new",
                links=(
                    link(
                        "https://skip.example.org/",
                        "skipped",
                        reason="excluded by config",
                        verdict=None,
                    ),
                    link("https://new.example.org/", "unchecked", verdict=None),
                ),
            ),
        ),
    )
    documents = (plain, markdown)
    return Report(
        generated_at=GENERATED,
        documents=documents,
        summary=summary_of(
            documents,
            newly_dead=(dead,),
            recovered=("https://back.example.com/again",),
            state_policy=StatePolicy(confirm=3, confirm_spacing_s=3 * 86400,
                                     confirm_from="command line", spacing_from="database"),
        ),
        history=(
            RunPoint(
                run_id=3,
                finished_at=datetime(2024, 5, 1, 11, 30, tzinfo=UTC),
                counts={
                    "alive": 1,
                    "dead": 1,
                    "moved": 1,
                    "failing": 1,
                    "soft-404": 1,
                    "blocked": 1,
                    "drifted": 1,
                    "unreachable": 1,
                },
            ),
            RunPoint(
                run_id=1,
                finished_at=datetime(2024, 3, 1, 6, 0, tzinfo=UTC),
                counts={"alive": 6, "blocked": 1},
            ),
            RunPoint(
                run_id=2,
                finished_at=datetime(2024, 4, 1, 6, 0, tzinfo=UTC),
                counts={"alive": 5, "dead": 1, "blocked": 1},
            ),
        ),
    )


def big_report(n: int, *, state: str = "dead") -> Report:
    """``n`` citations in one document, for size limits."""
    citations = tuple(
        CitationRow(
            document="big.md",
            key=str(i),
            label=str(i),
            line=i,
            text=f"Source {i}",
            links=(
                link(
                    f"https://site{i % 7}.example.com/path/{i}/" + "x" * 40,
                    state if i % 2 else "alive",
                    status=404 if i % 2 else 200,
                    checks=2,
                ),
            ),
        )
        for i in range(1, n + 1)
    )
    documents = (DocumentReport(path="big.md", format="markdown", title=None, citations=citations),)
    return Report(generated_at=GENERATED, documents=documents, summary=summary_of(documents))
