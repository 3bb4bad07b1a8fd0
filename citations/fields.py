"""Read the cited title, publisher and dates out of a citation's text.

Rules (pinned by tests in tests/test_citations_dates.py and tests/test_citations_plaintext.py):

* **Title**: a quoted string, “…”, "…" or « … ». Chicago style puts a comma inside the closing
  quote (``“Title,” Publisher``) and guillemets put it after (``« Заголовок », Kommersant``), so
  a quoted string followed by a comma is preferred; otherwise the first quoted string is taken.
  This skips quotations that come before the title (``argues that the “…” See: Author, “Title,”``).
  A closing quote with no opening one (``224Russia Revises … – Reports,” The Moscow Times``, a
  lost opening quote) makes everything from the start of the text the title. The trailing comma
  or full stop inside the quotes is dropped; a question mark is kept.
* **Publisher**: the segment right after the title, up to the next comma, parenthesis or date
  (``“Title,” Interfax, December 20, 2022`` → Interfax; ``Nature 461, no. 3`` → Nature). For a
  book without a quoted title, the publisher of ``(Place: Publisher, 2010)``. Anything that does
  not look like a name (starts in lower case, holds a URL, has no letters) is not a publisher.
* **Dates**: ``CitedDate``s (a day or a period), read as citations.dates says: the first
  publication date and the first "accessed" date, where a year alone counts only when nothing
  more precise is there (``best_date``). URLs and the quoted title are masked first, so neither
  ``/2022/11/16/`` in a path nor a date inside a title is read as the publication date.

A footnote often cites several sources (``A, “T1,” url1; B, “T2,” url2`` or ``… url1. See also:
…``). ``extract_fields`` describes the footnote as a whole (first title, first dates), which is
what ``Citation`` holds; ``split_sources`` cuts the text into one ``Source`` per cited work, so a
checker can compare each URL with its own title and the archive look for it at its own date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from citations.dates import CitedDate, best_date, find_dates
from citations.urls import find_urls


@dataclass(frozen=True, slots=True)
class Fields:
    title: str | None = None
    publisher: str | None = None
    published: CitedDate | None = None
    accessed: CitedDate | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """One cited work inside a footnote."""

    text: str
    urls: tuple[str, ...]
    fields: Fields


_QUOTED = re.compile(r"“([^“”]+)”|\"([^\"]+)\"|«\s*((?:[^«»]|«[^«»]*»)+?)\s*»")
_CUE = re.compile(r"^\s*(?:see(?:\s+also)?(?:,?\s+e\.g\.)?|cf\.|e\.g\.)\s*[,:]?\s*", re.IGNORECASE)
_PLACE_PUBLISHER = re.compile(r"\(\s*[^():;]{2,60}:\s*([^():;,]{2,80}),\s*(?:[A-Z][a-z]+\.?\s+)?\d{4}\)")


@dataclass(frozen=True, slots=True)
class _Title:
    text: str
    start: int  # span of the whole quoted string, quotes included
    end: int


def _clean_title(raw: str) -> str:
    # A title is a value to compare with the page's title: no-break spaces become plain ones.
    return " ".join(raw.split()).rstrip(",.").strip()


def _find_title(text: str) -> _Title | None:
    first_close = text.find("”")
    first_open = text.find("“")
    if first_close != -1 and (first_open == -1 or first_close < first_open):
        # The opening quote was lost: the title runs from the start (after a "See, e.g.," cue).
        cue = _CUE.match(text)
        start = cue.end() if cue else 0
        title = _clean_title(text[start:first_close])
        if title:
            return _Title(title, start, first_close + 1)
    candidates = [m for m in _QUOTED.finditer(text) if _clean_title(_group(m))]
    if not candidates:
        return None
    best = min(candidates, key=lambda m: (_title_rank(text, m), m.start()))
    return _Title(_clean_title(_group(best)), best.start(), best.end())


def _title_rank(text: str, m: re.Match[str]) -> int:
    """0 for ``“Title,”`` / ``« Title »,``; 1 for a quoted sentence ``“Is It?”``; 2 when a
    name or the end follows; 3 for words quoted inside a sentence (``“color revolution” fears``)."""
    inner = _group(m).rstrip()
    after = text[m.end() :].lstrip(" \u00a0\u202f")
    if inner.endswith(",") or after.startswith(","):
        return 0
    if inner.endswith(("?", "!", ".")):
        return 1
    if not after or not after[0].islower():
        return 2
    return 3


def _group(m: re.Match[str]) -> str:
    return next(g for g in m.groups() if g is not None)


def _publisher_after(text: str, pos: int) -> str | None:
    rest = text[pos : pos + 300].lstrip(" ,\u00a0\u202f")
    m = re.match(r"[^,;(]*", rest)
    end = m.end() if m else 0
    # A date glued to the name ("PT SecurityJuly 25, 2023") or without a comma before it.
    dates = find_dates(rest)
    if dates and dates[0].start < end:
        end = dates[0].start
    candidate = rest[:end].strip()
    if re.match(r"\s*(?:,\s*(?:no|vol)\.|\(|:)", rest[end:], re.IGNORECASE):
        candidate = re.sub(r"\s+\d+$", "", candidate)  # journal volume: "Nature 461, no. 7267"
    return _plausible_name(candidate)


def _plausible_name(candidate: str) -> str | None:
    candidate = " ".join(candidate.split()).strip(" .:")
    if not candidate or len(candidate) > 100 or "://" in candidate or "www." in candidate:
        return None
    if re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", candidate):
        return candidate  # a site named by its domain: "chipinfo.ru"
    if not candidate[0].isupper() or not any(c.isalpha() for c in candidate):
        return None
    if re.match(r"(?:accessed|retrieved|available|in|volume|vol|no|pp?)\b", candidate, re.I):
        return None
    return candidate


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def extract_fields(text: str) -> Fields:
    """Title, publisher, publication and accessed dates of a citation (see module rules)."""
    urls = find_urls(text)
    title = _find_title(text)
    spans = [(u.start, u.end) for u in urls]
    publisher = None
    if title is not None:
        spans.append((title.start, title.end))
        publisher = _publisher_after(_masked(text, [(u.start, u.end) for u in urls]), title.end)
    else:
        book = _PLACE_PUBLISHER.search(text)
        publisher = _plausible_name(book.group(1)) if book else None
    dates = find_dates(_masked(text, spans))
    published = best_date(dates)
    accessed = best_date(dates, accessed=True)
    return Fields(
        title=title.text if title else None,
        publisher=publisher,
        published=published,
        accessed=accessed,
    )


def _split_points(text: str) -> list[int]:
    """Where one source ends and the next begins: a top-level ``;`` (outside quotes, brackets
    and URLs), or a new sentence after a URL (``…/SB993403332336788539. See also: …``)."""
    urls = find_urls(text)
    in_url = [False] * len(text)
    for u in urls:
        for i in range(u.start, u.end):
            in_url[i] = True
    points: list[int] = []
    depth = 0
    quoted = False
    for i, ch in enumerate(text):
        if in_url[i]:
            continue
        if ch in "(«[":
            depth += 1
        elif ch in ")»]" and depth:
            depth -= 1
        elif ch == "“":
            quoted = True
        elif ch == "”":
            quoted = False
        elif ch == ";" and depth == 0 and not quoted:
            points.append(i + 1)
    for u in urls:
        m = re.match(r"[.,]?\s+(?=[A-Z“«])", text[u.end :])
        if m and text[u.end : u.end + 1] == ".":
            points.append(u.end + m.end())
    return sorted(set(points))


def split_sources(text: str) -> list[Source]:
    """The cited works of one footnote, in order, each with its URLs and fields.

    A part with URLs but neither a title nor a date, after a part without URLs, is the link of
    that work, not a work of its own: ``…(Stockholm: FOI, October 2023); FOI Memo 8236,
    https://…`` is one report (footnote 2 of the corpus)."""
    sources: list[Source] = []
    start = 0
    for cut in [*_split_points(text), len(text)]:
        part = text[start:cut].strip(" ;\u00a0\u202f\t\n")
        start = cut
        if not part:
            continue
        source = _source(part)
        f = source.fields
        if sources and not sources[-1].urls and source.urls \
                and f.title is None and f.published is None and f.accessed is None:
            source = _source(f"{sources.pop().text}; {part}")
        sources.append(source)
    return sources


def _source(text: str) -> Source:
    return Source(text=text, urls=tuple(u.url for u in find_urls(text)), fields=extract_fields(text))


__all__ = ["Fields", "Source", "extract_fields", "split_sources"]
