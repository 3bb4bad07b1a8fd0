"""Compacted check history (checker.judge.state, "Compacted history"): runs of identical checks,
their check times, and the folding that ``citewatch prune`` does.

**Old history.** ``record_check`` folds repeated outcomes as they come, but a link that flips
between two outcomes (alive one night, a timeout the next) still adds a row per flip. Before
the cutoff of ``prune`` (``--keep``, and never later than the earliest of the ``CHARTED_RUNS``
check runs a report charts), each stretch of a link's rows without a failure becomes one row,
from its first check that ends a streak (alive, moved, drifted) to its last, standing for all
its checks; a stretch of neutral checks alone (blocked, unreachable, ...) becomes one row of
them. Failure runs keep every check's time. What the rules of checker.judge.state derive stays
exactly the same: a neutral check neither counts nor ends a streak, the first check that ends
one closes its outage (``down_periods``), the last one is ``last_ok``, and the link's latest row,
which gives ``latest``, and its last row before the cutoff (``latest`` there) stay the last
record of whatever they join. So states, ``k of n``, "failing since", outages and
"recovered" are unchanged at every moment from the cutoff on (every moment a report shows);
only a state at a moment inside an old stretch (which no report asks for) may differ. A year
of a flapping link costs the rows of the window, not a row per flip."""


from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

try:
    import fcntl
except ImportError:  # Windows: no run lock (see Store.run_lock)
    fcntl = None  # type: ignore[assignment]

from checker.judge.state import ENDS_STREAK, CheckRun, keeps_every_time, micros
from checker.models import Verdict
from checker.store.rows import parse_timestamp

# --- compacted history (checker.judge.state, "Compacted history") ---------------------------------------

#: A `since` for Store.histories that reads only what the current state needs.
CURRENT = datetime.max.replace(tzinfo=UTC)

SAME_OUTCOME = ("verdict", "status", "final_url")
ENDS_STREAK_VERDICTS = frozenset(Verdict(v) for v in ENDS_STREAK)
_VERDICTS = {str(v): v for v in Verdict}   # Verdict(text) as a lookup: once per stored run read

#: How many past check runs reports chart (their states must stay exact: ``prune`` leaves the
#: history from the earliest of them on as it is).
CHARTED_RUNS = 30


def run_times(first: str, repeats: int, times: str | None) -> list[datetime]:
    """Every check time of a run that keeps them (a single check: its own)."""
    at = parse_timestamp(first)
    if not times or repeats <= 1:
        return [at]
    # a year of nightly failures is a few hundred steps a link: one timedelta each, no parsing
    return [at, *(at + timedelta(microseconds=m)
                  for m in itertools.accumulate(map(int, times.split(","))))]


def encoded_times(times: list[datetime]) -> str | None:
    steps = [str(micros(b - a)) for a, b in itertools.pairwise(times)]
    return ",".join(steps) or None


def run_offsets(repeats: int, times: str | None) -> tuple[int, ...]:
    """``CheckRun.offsets`` of a stored run: its steps summed (in C: a year of nightly failures
    is a few hundred steps a link, and a report reads them all)."""
    if not times:
        return ()
    if repeats <= 1:
        return (0,)
    return (0, *itertools.accumulate(map(int, times.split(","))))


def check_run(row: Sequence[Any]) -> CheckRun:
    """A CheckRun from (checked_at, last_checked_at, verdict, repeats, times)."""
    first, last, verdict, repeats, times = row
    at = parse_timestamp(first)
    return CheckRun(
        first=at, last=at if not last or last == first else parse_timestamp(last),
        verdict=_VERDICTS[verdict], checks=repeats or 1, offsets=run_offsets(repeats or 1, times),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneOutcome:
    """What folding the history did (or would do, on a dry run)."""

    rows: int            # check rows before
    folded: int          # rows merged into the row of their run (their evidence dropped)
    checks: int          # checks the rows stand for (unchanged by folding)
    bytes_before: int
    bytes_after: int     # after VACUUM; equal to bytes_before on a dry run


def fold_runs(db: Database, *, before: str, dry_run: bool, count_totals: bool = False,
              stretches: bool = False) -> int:
    """Merge consecutive rows of a link with the same outcome whose checks all came before
    `before` into one row per run; return how many rows are (or would be) merged away.

    The kept row is the run's last (its evidence is the latest check's) and takes the first
    row's `checked_at` and `run_id`; failure runs concatenate their check times. With
    `count_totals`, every row's `checks_total` is computed afresh (the migration).

    With `stretches` (``citewatch prune``), every stretch of rows without a failure before
    `before` becomes one row too, whatever its verdicts (a link flapping between alive and a
    timeout makes a row a night otherwise): from its first check that ends a streak to its last
    (module docstring, "Old history"), or, with none, a row of its neutral checks. A link's
    last row before `before` stays the last record of whatever it joins."""
    link_ids = [r[0] for r in db.execute("select distinct link_id from checks order by link_id")]
    folded = 0
    for chunk in chunks(link_ids):
        rows = db.execute(
            "select id, link_id, checked_at, last_checked_at, run_id, repeats, times, "
            "checks_total, verdict, status, final_url from checks "
            f"where link_id in ({','.join('?' * len(chunk))}) order by link_id, checked_at, id",
            chunk).fetchall()
        updates: list[tuple[Any, ...]] = []
        deletes: list[int] = []
        for _, group in itertools.groupby(rows, key=operator.itemgetter(1)):
            if stretches:
                _fold_stretches(list(group), before, updates, deletes)
            else:
                _fold_link(list(group), before, count_totals, updates, deletes)
        folded += len(deletes)
        if dry_run:
            continue
        # Several updates of one kept row: the last written (the whole run) wins.
        db.conn.executemany(
            "update checks set checked_at = ?, run_id = ?, repeats = ?, times = ?, "
            "checks_total = ? where id = ?", updates)
        for piece in chunks(deletes):
            db.execute(f"delete from checks where id in ({','.join('?' * len(piece))})", piece)
    return folded


def _fold_link(rows: list[tuple[Any, ...]], before: str, count_totals: bool,
               updates: list[tuple[Any, ...]], deletes: list[int]) -> None:
    """The updates and deletions that fold one link's rows (see `fold_runs`)."""
    total = 0
    run: list[tuple[Any, ...]] = []
    run_total = 0

    def flush() -> None:
        if len(run) > 1:
            deletes.extend(r[0] for r in run[:-1])
        if len(run) > 1 or (run and count_totals):
            updates.append(_merged(run, run_total))

    for row in rows:
        total += row[5] or 1
        foldable = (row[3] or row[2]) < before
        if run and foldable and row[8:11] == run[-1][8:11]:
            run.append(row)
        else:
            flush()
            run = [row] if foldable else []
            if not foldable and count_totals:
                updates.append(_merged([row], total))
        run_total = total
    flush()


def _merged(run: list[tuple[Any, ...]], total: int) -> tuple[Any, ...]:
    """The update that makes a run's last row stand for the whole run."""
    first, last = run[0], run[-1]
    repeats = sum(r[5] or 1 for r in run)
    times = None
    if keeps_every_time(Verdict(first[8])):
        every = [at for r in run for at in run_times(r[2], r[5] or 1, r[6])]
        times = encoded_times(every)
    return (first[2], first[4], repeats, times, total, last[0])


def _fold_stretches(rows: list[tuple[Any, ...]], before: str, updates: list[tuple[Any, ...]],
                    deletes: list[int]) -> None:
    """The updates and deletions that fold one link's old rows: runs of the same failure as in
    `_fold_link`, and each stretch without a failure into one row (see `fold_runs`)."""
    group: list[tuple[Any, ...]] = []
    group_key: tuple[Any, ...] = ()
    group_total = 0
    total = 0

    def flush() -> None:
        if len(group) < 2:
            return
        if group_key[0] == "failure":
            deletes.extend(r[0] for r in group[:-1])
            updates.append(_merged(group, group_total))
            return
        ending = [r for r in group if Verdict(r[8]) in ENDS_STREAK_VERDICTS] or group
        kept = ending[-1]
        deletes.extend(r[0] for r in group if r is not kept)
        updates.append((ending[0][2], ending[0][4], sum(r[5] or 1 for r in group), None,
                        group_total, kept[0]))

    # The last row before `before` gives `latest` at the cutoff (the link's latest row, when no
    # check came since): it joins only a group that keeps it as the group's last record, a run
    # of its own failure or a stretch whose last check ending a streak it is.
    last_old = max((i for i, row in enumerate(rows) if (row[3] or row[2]) < before), default=-1)
    for index, row in enumerate(rows):
        total += row[5] or 1
        verdict = Verdict(row[8])
        old = index < last_old or (index == last_old and (
            verdict.is_failure or verdict in ENDS_STREAK_VERDICTS))
        if not old:
            flush()
            group = []
            continue
        key = ("failure", *row[8:11]) if verdict.is_failure else ("other",)
        if group and key == group_key:
            group.append(row)
        else:
            flush()
            group, group_key = [row], key
        group_total = total
    flush()


def chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """Pieces small enough for SQLite's limit on parameters per statement."""
    for i in range(0, len(items), size):
        yield items[i:i + size]

