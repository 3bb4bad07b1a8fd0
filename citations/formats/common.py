"""What every format parser returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from citations.dates import CitedDate
from citations.models import Citation


@dataclass(slots=True)
class FormatResult:
    citations: list[Citation] = field(default_factory=list)
    title: str | None = None
    date: CitedDate | None = None  # the document's own date, from its metadata only
    warnings: list[str] = field(default_factory=list)
