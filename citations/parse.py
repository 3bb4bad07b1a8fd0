"""Turn a file into a ParsedDocument: read, detect the format, dispatch to the format's parser."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

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
    return ParsedDocument(
        path=path,
        format=fmt,
        content_hash=hashlib.sha256(data).hexdigest(),
        title=result.title,
        date=result.date,
        citations=_unique_keys(result.citations),
        warnings=tuple(result.warnings),
    )


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
