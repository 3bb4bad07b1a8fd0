"""``citewatch report``, and the report options and output that ``audit`` shares."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import click

from checker import settings as defaults
from checker.cli.config import Config
from checker.cli.exits import ExitCode
from checker.cli.options import (
    DURATION,
    F,
    db_option,
    document_option,
    format_duration,
    output_file,
    resolve_documents,
)
from checker.cli.state_policy import shared_policy
from checker.errors import StoreError
from checker.judge.state import ConfirmRule
from checker.report import ReportFormat, render_chunks
from checker.report.build import build_report, hide_states, only_states, with_paths_relative_to
from checker.report.model import STATES, StatePolicy
from checker.report.overrides import apply_overrides
from checker.report.policy import DEFAULT_FAIL_ON, Policy
from checker.report.to_terminal import TerminalStyle
from checker.store.database import Store, open_store


def _policy(ctx: click.Context, param: click.Parameter, value: str) -> Policy:
    try:
        return Policy.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _states(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    states = tuple(s.strip() for s in (value or "").split(",") if s.strip())
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise click.BadParameter(f"unknown state {', '.join(unknown)} (known: {', '.join(STATES)})")
    return states


def report_options(f: F) -> F:
    for option in reversed([
        click.option("--format", "fmt", type=click.Choice([f.value for f in ReportFormat]),
                     default="terminal", show_default=True, help="Report (output) format."),
        click.option("--style", type=click.Choice(["auto", *(s.value for s in TerminalStyle)]),
                     default="auto", show_default=True,
                     help="Terminal format: 'table', or 'lines' (one line per problem, for CI "
                          "logs); auto: lines when the output is not a terminal or CI is set."),
        click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the report to this file instead of standard output."),
        click.option("--only", callback=_states, metavar="STATES",
                     help="Only rows in these states, comma-separated (e.g. dead,soft-404)."),
        click.option("--all", "all_rows", is_flag=True,
                     help="Also list alive and skipped rows (left out by default; the summary "
                          "counts them; JUnit always lists every row)."),
        click.option("--fail-on", callback=_policy, default=DEFAULT_FAIL_ON, show_default=True,
                     metavar="POLICY",
                     help="Exit 1 when a citation matches: dead-unarchived, lost, any, none, or "
                          "state names, comma-separated."),
    ]):
        f = option(f)
    return f


def confirm_options(f: F) -> F:
    f = click.option("--confirm-spacing", type=DURATION,
                     default=format_duration(defaults.DEFAULT_CONFIRM_SPACING_S),
                     show_default=True)(f)
    return click.option("--confirm", type=click.IntRange(1), default=defaults.DEFAULT_CONFIRM_COUNT,
                        show_default=True,
                        help="Failing checks that confirm a link dead.")(f)


def terminal_style(style: str, *, to_terminal: bool, ci: bool) -> TerminalStyle:
    """``--style``: as given, or for ``auto`` a table for a person at a terminal and one line
    per problem for CI logs and files (lychee's compact and detailed outputs, chosen alike)."""
    if style != "auto":
        return TerminalStyle(style)
    return TerminalStyle.TABLE if to_terminal and not ci else TerminalStyle.LINES


def emit_report(store: Store, rule: ConfirmRule, *, document_ids: list[int] | None, fmt: str,
                output: Path | None, only: tuple[str, ...], policy: Policy,
                config: Config | None = None, all_rows: bool = False, style: str = "auto",
                state_policy: StatePolicy | None = None) -> int:
    """Render the report where asked and return the exit code the policy gives.

    Rows: ``only`` keeps those states; else alive and skipped rows are left out unless
    ``all_rows``. JUnit gets every row, so its failures are exactly what the exit code counts.
    Document paths are shown relative to the current folder."""
    with _no_cycle_collection():
        full = apply_overrides(build_report(store, rule, document_ids=document_ids),
                               (config or Config()).links)
        full = with_paths_relative_to(full, Path.cwd())
        if state_policy is not None:
            full = replace(full, summary=replace(full.summary, state_policy=state_policy))
        if fmt == ReportFormat.JUNIT or (all_rows and not only):
            report = full
        else:
            report = only_states(full, only) if only else hide_states(full)
        to_terminal = output is None and sys.stdout.isatty()
        width = shutil.get_terminal_size((100, 24)).columns if to_terminal else None
        pieces = render_chunks(
            report, ReportFormat(fmt), width=width,
            color=to_terminal and fmt == "terminal" and not os.environ.get("NO_COLOR"),
            fail_on=policy.fails,   # JUnit's failures: what makes the exit code 1
            style=terminal_style(style, to_terminal=to_terminal, ci=bool(os.environ.get("CI"))))
        # Written as rendered, about a megabyte at a time: a 100,000-link report's text is
        # never held whole (JSON and HTML come a citation or a row at a time).
        if output is not None:
            with output_file(output) as out:
                for batch in _batches(pieces):
                    out.write(batch)
        else:
            last = ""
            # JSON escapes every control character: no terminal code to strip from it, and
            # click.echo's stripping (for output not bound for a terminal; color=True skips it)
            # is a regex over every byte of it.
            raw = True if fmt == ReportFormat.JSON else None
            for batch in _batches(pieces):
                click.echo(batch, nl=False, color=raw)
                last = batch
            if not last.endswith("\n"):
                click.echo("")
        failures = policy.failures(full)
        if failures:
            click.echo(f"{len(failures)} citation link(s) fail the policy "
                       f"({', '.join(sorted(policy.terms))}).", err=True)
        return ExitCode.POLICY if failures else ExitCode.OK


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a report is built and written: the report is a
    large graph of objects without cycles (100,000 links make millions), and each full
    collection walked all of it, several times over (0.6 s of a 100,000-link report's 7).
    Reference counting still frees everything else as it goes; any cycles are collected after."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _batches(pieces: Iterable[str], size: int = 1 << 20) -> Iterator[str]:
    """The pieces joined into strings of about `size` characters (one write each)."""
    batch: list[str] = []
    length = 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(batch)
            batch, length = [], 0
    if batch:
        yield "".join(batch)


@click.command("report")
@db_option
@document_option
@report_options
@confirm_options
@click.pass_obj
def report_command(config: Config | None, /, db_path: Path, documents: tuple[str, ...], fmt: str,
                   style: str, output: Path | None, only: tuple[str, ...], all_rows: bool,
                   fail_on: Policy, confirm: int, confirm_spacing: float) -> None:
    """Report the state of every cited link, with captures and suggested fixes.

    Problems come first; alive and skipped rows are left out unless --all (the summary counts
    every row). The terminal format is a table on a terminal and one line per problem in CI
    logs (--style). Exit status: 0 when nothing fails the --fail-on policy, 1 when something
    does (2 usage, 3 unreadable input, 4 operational failure).

    \b
        citewatch report --format markdown --only dead,soft-404 >> "$GITHUB_STEP_SUMMARY"
        citewatch report --all --style table
    """
    if not db_path.exists():
        raise StoreError(f"{db_path}: no such database (run citewatch scan first)")
    rule = ConfirmRule(count=confirm, spacing=timedelta(seconds=confirm_spacing))
    with open_store(db_path) as store:
        rule, used = shared_policy(store, rule)
        code = emit_report(store, rule, document_ids=resolve_documents(store, documents), fmt=fmt,
                           output=output, only=only, policy=fail_on, config=config,
                           all_rows=all_rows, style=style, state_policy=used)
    raise SystemExit(code)
