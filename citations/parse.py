"""Turn a file into a ParsedDocument: read, detect the format, dispatch to the format's parser,
and date the document (``infer_date`` when its metadata does not)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

from citations.dates import CitedDate
from citations.detect import decode_text, detect_format
from citations.errors import CitationsError, UnreadableDocument
from citations.formats import bibtex, html, markdown, pdf, plaintext
from citations.formats.common import FormatResult
from citations.models import Citation, DocumentFormat, ParsedDocument

_TEXT_PARSERS: dict[DocumentFormat, Callable[[str], FormatResult]] = {
    DocumentFormat.PLAINTEXT: plaintext.parse,
    DocumentFormat.MARKDOWN: markdown.parse,
    DocumentFormat.HTML: html.parse,
    DocumentFormat.BIBTEX: bibtex.parse,
}


def parse_document(path: Path, *, format: DocumentFormat | None = None) -> ParsedDocument:
    """Read ``path`` and extract its citations. Raises ``CitationsError`` subclasses."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableDocument(str(path), "no such file") from None
    except IsADirectoryError:
        raise UnreadableDocument(str(path), "is a directory") from None
    except OSError as exc:
        raise UnreadableDocument(str(path), exc.strerror or str(exc)) from None
    return parse_bytes(data, path=str(path), format=format)


def parse_bytes(data: bytes, *, path: str, format: DocumentFormat | None = None) -> ParsedDocument:
    """Extract the citations of a document given as bytes (``path`` names it in errors)."""
    if not data.strip():
        raise UnreadableDocument(path, "empty file")
    fmt = format or detect_format(path, data[:8192])
    try:
        if fmt is DocumentFormat.PDF:
            result = pdf.parse(data, path=path)
        else:
            result = _TEXT_PARSERS[fmt](decode_text(path, data))
    except CitationsError as exc:
        if exc.path:
            raise
        # text parsers do not know the path: they raise with "" and we name the file here
        raise type(exc)(path, exc.reason) from None
    citations = _unique_keys(result.citations)
    when, source = result.date, "metadata"
    if when is None:
        when, source = infer_date(citations, today=date.today()), "inferred"
    return ParsedDocument(
        path=path,
        format=fmt,
        content_hash=hashlib.sha256(data).hexdigest(),
        title=result.title,
        date=when,
        date_source=source if when is not None else None,
        citations=citations,
        warnings=tuple(result.warnings),
    )


def infer_date(citations: Iterable[Citation], *, today: date) -> CitedDate | None:
    """A document's date when its metadata has none: the latest date it cites, since a report is
    not older than its newest source.

    Every cited date counts, published or accessed, the footnote's and each URL's own, a day or a
    period; the latest is the one that *starts* last (of two that start together, the narrower:
    "March 2024" over "2024"). A date that starts after ``today`` is a typo ("2032" for "2023"),
    not evidence, and is skipped. None when nothing is cited with a date.
    """
    cited: list[CitedDate | None] = []
    for c in citations:
        cited += [c.published, c.accessed]
        cited += [d for u in c.urls for d in (u.published, u.accessed)]
    known = [d for d in cited if d is not None and d.start <= today]
    return max(known, key=lambda d: (d.start, -d.end.toordinal()), default=None)


def _unique_keys(citations: list[Citation]) -> tuple[Citation, ...]:
    """Make every key unique in the document: a repeated key gets ``#2``, ``#3`` … in order."""
    seen: Counter[str] = Counter()
    out: list[Citation] = []
    renamed: dict[str, str] = {}
    for c in citations:
        seen[c.key] += 1
        key = c.key if seen[c.key] == 1 else f"{c.key}#{seen[c.key]}"
        renamed.setdefault(c.key, key)
        out.append(c if key == c.key else replace(c, key=key))
    return tuple(out)
