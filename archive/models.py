"""
Values that archive/ takes and returns: plain frozen dataclasses of str, int and UTC datetimes,
so a caller can store them as rows (``dataclasses.asdict``) and cache them.

A lookup goes ``LookupRequest`` (one URL, every date it is cited at) → ``LookupResult`` (one
``Choice`` per citation key). ``Outcome`` keeps apart "the archive has nothing usable"
(``no-capture``, ``excluded``) from "the archive could not tell us" (``unknown``): only the latter
is worth asking again soon.

Whether a replayed capture shows the cited page at all (not a "not found" page, a bot wall, or a
different page) is not decided here: a caller may hand in a ``PageJudge``, which sees an
``ArchivedPage`` and the cited title (citewatch's checker hands in ``checker.judge.classify.judge_capture``,
the rules it applies to live pages).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from archive.timestamps import as_utc

ARCHIVE_WAYBACK = "wayback"


class Outcome(StrEnum):
    """What a lookup or a replay check found. Values are stored verbatim."""

    FOUND = "found"              # a verified capture: Choice.snapshot is set
    NO_CAPTURE = "no-capture"    # the archive answered: nothing usable (none, 404s, login walls)
    EXCLUDED = "excluded"        # the site is blocked from the Wayback Machine (CDX 403)
    UNKNOWN = "unknown"          # the archive refused or failed (5xx, timeout, empty availability)

    @property
    def is_final(self) -> bool:
        """False for ``unknown``: ask again later."""
        return self is not Outcome.UNKNOWN


class SaveOutcome(StrEnum):
    """What Save Page Now did with one URL."""

    SAVED = "saved"        # a capture exists: SaveResult.timestamp is set
    PENDING = "pending"    # the job did not finish in time: poll SaveResult.job_id later
    REFUSED = "refused"    # SPN said no for this URL (status_ext says why)
    FAILED = "failed"      # SPN or the network failed (5xx, timeout, transient status_ext)
    SKIPPED = "skipped"    # not sent: this URL reached its captures-per-day cap here


@dataclass(frozen=True, slots=True)
class Target:
    """One citation of a URL: ``key`` is the caller's id, ``at`` the moment it should show.

    A citation dated by a period ("January 2023", "2021") gives ``start``, the period's first
    moment, and ``at``, its last: a capture anywhere in between is as good as one on the exact
    day (see choose.py). ``start`` is None for a single moment.
    """

    key: str
    at: datetime
    cited_title: str | None = None
    start: datetime | None = None

    def distance_s(self, captured_at: datetime) -> int:
        """Signed seconds from the target to a capture: 0 inside the period, negative before
        its start, positive after its end."""
        moment = as_utc(captured_at)
        start = as_utc(self.start) if self.start is not None else as_utc(self.at)
        if moment < start:
            return round((moment - start).total_seconds())
        return max(0, round((moment - as_utc(self.at)).total_seconds()))


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """One lost URL with every date it is cited at; ``failing_since``: first seen failing."""

    url: str
    targets: tuple[Target, ...]
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    """One CDX row (or availability answer): the index's word, not yet replayed."""

    timestamp: str               # 14 digits as the archive wrote it (may hold a "00" month)
    captured_at: datetime        # UTC, "00" month/day repaired to 01
    original: str
    status_code: int | None      # None for an unresolved revisit ("-")
    mimetype: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchivedPage:
    """What one replayed capture shows, as evidence for a ``PageJudge``: no verdict.

    The fields are those a live check reads from a page (title, og:title and first ``<h1>``, the
    start of the visible text), so one set of rules can judge both.
    """

    url: str                     # the URL as asked for
    original: str                # the URL the capture is of (differs after a followed redirect)
    timestamp: str               # 14 digits, the Memento-Datetime of the replay
    status_code: int             # as archived (200: other statuses never reach a judge)
    content_type: str | None     # media type as archived, lower case, no parameters
    title: str | None            # <title>, else og:title
    headings: tuple[str, ...] = ()   # og:title, first <h1> (those present)
    body_sample: str = ""        # start of the visible text, bounded (replay.SAMPLE_CHARS)
    truncated: bool = False      # only the start of a long body was read (no title is no evidence)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureContent:
    """The archived body of one capture as text, from its ``id_`` replay (no banner, no
    rewritten links): what the page said when it was captured."""

    url: str                     # the URL the capture is of
    timestamp: str               # 14 digits, the Memento-Datetime of the replay
    content_type: str | None     # media type as archived, lower case, no parameters
    text: str                    # the body, decoded, at most ``max_body_bytes`` of it
    truncated: bool = False      # only the start of a long body was read


#: Judges whether a capture is the cited page: ``(page, cited title)`` → None when it is, else
#: why not (for humans; never parse it). Pure and synchronous: it runs once per replayed capture.
PageJudge = Callable[[ArchivedPage, str | None], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """A verified capture: it replayed 200 with a Memento-Datetime."""

    archive: str                 # "wayback"
    url: str                     # the URL as asked for
    original: str                # the URL the capture is of (differs after a followed redirect)
    timestamp: str               # 14 digits, as replayed (after a "found capture at" redirect)
    captured_at: datetime        # UTC
    replay_url: str              # view form: <replay base><timestamp>/<original>
    status_code: int             # capture status as replayed (200)
    title: str | None
    distance_s: int              # captured_at - target, seconds (negative: before the target)
    looked_up_at: datetime       # UTC
    redirected_from: str | None = None   # the URL whose 3xx capture was followed to get here


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """The answer for one citation key of a URL."""

    key: str
    target: datetime
    outcome: Outcome
    snapshot: Snapshot | None = None
    reason: str = ""             # for humans; never parse it


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupResult:
    """Everything learned about one URL, yielded by ``resolve()`` as soon as it is done."""

    url: str
    choices: tuple[Choice, ...]
    requests_made: int           # archive requests spent on this URL (a batch POST counts once)
    looked_up_at: datetime
    source: str                  # "cdx", "availability-batch", "availability", "" (none answered)

    def choice(self, key: str) -> Choice:
        """The choice for one citation key (KeyError if the key was not asked for)."""
        for choice in self.choices:
            if choice.key == key:
                return choice
        raise KeyError(key)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayCheck:
    """Whether a cited archive link (``web.archive.org/web/<ts>/<url>``) still replays."""

    archive_url: str
    url: str | None              # the archived URL parsed from archive_url
    outcome: Outcome
    snapshot: Snapshot | None    # distance_s is measured from the cited timestamp
    reason: str
    checked_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveResult:
    """One Save Page Now 2 request and what came of it."""

    url: str
    outcome: SaveOutcome
    requested_at: datetime
    job_id: str | None = None
    timestamp: str | None = None        # the capture's 14 digits when saved
    captured_at: datetime | None = None
    original_url: str | None = None     # after redirects, as SPN reports it
    replay_url: str | None = None
    status_ext: str | None = None       # SPN's error code, e.g. "error:too-many-daily-captures"
    message: str = ""
