"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from checker.run.progress import is_quiet, progress

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = "citewatch.db"

__all__ = ["DEFAULT_DB", "DURATION", "F", "db_option", "document_option", "exclude_path_option",
           "format_duration", "is_quiet", "progress"]


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
