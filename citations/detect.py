"""Tell a document's format from its name and first bytes, and decode its text."""

from __future__ import annotations

import re
from pathlib import PurePath

from charset_normalizer import from_bytes

from citations.errors import UnreadableDocument, UnsupportedFormat
from citations.models import DocumentFormat

_BY_SUFFIX = {
    ".txt": DocumentFormat.PLAINTEXT,
    ".text": DocumentFormat.PLAINTEXT,
    ".md": DocumentFormat.MARKDOWN,
    ".markdown": DocumentFormat.MARKDOWN,
    ".mdown": DocumentFormat.MARKDOWN,
    ".html": DocumentFormat.HTML,
    ".htm": DocumentFormat.HTML,
    ".xhtml": DocumentFormat.HTML,
    ".pdf": DocumentFormat.PDF,
    ".bib": DocumentFormat.BIBTEX,
    ".bibtex": DocumentFormat.BIBTEX,
}

#: Suffixes a folder scan picks up when no --glob is given.
KNOWN_SUFFIXES = frozenset(_BY_SUFFIX)


def detect_format(path: str, head: bytes) -> DocumentFormat:
    """The format of a document: its content where that is unmistakable, else its suffix."""
    if head.startswith(b"%PDF-"):
        return DocumentFormat.PDF
    sniff = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith((b"<!doctype html", b"<html")) or b"<html" in sniff[:1024]:
        return DocumentFormat.HTML
    suffix = PurePath(path).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if re.search(rb"^\s*@[a-zA-Z]+\s*\{", sniff, re.MULTILINE):
        return DocumentFormat.BIBTEX
    if suffix in ("", ".rst", ".adoc", ".tex", ".org"):
        return DocumentFormat.PLAINTEXT
    raise UnsupportedFormat(path, f"unknown format {suffix!r} (use --format)")


def decode_text(path: str, data: bytes) -> str:
    """The text of a document: UTF-8 (with or without BOM), UTF-16 with BOM, or a legacy encoding
    (cp1251, Latin-1, …) guessed from the bytes. Binary data is refused."""
    if not data.strip():
        raise UnreadableDocument(path, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableDocument(path, "invalid UTF-16 text") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:8192]:
        raise UnreadableDocument(path, "binary file, not a text document")
    best = from_bytes(data).best()
    if best is None:
        raise UnreadableDocument(path, "binary file or unknown text encoding")
    return str(best)
