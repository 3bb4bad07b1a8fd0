"""The report as JSON: all of its data, for programs.

The schema is documented field by field in ``docs/report.schema.json`` (JSON Schema 2020-12) and
versioned by ``schema_version`` (``checker.report.model.SCHEMA_VERSION``): a renamed or removed
field bumps it, an added field does not (consumers must ignore fields they don't know).

Decisions: every key is always present (``null`` when unknown) so consumers need no defaults;
``summary.counts`` lists every known state, zeros included; datetimes are UTC ISO 8601 with a
``Z``, dates ``YYYY-MM-DD``; text is written as UTF-8, not ``\\u`` escapes; keys keep a fixed,
readable order (not sorted) and documents, citations and hosts are in report order (problems
first, ``common``), so the same report always gives the same bytes. ``hidden`` names the states
whose rows are left out by default (``--all`` keeps them; ``summary.counts`` counts them), and
``summary.state_policy`` the confirmation rule the states were computed with and where each of
its values came from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from checker.report.common import (
    iso_date,
    iso_datetime,
    ordered_citations,
    ordered_counts,
    ordered_documents,
    ordered_hosts,
)
from checker.report.model import Capture, CitationRow, DocumentReport, LinkRow, Report


def render(report: Report) -> str:
    return "".join(chunks(report))


def chunks(report: Report) -> Iterator[str]:
    """`render`'s text in pieces of a citation each, to be written as they are made: the
    text of a 100,000-link report is never held whole, nor its JSON values. The same text as
    ``json.dumps(as_dict(report), ensure_ascii=False, indent=2)`` and a newline (see `_dumps`)."""
    yield from _spliced({**_head(report), "documents": []}, "documents", 0, (
        _spliced({**_document(d, citations=False), "citations": []}, "citations", 2,
                 ((_dumps(_citation(c), 4),) for c in ordered_citations(d)))
        for d in ordered_documents(report)), "\n")


def _dumps(value: Any, depth: int) -> str:
    """``value`` as ``json.dumps(value, ensure_ascii=False, indent=2)`` writes it at `depth`
    (levels of indent) inside a document. orjson writes it (in C; json's indenting encoder is pure
    Python and was most of a 100,000-link report's time): the same text but for floats written
    without an exponent (``0.00001`` for ``1e-05``), the same number to any JSON reader."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    # JSON strings carry their newlines escaped: every newline here is the layout's own
    return text.replace("\n", "\n" + "  " * depth) if depth else text


#: A string as JSON with ``ensure_ascii=False`` (json's C function when it has it).
_string: Callable[[str], str] = json.encoder.encode_basestring


def _spliced(head: dict[str, Any], key: str, depth: int, items: Iterable[Iterable[str]],
             end: str = "") -> Iterator[str]:
    """``head`` at `depth` with `items` (each the pieces of one value's text at depth + 2) as
    the list at `key`, its last key, in pieces: what `_dumps` gives for the whole."""
    text = _dumps(head, depth)
    closing = "[]\n" + "  " * depth + "}"
    assert text.endswith(f'"{key}": {closing}')
    first = True
    for item in items:
        yield (text[: -len(closing)] + "[\n" if first else ",\n") + "  " * (depth + 2)
        yield from item
        first = False
    yield (text if first else "\n" + "  " * (depth + 1) + "]\n" + "  " * depth + "}") + end


def as_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON values, in the documented schema."""
    return {**_head(report), "documents": [_document(d) for d in ordered_documents(report)]}


def _head(report: Report) -> dict[str, Any]:
    """Everything but the documents (which come last)."""
    s = report.summary
    return {
        "schema_version": report.schema_version,
        "generated_at": iso_datetime(report.generated_at),
        "only": list(report.only),
        "hidden": list(report.hidden),
        "summary": {
            "citations": s.citations,
            "counts": dict(ordered_counts(s.counts, zeros=True)),
            "lost": s.lost,
            "lost_unrecoverable": s.lost_unrecoverable,
            "lost_unrecoverable_share": round(s.lost_unrecoverable_share, 4),
            "newly_dead": sorted(s.newly_dead),
            "recovered": sorted(s.recovered),
            "hosts": [
                {"host": h.host, "counts": dict(ordered_counts(h.counts))}
                for h in ordered_hosts(s.hosts)
            ],
            "last_run": None if s.last_run is None else {
                "started_at": iso_datetime(s.last_run.started_at),
                "outcome": s.last_run.outcome,
                "finished": s.last_run.outcome == "finished",
                "note": s.unfinished_note,
            },
            "state_policy": None if s.state_policy is None else {
                "confirm": s.state_policy.confirm,
                "confirm_spacing_s": s.state_policy.confirm_spacing_s,
                "confirm_from": s.state_policy.confirm_from,
                "confirm_spacing_from": s.state_policy.spacing_from,
            },
        },
        "history": [
            {
                "run_id": p.run_id,
                "finished_at": iso_datetime(p.finished_at),
                "counts": dict(ordered_counts(p.counts)),
            }
            for p in sorted(report.history, key=lambda p: (p.finished_at, p.run_id))
        ],
    }


def _document(d: DocumentReport, *, citations: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"path": d.path, "format": d.format, "title": d.title}
    if citations:
        out["citations"] = [_citation(c) for c in ordered_citations(d)]
    return out


def _citation(c: CitationRow) -> dict[str, Any]:
    return {
        "key": c.key,
        "label": c.label,
        "line": c.line,
        "page": c.page,   # null for formats without pages
        "text": c.text,
        "title": c.title,
        "published": iso_date(c.published),
        "accessed": iso_date(c.accessed),
        "links": [_link(link) for link in c.links],
    }


def _link(link: LinkRow) -> dict[str, Any]:
    return {
        "cited_url": link.cited_url,
        "url": link.url,
        "host": link.host,
        "kind": link.kind,
        "state": link.state,
        "state_label": link.state_label,
        "lost": link.lost,
        "unrecoverable": link.unrecoverable,
        "verdict": link.verdict,
        "reason": link.reason,
        "status": link.status,
        "final_url": link.final_url,
        "suggested_url": link.suggested_url,
        "failing_since": iso_datetime(link.failing_since),
        "checks": link.checks,
        "last_checked_at": iso_datetime(link.last_checked_at),
        "capture": _capture(link.capture) if link.capture else None,
        "fix": link.fix,
    }


def _capture(c: Capture) -> dict[str, Any]:
    return {
        "outcome": c.outcome,
        "archive": c.archive,
        "captured_at": iso_datetime(c.captured_at),
        "replay_url": c.replay_url,
        "status": c.status,
        "title": c.title,
        "target": iso_date(c.target),
        "target_kind": c.target_kind,
        "distance_days": None if c.distance_days is None else round(c.distance_days, 2),
        "looked_up_at": iso_datetime(c.looked_up_at),
        "reason": c.reason,
    }
