"""Documents in, citation records out. Imports nothing else of citewatch.

The parsers (and their libraries: beautifulsoup4, pypdf, charset-normalizer) are imported on
first use of `parse_document` or `parse_bytes`, so that commands which never parse (check,
archive, report) start without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from citations.dates import CitedDate
from citations.errors import CitationsError, UnreadableDocument, UnsupportedFormat
from citations.models import Citation, CitedUrl, DocumentFormat, Link, LinkKind, ParsedDocument
from citations.urls import InvalidUrl, find_urls, make_link, normalize_url

if TYPE_CHECKING:
    from citations.parse import parse_bytes, parse_document

__all__ = [
    "Citation", "CitationsError", "CitedDate", "CitedUrl", "DocumentFormat", "InvalidUrl", "Link", "LinkKind",
    "ParsedDocument", "UnreadableDocument", "UnsupportedFormat", "find_urls", "make_link",
    "normalize_url", "parse_bytes", "parse_document",
]


def __getattr__(name: str) -> Any:
    if name in ("parse_bytes", "parse_document"):
        from citations import parse

        return getattr(parse, name)
    raise AttributeError(f"module 'citations' has no attribute {name!r}")
