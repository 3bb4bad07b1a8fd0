"""Dates in citations: when a source was published and when the author accessed it.

Every date read is a ``CitedDate``: one day, or the period the citation names (a month, a season,
a year, a range). A period is never narrowed to an invented day: "January 2023" is the whole of
January, so that the archive lookup can prefer a capture from inside it instead of one from a day
the author never named.

Formats read, English and Russian; month names in any case, abbreviated with or without a full
stop, a capitalised month glued to the preceding word (``PT SecurityJuly 25, 2023``, copy-paste
damage) included:

* days: ``November 16, 2022``, ``Nov. 16, 2022``, ``Sept. 5 2022``, ``16 November 2022``,
  ``16 Nov. 2022``, ``16 ноября 2022``, ``28 мая 2019 г.``, ``2022-11-16`` (ISO) and
  ``16.11.2022`` (day first, as in Russian and German texts);
* day ranges, as periods: ``July 25-30, 2009``, ``November 14–18, 2022``,
  ``July 30 – August 2, 2009``, ``25–30 July 2009``, ``30 July – 2 August 2009``,
  ``14–18 ноября 2022``;
* months: ``January 2023``, ``Jan. 2023``, ``Jan 2023``, ``январь 2023``, ``января 2023``,
  ``январе 2023 г.``;
* month ranges: ``September-December 2012``, ``Sept.–Dec. 2012``, ``July/August 2019``,
  ``December 2012 – February 2013``, ``сентябрь–декабрь 2012``;
* seasons, meteorological and northern-hemisphere (see ``CitedDate``): ``Summer 2005``,
  ``Fall 2010``, ``Autumn 2010``, ``Spring/Summer 1996``, ``Summer/Fall 2022``, ``Winter 2014``,
  ``Winter 2013/14``, ``весна 2005``, ``летом 2005``, ``весна–лето 1996``;
* years, where one stands as a field of its own (below): ``2021``, ``2021 г.``, ``2021 год``.

**English month and season names without a day must be capitalised** ("the price may 2021…"
is not May 2021); Russian ones are written in lower case and are read in any case.

**A year alone** is read only where a citation puts a date: as a field of its own. Rule, from the
233 footnotes of shared/corpus/russia-digital-tech-isolationism.txt:

* before it: the start of the text, or ``,`` ``;`` ``(`` ``[`` (spaces allowed; a comma may stand
  inside closing quotes, ``“Title,” 2021``), but not a month and a day (``February 30, 2020`` is
  a broken day, not the year 2020) nor ``Ibid.,`` (a page); a number is fine (``vol. 5, no. 2,
  2019, pp. 12–20``, MLA);
* after it: ``,`` ``;`` ``)`` ``]``, a full stop that ends the field (followed by a space or the
  end), or the end of the text; or the Russian ``г.``/``год``/``года``, which name it a year.

So ``Cisco Systems, 2004,``, ``European University Institute, 2013,``, ``(New York: Public
Affairs, 2010)``, ``Nature 461, no. 7267 (2009): 1036``, ``Russian Federation, 2014. II. 13``,
``…Russian Federation, 2021;`` and ``C News, 2021,`` are dates (15 footnotes of the corpus are
dated by a year alone), while the years of names and prose are not: ``Positive Hack Days 2023``,
``NTI 2035``, ``the 2024 US Election``, ``Modernization in Russia Since 1900 (Helsinki``,
``denial from 2022, with``, ``the 2000s``, ``in 2022 – digital development minister``,
``Digital Economy 2024 program``, and year ranges (``2009-2017``).

And a year alone is **a fallback**: a citation's date is its first date more precise than a year,
and only a citation with nothing better gets its first year (``best_date``). Footnote 37 of the
corpus cites a doctrine "…, 2000," and a paper "…, January 2023,": the footnote's date is
January 2023, and each of its two URLs has its own work's date (``fields.split_sources``).

"Accessed" dates follow ``accessed``, ``accessed on``, ``last accessed``, ``retrieved``,
``viewed``, ``visited``, ``consulted`` or ``дата обращения``, in every form above (``accessed
March 2021``; a year alone counts right after the phrase, which names it). Every other date is a
publication date. Callers mask URLs and quoted titles first (``/2022/11/16/`` paths and "Report of
July 2016" titles are not the citation's dates).

Not read: days or months without a year (``November 16``), other languages, two-digit years
(``Nov. '22``), year ranges (``2009–2017``, ``2012–2013 гг.``), a month range whose months cross a
year with one year written (``December–February 2013``: which year?), a day range across years
(``December 30, 2022 – January 2, 2023`` gives two dates), quarters and vague times (``Q3 2021``,
``late 2022``, ``mid-2010s``), ISO months in prose (``2023-01`` is as often a report number;
metadata values are read with ``parse_metadata_date``), and digits glued after a year
(``December 201449`` is "December 2014" and footnote 49 in a pasted web page: it is rejected
rather than guessed).
"""

from __future__ import annotations

import bisect
import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

# --- names ----------------------------------------------------------------------------------------

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

# Genitive ("16 ноября") is what days use, nominative ("январь 2023") and prepositional ("в январе
# 2023 г.") what months alone use; short forms appear in tables.
_RU_MONTHS: dict[str, int] = {}
for _i, _names in enumerate(
    [
        ("января", "январь", "январе", "янв"), ("февраля", "февраль", "феврале", "февр", "фев"),
        ("марта", "март", "марте", "мар"), ("апреля", "апрель", "апреле", "апр"),
        ("мая", "май", "мае"), ("июня", "июнь", "июне", "июн"), ("июля", "июль", "июле", "июл"),
        ("августа", "август", "августе", "авг"), ("сентября", "сентябрь", "сентябре", "сент", "сен"),
        ("октября", "октябрь", "октябре", "окт"), ("ноября", "ноябрь", "ноябре", "нояб", "ноя"),
        ("декабря", "декабрь", "декабре", "дек"),
    ],
    start=1,
):
    for _name in _names:
        _RU_MONTHS[_name] = _i

# Seasons as their place in the year that names them: winter first (see CitedDate).
_WINTER, _SPRING, _SUMMER, _AUTUMN = range(4)
_EN_SEASONS = {"winter": _WINTER, "spring": _SPRING, "summer": _SUMMER, "autumn": _AUTUMN,
               "fall": _AUTUMN}
_RU_SEASONS = {
    **dict.fromkeys(("зима", "зимой", "зимы", "зиму", "зиме"), _WINTER),
    **dict.fromkeys(("весна", "весной", "весны", "весну", "весне"), _SPRING),
    **dict.fromkeys(("лето", "летом", "лета", "лете"), _SUMMER),
    **dict.fromkeys(("осень", "осенью", "осени"), _AUTUMN),
}


def _flat_alternation(names: Iterable[str]) -> str:
    """The names longest first ("марта" before "мар"): what ``_alternation`` must equal (tests)."""
    return "|".join(sorted(names, key=len, reverse=True))


def _alternation(names: Iterable[str]) -> str:
    """The names as a trie, longest first at every branch: ``ma(?:r(?:ch)?|y)`` for "march",
    "mar", "may". It matches exactly what ``_flat_alternation`` does, in the same order of
    preference (the names that match at one place are prefixes of each other, and both try the
    longest first), but the engine reads each letter once instead of once per name: the anchors
    are found some 2x faster."""
    tree: dict[str, dict[str, Any]] = {}
    for name in names:
        node = tree
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}  # a name ends here

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and "" not in node else f"(?:{'|'.join(branches)})"
        return body + "?" if "" in node else body  # greedy: the longer name first

    return emit(tree)


def _first_letters(*groups: Iterable[str]) -> str:
    """A character class of the names' first letters, for a lookahead that lets the engine skip
    the places where none can start before it evaluates the word-start lookbehinds."""
    return "[" + "".join(sorted({name[0] for names in groups for name in names})) + "]"


_EN = _alternation(_EN_MONTHS)
_RU = _alternation(_RU_MONTHS)
_EN_SEASON = _alternation(_EN_SEASONS)
_RU_SEASON = _alternation(_RU_SEASONS)


# --- the forms ------------------------------------------------------------------------------------


def _year(name: str) -> str:
    return rf"(?P<{name}>1[5-9]\d\d|2[01]\d\d)(?!\d)"


def _day(name: str) -> str:
    return rf"(?P<{name}>[0-3]?\d)(?:st|nd|rd|th)?"


def _name_group(name: str, alternation: str) -> str:
    return rf"(?P<{name}>(?i:{alternation}))"


# Not inside a word, except a capitalised month glued after a lower-case letter ("SecurityJuly").
_WORD_START = r"(?:(?<![^\W\d_])|(?<=[a-z])(?=[A-Z]))"
_NOT_IN_WORD = r"(?<![^\W\d_])"
_DASH = r"\s*[-–—]\s*"
_RANGE = r"\s*[-–—/]\s*"  # months and seasons also pair with a slash: "July/August", "Spring/Summer"
# Before a form that starts with a digit: the engine skips the places where none is before it
# evaluates the lookbehinds (the forms run over the whole text 1.5-2x faster).
_DIGIT_NEXT = r"(?=\d)"
_RU_YEAR_WORD = r"(?:\s*(?:г\.|года?(?![^\W\d_])))?"  # "2019 г.", "2021 год", "2023 года"


@dataclass(frozen=True, slots=True)
class _Form:
    pattern: re.Pattern[str]
    read: Callable[[re.Match[str]], CitedDate | None]
    # "en"/"ru": the form starts with an English/Russian month or season name, and is only tried
    # where one starts (one scan for the names instead of one per form: the corpus parses 3x faster)
    anchor: str | None = None
    russian: bool = False    # tried only in a text with Cyrillic letters
    bare_year: bool = False  # a year alone: read only as a field of its own (module docstring)
    # "en"/"ru": a form without an anchor that still needs a month name of that language where
    # an anchor starts (after a space): skipped in a text without one
    needs: str | None = None
    # a character the form cannot match without ("-" of an ISO date): skipped in a text without it
    needs_char: str | None = None


def _month(name: str) -> int | None:
    if name.isdigit():
        return int(name)
    key = name.lower()
    return _EN_MONTHS.get(key) or _RU_MONTHS.get(key)


def _named_by_capital(name: str) -> bool:
    """English month and season names without a day must be capitalised (module docstring)."""
    return name[0].isupper() or not name.isascii()


def _group(m: re.Match[str], name: str) -> str | None:
    """A group that only some forms have."""
    value: str | None = m.group(name) if name in m.re.groupindex else None
    return value


def _read_day(m: re.Match[str]) -> CitedDate | None:
    """A day, or a day range ("July 25-30, 2009", "July 30 – August 2, 2009", "25–30 July")."""
    if "m1" in m.re.groupindex:  # day first: "m" is the last day's month, "m1" the first's if written
        first, last = _month(m.group("m1") or m.group("m")), _month(m.group("m"))
    else:  # month first: "m" is the first day's month, "m2" the last's if written
        first, last = _month(m.group("m")), _month(m.group("m2") or m.group("m"))
    if first is None or last is None:
        return None
    year = int(m.group("y"))
    try:
        start = date(year, first, int(m.group("d")))
        end = date(year, last, int(m.group("d2") or m.group("d")))
    except ValueError:
        return None
    return CitedDate(start, end) if start <= end else None


def _read_months(m: re.Match[str]) -> CitedDate | None:
    """A month or a month range: "January 2023", "Sept.–Dec. 2012", "December 2012 – February 2013"."""
    first_name, last_name = m.group("m"), _group(m, "m2") or m.group("m")
    if not (_named_by_capital(first_name) and _named_by_capital(last_name)):
        return None
    first, last = _month(first_name), _month(last_name)
    year = int(m.group("y"))
    last_year = int(_group(m, "y2") or year)
    if first is None or last is None or (last_year, last) < (year, first):
        return None  # "December–February 2013": which year the December is in is not written
    return CitedDate(date(year, first, 1), _month_end(last_year, last))


def _read_season(m: re.Match[str]) -> CitedDate | None:
    """A season or a range of seasons (rules in the CitedDate docstring)."""
    first_name, last_name = m.group("s"), _group(m, "s2") or m.group("s")
    if not (_named_by_capital(first_name) and _named_by_capital(last_name)):
        return None
    seasons = _EN_SEASONS | _RU_SEASONS
    first, last = seasons.get(first_name.lower()), seasons.get(last_name.lower())
    if first is None or last is None:
        return None  # matched case-insensitively but no name once lowered ("ſummer"), as months
    year = int(m.group("y"))
    second_year = _group(m, "yy")
    if second_year is not None and first == _WINTER:
        # "Winter 2013/14" is the winter that ends in 2014; any other pair of years is not one
        if int(second_year) % 100 != (year + 1) % 100:
            return None
        year += 1
    # Count seasons from winter of year 0: winter of Y is December Y-1 to February Y.
    q_first = year * 4 + first
    q_last = q_first + (last - first) % 4
    start_year, start_month = divmod(q_first * 3 - 1, 12)  # winter → December of the year before
    end_year, end_month = divmod(q_last * 3 + 1, 12)       # winter → February
    return CitedDate(date(start_year, start_month + 1, 1), _month_end(end_year, end_month + 1))


def _read_year(m: re.Match[str]) -> CitedDate | None:
    return CitedDate.year(int(m.group("y")))


def _read_numeric(m: re.Match[str]) -> CitedDate | None:
    try:
        return CitedDate.day(date(int(m.group("y")), int(m.group("m")), int(m.group("d"))))
    except ValueError:
        return None


@cache
def _forms() -> tuple[_Form, ...]:
    """The forms, compiled on first use: a dozen long patterns cost some 10 ms, which commands
    that only need CitedDate (check, report) should not pay."""
    # In this order: a form earlier in the list wins the words it reads ("16 November 2022" is a day,
    # not the month "November 2022"; "September-December 2012" a range, not "December 2012").
    return (
        # November 16, 2022 · Nov. 16, 2022 · July 25-30, 2009 · July 30 – August 2, 2009
        _Form(re.compile(
            _WORD_START + _name_group("m", _EN) + r"\.?\s+" + _day("d")
            + rf"(?:{_DASH}(?:{_name_group('m2', _EN)}\.?\s+)?{_day('d2')})?(?!\d),?\s+" + _year("y")
        ), _read_day, anchor="en"),
        # 16 November 2022 · 16 Nov. 2022 · 25–30 July 2009 · 30 July – 2 August 2009
        _Form(re.compile(
            _DIGIT_NEXT + r"(?<![\d.])" + _day("d")
            + rf"(?:(?:\s+{_name_group('m1', _EN)}\b\.?)?{_DASH}{_day('d2')})?"
            + r"\s+" + _name_group("m", _EN) + r"\b\.?,?\s+" + _year("y")
        ), _read_day, needs="en"),
        # 16 ноября 2022 (г.) · 14–18 ноября 2022
        _Form(re.compile(
            _DIGIT_NEXT + r"(?<![\d.])" + _day("d")
            + rf"(?:(?:\s+{_name_group('m1', _RU)}\b\.?)?{_DASH}{_day('d2')})?"
            + r"\s+" + _name_group("m", _RU) + r"\b\.?\s+" + _year("y") + _RU_YEAR_WORD
        ), _read_day, russian=True, needs="ru"),
        # 2022-11-16
        _Form(re.compile(_DIGIT_NEXT + r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d-])"),
              _read_numeric, needs_char="-"),
        # 16.11.2022
        _Form(re.compile(_DIGIT_NEXT + r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?!\d|\.\d)"),
              _read_numeric),
        # December 2012 – February 2013
        _Form(re.compile(
            _WORD_START + _name_group("m", _EN) + r"\.?,?\s+" + _year("y") + _RANGE
            + _name_group("m2", _EN) + r"\.?,?\s+" + _year("y2")
        ), _read_months, anchor="en"),
        # декабрь 2012 – февраль 2013
        _Form(re.compile(
            _NOT_IN_WORD + _name_group("m", _RU) + r"\.?\s+" + _year("y") + _RU_YEAR_WORD + _RANGE
            + _name_group("m2", _RU) + r"\.?\s+" + _year("y2") + _RU_YEAR_WORD
        ), _read_months, anchor="ru", russian=True),
        # September-December 2012 · Sept.–Dec. 2012 · July/August 2019
        _Form(re.compile(
            _WORD_START + _name_group("m", _EN) + r"\.?" + _RANGE + _name_group("m2", _EN)
            + r"\.?,?\s+" + _year("y")
        ), _read_months, anchor="en"),
        # сентябрь–декабрь 2012
        _Form(re.compile(
            _NOT_IN_WORD + _name_group("m", _RU) + r"\.?" + _RANGE + _name_group("m2", _RU) + r"\.?\s+"
            + _year("y") + _RU_YEAR_WORD
        ), _read_months, anchor="ru", russian=True),
        # Summer 2005 · Spring/Summer 1996 · Winter 2013/14
        _Form(re.compile(
            _NOT_IN_WORD + _name_group("s", _EN_SEASON) + rf"(?:{_RANGE}{_name_group('s2', _EN_SEASON)})?"
            + r",?\s+" + _year("y") + r"(?:[/–-](?P<yy>\d{4}|\d\d)(?!\d))?"
        ), _read_season, anchor="en"),
        # весна 2005 · весна–лето 1996
        _Form(re.compile(
            _NOT_IN_WORD + _name_group("s", _RU_SEASON) + rf"(?:{_RANGE}{_name_group('s2', _RU_SEASON)})?"
            + r"\s+" + _year("y") + _RU_YEAR_WORD
        ), _read_season, anchor="ru", russian=True),
        # January 2023 · Jan. 2023 · Jan 2023
        _Form(re.compile(_WORD_START + _name_group("m", _EN) + r"\.?,?\s+" + _year("y")), _read_months,
              anchor="en"),
        # январь 2023 · январе 2023 г.
        _Form(re.compile(_NOT_IN_WORD + _name_group("m", _RU) + r"\.?\s+" + _year("y") + _RU_YEAR_WORD),
              _read_months, anchor="ru", russian=True),
        # 2021 as a field: ", 2021," · "(2021)" · "2021 г." (the left side is checked by _field_start)
        _Form(re.compile(
            r"(?=[12])(?<![\w.\-–—/])" + _year("y")
            + r"(?:\s*(?:г\.|года?(?![^\W\d_]))|(?=\s*(?:[,;)\]]|\.(?!\S)|$)))"
        ), _read_year, bare_year=True),
    )


@cache
def _anchors() -> dict[str, re.Pattern[str]]:
    """Where an English or a Russian month or season name starts (see ``_Form.anchor``)."""
    en = _alternation([*_EN_MONTHS, *_EN_SEASONS])
    ru = _alternation([*_RU_MONTHS, *_RU_SEASONS])
    return {
        "en": re.compile(rf"(?i:(?={_first_letters(_EN_MONTHS, _EN_SEASONS)}))" + _WORD_START
                         + rf"(?i:{en})"),
        "ru": re.compile(rf"(?i:(?={_first_letters(_RU_MONTHS, _RU_SEASONS)}))" + _NOT_IN_WORD
                         + rf"(?i:{ru})"),
    }


@cache
def _month_and_day_before() -> re.Pattern[str]:
    """A month and a day that end the text: before ", 2020" they make a (broken) day, not a year."""
    return re.compile(rf"(?i:{_EN}|{_RU})\.?\s+[0-3]?\d(?:st|nd|rd|th)?\s*,\s*$")


_CYRILLIC = re.compile("[а-яёА-ЯЁ]")
_FOUR_DIGITS = re.compile(r"\d{4}")
_ACCESSED = re.compile(
    r"(?=[larvcд])"  # the phrases' first letters: the engine skips other places at once
    r"(?:(?:last\s+)?(?:accessed|retrieved|visited|viewed|consulted)(?:\s+on)?|дата\s+обращения)"
    r"\s*:?\s*",
    re.IGNORECASE,
)
# The words _ACCESSED needs, lower case: most citation texts have none, and a substring test is
# far cheaper than running the case-insensitive pattern over the text.
_ACCESSED_WORDS = ("accessed", "retrieved", "visited", "viewed", "consulted", "обращения")


def _accessed_ends(text: str) -> set[int]:
    """Where each "accessed …" phrase of ``text`` ends (its date starts there)."""
    lowered = text.lower()
    if not any(word in lowered for word in _ACCESSED_WORDS):
        return set()
    return {a.end() for a in _ACCESSED.finditer(text)}


_IBID_BEFORE = re.compile(r"\b(?:ibid|id)\.?\s*,\s*$", re.IGNORECASE)


def _field_start(text: str, pos: int, accessed_ends: set[int]) -> bool:
    """Whether a year at ``pos`` begins a field of its own (rule in the module docstring)."""
    if pos in accessed_ends:
        return True  # "accessed 2021": the phrase names it
    i = pos
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if i == 0:
        return True
    if text[i - 1] in "”\"’" and text[i - 2 : i - 1] == ",":
        return True  # Chicago puts the comma inside the quotes: "“Title,” 2021"
    if text[i - 1] not in ",;([":
        return False
    before = text[max(0, i - 20):i]
    return not (_month_and_day_before().search(before) or _IBID_BEFORE.search(before))


@dataclass(frozen=True, slots=True)
class DateMatch:
    start: int
    end: int
    value: CitedDate
    accessed: bool = False  # preceded by "accessed", "retrieved", …


def _inside(starts: list[int], ends: list[int], pos: int) -> bool:
    """Whether ``pos`` is inside one of the sorted, disjoint spans."""
    k = bisect.bisect_right(starts, pos)
    return k > 0 and ends[k - 1] > pos


def find_dates(text: str) -> list[DateMatch]:
    """Every date in ``text`` in order, each marked as an "accessed" date or not. Years alone are
    among them where they stand as a field; ``best_date`` decides whether they count."""
    if _FOUR_DIGITS.search(text) is None:
        return []  # every form has a four-digit year
    accessed_ends = _accessed_ends(text)
    russian = _CYRILLIC.search(text) is not None
    anchors = _anchors()
    starts = {
        "en": [m.start() for m in anchors["en"].finditer(text)],
        "ru": [m.start() for m in anchors["ru"].finditer(text)] if russian else [],
    }
    found: list[DateMatch] = []
    # The spans taken so far, sorted and disjoint, so an overlap is one bisection away: comparing
    # each match with every earlier one made a long text with many dates quadratic.
    taken_starts: list[int] = []
    taken_ends: list[int] = []
    for form in _forms():
        if form.russian and not russian:
            continue
        if form.needs is not None and not starts[form.needs]:
            continue  # its month name, after a space, would have been found as an anchor
        if form.needs_char is not None and form.needs_char not in text:
            continue
        if form.anchor is None:
            matches: Iterable[re.Match[str] | None] = form.pattern.finditer(text)
        else:
            # not where an earlier form's date already is: whatever matched there would overlap it
            matches = (form.pattern.match(text, pos) for pos in starts[form.anchor]
                       if not _inside(taken_starts, taken_ends, pos))
        for m in matches:
            if m is None:
                continue
            start, end = m.span()
            k = bisect.bisect_left(taken_starts, end)  # spans before k start before this ends
            if k and taken_ends[k - 1] > start:
                continue  # the same words already read by an earlier form
            if form.bare_year and not _field_start(text, start, accessed_ends):
                continue
            value = form.read(m)
            if value is None:
                continue
            taken_starts.insert(k, start)
            taken_ends.insert(k, end)
            found.append(DateMatch(start, end, value, accessed=start in accessed_ends))
    found.sort(key=lambda d: d.start)
    return found


def best_date(matches: Iterable[DateMatch], *, accessed: bool = False) -> CitedDate | None:
    """The date a citation gives in one role (publication, or "accessed" with ``accessed``): the
    first one more precise than a year, else the first year (a year alone is a fallback)."""
    dates = [d.value for d in matches if d.accessed == accessed]
    return next((d for d in dates if d.precision != "year"), dates[0] if dates else None)


def date_at(text: str, pos: int) -> DateMatch | None:
    """The date that starts exactly at ``pos``, if one does. The caller says a field starts there,
    so a year alone is read without looking at what precedes it."""
    for form in _forms():
        m = form.pattern.match(text, pos)
        if m:
            value = form.read(m)
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


def parse_date(text: str) -> CitedDate | None:
    """``text`` read as one date (surrounding whitespace allowed), else None."""
    stripped = text.strip()
    d = date_at(stripped, 0)
    return d.value if d and d.end == len(stripped) else None


def find_accessed(text: str) -> CitedDate | None:
    """The "accessed" date of ``text`` (``best_date``)."""
    return best_date(find_dates(text), accessed=True)


def find_published(text: str) -> CitedDate | None:
    """The publication date of ``text``: not an "accessed" one (``best_date``)."""
    return best_date(find_dates(text))


__all__ = [
    "CitedDate", "DateMatch", "accessed_at", "best_date", "date_at", "find_accessed", "find_dates",
    "find_published", "parse_date", "parse_metadata_date",
]


_METADATA_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def parse_metadata_date(value: str | None) -> CitedDate | None:
    """A document's own date from a metadata value (HTML ``<meta>``/``<time datetime>``, YAML
    front matter, PDF XMP): ISO 8601 with any precision (``2022-11-16``, ``2022-11-16T10:00:00Z``,
    ``2023-01``, ``2021``, ``2012-09/2012-12``), ``2022/11/16``, or a date written out in prose.
    A metadata field holds nothing but a date, so a year alone is read here."""
    if not value or not value.strip():
        return None
    text = value.strip()
    iso = CitedDate.from_iso(text)
    if iso is not None:
        return iso
    m = _METADATA_ISO.search(text)
    if m:
        try:
            return CitedDate.day(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            return None
    return parse_date(text) or find_published(text)


# --- dates as cited: a day or a period ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CitedDate:
    """A date as a citation gives it: one day, or a period (a month, a season, a year, a range).

    ``start`` and ``end`` are the first and last day, inclusive (equal for a day). A period is
    never narrowed to an invented day: "January 2023" is 2023-01-01..2023-01-31, "2021" the whole
    year, "September–December 2012" as written.

    Seasons are meteorological, northern hemisphere: spring March–May, summer June–August,
    autumn/fall September–November, winter December to the next February. **"Winter 2014" is
    December 2013 to February 2014**, the winter whose January and February fall in 2014: journals
    number their Winter issue first in its year (the corpus cites "Connections 14, no. 1 (Winter
    2014)"), and "Winter 2013/14" then names the same period. In a range of seasons the first takes
    the year and each next season follows the one before: "Spring/Summer 1996" is March to August
    1996, "Fall/Winter 2010" September 2010 to February 2011.

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
