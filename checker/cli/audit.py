"""``citewatch audit``: scan, check, archive and report in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from checker import settings as defaults
from checker.cli.archive import (
    archive_max_age_option,
    archive_options,
    archive_settings_from,
)
from checker.cli.check import network_options, rule_from, settings_from
from checker.cli.config import Config
from checker.cli.exits import ExitCode
from checker.cli.options import (
    DURATION,
    archive_time,
    db_option,
    exclude_path_option,
    format_duration,
    is_quiet,
)
from checker.cli.report import emit_report, report_options
from checker.cli.scan import stdin_name_option
from checker.cli.state_policy import shared_policy
from checker.errors import ArchiveRefused
from checker.report.policy import Policy
from checker.run.archiving import run_archive
from checker.run.archiving import summary_line as archive_summary
from checker.run.check import run_check
from checker.run.check import summary_line as check_summary
from checker.run.progress import display
from checker.run.scan import scan_paths
from checker.store.database import open_store
from citations import DocumentFormat


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
                                 exclude_path=exclude_path, stdin_name=options["stdin_name"],
                                 user_agent=settings.user_agent,
                                 host_headers=settings.host_headers)
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
