"""Citations in plain text: inline footnotes glued to the prose, or a notes section at the end.

Two layouts are read. The choice is made per document:

1. **Notes section** (tried first). A line that is only a heading such as ``Notes``,
   ``Endnotes``, ``Footnotes``, ``References``, ``Sources`` or ``Bibliography`` (optionally with
   ``#`` or a colon), followed by numbered entries: ``1. …``, ``1) …``, ``[1] …``, ``(1) …``,
   ``^1 …``, ``1 …`` or ``1“…`` at the start of a line. An entry runs until the next entry;
   its wrapped lines are joined with one space. Numbers must rise by one (a skipped number is
   accepted with a warning), so a wrapped line that starts with a year is not a new entry. A
   blank line followed by anything but the next entry ends the section. Body markers (``[1]``,
   ``^1`` or digits glued to a word) only point at the notes, so they are not citations; ``[n]`` and
   ``^n`` markers without a matching note are reported as warnings.

2. **Inline footnotes** (a web page pasted as text, as in shared/corpus): the footnote number is
   glued to the prose and the citation follows it, in the same paragraph::

       …“brain drain” problems.1“About 100,000 IT specialists…,” Interfax, …, https://….
       …shift during the war2See, e.g., …                 (after a word)
       …as well34.Jen Tracy, “New KGB…”                     (number before the full stop)
       …was created in 19976“History of Yandex: 1997,” …    (year 1997, then marker 6)

   *Finding markers.* Every digit run that touches a possible citation start (an upper-case
   letter, an opening quote or «, possibly after one space or a full stop) is a candidate; so is
   the last part of a run that begins with a year (``1997|6``). Digits inside URLs are not,
   except a number glued between a URL and the next opening quote. Candidates are scored by how
   tightly they are glued, and the chain 1, 2, 3, … with the best total score is kept (dynamic
   programming over positions; a single missing number is bridged with a penalty and a warning).
   The sequence is what tells markers from years and figures in the prose. A document whose
   only "chain" is one number without a URL has no footnotes.

   *Where a citation ends.* A citation never runs past the next marker or the end of its line.
   With URLs, it ends after the last URL before that point plus what still belongs to it:
   page numbers (``…pdf, 2.``), an "accessed …" date, a note such as ``(in Russian)``,
   ``(PDF)`` or a parenthesised quotation ``(“…”)``, the full stop, and one following sentence
   introduced by ``Cited in``, ``Quoted in``, ``See also``, ``Archived``… Prose in parentheses
   after a URL (``(There has also been…)``) is the author's text, not the citation's. Without a
   URL (``Ibid.``, a book), it ends at the first sentence end: a full stop followed by a capital,
   an opening quote or a dash (``I.1.—were resurrected``), a full stop glued to a capital after
   a number (``1036-1039.Despite``), or a full stop after page numbers whatever follows
   (``(Hoboken: Wiley, 2023), 34. and corruption…``). Initials (``R. Adam``), abbreviations
   (``e.g.``, ``eds.``, ``no.``, ``U.S.``) and full stops inside a quoted title do not end it.
   A URL in the prose between a citation and the next marker would be taken into the citation;
   the corpus has none.

   A marker glued after an opening quote (``2022;“210Putin instructs…,” TASS``) gives the quote
   back to the citation, where it belongs.

Both layouts: ``Ibid.`` / ``Ibid, 37.`` / ``Ibid., p. 5`` / ``Id.`` get ``ibid_of`` = the key of the
citation they repeat (an Ibid. after an Ibid. points at the original). URLs outside any
citation become unlabelled citations (key ``@`` + URL), so nothing cited is lost. A footnote that
cites several sources stays one citation with every URL; citations.fields.split_sources cuts it
into its sources.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

from citations.dates import accessed_at
from citations.formats.common import FormatResult
from citations.models import Citation
from citations.records import make_citation
from citations.urls import UrlMatch, find_urls

_OPENERS = frozenset("“\"«")
_INLINE_SPACE = frozenset(" \t\u00a0\u202f\u2009")
_GAP_PENALTY = 8  # a chain that skips a number must be clearly better than one that does not


@dataclass(frozen=True, slots=True)
class _Marker:
    number: int
    start: int  # first digit
    end: int  # after the last digit
    score: int


@dataclass(slots=True)
class _Note:
    label: str | None
    start: int  # offset of the citation's first character in the document
    end: int  # offset after its last character
    text: str
    urls: list[str]


def parse(text: str) -> FormatResult:
    """The citations of a plain-text document (layouts and rules in the module docstring)."""
    result = FormatResult(title=_document_title(text))
    urls = find_urls(text)
    notes = _endnotes(text, result.warnings)
    if not notes:
        notes = _inline_notes(text, urls, result.warnings)
    notes.extend(_bare_links(text, urls, notes))
    notes.sort(key=lambda n: n.start)
    lines = _LineIndex(text)
    citations = [
        make_citation(label=n.label, line=lines.line_of(n.start), text=n.text, urls=n.urls)
        for n in notes
    ]
    result.citations = _link_ibid(_unique_keys(citations))
    return result


class _LineIndex:
    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


def _document_title(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            title = " ".join(line.split())
            return title if len(title) <= 300 else None
    return None


# --- inline footnotes ----------------------------------------------------------------------------


def _inline_notes(text: str, urls: list[UrlMatch], warnings: list[str]) -> list[_Note]:
    chain = _best_chain(_marker_candidates(text, urls))
    notes: list[_Note] = []
    for i, marker in enumerate(chain):
        if i and marker.number != chain[i - 1].number + 1:
            warnings.append(f"footnote {chain[i - 1].number + 1} not found")
        start = _text_start(text, marker)
        line_end = text.find("\n", start)
        limit = len(text) if line_end == -1 else line_end
        if i + 1 < len(chain):
            limit = min(limit, chain[i + 1].start)
        seg_urls = [_clip(u, limit) for u in urls if start <= u.start < limit]
        end = _citation_end(text, start, limit, seg_urls)
        body = text[start:end].strip()
        if not body:
            warnings.append(f"footnote {marker.number} has no text")
            continue
        if marker.start > 0 and text[marker.start - 1] == "“" and _closes_first(body):
            body = "“" + body  # "2022;“210Putin instructs…,”": the quote opens the citation
        notes.append(_Note(str(marker.number), start, end, body, [u.url for u in seg_urls]))
    if len(notes) == 1 and not notes[0].urls:
        return []  # one lone "1" with no URL is a figure in the prose, not a footnote
    return notes


def _closes_first(body: str) -> bool:
    """True if the text closes a quote before it opens one."""
    close, open_ = body.find("”"), body.find("“")
    return close != -1 and (open_ == -1 or close < open_)


def _clip(u: UrlMatch, limit: int) -> UrlMatch:
    """A URL cut where the next marker begins (``…/86316/2“Title``: the 2 is the marker)."""
    if u.end <= limit:
        return u
    url = u.url[: limit - u.start].rstrip(".,;:")
    return UrlMatch(u.start, u.start + len(url), url)


def _marker_candidates(text: str, urls: list[UrlMatch]) -> list[_Marker]:
    url_starts = [u.start for u in urls]
    found: list[_Marker] = []
    for m in re.finditer(r"\d+", text):
        a, b = m.span()
        k = bisect.bisect_right(url_starts, a) - 1
        url_tail = k >= 0 and a < urls[k].end
        if url_tail and not (b == urls[k].end and b < len(text) and text[b] in _OPENERS):
            continue  # inside a URL, only a number at its very end glued to a quote can be a marker
        right = _right_score(text, b)
        if not right:
            continue
        starts = [a]
        if 5 <= b - a <= 7 and text[a : a + 2] in ("19", "20"):
            starts.append(a + 4)  # "in 19976“History": year 1997, marker 6
        for s in starts:
            if text[s] == "0" or b - s > 4:
                continue
            left = 1 if s > a or url_tail else _left_score(text, a)
            if left and left + right >= 3:
                found.append(_Marker(int(text[s:b]), s, b, left + right))
    return found


def _right_score(text: str, b: int) -> int:
    """How much the text after a number looks like the start of a citation."""
    n = len(text)
    if b >= n:
        return 0
    c = text[b]
    if c in _OPENERS:
        return 3
    if c.isupper():
        return 3 if b + 1 < n and (text[b + 1].islower() or text[b + 1] in "’'.") else 2
    if c == "." and b + 1 < n and text[b + 1].isupper():
        return 2  # "as well34.Jen Tracy"
    if c in _INLINE_SPACE:
        j = b + 1
        while j < n and j < b + 3 and text[j] in _INLINE_SPACE:
            j += 1
        if j < n and (text[j] in _OPENERS or (text[j].isupper() and j + 1 < n and text[j + 1].islower())):
            return 1
    return 0


def _left_score(text: str, a: int) -> int:
    """How much the text before a number looks like the end of the sentence it annotates."""
    if a == 0:
        return 0
    p = text[a - 1]
    if p.isalpha() or p in ".,;:”’)]\"?!»…":
        return 2
    if p in "“«—–" or p in _INLINE_SPACE:
        return 1
    return 0


def _best_chain(cands: list[_Marker]) -> list[_Marker]:
    """The markers 1, 2, 3, … in document order with the best total score."""
    by_number: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(cands):
        by_number[c.number].append(i)
    total: dict[int, int] = {}
    prev: dict[int, int | None] = {}
    # For each reached number: candidate ends (sorted) and the best (total, -start, index) so far.
    tables: dict[int, tuple[list[int], list[tuple[int, int, int]]]] = {}

    def best_before(number: int, pos: int) -> tuple[int, int, int] | None:
        table = tables.get(number)
        if table is None:
            return None
        k = bisect.bisect_right(table[0], pos)
        return table[1][k - 1] if k else None

    number, misses, last = 1, 0, 0
    while misses < 2:  # one number may be missing, two in a row end the chain
        reached: list[int] = []
        for i in by_number.get(number, []):
            c = cands[i]
            if number == 1:
                base: tuple[int, int | None] = (0, None)
            else:
                options: list[tuple[int, int, int]] = []
                p = best_before(number - 1, c.start)
                if p:
                    options.append(p)
                q = best_before(number - 2, c.start)
                if q:
                    options.append((q[0] - _GAP_PENALTY, q[1], q[2]))
                if not options:
                    continue
                chosen = max(options)
                base = (chosen[0], chosen[2])
            total[i] = base[0] + c.score
            prev[i] = base[1]
            reached.append(i)
        if reached:
            reached.sort(key=lambda i: cands[i].end)
            ends: list[int] = []
            running: list[tuple[int, int, int]] = []
            for i in reached:
                entry = (total[i], -cands[i].start, i)  # ties go to the earlier candidate
                ends.append(cands[i].end)
                running.append(max(entry, running[-1]) if running else entry)
            tables[number] = (ends, running)
            last, misses = number, 0
        else:
            misses += 1
        number += 1
    if not last:
        return []
    # The chain ends where its total is best: a stray number reached only by skipping one
    # (prose after the last footnote) costs more than it brings.
    cursor: int | None = max(table[1][-1] for table in tables.values())[2]
    chain: list[_Marker] = []
    while cursor is not None:
        chain.append(cands[cursor])
        cursor = prev[cursor]
    return chain[::-1]


def _text_start(text: str, marker: _Marker) -> int:
    pos = marker.end
    if text[pos : pos + 1] == ".":
        pos += 1  # "as well34.Jen Tracy": the full stop ends the sentence, not the citation
    while pos < len(text) and text[pos] in _INLINE_SPACE:
        pos += 1
    return pos


_PAGES = re.compile(r",\s*(?:pp?\.\s*)?\d+(?:\s*[-–]\s*\d+)?(?:,\s*\d+(?:\s*[-–]\s*\d+)?)*(?![\w])")
_ANNOTATION = re.compile(
    r"\s*\((?:[Ii]n\s+[A-Z][a-z]+|PDF|pdf|paywall|[Ss]ubscription required"
    r"|(?:[Aa]rchived|[Aa]ccessed|[Rr]etrieved)[^()]*|[“\"«][^()]*)\)"
)
_ACCESSED_LEAD = re.compile(r"[,.;]?\s*\(?\s*")
_CUE = re.compile(
    r"[\s\u00a0]*(?=(?:Cited in|Quoted in|See also|Archived|Accessed|Retrieved|Translated"
    r"|Translation|Originally)\b)"
)
_PAGE_END = re.compile(
    r"(?:[,:]|\bIbid\.?|\bpp?\.)\s*\d+(?:\s*[-–]\s*\d+)?(?:,\s*\d+(?:\s*[-–]\s*\d+)?)*$"
)
_ABBREVIATIONS = frozenset(
    "al approx art ca cf ch co col corp dept dr ed eds eg est fig ft gen gov ie inc jr jan feb "
    "mar apr jun jul aug sep sept oct nov dec lt ltd mr mrs ms mt no nos op p para pp prof rep "
    "rev sen sr st trans univ v vol vols vs".split()
)


def _citation_end(text: str, start: int, limit: int, seg_urls: list[UrlMatch]) -> int:
    if not seg_urls:
        return _sentence_end(text, start, limit)
    end = _after_url(text, seg_urls[-1].end, limit)
    cue = _CUE.match(text, end, limit)
    if cue:
        end = _sentence_end(text, cue.end(), limit)
    elif re.match(r"\s*;\s*\S", text[end:limit]):
        end = _sentence_end(text, end, limit)  # "url; Author, Book (…), 12." another source
    return end


def _after_url(text: str, pos: int, limit: int) -> int:
    """The end of what still belongs to a citation after its last URL."""
    while True:
        m = _PAGES.match(text, pos, limit) or _ANNOTATION.match(text, pos, limit)
        if m:
            pos = m.end()
            continue
        lead = _ACCESSED_LEAD.match(text, pos, limit)
        accessed = accessed_at(text, lead.end()) if lead else None
        if accessed and accessed.end <= limit:
            pos = accessed.end
            if text[pos : pos + 1] == ")":
                pos += 1
            continue
        break
    return pos + 1 if text[pos : pos + 1] == "." and pos < limit else pos


def _sentence_end(text: str, start: int, limit: int) -> int:
    """The end of the first sentence of a URL-less citation (rules in the module docstring)."""
    last_close = text.rfind("”", start, limit)
    quoted = False
    i = start
    while i < limit:
        ch = text[i]
        if ch == "“":
            quoted = i < last_close  # an opening quote that is never closed does not count
        elif ch == "”":
            quoted = False
        elif ch in ".?!":
            j = i + 1
            while j < limit and text[j] in "”’\")»":
                j += 1
            closed = j > i + 1
            if ch == "." and _PAGE_END.search(text, max(start, i - 60), i):
                return j  # "…(Hoboken: Wiley, 2023), 34. and corruption…"
            if (quoted and not closed) or (ch != "." and closed):
                i += 1  # inside a quoted title, or a title ending in "?" or "!"
                continue
            k = j
            while k < limit and text[k] in _INLINE_SPACE:
                k += 1
            if k >= limit:
                return j
            nxt = text[k]
            if nxt in "—–":
                return j  # "…2000, I.1.—were resurrected"
            if ch == "." and _abbreviation_before(text, start, i):
                i += 1
                continue
            if k > j and (nxt.isupper() or nxt in "“«\"("):
                return j
            if (
                k == j
                and ch == "."
                and (text[i - 1].isdigit() or text[i - 1] == ")")
                and re.match(r"[A-Z][a-z]{2}", text[k : k + 3])
            ):
                return j  # "…1036-1039.Despite the backing"
        i += 1
    return limit


def _abbreviation_before(text: str, start: int, dot: int) -> bool:
    m = re.search(r"([^\W\d_][\w.]*)$", text[max(start, dot - 20) : dot])
    if m is None:
        return False
    token = m.group(1)
    return len(token) == 1 or "." in token or token.lower() in _ABBREVIATIONS


# --- notes sections ------------------------------------------------------------------------------

_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:notes|end\s*notes|foot\s*notes|references|sources|bibliography"
    r"|works\s+cited|citations|примечания|источники|литература|сноски)\s*:?\s*$",
    re.IGNORECASE,
)
_ENTRY = re.compile(
    r"^[ \t]*(?:\[(\d{1,4})\]|\((\d{1,4})\)|\^(\d{1,4})|(\d{1,4})[.)](?=\s)|(\d{1,4})(?=[ \t])"
    r"|(\d{1,4})(?=[“\"«A-ZА-Я]))[ \t]*"
)
_BODY_MARKER = re.compile(r"\[(\d{1,4})\]|\^(\d{1,4})")


def _endnotes(text: str, warnings: list[str]) -> list[_Note]:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    notes: list[_Note] = []
    sections: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if _HEADING.match(lines[i]):
            found, next_i = _read_entries(lines, offsets, i + 1, warnings)
            if found:
                notes.extend(found)
                sections.append((offsets[i], offsets[next_i] if next_i < len(offsets) else len(text)))
                i = next_i
                continue
        i += 1
    if notes:
        _check_body_markers(text, sections, notes, warnings)
    return notes


def _read_entries(
    lines: list[str], offsets: list[int], first: int, warnings: list[str]
) -> tuple[list[_Note], int]:
    entries: list[tuple[int, int, list[str]]] = []  # label, line index, text lines
    expected: int | None = None
    blank = False
    k = first
    while k < len(lines):
        line = lines[k]
        if not line.strip():
            blank = True
            k += 1
            continue
        m = _ENTRY.match(line)
        label = int(next(g for g in m.groups() if g is not None)) if m else None
        if m and label is not None and (expected is None or label in (expected, expected + 1)):
            if expected is not None and label == expected + 1:
                warnings.append(f"note {expected} not found")
            entries.append((label, k, [line[m.end() :].strip()]))
            expected, blank = label + 1, False
        elif not entries or blank or _HEADING.match(line):
            break  # a paragraph that is not a note ends the section
        else:
            entries[-1][2].append(line.strip())
        k += 1
    if not entries or (len(entries) == 1 and entries[0][0] != 1):
        return [], first
    notes: list[_Note] = []
    for label, line_index, parts in entries:
        body = _join_lines(parts)
        start = offsets[line_index] + (len(lines[line_index]) - len(lines[line_index].lstrip()))
        last = line_index + len(parts) - 1
        urls = [u.url for u in find_urls(body)]
        notes.append(_Note(str(label), start, offsets[last] + len(lines[last]), body, urls))
    return notes, k


_URL_TAIL = re.compile(r"(?:https?://|www\.)\S*[/_=&?%#-]$", re.IGNORECASE)
_URL_CONTINUATION = re.compile(r"[\w%~./?=&#:+-]*[\w%~/=&#+-][/._=&-][\w%~./?=&#:+-]*")


def _join_lines(parts: list[str]) -> str:
    """The lines of one note as one text. A URL broken at the line end (``…example.fi/`` +
    ``news/timeline``) is joined back when the next line starts with more path."""
    body = ""
    for part in parts:
        if not part:
            continue
        if body and _URL_TAIL.search(body.rsplit(None, 1)[-1]):
            token = part.split(None, 1)[0].rstrip(".,;:")
            if _URL_CONTINUATION.fullmatch(token):
                body += part
                continue
        body = f"{body} {part}" if body else part
    return body


def _check_body_markers(
    text: str, sections: list[tuple[int, int]], notes: list[_Note], warnings: list[str]
) -> None:
    labels = {n.label for n in notes}
    for m in _BODY_MARKER.finditer(text):
        if any(s <= m.start() < e for s, e in sections):
            continue
        label = m.group(1) or m.group(2)
        if label not in labels:
            warnings.append(f"marker {m.group(0)} has no note")


# --- links outside citations, Ibid., keys ---------------------------------------------------------


_BARE_LINE_MAX = 300  # longer lines are paragraphs: the URL alone says more than the paragraph


def _bare_links(text: str, urls: list[UrlMatch], notes: list[_Note]) -> list[_Note]:
    """URLs outside every citation, each as an unlabelled citation whose text is its line (as
    citations.formats.pdf does when no citation is found), or the URL if the line is long."""
    spans = sorted((n.start, n.end) for n in notes)
    starts = [s for s, _ in spans]
    bare: list[_Note] = []
    # The line of each URL is found from the previous URL's, not from the start of the text (nor
    # stripped again for the next URL of the same line): a document on one line was quadratic.
    before = after = 0       # the previous URL's start and end
    line_start, line_end = 0, -1
    line, line_span = "", (0, -1)
    for u in urls:
        k = bisect.bisect_right(starts, u.start) - 1
        if k >= 0 and u.start < spans[k][1]:
            continue
        newline = text.rfind("\n", before if u.start >= before else 0, u.start)
        if newline >= 0 or u.start < before:
            line_start = newline + 1
        if not after <= u.end <= line_end:  # else no newline between: the same line end
            found = text.find("\n", u.end)
            line_end = len(text) if found == -1 else found
        before, after = u.start, u.end
        if line_span != (line_start, line_end):
            line_span = (line_start, line_end)
            line = text[line_start:line_end].strip()
        bare.append(_Note(None, u.start, u.end, line if len(line) <= _BARE_LINE_MAX else u.url, [u.url]))
    return bare


def _unique_keys(citations: list[Citation]) -> list[Citation]:
    """Keys made unique the way citations.parse does (``#2``, ``#3``), before Ibid. refers to them."""
    seen: Counter[str] = Counter()
    out: list[Citation] = []
    for c in citations:
        seen[c.key] += 1
        out.append(c if seen[c.key] == 1 else replace(c, key=f"{c.key}#{seen[c.key]}"))
    return out


_IBID = re.compile(r"^\s*(?:ibid(?:em)?\b|id\.(?=\s|,|$))", re.IGNORECASE)


def _link_ibid(citations: list[Citation]) -> list[Citation]:
    out: list[Citation] = []
    origin: str | None = None  # key of the source the previous footnote cites
    for c in citations:
        if c.label is None:
            out.append(c)
            continue
        if _IBID.match(c.text) and origin is not None:
            c = replace(c, ibid_of=origin)
        origin = c.ibid_of or c.key
        out.append(c)
    return out


__all__ = ["parse"]
