"""
Citations in PDF files, read from the text layer with pypdf.

Text extraction gives the lines as typeset, so URLs and words broken at the end of a line are
joined first, page by page (``join_broken_lines``; a page's header or footer stands between the
halves of a URL broken across pages, so those are not joined). Then the pages, in a row, are read
two ways, and the one that finds more footnotes wins (the plain-text one on a tie):

* with the plain-text rules (``citations.formats.plaintext``: a notes section, or footnotes glued
  inline as in web pages saved as PDF);
* by the PDF's own layout, footnotes at the foot of each page:

  - a footnote starts on a line that begins with its number (``1 “Title,” …``, ``2. Author``,
    ``[3] …``, or glued, ``4“Title”``), provided the numbers follow each other from 1 (a restart
    at 1 is allowed: per-chapter notes). It runs on over the next lines of its page until the
    next note starts, a blank line or the end of the page, and becomes a labelled citation;
  - every other URL becomes one unlabelled citation whose text is its line.

Line numbers count lines of the extracted text, all pages in a row, after the joins. The
document's title is the one in the PDF's metadata unless it is a placeholder ("untitled",
"Microsoft Word - draft.docx"), else whatever the plain-text rules found.

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
  (a footnote number ``8`` or a year ``2022.`` starts prose). After a ``.``, an all-lower-case
  word also continues the URL (``…/ru.`` + ``htm``), since a new sentence would start with a
  capital;
* the URL ends with a letter or digit (a break inside a word) and the next word starts in lower
  case and looks like a URL part as above (``…/russia-falls-into-rec`` + ``ession-a79398``).

A lone lower-case word after a URL that ends in ``/`` is prose, not a path (``…/`` + ``and``): the
two cannot be told apart, and joining prose to a working URL would break it.

Outside URLs, a word hyphenated at the line end (``Isola-`` + ``tionism``) is joined without its
hyphen when the next line starts in lower case, and so is a soft hyphen (U+00AD).

Not read: scanned pages (no text layer: ``UnreadableDocument``), file dates (above),
annotations' link targets.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from citations.dates import CitedDate, parse_metadata_date
from citations.errors import UnreadableDocument
from citations.formats import plaintext
from citations.formats.common import FormatResult
from citations.models import Citation
from citations.records import make_citation
from citations.urls import find_urls

if TYPE_CHECKING:
    from pypdf import PdfReader

_URL_IN_WORD = re.compile(r"(?:https?://|www\.)\S*$", re.IGNORECASE)
_URL_ENDED = tuple(",;)]>\"”’")
_URL_OPEN = tuple("_=&%+@~#")     # a URL cannot well end here: whatever follows is the rest
_URL_DELIMITERS = tuple("/.?:")  # a URL often ends here: the next word must look like a URL part
_STRONG_PART = re.compile(r"[/?=&%#_]|\w\.\w")
_URL_PART_CHARS = re.compile(r"^[\w\-.~%!$&'()*+,;=:@/?#\[\]]+$")
_HYPHENATED_WORD = re.compile(r"(?<![\w/-])[^\W\d_]+-$")
_SOFT_HYPHEN = "\u00ad"
# A footnote's first line: "1 Text", "2. Text", "[3] Text", "4“Text" (not "2022 was", not "3.5%")
_NOTE_START = re.compile(r"^\s*\[?(\d{1,3})(?:[.)\]]\s*|\s+|(?=[“\"«‘]))(?=[^\d\s.,%])")
# Metadata titles that name the tool or the file, not the document
_PLACEHOLDER_TITLE = re.compile(
    r"^(?:untitled|unknown|title)$|^microsoft (?:word|powerpoint) - |\.(?:docx?|pdf|odt|rtf|tex)$",
    re.IGNORECASE,
)


def parse(data: bytes, *, path: str) -> FormatResult:
    """The citations of a PDF's text layer. Raises ``UnreadableDocument`` for malformed, encrypted
    or scanned (text-less) files."""
    raw_pages, title, when = _read(data, path)
    pages = [join_broken_lines(page.removesuffix("\n")).split("\n") for page in raw_pages]
    text = "\n".join(line for page in pages for line in page)
    if not text.strip():
        raise UnreadableDocument(path, "no text layer (scanned PDF?)")
    result = plaintext.parse(text)
    layout = _layout_citations(pages)
    if _footnotes(layout) > _footnotes(result.citations) or not result.citations:
        result.citations = layout
    result.title = title or result.title
    result.date = when
    return result


def _footnotes(citations: list[Citation]) -> int:
    return sum(1 for c in citations if c.label is not None)


def _layout_citations(pages: list[list[str]]) -> list[Citation]:
    """Footnotes found by their numbers at line starts, then one citation per other URL."""
    citations: list[Citation] = []
    expected = 1
    first = 1  # global line number of the page's first line
    for lines in pages:
        note: tuple[str, int, list[str]] | None = None  # label, line, text lines
        for i, line in enumerate(lines):
            start = _NOTE_START.match(line)
            number = int(start.group(1)) if start else 0
            if start and number in (expected, 1):
                if note:
                    citations.append(_note(*note))
                note = (start.group(1), first + i, [line[start.end():]])
                expected = number + 1
            elif note and line.strip():
                note[2].append(line)
            else:
                if note:
                    citations.append(_note(*note))
                    note = None
                citations.extend(
                    make_citation(label=None, line=first + i, text=line.strip(), urls=[m.url])
                    for m in find_urls(line)
                )
        if note:
            citations.append(_note(*note))
        first += len(lines)
    return sorted(citations, key=lambda c: c.line)


def _note(label: str, line: int, lines: list[str]) -> Citation:
    text = " ".join(" ".join(lines).split())
    return make_citation(label=label, line=line, text=text, urls=[m.url for m in find_urls(text)])


def _read(data: bytes, path: str) -> tuple[list[str], str | None, CitedDate | None]:
    """The text of every page, and the title and date in the PDF's metadata."""
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
        pages = [page.extract_text() or "" for page in reader.pages]
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
    return pages, title, when


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


def join_broken_lines(text: str) -> str:
    """Join URLs broken across lines and words hyphenated at line ends (module docstring)."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and _continues(out[-1], line):
            previous = out[-1].rstrip()
            if previous.endswith(_SOFT_HYPHEN) or (
                _HYPHENATED_WORD.search(previous) and not _URL_IN_WORD.search(previous)
            ):
                previous = previous[:-1]
            out[-1] = previous + line.lstrip()
        else:
            out.append(line)
    return "\n".join(out)


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` goes on with the word at the end of ``previous``."""
    previous = previous.rstrip()
    word = line.lstrip().split(maxsplit=1)[0] if line.strip() else ""
    if not previous or not word:
        return False
    url = _URL_IN_WORD.search(previous)
    if url is None:
        return (
            previous.endswith(_SOFT_HYPHEN) and word[0].isalpha()
            or _HYPHENATED_WORD.search(previous) is not None and word[0].islower()
        )
    cited = url.group(0)
    if cited.endswith(_URL_ENDED):
        return False
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
    return part[0].islower() and _looks_like_url_part(part)


def _looks_like_url_part(part: str) -> bool:
    if _STRONG_PART.search(part):
        return True
    return ("-" in part or any(ch.isdigit() for ch in part)) and not part.isdigit()
