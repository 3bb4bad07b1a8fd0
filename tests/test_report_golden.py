"""Golden files: each format rendered from the same hand-built report, byte for byte.

A renderer change that alters the output fails here; when the change is intended, regenerate the
files and review the diff::

    CITEWATCH_UPDATE_GOLDEN=1 python -m pytest tests/test_report_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checker.report import ReportFormat, render
from checker.report.build import hide_states
from tests.report_sample import sample_report

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("CITEWATCH_UPDATE_GOLDEN"))

CASES = [
    ("report.txt", ReportFormat.TERMINAL, 100),
    ("report-narrow.txt", ReportFormat.TERMINAL, 60),
    ("report.md", ReportFormat.MARKDOWN, None),
    ("report.html", ReportFormat.HTML, None),
    ("report.json", ReportFormat.JSON, None),
    ("report.csv", ReportFormat.CSV, None),
    ("report.xml", ReportFormat.JUNIT, None),
]


@pytest.mark.parametrize(("name", "fmt", "width"), CASES, ids=[c[0] for c in CASES])
def test_format_matches_its_golden_file(name: str, fmt: ReportFormat, width: int | None) -> None:
    produced = render(sample_report(), fmt, width=width).encode("utf-8")
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(produced)
    assert path.exists(), f"{path} is missing: run with CITEWATCH_UPDATE_GOLDEN=1"
    expected = path.read_bytes()
    assert produced.decode("utf-8") == expected.decode("utf-8"), (
        f"{name} differs from the golden file; if that is intended: "
        f"CITEWATCH_UPDATE_GOLDEN=1 pytest {__file__}"
    )


def test_the_ci_log_lines_match_their_golden_file() -> None:
    """The terminal's one-line-per-problem style, as ``report`` prints it in CI: alive and
    skipped rows left out and counted."""
    produced = render(hide_states(sample_report()), ReportFormat.TERMINAL, style="lines")
    path = GOLDEN / "report-lines.txt"
    if UPDATE:
        path.write_bytes(produced.encode("utf-8"))
    assert produced == path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_rendering_is_deterministic(fmt: ReportFormat) -> None:
    assert render(sample_report(), fmt, width=80) == render(sample_report(), fmt, width=80)
