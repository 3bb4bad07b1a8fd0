"""Compacted check history (checker.judge.state, "Compacted history"): runs of identical checks,
their check times, and the folding that ``citewatch prune`` does."""


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

from checker.judge.state import CheckRun, keeps_every_time
from checker.models import Verdict
from checker.store.rows import parse_timestamp

# --- compacted history (checker.judge.state, "Compacted history") ---------------------------------------

#: A `since` for Store.histories that reads only what the current state needs.
CURRENT = datetime.max.replace(tzinfo=UTC)

SAME_OUTCOME = ("verdict", "status", "final_url")


def micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def run_times(first: str, repeats: int, times: str | None) -> list[datetime]:
    """Every check time of a run that keeps them (a single check: its own)."""
    at = parse_timestamp(first)
    out = [at]
    if times and repeats > 1:
        for step in times.split(","):
            at += timedelta(microseconds=int(step))
            out.append(at)
    return out


def encoded_times(times: list[datetime]) -> str | None:
    steps = [str(micros(b - a)) for a, b in itertools.pairwise(times)]
    return ",".join(steps) or None


def check_run(row: Sequence[Any]) -> CheckRun:
    """A CheckRun from (checked_at, last_checked_at, verdict, repeats, times)."""
    first, last, verdict, repeats, times = row
    v = Verdict(verdict)
    return CheckRun(
        first=parse_timestamp(first), last=parse_timestamp(last or first), verdict=v, count=repeats or 1,
        times=tuple(run_times(first, repeats or 1, times)) if times else (),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneOutcome:
    """What folding the history did (or would do, on a dry run)."""

    rows: int            # check rows before
    folded: int          # rows merged into the row of their run (their evidence dropped)
    checks: int          # checks the rows stand for (unchanged by folding)
    bytes_before: int
    bytes_after: int     # after VACUUM; equal to bytes_before on a dry run


def fold_runs(db: Database, *, before: str, dry_run: bool, count_totals: bool = False) -> int:
    """Merge consecutive rows of a link with the same outcome whose checks all came before
    `before` into one row per run; return how many rows are (or would be) merged away.

    The kept row is the run's last (its evidence is the latest check's) and takes the first
    row's `checked_at` and `run_id`; failure runs concatenate their check times. With
    `count_totals`, every row's `checks_total` is computed afresh (the migration)."""
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

def chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """Pieces small enough for SQLite's limit on parameters per statement."""
    for i in range(0, len(items), size):
        yield items[i:i + size]

