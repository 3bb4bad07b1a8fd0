"""The report as one self-contained HTML page: open it from disk, mail it, attach it to a CI run.

Self-contained means the page loads nothing: its CSS and script are inline, there are no fonts,
images or external scripts, and a Content-Security-Policy (``default-src 'none'``, with the inline
style and script allowed by their SHA-256 hashes) makes the browser refuse any load that might
slip in. Links to the cited URLs and captures are ordinary ``<a href>``: nothing is fetched until
the reader clicks (and then with ``no-referrer``).

What is on the page: the summary (a card per state, the share lost for good, the change since the
previous run), a stacked bar chart of states over past runs (inline SVG drawn here, from
``report.history``), the hosts with problems, and one table of every citation link. The table
works without script; the script adds sorting (click a column header; again to reverse; the
``aria-sort`` attribute says which) and filtering (a text box matched against the row's text, and
a checkbox per state).

Layout: URLs may break anywhere (they have no spaces); everything else breaks only between words,
so a narrow column never shows a label or a path one letter a line: paths break after a ``/``,
state labels between words, footnote labels not at all. Rows come problems first (``common``).

Citation text, titles and URLs are untrusted: everything is escaped with ``html.escape``, only
http(s) URLs become links (no ``javascript:``), and the script reads the page, never builds HTML,
so there is nothing to inject into. The script hash in the CSP also means an unescaped
``<script>`` would not run.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from html import escape

from checker.report.common import (
    Row,
    capture_phrase,
    distance_phrase,
    evidence_parts,
    fix_phrase,
    hidden_phrase,
    human_date,
    human_datetime,
    is_web_url,
    iso_datetime,
    label_of,
    ordered_counts,
    ordered_hosts,
    ordered_states,
    other_archive,
    policy_phrase,
    problems,
    rows,
    share,
    shown_capture,
    state_rank,
    state_text,
    unrecoverable_phrase,
)
from checker.report.model import STATES, Capture, LinkRow, Report, RunPoint
from citations.dates import CitedDate

MAX_HOSTS = 20
MAX_RUNS = 30

#: background colour and text colour per state
PALETTE = {
    "dead": ("#c62828", "#fff"),
    "soft-404": ("#d84315", "#fff"),
    "drifted": ("#8e24aa", "#fff"),
    "failing": ("#f9a825", "#000"),
    "moved": ("#1565c0", "#fff"),
    "blocked": ("#6d4c41", "#fff"),
    "unreachable": ("#757575", "#fff"),
    "invalid": ("#ad1457", "#fff"),
    "skipped": ("#9e9e9e", "#000"),
    "unchecked": ("#cfcfcf", "#000"),
    "alive": ("#2e7d32", "#fff"),
}
_OTHER = ("#455a64", "#fff")

_CSS = (
    """
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; }
body { margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 110rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin: .5rem 0; } h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.meta { color: #555; margin: 0 0 1rem; }
.cards { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
.card { border-left: .4rem solid var(--bg); background: #f5f5f5; padding: .3rem .7rem; }
.card b { font-size: 1.3rem; display: block; }
.lost { font-size: 1.05rem; }
.badge { background: var(--bg); color: var(--fg); padding: .05rem .4rem; border-radius: .3rem;
  white-space: nowrap; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .4rem; text-align: left;
  vertical-align: top; }
thead th { background: #eee; position: sticky; top: 0; cursor: pointer; user-select: none;
  white-space: nowrap; }
thead th[aria-sort="ascending"]::after { content: " \\25B2"; }
thead th[aria-sort="descending"]::after { content: " \\25BC"; }
td.num, th.num { text-align: right; }
td { overflow-wrap: break-word; }
td.url, td.cap, td.fix { overflow-wrap: anywhere; }
td.doc { min-width: 6rem; } td.url { min-width: 14rem; } td.ev, td.cap, td.fix { min-width: 8rem; }
td.state { min-width: 6.5rem; } td.text { min-width: 12rem; color: #333; }
td.label { white-space: nowrap; }
td .badge { white-space: normal; overflow-wrap: normal; display: inline-block; }
.w { white-space: nowrap; }
.scroll { overflow-x: auto; }
table.hosts { width: auto; }
tbody tr { border-left: .3rem solid var(--bg); }
.controls { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: .5rem 0; }
.controls input[type=search] { font: inherit; padding: .3rem .5rem; min-width: 20rem; }
.controls fieldset { border: 1px solid #ccc; padding: .2rem .6rem; margin: 0; }
.controls label { margin-right: .6rem; white-space: nowrap; }
.muted { color: #666; }
svg.chart { max-width: 48rem; width: 100%; height: auto; }
svg.chart text { font-size: 11px; fill: #444; }
svg.chart line { stroke: #999; }
details { margin: .3rem 0; }
"""
    + "".join(
        f".s-{state} {{ --bg: {bg}; --fg: {fg}; }}\nsvg.chart rect.s-{state} {{ fill: {bg}; }}\n"
        for state, (bg, fg) in PALETTE.items()
    )
    + f".s-other {{ --bg: {_OTHER[0]}; --fg: {_OTHER[1]}; }}\n"
)

_SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("rows");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var filter = document.getElementById("filter");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#states input"));
  var shown = document.getElementById("shown");
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});

  function apply() {
    var q = filter.value.trim().toLowerCase();
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    var n = 0;
    rows.forEach(function (r, i) {
      var visible = on[r.getAttribute("data-state")] !== false && (!q || texts[i].indexOf(q) >= 0);
      r.hidden = !visible;
      if (visible) { n += 1; }
    });
    shown.textContent = n + " of " + rows.length + " rows";
  }

  function key(row, col) {
    var cell = row.cells[col];
    var value = cell.getAttribute("data-sort");
    return value === null ? cell.textContent.trim() : value;
  }

  function sortBy(th, col) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", dir);
    var numeric = th.getAttribute("data-type") === "number";
    var sign = dir === "ascending" ? 1 : -1;
    var sorted = rows.slice().sort(function (a, b) {
      var x = key(a, col), y = key(b, col);
      var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : collator.compare(x, y);
      return c * sign || a.getAttribute("data-i") - b.getAttribute("data-i");
    });
    sorted.forEach(function (r) { tbody.appendChild(r); });
  }

  headers.forEach(function (th, col) {
    th.tabIndex = 0;
    th.addEventListener("click", function () { sortBy(th, col); });
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th, col); }
    });
  });
  filter.addEventListener("input", apply);
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  apply();
})();
"""

#: (header, data-type, cell class) of the table's columns
_COLUMNS = (
    ("Document", "text", ""),
    ("#", "text", ""),
    ("Line", "number", "num"),
    ("URL", "text", "url"),
    ("State", "number", ""),
    ("Evidence", "text", ""),
    ("Archive capture", "text", "cap"),
    ("Fix", "text", "fix"),
    ("Citation", "text", "text"),
)


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _cls(state: str) -> str:
    return f"s-{state}" if state in PALETTE else "s-other"


def render(report: Report) -> str:
    return "".join(chunks(report))


def chunks(report: Report) -> Iterator[str]:
    """`render`'s text in pieces (a table row each), to be written as they are made: the page
    of a 100,000-link report is never held whole."""
    csp = (
        f"default-src 'none'; style-src {_hash(_CSS)}; script-src {_hash(_SCRIPT)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    title = f"citewatch report, {human_datetime(report.generated_at)}"
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">\n',
        '<meta name="referrer" content="no-referrer">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        '<meta name="generator" content="citewatch">\n',
        '<link rel="icon" href="data:,">\n',
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n",
        _summary(report),
        _history(report.history),
        _hosts(report),
    ]
    yield "".join(parts)
    yield from _table(report)
    yield f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"


# --- summary -----------------------------------------------------------------------------------


def _summary(report: Report) -> str:
    s = report.summary
    out = [
        "<header>\n<h1>citewatch report</h1>\n",
        f'<p class="meta">Generated <time datetime="{iso_datetime(report.generated_at)}">'
        f"{_e(human_datetime(report.generated_at))}</time> · {len(report.documents)} document(s)"
        f" · {s.citations} citation link(s)",
    ]
    if report.only:
        out.append(f" · rows limited to {_e(', '.join(report.only))}")
    out.append("</p>\n")
    notes = [policy_phrase(s.state_policy)] if s.state_policy is not None else []
    if hidden := hidden_phrase(report):
        notes.append(hidden)
    if notes:
        out.append(f'<p class="meta">{_e(" ".join(notes))}</p>\n')
    if s.unfinished_note:
        out.append(f'<p class="note"><strong>Note:</strong> {_e(s.unfinished_note)}</p>\n')
    out.append('</header>\n<section id="summary">\n<div class="cards">\n')
    for state, n in ordered_counts(s.counts):
        if n:
            out.append(f'<div class="card {_cls(state)}"><b>{n}</b>{_e(state)}</div>\n')
    out.append("</div>\n")
    out.append(
        f'<p class="lost"><strong>{s.lost} lost</strong> ({share(s.lost, s.citations)}), of which '
        f"<strong>{s.lost_unrecoverable} not recoverable</strong> "
        f"({share(s.lost_unrecoverable, s.citations)} of all citation links): "
        f"{_e(unrecoverable_phrase(s))}.</p>\n"
    )
    if report.history or s.newly_dead or s.recovered:
        out.append(
            f"<p>Since the previous run: <strong>{len(s.newly_dead)}</strong> newly lost, "
            f"<strong>{len(s.recovered)}</strong> recovered.</p>\n"
        )
        for label, urls in (("Newly lost", s.newly_dead), ("Recovered", s.recovered)):
            if urls:
                items = "".join(f"<li>{_link(u)}</li>\n" for u in sorted(urls))
                out.append(
                    f"<details><summary>{label} ({len(urls)})</summary>\n<ul>\n{items}</ul>\n"
                    "</details>\n"
                )
    out.append("</section>\n")
    return "".join(out)


def _history(history: tuple[RunPoint, ...]) -> str:
    """A stacked bar per past run (the last ``MAX_RUNS``), alive at the bottom, worst on top."""
    head = '<section id="history">\n<h2>States over past runs</h2>\n'
    runs = sorted(history, key=lambda p: (p.finished_at, p.run_id))[-MAX_RUNS:]
    if not runs:
        return head + '<p class="muted">No past runs recorded yet.</p>\n</section>\n'
    width, height, top, bottom, left = 600, 180, 10, 30, 40
    plot_h = height - top - bottom
    peak = max(sum(p.counts.values()) for p in runs) or 1
    slot = (width - left - 10) / len(runs)
    bar = max(min(slot * 0.7, 40), 2)
    states = list(reversed(ordered_states(s for p in runs for s in p.counts)))
    out = [
        head,
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Link states over the last {len(runs)} run(s)">\n',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 5}" y2="{top + plot_h}"/>\n',
        f'<text x="{left - 5}" y="{top + 4}" text-anchor="end">{peak}</text>\n',
        f'<text x="{left - 5}" y="{top + plot_h}" text-anchor="end">0</text>\n',
    ]
    for i, point in enumerate(runs):
        x = left + i * slot + (slot - bar) / 2
        y = float(top + plot_h)
        when = human_date(point.finished_at)
        for state in states:
            n = point.counts.get(state, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            out.append(
                f'<rect class="{_cls(state)}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"><title>run {point.run_id}, {_e(when)}: {_e(state)} {n}'
                "</title></rect>\n"
            )
    first, last = runs[0], runs[-1]
    out.append(f'<text x="{left}" y="{height - 8}">{_e(human_date(first.finished_at))}</text>\n')
    if len(runs) > 1:
        out.append(
            f'<text x="{width - 5}" y="{height - 8}" text-anchor="end">'
            f"{_e(human_date(last.finished_at))}</text>\n"
        )
    out.append("</svg>\n")
    legend = " ".join(f'<span class="badge {_cls(s)}">{_e(s)}</span>' for s in reversed(states))
    out.append(f"<p>{legend}</p>\n</section>\n")
    return "".join(out)


def _hosts(report: Report) -> str:
    hosts = [h for h in ordered_hosts(report.summary.hosts) if problems(h.counts)]
    if not hosts:
        return ""
    shown = hosts[:MAX_HOSTS]
    out = [
        '<section id="hosts">\n<h2>Hosts with problems</h2>\n<table class="hosts">\n<thead><tr>'
        '<th>Host</th><th class="num">Problems</th><th class="num">Links</th><th>States</th>'
        "</tr></thead>\n<tbody>\n"
    ]
    for h in shown:
        states = " ".join(
            f'<span class="badge {_cls(s)}">{_e(s)} {n}</span>'
            for s, n in ordered_counts(h.counts)
            if n
        )
        out.append(
            f'<tr><td>{_e(h.host or "—")}</td><td class="num">{problems(h.counts)}</td>'
            f'<td class="num">{sum(h.counts.values())}</td><td>{states}</td></tr>\n'
        )
    out.append("</tbody>\n</table>\n")
    if len(hosts) > len(shown):
        out.append(f'<p class="muted">… and {len(hosts) - len(shown)} more host(s).</p>\n')
    return "".join(out) + "</section>\n"


# --- the table ---------------------------------------------------------------------------------


def _table(report: Report) -> Iterator[str]:
    all_rows = rows(report)
    present = ordered_states({r.link.state for r in all_rows} | set(STATES))
    counts = {s: 0 for s in present}
    for r in all_rows:
        counts[r.link.state] += 1
    boxes = "".join(
        f'<label><input type="checkbox" value="{_e(s)}" checked> '
        f'<span class="badge {_cls(s)}">{_e(s)}</span> {counts[s]}</label>\n'
        for s in present
        if counts[s]
    )
    header = "".join(
        f'<th data-type="{kind}" aria-sort="none"'
        + (' class="num"' if css == "num" else "")
        + f">{_e(name)}</th>"
        for name, kind, css in _COLUMNS
    )
    out = [
        '<section id="links">\n<h2>Citations</h2>\n<div class="controls">\n',
        '<input type="search" id="filter" placeholder="Filter: URL, host, text, state…" '
        'aria-label="Filter rows" autocomplete="off">\n',
        f'<fieldset id="states"><legend>States</legend>\n{boxes}</fieldset>\n',
        f'<span id="shown" aria-live="polite">{len(all_rows)} of {len(all_rows)} rows</span>\n',
        "</div>\n",
        f'<div class="scroll">\n<table id="rows">\n<thead><tr>{header}</tr></thead>\n<tbody>\n',
    ]
    yield "".join(out)
    yield from (_row(i, r) for i, r in enumerate(all_rows))
    yield "</tbody>\n</table>\n</div>\n</section>\n"


def _row(index: int, row: Row) -> str:
    d, c, link = row.document, row.citation, row.link
    doc_title = f' title="{_e(d.title)}"' if d.title else ""
    label = c.label if c.label is not None else "—"
    cells = [
        f'<td class="doc"{doc_title}>{_path(d.path)}</td>',
        f'<td class="label" title="{_e(label_of(c))}">{_e(label)}</td>',
        f'<td class="num">{c.line}</td>',
        f'<td class="url">{_link(link.cited_url)}</td>',
        f'<td class="state" data-sort="{state_rank(link.state)}">'
        f'<span class="badge {_cls(link.state)}">'
        f"{_words(state_text(link))}</span></td>",
        f'<td class="ev">{_evidence(link)}</td>',
        _capture_cell(shown_capture(link)),
        f'<td class="fix">{_fix(link)}</td>',
        f'<td class="text">{_citation_text(c.title, c.text, c.accessed)}</td>',
    ]
    return (
        f'<tr class="{_cls(link.state)}" data-state="{_e(link.state)}" data-i="{index}">'
        + "".join(cells)
        + "</tr>\n"
    )


def _path(path: str) -> str:
    """A path that may break after a ``/``, never inside a name."""
    return "/<wbr>".join(_e(part) for part in path.split("/"))


def _words(text: str) -> str:
    """Text that may break between words, never inside one ("soft-404" stays whole)."""
    return " ".join(f'<span class="w">{_e(word)}</span>' for word in text.split())


def _link(url: str | None) -> str:
    if not url:
        return ""
    shown = _e(url)   # once for the href and the text: a report escapes a URL or two a row
    if not is_web_url(url):
        return shown
    return f'<a href="{shown}" rel="noopener noreferrer nofollow">{shown}</a>'


def _evidence(link: LinkRow) -> str:
    parts = []
    for part in evidence_parts(link):
        if link.final_url and part == f"final URL {link.final_url}":
            parts.append(f"final URL {_link(link.final_url)}")
        else:
            parts.append(_e(part))
    return "<br>".join(parts)


def _capture_cell(capture: Capture | None) -> str:
    if capture is None:
        return '<td class="cap" data-sort=""></td>'
    sort = iso_datetime(capture.captured_at) or ""
    if capture.outcome == "found" and is_web_url(capture.replay_url):
        text = f'<a href="{_e(capture.replay_url)}" rel="noopener noreferrer nofollow">'
        text += f"{_e(human_date(capture.captured_at) or 'capture')}</a>"
        if other := other_archive(capture):
            text += f" at {_e(other)}"
        distance = distance_phrase(capture)
        if distance:
            text += f' <span class="muted">({_e(distance)})</span>'
        if capture.title:
            text += f'<br><span class="muted">{_e(capture.title)}</span>'
    else:
        text = _e(capture_phrase(capture))
    return f'<td class="cap" data-sort="{_e(sort)}">{text}</td>'


def _fix(link: LinkRow) -> str:
    """The fix as a link; the URL is spelled out unless it is the capture already linked."""
    if not link.fix:
        return ""
    phrase = _e(fix_phrase(link))
    if not is_web_url(link.fix):
        return f"{phrase}: {_e(link.fix)}"
    anchor = f'<a href="{_e(link.fix)}" rel="noopener noreferrer nofollow">{phrase}</a>'
    if link.capture is not None and link.fix == link.capture.replay_url:
        return anchor
    return f"{anchor}: {_link(link.fix)}"


def _citation_text(title: str | None, text: str, accessed: CitedDate | None) -> str:
    out = f"<strong>{_e(title)}</strong><br>" if title else ""
    out += _e(text)
    if accessed:
        out += f' <span class="muted">(accessed {_e(human_date(accessed))})</span>'
    return out
