"""
Tell a document's format from its name and first bytes, and decode its text.

Format (``detect_format``), first rule that applies:

1. content that cannot be mistaken: a file that starts with ``%PDF-`` is a PDF; one that starts
   (after a BOM, blank space, an XML declaration or comments) with ``<!doctype html``, ``<html``
   or ``<head`` is HTML, whatever its name;
2. the suffix (``.txt .md .html .pdf .bib`` and their variants, see ``_BY_SUFFIX``);
3. with no suffix or a prose one (``.rst .adoc .tex .org``): BibTeX when an ``@type{`` entry starts
   a line, Markdown when a footnote definition ``[^1]:`` starts a line, else plain text;
4. anything else is ``UnsupportedFormat``: word processor files get a hint to export them.

The caller overrides all of this by passing a format (``parse_document(path, format=…)``,
``citewatch scan --input-format``).

Text (``decode_text``): UTF-16 with a BOM; UTF-8 with or without a BOM; else the charset an
HTML/XML file declares (``<meta charset>``, ``http-equiv``, ``<?xml encoding>``; ``iso-8859-1`` is
read as windows-1252, as browsers do); else a legacy encoding guessed by charset-normalizer
(cp1251 Russian, Latin-1 …). Binary data (NUL bytes, many control characters, or the signature
of a PDF, ZIP/Office, image or other binary file) is refused with ``UnreadableDocument``.
"""

from __future__ import annotations

import codecs
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

_PROSE_SUFFIXES = ("", ".rst", ".adoc", ".tex", ".org")
_EXPORT_HINT = {
    ".doc": "Word", ".docx": "Word", ".odt": "OpenDocument", ".rtf": "RTF", ".pages": "Pages",
    ".epub": "EPUB",
}
_HTML_START = re.compile(
    rb"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<head)", re.DOTALL
)
_BIBTEX_ENTRY = re.compile(rb"^\s*@[a-zA-Z]+\s*[{(]", re.MULTILINE)
_MARKDOWN_FOOTNOTE = re.compile(rb"^ {0,3}\[\^[^\]\s]+\]:", re.MULTILINE)
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
# windows-1252 is a superset of the ISO-8859-1 printable range, and what browsers use for it
_BROWSER_CHARSETS = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
                     "us-ascii": "cp1252", "ascii": "cp1252"}
_BINARY_SIGNATURES = {
    b"%PDF-": "a PDF", b"PK\x03\x04": "a ZIP archive (or Office document)",
    b"\x89PNG": "a PNG image", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive", b"\x7fELF": "a program",
    b"\xd0\xcf\x11\xe0": "an Office document",
}
_CONTROL = bytes(c for c in range(32) if c not in b"\t\n\r\f\x1b")


def detect_format(path: str, head: bytes) -> DocumentFormat:
    """The format of a document from its name and first bytes (see the module docstring)."""
    sniff = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith(b"%pdf-"):
        return DocumentFormat.PDF
    if _HTML_START.match(sniff):
        return DocumentFormat.HTML
    suffix = PurePath(path).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix in _PROSE_SUFFIXES:
        if _BIBTEX_ENTRY.search(head):
            return DocumentFormat.BIBTEX
        if _MARKDOWN_FOOTNOTE.search(head):
            return DocumentFormat.MARKDOWN
        return DocumentFormat.PLAINTEXT
    if suffix in _EXPORT_HINT:
        raise UnsupportedFormat(
            path, f"{_EXPORT_HINT[suffix]} files are not read: export it as PDF, HTML or text"
        )
    raise UnsupportedFormat(path, f"unknown format {suffix!r} (use --format)")


def decode_text(path: str, data: bytes) -> str:
    """The text of a document (see the module docstring for the order of tries)."""
    return decode_with_encoding(path, data)[0]


def decode_with_encoding(path: str, data: bytes) -> tuple[str, str]:
    """The text of a document and the codec it was read with, so that a rewritten copy
    (``citewatch fix``) is written back in the same encoding."""
    if not data.strip():
        raise UnreadableDocument(path, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise UnreadableDocument(path, "invalid UTF-16 text") from None
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    binary = _binary_kind(data)
    if binary:
        raise UnreadableDocument(path, f"binary file ({binary}), not a text document")
    try:
        return data.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(data)
    if declared:
        try:
            return data.decode(declared), declared
        except UnicodeDecodeError:
            pass
    best = from_bytes(data).best()
    if best is None:
        raise UnreadableDocument(path, "unknown text encoding")
    return str(best), best.encoding


def _binary_kind(data: bytes) -> str | None:
    """What binary file ``data`` is, or None when it looks like text."""
    for signature, kind in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            return kind
    head = data[:8192]
    if b"\x00" in head:
        return "NUL bytes"
    controls = sum(head.count(bytes([c])) for c in _CONTROL)
    if controls > len(head) * 0.02:
        return "control characters"
    return None


def _declared_charset(data: bytes) -> str | None:
    m = _DECLARED_CHARSET.search(data[:4096])
    if m is None:
        return None
    name = (m.group(1) or m.group(2)).decode("ascii").lower()
    name = _BROWSER_CHARSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None
