"""The report as CSV: one row per citation and URL, for spreadsheets.

Decisions: RFC 4180 (comma, double quotes, CRLF line ends, as Python's ``csv`` writes by
default), a header row, UTF-8 without BOM; empty cells for unknown values; times as in JSON
(``2024-05-01T12:00:00Z``). A citation with two URLs gives two rows that repeat the citation's
columns. There is no summary: it is the sum of the rows (with ``--all``; by default alive and skipped rows
are left out, as in every format but JUnit). Rows come problems first (``common``).

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or CR as a formula, and
citation text is untrusted, so such free-text cells (``text``, ``title``, ``reason``,
``capture_title``, ``state_label``, ``document_title``) are prefixed with ``'`` (the OWASP advice
for CSV injection). URLs and numbers are written as they are.
"""

from __future__ import annotations

import csv
import io

from checker.report.common import iso_date, iso_datetime, rows
from checker.report.model import Report

COLUMNS = (
    "document",
    "document_title",
    "format",
    "citation",
    "label",
    "line",
    "title",
    "published",
    "accessed",
    "cited_url",
    "url",
    "host",
    "kind",
    "state",
    "state_label",
    "lost",
    "unrecoverable",
    "verdict",
    "reason",
    "status",
    "final_url",
    "suggested_url",
    "failing_since",
    "checks",
    "last_checked_at",
    "capture",
    "capture_url",
    "captured_at",
    "capture_status",
    "capture_title",
    "capture_target",
    "capture_target_kind",
    "capture_distance_days",
    "fix",
    "text",
)
_FREE_TEXT = frozenset(
    {"document_title", "title", "state_label", "reason", "capture_title", "text"}
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows(report):
        d, c, link = row.document, row.citation, row.link
        cap = link.capture
        values: dict[str, object] = {
            "document": d.path,
            "document_title": d.title,
            "format": d.format,
            "citation": c.key,
            "label": c.label,
            "line": c.line,
            # the work this URL cites: in a footnote of several works, its own
            "title": link.title,
            "published": iso_date(link.published),
            "accessed": iso_date(link.accessed),
            "cited_url": link.cited_url,
            "url": link.url,
            "host": link.host,
            "kind": link.kind,
            "state": link.state,
            "state_label": link.state_label,
            "lost": "yes" if link.lost else "no",
            "unrecoverable": "yes" if link.unrecoverable else "no",
            "verdict": link.verdict,
            "reason": link.reason,
            "status": link.status,
            "final_url": link.final_url,
            "suggested_url": link.suggested_url,
            "failing_since": iso_datetime(link.failing_since),
            "checks": link.checks,
            "last_checked_at": iso_datetime(link.last_checked_at),
            "capture": cap.outcome if cap else None,
            "capture_url": cap.replay_url if cap else None,
            "captured_at": iso_datetime(cap.captured_at) if cap else None,
            "capture_status": cap.status if cap else None,
            "capture_title": cap.title if cap else None,
            "capture_target": iso_date(cap.target) if cap else None,
            "capture_target_kind": cap.target_kind if cap else None,
            "capture_distance_days": (
                round(cap.distance_days, 2) if cap and cap.distance_days is not None else None
            ),
            "fix": link.fix,
            "text": c.text,
        }
        writer.writerow([_cell(name, values[name]) for name in COLUMNS])
    return out.getvalue()


def _cell(name: str, value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    if name in _FREE_TEXT and text.startswith(_FORMULA_START):
        return "'" + text
    return text
