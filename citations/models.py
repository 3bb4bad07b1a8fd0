"""The records that come out of a document: what was cited, where, and which URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from citations.dates import CitedDate
from citations.hosts import host_of

#: What citations/ reads from a document, versioned: bump it when the rules change what is
#: extracted (2: partial dates, inferred document dates; 3: PDF pages, layouts and link
#: annotations), so that the store reads stored documents again on their next scan although
#: their bytes did not change.
EXTRACTION_VERSION = 3


class DocumentFormat(StrEnum):
    PLAINTEXT = "plaintext"
    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"
    BIBTEX = "bibtex"


class LinkKind(StrEnum):
    WEB = "web"          # an ordinary page: check it, archive it when lost
    ARCHIVE = "archive"  # already points into a web archive (Wayback, archive.today, perma.cc)
    INVALID = "invalid"  # not a fetchable http(s) URL: kept as written, checked without a request


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One distinct URL, shared by every citation that cites it.

    ``url`` is the normalised form (IDNA host, percent-encoded path, no fragment): the key that is
    checked, cached and archived. For archive links, ``original_url`` is the page the archive URL
    names. When that capture was taken is read from the URL by archive/ (archive.links
    ``read_capture_link``, the one rulebook for archive timestamps), which the checker asks;
    ``captured_at`` is only the day a citewatch note gives for a capture whose URL archive/ cannot
    read (a mirror's host), never a reading of the URL's timestamp.
    """

    url: str
    kind: LinkKind = LinkKind.WEB
    archive: str | None = None            # "wayback", "archive.today", "perma.cc"
    original_url: str | None = None
    captured_at: datetime | None = None   # UTC; see above

    @property
    def host(self) -> str:
        """The host name; "" for an invalid link, whose text may not split into parts at all."""
        if self.kind is LinkKind.INVALID:
            return ""
        return host_of(self.url)


@dataclass(frozen=True, slots=True, kw_only=True)
class CitedUrl:
    """A URL as it stands in the citation text, and the Link it resolves to."""

    cited: str    # exactly as written (may hold Cyrillic, an IDN host, a fragment)
    link: Link
    # The fields of the source this URL belongs to, when a footnote cites several works
    # ("“A,” …, url1; “B,” …, url2"): drift and the archive date are judged per URL with them.
    # Only when ``own_fields`` is true; otherwise the citation's fields apply.
    own_fields: bool = False
    title: str | None = None
    published: CitedDate | None = None
    accessed: CitedDate | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """One footnote, reference entry or outbound link, as the author wrote it.

    ``key`` identifies the citation inside its document across rescans: the footnote label, made
    unique with ``#n`` when a label repeats; for unlabelled links, ``@`` + the URL.
    """

    key: str
    label: str | None            # footnote label as written ("12", "a", a BibTeX key); None for bare links
    number: int | None           # numeric footnote label, if it is one
    line: int                    # 1-based line where the citation starts
    text: str                    # the full citation text
    urls: tuple[CitedUrl, ...] = ()
    title: str | None = None     # the cited title (the quoted title, if any)
    publisher: str | None = None
    published: CitedDate | None = None   # a day or a period ("January 2023"), as cited
    accessed: CitedDate | None = None
    ibid_of: str | None = None   # "Ibid." citations: key of the citation whose source they repeat
    page: int | None = None      # 1-based page where the citation starts; None for formats without pages


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedDocument:
    """A document and everything cited in it, in document order."""

    path: str
    format: DocumentFormat
    content_hash: str                      # sha256 of the file's bytes
    title: str | None = None
    # The document's own date: from its metadata (date_source "metadata"), else the latest date
    # it cites ("inferred"; citations.parse.infer_date). None when neither exists.
    date: CitedDate | None = None
    date_source: str | None = None         # "metadata" or "inferred"
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()         # things a human may want to look at (skipped numbers, …)
