"""Dates in citations: when a source was published and when the author accessed it.

Formats read (day, month and year are all required; "October 2023" alone is *not* a date here,
because inventing a day would make the Wayback lookup pick a capture the author never saw):

* ``November 16, 2022``, ``Nov. 16, 2022``, ``Sept. 5 2022``, ``July 25-30, 2009`` (first day);
* ``16 November 2022``, ``16 Nov. 2022``;
* ``2022-11-16`` (ISO) and ``16.11.2022`` (day first, as in Russian and German texts);
* Russian month names in any case: ``16 ноября 2022``, ``28 мая 2019 г.``.

A month glued to the preceding word (``PT SecurityJuly 25, 2023``, copy-paste damage) is still
read. "Accessed" dates follow ``accessed``, ``accessed on``, ``last accessed``, ``retrieved``,
``viewed``, ``visited``, ``consulted`` or ``дата обращения``; every other date counts as a
publication date. Callers mask URLs first (``/2022/11/16/`` paths are not dates).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_EN_MONTHS: dict[str, int] = {}
for _i, _names in enumerate(
    [
        ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
        ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
        ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
        ("december", "dec"),
    ],
    start=1,
):
    for _name in _names:
        _EN_MONTHS[_name] = _i

# Genitive ("16 ноября") is what dates use; nominative and short forms appear in tables.
_RU_MONTHS: dict[str, int] = {}
for _i, _names in enumerate(
    [
        ("января", "январь", "янв"), ("февраля", "февраль", "фев"), ("марта", "март", "мар"),
        ("апреля", "апрель", "апр"), ("мая", "май"), ("июня", "июнь", "июн"),
        ("июля", "июль", "июл"), ("августа", "август", "авг"),
        ("сентября", "сентябрь", "сен", "сент"), ("октября", "октябрь", "окт"),
        ("ноября", "ноябрь", "ноя"), ("декабря", "декабрь", "дек"),
    ],
    start=1,
):
    for _name in _names:
        _RU_MONTHS[_name] = _i

_EN = "|".join(sorted(_EN_MONTHS, key=len, reverse=True))
_RU = "|".join(sorted(_RU_MONTHS, key=len, reverse=True))
_YEAR = r"(?P<y>1[5-9]\d\d|2[01]\d\d)(?!\d)"
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?"
# Not inside a word, except a capitalised month glued after a lower-case letter ("SecurityJuly").
_WORD_START = r"(?:(?<![^\W\d_])|(?<=[a-z])(?=[A-Z]))"

_PATTERNS = [
    # November 16, 2022 · Nov. 16, 2022 · July 25-30, 2009
    re.compile(
        _WORD_START + rf"(?P<m>(?i:{_EN}))\.?\s+{_DAY}(?:\s*[-–]\s*\d{{1,2}})?(?!\d),?\s+{_YEAR}"
    ),
    # 16 November 2022 · 16 Nov. 2022
    re.compile(rf"(?<![\d.]){_DAY}\s+(?P<m>(?i:{_EN}))\b\.?,?\s+{_YEAR}"),
    # 16 ноября 2022 (г.)
    re.compile(rf"(?<![\d.]){_DAY}\s+(?P<m>(?i:{_RU}))\.?\s+{_YEAR}(?:\s*г\.)?"),
    # 2022-11-16
    re.compile(r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d-])"),
    # 16.11.2022
    re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?!\d|\.\d)"),
]

_ACCESSED = re.compile(
    r"(?:(?:last\s+)?(?:accessed|retrieved|visited|viewed|consulted)(?:\s+on)?|дата\s+обращения)"
    r"\s*:?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DateMatch:
    start: int
    end: int
    value: date
    accessed: bool = False  # preceded by "accessed", "retrieved", …


def _month(name: str) -> int | None:
    if name.isdigit():
        return int(name)
    key = name.lower()
    return _EN_MONTHS.get(key) or _RU_MONTHS.get(key)


def _to_date(m: re.Match[str]) -> date | None:
    month = _month(m.group("m"))
    if month is None:
        return None
    try:
        return date(int(m.group("y")), month, int(m.group("d")))
    except ValueError:
        return None


def find_dates(text: str) -> list[DateMatch]:
    """Every full date in ``text`` in order, each marked as an "accessed" date or not."""
    found: list[DateMatch] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            value = _to_date(m)
            if value is None:
                continue
            if any(d.start < m.end() and m.start() < d.end for d in found):
                continue  # the same words already read by an earlier pattern
            found.append(DateMatch(m.start(), m.end(), value))
    found.sort(key=lambda d: d.start)
    accessed_ends = {a.end() for a in _ACCESSED.finditer(text)}
    return [
        DateMatch(d.start, d.end, d.value, accessed=True) if d.start in accessed_ends else d
        for d in found
    ]


def date_at(text: str, pos: int) -> DateMatch | None:
    """The date that starts exactly at ``pos``, if one does."""
    for pattern in _PATTERNS:
        m = pattern.match(text, pos)
        if m:
            value = _to_date(m)
            if value is not None:
                return DateMatch(m.start(), m.end(), value)
    return None


def accessed_at(text: str, pos: int) -> DateMatch | None:
    """An "accessed …" phrase with its date starting exactly at ``pos`` (span covers both)."""
    a = _ACCESSED.match(text, pos)
    if a is None:
        return None
    d = date_at(text, a.end())
    return DateMatch(pos, d.end, d.value, accessed=True) if d else None


def parse_date(text: str) -> date | None:
    """``text`` read as one date (surrounding whitespace allowed), else None."""
    stripped = text.strip()
    d = date_at(stripped, 0)
    return d.value if d and d.end == len(stripped) else None


def find_accessed(text: str) -> date | None:
    """The first "accessed …" date in ``text``."""
    return next((d.value for d in find_dates(text) if d.accessed), None)


def find_published(text: str) -> date | None:
    """The first date in ``text`` that is not an "accessed" date."""
    return next((d.value for d in find_dates(text) if not d.accessed), None)


__all__ = [
    "CitedDate", "DateMatch", "accessed_at", "date_at", "find_accessed", "find_dates", "find_published",
    "parse_date",
]


_METADATA_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def parse_metadata_date(value: str | None) -> date | None:
    """A document's own date from a metadata value (HTML ``<meta>``/``<time datetime>``, YAML
    front matter): ISO-like ``2022-11-16``, ``2022/11/16``, ``2022-11-16T10:00:00Z``, or a date
    written out in prose."""
    if not value or not value.strip():
        return None
    m = _METADATA_ISO.search(value)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return find_published(value)


# --- dates as cited: a day or a period ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CitedDate:
    """A date as a citation gives it: one day, or a period (a month, a season, a year, a range).

    ``start`` and ``end`` are the first and last day, inclusive (equal for a day). A period is
    never narrowed to an invented day: "January 2023" is 2023-01-01..2023-01-31, "2021" the whole
    year, "Summer 2005" June to August (meteorological seasons, northern hemisphere: spring
    March–May, summer June–August, autumn/fall September–November, winter December to the next
    February), "Spring/Summer 1996" March to August, "September–December 2012" as written.

    The text form (``iso``, stored in the database and written by machine formats) is ISO 8601
    with reduced precision: ``2023-01-14`` (a day), ``2023-01`` (a month), ``2021`` (a year), and
    an interval of those for anything else (``1996-03/1996-08``, ``2012-09/2012-12``,
    ``2022-11-14/2022-11-18``). ``from_iso`` reads it back.
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    @classmethod
    def day(cls, value: date) -> CitedDate:
        return cls(value, value)

    @classmethod
    def month(cls, year: int, month: int) -> CitedDate:
        return cls(date(year, month, 1), _month_end(year, month))

    @classmethod
    def year(cls, year: int) -> CitedDate:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def precision(self) -> str:
        """``day``, ``month``, ``year`` or ``period`` (anything else: a season, a range)."""
        if self.start == self.end:
            return "day"
        if self.start.day == 1 and self.end == _month_end(self.start.year, self.start.month):
            return "month"
        if (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) \
                and self.start.year == self.end.year:
            return "year"
        return "period"

    @property
    def is_day(self) -> bool:
        return self.start == self.end

    @property
    def iso(self) -> str:
        """ISO 8601, reduced precision where the period allows it (see the class docstring)."""
        precision = self.precision
        if precision == "day":
            return self.start.isoformat()
        if precision == "month":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if precision == "year":
            return f"{self.start.year:04d}"
        return f"{_iso_bound(self.start, start=True)}/{_iso_bound(self.end, start=False)}"

    @property
    def label(self) -> str:
        """For people: ``2023-01-14``, ``January 2023``, ``2021``, ``March–August 1996``."""
        precision = self.precision
        if precision == "day":
            return self.start.isoformat()
        if precision == "month":
            return f"{_MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        if precision == "year":
            return str(self.start.year)
        whole_months = self.start.day == 1 and self.end == _month_end(self.end.year, self.end.month)
        if not whole_months:
            return f"{self.start.isoformat()} – {self.end.isoformat()}"
        first, last = _MONTH_NAMES[self.start.month - 1], _MONTH_NAMES[self.end.month - 1]
        if self.start.year == self.end.year:
            return f"{first}–{last} {self.end.year}"
        return f"{first} {self.start.year} – {last} {self.end.year}"

    def __str__(self) -> str:
        return self.iso

    @classmethod
    def from_iso(cls, text: str | None) -> CitedDate | None:
        """What ``iso`` writes (and an ISO date-time, read as its day), or None."""
        if not text or not text.strip():
            return None
        first, sep, second = text.strip().partition("/")
        low = _iso_period(first)
        high = _iso_period(second) if sep else low
        if low is None or high is None or high[1] < low[0]:
            return None
        return cls(low[0], high[1])


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
_ISO_PART = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ].*)?")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _iso_bound(day: date, *, start: bool) -> str:
    """One end of an interval, as short as it can be without changing the period."""
    if day.day == (1 if start else _month_end(day.year, day.month).day):
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


def _iso_period(text: str) -> tuple[date, date] | None:
    match = _ISO_PART.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            return date(year, month, 1), _month_end(year, month)
        return date(year, month, day), date(year, month, day)
    except ValueError:
        return None
