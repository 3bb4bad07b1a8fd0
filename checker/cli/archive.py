"""``citewatch archive``: find the capture each lost citation needs; save live pages on request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from archive import (
    MEMENTO_ARCHIVES,
    ArchiveSettings,
    MementoArchive,
    known_archives,
    memento_aggregator,
    parse_memento_archive,
    settings_from_env,
)
from archive.settings import (
    DEFAULT_LOOKUP_PER_MIN,
    DEFAULT_MAX_CONSECUTIVE_429,
    DEFAULT_MEMENTO_MAX_FAILURES,
    DEFAULT_MEMENTO_TIMEOUT_S,
    DEFAULT_PAUSE_ON_429_S,
    DEFAULT_PER_HOST_CONNECTIONS,
)
from checker import settings as defaults
from checker.cli.config import Config
from checker.cli.options import (
    DURATION,
    F,
    archive_time,
    db_option,
    document_option,
    format_duration,
    resolve_documents,
)
from checker.cli.state_policy import shared_rule
from checker.errors import ArchiveRefused, StoreError
from checker.judge.state import ConfirmRule
from checker.run.archiving import run_archive, summary_line
from checker.store.database import open_store

DEFAULT_ARCHIVE_MAX_AGE_S = 30 * 86400.0


def archive_options(f: F) -> F:
    for option in reversed([
        click.option("--drift", is_flag=True,
                     help="Also find the capture of each live link's cited date, for check "
                          "--drift to compare the live page with."),
        click.option("--save", is_flag=True,
                     help="Also ask Save Page Now to capture live links that have no capture "
                          "(keys from IA_ACCESS_KEY / IA_SECRET_KEY; anonymous without them)."),
        click.option("--cdx-per-minute", "cdx_per_minute", type=click.IntRange(1),
                     default=DEFAULT_LOOKUP_PER_MIN, show_default=True,
                     help="Archive lookups (CDX, availability) per minute."),
        click.option("--save-per-minute", "save_per_minute", type=click.IntRange(1),
                     help="Save Page Now captures per minute (default: 6 with keys, 2 without)."),
        click.option("--archive-per-host", "archive_per_host", type=click.IntRange(1),
                     default=DEFAULT_PER_HOST_CONNECTIONS, show_default=True,
                     help="Requests (and connections) at once to each archive host; archive.org "
                          "answers more than 3-4 from one address with 429."),
        click.option("--pause-on-429", "pause_on_429", type=click.FloatRange(60),
                     default=DEFAULT_PAUSE_ON_429_S, show_default=True,
                     help="Seconds every archive request waits after any 429 (at least 60)."),
        click.option("--max-429", "max_429", type=click.IntRange(1),
                     default=DEFAULT_MAX_CONSECUTIVE_429, show_default=True,
                     help="429s in a row after which the archive step stops cleanly."),
        click.option("--wayback-url", envvar="CITEWATCH_WAYBACK_URL", show_envvar=True,
                     help="Base URL standing for web.archive.org and archive.org (a mirror, or "
                          "a local fake in tests)."),
        click.option("--archives", "archives", default="wayback", show_default=True,
                     metavar="NAMES",
                     help="Archives to look in, comma-separated, in order: wayback (always "
                          f"first), then any of {', '.join(a.name for a in MEMENTO_ARCHIVES)}, "
                          "asked only for citations the Wayback Machine has no usable "
                          "capture for."),
        click.option("--memento-archive", "memento_archive", multiple=True,
                     metavar="NAME=TIMEMAP[,TIMEGATE]",
                     help="Another Memento archive by its TimeMap (and TimeGate) prefix, asked "
                          "after those of --archives; repeatable."),
        click.option("--memento-aggregator", "memento_aggregator", metavar="URL",
                     help="A MemGator you run (its /timemap/link/ lists every archive it knows), "
                          "asked last."),
        click.option("--memento-timeout", "memento_timeout", type=click.FloatRange(1),
                     default=DEFAULT_MEMENTO_TIMEOUT_S, show_default=True,
                     help="Seconds to wait for each request to an archive other than Wayback."),
        click.option("--memento-max-failures", "memento_max_failures", type=click.IntRange(1),
                     default=DEFAULT_MEMENTO_MAX_FAILURES, show_default=True,
                     help="Failures in a row after which an archive other than Wayback is not "
                          "asked again in the run."),
    ]):
        f = option(f)
    return f


def archive_settings_from(options: dict[str, Any]) -> ArchiveSettings:
    settings = settings_from_env()
    if options.get("wayback_url"):
        settings = settings_from_env({"CITEWATCH_WAYBACK_URL": options["wayback_url"]},
                                     base=settings)
    settings = replace(settings, lookup_per_min=options["cdx_per_minute"],
                       per_host_connections=options["archive_per_host"],
                       pause_on_429_s=options["pause_on_429"],
                       max_consecutive_429=options["max_429"])
    settings = replace(settings, memento_archives=other_archives(options),
                       memento_max_failures=options.get("memento_max_failures",
                                                        DEFAULT_MEMENTO_MAX_FAILURES))
    if options.get("save_per_minute"):
        settings = replace(settings, save_per_min_authenticated=options["save_per_minute"],
                           save_per_min_anonymous=options["save_per_minute"])
    return settings


def other_archives(options: dict[str, Any]) -> tuple[MementoArchive, ...]:
    """The archives after Wayback, in order: --archives, then --memento-archive, then the
    aggregator. Raises click.BadParameter for an unknown name or a malformed prefix."""
    timeout_s = options.get("memento_timeout", DEFAULT_MEMENTO_TIMEOUT_S)
    try:
        chosen = list(known_archives(options.get("archives") or "wayback", timeout_s=timeout_s))
        chosen += [parse_memento_archive(spec, timeout_s=timeout_s)
                   for spec in options.get("memento_archive") or ()]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if aggregator := options.get("memento_aggregator"):
        chosen.append(memento_aggregator(aggregator, timeout_s=timeout_s))
    names = [a.name for a in chosen]
    if len(set(names)) != len(names):
        raise click.BadParameter(f"an archive is named twice: {', '.join(names)}")
    return tuple(chosen)


def archive_max_age_option(name: str) -> Callable[[F], F]:
    return click.option(
        name, "archive_max_age", type=DURATION, default=format_duration(DEFAULT_ARCHIVE_MAX_AGE_S),
        show_default=True, help="Ask the archive again about citations answered longer ago than this.")


@click.command("archive")
@db_option
@document_option
@archive_max_age_option("--max-age")
@archive_options
@click.option("--confirm", type=click.IntRange(1), default=defaults.DEFAULT_CONFIRM_COUNT,
              show_default=True, help="Failing checks that confirm a link dead (as for check).")
@click.option("--confirm-spacing", type=DURATION,
              default=format_duration(defaults.DEFAULT_CONFIRM_SPACING_S), show_default=True)
@click.pass_obj
def archive_command(config: Config | None, /, db_path: Path, documents: tuple[str, ...],
                    confirm: int, confirm_spacing: float, **options: Any) -> None:
    """Find the Wayback Machine capture that shows each lost page as it was cited.

    Lost means dead, soft-404, drifted or failing (run citewatch check first), or set "dead" in
    the configuration ([links."URL"] state = "dead"). The capture
    chosen is the closest good one before the citation's accessed date (else its publication
    date), verified by replaying it. Cited web.archive.org links are checked to still replay.
    Other archives (--archives, --memento-archive, --memento-aggregator) are asked, in order,
    for citations the Wayback Machine has no usable capture for.
    Answers are kept in the database: a rerun within --max-age asks the archive nothing.

    \b
        citewatch archive --save
        citewatch archive --archives wayback,archive.today,loc
    """
    if not db_path.exists():
        raise StoreError(f"{db_path}: no such database (run citewatch scan first)")
    settings = archive_settings_from(options)
    rule = ConfirmRule(count=confirm, spacing=timedelta(seconds=confirm_spacing))
    # the run lock: two archive runs (or an archive and a check) at once would repeat lookups
    with open_store(db_path) as store, store.run_lock():
        rule = shared_rule(store, rule)
        pace = archive_time()
        summary = run_archive(store, settings, rule, document_ids=resolve_documents(store, documents),
                              max_age_s=options["archive_max_age"], save=options["save"],
                              drift=options["drift"], overrides=(config or Config()).links,
                              clock=pace.clock, sleep=pace.sleep)
    click.echo(summary_line(summary), err=True)
    if summary.stopped:
        raise ArchiveRefused(f"stopped early, everything found so far is saved: {summary.stopped}")
