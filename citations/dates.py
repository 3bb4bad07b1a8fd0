"""Dates in citations: "accessed November 16, 2022", "December 20, 2022", "2022-11-16", "16 ноября 2022".

(Placeholder: refined with the plain-text parser.)
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}
_MDY = re.compile(r"\b([A-Z][a-z]{2,8})\.? (\d{1,2}), (\d{4})\b")
_ACCESSED = re.compile(r"(?:accessed|retrieved|last visited|viewed)(?: on)?:? ", re.IGNORECASE)


def _mdy(m: re.Match[str]) -> date | None:
    month = _MONTHS.get(m.group(1).lower())
    if month is None:
        return None
    try:
        return date(int(m.group(3)), month, int(m.group(2)))
    except ValueError:
        return None


def find_accessed(text: str) -> date | None:
    a = _ACCESSED.search(text)
    if a is None:
        return None
    m = _MDY.match(text, a.end())
    return _mdy(m) if m else None


def find_published(text: str) -> date | None:
    a = _ACCESSED.search(text)
    for m in _MDY.finditer(text):
        if a is not None and m.start() == a.end():
            continue
        d = _mdy(m)
        if d is not None:
            return d
    return None
