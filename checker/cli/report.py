"""``citewatch report``, ``citewatch audit`` and ``citewatch fix``."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from checker import settings as defaults
from checker.cli.archive import (
    archive_max_age_option,
    archive_options,
    archive_settings_from,
)
from checker.cli.check import network_options, resolve_documents, rule_from, settings_from
from checker.cli.config import Config
from checker.cli.exits import ExitCode
from checker.cli.options import (
    DURATION,
    F,
    archive_time,
    db_option,
    document_option,
    exclude_path_option,
    format_duration,
    is_quiet,
)
from checker.cli.scan import stdin_name_option
from checker.cli.state_policy import shared_policy, shared_rule
from checker.errors import ArchiveRefused, StoreError
from checker.judge.state import ConfirmRule
from checker.report import ReportFormat, render_chunks
from checker.report.build import build_report, hide_states, only_states, with_paths_relative_to
from checker.report.model import STATES, StatePolicy
from checker.report.overrides import apply_overrides
from checker.report.policy import DEFAULT_FAIL_ON, Policy
from checker.report.repairs import repairs_for
from checker.report.to_terminal import TerminalStyle
from checker.run.archiving import run_archive
from checker.run.archiving import summary_line as archive_summary
from checker.run.check import run_check
from checker.run.check import summary_line as check_summary
from checker.run.progress import display
from checker.run.scan import scan_paths
from checker.store.database import Store, open_store
from citations import DocumentFormat
from citations.detect import decode_with_encoding
from citations.rewrite import Outcome, apply_repairs, unified_diff


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


def _confirm_options(f: F) -> F:
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
    # Written as rendered, about a megabyte at a time: a 100,000-link report's text is never
    # held whole (JSON and HTML come a citation or a row at a time).
    if output is not None:
        with output.open("w", encoding="utf-8") as out:
            for batch in _batches(pieces):
                out.write(batch)
    else:
        last = ""
        for batch in _batches(pieces):
            click.echo(batch, nl=False)
            last = batch
        if not last.endswith("\n"):
            click.echo("")
    failures = policy.failures(full)
    if failures:
        click.echo(f"{len(failures)} citation link(s) fail the policy "
                   f"({', '.join(sorted(policy.terms))}).", err=True)
    return ExitCode.POLICY if failures else ExitCode.OK


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
@_confirm_options
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


@click.command("audit")
@click.argument("paths", nargs=-1, required=True, metavar="PATHS...")
@db_option
@click.option("--glob", "globs", multiple=True, metavar="PATTERN",
              help="Pattern for files inside folders; repeatable.")
@click.option("--input-format", type=click.Choice([f.value for f in DocumentFormat]),
              help="Parse every document as this format instead of detecting it.")
@exclude_path_option
@stdin_name_option
@click.option("--max-age", type=DURATION, default=format_duration(defaults.DEFAULT_MAX_AGE_S),
              show_default=True, help="Re-check links whose last check is older than this.")
@network_options
@archive_max_age_option("--archive-max-age")
@archive_options
@click.option("--no-archive", is_flag=True, help="Do not look up archive captures.")
@report_options
@click.pass_obj
def audit(config: Config | None, /, paths: tuple[str, ...], db_path: Path, globs: tuple[str, ...],
          input_format: str | None, exclude_path: tuple[str, ...], max_age: float,
          no_archive: bool, fmt: str, style: str, output: Path | None, only: tuple[str, ...],
          all_rows: bool, fail_on: Policy, **options: Any) -> None:
    """Scan, check, find captures and report, in one command.

    PATHS are what scan takes: files, folders, - (standard input) or http(s) URLs.
    Works on a fresh database or an existing one (--db), whose history it extends. For a one-off
    audit, --confirm 1 calls a link dead on its first failing check.

    \b
        citewatch audit report.txt --confirm 1
        citewatch audit docs/ --db citewatch.db --format html -o report.html
    """
    settings = settings_from(options, config)
    rule = rule_from(options)
    quiet = is_quiet()
    with open_store(db_path) as store:
        rule, used = shared_policy(store, rule)
        with display(quiet=quiet):   # one progress display for every stage
            scanned = scan_paths(store, list(paths), globs,
                                 DocumentFormat(input_format) if input_format else None,
                                 exclude_path=exclude_path, stdin_name=options["stdin_name"])
            # nothing readable: an empty report, not every document in the database
            document_ids = list(scanned.document_ids) or [-1]
            # --drift compares with the captures an earlier audit (or archive --drift) found
            pace = archive_time()
            summary = run_check(store, settings, rule, max_age_s=max_age,
                                document_ids=document_ids, limit=None, quiet=quiet,
                                drift=archive_settings_from(options) if options["drift"] else None,
                                archive_clock=pace.clock, archive_sleep=pace.sleep)
            click.echo(check_summary(summary), err=True)
            stopped = None
            if not no_archive:
                with store.run_lock():  # as archive takes it: no other run repeats the lookups
                    archived = run_archive(store, archive_settings_from(options), rule,
                                           document_ids=document_ids,
                                           max_age_s=options["archive_max_age"],
                                           save=options["save"], drift=options["drift"],
                                           overrides=(config or Config()).links,
                                           clock=pace.clock, sleep=pace.sleep)
                click.echo(archive_summary(archived), err=True)
                stopped = archived.stopped
        code = emit_report(store, rule, document_ids=document_ids, fmt=fmt, output=output,
                           only=only, policy=fail_on, config=config, all_rows=all_rows,
                           style=style, state_policy=used)
    if stopped:
        raise ArchiveRefused(
            f"archive lookups stopped early, everything found so far is saved: {stopped}")
    if scanned.failures:
        raise SystemExit(ExitCode.INPUT)
    raise SystemExit(code)


@click.command("fix")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the repaired copy here.")
@click.option("--in-place", is_flag=True, help="Rewrite PATH itself.")
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
@click.option("--update-moved", is_flag=True, help="Also replace moved links by their new URL.")
@click.option("--robust-links", is_flag=True,
              help="Keep links pointing at the original and add the capture beside them: "
                   "Robust Links attributes in HTML, an \"[archived DATE: URL]\" note in Markdown.")
@_confirm_options
@click.pass_obj
def fix_command(config: Config | None, /, path: Path, db_path: Path, output: Path | None,
                in_place: bool, dry_run: bool, update_moved: bool, robust_links: bool, confirm: int,
                confirm_spacing: float) -> None:
    """Write a copy of PATH whose lost citations carry their archive capture.

    In text the capture follows the URL ("[archived 2022-11-16: https://web.archive.org/…]"); in
    Markdown and HTML the link points at the capture and keeps the original. With
    --robust-links the link keeps pointing at the original instead: HTML gains
    data-originalurl, data-versionurl and data-versiondate (robustlinks.mementoweb.org), Markdown
    an "[archived DATE: <capture>]" note. Nothing else in the document changes. Run audit (or
    scan, check, archive) first.

    \b
        citewatch fix report.md --output report.fixed.md
        citewatch fix page.html --robust-links --in-place
        citewatch fix report.md --dry-run
    """
    if sum((output is not None, in_place, dry_run)) != 1:
        raise click.UsageError("give exactly one of --output FILE, --in-place or --dry-run")
    if not db_path.exists():
        raise StoreError(f"{db_path}: no such database (run citewatch audit first)")
    data = path.read_bytes()
    rule = ConfirmRule(count=confirm, spacing=timedelta(seconds=confirm_spacing))
    with open_store(db_path) as store:
        rule = shared_rule(store, rule)
        doc_id = store.document_id(str(path.resolve()))
        if doc_id is None:
            raise click.UsageError(f"{path} is not in {db_path} (run citewatch audit {path} first)")
        stored = store.document(doc_id)
        report = apply_overrides(build_report(store, rule, document_ids=[doc_id]),
                                 (config or Config()).links)
    if hashlib.sha256(data).hexdigest() != stored.content_hash:
        raise click.UsageError(f"{path} changed since it was scanned (run citewatch scan {path})")
    repairs = repairs_for(report, update_moved=update_moved)
    text, encoding = decode_with_encoding(str(path), data)  # line endings kept as they are
    result = apply_repairs(text, DocumentFormat(stored.format), repairs,
                           robust_links=robust_links)
    counts = {o: sum(1 for r in result.outcomes if r.outcome == o) for o in Outcome}
    click.echo(", ".join(f"{n} {o}" for o, n in counts.items() if n) or "nothing to repair",
               err=True)
    if dry_run:
        click.echo(unified_diff(text, result.text, str(path)), nl=False)
        return
    target = path if in_place else output
    assert target is not None
    if in_place and result.text == text:
        return
    target.write_bytes(result.text.encode(encoding))

