"""The report for a terminal: a summary, then a rich table per document; or, for CI logs, one
line per problem.

Two styles (``TerminalStyle``; the command line chooses: ``lines`` when standard output is not a
terminal or ``CI`` is set, ``table`` on a terminal, or ``--style``):

* ``table``: the summary, then a table per document, described below.
* ``lines``: one line per row, problems first, nothing wrapped or cut (a log keeps whole URLs),
  then the summary::

      [dead 404] https://example.com/report (docs/paper.md:12) → https://web.archive.org/web/…
      [soft-404 200] https://example.org/x (docs/paper.md:14) → no capture
      [blocked 403] https://example.net/y (docs/paper.md:15): bot wall

  In brackets the state and the HTTP status of the latest check (not for a moved link, whose
  status is its new page's); after the arrow what to cite instead (the capture of a lost page,
  the new URL of a moved one, the capture of an unreachable one), or for a lost page without one
  "no capture" or "not looked up yet"; otherwise, after a colon, the state label when it says
  more (``failing (1 of 3)``) or the reason.

The output is a string (rich renders into a ``StringIO``), sized to ``width`` columns (default:
the terminal's width, else 100). Colours only with ``color=True``: the caller passes it when
stdout is a terminal, so redirected output and CI logs are plain text. ``NO_COLOR`` is honoured by
rich even then.

Columns (at ``NARROW_WIDTH`` or more): footnote, line, URL (folded, never cut: it must stay
copyable), state (with the latest verdict while a failure is being confirmed), evidence, and the
archive capture and fix. On narrower terminals each citation link is one cell of stacked lines
instead. Citation text and everything else from documents or servers is passed to rich as ``Text``,
never as markup, so ``[bold]`` in a citation prints as written.
"""

from __future__ import annotations

import io
import shutil
from enum import StrEnum

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from checker.report.common import (
    Row,
    capture_phrase,
    document_rows,
    evidence,
    fix_phrase,
    hidden_phrase,
    human_datetime,
    ordered_counts,
    ordered_documents,
    ordered_hosts,
    policy_phrase,
    problems,
    rows,
    share,
    shown_capture,
    state_text,
    unrecoverable_phrase,
)
from checker.report.model import LinkRow, Report

DEFAULT_WIDTH = 100
#: below this width, each citation link is one stacked cell instead of six columns
NARROW_WIDTH = 80
MAX_HOSTS = 10

#: rich styles per state (also used, as words, by nothing else: the HTML has its own palette)
STATE_STYLES = {
    "dead": "bold red",
    "soft-404": "red",
    "drifted": "magenta",
    "failing": "yellow",
    "moved": "cyan",
    "blocked": "blue",
    "unreachable": "bright_black",
    "invalid": "red",
    "skipped": "bright_black",
    "unchecked": "bright_black",
    "alive": "green",
}


class TerminalStyle(StrEnum):
    TABLE = "table"    # a summary and a table per document, for a person at a terminal
    LINES = "lines"    # one line per problem, then the summary, for CI logs


def render(report: Report, *, width: int | None = None, color: bool = False,
           style: TerminalStyle | str = TerminalStyle.TABLE) -> str:
    width = width or shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=None if color else True,  # None: rich honours NO_COLOR
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
        legacy_windows=False,
    )
    if TerminalStyle(style) is TerminalStyle.LINES:
        problem_rows = rows(report)
        for row in problem_rows:
            console.print(_line(row), soft_wrap=True)
        if problem_rows:
            console.print()
        console.print(_summary(report, hosts=False), soft_wrap=True)
    else:
        console.print(_summary(report))
        table = _document_table if width >= NARROW_WIDTH else _document_table_narrow
        for document in ordered_documents(report):
            doc_rows = document_rows(document)
            if doc_rows:
                console.print(table(document.path, document.title, doc_rows))
    if color:
        return out.getvalue()
    # rich pads short lines to the width; plain output has no use for the trailing blanks
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())


def _state(state: str, label: str | None = None) -> Text:
    return Text(label or state, style=STATE_STYLES.get(state, ""))


def _line(row: Row) -> Text:
    """``[dead 404] URL (path:line) → capture`` (see the module docstring)."""
    link = row.link
    # a moved link's status is its new page's (200): the redirect is what the state says
    status = f" {link.status}" if link.status is not None and link.state != "moved" else ""
    line = _state(link.state, f"[{link.state}{status}]")
    line.append(f" {link.cited_url} ({row.document.path}:{row.citation.line})")
    if link.fix:
        line.append(f" → {link.fix}")
    elif link.lost:
        capture = shown_capture(link)
        line.append(" → no capture" if capture is not None and capture.outcome == "no-capture"
                    else " → not looked up yet")
    elif detail := (state_text(link) if state_text(link) != link.state else link.reason):
        line.append(f": {detail}")
    return line


def _summary(report: Report, *, hosts: bool = True) -> Group:
    s = report.summary
    head = Text(f"citewatch report, {human_datetime(report.generated_at)}: ", style="bold")
    head.append(f"{len(report.documents)} document(s), {s.citations} citation link(s)", style="")
    if report.only:
        head.append(f" (rows: {', '.join(report.only)})")
    lost = Text(f"{s.lost} lost ({share(s.lost, s.citations)}), ")
    lost.append(
        f"{s.lost_unrecoverable} not recoverable ({share(s.lost_unrecoverable, s.citations)})",
        style="bold red" if s.lost_unrecoverable else "",
    )
    if s.lost_not_looked_up:
        lost.append(f": {unrecoverable_phrase(s)}")
    parts: list[Text | Table] = [head, lost]
    if s.unfinished_note:
        parts.append(Text(s.unfinished_note, style="yellow"))
    counts = Text()
    for state, n in ordered_counts(s.counts):
        if n:
            if counts:
                counts.append("  ")
            counts.append(f"{state} ", style=STATE_STYLES.get(state, ""))
            counts.append(str(n), style="bold")
    if counts:
        parts.append(counts)
    if s.state_policy is not None:
        parts.append(Text(policy_phrase(s.state_policy)))
    if hidden := hidden_phrase(report):
        parts.append(Text(hidden))
    if report.history or s.newly_dead or s.recovered:
        parts.append(
            Text(
                f"since the previous run: {len(s.newly_dead)} newly lost, "
                f"{len(s.recovered)} recovered"
            )
        )
        parts.extend(Text(f"  newly lost: {url}", style="red") for url in sorted(s.newly_dead))
        parts.extend(Text(f"  recovered: {url}", style="green") for url in sorted(s.recovered))
    shown_hosts = [h for h in ordered_hosts(s.hosts) if problems(h.counts)][:MAX_HOSTS]
    if hosts and shown_hosts:
        table = Table(title="Hosts with problems", title_justify="left", expand=False)
        table.add_column("host", overflow="fold")
        table.add_column("problems", justify="right")
        table.add_column("links", justify="right")
        table.add_column("states", overflow="fold")
        for h in shown_hosts:
            states = Text(", ").join(
                _state(st, f"{st} {n}") for st, n in ordered_counts(h.counts) if n
            )
            table.add_row(
                Text(h.host or "—"), str(problems(h.counts)), str(sum(h.counts.values())), states
            )
        parts.append(table)
    return Group(*parts)


def _document_table(path: str, title: str | None, rows: list[Row]) -> Table:
    caption = path + (f" — {title}" if title else "")
    table = Table(
        title=Text(caption, style="bold"), title_justify="left", expand=True, show_lines=True
    )
    table.add_column("#", overflow="fold", max_width=8)
    table.add_column("line", justify="right", no_wrap=True)
    table.add_column("URL", overflow="fold", ratio=4)
    table.add_column("state", overflow="fold", ratio=2, min_width=11)
    table.add_column("evidence", overflow="fold", ratio=3)
    table.add_column("capture / fix", overflow="fold", ratio=4)
    for row in rows:
        c, link = row.citation, row.link
        table.add_row(
            Text(c.label if c.label is not None else "—"),
            str(c.line),
            Text(link.cited_url),
            _state(link.state, state_text(link)),
            Text(evidence(link)),
            _capture_and_fix(link),
        )
    return table


def _document_table_narrow(path: str, title: str | None, rows: list[Row]) -> Table:
    caption = path + (f" — {title}" if title else "")
    table = Table(
        title=Text(caption, style="bold"), title_justify="left", expand=True, show_lines=True
    )
    table.add_column("#", overflow="fold", max_width=8)
    table.add_column("URL, state, evidence, capture / fix", overflow="fold")
    for row in rows:
        c, link = row.citation, row.link
        cell = Text(link.cited_url + "\n")
        cell.append_text(_state(link.state, state_text(link)))
        details = [evidence(link), _capture_and_fix(link).plain]
        cell.append("".join("\n" + d for d in details if d))
        table.add_row(Text(f"{c.label if c.label is not None else '—'}\nline {c.line}"), cell)
    return table


def _capture_and_fix(link: LinkRow) -> Text:
    """The capture in words, then the URL to cite instead (the replay URL is printed once)."""
    lines = []
    if (capture := shown_capture(link)) is not None:
        lines.append(capture_phrase(capture))
        if capture.replay_url and capture.replay_url != link.fix:
            lines.append(capture.replay_url)
    if link.fix:
        lines.append(f"{fix_phrase(link)}: {link.fix}")
    return Text("\n".join(lines))
