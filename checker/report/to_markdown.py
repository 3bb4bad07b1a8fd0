"""The report as GitHub-flavoured Markdown: for an issue, a pull-request comment or
``$GITHUB_STEP_SUMMARY``.

Layout: a summary (counts per state, the share of citations lost for good, the change since the
previous run, the state policy, the rows not shown), the hosts with problems, then one table per
document with a row per citation link, problems first: footnote, line, URL, state, evidence. The
archive capture and the fix go in the state cell, on lines of their own (``<br>``), so the table
has five columns and fits GitHub's width: the fix links its URL behind a short phrase ("use the
capture") rather than spelling out a 100-character Wayback URL. A document's table is folded into
a ``<details>`` block when it has more than ``FOLD_ROWS`` rows (open when it holds a lost link).

Escaping: every piece of citation text is untrusted. ASCII punctuation that Markdown or GitHub
would interpret (``\\ ` * _ [ ] < > & | ~ # !`` …) is backslash-escaped, so ``<script>`` stays text
and ``|`` does not split a table cell; newlines become spaces. Only http(s) URLs become links, and
their destinations are written in ``<…>`` with ``<``, ``>``, spaces and ``|`` percent-encoded.

Size: GitHub rejects comments and issue bodies over 65,536 characters and step summaries over
1 MiB, so the output is kept under ``max_chars`` (default ``MAX_CHARS`` = 65,000, which leaves room
for a marker line a caller may add, and is also under 1 MiB for any text). When the full report is
too long, alive rows are left out first; when it is still too long, rows are cut at the end and a
note says how many were left out and points to the full report (``--format html`` or ``json``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from checker.judge.state import State
from checker.report.common import (
    Row,
    capture_phrase,
    distance_phrase,
    document_rows,
    evidence,
    fix_phrase,
    hidden_phrase,
    human_date,
    human_datetime,
    is_web_url,
    ordered_counts,
    ordered_documents,
    ordered_hosts,
    other_archive,
    policy_phrase,
    problems,
    share,
    shorten,
    shown_capture,
    state_text,
    unrecoverable_phrase,
)
from checker.report.model import LOST_STATES, Capture, DocumentReport, LinkRow, Report

MAX_CHARS = 65_000
FOLD_ROWS = 10
MAX_HOSTS = 15
MAX_LISTED_CHANGES = 20
URL_TEXT_CHARS = 60
CELL_TEXT_CHARS = 300

_ESCAPE = set("\\`*_[]<>&|~")
_STATE_MARK = {
    "dead": "🔴",
    "soft-404": "🔴",
    "drifted": "🟠",
    "failing": "🟡",
    "moved": "🔵",
    "blocked": "🟣",
    "unreachable": "⚪",
    "invalid": "🔴",
    "skipped": "⚪",
    "unchecked": "⚪",
    "alive": "🟢",
}
_HEADER = (
    "| # | line | URL | state, capture and fix | evidence |\n"
    "|---|---:|---|---|---|\n"
)
_RESERVE = 600  # room for closing a table and the truncation note


def render(report: Report, *, max_chars: int = MAX_CHARS) -> str:
    head = _summary(report)
    all_rows = [(d, document_rows(d)) for d in ordered_documents(report)]
    full = head + _documents(all_rows, budget=None).text
    if len(full) <= max_chars:
        return full
    problem_rows = [(d, [r for r in rs if r.link.state is not State.ALIVE]) for d, rs in all_rows]
    omitted_alive = sum(len(rs) for _, rs in all_rows) - sum(len(rs) for _, rs in problem_rows)
    note = (
        f"> Alive links ({omitted_alive}) are left out to stay within GitHub's size limit; "
        "the full report is in `citewatch report --format html` or `--format json`.\n\n"
    )
    budget = max_chars - len(head) - len(note)
    body = _documents(problem_rows, budget=budget)
    text = head + note + body.text
    if body.cut:
        text += (
            f"\n> **Truncated:** {body.cut} more row(s) not shown to stay within GitHub's size "
            "limit; see `citewatch report --format html` or `--format json` for all of them.\n"
        )
    if len(text) > max_chars:  # only when the summary alone is too long for a tiny budget
        cut = "\n\n> **Truncated** to stay within the size limit.\n"
        text = text[: text.rfind("\n", 0, max(max_chars - len(cut), 0)) + 1] + cut
    return text


# --- summary -----------------------------------------------------------------------------------


def _summary(report: Report) -> str:
    s = report.summary
    out = [f"## citewatch report\n\nGenerated {human_datetime(report.generated_at)}"]
    out.append(f" · {len(report.documents)} document(s) · {s.citations} citation link(s)")
    if report.only:
        out.append(f" · rows limited to: {', '.join(_esc(x) for x in report.only)}")
    out.append("\n\n")
    if s.unfinished_note:
        out.append(f"**Note:** {s.unfinished_note}\n\n")
    out.append(
        f"**{s.lost} lost** ({share(s.lost, s.citations)}), of which "
        f"**{s.lost_unrecoverable} not recoverable** ({share(s.lost_unrecoverable, s.citations)} "
        f"of all citation links): {unrecoverable_phrase(s)}.\n\n"
    )
    counts = [(state, n) for state, n in ordered_counts(s.counts) if n]
    if counts:
        out.append("| state | links |\n|---|---:|\n")
        out.extend(f"| {_STATE_MARK.get(st, '')} {_esc(st)} | {n} |\n" for st, n in counts)
        out.append("\n")
    notes = []
    if s.state_policy is not None:
        notes.append(policy_phrase(s.state_policy))
    if hidden := hidden_phrase(report):
        notes.append(hidden)
    if notes:
        out.append(" ".join(_esc(n) for n in notes).replace("--all", "`--all`") + "\n\n")
    out.append(_changes(report))
    out.append(_hosts(report))
    return "".join(out)


def _changes(report: Report) -> str:
    s = report.summary
    if not report.history and not s.newly_dead and not s.recovered:
        return ""
    text = (
        f"**Since the previous run:** {len(s.newly_dead)} newly lost, "
        f"{len(s.recovered)} recovered.\n\n"
    )
    for title, urls in (("Newly lost", s.newly_dead), ("Recovered", s.recovered)):
        if not urls:
            continue
        listed = sorted(urls)[:MAX_LISTED_CHANGES]
        text += f"<details><summary>{title} ({len(urls)})</summary>\n\n"
        text += "".join(f"- {_url(u)}\n" for u in listed)
        if len(urls) > len(listed):
            text += f"- … and {len(urls) - len(listed)} more\n"
        text += "\n</details>\n\n"
    return text


def _hosts(report: Report) -> str:
    hosts = [h for h in ordered_hosts(report.summary.hosts) if problems(h.counts)]
    if not hosts:
        return ""
    shown = hosts[:MAX_HOSTS]
    text = "### Hosts with problems\n\n| host | problems | links | states |\n|---|---:|---:|---|\n"
    for h in shown:
        states = ", ".join(f"{_esc(s)} {n}" for s, n in ordered_counts(h.counts) if n)
        text += (
            f"| {_esc(h.host) or '—'} | {problems(h.counts)} | {sum(h.counts.values())} "
            f"| {states} |\n"
        )
    if len(hosts) > len(shown):
        text += f"\n… and {len(hosts) - len(shown)} more host(s) with problems.\n"
    return text + "\n"


# --- documents ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Body:
    text: str
    cut: int  # rows left out for size


def _documents(docs: list[tuple[DocumentReport, list[Row]]], *, budget: int | None) -> _Body:
    """The per-document tables; with a ``budget``, stop adding rows before it is spent."""
    out: list[str] = []
    used = 0
    cut = 0
    for document, doc_rows in docs:
        if not doc_rows:
            continue
        if cut:
            cut += len(doc_rows)
            continue
        opening, closing = _document_frame(document, doc_rows)
        lines = [_row(r) for r in doc_rows]
        if (
            budget is not None
            and used + len(opening) + len(lines[0]) + len(closing) + _RESERVE > budget
        ):
            cut += len(doc_rows)
            continue
        used += len(opening) + len(closing)
        out.append(opening)
        for i, line in enumerate(lines):
            if budget is not None and used + len(line) + _RESERVE > budget:
                cut += len(lines) - i
                break
            out.append(line)
            used += len(line)
        out.append(closing)
    return _Body("".join(out), cut)


def _document_frame(document: DocumentReport, doc_rows: list[Row]) -> tuple[str, str]:
    """A heading and the table header; long tables are folded (``<summary>`` is HTML, so its
    text is HTML-escaped rather than Markdown-escaped)."""
    lost = sum(1 for r in doc_rows if r.link.state in LOST_STATES)
    if len(doc_rows) <= FOLD_ROWS:
        heading = f"`{_code(document.path)}`"
        if document.title:
            heading += f" — {_esc(document.title)}"
        return f"### {heading}\n\n{_HEADER}", "\n"
    summary = f"<code>{html.escape(document.path)}</code>"
    if document.title:
        summary += f" — {html.escape(' '.join(document.title.split()))}"
    summary += f": {len(doc_rows)} links, {lost} lost"
    opened = " open" if lost else ""
    return f"<details{opened}><summary>{summary}</summary>\n\n{_HEADER}", "\n</details>\n\n"


def _row(row: Row) -> str:
    c, link = row.citation, row.link
    label = _esc(c.label) if c.label is not None else "—"
    cells = [
        label,
        str(c.line),
        _url(link.cited_url),
        "<br>".join(_state_cell(link)),
        _esc(shorten(evidence(link), CELL_TEXT_CHARS)),
    ]
    return "| " + " | ".join(cell.replace("\n", " ") for cell in cells) + " |\n"


def _state_cell(link: LinkRow) -> list[str]:
    """The state, then the capture, then the fix, each on its own line of the cell; a capture
    that is also the fix is linked once, on the fix's line."""
    lines = [f"{_STATE_MARK.get(link.state, '')} {_esc(state_text(link))}".strip()]
    capture = shown_capture(link)
    fix_is_capture = bool(link.fix) and capture is not None and link.fix == capture.replay_url
    if capture is not None and not fix_is_capture:
        found = capture.outcome == "found" and is_web_url(capture.replay_url)
        lines.append(("capture " if found else "") + _capture(capture))
    if link.fix and fix_is_capture:
        assert capture is not None
        lines.append(f"**fix:** {_esc(fix_phrase(link))} {_capture(capture)}")
    elif link.fix:
        lines.append(f"**fix:** {_esc(fix_phrase(link))}: {_url(link.fix)}")
    return lines


def _capture(capture: Capture) -> str:
    if capture.outcome != "found" or not is_web_url(capture.replay_url):
        return _esc(capture_phrase(capture))
    distance = distance_phrase(capture)
    text = _link(human_date(capture.captured_at) or "capture", capture.replay_url or "")
    if other := other_archive(capture):
        text += f" at {_esc(other)}"
    return text + (f" ({_esc(distance)})" if distance else "")


# --- escaping ----------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """Untrusted text as literal Markdown inside a table cell."""
    text = " ".join(text.split())
    return "".join("\\" + ch if ch in _ESCAPE else ch for ch in text)


def _code(text: str) -> str:
    """Text for inside a single-backtick code span in a heading (backticks can't be escaped)."""
    return " ".join(text.replace("`", "'").split())


def _url(url: str) -> str:
    """A URL shown shortened and linked to in full (only http(s) URLs are linked)."""
    if not is_web_url(url):
        return _esc(shorten(url, URL_TEXT_CHARS))
    return _link(shorten(url, URL_TEXT_CHARS), url)


def _link(text: str, url: str) -> str:
    return f"[{_esc(text)}](<{_destination(url)}>)"


def _destination(url: str) -> str:
    swaps = {"<": "%3C", ">": "%3E", " ": "%20", "|": "%7C", "\n": "", "\\": "%5C"}
    return "".join(swaps.get(ch, ch) for ch in url)
