"""Find URLs in prose the way a careful human reads them, and normalise them for checking.

Reading rules (each pinned by tests in tests/test_citations_urls.py):

* a URL starts at ``http://``, ``https://`` or a bare ``www.`` and runs to the first whitespace
  (including no-break spaces), angle bracket or quotation mark;
* trailing sentence punctuation (``. , ; : ! ? …``), closing quotes and closing brackets that have no
  opening partner inside the URL are not part of it; balanced parentheses are
  (``…/Initiative_(NTI)`` keeps its ``)``);
* a URL is never cut at an en dash or other non-ASCII character inside it (Cyrillic paths and
  internationalised host names are kept as cited; ``normalize_url`` encodes them later);
* a URL glued to the next sentence ends before it. Copy-pasted reports lose the space after a URL,
  so ``…Doctrine.pdf.Russia’s 2015 …``, ``…/21421.The Kremlin…``, ``…/1491981.the Russian…``,
  ``…solutions_europe.pdfRussian cell…``, ``…/doc/5357614Equipment such…`` and
  ``…-announced/Cisco advised…`` all end before the glued word. The glued word is only cut where
  a real path would not plausibly end that way (see ``_glued_tail``): after a file extension, a
  digit, a ``/`` or a lower-case slug, and only in the path, never in the host name. A path such
  as ``/wiki/Moscow`` or ``/Derivatives/Census/AstraLinux`` is left alone;
* a footnote number glued after a URL and before the next citation's opening quote
  (``…/86316/.2“Title``) is not part of the URL.

Normalising (``normalize_url``) gives the key that is checked, cached and archived: lower-case
scheme and host, IDNA host, no default port, percent-encoded path and query, no fragment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


# (?=[hw]): the engine skips the places where neither can start before it tries the lookbehind.
_URL_START = re.compile(r"(?=[hw])(?:https?://|(?<![\w@/.-])www\.)", re.IGNORECASE)
# Characters that can never be inside a URL as cited in prose (whitespace is tested separately).
_STOP_CHARS = frozenset("<>\"“”«»‘’„\u200b")
# The rest of a URL: up to whitespace (\s is str.isspace) or a stop character.
_URL_BODY = re.compile(r"[^\s" + re.escape("".join(sorted(_STOP_CHARS))) + "]*")
_TRAILING = ".,;:!?…'\u2019\u201d\"*"
_PAIRS = {")": "(", "]": "[", "}": "{"}
_OPENING_QUOTES = frozenset("“«„")  # not '"': after a URL it may be the closing quote

# File extensions after which a glued capitalised word cannot belong to the URL.
_EXTENSIONS = r"(?:html?|shtml|php|aspx?|jsp|cfm|pdf|docx?|xlsx?|pptx?|txt|xml|json|csv|zip)"
# Words that start English sentences: "…/catalog/Most projects are…", "…/95329/The state…".
_SENTENCE_WORDS = frozenset(
    "A An And As At But By Despite During Even For From However If In It Its Many Meanwhile Most "
    "Nonetheless Notably Now On One Other Others See Since So Some Still Such That The Their "
    "There These They This Those Though Thus Until When While Yet".split()
)
# Lower-case words glued after a ".": "…/biblio/1491981.the Russian government…".
_FUNCTION_WORDS = frozenset(
    "a an and as at but by for from in into is it its of on or that the their these this to "
    "was were which while who with".split()
)
_GLUED_DOT_WORD = re.compile(r"\.([A-Za-z][a-z]*)$")
_GLUED_WORD = re.compile(r"([A-Z][a-z]+)$")
_GLUED_MARKER = re.compile(r"\.\d{1,4}$")
_AUTHORITY = re.compile(r"^(?:https?://)?[^/?#]*", re.IGNORECASE)


def find_urls(text: str) -> list[UrlMatch]:
    """Every http(s) or ``www.`` URL in ``text``, with its span, trimmed as a human would."""
    found: list[UrlMatch] = []
    pos = 0
    n = len(text)
    while True:
        m = _URL_START.search(text, pos)
        if m is None:
            return found
        start = m.start()
        body = _URL_BODY.match(text, m.end())
        end = body.end() if body else m.end()
        following = text[end] if end < n else ""
        url = _trim(text[start:end], following)
        if len(url) > len(m.group(0)):
            found.append(UrlMatch(start, start + len(url), url))
        pos = max(start + len(url), m.end())


def _trim(url: str, following: str = "") -> str:
    """Drop trailing punctuation, unbalanced closing brackets, glued words and glued markers."""
    marker = _GLUED_MARKER.search(url) if following in _OPENING_QUOTES else None
    if marker:
        url = url[: marker.start()]  # "…/86316/.2“Title": the 2 is the next footnote's number
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _PAIRS and url.count(last) > url.count(_PAIRS[last]):
            url = url[:-1]
        else:
            cut = _glued_tail(url)
            if cut == len(url):
                return url
            url = url[:cut]
    return url


def _glued_tail(url: str) -> int:
    """Where the URL ends if prose was glued to its end; ``len(url)`` when nothing was glued."""
    authority = _AUTHORITY.match(url)
    path_start = authority.end() if authority else 0
    path = url[path_start:]
    if not path:
        return len(url)
    m = _GLUED_DOT_WORD.search(path)
    if m:
        word = m.group(1)
        before = path[: m.start()]
        after_safe_end = before.endswith("/") or before[-1:].isdigit() or bool(
            re.search(r"\." + _EXTENSIONS + r"$", before, re.IGNORECASE)
        )
        if word[0].isupper() and len(word) > 1 and (after_safe_end or word in _SENTENCE_WORDS):
            return path_start + m.start()
        if word in _FUNCTION_WORDS and after_safe_end:
            return path_start + m.start()
        return len(url)
    m = _GLUED_WORD.search(path)
    if m is None or m.start() == 0:
        return len(url)
    word = m.group(1)
    before = path[: m.start()]
    segment = before.rsplit("/", 1)[-1]
    if re.search(r"\." + _EXTENSIONS + r"$", before, re.IGNORECASE):
        return path_start + m.start()  # "…/solutions_europe.pdfRussian cell provider…"
    if segment and re.fullmatch(r"[a-z0-9-]*\d", segment):
        return path_start + m.start()  # "…/doc/5357614Equipment such as…"
    if segment and "-" in segment and re.fullmatch(r"[a-z0-9-]+", segment):
        return path_start + m.start()  # "…-china-russia-partnershipRussian dependence…"
    if not segment and not any(c.isupper() for c in before):
        parent = before.rstrip("/").rsplit("/", 1)[-1]
        # "…-journalism-announced/Cisco advised…", "…/catalog/Most projects…"
        if word in _SENTENCE_WORDS or parent.count("-") >= 2 or parent.isdigit():
            return path_start + m.start()
    return len(url)


_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


# A URL already in the form normalize_url gives (lower-case scheme and ASCII host, no user,
# default port or fragment, only characters that quote() keeps): returned as it is. Stored links
# are all of this form, and the checker validates every one of them before its run.
_ALREADY_NORMAL = re.compile(
    r"(?P<scheme>https?)://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(cited: str) -> str:
    """The form of ``cited`` that is fetched and used as the link's key.

    Raises ``InvalidUrl`` for anything that is not a fetchable http(s) URL.
    """
    normal = _ALREADY_NORMAL.fullmatch(cited)
    if normal is not None:
        port = normal.group("port")
        if port is None or _DEFAULT_PORTS[normal.group("scheme")] != int(port) <= 65535:
            return cited
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


# --- web archive links -------------------------------------------------------------------------
#
# citations/ recognises a cited archive link and the page it names, because a scan stores that page
# as a link of its own and ``citewatch fix`` must not archive an archive link again. It does not
# read capture times: when a capture was taken is archive/'s rulebook (archive.links
# ``read_capture_link``, archive.timestamps ``parse_timestamp``), which the checker asks, so a
# Wayback timestamp such as ``20000012170449`` has one reading. A leaf package may not import
# archive/, so the shapes below repeat archive/links.py's (recognising a link, never dating it);
# tests/test_contracts.py holds them to archive/'s answers over a table of tricky URLs.

_WAYBACK = re.compile(
    r"^https?://(?:web\.|wayback\.|www\.|web-beta\.)?archive\.org/web/(?P<ts>\d{1,14})(?P<flag>[a-z]{2}_)?/"
    r"(?P<orig>.+)$",
    re.IGNORECASE,
)
_ARCHIVE_TODAY = re.compile(
    r"^https?://(?:www\.)?(?P<host>archive\.(?:today|ph|is|li|vn|md|fo))/"
    r"(?:(?P<ts>\d{4}\.?\d{2}\.?\d{2}-?\d{0,6})/(?P<orig>.+)|[A-Za-z0-9]+/?)$",
    re.IGNORECASE,
)
_PERMA = re.compile(r"^https?://(?:www\.)?perma\.cc/[A-Za-z0-9-]+/?", re.IGNORECASE)
# Memento archives of archive.settings.MEMENTO_ARCHIVES whose captures are
# ``<host>/<collection>/<14 digits>[flag]/<original URL>`` (keep the two lists in step; citations
# may not import archive): a capture written by ``citewatch fix`` is read back as an archive link.
_MEMENTO_HOSTS = {
    "webarchive.loc.gov": "loc",
    "www.webarchive.org.uk": "ukwa",
    "wayback.archive-it.org": "archive-it",
}
_MEMENTO_PATH = re.compile(
    r"^https?://(?P<host>[^/]+)/(?:[\w.-]+/)*(?P<ts>\d{14})(?:[a-z]{2}_)?/(?P<orig>https?(?::|%3A).+)$",
    re.IGNORECASE,
)


def make_link(cited: str) -> Link:
    """The Link for a cited URL: normalised, and recognised as an archive link where it is one
    (with the page it names as ``original_url``; the capture time is archive/'s to read).

    Raises ``InvalidUrl`` for anything that is not a fetchable http(s) URL.
    """
    url = normalize_url(cited)
    m = _WAYBACK.match(url)
    if m:
        return Link(url=url, kind=LinkKind.ARCHIVE, archive="wayback",
                    original_url=_original(m.group("orig")))
    m = _ARCHIVE_TODAY.match(url)
    if m:
        return Link(url=url, kind=LinkKind.ARCHIVE, archive="archive.today",
                    original_url=_original(m.group("orig")) if m.group("orig") else None)
    if _PERMA.match(url):
        return Link(url=url, kind=LinkKind.ARCHIVE, archive="perma.cc")
    m = _MEMENTO_PATH.match(url)
    if m and m.group("host").lower() in _MEMENTO_HOSTS:
        return Link(url=url, kind=LinkKind.ARCHIVE, archive=_MEMENTO_HOSTS[m.group("host").lower()],
                    original_url=_original(m.group("orig")))
    return Link(url=url)


def _original(orig: str) -> str | None:
    """The page an archive URL names, normalised (archive.links ``_original``'s rule, then the key)."""
    if re.match(r"^https?%3A", orig, re.IGNORECASE):
        orig = unquote(orig)   # the whole original URL percent-encoded
    if re.match(r"^https?:/", orig, re.IGNORECASE):
        # Archives collapse "//" in paths: "http:/example.com" is common in cited Wayback URLs.
        orig = re.sub(r"^(https?):/+", r"\1://", orig, flags=re.IGNORECASE)
    else:
        orig = "http://" + orig
    try:
        return normalize_url(orig)
    except InvalidUrl:
        return None


__all__ = [
    "InvalidUrl", "UrlMatch", "find_urls", "make_link", "normalize_url",
]
