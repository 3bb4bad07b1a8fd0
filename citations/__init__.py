"""Documents in, citation records out. Imports nothing else of citewatch."""

from citations.errors import CitationsError, UnreadableDocument, UnsupportedFormat
from citations.models import Citation, CitedUrl, DocumentFormat, Link, LinkKind, ParsedDocument
from citations.parse import parse_bytes, parse_document
from citations.urls import InvalidUrl, find_urls, make_link, normalize_url

__all__ = [
    "Citation", "CitationsError", "CitedUrl", "DocumentFormat", "InvalidUrl", "Link", "LinkKind",
    "ParsedDocument", "UnreadableDocument", "UnsupportedFormat", "find_urls", "make_link",
    "normalize_url", "parse_bytes", "parse_document",
]
