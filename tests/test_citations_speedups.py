"""The faster date and URL matching finds exactly what the plain one found.

``find_dates`` was made faster (bench/bench_one_line.py) without changing a result: month and
season names as a trie instead of a flat longest-first alternation, a lookahead for the first
character before the word-start lookbehinds, and forms skipped where they cannot match. The
oracle here is the plain version: the forms rebuilt with flat alternations and without the
lookaheads, anchors found by the flat pattern, every form tried over the text. ``find_urls``
lost a Python loop over each URL's characters and gained a first-letter lookahead: its oracle is
the loop and the pattern as they were.
"""

from __future__ import annotations

import random
import re

import pytest

from citations import dates, urls


def _plain(pattern: str) -> str:
    """A pattern of this module as it was written before: flat alternations, no lookaheads."""
    for names in (dates._EN_MONTHS, dates._RU_MONTHS, dates._EN_SEASONS, dates._RU_SEASONS):
        pattern = pattern.replace(dates._alternation(names), dates._flat_alternation(names))
    for prefix in (dates._DIGIT_NEXT, "(?=[12])", "(?=[larvcд])"):
        if pattern.startswith(prefix):
            pattern = pattern[len(prefix):]
    return pattern


_FORMS = [(re.compile(_plain(f.pattern.pattern), f.pattern.flags), f) for f in dates._forms()]
_ANCHORS = {
    "en": re.compile(dates._WORD_START + "(?i:" + dates._flat_alternation(dates._EN_MONTHS) + "|"
                     + dates._flat_alternation(dates._EN_SEASONS) + ")"),
    "ru": re.compile(dates._NOT_IN_WORD + "(?i:" + dates._flat_alternation(dates._RU_MONTHS) + "|"
                     + dates._flat_alternation(dates._RU_SEASONS) + ")"),
}
_ACCESSED = re.compile(_plain(dates._ACCESSED.pattern), dates._ACCESSED.flags)


def _find_dates_plain(text: str) -> list[dates.DateMatch]:
    """find_dates as it was: every form tried, the plain patterns."""
    accessed_ends = {a.end() for a in _ACCESSED.finditer(text)}
    russian = dates._CYRILLIC.search(text) is not None
    starts = {lang: [m.start() for m in _ANCHORS[lang].finditer(text)] for lang in ("en", "ru")}
    found: list[dates.DateMatch] = []
    spans: list[tuple[int, int]] = []
    for pattern, form in _FORMS:
        if form.russian and not russian:
            continue
        matches = (pattern.finditer(text) if form.anchor is None
                   else (pattern.match(text, pos) for pos in starts[form.anchor]))
        for m in matches:
            if m is None:
                continue
            if form.bare_year and not dates._field_start(text, m.start(), accessed_ends):
                continue
            value = form.read(m)
            if value is None or any(s < m.end() and m.start() < e for s, e in spans):
                continue
            spans.append(m.span())
            found.append(dates.DateMatch(m.start(), m.end(), value,
                                         accessed=m.start() in accessed_ends))
    return sorted(found, key=lambda d: d.start)


def test_the_trie_matches_the_names_the_flat_alternation_matches() -> None:
    for names in (dates._EN_MONTHS, dates._RU_MONTHS, dates._EN_SEASONS, dates._RU_SEASONS):
        trie = re.compile(f"(?i:{dates._alternation(names)})")
        flat = re.compile(f"(?i:{dates._flat_alternation(names)})")
        for name in names:
            for text in (name, name.upper(), name.title(), name + "x", name[:-1], name + "е"):
                got, want = trie.match(text), flat.match(text)
                assert (got and got.span()) == (want and want.span()), text


# Names and their prefixes and extensions, cases, glued capitals, digits in every role, the
# characters case-insensitive matching folds ("ſ" is an "s", "K" a "k"), Russian words.
_PIECES = [
    "March", "march", "MARCH", "Mar.", "Mar", "Marc", "May", "may", "Ma", "June", "Jun", "Ju",
    "Jul.", "July", "Sept.", "Sep", "Sept", "September", "Septembre", "ſept", "ſummer", "Auguſt",
    "Summer", "summer", "Fall", "fall", "Autumn", "Winter", "Spring", "Spri", "Dec.", "December",
    "Nov", "Oct.", "Feb", "Febr", "Jan.", "January", "Apr", "April", "aug", "Aug.", "SecurityJuly",
    "PTJuly", "accessed", "Accessed", "last accessed", "ACCESSED on", "retrieved", "Retrieved:",
    "viewed", "visited", "consulted", "дата обращения:", "Дата обращения", "ноября", "ноя",
    "нояб", "январь", "январе", "января", "мая", "май", "мар", "марта", "весна", "летом", "лето",
    "осенью", "зима", "сент", "сентябрь", "декабрь", "г.", "год", "года", "гг.", "Ibid.", "id.",
    "16", "5", "30", "31", "2", "1st", "2nd", "3rd", "25th", "2021", "2022", "1996", "2013",
    "14", "/14", "1499", "2200", "201449", "2021-03-03", "2022-11-16", "2023-01", "16.11.2022",
    "1.2.2020", "٢٠٢١", "2٠21", "1٥99", "–", "—", "-", "/", ",", ";", ".", ":", "(", ")", "[", "]",
    "“Title,”", "”", "\"", " ", "  ", "\n", "\t", "x", "the", "price", "in", "Report", "K", "ĸ",
]


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = [rng.choice(_PIECES) for _ in range(rng.randint(1, 40))]
        texts.append("".join(w + rng.choice(["", " ", " ", ", ", "-", "\n"]) for w in words))
    return texts


@pytest.mark.parametrize("seed", range(4))
def test_find_dates_gives_what_the_plain_matching_gave(seed: int) -> None:
    for text in _texts(seed, 1500):
        assert dates.find_dates(text) == _find_dates_plain(text), text


def test_the_oracle_is_the_code_as_it_was() -> None:
    """The plain patterns are the ones find_dates used before it was made faster (their text is
    written out here for the anchors and the first forms, as a check on _plain)."""
    assert _ANCHORS["en"].pattern.endswith(
        "(?i:september|february|november|december|january|october|august|march|april|june|"
        "july|sept|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|winter|spring|summer|autumn|"
        "fall)")
    assert _FORMS[3][0].pattern == r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d-])"
    assert _FORMS[-1][0].pattern.startswith(r"(?<![\w.\-–—/])(?P<y>1[5-9]\d\d|2[01]\d\d)")
    assert not any("(?=" in p.pattern[:8] for p, _ in _FORMS)


# --- URLs -------------------------------------------------------------------------------------

_URL_START = re.compile(r"(?:https?://|(?<![\w@/.-])www\.)", re.IGNORECASE)


def _find_urls_plain(text: str) -> list[urls.UrlMatch]:
    """find_urls as it was: the URL's end found a character at a time."""
    found: list[urls.UrlMatch] = []
    pos = 0
    n = len(text)
    while True:
        m = _URL_START.search(text, pos)
        if m is None:
            return found
        start = m.start()
        end = m.end()
        while end < n and not text[end].isspace() and text[end] not in urls._STOP_CHARS:
            end += 1
        following = text[end] if end < n else ""
        url = urls._trim(text[start:end], following)
        if len(url) > len(m.group(0)):
            found.append(urls.UrlMatch(start, start + len(url), url))
        pos = max(start + len(url), m.end())


_URL_PIECES = [
    "http://", "https://", "HTTPS://", "Http://", "www.", "WWW.", "xwww.", "@www.", "/www.",
    "example.org", "a.b", "/path", "/Wiki_(NTI)", ")", "(", ".", ",", "…", "”", "“", "«", "»",
    "<", ">", '"', "'", "\u200b", "\u00a0", "\u2003", "\u3000", " ", "\n", "\t", "\x1c",
    "\x85", "Doctrine.pdf", "The", "the", "2015", ".2", "/21421", "Кремль", "–", "?q=1", "#f",
    "h", "w", "ww", "http:/", "https:",
]


@pytest.mark.parametrize("seed", range(4))
def test_find_urls_gives_what_the_character_loop_gave(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(1500):
        text = "".join(rng.choice(_URL_PIECES) for _ in range(rng.randint(1, 40)))
        assert urls.find_urls(text) == _find_urls_plain(text), text
