"""The ``citewatch`` command line: thin click commands over the library.

Exit codes (documented in the README):

== ===========================================================================================
0  nothing failed the policy
1  citations failed the ``--fail-on`` policy (link rot; the only code that means rot)
2  usage error (bad option or argument)
3  unreadable input: a document is missing, empty, binary, malformed or of unknown format
4  operational failure: database locked or not SQLite, bad configuration, archive refusing
130 interrupted (Ctrl-C); everything finished before it is saved
143 terminated (SIGTERM, as sent by ``timeout`` and CI cancellation); handled as Ctrl-C
== ===========================================================================================
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Any

import click

from checker.cli.config import find_config, load_config, with_ignore_file
from checker.errors import CheckerError, ConfigError
from citations.errors import CitationsError


class ExitCode(IntEnum):
    OK = 0
    POLICY = 1
    USAGE = 2
    INPUT = 3
    OPERATIONAL = 4
    INTERRUPTED = 130
    TERMINATED = 143   # 128 + SIGTERM, the shell's code for a process ended by it


class InputError(click.ClickException):
    exit_code = ExitCode.INPUT


class OperationalError(click.ClickException):
    exit_code = ExitCode.OPERATIONAL


class Interrupted(click.ClickException):
    exit_code = ExitCode.INTERRUPTED


class TerminatedExit(click.ClickException):
    exit_code = ExitCode.TERMINATED


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

    def list_commands(self, ctx: click.Context) -> list[str]:
        from checker.cli.commands import COMMANDS

        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from checker.cli.commands import load

        return load(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
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
            if isinstance(exc, CheckerError):
                raise OperationalError(_one_line(str(exc))) from None
            raise


def _one_line(message: str) -> str:
    """A message that carries a traceback (a failed worker's) as its first and last lines."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return message
    return f"{lines[0].rstrip(':')} ({lines[-1]})"


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


#: configuration keys whose command-line parameter has another name
_PARAM_FOR_KEY = {"db": "db_path"}


@click.group(cls=CitewatchGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="citewatch")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Configuration file (default: ./citewatch.toml, or [tool.citewatch] in "
                   "./pyproject.toml).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Check the web citations of documents, keep their history, and find archive captures.

    \b
        citewatch audit report.txt
    """
    try:
        config = with_ignore_file(load_config(config_path or find_config(Path.cwd())), Path.cwd())
    except ConfigError as exc:
        raise OperationalError(str(exc)) from None
    ctx.obj = config
    # Every command gets every value: click looks defaults up by parameter name, so a command
    # takes those it has and ignores the rest.
    values = {_PARAM_FOR_KEY.get(k, k): v for k, v in config.values.items()}
    from checker.cli.commands import COMMANDS

    ctx.default_map = {name: values for name in COMMANDS}


def main() -> None:
    _without_httpx_cli()
    try:
        cli(prog_name="citewatch")
    finally:
        # The interpreter's last garbage collections at exit walk every object of the process
        # (tens of milliseconds, a sixth of a short command) to finalise cycles; by now the
        # database is closed and the output flushed, so nothing in them matters.
        gc.freeze()


def _without_httpx_cli() -> None:
    """httpx imports its own command-line client (rich, pygments, click) only to offer
    `httpx.main()`, which citewatch never calls: about 30 ms of every start-up. Marked missing
    in this process, the module is skipped as when httpx's CLI extras are not installed (its
    __init__ expects that ImportError). Only for the citewatch command's own process."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def get_cli() -> click.Group:
    """The command group (for tests)."""
    return cli


if __name__ == "__main__":  # pragma: no cover
    main()
