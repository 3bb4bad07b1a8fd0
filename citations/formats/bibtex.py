"""bibtex citations (placeholder)."""

from __future__ import annotations

from citations.formats.common import FormatResult


def parse(text: str) -> FormatResult:
    return FormatResult()
