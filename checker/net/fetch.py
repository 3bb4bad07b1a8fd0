"""
Fetch one URL and record what the wire said as an `Observation`. Never raises for a bad link.

Protocol decisions:

* **Always GET, streamed, closed early.** HEAD would save a body only where we don't want one,
  yet many servers answer HEAD differently (405, 403, 404, or 200 for a page whose GET fails),
  which costs a second request to confirm; and the checker wants the body of every HTML page
  anyway (title, headings, soft-404 sample). So: one GET; the body is read up to
  `max_body_bytes` of *decoded* bytes for HTML (and for untyped answers); for other types (PDF,
  images, archives) only the first chunk is read and the response is closed.
* **Bodies are decoded here, not by aiohttp**, from the raw stream, with zlib's `max_length`, so
  a gzip bomb yields at most the cap, never a 64 KiB chunk inflated a thousandfold. A body of
  several gzip members (legal, and what nginx's `gzip_static` serves for concatenated files) is
  read member after member up to the cap. Only gzip and deflate are asked for (see
  checker.net.client). A response whose body was not read to its end (the cap, a non-HTML
  body) closes its connection: aiohttp reuses only connections whose answer was read whole.
* **Redirects by hand**, up to `max_redirects`, with every response in `chain`. A relative
  `Location` is resolved against the URL that sent it; a 3xx without `Location` is a final answer.
  A 2xx page that sends the reader on at once is a redirect too: a `<meta http-equiv="refresh"
  content="0; url=…">` (in the first `REFRESH_SCAN_BYTES` of an HTML body) or a `Refresh`
  header, with a delay of at most `MAX_REFRESH_DELAY_S`, is followed like a `Location`, under the
  same limit and loop check (its hop keeps the page's own status). A longer delay is a page
  meant to be read first, and a refresh to the same URL only reloads it: neither is followed.
  A loop is a URL seen twice with the same cookies: cookies set along a chain are sent back along
  it (same host or their Domain), because cookie-wall sites redirect to themselves once to set a
  cookie, and that is not a loop. Nothing is kept between URLs.
* **Retries** (`settings.retries` more attempts) for timeouts, resets, temporary DNS failures,
  408, 429, 500, 502, 503 and 504, with exponential backoff and jitter, or after `Retry-After`
  when that is at most `max_retry_after_s` (else we give up and record it). A 429's wait applies
  to its whole host (`HostGate.defer`). `attempts` records how many were made.
* **Time bound**: `total_timeout_s` covers a URL from its first request (not the wait for a
  slot before it) through redirects, retries and bodies, so a server that drips one byte per
  second, which no read timeout catches, still ends.
* **Errors are values.** aiohttp's exceptions are mapped to a `FailureKind` in one place,
  `failure_of()`, most specific first. `status` is the status of the final response; it is None
  when the check ended without one (network failure, redirect loop, too many redirects, a
  forbidden address), and set alongside `FailureKind.DECODING` (the answer came, its body could
  not be decoded).
* **Page text is cheap**: `str.find` and small regular expressions over the capped body for
  `<title>`, `og:title` and the first `<h1>`, and a chunked scan that stops once it has the
  first ~2 KB of visible text. No parser: 0.1–0.3 ms for a 100 KB page.
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import html
import re
import socket
import ssl
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urljoin

from checker.models import FailureKind, Hop, Observation
from checker.net.client import NO_SUCH_NAME_ERRNOS, ForbiddenAddress, build_ssl_context, forbidden_reason
from checker.net.hosts import Clock, HostGate, Sleep, backoff_s, parse_retry_after

if TYPE_CHECKING:
    # aiohttp (with checker.net.session) and httpx are imported when the first request goes
    # out: a `check` with nothing due needs neither (see checker.net.client on why).
    import aiohttp
    import httpx

    from checker.net.session import ClientFactory, GuardedResolver, HostClient
    from checker.settings import CheckSettings

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_FAILURES = frozenset({FailureKind.TIMEOUT, FailureKind.RESET, FailureKind.DNS})

# Response headers worth keeping as evidence (set-cookie only as "present").
KEPT_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "location",
        "retry-after",
        "server",
        "cf-mitigated",
        "www-authenticate",
        "x-frame-options",
        "last-modified",
        "set-cookie",
    }
)
_E = TypeVar("_E", bound=BaseException)
SAMPLE_CHARS = 2000
_TITLE_CHARS = 500
_HEADER_CHARS = 300
_DRAIN_BYTES = 65_536  # read this much of a redirect's body so its connection can be reused
_SCAN_CHARS = 262_144  # the visible-text sample gives up after this much markup
MAX_REFRESH_DELAY_S = 5.0  # a refresh this soon is a redirect; a later one leaves time to read
REFRESH_SCAN_BYTES = 65_536  # where a meta refresh is looked for: the <head> of any real page


# --------------------------------------------------------------------------- failures


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it was raised from, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _first(chain: list[BaseException], kind: type[_E] | tuple[type[_E], ...]) -> _E | None:
    return next((e for e in chain if isinstance(e, kind)), None)


def failure_of(exc: BaseException) -> tuple[FailureKind, str]:
    """The one place where exceptions become failures: (kind, human message).

    Most specific first: aiohttp wraps the OS, TLS and DNS errors (chained), so the cause chain
    is searched.
    """
    import aiohttp  # loaded already: only a request can fail
    import httpx

    chain = _causes(exc)
    # aiohttp's connect errors wrap the OS error in "Cannot connect to host h:p ssl:default
    # [...]": the OS error alone says it (the URL is recorded beside it anyway).
    message = _message(chain[1:] if isinstance(exc, aiohttp.ClientConnectorError)
                       and len(chain) > 1 else chain)
    if _first(chain, ForbiddenAddress):
        return FailureKind.FORBIDDEN_ADDRESS, message
    if isinstance(exc, (aiohttp.InvalidURL, httpx.InvalidURL)):
        return FailureKind.INVALID_URL, message
    if isinstance(exc, TimeoutError):  # aiohttp's ConnectionTimeoutError and SocketTimeoutError
        # The causes only say which timer expired: the class says which timeout it was.
        return FailureKind.TIMEOUT, type(exc).__name__
    gai = _first(chain, socket.gaierror)
    if gai is not None:
        no_name = gai.errno in NO_SUCH_NAME_ERRNOS or "not known" in str(gai)
        return (FailureKind.NXDOMAIN if no_name else FailureKind.DNS), message
    if _first(chain, ssl.SSLError) or isinstance(exc, aiohttp.ClientSSLError):
        return FailureKind.TLS, message  # certificate verification failures included
    if _first(chain, ConnectionRefusedError):
        return FailureKind.REFUSED, message
    if _first(chain, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return FailureKind.RESET, message
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return FailureKind.RESET, message  # closed with no (whole) answer: as good as a reset
    if isinstance(exc, aiohttp.ClientPayloadError):
        # The body was cut short (the connection closed before its length or its last chunk),
        # or its framing was bad (a trailer flood, a malformed chunk): a reset, or a protocol error.
        return (FailureKind.RESET if "Not enough data" in message else FailureKind.PROTOCOL), message
    if isinstance(exc, aiohttp.ClientResponseError):  # a malformed answer (parser errors)
        return FailureKind.PROTOCOL, message
    if isinstance(exc, aiohttp.ClientConnectorError):  # proxy failures included
        return FailureKind.CONNECT, message
    if isinstance(exc, aiohttp.ClientConnectionError):  # a read or write failed mid-exchange
        return FailureKind.RESET, message
    if isinstance(exc, OSError):
        return FailureKind.CONNECT, message
    # Anything else (a library bug, an unsupported proxy) is still a value: the run goes on.
    return FailureKind.PROTOCOL, f"{type(exc).__name__}: {message}"


def _message(chain: list[BaseException]) -> str:
    """The outer message, plus the root cause's when it says more (e.g. "Connection refused")."""
    outer = str(chain[0]) or type(chain[0]).__name__
    root = chain[-1]
    detail = str(root)
    if len(chain) > 1 and detail and detail not in outer:
        outer = f"{outer} ({detail})"
    return outer[:_HEADER_CHARS]


# --------------------------------------------------------------------------- bodies


class _BodyDecoder:
    """Undoes a Content-Encoding without ever producing more than asked for.

    A gzip body may be several members one after the other (RFC 1952; nginx's `gzip_static`
    serves concatenated files so): each is decoded in turn, as gzip(1) and browsers do. Bytes
    after the last member that are not one (padding, junk) are ignored, as gzip(1) does.
    """

    __slots__ = ("_zlib", "_raw_deflate_fallback", "_gzip", "_done")

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        self._raw_deflate_fallback = False
        self._gzip = False
        self._done = False
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._gzip = True
        elif encoding == "deflate":
            # RFC 9110 says zlib-wrapped; some servers send raw deflate: try both.
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
            self._raw_deflate_fallback = True
        else:
            raise ValueError(f"unsupported content-encoding {encoding!r}")

    def feed(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        """At most `limit` (> 0) decoded bytes of `data`, and whether more was left over."""
        if self._zlib is None:
            return data[:limit], len(data) > limit
        if self._done:
            return b"", False
        try:
            out = self._zlib.decompress(data, limit)
        except zlib.error:
            if not self._raw_deflate_fallback:
                raise
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._zlib.decompress(data, limit)
        self._raw_deflate_fallback = False
        while self._gzip and self._zlib.eof and not self._zlib.unconsumed_tail:
            rest = self._zlib.unused_data
            if not rest:
                return out, False  # the member ended with this chunk; the next may follow
            if len(out) >= limit:
                return out, True  # max_length 0 would mean no limit at all
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                out += self._zlib.decompress(rest, limit - len(out))
            except zlib.error:
                self._done = True  # trailing bytes that are not a member
                return out, False
        return out, bool(self._zlib.unconsumed_tail)


class _Headers:
    """A response's headers (aiohttp's raw bytes), decoded once: lower-case names, values as
    UTF-8 text where they are UTF-8 (Location headers often are) and as Latin-1 otherwise, as
    httpx decodes them, so redirects and kept headers read as they did before aiohttp."""

    __slots__ = ("items", "_first")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self.items = tuple((name.decode("latin-1").lower(), _text(value)) for name, value in raw)
        first: dict[str, str] = {}
        for name, value in self.items:
            first.setdefault(name, value)
        self._first = first

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header (`name` in lower case)."""
        return self._first.get(name, default)

    def get_list(self, name: str) -> list[str]:
        """Every value of a header (`name` in lower case), in order."""
        return [value for key, value in self.items if key == name]


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


@dataclass(slots=True)
class _Answer:
    """One response, as much of its body as we read, and nothing of aiohttp left open."""

    status: int
    headers: _Headers
    body: bytes = b""
    body_bytes: int = 0
    truncated: bool = False
    decode_error: str = ""


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _reads_whole_body(media_type: str | None) -> bool:
    """HTML (or an untyped answer, which is usually HTML) is read up to the cap; the rest not."""
    return media_type is None or media_type in ("text/html", "application/xhtml+xml")


async def _read_answer(response: aiohttp.ClientResponse, cap: int) -> _Answer:
    """The answer and up to `cap` decoded bytes of its body. The caller releases the response:
    aiohttp keeps the connection only if the body was read to its end."""
    status = response.status
    headers = _Headers(response.raw_headers)
    if status in REDIRECT_STATUSES and headers.get("location"):
        drained = 0
        async for chunk in response.content.iter_any():
            drained += len(chunk)
            if drained > _DRAIN_BYTES:
                break
        return _Answer(status, headers)
    try:
        decoder = _BodyDecoder(headers.get("content-encoding") or "")
    except ValueError as exc:
        return _Answer(status, headers, decode_error=str(exc))
    whole = _reads_whole_body(_media_type(headers.get("content-type")))
    cap = max(1, cap)
    parts: list[bytes] = []
    size = raw_size = 0
    truncated = False
    try:
        async for raw in response.content.iter_any():
            raw_size += len(raw)
            out, left_over = decoder.feed(raw, cap - size)
            parts.append(out)
            size += len(out)
            if left_over or size >= cap:
                truncated = True
                break
            if not whole and raw:
                length = headers.get("content-length") or ""
                truncated = not (length.isdigit() and raw_size >= int(length))
                break
    except zlib.error as exc:
        return _Answer(status, headers, b"".join(parts), size, truncated, f"bad body: {exc}")
    return _Answer(status, headers, b"".join(parts), size, truncated)


def _kept_headers(headers: _Headers) -> tuple[tuple[str, str], ...]:
    kept: dict[str, str] = {}
    for name, value in headers.items:
        if name in KEPT_HEADERS and name not in kept:
            kept[name] = "present" if name == "set-cookie" else value[:_HEADER_CHARS]
    return tuple(kept.items())


# --------------------------------------------------------------------------- page text


@dataclass(frozen=True, slots=True)
class PageText:
    """What a body says about itself: title, headings and the start of its visible text."""

    title: str | None = None
    headings: tuple[str, ...] = ()  # og:title, first <h1> (those present)
    sample: str = ""


_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1\s*>", re.I | re.S)
_ATTR = re.compile(r"""([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_TAG = re.compile(r"<[^>]*>")
_TEXT_NODE = re.compile(r">([^<]+)")  # findall keeps only the text: cheaper than sub() on tags
# Markup whose content is not text a reader sees, and comments.
_HIDDEN_TAGS = ("script", "style", "noscript", "template", "svg", "title")
# Case-sensitive (lower or upper case) is three times faster than re.I, and this runs per chunk.
_HIDDEN_OPEN = re.compile(rf"<(?:{'|'.join(_HIDDEN_TAGS)}|{'|'.join(_HIDDEN_TAGS).upper()})\b|<!--")
_HIDDEN_END = {name: re.compile(rf"</{name}\s*>", re.I) for name in _HIDDEN_TAGS}
_COMMENT_END = re.compile("-->")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# WHATWG: these labels mean windows-1252 in HTML.
_AS_CP1252 = frozenset({"latin-1", "iso8859-1", "ascii", "cp1252"})
_CHUNK_CHARS = 4096


def _charset(body: bytes, content_type: str | None, is_html: bool) -> str:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    label = None
    if content_type:
        param = _CHARSET_PARAM.search(content_type)
        label = param.group(1) if param else None
    if label is None and is_html:
        meta = _META_CHARSET.search(body, 0, 1024)  # the HTML prescan looks at 1024 bytes
        label = meta.group(1).decode("ascii") if meta else None
    if label is None:
        return "utf-8"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return "utf-8"
    return "cp1252" if name in _AS_CP1252 else name


def _find_tag(text: str, tag: str, start: int = 0, end: int | None = None) -> int:
    """Index of `tag` ("<body", "</head", ...) in lower case, else in upper case, else -1.

    str.find runs at memchr speed where a case-insensitive regex tries every "<". Old pages
    write tags in upper case; mixed case ("<Body") is rare enough to miss.
    """
    end = len(text) if end is None else end
    found = text.find(tag, start, end)
    return found if found >= 0 else text.find(tag.upper(), start, end)


def _clean(fragment: str, limit: int) -> str:
    """Markup out, entities decoded, whitespace collapsed, length capped."""
    if "<" in fragment:
        fragment = _TAG.sub(" ", fragment)
    if "&" in fragment:
        fragment = html.unescape(fragment)
    return " ".join(fragment.split())[:limit]


def _og_title(text: str, end: int) -> str | None:
    at = text.find("og:title", 0, end)
    while at >= 0:
        tag_start = text.rfind("<", 0, at)
        tag_end = text.find(">", at)
        if tag_start >= 0 and tag_end >= 0 and text.startswith(("<meta", "<META"), tag_start):
            tag = text[tag_start : tag_end + 1]
            attrs = {
                m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
                for m in _ATTR.finditer(tag)
            }
            if "og:title" in (attrs.get("property", "").lower(), attrs.get("name", "").lower()):
                return _clean(attrs.get("content", ""), _TITLE_CHARS) or None
        at = text.find("og:title", at + 8, end)
    return None


def _visible_text(text: str, start: int, limit: int) -> str:
    """Roughly the first `limit` characters a reader would see: no scripts, styles or tags.

    Walks the markup in small chunks and stops as soon as it has enough text, so the cost is
    that of the page's first screens, not of its whole body.
    """
    parts: list[str] = []
    have = 0
    pos = start
    end = min(len(text), start + _SCAN_CHARS)
    while pos < end and have < limit:
        stop = min(end, pos + _CHUNK_CHARS)
        chunk = text[pos:stop]
        hidden = _HIDDEN_OPEN.search(chunk)
        if hidden is not None:  # text up to the script (or comment), then skip past its end
            chunk = chunk[: hidden.start()]
            opener = hidden.group(0).lower()
            closing = _COMMENT_END if opener == "<!--" else _HIDDEN_END[opener[1:]]
            found = closing.search(text, pos + hidden.end())
            next_pos = end if found is None else found.end()
        elif stop < end:  # end the chunk on a tag boundary: no tag or word cut in two
            last_open, last_close = chunk.rfind("<"), chunk.rfind(">")
            if last_open == 0 and last_close < 0:  # one tag longer than a chunk: skip it
                close = text.find(">", pos)
                chunk, next_pos = "", (end if close < 0 else close + 1)
            elif last_open > last_close:
                chunk, next_pos = chunk[:last_open], pos + last_open
            elif last_close >= 0:
                chunk, next_pos = chunk[: last_close + 1], pos + last_close + 1
            else:
                next_pos = stop
        else:
            next_pos = stop
        if chunk:
            words = " ".join(_TEXT_NODE.findall(">" + chunk)).split()
            if words:
                piece = " ".join(words)
                parts.append(piece)
                have += len(piece) + 1
        pos = next_pos
    sample = " ".join(parts)
    if "&" in sample:
        sample = html.unescape(sample)
    return sample[:limit]


def read_page(body: bytes, content_type: str | None) -> PageText:
    """Title, headings and a text sample from the start of a body (capped upstream).

    HTML gets `str.find` and small regular expressions, not a parser: this runs for every URL
    of a run (0.1–0.3 ms for a 100 KB page). Undecodable bytes are replaced, never fatal.
    """
    media_type = _media_type(content_type)
    if media_type is None:
        head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")  # BOM and whitespace
        is_html = head.startswith(b"<")
        is_text = is_html or b"\0" not in head
    else:
        is_html = media_type in ("text/html", "application/xhtml+xml")
        is_text = is_html or media_type.startswith("text/") or media_type.endswith(("json", "xml"))
    if not body or not is_text:
        return PageText()
    text = body.decode(_charset(body, content_type, is_html), "replace")
    if not is_html:
        return PageText(sample=" ".join(text[: SAMPLE_CHARS * 4].split())[:SAMPLE_CHARS])
    body_start = _find_tag(text, "<body")
    head_end = _find_tag(text, "</head", 0, None if body_start < 0 else body_start)
    head_end = head_end if head_end >= 0 else body_start
    if head_end < 0:  # no <head> or <body> markup at all: a fragment, search all of it
        head_end, body_start = len(text), 0
    body_start = max(body_start, 0)
    title_at = _find_tag(text, "<title", 0, head_end)  # not an SVG <title> further down
    title_match = _TITLE.match(text, title_at) if title_at >= 0 else None
    title = _clean(title_match.group(1), _TITLE_CHARS) if title_match else None
    og_title = _og_title(text, head_end)
    h1_at = _find_tag(text, "<h1", body_start, body_start + _SCAN_CHARS)
    h1_match = _H1.match(text, h1_at) if h1_at >= 0 else None
    h1 = _clean(h1_match.group(1), _TITLE_CHARS) if h1_match else None
    return PageText(
        title=title or og_title or None,
        headings=tuple(h for h in (og_title, h1) if h),
        sample=_visible_text(text, body_start, SAMPLE_CHARS),
    )


def main_text_of(body: bytes, content_type: str | None) -> str:
    """The main text of an HTML body (``checker.judge.maintext``), "" for other types: for drift
    checks, from the body already read, so the site sees no second request."""
    media_type = _media_type(content_type)
    if media_type not in (None, "text/html", "application/xhtml+xml"):
        return ""
    if media_type is None and not body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return ""
    # Imported here: only drift checks need it, and it brings beautifulsoup4 into every
    # check's start-up otherwise.
    from checker.judge.maintext import main_text

    return main_text(body.decode(_charset(body, content_type, True), "replace"))


# --------------------------------------------------------------------------- redirects


_META_REFRESH = re.compile(rb"<meta\b[^>]*?http-equiv\s*=\s*[\"']?\s*refresh\b[^>]*>", re.I)
# "0; url=/next", "0;URL='/next'", "3, /next" (the "url=" is optional, as browsers read it)
_REFRESH_CONTENT = re.compile(
    r"""^\s*(\d+(?:\.\d*)?)\s*(?:[;,]\s*(?:url\s*=\s*)?(?:"([^"]*)"?|'([^']*)'?|(.*)))?$""",
    re.I | re.S,
)


def refresh_target(header: str | None, body: bytes, content_type: str | None,
                   current: str) -> str | None:
    """Where a 2xx answer sends the reader at once (see the module docstring), or None: its
    ``Refresh`` header, else a ``<meta http-equiv="refresh">`` near the start of an HTML body."""
    import httpx  # here, not at the top: a `check` with nothing due never needs httpx (~0.1 s)

    content = header
    if content is None and body and _reads_whole_body(_media_type(content_type)):
        head = body[:REFRESH_SCAN_BYTES]
        # A plain search first: nearly no page has one, and this runs for every page.
        if b"efresh" in head or b"EFRESH" in head:
            tag = _META_REFRESH.search(head)
            if tag is not None:
                text = tag.group(0).decode(_charset(body, content_type, True), "replace")
                attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
                         for m in _ATTR.finditer(text)}
                content = html.unescape(attrs.get("content", ""))
    if not content:
        return None
    parsed = _REFRESH_CONTENT.match(content)
    if parsed is None or float(parsed.group(1)) > MAX_REFRESH_DELAY_S:
        return None
    url = next((g for g in parsed.group(2, 3, 4) if g is not None), "").strip()
    if not url:
        return None
    try:
        target = httpx.URL(urljoin(current, url)).copy_with(fragment=None)
    except (httpx.InvalidURL, ValueError):
        return None  # a browser would stay on the page
    if str(target) == str(httpx.URL(current).copy_with(fragment=None)):
        return None  # a reload of the same page, not a redirect
    return url


class _ChainCookies:
    """Cookies set along one redirect chain, sent back along it. Forgotten after the URL."""

    __slots__ = ("_by_domain",)

    def __init__(self) -> None:
        self._by_domain: dict[str, dict[str, str]] = {}

    def remember(self, host: str, headers: _Headers) -> None:
        for line in headers.get_list("set-cookie"):
            pair, *attributes = line.split(";")
            name, sep, value = pair.partition("=")
            if not sep or not name.strip():
                continue
            domain = host
            for attribute in attributes:
                key, _, attr_value = attribute.partition("=")
                if key.strip().lower() == "domain" and attr_value.strip():
                    domain = attr_value.strip().lstrip(".").lower()
            self._by_domain.setdefault(domain, {})[name.strip()] = value.strip()

    def header(self, host: str) -> str | None:
        pairs = [
            f"{name}={value}"
            for domain, jar in self._by_domain.items()
            if host == domain or host.endswith("." + domain)
            for name, value in jar.items()
        ]
        return "; ".join(pairs) or None


def _target(url: str | httpx.URL, *, allow_private: bool) -> httpx.URL | tuple[FailureKind, str]:
    """The URL to request (parsed, unless it already is), or why it must not be requested."""
    import httpx
    try:
        target = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        return FailureKind.INVALID_URL, f"invalid URL {url!r}: {exc}"
    if target.scheme not in ("http", "https") or not target.host:
        return FailureKind.INVALID_URL, f"not an http(s) URL: {url!r}"
    # Literal addresses are vetted here too, because behind a proxy the backend never sees them.
    reason = forbidden_reason(target.host, allow_private=allow_private)
    if reason is not None:
        return FailureKind.FORBIDDEN_ADDRESS, reason
    return target


def host_key(url: str) -> str:
    """The host whose limits and client a URL uses: the lower-cased name, port ignored."""
    import httpx
    try:
        return httpx.URL(url).host
    except (httpx.InvalidURL, ValueError):
        return ""


# --------------------------------------------------------------------------- fetcher


class _Budget:
    """The total time bound of one URL, started by its first request."""

    __slots__ = ("_timeout", "_clock", "_total_s", "deadline", "started")

    def __init__(self, timeout: asyncio.Timeout, clock: Clock, total_s: float) -> None:
        self._timeout = timeout
        self._clock = clock
        self._total_s = total_s
        self.deadline: float | None = None
        self.started: float | None = None  # perf_counter, for elapsed_ms

    def start(self) -> None:
        if self.started is not None:
            return
        self.started = time.perf_counter()
        if self._total_s > 0:
            self.deadline = self._clock() + self._total_s
            self._timeout.reschedule(asyncio.get_running_loop().time() + self._total_s)

    def remaining(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - self._clock()

    def elapsed_ms(self) -> int:
        return 0 if self.started is None else round((time.perf_counter() - self.started) * 1000)


@dataclass(slots=True)
class _Progress:
    """Where a fetch had got to, for the answer given when the total time runs out."""

    current: str
    chain: list[Hop]
    attempts: int = 0
    last: Observation | None = None  # the last complete attempt


class Fetcher:
    """Fetches URLs with one lazily created aiohttp client per host, under a `HostGate`.

    Use it as an async context manager (clients are closed on exit). `fetch()` may be called
    concurrently, also by other modules that want an extra request on the same per-host client
    and politeness (e.g. the soft-404 probe of a random path).

    Names are looked up by `settings.resolver` (default: the system's, `resolve_host`) behind
    one `GuardedResolver` shared by every host's client. `client_factory` builds a host's client
    (default `make_client`); `max_clients` bounds the idle ones kept open (default
    5 × concurrency, above the 4 × concurrency hosts that checker.run.engine works on at once,
    so only finished hosts are evicted).
    """

    def __init__(
        self,
        settings: CheckSettings,
        *,
        gate: HostGate | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        ssl_context: ssl.SSLContext | None = None,
        client_factory: ClientFactory | None = None,
        max_clients: int | None = None,
    ) -> None:
        self.settings = settings
        self.gate = (
            gate if gate is not None else HostGate.from_settings(settings, clock=clock, sleep=sleep)
        )
        self._ssl_context = ssl_context
        self._client_factory = client_factory
        self._resolver: GuardedResolver | None = None
        self._clients: OrderedDict[str, HostClient] = OrderedDict()
        self._busy: Counter[str] = Counter()
        self._closing: set[asyncio.Task[None]] = set()
        # Idle clients beyond this are closed, least recently used first (file descriptors).
        self._max_clients = (
            max_clients if max_clients is not None else max(64, settings.concurrency * 5)
        )
        self.clients_created = 0

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The one TLS context of all clients, built from the environment on first use (the
        clients ask for it when they first connect over TLS)."""
        if self._ssl_context is None:
            self._ssl_context = build_ssl_context()
        return self._ssl_context

    @property
    def resolver(self) -> GuardedResolver:
        """The address guard in front of every name lookup, shared by all clients (and their
        memory of names that do not exist)."""
        if self._resolver is None:
            from checker.net.session import GuardedResolver, environment_proxies, proxy_hosts

            self._resolver = GuardedResolver(
                allow_private=self.settings.allow_private,
                lookup=self.settings.resolver,
                trusted=proxy_hosts(environment_proxies()),
            )
        return self._resolver

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every client (and so every connection)."""
        clients = list(self._clients.values())
        self._clients.clear()
        await asyncio.gather(
            *(client.aclose() for client in clients), *self._closing, return_exceptions=True
        )

    async def fetch(self, url: str) -> Observation:
        """Everything the wire says about `url`, retries and redirects included. Never raises
        for a bad link (only cancellation propagates)."""
        progress = _Progress(current=url, chain=[])
        budget: _Budget | None = None
        try:
            async with asyncio.timeout(None) as timeout:
                budget = _Budget(timeout, self.gate.clock, self.settings.total_timeout_s)
                observation = await self._fetch_with_retries(url, budget, progress)
        except TimeoutError:
            elapsed = 0 if budget is None else budget.elapsed_ms()
            limit = f"no answer within the total time limit of {self.settings.total_timeout_s:g} s"
            if progress.last is not None:  # a retry ran out of time: the last answer stands
                return dataclasses.replace(
                    progress.last,
                    attempts=progress.attempts,
                    elapsed_ms=elapsed,
                    error=progress.last.error or f"retry abandoned: {limit}",
                )
            return Observation(
                url=url,
                final_url=progress.current,
                chain=tuple(progress.chain),
                failure=FailureKind.TIMEOUT,
                error=limit,
                attempts=max(1, progress.attempts),
                elapsed_ms=elapsed,
            )
        except Exception as exc:  # a bug of ours: still one URL's problem, not the run's
            return Observation(
                url=url,
                final_url=progress.current,
                chain=tuple(progress.chain),
                failure=FailureKind.PROTOCOL,
                error=f"internal error: {type(exc).__name__}: {exc}"[:_HEADER_CHARS],
                attempts=max(1, progress.attempts),
            )
        return observation  # stamped with its attempts and time by _attempt

    async def _fetch_with_retries(
        self, url: str, budget: _Budget, progress: _Progress
    ) -> Observation:
        attempt = 0
        while True:
            attempt += 1
            progress.attempts = attempt
            observation = await self._attempt(url, budget, progress)
            progress.last = observation
            delay = self._retry_delay(observation, attempt, budget)
            if delay is None:
                return observation
            await self.gate.sleep(delay)

    def _retry_delay(self, observation: Observation, attempt: int, budget: _Budget) -> float | None:
        """Seconds to wait before trying again, or None to stop here."""
        settings = self.settings
        if attempt > settings.retries:
            return None
        if observation.failure is not None:
            if observation.failure not in RETRY_FAILURES:
                return None
        elif observation.status not in RETRY_STATUSES:
            return None
        host = host_key(observation.final_url or observation.url)
        retry_after = observation.retry_after_s
        if retry_after is not None and observation.status is not None:
            if retry_after > settings.max_retry_after_s:
                return None  # the site wants a long pause: record it, don't wait it out
            delay = retry_after
            self.gate.defer(host, delay)
        else:
            delay = backoff_s(attempt, settings.backoff_base_s, cap_s=settings.max_retry_after_s)
            if observation.status == 429:
                self.gate.defer(host, delay)
        if delay > budget.remaining():
            return None
        return delay

    async def _attempt(self, url: str, budget: _Budget, progress: _Progress) -> Observation:
        """One attempt: the request and every redirect after it."""
        import httpx
        settings = self.settings
        chain: list[Hop] = []
        progress.chain = chain
        cookies = _ChainCookies()
        seen: set[tuple[str, str | None]] = set()
        current = url
        parsed: httpx.URL | None = None  # a redirect's target, parsed already by join()
        redirects = 0

        def failed(kind: FailureKind, message: str) -> Observation:
            return Observation(
                url=url, final_url=current, chain=tuple(chain), failure=kind, error=message,
                attempts=progress.attempts, elapsed_ms=budget.elapsed_ms(),
            )

        while True:
            progress.current = current
            target = _target(current if parsed is None else parsed, allow_private=settings.allow_private)
            if isinstance(target, tuple):
                return failed(*target)
            host = target.host
            cookie = cookies.header(host)
            if (current, cookie) in seen:
                return failed(FailureKind.REDIRECT_LOOP, f"redirect loop back to {current}")
            seen.add((current, cookie))
            try:
                answer = await self._request(target, host, cookie, budget)
            except Exception as exc:  # every way a request can fail becomes a value here
                return failed(*failure_of(exc))
            chain.append(Hop(answer.status, current))
            location = (
                answer.headers.get("location") if answer.status in REDIRECT_STATUSES else None
            )
            if location is None and 200 <= answer.status < 300:
                location = refresh_target(answer.headers.get("refresh"), answer.body,
                                          answer.headers.get("content-type"), current)
            if not location:  # a 3xx without Location is a final answer too
                return self._answered(url, current, chain, answer, progress.attempts, budget)
            if redirects >= settings.max_redirects:
                return failed(
                    FailureKind.TOO_MANY_REDIRECTS, f"more than {settings.max_redirects} redirects"
                )
            cookies.remember(host, answer.headers)
            try:
                # httpx's URL.join parses the Location and the result apart (twice the cost);
                # parsing the joined string once validates and normalises it all the same.
                parsed = httpx.URL(urljoin(current, location))
                current = str(parsed)
            except (httpx.InvalidURL, ValueError) as exc:
                return failed(FailureKind.INVALID_URL, f"bad redirect Location {location!r}: {exc}")
            redirects += 1

    async def _request(
        self, target: httpx.URL, host: str, cookie: str | None, budget: _Budget
    ) -> _Answer:
        from yarl import URL  # aiohttp's URLs; imported with it

        async with self.gate.slot(host):
            budget.start()
            client = self._client_for(host)
            self._busy[host] += 1
            try:
                scheme = target.scheme
                # encoded=True: httpx.URL has already normalised and percent-encoded it, and
                # the request target goes out exactly as it is written.
                async with client.session.get(
                    URL(str(target), encoded=True),
                    headers={"Cookie": cookie} if cookie else None,
                    allow_redirects=False,
                    proxy=client.proxy_for(scheme),
                    ssl=self.ssl_context if scheme == "https" else True,
                ) as response:
                    return await _read_answer(response, self.settings.max_body_bytes)
            finally:
                self._busy[host] -= 1

    def _answered(
        self, url: str, final_url: str, chain: list[Hop], answer: _Answer, attempts: int,
        budget: _Budget,
    ) -> Observation:
        elapsed_ms = budget.elapsed_ms()
        content_type = answer.headers.get("content-type")
        page = read_page(answer.body, content_type) if answer.body else PageText()
        main = ""
        if self.settings.main_text and 200 <= answer.status < 300 and answer.body:
            main = main_text_of(answer.body, content_type)
        return Observation(
            url=url,
            final_url=final_url,
            status=answer.status,
            chain=tuple(chain),
            headers=_kept_headers(answer.headers),
            content_type=_media_type(content_type),
            title=page.title,
            headings=page.headings,
            body_sample=page.sample,
            main_text=main,
            body_bytes=answer.body_bytes,
            truncated=answer.truncated,
            failure=FailureKind.DECODING if answer.decode_error else None,
            error=answer.decode_error,
            retry_after_s=parse_retry_after(answer.headers.get("retry-after")),
            attempts=attempts,
            elapsed_ms=elapsed_ms,
        )

    def _client_for(self, host: str) -> HostClient:
        """The host's client, created on first use; closes the least recently used idle ones."""
        client = self._clients.get(host)
        if client is not None:
            self._clients.move_to_end(host)
            return client
        if self._client_factory is None:
            from checker.net.session import make_client

            self._client_factory = make_client
        client = self._client_factory(host, self.settings, resolver=self.resolver)
        self.clients_created += 1
        self._clients[host] = client
        if len(self._clients) > self._max_clients:
            for old_host in list(self._clients)[:-1]:
                if self._busy[old_host] == 0:
                    old = self._clients.pop(old_host)
                    del self._busy[old_host]
                    # Closing awaits: do it aside, so no other request sees a half-closed client.
                    task = asyncio.get_running_loop().create_task(old.aclose())
                    self._closing.add(task)
                    task.add_done_callback(self._closing.discard)
                    break
        return client
