"""Read the cited title, publisher and dates out of a citation's text.

(Placeholder: refined with the plain-text parser.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from citations.dates import find_accessed, find_published

_QUOTED = re.compile(r"[“\"]([^”\"]{3,}?)[,.]?[”\"]")


@dataclass(frozen=True, slots=True)
class Fields:
    title: str | None = None
    publisher: str | None = None
    published: date | None = None
    accessed: date | None = None


def extract_fields(text: str) -> Fields:
    m = _QUOTED.search(text)
    title = m.group(1).strip().rstrip(",.") if m else None
    return Fields(title=title, published=find_published(text), accessed=find_accessed(text))
