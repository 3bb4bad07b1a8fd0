"""
Pick the capture that shows a page as it was when it was cited. Pure: no I/O, no clock.

The rule (InternetArchiveBot's "before the access date, then after", plus what we know about the
link): among captures taken no later than the day the link was first seen failing,

1. the closest 2xx capture at or before the target;
2. else the closest 2xx capture after it;
3. else a 3xx capture (before, then after), which replay.py follows to its target's capture.

A capture taken after the link was first seen failing is offered only when none of the above
exists: it may well be a capture of the broken page. ``rank_captures`` gives the whole order so
that the caller can fall back to the next candidate when a replay fails verification.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from archive.models import Capture
from archive.timestamps import as_utc

GOOD_STATUSES = frozenset({200, 203, 206})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def rank_captures(
    captures: Iterable[Capture], target: datetime, *, failing_since: datetime | None = None
) -> list[Capture]:
    """Usable captures, best first, following the rule in the module docstring."""
    target = as_utc(target)
    cutoff = as_utc(failing_since) if failing_since is not None else None

    def closest_first(items: Iterable[Capture]) -> list[Capture]:
        return sorted(items, key=lambda c: (abs((c.captured_at - target).total_seconds()),
                                            c.captured_at))

    usable = list(captures)
    early = [c for c in usable if cutoff is None or c.captured_at <= cutoff]
    good = [c for c in early if c.status_code in GOOD_STATUSES]
    moved = [c for c in early if c.status_code in REDIRECT_STATUSES]
    ranked = (
        closest_first(c for c in good if c.captured_at <= target)
        + closest_first(c for c in good if c.captured_at > target)
        + closest_first(c for c in moved if c.captured_at <= target)
        + closest_first(c for c in moved if c.captured_at > target)
    )
    if not good:
        late = [c for c in usable if c not in early and c.status_code in GOOD_STATUSES]
        ranked += sorted(late, key=lambda c: c.captured_at)   # nearest the failure first
    return ranked


def choose_capture(
    captures: Iterable[Capture], target: datetime, *, failing_since: datetime | None = None
) -> Capture | None:
    """The best capture for a citation, or None when no capture is usable."""
    ranked = rank_captures(captures, target, failing_since=failing_since)
    return ranked[0] if ranked else None


def distance_s(captured_at: datetime, target: datetime) -> int:
    """Signed seconds from the target to the capture (negative: taken before the target)."""
    return round((as_utc(captured_at) - as_utc(target)).total_seconds())
