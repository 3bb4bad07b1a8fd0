"""``citewatch check``: check the stored links that are due, recording every check as it ends."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from checker import settings as defaults
from checker.cli.config import Config
from checker.cli.options import (
    DURATION,
    F,
    archive_time,
    db_option,
    document_option,
    format_duration,
    is_quiet,
    resolve_documents,
)
from checker.cli.state_policy import shared_rule
from checker.errors import ConfigError, StoreError
from checker.judge.classify import CONTENT_DRIFT_THRESHOLD
from checker.judge.state import ConfirmRule
from checker.net.client import ca_environment_problem
from checker.run.check import (
    run_check,
    summary_line,
)
from checker.settings import CheckSettings
from checker.store.database import open_store

if TYPE_CHECKING:
    # Only `check --drift` needs the archive and the drift meter (bs4, httpx for the archive):
    # imported where they are used, so a plain check starts without them.
    from archive import ArchiveSettings


def _regexes(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    # compiled only while checking (in worker processes too): a bad one must stop us here
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise click.BadParameter(f"not a regular expression: {pattern!r} ({exc})") from None
    return value


def network_options(f: F) -> F:
    """The options that shape requests, shared by ``check`` and ``audit``."""
    options = [
        click.option("--concurrency", type=click.IntRange(1), default=defaults.DEFAULT_CONCURRENCY,
                     show_default=True, help="Requests in flight overall."),
        click.option("--per-host", type=click.IntRange(1),
                     default=defaults.DEFAULT_PER_HOST_CONCURRENCY, show_default=True,
                     help="Requests in flight per host."),
        click.option("--host-interval", type=click.FloatRange(0),
                     default=defaults.DEFAULT_HOST_INTERVAL_S, show_default=True,
                     help="Seconds between request starts on one host."),
        click.option("--timeout", type=click.FloatRange(0.1), default=defaults.DEFAULT_TIMEOUT_S,
                     show_default=True,
                     help="Seconds a server may stay silent (waiting for the answer, or between "
                          "pieces of it); connecting is bounded by the same figure up to "
                          f"{defaults.DEFAULT_CONNECT_TIMEOUT_S:g} s."),
        click.option("--retries", type=click.IntRange(0), default=defaults.DEFAULT_RETRIES,
                     show_default=True, help="Retries for timeouts, resets, 429 and 5xx."),
        click.option("--max-redirects", type=click.IntRange(0),
                     default=defaults.DEFAULT_MAX_REDIRECTS, show_default=True),
        click.option("--user-agent", default=defaults.DEFAULT_USER_AGENT, show_default=True,
                     help="User-Agent header (naming citewatch draws fewer bot walls than "
                          "pretending to be a browser)."),
        click.option("--exclude", multiple=True, metavar="REGEX", callback=_regexes,
                     help="URLs matching this are not fetched (verdict 'skipped'); repeatable."),
        click.option("--accepted-status", "accepted_status", multiple=True, type=int,
                     metavar="CODE", help="Extra status code that counts as alive; repeatable."),
        click.option("--dns-canary", default=defaults.DEFAULT_DNS_CANARY, show_default=True,
                     metavar="NAME",
                     help="A name that exists, looked up when no name of the run resolved "
                          "but some got NXDOMAIN: if it does not resolve either, those links "
                          "are unreachable, not dead ('' for none)."),
        click.option("--processes", type=click.IntRange(0), metavar="N",
                     help="Worker processes that share the hosts: 0 or 1 checks in this process; "
                          "default: by the size of the run and the cores (500 links or more, "
                          "on two sites or more; one per core and one more, at most "
                          "4)."),
        click.option("--refuse-private", is_flag=True,
                     help="Never fetch loopback or private addresses (link-local and cloud "
                          "metadata addresses are always refused)."),
        click.option("--confirm", type=click.IntRange(1), default=defaults.DEFAULT_CONFIRM_COUNT,
                     show_default=True,
                     help="Failing checks needed before a link is called dead (1 for a one-off "
                          "audit)."),
        click.option("--confirm-spacing", type=DURATION,
                     default=format_duration(defaults.DEFAULT_CONFIRM_SPACING_S), show_default=True,
                     help="Minimum time between the failing checks that confirm a link dead."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def settings_from(options: dict[str, Any], config: Config | None) -> CheckSettings:
    """The check settings from the command line and the configuration; a CA variable naming a
    missing path is a configuration error here, before any link is checked."""
    problem = ca_environment_problem()
    if problem is not None:
        raise ConfigError(problem)
    config = config or Config()
    return CheckSettings(
        concurrency=options["concurrency"],
        per_host=options["per_host"],
        host_interval_s=options["host_interval"],
        timeout_s=options["timeout"],
        connect_timeout_s=min(options["timeout"], defaults.DEFAULT_CONNECT_TIMEOUT_S),
        retries=options["retries"],
        max_redirects=options["max_redirects"],
        user_agent=options["user_agent"],
        host_headers=config.host_headers,
        host_limits=config.host_per_host,
        allow_private=not options["refuse_private"],
        accepted_status=frozenset(options["accepted_status"]),
        exclude=tuple(options["exclude"]) + config.ignore,   # .citewatchignore adds to both
        dns_canary=options["dns_canary"],
        processes=options["processes"],
    )


def drift_option(f: F) -> F:
    return click.option(
        "--drift", is_flag=True,
        help="Compare the main text of live pages with their archive capture (from citewatch "
             "archive --drift): drifted below a similarity of "
             f"{CONTENT_DRIFT_THRESHOLD:.0%}. One paced replay per capture, kept in the database.",
    )(f)


def rule_from(options: dict[str, Any]) -> ConfirmRule:
    return ConfirmRule(count=options["confirm"], spacing=timedelta(seconds=options["confirm_spacing"]))


@click.command()
@db_option
@document_option
@click.option("--max-age", type=DURATION, default=format_duration(defaults.DEFAULT_MAX_AGE_S),
              show_default=True, help="Re-check links whose last check is older than this.")
@click.option("--limit", type=click.IntRange(1), help="Check at most this many links.")
@network_options
@drift_option
@click.pass_obj
def check(config: Config | None, /, db_path: Path, documents: tuple[str, ...], max_age: float,
          limit: int | None, drift: bool, **options: Any) -> None:
    """Check the stored links that are due and record what was seen.

    Never-checked links go first, then failing ones, then the oldest. Every check is saved as it
    ends (committed within 0.2 s): Ctrl-C keeps them all, and the next run carries on. A link is
    called dead only after --confirm failing checks at least --confirm-spacing apart; until then
    it is "failing".

    \b
        citewatch check --max-age 12h --per-host 2
    """
    settings = settings_from(options, config)
    rule = rule_from(options)
    if not db_path.exists():
        raise StoreError(f"{db_path}: no such database (run citewatch scan first)")
    with open_store(db_path) as store:
        rule = shared_rule(store, rule)   # stored for the commands after this one
        document_ids = resolve_documents(store, documents)
        summary = run_check(store, settings, rule, max_age_s=max_age, document_ids=document_ids,
                            limit=limit, quiet=is_quiet(),
                            drift=_archive_settings() if drift else None,
                            archive_clock=archive_time().clock, archive_sleep=archive_time().sleep)
    click.echo(summary_line(summary), err=True)


__all__ = ["check", "drift_option", "network_options", "run_check", "settings_from", "rule_from"]


def _archive_settings() -> ArchiveSettings:
    from archive import settings_from_env

    return settings_from_env()
