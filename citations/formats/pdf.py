"""
Citations in PDF files, read from the text layer and the link annotations with pypdf.

Text extraction gives the lines as typeset, each with the position and font size of its first
character (pypdf's ``visitor_text``). Reading happens in five steps:

1. **Running headers and footers are dropped**: lines in the top two or bottom two rows of a page
   that recur at the same height on at least a third of the pages (and on two or more), either as
   the same text, or as text that differs only by a number that follows the page number (``14``,
   ``Page 3 of 9``, ``Atlantic Council | 7``). A note number at the top of a column does not
   follow the page numbers, so it stays.
2. **Broken lines are joined** (``join_broken_lines``, rules below), also across a column or page
   break, where the halves are separated only by the dropped headers and footers, provided both
   halves are in the same font size (body text after a footnote is larger: not its continuation).
3. **Footnotes and endnotes are found by their numbers** at line starts, read two ways, and the one
   that finds more footnotes wins (the plain-text one on a tie):

   * with the plain-text rules (``citations.formats.plaintext``: a notes section, or footnotes
     glued inline as in web pages saved as PDF);
   * by the layout: a note starts on a line that begins with its number (``1 “Title,” …``,
     ``2. Author``, ``[3] …``, glued ``4“Title”``), or on a line that holds only its number, its
     text on the next lines (hanging indents extract this way). The rising sequence is the
     evidence: numbers follow each other from 1; a restart at 1 (per-chapter notes) and one
     skipped number are accepted only when the next number follows, and a number that comes
     again before its successor leaves the note to the later one (``1 million people`` in the
     prose above footnote 1). A note runs on over the next lines until the next note starts, a
     blank line, a line in another font size, or a column or page break where the text goes on
     in another font size or where the note looks finished (it ends with a full stop or a URL and
     the next line starts with a capital). So notes run across columns and pages in endnote
     sections, and stop at the foot of a page in footnote layouts. Every other URL becomes one
     unlabelled citation whose text is its line.
4. **Link annotations** (``/Annots``, ``/Link`` with a ``/URI`` action) are placed on the lines
   under their rectangle (or ``/QuadPoints``). On a citation's lines, a target confirms the URL
   the text gives; it repairs one the text layer broke (the text's URL is the start of the target,
   or the target is the start of the text's URL and the text ran on into the next word); a target
   the text does not show at all ("available here") is added to the citation. A target on no
   citation's line becomes an unlabelled citation.
5. **Pages**: each citation records the 1-based page where it starts.

Line numbers count lines of the extracted text, all pages in a row, after headers and footers are
dropped and broken lines joined. The document's title is the one in the PDF's metadata unless it
is a placeholder ("untitled", "Microsoft Word - draft.docx"), else whatever the plain-text rules
found.

The document's date is the XMP ``dc:date`` (Dublin Core: a date in the life of the work, set by
its author or publisher; some tools fill it with the file's date too, and it is taken as stated),
at the precision written (``2023-01`` is a month), the latest when there are several. The Info
dictionary's ``/CreationDate`` and XMP's ``xmp:CreateDate``/``ModifyDate`` are **not** the
document's date: they are when the file was made, and a page saved as PDF, a scan or a re-export
carries the day it was printed, years after the text was written (every PDF the tests build with
reportlab is "created" today). Such a date would also be later than the truth, which is the wrong
side to err on: the archive would look for captures made after pages had changed. A PDF without
``dc:date`` is dated by what it cites (``citations.parse``).

Joining rule. A line that ends inside a URL (its last word holds ``http(s)://`` or ``www.`` and
does not end in ``, ; ) ] > " ” ’``) goes on with the first word of the next line when:

* the URL ends with ``-``: typesetters do not hyphenate URLs, so a hyphen inside a URL is the
  URL's own (``…/annual-`` + ``report-2020.pdf`` → ``…/annual-report-2020.pdf``, hyphen kept)
  and the next word, if it starts like a URL part, is its continuation;
* the URL ends with ``_ = & % + @ ~ #``, where no URL ends, and the next word is made of URL
  characters (``…/Интернет_в_`` + ``России``);
* the URL ends with ``/ . ? :``, where URLs do end, and the next word looks like a URL part: it
  holds one of ``/ ? = & % # _``, an inner dot, or a hyphen or digit but is not a plain number
  of up to four digits (a footnote number ``8`` or a year ``2022.`` starts prose). After a
  ``.``, an all-lower-case word also continues the URL (``…/ru.`` + ``htm``), since a new
  sentence would start with a capital;
* the URL ends with a letter or digit (a break inside a word) and the next word starts in lower
  case and looks like a URL part as above (``…/russia-falls-into-rec`` + ``ession-a79398``), or
  starts with a full stop glued to a letter (``…/32813744`` + ``.html``).

A next line that starts a note (``8 “Title”``, ``8CNews``, ``[8]``) never continues a URL. A
lone lower-case word after a URL that ends in ``/`` is prose, not a path (``…/`` + ``and``): the
two cannot be told apart, and joining prose to a working URL would break it.

Outside URLs, a word hyphenated at the line end (``Isola-`` + ``tionism``) is joined without its
hyphen when the next line starts in lower case, and so is a soft hyphen (U+00AD).

Not read: scanned pages (no text layer: ``UnreadableDocument``), file dates (above); columns
whose lines the PDF interleaves row by row (text is read in the order the file draws it, which is
column by column for typeset reports); a footnote continued at the foot of the next page, below
that page's body text (its continuation reads as unlabelled text); note numbers drawn after their
note's text.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from citations.dates import CitedDate, parse_metadata_date
from citations.errors import UnreadableDocument
from citations.formats import plaintext
from citations.formats.common import FormatResult
from citations.models import Citation, CitedUrl
from citations.records import cited_url, make_citation
from citations.urls import InvalidUrl, find_urls, make_link

if TYPE_CHECKING:
    from pypdf import PageObject, PdfReader

_URL_IN_WORD = re.compile(r"(?:https?://|www\.)\S*$", re.IGNORECASE)
_URL_ENDED = tuple(",;)]>\"”’")
_URL_OPEN = tuple("_=&%+@~#")     # a URL cannot well end here: whatever follows is the rest
_URL_DELIMITERS = tuple("/.?:")  # a URL often ends here: the next word must look like a URL part
_STRONG_PART = re.compile(r"[/?=&%#_]|\w\.\w")
_URL_PART_CHARS = re.compile(r"^[\w\-.~%!$&'()*+,;=:@/?#\[\]]+$")
_HYPHENATED_WORD = re.compile(r"(?<![\w/-])[^\W\d_]+-$")
_SOFT_HYPHEN = "\u00ad"
# A note's first line: "1 Text", "2. Text", "[3] Text", "4“Text", "5Ministry" (not "2022 was",
# "3.5%", "5G")
_NOTE_START = re.compile(
    r"^\s*\[?(\d{1,3})(?:[.)\]]\s*|\s+|(?=[“\"«‘])|(?=[A-ZА-Я][^\W\d_]))(?=[^\d\s.,%])"
)
# A note number on a line of its own (hanging indents): "12", "12.", "[12]"
_NOTE_NUMBER_ALONE = re.compile(r"^\s*\[?(\d{1,3})[.)\]]?\s*$")
# Metadata titles that name the tool or the file, not the document
_PLACEHOLDER_TITLE = re.compile(
    r"^(?:untitled|unknown|title)$|^microsoft (?:word|powerpoint) - |\.(?:docx?|pdf|odt|rtf|tex)$",
    re.IGNORECASE,
)
_REFERENCE_LABEL = re.compile(r"\[\d{1,4}\]")  # "[12]" starts a reference, it is no URL part
_DIGITS = re.compile(r"\d+")
_FINISHED = re.compile(r"(?:\.|(?:https?://|www\.)\S*)$", re.IGNORECASE)
_RUNNING_SHARE = 0.3    # a header or footer recurs on at least this share of the pages …
_RUNNING_ROWS = 2       # … in one of the top or bottom rows of lines
_SIZE_TOLERANCE = 0.75  # points: more than this apart is another font size (body vs notes)
_CHAR_WIDTH = 0.5       # average glyph width in ems, to guess where a line ends


@dataclass(slots=True)
class _Line:
    """One line of extracted text and where it was drawn."""

    text: str
    page: int          # 1-based
    x0: float = 0.0
    x1: float = 0.0    # estimated: pypdf gives where text starts, not its width
    y: float = 0.0     # baseline
    size: float = 0.0  # the largest font size on the line, in points


@dataclass(slots=True)
class _Joined:
    """A line after broken URLs and words were joined: the lines it was made of."""

    text: str
    parts: list[_Line]

    @property
    def first(self) -> _Line:
        return self.parts[0]


@dataclass(frozen=True, slots=True)
class _LinkBox:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    uri: str


@dataclass(slots=True)
class _Layout:
    citations: list[Citation] = field(default_factory=list)
    spans: list[list[int]] = field(default_factory=list)  # joined-line indices of each citation


def parse(data: bytes, *, path: str) -> FormatResult:
    """The citations of a PDF's text layer. Raises ``UnreadableDocument`` for malformed, encrypted
    or scanned (text-less) files."""
    with _stream_damage() as damage:
        pages, boxes, title, when = _read(data, path)
    joined = _join(_drop_running_lines(pages))
    text = "\n".join(j.text for j in joined)
    if not text.strip():
        raise UnreadableDocument(path, _no_text_reason(damage))
    result = plaintext.parse(text)
    layout = _layout_citations(joined)
    if _footnotes(layout.citations) > _footnotes(result.citations) or not result.citations:
        citations, spans = layout.citations, layout.spans
    else:
        citations, spans = result.citations, _spans_by_text(result.citations, joined)
    citations = _with_link_targets(citations, spans, joined, boxes)
    result.citations = [replace(c, page=joined[c.line - 1].first.page) for c in citations]
    result.title = title or result.title
    result.date = when
    return result


def _footnotes(citations: list[Citation]) -> int:
    return sum(1 for c in citations if c.label is not None)


# --- reading ------------------------------------------------------------------------------------


@contextmanager
def _stream_damage() -> Iterator[list[str]]:
    """What pypdf reported, while the block ran, about streams it could not decode.

    pypdf does not raise for a corrupt compressed stream (a bad Flate content stream, say): it
    logs a warning on its ``pypdf.filters`` logger and reads the stream as empty. A page of text
    then looks like a scanned page; these messages tell the two apart."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("pypdf.filters")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def _no_text_reason(damage: list[str]) -> str:
    """Why a PDF gave no text: damaged compressed streams, when pypdf met any, else no text layer."""
    if not damage:
        return "no text layer (scanned PDF?)"
    kind = "compressed (Flate)" if "decompressing" in damage[0] else "encoded"
    return f"damaged PDF: {kind} stream data does not decode ({damage[0]}), so no text could be read"


def _read(
    data: bytes, path: str
) -> tuple[list[list[_Line]], list[_LinkBox], str | None, CitedDate | None]:
    """The lines and link boxes of every page, and the title and date in the PDF's metadata."""
    # imported here: pypdf takes a tenth of a second to import, and most scans have no PDF
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # permissions-only encryption opens with no password
            except DependencyError as exc:
                raise UnreadableDocument(path, f"encrypted PDF: cannot decrypt ({exc})") from None
            if not opened:
                raise UnreadableDocument(path, "encrypted PDF: it needs a password")
        if len(reader.pages) == 0:
            raise UnreadableDocument(path, "malformed PDF: no pages")
        pages = [_page_lines(page, n) for n, page in enumerate(reader.pages, start=1)]
        boxes = [box for n, page in enumerate(reader.pages, start=1) for box in _link_boxes(page, n)]
        meta = reader.metadata
        title = str(meta.title).strip() if meta is not None and meta.title else None
        when = _xmp_date(reader)
    except UnreadableDocument:
        raise
    except PyPdfError as exc:
        raise UnreadableDocument(path, f"malformed PDF: {exc}") from None
    except Exception as exc:  # pypdf lets KeyError, ValueError, zlib.error … out of broken files
        raise UnreadableDocument(path, f"malformed PDF: {type(exc).__name__}: {exc}") from None
    if title and _PLACEHOLDER_TITLE.search(title):
        title = None
    return pages, boxes, title, when


def _page_lines(page: PageObject, number: int) -> list[_Line]:
    """The page's text as pypdf extracts it, line by line, with each line's position."""
    lines: list[_Line] = []
    current = _Line("", number)
    pieces: list[str] = []

    def end_line() -> None:
        nonlocal current
        current.text = "".join(pieces)
        lines.append(current)
        pieces.clear()
        current = _Line("", number)

    def visit(text: str, cm: list[float], tm: list[float], font: Any, font_size: float) -> None:
        if not text:
            return
        # where the text matrix puts the text on the page: tm × cm
        a, b, c, d, e, f = tm
        x = e * cm[0] + f * cm[2] + cm[4]
        y = e * cm[1] + f * cm[3] + cm[5]
        size = font_size * math.hypot(c * cm[0] + d * cm[2], c * cm[1] + d * cm[3])
        chunks = text.split("\n")
        for k, chunk in enumerate(chunks):
            if chunk.strip():
                end = x + len(chunk) * size * _CHAR_WIDTH
                if not pieces or not "".join(pieces).strip():
                    current.x0, current.x1, current.y = x, end, y
                current.x0, current.x1 = min(current.x0, x), max(current.x1, end)
                current.size = max(current.size, size)
            pieces.append(chunk)
            if k < len(chunks) - 1:
                end_line()

    page.extract_text(visitor_text=visit)
    if "".join(pieces) or not lines:  # the text's final newline ends its last line, not a new one
        end_line()
    return lines


def _link_boxes(page: PageObject, number: int) -> list[_LinkBox]:
    """The page's web links: one box per rectangle (or per quadrilateral) and its target."""
    annots = page.get("/Annots")
    if annots is None:
        return []
    boxes: list[_LinkBox] = []
    for ref in annots.get_object():
        annot = ref.get_object()
        if annot.get("/Subtype") != "/Link":
            continue
        action = annot.get("/A")
        action = action.get_object() if action is not None else None
        if action is None or action.get("/S") != "/URI" or action.get("/URI") is None:
            continue
        uri = str(action.get("/URI")).strip()
        if not uri.lower().startswith(("http://", "https://", "www.")):
            continue  # mailto:, file: and internal jumps cite nothing on the web
        quads = annot.get("/QuadPoints")
        if quads:
            q = [float(v) for v in quads.get_object()]
            rects = [(min(q[i:i + 8:2]), min(q[i + 1:i + 8:2]), max(q[i:i + 8:2]),
                      max(q[i + 1:i + 8:2])) for i in range(0, len(q) - 7, 8)]
        else:
            r = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
            rects = [(min(r[0], r[2]), min(r[1], r[3]), max(r[0], r[2]), max(r[1], r[3]))]
        boxes.extend(_LinkBox(number, *rect, uri) for rect in rects)
    return boxes


_DC = "http://purl.org/dc/elements/1.1/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def _xmp_date(reader: PdfReader) -> CitedDate | None:
    """The latest XMP ``dc:date``, read from the XML text: pypdf's ``dc_date`` turns ``2023``
    into January 1, 2023, a precision the file does not claim."""
    try:
        xmp = reader.xmp_metadata
        if xmp is None:
            return None
        values = [
            "".join(t.data for t in li.childNodes if t.nodeType == t.TEXT_NODE)
            for node in xmp.rdf_root.getElementsByTagNameNS(_DC, "date")
            for li in node.getElementsByTagNameNS(_RDF, "li")
        ]
    except Exception:  # broken XMP (bad XML, odd streams) costs the date, not the document
        return None
    dates = [d for d in map(parse_metadata_date, values) if d is not None]
    return max(dates, key=lambda d: (d.start, d.end), default=None)


# --- running headers and footers ----------------------------------------------------------------


def _drop_running_lines(pages: list[list[_Line]]) -> list[_Line]:
    """All lines in reading order, without the running headers, footers and page numbers."""
    # (text with numbers as #, height) → page index → the first number on that line
    seen: dict[tuple[str, int], dict[int, int | None]] = defaultdict(dict)
    for index, lines in enumerate(pages):
        for line in _edge_lines(lines):
            number = _DIGITS.search(line.text)
            key = (_DIGITS.sub("#", " ".join(line.text.lower().split())), round(line.y))
            seen[key][index] = int(number.group()) if number else None
    needed = max(2, math.ceil(_RUNNING_SHARE * sum(1 for lines in pages if lines)))
    running: set[tuple[str, int]] = set()
    for key, numbers in seen.items():
        if "#" in key[0]:
            # numbers that go up with the pages are page numbers; note numbers do not
            offsets = Counter(n - index for index, n in numbers.items() if n is not None)
            count = offsets.most_common(1)[0][1] if offsets else 0
        else:
            count = len(numbers)
        if count >= needed:
            running.add(key)
    kept: list[_Line] = []
    for index, lines in enumerate(pages):
        edges = {id(line) for line in _edge_lines(lines)}
        for line in lines:
            if id(line) in edges:
                key = (_DIGITS.sub("#", " ".join(line.text.lower().split())), round(line.y))
                numbers = seen[key]
                if key in running and (not _DIGITS.search(line.text) or _on_page_track(
                        numbers, index)):
                    continue
            kept.append(line)
    return kept


def _on_page_track(numbers: dict[int, int | None], index: int) -> bool:
    """Whether this page's number keeps the offset to the page index most pages keep."""
    offsets = Counter(n - i for i, n in numbers.items() if n is not None)
    n = numbers.get(index)
    return n is not None and bool(offsets) and n - index == offsets.most_common(1)[0][0]


def _edge_lines(lines: list[_Line]) -> list[_Line]:
    """The lines in the top and bottom rows of a page, where headers and footers stand."""
    rows = sorted({round(line.y) for line in lines if line.text.strip()})
    edge = set(rows[:_RUNNING_ROWS]) | set(rows[-_RUNNING_ROWS:])
    return [line for line in lines if line.text.strip() and round(line.y) in edge]


# --- joining ------------------------------------------------------------------------------------


def _join(lines: list[_Line]) -> list[_Joined]:
    """Lines with broken URLs and words joined, across column and page breaks when both halves
    are in the same font size."""
    out: list[_Joined] = []
    for line in lines:
        if out and _continues(out[-1].text, line.text) and (
            not _is_break(out[-1].parts[-1], line) or _same_size(out[-1].parts[-1], line)
        ):
            out[-1].text = _glue(out[-1].text, line.text)
            out[-1].parts.append(line)
        else:
            out.append(_Joined(line.text, [line]))
    return out


def _is_break(before: _Line, after: _Line) -> bool:
    """Whether ``after`` starts a new column or page: it is not below ``before``."""
    return after.page != before.page or after.y > before.y + 2 * max(before.size, 1.0)


def _same_size(a: _Line, b: _Line) -> bool:
    return abs(a.size - b.size) <= _SIZE_TOLERANCE


def join_broken_lines(text: str) -> str:
    """Join URLs broken across lines and words hyphenated at line ends (module docstring)."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and _continues(out[-1], line):
            out[-1] = _glue(out[-1], line)
        else:
            out.append(line)
    return "\n".join(out)


def _glue(previous: str, line: str) -> str:
    previous = previous.rstrip()
    if previous.endswith(_SOFT_HYPHEN) or (
        _HYPHENATED_WORD.search(previous) and not _URL_IN_WORD.search(previous)
    ):
        previous = previous[:-1]
    return previous + line.lstrip()


# --- notes by the layout ------------------------------------------------------------------------


@dataclass(slots=True)
class _OpenNote:
    label: str
    start: int              # joined-line index of its first line
    texts: list[str]
    span: list[int]
    size: float = 0.0       # font size of its text (0 until its first line of text)


def _layout_citations(joined: list[_Joined]) -> _Layout:
    """Notes found by their numbers at line starts, then one citation per other URL."""
    starts = _note_starts(joined)
    layout = _Layout()
    note: _OpenNote | None = None

    def close() -> None:
        nonlocal note
        if note is not None:
            text = " ".join(" ".join(note.texts).split())
            urls = [m.url for m in find_urls(text)]
            layout.citations.append(make_citation(label=note.label, line=note.start + 1,
                                                  text=text, urls=urls))
            layout.spans.append(note.span)
            note = None

    for i, line in enumerate(joined):
        if i in starts:
            close()
            rest = starts[i]
            note = _OpenNote(_label_of(line.text), i, [rest], [i])
            if rest.strip():
                note.size = line.first.size
        elif note is not None and _goes_on(note, joined[i - 1], line):
            note.texts.append(line.text)
            note.span.append(i)
            if not note.size:
                note.size = line.first.size
        else:
            close()
            for m in find_urls(line.text):
                layout.citations.append(
                    make_citation(label=None, line=i + 1, text=line.text.strip(), urls=[m.url]))
                layout.spans.append([i])
    close()
    order = sorted(range(len(layout.citations)), key=lambda k: layout.citations[k].line)
    return _Layout([layout.citations[k] for k in order], [layout.spans[k] for k in order])


def _label_of(text: str) -> str:
    m = _NOTE_START.match(text) or _NOTE_NUMBER_ALONE.match(text)
    assert m is not None
    return m.group(1)


def _goes_on(note: _OpenNote, previous: _Joined, line: _Joined) -> bool:
    """Whether ``line`` is more of the open note (rules in the module docstring)."""
    if not line.text.strip():
        return False
    if note.size and abs(line.first.size - note.size) > _SIZE_TOLERANCE:
        return False  # a heading, or the body text of the next page
    if not _is_break(previous.parts[-1], line.first):
        return True
    so_far = " ".join(note.texts).rstrip()
    first = line.text.lstrip()[:1]
    return not (_FINISHED.search(so_far) and (first.isupper() or first in "“\"«"))


def _note_starts(joined: list[_Joined]) -> dict[int, str]:
    """Joined-line index → the note text on that line, for every line that starts a note."""
    candidates: list[tuple[int, int, str]] = []  # index, number, rest of the line
    for i, line in enumerate(joined):
        m = _NOTE_START.match(line.text)
        if m:
            candidates.append((i, int(m.group(1)), line.text[m.end():]))
            continue
        m = _NOTE_NUMBER_ALONE.match(line.text)
        if m and i + 1 < len(joined) and joined[i + 1].text.strip():
            candidates.append((i, int(m.group(1)), ""))
    starts: dict[int, str] = {}
    expected = 1
    for k, (i, number, rest) in enumerate(candidates):
        if number < 1:
            continue
        if number == expected:
            ok = _followed_by(candidates, k, number + 1, strict=False)
        elif number == 1 or number == expected + 1:
            ok = bool(starts) and _followed_by(candidates, k, number + 1, strict=True)
        else:
            ok = False
        if ok:
            starts[i] = rest
            expected = number + 1
    return starts


def _followed_by(candidates: list[tuple[int, int, str]], k: int, successor: int, *,
                 strict: bool) -> bool:
    """Whether the next of the candidates after ``k`` numbered like it or like its successor is
    the successor (a repeat of the number means the later one is the note). Without either
    before numbering restarts at 1, the note may be the last of its run, unless ``strict``."""
    number = candidates[k][1]
    for _, other, _ in candidates[k + 1:]:
        if other == successor:
            return True
        if other == number:
            return False
        if other == 1:
            break  # numbering restarts (a new chapter): what comes after is another run
    return not strict


# --- link annotations ---------------------------------------------------------------------------


def _spans_by_text(citations: list[Citation], joined: list[_Joined]) -> list[list[int]]:
    """The lines of each citation of the plain-text reading: from its line on, as many lines as
    its text fills (several inline footnotes share one line)."""
    spans = []
    for c in citations:
        i = c.line - 1
        span = [i]
        covered = len(joined[i].text.strip()) - 6  # less the note number before the text
        while covered < len(c.text) and i + 1 < len(joined) and joined[i + 1].text.strip():
            i += 1
            span.append(i)
            covered += len(joined[i].text.strip()) + 1
        spans.append(span)
    return spans


def _with_link_targets(citations: list[Citation], spans: list[list[int]],
                       joined: list[_Joined], boxes: list[_LinkBox]) -> list[Citation]:
    """Citations with the PDF's link targets: URLs confirmed, repaired or added; targets on no
    citation's line become unlabelled citations."""
    if not boxes:
        return citations
    line_of: dict[int, int] = {id(part): i for i, j in enumerate(joined) for part in j.parts}
    by_page: dict[int, list[_Line]] = defaultdict(list)
    for j in joined:
        for part in j.parts:
            by_page[part.page].append(part)
    targets: dict[int, list[str]] = defaultdict(list)  # joined-line index → URIs, in order
    for box in boxes:
        for part in by_page.get(box.page, []):
            if _under(box, part) and box.uri not in targets[line_of[id(part)]]:
                targets[line_of[id(part)]].append(box.uri)
    owners: dict[int, list[int]] = defaultdict(list)  # joined-line index → citations on it
    for k, span in enumerate(spans):
        for i in span:
            owners[i].append(k)
    out = list(citations)
    extra: list[Citation] = []
    for i in sorted(targets):
        for uri in targets[i]:
            if any(_cites(out[k], uri) for k in owners.get(i, [])):
                continue
            owner = [k for k in owners.get(i, []) if out[k].label is not None] or owners.get(i, [])
            if len(owner) == 1:
                out[owner[0]] = _with_target(out[owner[0]], uri)
            elif not owner:
                extra.append(make_citation(label=None, line=i + 1, text=joined[i].text.strip(),
                                           urls=[uri]))
    return sorted(out + extra, key=lambda c: c.line)


def _under(box: _LinkBox, line: _Line) -> bool:
    """Whether a link's box sits on the line's text."""
    slack = 0.25 * line.size
    return (box.y0 - slack <= line.y <= box.y1 and line.x0 < box.x1 and line.x1 > box.x0)


def _cites(citation: Citation, uri: str) -> bool:
    key = _normal(uri)
    return any(u.link.url == key or u.cited == uri for u in citation.urls)


def _with_target(citation: Citation, uri: str) -> Citation:
    """The citation with ``uri`` in place of the URL the text layer broke, or added."""
    urls = list(citation.urls)
    for k, u in enumerate(urls):
        if _broken_form(u.cited, uri):
            urls[k] = cited_url(uri)
            break
    else:
        urls.append(cited_url(uri))
    key = citation.key if citation.label is not None else "@" + urls[0].link.url
    return replace(citation, key=key, urls=_unique(urls))


def _broken_form(cited: str, uri: str) -> bool:
    """Whether ``cited`` is ``uri`` cut short, or ``uri`` run on into the next word."""
    shorter, longer = sorted((cited, uri), key=len)
    return longer.startswith(shorter) and len(shorter) > len(_site(shorter))


def _site(url: str) -> str:
    m = re.match(r"(?:https?://)?[^/]*", url, re.IGNORECASE)
    return m.group(0) if m else url


def _normal(url: str) -> str:
    try:
        return make_link(url).url
    except InvalidUrl:
        return url


def _unique(urls: list[CitedUrl]) -> tuple[CitedUrl, ...]:
    seen: set[str] = set()
    out: list[CitedUrl] = []
    for u in urls:
        if u.link.url not in seen:
            seen.add(u.link.url)
            out.append(u)
    return tuple(out)


# --- joining rules -----------------------------------------------------------------------------


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` goes on with the word at the end of ``previous``."""
    previous = previous.rstrip()
    word = line.lstrip().split(maxsplit=1)[0] if line.strip() else ""
    if not previous or not word or _REFERENCE_LABEL.match(word):
        return False
    url = _URL_IN_WORD.search(previous)
    if url is None:
        return (
            previous.endswith(_SOFT_HYPHEN) and word[0].isalpha()
            or _HYPHENATED_WORD.search(previous) is not None and word[0].islower()
        )
    cited = url.group(0)
    if cited.endswith(_URL_ENDED) or _NOTE_START.match(line):
        return False  # closed by punctuation, or the next line starts a note ("8CNews, …")
    if cited.endswith("-"):
        return word[0].isalnum() or word[0] in "%_~./?=&#"
    part = word.rstrip(".,;:)]”\"'’")
    if not part or not _URL_PART_CHARS.match(part):
        return False
    if cited.endswith("."):
        lower_word = part.isalpha() and part.islower()
        return not part[0].isupper() and (_looks_like_url_part(part) or lower_word)
    if cited.endswith(_URL_OPEN):
        return True
    if cited.endswith(_URL_DELIMITERS):
        return _looks_like_url_part(part)
    if part[0] == "." and part[1:2].isalnum():
        return True  # "…/32813744" + ".html": no sentence starts with a full stop
    return part[0].islower() and _looks_like_url_part(part)


def _looks_like_url_part(part: str) -> bool:
    if _STRONG_PART.search(part):
        return True
    # a plain number is a note number or a year, unless it is too long to be either
    return ("-" in part or any(ch.isdigit() for ch in part)) and (
        not part.isdigit() or len(part) > 4)
