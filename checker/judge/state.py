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
(UTC) or all naive; a state's times are the same instants, naive for naive timestamps (aware
ones may come back in UTC).

**Compacted history.** The store keeps a *run* of identical consecutive checks (same verdict,
status and final URL) as one row (``CheckRun``): its first and last time, how many checks, and,
for failures only, the time of every check in it. ``run_records`` turns a run back into the
records that give exactly the state the checks themselves give:

* A run of **failures** keeps every check's time. The spacing rule counts a failure by its
  distance to the previously *counted* one, so which failures count depends on the times and on
  the rule, and the rule is chosen per command (``--confirm``, ``--confirm-spacing``): keeping
  only the times counted under one rule, or first/last/count, would give another rule another
  count: four failures from day 0 to day 6 count 2 at days 0, 1, 5, 6 and 3 at days 0, 3, 4,
  6 under the default rule (3 days apart). Every time is kept instead, as deltas
  in microseconds (about 12 bytes a check, against a full row's 300 or more), so ``k of n``,
  "failing since", confirmation and ``down_periods`` are the same for every rule, at every moment.
* A run of **alive, moved or drifted** checks keeps its first and last check. The first ends any
  streak (the end of a down period); the ones after it find no open streak (nothing to end or
  count) and only move ``last_ok``, which the last one sets. First and last give the same state,
  ``last_ok``, ``latest`` and ``down_periods`` as the whole run.
* A run of **neutral** checks (blocked, unreachable, invalid, skipped) keeps its first and last
  check: neutral checks neither count nor end a streak, so the ones after the first change
  nothing but ``latest``, which the last one sets; at a moment inside the run the state is the
  one its first check gave.

So ``link_state`` of the records of a link's runs equals ``link_state`` of its checks (tested on
random histories in ``tests/test_history_compaction.py``); at a past moment inside a run of
alive checks only ``last_ok`` may be earlier (the report uses the state alone there).

A state at or after a moment ``t`` needs no run before the link's last alive, moved or drifted
run that began before ``t``: that check ended every earlier streak, and set ``last_ok`` anew. This
is how the store reads only the history a report shows (``Store.histories(since=...)``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import NamedTuple

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

    @property
    def is_lost(self) -> bool:
        """The cited page is gone or changed (dead, soft-404, drifted): it wants an archive capture."""
        return self in _LOST_STATES

    @property
    def is_problem(self) -> bool:
        """Something a reader should look at: every state but ``alive`` and those that judged no
        page (``unchecked``, ``skipped``). The one definition for host tables (checker.report)
        and for ``--fail-on problems`` (checker.report.policy: these never fail a run)."""
        return self not in NOT_A_PROBLEM


#: States that are no problem (``State.is_problem``): a live page, or no page judged.
NOT_A_PROBLEM = frozenset({State.ALIVE, State.UNCHECKED, State.SKIPPED})
_LOST_STATES = frozenset({State.DEAD, State.SOFT_404, State.DRIFTED})


_ENDS_STREAK = frozenset({Verdict.ALIVE, Verdict.MOVED, Verdict.DRIFTED})
#: The verdicts that end a streak, for the store's "history since" reads (module docstring).
ENDS_STREAK = tuple(sorted(str(v) for v in _ENDS_STREAK))
_ABOUT_THE_URL = frozenset({Verdict.INVALID, Verdict.SKIPPED})
#: The state each verdict names (a lookup: the report folds every link through ``_Fold.state``).
_STATE_OF = {verdict: State(verdict.value) for verdict in Verdict
             if verdict.value in {state.value for state in State}}


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """The part of a stored check that the history rules need."""

    checked_at: datetime
    verdict: Verdict


class CheckRun(NamedTuple):
    """Identical consecutive checks of a link, as the store keeps them (module docstring).

    A named tuple (immutable, made at once): a report reads one per stored run of every link,
    and a frozen dataclass set each field with an ``object.__setattr__``."""

    first: datetime
    last: datetime
    verdict: Verdict
    checks: int = 1   # how many checks the run stands for
    #: Failures: every check's time, as microseconds after ``first`` (0 and the last's included).
    #: Integers, as the store keeps them: a report reads a year of failures for every link, and
    #: a datetime for each check was most of that cost.
    offsets: tuple[int, ...] = ()

    @property
    def times(self) -> tuple[datetime, ...]:
        """``offsets`` as datetimes (empty when the run keeps no times)."""
        return tuple(self.first + timedelta(microseconds=offset) for offset in self.offsets)


def micros(delta: timedelta) -> int:
    """A timedelta in whole microseconds (exact: no float on the way)."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def offsets_of(times: Sequence[datetime]) -> tuple[int, ...]:
    """``CheckRun.offsets`` for checks at ``times`` (ascending)."""
    return tuple(micros(at - times[0]) for at in times)


def keeps_every_time(verdict: Verdict) -> bool:
    """Whether a run of `verdict` keeps the time of each of its checks (failures do)."""
    return verdict.is_failure


def run_records(run: CheckRun) -> list[CheckRecord]:
    """The records that stand for a run in ``link_state`` (module docstring)."""
    return [CheckRecord(run.first + timedelta(microseconds=offset), run.verdict)
            for offset in _run_offsets(run)]


def history_of(runs: Sequence[CheckRun]) -> list[CheckRecord]:
    """The records of a link's runs, for ``link_state``."""
    return [record for run in runs for record in run_records(run)]


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
    fold = _Fold(rule)
    for record in sorted(history, key=lambda record: record.checked_at):
        fold.add(record)
    return fold.result()


def states_at(history: Sequence[CheckRecord], moments: Sequence[datetime],
              rule: ConfirmRule | None = None) -> list[State]:
    """The state at each of `moments` (ascending) from the checks made by then: one pass, the
    same as ``link_state`` of each prefix (the report's chart of past runs)."""
    fold = _Fold(rule or ConfirmRule())
    records = sorted(history, key=lambda record: record.checked_at)
    out = []
    i = 0
    for moment in moments:
        while i < len(records) and records[i].checked_at <= moment:
            fold.add(records[i])
            i += 1
        out.append(fold.state())
    return out


def fold_runs(runs: Sequence[CheckRun], moments: Sequence[datetime] = (),
              rule: ConfirmRule | None = None) -> tuple[LinkState, list[State]]:
    """``link_state(history_of(runs))`` and ``states_at(history_of(runs), moments)`` in one pass,
    without a record per check: what a report needs of each link (see `RunFolder`)."""
    return RunFolder(moments, rule)(runs)


class RunFolder:
    """`fold_runs` at the same `moments` for link after link (a report's charted runs; none
    for the state now, as the report, the archive step, the end of a check run and the
    ``link_states`` table ask it): the moments are put in the fold's integer time once, not once
    a link.

    A link that has been failing for a year keeps the time of every failure (the spacing rule
    needs them), and a record and a method call for each made the report's fold cost grow with
    the nights; here a run's times are folded in a tight loop, a stretch between two charted
    moments at a time. Runs that overlap in time (never written by the store, but possible in a
    hand-edited database) take the record path, so the answer is always ``link_state``'s."""

    __slots__ = ("marks", "moments", "origin", "rule")

    def __init__(self, moments: Sequence[datetime] = (), rule: ConfirmRule | None = None) -> None:
        self.rule = rule or ConfirmRule()
        self.moments = moments
        self.origin = _origin_for(moments[0]) if moments else None
        self.marks = ([micros(moment - self.origin) for moment in moments]
                      if self.origin is not None else [])

    def __call__(self, runs: Sequence[CheckRun]) -> tuple[LinkState, list[State]]:
        rule, moments, marks = self.rule, self.moments, self.marks
        if len(runs) == 1 and not marks and not runs[0].verdict.is_failure and not runs[0].offsets:
            return _one_run_state(runs[0], rule), []
        ordered = runs if len(runs) < 2 else sorted(runs, key=lambda run: run.first)
        if len(ordered) > 1 and any(later.first < earlier.last
                                    for earlier, later in pairwise(ordered)):
            history = history_of(ordered)
            return link_state(history, rule), states_at(history, moments, rule)
        fold = _Fold(rule, origin=self.origin)
        out: list[State] = []
        m, n_moments = 0, len(marks)
        for run in ordered:
            base, offsets = fold.offset(run.first), _run_offsets(run)
            start = 0
            while start < len(offsets):
                while m < n_moments and marks[m] < base + offsets[start]:
                    out.append(fold.state())
                    m += 1
                end = (len(offsets) if m == n_moments
                       else bisect_right(offsets, marks[m] - base, lo=start))
                fold.add_times(base, offsets, start, end, run.verdict)
                start = end
        out.extend(fold.state() for _ in range(m, n_moments))
        return fold.result(), out


def _one_run_state(run: CheckRun, rule: ConfirmRule) -> LinkState:
    """What the fold gives a link whose history is one run without a failure (most links: alive
    all along), without folding: no streak, so the state is its verdict's, and its checks set
    ``latest`` and, when they end streaks, ``last_ok``."""
    latest = CheckRecord(run.first if run.checks == 1 else run.last, run.verdict)
    return LinkState(state=_STATE_OF[run.verdict], needed=rule.count, latest=latest,
                     last_ok=latest.checked_at if run.verdict in _ENDS_STREAK else None)


_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)


def _origin_for(at: datetime) -> datetime:
    """Time zero of the fold's integer time: the epoch, naive for naive times, else in UTC
    (aware times come back from a fold in UTC: the same instants)."""
    return _EPOCH if at.tzinfo is None else _EPOCH_UTC


def _run_offsets(run: CheckRun) -> Sequence[int]:
    """The times that stand for a run's checks (module docstring), as offsets from its first:
    every check's for a run that keeps them, else its first and last."""
    if run.offsets:
        return run.offsets
    if run.checks == 1 or run.last == run.first:
        return (0,)
    return (0, micros(run.last - run.first))


class _Fold:
    """The rules of the module docstring, one check at a time (in time order).

    Times are kept as integer microseconds after ``origin`` (`_origin_for`): a link's history
    is folded for every report, and integers cost a fraction of datetimes. ``result`` turns them
    back into datetimes: naive for naive times, else in UTC (the same instants)."""

    __slots__ = ("counted", "last_failure", "last_ok", "latest_at", "latest_verdict", "origin",
                 "periods", "rule", "spacing")

    def __init__(self, rule: ConfirmRule, origin: datetime | None = None) -> None:
        self.rule = rule
        self.spacing = micros(rule.spacing)
        self.origin = origin
        self.counted: list[int] = []             # counted failures of the open streak
        self.last_failure: Verdict | None = None
        self.last_ok: int | None = None
        self.periods: list[tuple[int, int | None]] = []
        self.latest_at: int | None = None
        self.latest_verdict: Verdict | None = None

    def offset(self, at: datetime) -> int:
        """``at`` in the fold's integer time."""
        if self.origin is None:
            self.origin = _origin_for(at)
        return micros(at - self.origin)

    def add(self, record: CheckRecord) -> None:
        self.add_times(self.offset(record.checked_at), (0,), 0, 1, record.verdict)

    def add_times(self, base: int, offsets: Sequence[int], start: int, end: int,
                  verdict: Verdict) -> None:
        """``add`` of a check with ``verdict`` at each of ``base + offsets[start:end]``
        (ascending)."""
        if verdict.is_failure:
            counted, spacing = self.counted, self.spacing
            i = start
            if not counted:   # a streak opens
                self.periods.append((base + offsets[i], None))
                counted.append(base + offsets[i])
                i += 1
            # Each next counted failure is the first at least `spacing` after the last counted:
            # found by bisection, not by visiting each of a year of nightly failures.
            while i < end:
                i = bisect_left(offsets, counted[-1] + spacing - base, i, end)
                if i < end:
                    counted.append(base + offsets[i])
                    i += 1
            self.last_failure = verdict
        elif verdict in _ENDS_STREAK:
            if self.counted:   # the first check of the run ends the streak; the rest find none
                self.periods[-1] = (self.periods[-1][0], base + offsets[start])
            self.counted = []
            self.last_ok = base + offsets[end - 1]
        self.latest_at, self.latest_verdict = base + offsets[end - 1], verdict

    def state(self) -> State:
        latest = self.latest_verdict
        if latest is None:
            return State.UNCHECKED
        if latest in _ABOUT_THE_URL:
            return _STATE_OF[latest]
        if self.counted and self.last_failure is not None:
            return (_STATE_OF[self.last_failure] if len(self.counted) >= self.rule.count
                    else State.FAILING)
        return _STATE_OF[latest]

    def result(self) -> LinkState:
        counted, origin = self.counted, self.origin

        def at(offset: int) -> datetime:
            assert origin is not None   # set by the first check
            return origin + timedelta(microseconds=offset)

        latest = (None if self.latest_at is None or self.latest_verdict is None
                  else CheckRecord(at(self.latest_at), self.latest_verdict))
        return LinkState(
            state=self.state(),
            failing_count=len(counted),
            needed=self.rule.count,
            failing_since=at(counted[0]) if counted else None,
            last_ok=None if self.last_ok is None else at(self.last_ok),
            latest=latest,
            down_periods=tuple((at(start), None if end is None else at(end))
                               for start, end in self.periods),
        )
