"""Progress display for long work: a rich bar on a terminal, nothing in CI (click and rich
conventions: progress goes to stderr, data to stdout)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


def is_quiet() -> bool:
    """No progress display in CI or when stderr is not a terminal."""
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


