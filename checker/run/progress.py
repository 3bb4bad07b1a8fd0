"""Progress display for long work: a rich bar on a terminal, nothing in CI (click and rich
conventions: progress goes to stderr, data to stdout)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress


def is_quiet() -> bool:
    """No progress display in CI or when stderr is not a terminal."""
    # sys.stderr, not click.get_text_stream (deprecated in click 8.5, gone in 9)
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


# The display of a multi-stage command (audit): each stage adds its bar to it instead of
# opening a display of its own. A context variable, so nothing global outlives the command.
_DISPLAY: ContextVar[Progress | None] = ContextVar("citewatch_display", default=None)


@contextmanager
def display(*, quiet: bool | None = None) -> Iterator[None]:
    """One progress display for every stage run inside it (``citewatch audit``)."""
    if is_quiet() if quiet is None else quiet:
        yield
        return
    bar = _new_display()
    token = _DISPLAY.set(bar)
    try:
        with bar:
            yield
    finally:
        _DISPLAY.reset(token)


@contextmanager
def progress(total: int, label: str, *, quiet: bool | None = None) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr, advanced by calling what this yields; nothing at all in CI,
    when stderr is redirected, or for a single item. Inside ``display()`` the bar joins that
    display and stays there, complete, when the stage ends."""
    if (is_quiet() if quiet is None else quiet) or total < 2:
        yield lambda: None
        return
    shared = _DISPLAY.get()
    if shared is not None:
        task = shared.add_task(label, total=total)
        yield lambda: shared.advance(task)
        return
    bar = _new_display()
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


def _new_display() -> Progress:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    return RichProgress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=Console(stderr=True), transient=True)
