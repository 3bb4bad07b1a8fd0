"""What every format parser returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from citations.models import Citation


@dataclass(slots=True)
class FormatResult:
    citations: list[Citation] = field(default_factory=list)
    title: str | None = None
    date: date | None = None
    warnings: list[str] = field(default_factory=list)
