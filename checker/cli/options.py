"""Options shared by several commands."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from checker.cli.exits import OperationalError
from checker.run.progress import is_quiet, progress

if TYPE_CHECKING:
    from checker.store.database import Store

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = "citewatch.db"


@dataclass(frozen=True, slots=True)
class ArchiveTime:
    """The clock the archive's pacing reads and the sleep it waits with. Real time, unless the
    command group was built with others (``get_cli(archive_time=...)``: a test's virtual clock,
    so its Wayback fake sees the gaps the client makes and no test waits for them)."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


#: Where CitewatchGroup puts the ArchiveTime it was built with (``click.Context.meta`` is shared by
#: a command's context and its group's).
ARCHIVE_TIME_KEY = "citewatch.archive_time"


def archive_time() -> ArchiveTime:
    """This command's ArchiveTime."""
    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(ARCHIVE_TIME_KEY) if ctx is not None else None
    return given if isinstance(given, ArchiveTime) else ArchiveTime()

__all__ = ["ARCHIVE_TIME_KEY", "ArchiveTime", "CONFIG_HELP", "DEFAULT_DB", "DURATION", "F",
           "archive_time", "db_option", "deprecated_alias", "document_option", "exclude_path_option",
           "format_duration", "is_quiet", "progress", "use_config", "with_config_option"]


def db_option(f: F) -> F:
    return click.option(
        "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
        envvar="CITEWATCH_DB", show_default=True, show_envvar=True,
        help="SQLite database that keeps citations and their history.",
    )(f)


def exclude_path_option(f: F) -> F:
    """``--exclude-path``, shared by ``scan`` and ``audit`` (config key ``exclude_path``)."""
    return click.option(
        "--exclude-path", "exclude_path", multiple=True, metavar="PATTERN",
        help="Leave out files and folders matching this .gitignore-style pattern, relative to "
             "the folder scanned (e.g. 'drafts/'); repeatable.",
    )(f)


def document_option(f: F) -> F:
    return click.option(
        "--document", "documents", multiple=True, metavar="D",
        help="Only this document (path, path suffix or id); repeatable.",
    )(f)


#: configuration keys whose command-line parameter has another name
_PARAM_FOR_KEY = {"db": "db_path"}
CONFIG_HELP = ("Configuration file (default: ./citewatch.toml, or [tool.citewatch] in "
               "./pyproject.toml); before or after the command name.")


def use_config(ctx: click.Context, path: Path | None, *, find: bool = True) -> None:
    """Read the configuration (``path``, else with ``find`` the one in the current folder) into
    ``ctx``: the ``Config`` as ``ctx.obj`` and its values as the defaults of the options. On the
    group every command gets every value (click looks defaults up by parameter name, so a
    command takes those it has and ignores the rest); on a command, that command's.

    Raises ConfigError (exit 4, turned into one line by the group)."""
    from checker.cli.commands import COMMANDS
    from checker.cli.config import find_config, load_config, with_ignore_file

    chosen = path or (find_config(Path.cwd()) if find else None)
    config = with_ignore_file(load_config(chosen), Path.cwd())
    ctx.obj = config
    values = {_PARAM_FOR_KEY.get(k, k): v for k, v in config.values.items()}
    ctx.default_map = {name: values for name in COMMANDS} if isinstance(ctx.command, click.Group) \
        else values


def _config_after_command(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        use_config(ctx, value)


def with_config_option(command: click.Command) -> click.Command:
    """``command`` taking ``--config FILE`` after its name too (``citewatch report --config
    c.toml``): an eager option, read before the other options look up their defaults, so the
    file's values are the defaults as when it is given before the command name. Given in both
    places, the one after the command name wins."""
    if not any(p.name == "config_path" for p in command.params):
        command.params.append(click.Option(
            ["--config", "config_path"], type=click.Path(dir_okay=False, path_type=Path),
            is_eager=True, expose_value=False, callback=_config_after_command,
            help=CONFIG_HELP))
    return command


def deprecated_alias(new_name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A callback for an option kept under its old name: used, it says on stderr which option
    replaces it (the value still works; the help no longer lists it)."""
    def warn(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None and ctx.get_parameter_source(param.name or "") in (
                click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT):
            old = param.opts[0] if param.opts else param.name
            click.echo(f"Warning: {old} is deprecated here, use {new_name} "
                       f"(--format always names an output format).", err=True)
        return value

    return warn


class Duration(click.ParamType):  # type: ignore[type-arg]
    """``30m``, ``24h``, ``3d``, ``1w`` or plain seconds → seconds (float)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        from checker.cli.config import parse_duration

        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()


def format_duration(seconds: float) -> str:
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def resolve_documents(store: Store, documents: tuple[str, ...]) -> list[int] | None:
    """The stored ids of ``--document`` values (None for every document); a value that names
    no stored document is a usage error."""
    if not documents:
        return None
    ids = []
    for ref in documents:
        doc_id = store.document_id(ref)
        if doc_id is None:
            raise click.UsageError(f"no stored document matches {ref!r}")
        ids.append(doc_id)
    return ids


@contextmanager
def output_file(path: Path, *, binary: bool = False, option: str = "--output") -> Iterator[IO[Any]]:
    """``path`` opened for writing (text in UTF-8, or bytes). A path that cannot be opened (a
    folder that does not exist, no permission) is a usage error naming `option`, a failure while
    writing (a full disk) an operational one: one line, never a traceback."""
    try:
        handle = path.open("wb") if binary else path.open("w", encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc.strerror or exc}",
                                 param_hint=f"'{option}'") from None
    try:
        with handle:
            yield handle
    except OSError as exc:
        raise OperationalError(f"{path}: writing failed ({exc.strerror or exc})") from None
