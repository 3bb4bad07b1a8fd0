"""The ``citewatch`` command line: thin click commands over the library.

Exit codes are ``checker.cli.exits.ExitCode`` (the README's table): ``CitewatchGroup.invoke``
turns ``citations.errors.CitationsError`` into 3, every ``checker.errors.CheckerError`` (and an
``archive.errors.ArchiveError`` that got past its step) into 4, Ctrl-C into 130 and SIGTERM into
143, each with one ``Error:`` line and no traceback.
"""

from __future__ import annotations

import copy
import gc
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from checker.cli.exits import InputError, Interrupted, OperationalError, TerminatedExit
from checker.cli.options import (
    ARCHIVE_TIME_KEY,
    CONFIG_HELP,
    ArchiveTime,
    use_config,
    with_config_option,
)
from checker.errors import CheckerError, ConfigError
from citations.errors import CitationsError


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be: every path that keeps the
    finished work on Ctrl-C (commit windows, ``finally`` blocks, worker shutdown) keeps it here."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # signals go to the main one
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt_in(exc: BaseException) -> KeyboardInterrupt | None:
    """The interrupt an error was raised while handling, if any: a clean-up that fails while
    Ctrl-C unwinds (sqlite-utils' "no such savepoint") must not turn the interrupt into an
    operational error. ``raise ... from None`` hides the context from tracebacks, not from here."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return seen
        seen = seen.__context__
    return None


class CitewatchGroup(click.Group):
    """Loads commands when they run, and turns program errors into one-line messages with their
    exit codes, at one point."""

    #: Real time unless get_cli() was given another (commands read it with options.archive_time)
    archive_time: ArchiveTime | None = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        from checker.cli.commands import COMMANDS

        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from checker.cli.commands import load

        command = load(cmd_name)
        return None if command is None else with_config_option(command)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # A --config after the command name replaces the file found in the folder, which is then
        # not read at all: a broken one there must not stop `citewatch report --config c.toml`.
        ctx.meta["citewatch.config_given"] = any(
            a == "--config" or a.startswith("--config=") for a in args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        if self.archive_time is not None:
            ctx.meta[ARCHIVE_TIME_KEY] = self.archive_time
        try:
            with _sigterm_as_interrupt():
                return super().invoke(ctx)
        except (click.exceptions.Exit, SystemExit):
            raise
        except (Exception, KeyboardInterrupt, click.Abort) as exc:
            interrupt = _interrupt_in(exc)
            if isinstance(interrupt, Terminated):
                raise TerminatedExit("terminated (SIGTERM); everything finished so far is saved"
                                     ) from None
            if interrupt is not None or isinstance(exc, click.Abort):
                raise Interrupted("interrupted; everything finished so far is saved") from None
            if isinstance(exc, CitationsError):
                raise InputError(str(exc)) from None
            if isinstance(exc, CheckerError) or _is_archive_error(exc):
                raise OperationalError(_one_line(str(exc))) from None
            raise


def _is_archive_error(exc: BaseException) -> bool:
    """An ``archive.errors.ArchiveError`` that got past its step: asked without importing archive/
    (a plain check starts without it), since an exception of a module never imported cannot be."""
    errors = sys.modules.get("archive.errors")
    return errors is not None and isinstance(exc, errors.ArchiveError)


def _one_line(message: str) -> str:
    """A message that carries a traceback (a failed worker's) as its first and last lines."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return message
    return f"{lines[0].rstrip(':')} ({lines[-1]})"


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=CitewatchGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="citewatch")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=CONFIG_HELP)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Check the web citations of documents, keep their history, and find archive captures.

    \b
        citewatch audit report.txt
    """
    try:
        use_config(ctx, config_path, find=not ctx.meta.get("citewatch.config_given"))
    except ConfigError as exc:
        raise OperationalError(str(exc)) from None


def main() -> None:
    try:
        cli(prog_name="citewatch")
    finally:
        # The interpreter's last garbage collections at exit walk every object of the process
        # (tens of milliseconds, a sixth of a short command) to finalise cycles; by now the
        # database is closed and the output flushed, so nothing in them matters.
        gc.freeze()


def get_cli(*, archive_time: ArchiveTime | None = None) -> click.Group:
    """The command group; with ``archive_time``, a copy of it whose commands pace the archive on
    that clock (tests hand in their virtual clock here instead of swapping module attributes)."""
    if archive_time is None:
        return cli
    group = copy.copy(cli)
    assert isinstance(group, CitewatchGroup)
    group.archive_time = archive_time
    return group


if __name__ == "__main__":  # pragma: no cover
    main()
