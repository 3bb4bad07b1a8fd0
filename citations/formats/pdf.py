"""PDF citations (placeholder)."""

from __future__ import annotations

from citations.formats.common import FormatResult


def parse(data: bytes, *, path: str) -> FormatResult:
    return FormatResult()
