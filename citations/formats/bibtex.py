"""
Citations in BibTeX / biblatex files: one labelled citation per entry, labelled with its key.

The parser is hand-written (about what BibTeX itself accepts, no new dependency):

* entries ``@type{key, field = value, …}`` or ``@type(key, …)``; type, field and macro names are
  case-insensitive; a trailing comma is fine; text between entries and ``%`` line comments are
  ignored, and so are ``@comment`` and ``@preamble``;
* values in braces (nested braces kept until the text is cleaned), in double quotes, bare numbers,
  and ``@string`` macros (``jan`` … ``dec`` predefined), joined with ``#``;
* an entry that does not close (unbalanced braces: end of file, or a new ``@type{`` at the start
  of a line before it closed) makes the whole file unreadable: ``UnreadableDocument`` names the
  line of that entry, because every entry after it would be read wrongly. Any other error inside
  an entry (a field without ``=``, a missing comma) skips that entry with a warning.

What each citation gets, from the fields (they win over what ``make_citation`` reads from text):

* URLs, in this order: ``url``; ``\\url{…}``, ``\\href{…}{…}`` and bare URLs in ``howpublished``
  and ``note``; ``doi`` as ``https://doi.org/<doi>`` (a leading ``https://doi.org/``,
  ``http://dx.doi.org/`` or ``doi:`` is dropped first); arXiv ``eprint`` as
  ``https://arxiv.org/abs/<id>``. LaTeX escapes (``\\_``, ``\\%``, ``\\&``, ``\\#``) are undone and
  whitespace (line breaks in long URLs) is removed;
* title: ``title`` with braces and LaTeX markup removed (accents become letters: ``{\\"o}`` → ö);
* publisher: ``journal``, ``journaltitle``, ``publisher``, ``organization``, ``institution``;
* published, a ``CitedDate`` as precise as the entry: ``date`` (ISO 8601 at any precision or a
  range, as biblatex has it: ``2022-12-20``, ``2023-01``, ``2021``, ``2012-09/2012-12``), else
  ``year`` alone (the year), ``year`` + ``month`` (the month), + ``day`` (the day); a ``month``
  that is not a month (``Spring``, ``sep--dec``) is read with the year as written text;
* accessed: ``urldate``, read like ``date`` (or a written date such as "November 16, 2022");
* text: a readable line, ``author, “title,” publisher, date, note, accessed …, urls``.

A ``.bib`` file is a bibliography, not a document: it states no date of its own, so
``citations.parse`` dates it by its newest entry.

Left out: ``crossref``/``xdata`` inheritance, name parsing beyond ``and`` → ``;``.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from citations.dates import CitedDate, parse_date, parse_metadata_date
from citations.errors import UnreadableDocument
from citations.formats.common import FormatResult
from citations.models import Citation
from citations.records import make_citation
from citations.urls import find_urls

_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_MONTH_MACROS = {name[:3].lower(): name for name in _MONTH_NAMES}
_ENTRY_HEAD = re.compile(r"@[ \t]*([A-Za-z][\w-]*)\s*([{(])")
_NEXT_ENTRY = re.compile(r"[ \t]*@[ \t]*[A-Za-z][\w-]*\s*[{(]")
_NAME = re.compile(r"[^\s=,{}\"#%()']+")
_PUBLISHER_FIELDS = ("journal", "journaltitle", "publisher", "organization", "institution")
_URL_COMMAND = re.compile(r"\\(?:url|href)\s*\{([^{}]*)\}(?:\s*\{([^{}]*)\})?")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "b": "\u0331", "d": "\u0323",
}
_SYMBOL_ACCENT = re.compile(r"""\\(["'`^~=.])\s*(?:\{\s*(\w)\s*\}|(\w))""")
_LETTER_ACCENT = re.compile(r"\\([uvHckrbd])(?:\s*\{\s*(\w)\s*\}|\s+(\w))")
_LETTERS = {
    "ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ",
    "OE": "Œ", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}
_ESCAPED = re.compile(r"\\([&%$#_{}~])")
# Escaped characters are swapped for private-use ones while markup is removed, then put back.
_PROTECTED = {c: chr(0xE000 + n) for n, c in enumerate("&%$#_{}~")}
_RESTORE = str.maketrans({v: k for k, v in _PROTECTED.items()})
# Commands that only format their argument; any other command (\LaTeX) keeps its name.
_FORMATTING = frozenset(
    "emph textit textbf textsc texttt textrm textsf textup textsl textnormal mkbibquote enquote "
    "mkbibemph url href mbox em it bf sc tt rm sf sl relax noopsort protect".split()
)


class _EntryError(ValueError):
    "A syntax error inside one entry: the entry is skipped"


@dataclass(slots=True)
class _Entry:
    kind: str
    key: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)


class _Lines:
    """Offsets to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


def parse(text: str) -> FormatResult:
    """One citation per BibTeX entry, in file order. Raises ``UnreadableDocument`` (path "") when
    an entry does not close."""
    result = FormatResult()
    macros = dict(_MONTH_MACROS)
    seen: dict[str, int] = {}
    for entry in _entries(text, macros, result.warnings):
        if entry.key in seen:
            result.warnings.append(
                f"line {entry.line}: key {entry.key!r} is used again "
                f"(first on line {seen[entry.key]})"
            )
        seen.setdefault(entry.key, entry.line)
        result.citations.append(_citation(entry))
    return result


# --- reading -----------------------------------------------------------------------------------


def _entries(text: str, macros: dict[str, str], warnings: list[str]) -> list[_Entry]:
    lines = _Lines(text)
    entries: list[_Entry] = []
    pos = 0
    while True:
        at = text.find("@", pos)
        if at < 0:
            return entries
        line_start = text.rfind("\n", 0, at) + 1
        if re.search(r"(?<!\\)%", text[line_start:at]):  # commented out
            newline = text.find("\n", at)
            pos = len(text) if newline < 0 else newline
            continue
        head = _ENTRY_HEAD.match(text, at)
        if head is None:
            pos = at + 1
            continue
        kind = head.group(1).lower()
        end = _entry_end(text, head.end(), head.group(2), kind, lines(at), lines)
        body = text[head.end():end]
        pos = end + 1
        if kind in ("comment", "preamble"):
            continue
        try:
            if kind == "string":
                for name, value in _fields(body, 0, macros, warnings, lines, head.end()):
                    macros[name] = value
                continue
            comma = body.find(",")
            key = body[:comma] if comma >= 0 else body
            entry = _Entry(kind=kind, key=key.strip(), line=lines(at))
            start = comma + 1 if comma >= 0 else len(body)
            for name, value in _fields(body, start, macros, warnings, lines, head.end()):
                if name in entry.fields:
                    warnings.append(
                        f"line {entry.line}: entry {entry.key!r} repeats field {name!r}"
                    )
                    continue
                entry.fields[name] = value
        except _EntryError as exc:
            what = f"entry {_key_of(text, head.end())}" if kind != "string" else "@string "
            warnings.append(f"line {lines(at)}: {what}skipped: {exc}")
            continue
        entries.append(entry)


def _entry_end(text: str, start: int, opener: str, kind: str, line: int, lines: _Lines) -> int:
    """The offset of the delimiter that closes the entry opened just before ``start``."""
    closer = "}" if opener == "{" else ")"
    depth = 0           # brace depth inside the entry
    quoted = False      # inside a "…" value (only at brace depth 0)
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n" and _NEXT_ENTRY.match(text, i + 1) and kind != "comment":
            raise UnreadableDocument(
                "", f"line {line}: @{kind} entry {_key_of(text, start)}does not close before the "
                f"next entry on line {lines(i + 1)} (unbalanced braces)"
            )
        if c == "{":
            depth += 1
        elif c == "}" and depth > 0:
            depth -= 1
        elif c == '"' and depth == 0:
            quoted = not quoted
        elif c == closer and depth == 0 and not quoted:
            return i
        i += 1
    raise UnreadableDocument(
        "", f"line {line}: @{kind} entry {_key_of(text, start)}does not close (unbalanced braces)"
    )


def _key_of(text: str, start: int) -> str:
    key = re.match(r"\s*([^,\s{}()]+)\s*,", text[start:start + 200])
    return f"{key.group(1)!r} " if key else ""


def _fields(
    body: str, i: int, macros: dict[str, str], warnings: list[str], lines: _Lines, base: int
) -> list[tuple[str, str]]:
    """The ``name = value`` pairs of an entry body from offset ``i`` (``base``: the body's offset
    in the file, for line numbers in messages)."""
    found: list[tuple[str, str]] = []
    while True:
        i = _skip(body, i, ",")
        if i >= len(body):
            return found
        name = _NAME.match(body, i)
        if name is None:
            raise _EntryError(f"unexpected {body[i]!r} on line {lines(base + i)}")
        i = _skip(body, name.end())
        if i >= len(body) or body[i] != "=":
            raise _EntryError(f"expected '=' after {name.group(0)!r} on line {lines(base + i)}")
        value, i = _value(body, i + 1, macros, warnings, lines, base)
        found.append((name.group(0).lower(), value))
        i = _skip(body, i)
        if i < len(body) and body[i] != ",":
            raise _EntryError(
                f"expected ',' after field {name.group(0)!r} on line {lines(base + i)}"
            )


def _value(
    body: str, i: int, macros: dict[str, str], warnings: list[str], lines: _Lines, base: int
) -> tuple[str, int]:
    """A value (parts joined with ``#``) starting at ``i``, and the offset after it."""
    parts: list[str] = []
    while True:
        i = _skip(body, i)
        if i >= len(body):
            raise _EntryError(f"missing value on line {lines(base + i)}")
        c = body[i]
        if c in "{\"":
            end = _closing(body, i)
            parts.append(body[i + 1:end])
            i = end + 1
        else:
            word = _NAME.match(body, i)
            if word is None:
                raise _EntryError(f"unexpected {c!r} on line {lines(base + i)}")
            name = word.group(0)
            if name.isdigit():
                parts.append(name)
            elif name.lower() in macros:
                parts.append(macros[name.lower()])
            else:
                warnings.append(f"line {lines(base + i)}: unknown @string macro {name!r}")
                parts.append(name)
            i = word.end()
        i = _skip(body, i)
        if i < len(body) and body[i] == "#":
            i += 1
            continue
        return "".join(parts), i


def _closing(body: str, i: int) -> int:
    """The offset of the ``}`` or ``"`` that closes the value opened at ``i``."""
    depth = 0
    j = i + 1
    while j < len(body):
        c = body[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                if body[i] == "{":
                    return j
                raise _EntryError("unbalanced '}' in a quoted value")
            depth -= 1
        elif c == '"' and body[i] == '"' and depth == 0:
            return j
        j += 1
    raise _EntryError("value does not close")


def _skip(body: str, i: int, also: str = "") -> int:
    """Skip whitespace, ``%`` line comments and the characters in ``also``."""
    while i < len(body):
        if body[i].isspace() or body[i] in also:
            i += 1
        elif body[i] == "%":
            newline = body.find("\n", i)
            i = len(body) if newline < 0 else newline + 1
        else:
            break
    return i


# --- fields ------------------------------------------------------------------------------------


def _citation(entry: _Entry) -> Citation:
    f = entry.fields
    title = _text(f["title"]) if "title" in f else None
    publisher = next((_text(f[name]) for name in _PUBLISHER_FIELDS if f.get(name)), None)
    published = _published(f)
    accessed = _accessed(f.get("urldate"))
    urls = _urls(f)
    notes = [
        text for name in ("howpublished", "note")
        if (text := _text(_URL_COMMAND.sub(lambda m: m.group(1), f.get(name, ""))))
        and text not in urls
    ]
    author = _text(f.get("author") or f.get("editor") or "").replace(" and ", "; ")
    when_accessed = ""
    if f.get("urldate"):
        when_accessed = "accessed " + (_written(accessed) if accessed else _text(f["urldate"]))
    parts = [
        author, f"“{title},”" if title else "", publisher or "", _when(f, published), *notes,
        when_accessed,
        *(url for url in urls if not any(url in note for note in notes)),
    ]
    text = ", ".join(p for p in parts if p).replace(",”,", ",”")
    return make_citation(
        label=entry.key or None, line=entry.line, text=text, urls=urls, title=title,
        published=published, accessed=accessed, publisher=publisher,
    )


def _urls(f: dict[str, str]) -> list[str]:
    urls: list[str] = []
    if f.get("url"):
        urls.extend(_url_field(f["url"]))
    for name in ("howpublished", "note"):
        value = f.get(name, "")
        pos = 0
        for m in _URL_COMMAND.finditer(value):
            urls.extend(_bare_urls(value[pos:m.start()]))
            urls.extend(_url_field(m.group(1)))
            pos = m.end()
        urls.extend(_bare_urls(value[pos:]))
    if f.get("doi"):
        doi = _DOI_PREFIX.sub("", "".join(_unescape(f["doi"]).split()).strip("{}"))
        if doi:
            urls.append("https://doi.org/" + doi.replace("#", "%23").replace("?", "%3F"))
    eprint_type = (f.get("eprinttype") or f.get("archiveprefix") or "").strip().lower()
    if f.get("eprint") and eprint_type == "arxiv":
        urls.append("https://arxiv.org/abs/" + f["eprint"].strip())
    return urls


def _url_field(value: str) -> list[str]:
    """The URL(s) of a ``url`` field: escapes undone, line breaks inside the URL removed."""
    pieces = _unescape(value.replace("{", "").replace("}", "")).split()
    if len(pieces) > 1 and all(re.match(r"https?://", p, re.IGNORECASE) for p in pieces):
        return pieces
    return ["".join(pieces)] if pieces else []


def _bare_urls(value: str) -> list[str]:
    return [m.url for m in find_urls(_unescape(value))]


def _unescape(value: str) -> str:
    return _ESCAPED.sub(r"\1", value)


def _text(value: str) -> str:
    """LaTeX markup to plain text: accents, escapes, dashes, commands and braces."""
    s = re.sub(r"\{\\i\}|\\i\b", "i", value)
    s = _SYMBOL_ACCENT.sub(_accent, s)
    s = _LETTER_ACCENT.sub(_accent, s)
    s = re.sub(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L|j)\b\s?", lambda m: _LETTERS[m.group(1)], s)
    s = _ESCAPED.sub(lambda m: _PROTECTED[m.group(1)], s)
    s = s.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    s = re.sub(
        r"\\([A-Za-z]+)\*?\s*", lambda m: "" if m.group(1) in _FORMATTING else m.group(1), s
    )
    s = s.replace("~", " ")  # after commands: "\LaTeX~well" keeps its space
    s = s.replace("{", "").replace("}", "").translate(_RESTORE)
    return unicodedata.normalize("NFC", " ".join(s.split()))


def _accent(m: re.Match[str]) -> str:
    return (m.group(2) or m.group(3)) + _ACCENTS[m.group(1)]


def _published(f: dict[str, str]) -> CitedDate | None:
    if f.get("date"):
        return _date_field(f["date"])
    found = re.search(r"\d{4}", f.get("year", ""))
    if found is None:
        return None
    year = int(found.group(0))
    if not f.get("month"):
        return CitedDate.year(year)
    month = _month(f["month"])
    if month is None:
        # "Spring", "sep--dec": read with the year as a written date, else the year alone
        return parse_date(f"{_text(f['month']).title()} {year}") or CitedDate.year(year)
    day = re.search(r"\d{1,2}", f.get("day", ""))
    try:
        if day is None:
            return CitedDate.month(year, month)
        return CitedDate.day(date(year, month, int(day.group(0))))
    except ValueError:
        return None


def _when(f: dict[str, str], published: CitedDate | None) -> str:
    """The publication date for the citation text, as precise as the entry gives it."""
    if published is not None:
        return _written(published)
    return _text(f.get("date") or f.get("year") or "")


def _written(cited: CitedDate) -> str:
    """``December 20, 2022``, ``November 2022``, ``2021``; a range as ``CitedDate.label`` has it."""
    if cited.is_day:
        return f"{_MONTH_NAMES[cited.start.month - 1]} {cited.start.day}, {cited.start.year}"
    return cited.label


def _month(value: str) -> int | None:
    value = _text(value).strip().rstrip(".").lower()
    if value.isdigit():
        return int(value) if 1 <= int(value) <= 12 else None
    for number, name in enumerate(_MONTH_NAMES, start=1):
        if len(value) >= 3 and name.lower().startswith(value):
            return number
    return None


def _accessed(value: str | None) -> CitedDate | None:
    return _date_field(value) if value else None


def _date_field(value: str) -> CitedDate | None:
    """A ``date`` or ``urldate``: ISO 8601 at any precision, or a range of those, as biblatex
    writes them (``2023-01``, ``2012-09/2012-12``); an open range (``2012/``) gives its known end;
    else a date written out ("November 16, 2022")."""
    text = _text(value)
    found = parse_metadata_date(text)
    if found is None and "/" in text:  # an open range: "2012/", "/2012"
        found = next(filter(None, map(CitedDate.from_iso, text.split("/"))), None)
    return found
