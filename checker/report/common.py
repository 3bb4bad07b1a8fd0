"""What every renderer shares: the row order, date formats, and the evidence and capture phrases.

Every format renders the same report the same way, so these are defined once:

* **Order: problems first.** A row's rank is: lost with nothing to follow (no capture) first,
  then by state, worst first (``STATES``), then document path, line and key. Row lists (CSV, the
  HTML table, the terminal's lines) follow it; grouped formats order documents and citations by
  their best-ranked row (then path; line and key), and a citation's URLs stay in the order the
  author wrote them (JSON). State counts follow ``STATES``; unknown states come last,
  alphabetically. Hosts: most problems first, then most links, then name.
* **Times.** Machine formats (JSON, CSV, JUnit) write UTC ISO 8601 with seconds and a ``Z``
  (``2024-05-01T12:00:00Z``) and dates as ``YYYY-MM-DD``. Human formats write
  ``2024-05-01 12:00 UTC``. A naive datetime is taken to be UTC already.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from checker.judge.state import NOT_A_PROBLEM, State
from checker.report.model import (
    LOST_STATES,
    STATES,
    Capture,
    CitationRow,
    DocumentReport,
    HostCount,
    LinkRow,
    Report,
    StatePolicy,
    Summary,
)
from citations.dates import CitedDate


@dataclass(frozen=True, slots=True)
class Row:
    """One citation × URL line of a report, in report order."""

    document: DocumentReport
    citation: CitationRow
    link: LinkRow


def row_rank(link: LinkRow) -> tuple[bool, int]:
    """Problems first: a lost link with nothing to follow, then the worst states."""
    return (not link.unrecoverable, state_rank(link.state))


_NO_ROWS = (True, len(STATES))


def _citation_rank(citation: CitationRow) -> tuple[tuple[bool, int], int, str]:
    links = citation.links
    best = min(map(row_rank, links)) if links else _NO_ROWS
    return (best, citation.line, citation.key)


def ordered_documents(report: Report) -> list[DocumentReport]:
    """Documents with the worst problems first, then by path."""
    def rank(document: DocumentReport) -> tuple[tuple[bool, int], str]:
        best = min((row_rank(link) for c in document.citations for link in c.links),
                   default=_NO_ROWS)
        return (best, document.path)

    return sorted(report.documents, key=rank)


def ordered_citations(document: DocumentReport) -> list[CitationRow]:
    """Citations with the worst problems first, then by line and key."""
    return sorted(document.citations, key=_citation_rank)


def rows(report: Report) -> list[Row]:
    """Every citation × URL row, problems first (see the module docstring)."""
    return sorted(
        (Row(d, c, link) for d in report.documents for c in d.citations for link in c.links),
        key=lambda r: (row_rank(r.link), r.document.path, r.citation.line, r.citation.key),
    )


def document_rows(document: DocumentReport) -> list[Row]:
    """The rows of one document, problems first, then by line."""
    return sorted(
        (Row(document, c, link) for c in document.citations for link in c.links),
        key=lambda r: (row_rank(r.link), r.citation.line, r.citation.key),
    )


_RANKS: dict[str, int] = {state: rank for rank, state in enumerate(STATES)}


def state_rank(state: str) -> int:
    """Position of ``state`` in the worst-first order (unknown states after the known ones)."""
    return _RANKS.get(state, len(STATES))


def ordered_states(states: Iterable[str]) -> list[str]:
    return sorted(set(states), key=lambda s: (state_rank(s), s))


def ordered_counts(counts: dict[str, int], *, zeros: bool = False) -> list[tuple[str, int]]:
    """``counts`` worst state first; with ``zeros``, every known state is listed."""
    names = set(counts) | (set(STATES) if zeros else set())
    return [(s, counts.get(s, 0)) for s in ordered_states(names)]


def problems(counts: Mapping[str, int]) -> int:
    """How many of a host's rows are a problem (``State.is_problem``: the one definition; an
    unknown state counts as one)."""
    return sum(n for s, n in counts.items() if s not in NOT_A_PROBLEM)


def ordered_hosts(hosts: Iterable[HostCount]) -> list[HostCount]:
    return sorted(hosts, key=lambda h: (-problems(h.counts), -sum(h.counts.values()), h.host))


def label_of(citation: CitationRow) -> str:
    """How a citation is named to a reader: ``footnote 12`` or ``link at line 40``; in a PDF,
    where readers go by pages, ``p. 14, note 37`` or ``p. 14, link``."""
    if citation.page is not None:
        return f"p. {citation.page}, " + (f"note {citation.label}" if citation.label else "link")
    if citation.label is not None:
        return f"footnote {citation.label}"
    return f"link at line {citation.line}"


# --- times -------------------------------------------------------------------------------------


def utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso_datetime(dt: datetime | None) -> str | None:
    """``2024-05-01T12:00:00Z`` (machine formats)."""
    if dt is None:
        return None
    at = utc(dt)
    # %-formatting: a third of strftime's time, and a report writes a few per row
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (  # noqa: UP031
        at.year, at.month, at.day, at.hour, at.minute, at.second)


def iso_date(d: date | CitedDate | None) -> str | None:
    """``2024-05-01``; a cited period in ISO 8601 reduced precision (``2023-01``, ``2021``)."""
    if d is None:
        return None
    if isinstance(d, CitedDate):
        return d.iso
    return (utc(d).date() if isinstance(d, datetime) else d).isoformat()


def human_datetime(dt: datetime | None) -> str:
    """``2024-05-01 12:00 UTC`` (human formats); "" for None."""
    return utc(dt).strftime("%Y-%m-%d %H:%M UTC") if dt is not None else ""


def human_date(d: date | datetime | CitedDate | None) -> str:
    """``2024-05-01``; a cited period as people write it (``January 2023``, ``2021``)."""
    if isinstance(d, CitedDate):
        return d.label
    return iso_date(d) or ""


# --- phrases -----------------------------------------------------------------------------------


#: Where the date a capture was chosen for comes from, for readers.
TARGET_KINDS = {
    "accessed": "accessed",
    "published": "published",
    "document": "the document's date",
    "inferred": "the document's date, inferred from its newest source",
    "first-seen": "first seen by citewatch",
    "cited-capture": "the capture the citation names",
}


def target_phrase(capture: Capture) -> str:
    """The date a capture was chosen for and where it comes from: ``January 2023, published``."""
    kind = TARGET_KINDS.get(capture.target_kind or "", capture.target_kind or "")
    if capture.target is None:
        return kind
    return f"{capture.target.label}, {kind}" if kind else capture.target.label


def distance_phrase(capture: Capture) -> str:
    """How far the capture is from the date it was chosen for, and that date:
    ``within January 2023, published``, ``3 days after 2022-11-16, accessed``."""
    if capture.distance_days is None:
        return ""
    days = round(capture.distance_days)
    what = target_phrase(capture) or "the target date"
    if days == 0:
        period = capture.target is not None and not capture.target.is_day
        return f"within {what}" if period else f"same day as {what}"
    unit = "day" if abs(days) == 1 else "days"
    return f"{abs(days)} {unit} {'after' if days > 0 else 'before'} {what}"


def state_text(link: LinkRow) -> str:
    """The state label, and the latest verdict when it differs (a failure being confirmed)."""
    if link.verdict and link.verdict != link.state:
        return f"{link.state_label} (latest check: {link.verdict})"
    return link.state_label


def evidence_parts(link: LinkRow) -> list[str]:
    """The facts behind a verdict: status code, final URL, since when, how many checks. Each fact
    once: the status is left out when the reason starts with it ("HTTP 404: …"), the final URL
    when the reason or the drift phrase names it, and a repeated part is dropped."""
    parts: list[str] = []
    if link.status is not None and not _says(link.reason, f"HTTP {link.status}"):
        parts.append(f"HTTP {link.status}")
    if link.reason:
        parts.append(link.reason)
    drift = drift_phrase(link) if link.similarity is not None else ""
    if (link.final_url and link.final_url not in (link.url, link.cited_url)
            and link.final_url not in link.reason and link.final_url not in drift):
        parts.append(f"final URL {link.final_url}")
    if drift:
        parts.append(drift)
    if link.failing_since is not None:
        parts.append(f"failing since {human_date(link.failing_since)}")
    if link.checks:
        parts.append(f"{link.checks} check{'s' if link.checks != 1 else ''}")
    if link.last_checked_at is not None:
        parts.append(f"last checked {human_datetime(link.last_checked_at)}")
    seen: set[str] = set()
    unique = []
    for part in parts:
        key = " ".join(part.split()).casefold()
        if key not in seen:
            seen.add(key)
            unique.append(part)
    return unique


def _says(reason: str, fact: str) -> bool:
    """``reason`` starts with ``fact`` as a whole word ("HTTP 404: gone", not "HTTP 4040")."""
    return reason.startswith(fact) and not reason[len(fact):len(fact) + 1].isalnum()


def drift_phrase(link: LinkRow) -> str:
    """The similarity measured by check --drift; a drifted link names both versions, so a
    reader can compare them."""
    phrase = f"main text {link.similarity:.0%} like the archive capture"
    if link.state is State.DRIFTED and link.compared_with:
        phrase += f" (live: {link.final_url or link.url}; capture: {link.compared_with})"
    return phrase


def evidence(link: LinkRow) -> str:
    return "; ".join(evidence_parts(link))


def other_archive(capture: Capture) -> str:
    """The archive a capture comes from when it is not the Wayback Machine (readers should know
    where a link leads), else ""."""
    return capture.archive if capture.archive and capture.archive != "wayback" else ""


def unrecoverable_phrase(summary: Summary) -> str:
    """Why the unrecoverable citations have no capture, as far as is known: "no archive capture
    was found" only of those an archive answered for."""
    unasked = summary.lost_not_looked_up
    if not unasked:
        return "no archive capture was found"
    later = "not looked up in an archive yet (run citewatch archive)"
    if unasked == summary.lost_unrecoverable:
        return later
    return f"{summary.lost_unrecoverable - unasked} with no archive capture, {unasked} {later}"


def capture_phrase(capture: Capture | None) -> str:
    """``captured 2022-11-16 (3 days after accessed)``, or why there is no capture. A capture
    from an archive other than the Wayback Machine names it: ``captured 2022-11-16 at
    archive.today (…)``."""
    if capture is None:
        return ""
    if capture.outcome == "found":
        parts = [
            f"captured {human_date(capture.captured_at)}" if capture.captured_at else "captured"
        ]
        if other := other_archive(capture):
            parts.append(f"at {other}")
        distance = distance_phrase(capture)
        if distance:
            parts.append(f"({distance})")
        return " ".join(parts)
    if capture.outcome == "no-capture":
        return "no capture" + (f": {capture.reason}" if capture.reason else "")
    return "not looked up" + (f": {capture.reason}" if capture.reason else " yet")


#: The capture of a lost link no archive was asked about: reports say "not looked up yet" rather
#: than leave a blank a reader takes for "no capture exists".
UNASKED = Capture(outcome="unknown")


def shown_capture(link: LinkRow) -> Capture | None:
    """The capture to show for ``link``: its own, or ``UNASKED`` for a lost link without one."""
    return UNASKED if link.capture is None and link.lost else link.capture


def fix_phrase(link: LinkRow) -> str:
    """What to do: ``use the capture`` / ``use the new URL`` / ""."""
    if not link.fix:
        return ""
    if link.state is State.MOVED or (link.suggested_url and link.fix == link.suggested_url):
        return "use the new URL"
    if link.state in LOST_STATES:
        return "use the capture"
    if link.state is State.UNREACHABLE:
        return "unreachable now; archived copy"
    return "use"


def share(part: int, whole: int) -> str:
    """A percentage with one decimal: ``8.3%``."""
    return f"{(100 * part / whole if whole else 0.0):.1f}%"


def is_web_url(url: str | None) -> bool:
    """Only http(s) URLs become clickable links in HTML and Markdown (no ``javascript:``)."""
    return bool(url) and url.lower().startswith(("http://", "https://"))  # type: ignore[union-attr]


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


# --- what a report was made with ---------------------------------------------------------------

_FROM = {
    "command line": "from the command line",
    "environment": "from the environment",
    "configuration": "from the configuration file",
    "database": "stored in the database",
    "default": "the built-in default",
}


def duration_phrase(seconds: float) -> str:
    """``3d``, ``12h``, ``90s``: the largest unit that divides ``seconds``."""
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def policy_phrase(policy: StatePolicy) -> str:
    """The state policy in one sentence, with where it came from: ``State policy: a link is dead
    after 3 failing checks at least 3d apart (stored in the database).``"""
    if policy.confirm == 1:
        rule = "a link is dead on its first failing check"
    else:
        rule = (f"a link is dead after {policy.confirm} failing checks at least "
                f"{duration_phrase(policy.confirm_spacing_s)} apart")
    if policy.confirm_from == policy.spacing_from or policy.confirm == 1:
        where = _FROM.get(policy.confirm_from, policy.confirm_from)
    else:
        where = (f"count {_FROM.get(policy.confirm_from, policy.confirm_from)}, spacing "
                 f"{_FROM.get(policy.spacing_from, policy.spacing_from)}")
    return f"State policy: {rule} ({where})."


def hidden_phrase(report: Report) -> str:
    """How many rows the report leaves out by default, and how to see them: ``12 alive and 1
    skipped row(s) not shown (--all shows them).``; "" when none is."""
    counts = [(s, report.summary.counts.get(s, 0)) for s in report.hidden]
    counts = [(s, n) for s, n in counts if n]
    if not counts:
        return ""
    listed = " and ".join(f"{n} {s}" for s, n in counts)
    return f"{listed} row(s) not shown (--all shows them)."
