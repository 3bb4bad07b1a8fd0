"""
The state of a link, from its history of checks.

Every check is kept (the ``checks`` table is append-only); reports show a state derived from the
whole history, so that one bad night never turns a live citation into a dead one:

* **Failures** are the verdicts ``dead`` and ``soft-404`` (``Verdict.is_failure``). Consecutive
  failures form a *streak*; a link is ``dead`` (or ``soft-404``) only once its current streak has
  ``rule.count`` *counted* failures. Until then its state is ``failing`` and its label
  ``failing (k of n)``.
* **Spacing**: a failure is counted only when it comes at least ``rule.spacing`` after the
  previously counted one; failures closer together count once. The defaults follow
  InternetArchiveBot: three failing checks at least three days apart
  (``DEFAULT_CONFIRM_COUNT``, ``DEFAULT_CONFIRM_SPACING_S``). ``ConfirmRule(count=1)`` (a manual
  audit's ``--confirm 1``) confirms on the first failure.
* **Confirmed state** is the verdict of the latest failure: a streak ``dead, dead, soft-404``
  ends ``soft-404``; dead and soft-404 count together, both mean the page is gone.
* **Ending a streak**: an ``alive``, ``moved`` or ``drifted`` check proves the URL answers with a
  page; it ends the streak, even a confirmed one. A link that comes back is alive again.
* **Neutral checks**: ``blocked``, ``unreachable``, ``invalid`` and ``skipped`` neither count
  toward a streak nor end it. Unreachable is no evidence of death (a server outage) but no evidence
  of life either; a streak survives it, so ``dead, timeout, dead`` is two failures of one streak.
* **State** when no streak is open is the latest verdict (``alive``, ``moved``, ``drifted``,
  ``blocked``, ``unreachable``). When the latest check is ``invalid`` or ``skipped`` the state is
  that verdict whatever the streak: those speak of the URL and the configuration, not the page.
  A link with no checks is ``unchecked``.
* **Outages**: ``down_periods`` lists every streak, confirmed or not, as ``(first failure, first
  check that ended it)``; the last one ends with ``None`` while the link is still failing.

History may arrive in any order; it is sorted by ``checked_at``. Timestamps must be all aware
(UTC) or all naive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from checker.models import Verdict
from checker.settings import DEFAULT_CONFIRM_COUNT, DEFAULT_CONFIRM_SPACING_S


class State(StrEnum):
    """The state of a link in reports: a verdict, or "unchecked"/"failing"."""

    UNCHECKED = "unchecked"
    ALIVE = "alive"
    MOVED = "moved"
    FAILING = "failing"      # failed, not yet confirmed
    DEAD = "dead"            # confirmed
    SOFT_404 = "soft-404"    # confirmed
    BLOCKED = "blocked"
    DRIFTED = "drifted"
    UNREACHABLE = "unreachable"
    INVALID = "invalid"
    SKIPPED = "skipped"


_ENDS_STREAK = frozenset({Verdict.ALIVE, Verdict.MOVED, Verdict.DRIFTED})
_ABOUT_THE_URL = frozenset({Verdict.INVALID, Verdict.SKIPPED})


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """The part of a stored check that the history rules need."""

    checked_at: datetime
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class ConfirmRule:
    """How many spaced failures confirm a link dead."""

    count: int = DEFAULT_CONFIRM_COUNT
    spacing: timedelta = field(default_factory=lambda: timedelta(seconds=DEFAULT_CONFIRM_SPACING_S))

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"confirm count must be at least 1, not {self.count}")
        if self.spacing < timedelta(0):
            raise ValueError(f"confirm spacing must not be negative, not {self.spacing}")


DownPeriod = tuple[datetime, datetime | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkState:
    """What the history of a link says now (rules in the module docstring)."""

    state: State
    failing_count: int = 0                 # k: counted failures of the open streak
    needed: int = DEFAULT_CONFIRM_COUNT    # n: failures that confirm
    failing_since: datetime | None = None  # first failure of the open streak
    last_ok: datetime | None = None        # latest alive, moved or drifted check
    latest: CheckRecord | None = None
    down_periods: tuple[DownPeriod, ...] = ()

    @property
    def label(self) -> str:
        """``"failing (1 of 3)"`` while unconfirmed, else the state."""
        if self.state is State.FAILING:
            return f"failing ({self.failing_count} of {self.needed})"
        return str(self.state)

    @property
    def is_confirmed_failure(self) -> bool:
        return self.state in (State.DEAD, State.SOFT_404)


def state_of_latest(verdict: Verdict) -> State | None:
    """The state of a link whose latest check has `verdict`, when that check alone decides it
    (it ends any streak, or it speaks of the URL itself); None when the earlier checks count."""
    if verdict in _ENDS_STREAK or verdict in _ABOUT_THE_URL:
        return State(verdict.value)
    return None


def link_state(history: Sequence[CheckRecord], rule: ConfirmRule | None = None) -> LinkState:
    """The state of a link from all its checks (any order)."""
    rule = rule or ConfirmRule()
    if not history:
        return LinkState(state=State.UNCHECKED, needed=rule.count)
    records = sorted(history, key=lambda record: record.checked_at)

    counted: list[datetime] = []        # counted failures of the open streak
    last_failure: Verdict | None = None
    last_ok: datetime | None = None
    periods: list[DownPeriod] = []
    for record in records:
        if record.verdict.is_failure:
            if not counted:
                periods.append((record.checked_at, None))
                counted.append(record.checked_at)
            elif record.checked_at - counted[-1] >= rule.spacing:
                counted.append(record.checked_at)
            last_failure = record.verdict
        elif record.verdict in _ENDS_STREAK:
            if counted:
                periods[-1] = (periods[-1][0], record.checked_at)
            counted = []
            last_ok = record.checked_at

    latest = records[-1]
    if latest.verdict in _ABOUT_THE_URL:
        state = State(latest.verdict.value)
    elif counted and last_failure is not None:
        state = State(last_failure.value) if len(counted) >= rule.count else State.FAILING
    else:
        state = State(latest.verdict.value)
    return LinkState(
        state=state,
        failing_count=len(counted),
        needed=rule.count,
        failing_since=counted[0] if counted else None,
        last_ok=last_ok,
        latest=latest,
        down_periods=tuple(periods),
    )
