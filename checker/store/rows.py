"""What the store hands out and takes in: plain dataclasses for its rows, and the conversions of
dates to and from the ISO 8601 text the database keeps."""


from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

try:
    import fcntl
except ImportError:  # Windows: no run lock (see Store.run_lock)
    fcntl = None  # type: ignore[assignment]

from citations.dates import CitedDate


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | date | CitedDate | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, CitedDate):
        return value.iso
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value.isoformat()


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_timestamp(value: str) -> datetime:
    """A timestamp column that is never null."""
    parsed = parse_iso(value)
    assert parsed is not None
    return parsed


def parse_date(value: str | None) -> CitedDate | None:
    """A stored cited date: a day (``2022-11-16``) or a period (``2023-01``, ``1996-03/1996-08``)."""
    return CitedDate.from_iso(value)


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """What saving one parsed document changed."""

    document_id: int
    unchanged: bool
    added: int = 0
    updated: int = 0
    removed: int = 0
    new_links: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DueLink:
    """A link that wants checking, with the titles its citations give it."""

    id: int
    url: str
    kind: str
    original_url: str | None
    cited_titles: tuple[str, ...]
    last_checked_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CitedLink:
    """One link of one current citation, with what picks its archive capture."""

    citation_id: int
    link_id: int
    url: str
    kind: str
    archive: str | None      # archive links: "wayback", "archive.today", "perma.cc"
    role: str
    title: str | None
    accessed: CitedDate | None
    published: CitedDate | None
    document_date: CitedDate | None
    document_date_source: str | None   # "metadata" | "inferred"
    first_seen_at: datetime | None
    original_url: str | None
    captured_at: datetime | None   # as ReportSource.link_captured_at


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotRow:
    """The archive's answer for one citation of a link (see archive.Choice)."""

    citation_id: int
    outcome: str
    target: datetime | None            # the moment captures were measured from
    target_kind: str | None            # accessed | published | document | inferred | first-seen
    looked_up_at: datetime
    target_date: CitedDate | None = None   # the cited date (day or period) the capture is for
    archive: str | None = None
    timestamp: str | None = None
    captured_at: datetime | None = None
    replay_url: str | None = None
    original: str | None = None
    capture_status: int | None = None
    capture_title: str | None = None
    distance_s: int | None = None
    redirected_from: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveRow:
    requested_at: datetime
    outcome: str
    job_id: str | None = None
    timestamp: str | None = None
    captured_at: datetime | None = None
    original_url: str | None = None
    replay_url: str | None = None
    status_ext: str | None = None
    message: str = ""


class ReportSource(NamedTuple):
    """One (citation, link) pair with its latest check and chosen capture, for reports.

    A named tuple, not a frozen dataclass like the store's other rows: a report reads one per
    cited URL, and a frozen dataclass's ``__init__`` sets its 34 fields one
    ``object.__setattr__`` at a time (0.8 s of a 100,000-link report; a tuple is made at once).
    Equally immutable; built by keyword by ``Store.report_rows`` alone."""

    document: str
    document_format: str
    document_title: str | None
    citation_id: int
    key: str
    label: str | None
    line: int
    page: int | None                 # PDF: the page where the citation starts
    text: str
    title: str | None
    published: CitedDate | None
    accessed: CitedDate | None
    cited_url: str
    role: str
    # The fields of the work this URL belongs to (database.work_fields): the citation's, or the
    # URL's own in a footnote citing several works; the archive chose the capture by these.
    work_title: str | None
    work_published: CitedDate | None
    work_accessed: CitedDate | None
    link_id: int
    url: str
    host: str | None
    kind: str
    archive: str | None              # archive links: "wayback", "archive.today", "perma.cc"
    original_url: str | None         # archive links: the page they archive
    # archive links: the day a citewatch note gives (citations.models.Link.captured_at); the time a
    # capture URL names is archive/'s to read (archive.capture_time), which the report asks first
    link_captured_at: datetime | None
    checks: int
    verdict: str | None
    reason: str
    status: int | None
    final_url: str | None
    suggested_url: str | None
    checked_at: datetime | None
    snapshot: SnapshotRow | None
    similarity: float | None    # check --drift: main text vs. the capture's
    compared_with: str | None   # that capture's replay URL


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDocument:
    id: int
    path: str
    format: str
    content_hash: str
    title: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredCitation:
    """A citation as stored, with its document and URLs (for listings and reports)."""

    id: int
    document: str
    key: str
    label: str | None
    number: int | None
    line: int
    text: str
    title: str | None
    publisher: str | None
    published: CitedDate | None
    accessed: CitedDate | None
    ibid_of: str | None
    removed_at: datetime | None
    urls: tuple[tuple[str, str], ...]  # (as cited, normalised link URL)


