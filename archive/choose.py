"""
Pick the capture that shows a page as it was when it was cited. Pure: no I/O, no clock.

A citation is dated by a moment or by a period: a day ("accessed November 16, 2022"), a month
("January 2023"), a season, a year ("2021") or a range ("September–December 2012"). The author
saw the page at some time in that period, and we cannot know when, so **a capture inside the
period is as good as one on the exact day**: nothing in the citation prefers one of them. Among
captures inside it, the latest wins: a page is cited after it is published, and the latest
capture in the period is the one nearest to the end, like "the closest at or before" for a day.
Outside the period the rule for a single date applies to the period as a whole (this is
InternetArchiveBot's "before the access date, then after", plus what we know about the link):
among captures taken no later than the day the link was first seen failing,

1. the 2xx captures inside the period, latest first;
2. then the 2xx captures before it, closest to its start first;
3. then the 2xx captures after it, closest to its end first;
4. then 3xx captures in the same order, which replay.py follows to their target's capture.

A day is a period of one day (00:00:00 to 23:59:59 UTC), so a capture taken that afternoon is
inside it. A capture taken after the link was first seen failing comes after all of the above
(it may well be a capture of the broken page, which replay verification then rejects): 2xx ones
first, nearest the failure first, then redirect captures in the same order. ``rank_captures`` gives the whole
order so that the caller can fall back to the next candidate when a replay fails verification.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from archive.models import Capture
from archive.timestamps import as_utc

GOOD_STATUSES = frozenset({200, 203, 206})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def rank_captures(
    captures: Iterable[Capture], target: datetime, *, failing_since: datetime | None = None,
    start: datetime | None = None,
) -> list[Capture]:
    """Usable captures, best first, for a citation dated ``start``..``target`` (a single moment
    when ``start`` is None), following the rule in the module docstring."""
    end = as_utc(target)
    begin = min(as_utc(start), end) if start is not None else end
    cutoff = as_utc(failing_since) if failing_since is not None else None

    def in_order(items: list[Capture]) -> list[Capture]:
        inside = [c for c in items if begin <= c.captured_at <= end]
        before = [c for c in items if c.captured_at < begin]
        after = [c for c in items if c.captured_at > end]
        return (sorted(inside, key=lambda c: c.captured_at, reverse=True)
                + sorted(before, key=lambda c: c.captured_at, reverse=True)
                + sorted(after, key=lambda c: c.captured_at))

    usable = list(captures)
    early = [c for c in usable if cutoff is None or c.captured_at <= cutoff]
    good = [c for c in early if c.status_code in GOOD_STATUSES]
    moved = [c for c in early if c.status_code in REDIRECT_STATUSES]
    ranked = in_order(good) + in_order(moved)
    # Last, nearest the failure first; a late redirect capture after the late pages.
    late = sorted((c for c in usable if c not in early), key=lambda c: c.captured_at)
    ranked += [c for c in late if c.status_code in GOOD_STATUSES]
    ranked += [c for c in late if c.status_code in REDIRECT_STATUSES]
    return ranked


def choose_capture(
    captures: Iterable[Capture], target: datetime, *, failing_since: datetime | None = None,
    start: datetime | None = None,
) -> Capture | None:
    """The best capture for a citation, or None when no capture is usable."""
    ranked = rank_captures(captures, target, failing_since=failing_since, start=start)
    return ranked[0] if ranked else None


def distance_s(captured_at: datetime, target: datetime) -> int:
    """Signed seconds from the target to the capture (negative: taken before the target)."""
    return round((as_utc(captured_at) - as_utc(target)).total_seconds())
