"""The report: everything a reader of the audit needs, built from the store, rendered by format.

``Report`` is also the JSON output (``to_json``), whose schema is versioned by ``SCHEMA_VERSION``:
bump it whenever a field is renamed or removed (adding a field is compatible).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from checker.judge.state import State
from citations.dates import CitedDate

#: 2: cited dates (``published``, ``accessed``, a capture's ``target``) are ISO 8601 with reduced
#: precision ("2023-01", "2021", "1996-03/1996-08"), no longer always a day; ``inferred`` target kind.
SCHEMA_VERSION = 2

#: Link states (checker.judge.state.State, carried as the enum into every renderer; its values
#: are the strings every format writes) in the order reports list them, worst first.
STATES: tuple[State, ...] = (
    State.DEAD, State.SOFT_404, State.DRIFTED, State.FAILING, State.MOVED, State.BLOCKED,
    State.UNREACHABLE, State.INVALID, State.SKIPPED, State.UNCHECKED, State.ALIVE,
)
#: States whose citation has lost the page it cited (it wants an archive capture): ``State.is_lost``.
LOST_STATES = frozenset(s for s in STATES if s.is_lost)


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    """The archive capture chosen for one citation of a link (or why there is none)."""

    outcome: str                       # "found" | "no-capture" | "unknown"
    archive: str | None = None         # "wayback"
    captured_at: datetime | None = None
    replay_url: str | None = None      # https://web.archive.org/web/<timestamp>/<url>
    status: int | None = None          # HTTP status of the capture
    title: str | None = None           # title of the archived page
    target: CitedDate | None = None    # the date (a day or a period) the capture was chosen for
    target_kind: str | None = None     # accessed | published | document | inferred | first-seen
    distance_days: float | None = None  # from the target period, in days: 0 inside, < 0 before
    looked_up_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkRow:
    """One URL of one citation, with its state, evidence, capture and suggested fix."""

    cited_url: str
    url: str
    host: str
    kind: str                          # "web" | "archive"
    state: State                       # one of STATES (a value string is turned into it)
    state_label: str                   # "failing (1 of 3)", "dead", …
    verdict: str | None = None         # latest check's verdict
    reason: str = ""
    status: int | None = None
    final_url: str | None = None
    suggested_url: str | None = None   # new URL of a moved page
    failing_since: datetime | None = None
    checks: int = 0
    last_checked_at: datetime | None = None
    capture: Capture | None = None
    fix: str | None = None             # the URL to use instead: capture for lost pages, new URL for moved
    similarity: float | None = None    # check --drift: main text vs. the archive capture's (0-1)
    compared_with: str | None = None   # that capture's replay URL
    # The work this URL cites (a footnote may cite several): its title and dates, those its
    # capture was chosen by (checker.store.database.work_fields)
    title: str | None = None
    published: CitedDate | None = None
    accessed: CitedDate | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.state, State):   # built from stored or hand-written values
            object.__setattr__(self, "state", State(self.state))

    @property
    def lost(self) -> bool:
        return self.state in LOST_STATES   # State.is_lost (read a few times per row per report)

    @property
    def unrecoverable(self) -> bool:
        return self.state in LOST_STATES and (self.capture is None or self.capture.outcome != "found")

    @property
    def not_looked_up(self) -> bool:
        """No archive has answered for this citation yet (never asked, or the lookup failed)."""
        return self.capture is None or self.capture.outcome == "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class CitationRow:
    document: str
    key: str
    label: str | None
    line: int
    text: str
    title: str | None = None
    published: CitedDate | None = None
    accessed: CitedDate | None = None
    links: tuple[LinkRow, ...] = ()
    page: int | None = None      # PDF: the 1-based page where the citation starts


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentReport:
    path: str
    format: str
    title: str | None
    citations: tuple[CitationRow, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class HostCount:
    host: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPoint:
    """States of all links at the end of one past check run (for the chart over time)."""

    run_id: int
    finished_at: datetime
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class LastRun:
    """The latest check run: when it started and how it ended."""
    started_at: datetime
    # "finished", "interrupted" (Ctrl-C, SIGTERM, or killed and closed by the next run),
    # "crashed", or None while open (running, or killed and no run came since)
    outcome: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatePolicy:
    """The state policy a report was built with, and where each of its two values came from:
    "command line", "environment", "configuration", "database" or "default"."""

    confirm: int                       # failing checks that confirm a link dead
    confirm_spacing_s: float           # … at least this far apart
    confirm_from: str
    spacing_from: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    citations: int                     # citation × URL rows
    counts: dict[str, int]             # per state
    hosts: tuple[HostCount, ...]       # hosts with problems first
    lost: int                          # rows whose page is lost (LOST_STATES)
    lost_unrecoverable: int            # lost, and no archive capture found
    # Of those, the ones no archive has answered for yet (never looked up, or the lookup failed):
    # reports must not say "no capture was found" of a question never asked.
    lost_not_looked_up: int = 0
    newly_dead: tuple[str, ...] = ()   # URLs that became lost since the previous run
    recovered: tuple[str, ...] = ()    # URLs that came back since the previous run
    # Outcome of the latest check run when it did not finish: "interrupted" (Ctrl-C, SIGTERM,
    # or killed and closed by the next run), "crashed", or "" while open (running, or killed).
    unfinished_run: str | None = None
    last_run: LastRun | None = None    # None when no check has run
    state_policy: StatePolicy | None = None   # set by the command that builds the report

    @property
    def unfinished_note(self) -> str | None:
        """One sentence for report headers when the latest check run did not finish."""
        if self.unfinished_run is None:
            return None
        how = self.unfinished_run or "has not finished (still running, or killed)"
        return (f"The last check run {'was ' if self.unfinished_run else ''}{how}: links it did "
                "not reach keep their earlier verdicts.")

    @property
    def lost_unrecoverable_share(self) -> float:
        return self.lost_unrecoverable / self.citations if self.citations else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    generated_at: datetime
    documents: tuple[DocumentReport, ...]
    summary: Summary
    history: tuple[RunPoint, ...] = ()
    schema_version: int = SCHEMA_VERSION
    only: tuple[str, ...] = field(default_factory=tuple)   # states the rows were filtered to
    # States whose rows are left out by default (``--all`` shows them); the summary counts them
    hidden: tuple[str, ...] = field(default_factory=tuple)

    def rows(self) -> list[tuple[DocumentReport, CitationRow, LinkRow]]:
        return [(d, c, link) for d in self.documents for c in d.citations for link in c.links]
