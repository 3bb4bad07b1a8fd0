"""Find URLs in prose the way a careful human reads them, and normalise them for checking.

Reading rules (each pinned by tests):

* trailing sentence punctuation (``. , ; : ! ?``), closing quotes and closing brackets that have no
  opening partner inside the URL are not part of it; balanced parentheses are;
* a URL is never cut at an en dash or other non-ASCII character inside it (Cyrillic paths are kept
  as cited);
* see ``find_urls`` for URLs glued to the next sentence.

Normalising (``normalize_url``) gives the key that is checked, cached and archived: lower-case
scheme and host, IDNA host, no default port, percent-encoded path and query, no fragment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import idna

from citations.models import Link, LinkKind


class InvalidUrl(ValueError):
    "Not an http(s) URL citewatch can fetch"


@dataclass(frozen=True, slots=True)
class UrlMatch:
    start: int
    end: int
    url: str  # as cited


# Characters that can never be inside a URL as cited in prose.
_URL_START = re.compile(r"(?:https?://|(?<![\w@/.-])www\.)", re.IGNORECASE)
_STOP_CHARS = set(" \t\r\n<>\"“”«»‘’„\u00a0\u200b\u3000")
_TRAILING = ".,;:!?…'\u2019\u201d\"*"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def find_urls(text: str) -> list[UrlMatch]:
    """Every http(s) or ``www.`` URL in ``text``, with its span, trimmed as a human would."""
    found: list[UrlMatch] = []
    pos = 0
    while True:
        m = _URL_START.search(text, pos)
        if m is None:
            return found
        start = m.start()
        end = m.end()
        while end < len(text) and text[end] not in _STOP_CHARS:
            end += 1
        url = _trim(text[start:end])
        if len(url) > len(m.group(0)):
            found.append(UrlMatch(start, start + len(url), url))
        pos = max(start + len(url), m.end())


def _trim(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _PAIRS and url.count(last) > url.count(_PAIRS[last]):
            url = url[:-1]
        else:
            return url
    return url


_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


def normalize_url(cited: str) -> str:
    """The form of ``cited`` that is fetched and used as the link's key.

    Raises ``InvalidUrl`` for anything that is not a fetchable http(s) URL.
    """
    raw = cited.strip()
    if raw.lower().startswith("www."):
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(f"{cited!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidUrl(f"{cited!r}: not an http(s) URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidUrl(f"{cited!r}: no host")
    host = _idna_host(host, cited)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if parts.username or parts.password:
        userinfo = quote(unquote(parts.username or ""), safe="")
        if parts.password:
            userinfo += ":" + quote(unquote(parts.password), safe="")
        netloc = f"{userinfo}@{netloc}"
    if port is not None and not (scheme == "http" and port == 80) and not (
        scheme == "https" and port == 443
    ):
        netloc = f"{netloc}:{port}"
    path = quote(parts.path, safe=_SAFE_PATH) or "/"
    query = quote(parts.query, safe=_SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


def _idna_host(host: str, cited: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        try:
            return host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise InvalidUrl(f"{cited!r}: bad international host name") from None


def host_of(url: str) -> str:
    """The host (IDNA, lower case) of a normalised URL."""
    return (urlsplit(url).hostname or "").lower()


# --- web archive links -------------------------------------------------------------------------

_WAYBACK = re.compile(
    r"^https?://(?:web\.|wayback\.)?archive\.org/web/(?P<ts>\d{1,14})(?P<flag>[a-z]{2}_)?/(?P<orig>.+)$",
    re.IGNORECASE,
)
_ARCHIVE_TODAY_HOSTS = {
    "archive.today", "archive.ph", "archive.is", "archive.li", "archive.vn", "archive.md",
    "archive.fo",
}
_ARCHIVE_TODAY = re.compile(
    r"^https?://(?:www\.)?(?P<host>archive\.(?:today|ph|is|li|vn|md|fo))/"
    r"(?:(?P<ts>\d{4}\.?\d{2}\.?\d{2}-?\d{0,6})/(?P<orig>.+)|[A-Za-z0-9]+/?)$",
    re.IGNORECASE,
)
_PERMA = re.compile(r"^https?://(?:www\.)?perma\.cc/[A-Za-z0-9-]+/?", re.IGNORECASE)


def make_link(cited: str) -> Link:
    """The Link for a cited URL: normalised, and recognised as an archive link where it is one.

    Raises ``InvalidUrl`` for anything that is not a fetchable http(s) URL.
    """
    url = normalize_url(cited)
    m = _WAYBACK.match(url)
    if m:
        return Link(
            url=url,
            kind=LinkKind.ARCHIVE,
            archive="wayback",
            original_url=_original(m.group("orig")),
            captured_at=parse_timestamp(m.group("ts")),
        )
    m = _ARCHIVE_TODAY.match(url)
    if m:
        return Link(
            url=url,
            kind=LinkKind.ARCHIVE,
            archive="archive.today",
            original_url=_original(m.group("orig")) if m.group("orig") else None,
            captured_at=parse_timestamp(m.group("ts")) if m.group("ts") else None,
        )
    if _PERMA.match(url):
        return Link(url=url, kind=LinkKind.ARCHIVE, archive="perma.cc")
    return Link(url=url)


def _original(orig: str) -> str | None:
    orig = unquote(orig)
    # Archives collapse "//" in paths: "http:/example.com" is common in cited Wayback URLs.
    orig = re.sub(r"^(https?):/+", r"\1://", orig, flags=re.IGNORECASE)
    if not re.match(r"^https?://", orig, re.IGNORECASE):
        orig = "http://" + orig
    try:
        return normalize_url(orig)
    except InvalidUrl:
        return None


def parse_timestamp(ts: str) -> datetime | None:
    """A Wayback-style timestamp (1 to 14 digits, dots and dashes ignored) as a UTC datetime.

    Short timestamps are padded to their lower bound; impossible months or days (``00``, which the
    real CDX index contains) are clamped to 1, never a crash.
    """
    digits = re.sub(r"\D", "", ts)[:14]
    if len(digits) < 4:
        return None
    digits = digits.ljust(14, "0")
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    hour, minute, second = int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
    month = min(max(month, 1), 12)
    day = max(day, 1)
    while day > 28:
        try:
            datetime(year, month, day)
            break
        except ValueError:
            day -= 1
    try:
        return datetime(year, month, day, min(hour, 23), min(minute, 59), min(second, 59), tzinfo=UTC)
    except ValueError:
        return None


__all__ = [
    "InvalidUrl", "UrlMatch", "find_urls", "host_of", "make_link", "normalize_url",
    "parse_timestamp",
]
