"""``citewatch prune``: fold old rows of repeated checks and give the space back to the disk."""

from __future__ import annotations

from pathlib import Path

import click

from checker import settings as defaults
from checker.cli.options import DURATION, db_option, format_duration
from checker.errors import StoreError
from checker.store.database import open_store


@click.command("prune")
@db_option
@click.option("--keep", "keep_s", type=DURATION, default=format_duration(defaults.DEFAULT_HISTORY_KEEP_S),
              show_default=True,
              help="Rows of checks younger than this keep their own evidence.")
@click.option("--dry-run", is_flag=True, help="Say what would be folded; change nothing.")
def prune_command(db_path: Path, keep_s: float, dry_run: bool) -> None:
    """Fold rows of identical consecutive checks older than --keep into one row per run, and
    each old stretch without a failure (a link flipping between alive and a timeout) into one
    row, then VACUUM. Every time the confirmation rules need is kept: states, "failing since"
    and outages stay exactly as they were, and rows the report's chart of past runs reads are
    not touched. A check that repeats its link's latest
    outcome already extends that row as it is recorded; this folds rows written one per check
    by older versions, and gives the file's free pages back.

    \b
        citewatch prune --dry-run
    """
    if not db_path.exists():
        raise StoreError(f"{db_path}: no such database (run citewatch scan first)")
    with open_store(db_path) as store, store.run_lock():
        outcome = store.prune(keep_s=keep_s, dry_run=dry_run)
    runs = outcome.rows - outcome.folded
    if dry_run:
        click.echo(
            f"Would fold {outcome.folded:,} of {outcome.rows:,} check rows older than "
            f"{format_duration(keep_s)} into the rows of their runs, leaving {runs:,} rows for "
            f"{outcome.checks:,} checks: their evidence (reason, headers, timings) would go, "
            f"and the times of old checks without a failure that no state needs; every "
            f"failure's time and every state would stay. The database is "
            f"{_mb(outcome.bytes_before)}.", err=True)
        return
    click.echo(
        f"Folded {outcome.folded:,} of {outcome.rows:,} check rows: {runs:,} rows for "
        f"{outcome.checks:,} checks. Database {_mb(outcome.bytes_before)} -> "
        f"{_mb(outcome.bytes_after)}.", err=True)


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
