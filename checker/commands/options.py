"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = "citewatch.db"


def db_option(f: F) -> F:
    return click.option(
        "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
        envvar="CITEWATCH_DB", show_default=True, show_envvar=True,
        help="SQLite database that keeps citations and their history.",
    )(f)


def document_option(f: F) -> F:
    return click.option(
        "--document", "documents", multiple=True, metavar="D",
        help="Only this document (path, path suffix or id); repeatable.",
    )(f)


def is_quiet() -> bool:
    """No progress display in CI or when stderr is not a terminal."""
    import os

    return bool(os.environ.get("CI")) or not click.get_text_stream("stderr").isatty()


@contextmanager
def progress(total: int, label: str, *, quiet: bool | None = None) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr, advanced by calling what this yields; nothing at all in CI,
    when stderr is redirected, or for a single item."""
    if (is_quiet() if quiet is None else quiet) or total < 2:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


class Duration(click.ParamType):  # type: ignore[type-arg]
    """``30m``, ``24h``, ``3d``, ``1w`` or plain seconds → seconds (float)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        from checker.config import parse_duration

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
