"""Render a ``Report`` in one of six formats.

Every renderer is a pure function ``Report -> str``: no database, no clock, no environment (the
terminal renderer reads the terminal width only when none is given), so the same report always
gives the same text, and the golden-file tests pin each format.

========  =====================================================================================
terminal  rich tables sized to ``width``, or one line per problem (``style``)       (to_terminal)
markdown  GitHub-flavoured: issues, PR comments, ``$GITHUB_STEP_SUMMARY``; size-capped (to_markdown)
html      one self-contained page: sortable, filterable table, chart of past runs   (to_html)
json      all the data, schema in ``docs/report.schema.json``                        (to_json)
csv       one row per citation and URL                                              (to_csv)
junit     JUnit XML: a testcase per citation link, failures for ``fail_on`` states  (to_junit)
========  =====================================================================================

Every format lists problems first (``common``), and says the state policy the report was built
with and how many rows it leaves out (``Report.hidden``), when the report carries them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from checker.report import to_csv, to_html, to_json, to_junit, to_markdown, to_terminal
from checker.report.model import Report


class ReportFormat(StrEnum):
    TERMINAL = "terminal"
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"
    CSV = "csv"
    JUNIT = "junit"

    @property
    def suffix(self) -> str:
        """File name suffix for ``--output`` defaults."""
        return _SUFFIXES[self]


_SUFFIXES = {
    ReportFormat.TERMINAL: ".txt",
    ReportFormat.MARKDOWN: ".md",
    ReportFormat.HTML: ".html",
    ReportFormat.JSON: ".json",
    ReportFormat.CSV: ".csv",
    ReportFormat.JUNIT: ".xml",
}


@dataclass(frozen=True, slots=True)
class _Options:
    width: int | None
    color: bool
    fail_on: to_junit.FailOn | None
    style: to_terminal.TerminalStyle | str


_RENDERERS: dict[ReportFormat, Callable[[Report, _Options], str]] = {
    ReportFormat.TERMINAL: lambda r, o: to_terminal.render(r, width=o.width, color=o.color,
                                                         style=o.style),
    ReportFormat.MARKDOWN: lambda r, o: to_markdown.render(r),
    ReportFormat.HTML: lambda r, o: to_html.render(r),
    ReportFormat.JSON: lambda r, o: to_json.render(r),
    ReportFormat.CSV: lambda r, o: to_csv.render(r),
    ReportFormat.JUNIT: lambda r, o: to_junit.render(r, fail_on=o.fail_on),
}


def render(
    report: Report,
    fmt: ReportFormat | str,
    *,
    width: int | None = None,
    color: bool = False,
    fail_on: to_junit.FailOn | None = None,
    style: to_terminal.TerminalStyle | str = to_terminal.TerminalStyle.TABLE,
) -> str:
    """``report`` as text in ``fmt``.

    ``width``, ``color`` and ``style`` (``table`` or ``lines``) apply to the terminal format
    (pass ``color`` when writing to a TTY);
    ``fail_on`` to JUnit, whose failures are the rows it fails: a ``Policy.fails`` (what
    ``report`` and ``audit`` pass, so JUnit agrees with the exit code) or a set of states
    (default: the lost states).
    """
    return _RENDERERS[ReportFormat(fmt)](report, _Options(width, color, fail_on, style))


#: Formats rendered in pieces as they are written (``render_chunks``): the large ones.
_CHUNKED: dict[ReportFormat, Callable[[Report], Iterator[str]]] = {
    ReportFormat.HTML: to_html.chunks,
    ReportFormat.JSON: to_json.chunks,
}


def render_chunks(
    report: Report,
    fmt: ReportFormat | str,
    *,
    width: int | None = None,
    color: bool = False,
    fail_on: to_junit.FailOn | None = None,
    style: to_terminal.TerminalStyle | str = to_terminal.TerminalStyle.TABLE,
) -> Iterator[str]:
    """``render``'s text in pieces, for writing as they come: JSON and HTML a citation or a
    row at a time (a 100,000-link report's text is never held whole), the others at once."""
    chunked = _CHUNKED.get(ReportFormat(fmt))
    if chunked is not None:
        return chunked(report)
    return iter((render(report, fmt, width=width, color=color, fail_on=fail_on, style=style),))


__all__ = ["ReportFormat", "render", "render_chunks"]
