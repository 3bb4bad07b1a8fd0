"""
Verify a capture by replaying it once, in identity form: ``/web/<ts>id_/<url>``.

The ``id_`` form returns the archived bytes and the archived status with no banner, so the
status and the page text are the page's own (reference §3):

* 200 + ``Memento-Datetime``: a capture of a working page: a candidate fix;
* 302 without ``Memento-Datetime`` (``X-Archive-Redirect-Reason: found capture at <ts>``): the
  exact timestamp is not there; follow it **once** and record the timestamp actually replayed;
* 3xx + ``Memento-Datetime``: a capture of a redirect; its ``Location`` is
  ``/web/<ts>id_/<target>``, followed once (plus one "found capture at" hop) to the target's
  capture, which must then pass the same checks;
* 404 + ``Memento-Datetime``: a capture of a not-found page: not a fix;
* 404 without it: no capture at that timestamp; 200 without it saying "excluded from the
  Wayback Machine": the site is excluded.

These are the archive's own answers, and all that archive/ decides by itself. Whether a 200
capture shows the *cited page*, and not a "not found" page, a login or bot wall, or another page
now at that URL, is the caller's judgement, handed in as a ``PageJudge`` (archive.models) through
``Wayback(judge=...)``. citewatch's checker hands in ``checker.judge.classify.judge_capture``: the rules
it applies to a live page (``classify()``), so a capture is judged as the live page would be,
less what needs the live site (a probe of the host, its headers). The judge sees the capture
after an archived redirect was followed (``ArchivedPage.url`` is the URL asked for, ``original``
the URL the capture is of), so a redirect to a home or login page is its to reject. Without a
judge (the library used alone), every 200 capture with a ``Memento-Datetime`` is a fix.

The judge gets the evidence a live check gets: ``<title>`` (else og:title), og:title and the first
``<h1>`` as headings, and the start of the visible text (``read_page``). That extraction repeats,
more simply (regular expressions over the capped body, no chunked scan), what
``checker.net.fetch.read_page`` does, because archive/ may not import checker/; keep the two in step
(tests/test_archive_judge.py and tests/test_contracts.py compare them, the latter also the verdicts
on a table of pages judged live and as captures). Kept rather than handing the judge the raw body:
the judge (checker/judge/) may not import the fetcher (checker/net/) either, and the capped body
would then cross the PageJudge boundary on every replay.

Replays are cached per (timestamp, URL) within one ``Verifier``, so citations sharing a capture
cost one request; the judge runs per citation (it depends on the cited title) and costs none.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from archive.context import ArchiveContext
from archive.errors import ArchiveUnavailable
from archive.links import replay_link, split_archive_link
from archive.models import ArchivedPage, CaptureContent, Outcome, PageJudge
from archive.timestamps import format_timestamp, parse_timestamp

SAMPLE_CHARS = 2000          # visible text handed to the judge: checker.net.fetch.SAMPLE_CHARS
_TITLE_CHARS = 500           # checker.net.fetch._TITLE_CHARS
_SCAN_CHARS = 262_144        # markup searched for the first <h1> and the text sample
_EXCLUDED = "excluded from the wayback machine"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)
_META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_BODY_OPEN = re.compile(r"<body\b", re.IGNORECASE)
_HEAD_CLOSE = re.compile(r"</head\s*>", re.IGNORECASE)
# Markup whose content no reader sees, and comments (as checker.net.fetch._HIDDEN_TAGS).
_HIDDEN = re.compile(r"<(script|style|noscript|template|svg|title)\b.*?</\1\s*>|<!--.*?-->",
                     re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class PageText:
    """What a replayed body says about itself (the fields of checker.net.fetch.PageText)."""

    title: str | None = None
    headings: tuple[str, ...] = ()   # og:title, first <h1> (those present)
    sample: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Replayed:
    """One replay answer, reduced to what verification needs."""

    url: str                     # the original URL that was replayed
    status_code: int
    memento_ts: str | None       # from Memento-Datetime; None when the archive itself answered
    location: str | None         # absolute
    excluded: bool = False
    content_type: str | None = None   # media type, lower case, no parameters
    page: PageText = PageText()       # read only from a 200 capture: nothing else is judged
    truncated: bool = False           # the body was longer than what was read of it

    @property
    def is_nearest_redirect(self) -> bool:
        return 300 <= self.status_code < 400 and self.memento_ts is None and bool(self.location)

    @property
    def is_archived_redirect(self) -> bool:
        return 300 <= self.status_code < 400 and self.memento_ts is not None and bool(self.location)


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified:
    """The verdict on one candidate capture."""

    outcome: Outcome             # FOUND, NO_CAPTURE or EXCLUDED
    reason: str = ""
    timestamp: str | None = None
    captured_at: datetime | None = None
    original: str | None = None
    status_code: int | None = None
    title: str | None = None
    redirected_from: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.FOUND


class Verifier:
    """Replays candidate captures, caching each answer; create one per URL being resolved.

    ``judge`` decides whether a 200 capture is the cited page (see the module docstring); None
    accepts every one.
    """

    def __init__(self, ctx: ArchiveContext, judge: PageJudge | None = None) -> None:
        self._ctx = ctx
        self._judge = judge
        self._cache: dict[tuple[str, str], Replayed] = {}

    async def verify(self, timestamp: str, url: str, *, cited_title: str | None = None) -> Verified:
        """Replay a capture (following at most one archived redirect) and judge it."""
        replayed = await self._settle(timestamp, url)
        redirected_from = None
        if replayed.is_archived_redirect:
            target = split_archive_link(replayed.location or "",
                                        replay_base=self._ctx.settings.replay_url)
            if target is None:
                return Verified(outcome=Outcome.NO_CAPTURE,
                                reason=f"redirect capture to an unreadable location "
                                       f"{replayed.location}")
            redirected_from = url
            replayed = await self._settle(target.timestamp, target.url)
        return judge_replay(replayed, asked_url=url, cited_title=cited_title,
                            redirected_from=redirected_from, page_judge=self._judge)

    def has_replayed(self, timestamp: str, url: str) -> bool:
        """True when this capture's answer is cached: judging it again costs no request."""
        return (timestamp, url) in self._cache

    async def replay(self, timestamp: str, url: str) -> Replayed:
        """One ``id_`` replay request (cached). Raises ArchiveUnavailable on 5xx or timeout."""
        key = (timestamp, url)
        if key not in self._cache:
            self._cache[key] = await _replay(self._ctx, timestamp, url)
        return self._cache[key]

    async def _settle(self, timestamp: str, url: str) -> Replayed:
        replayed = await self.replay(timestamp, url)
        if replayed.is_nearest_redirect:   # "found capture at <ts>": follow once
            nearest = split_archive_link(replayed.location or "",
                                         replay_base=self._ctx.settings.replay_url)
            if nearest is not None:
                replayed = await self.replay(nearest.timestamp, nearest.url)
        return replayed


async def _replay(ctx: ArchiveContext, timestamp: str, url: str) -> Replayed:
    link = replay_link(ctx.settings.replay_url, timestamp, url, "id_")
    fetched = await ctx.fetch("replay", "GET", link)
    if fetched.status_code >= 500:
        raise ArchiveUnavailable(f"replay answered HTTP {fetched.status_code}",
                                 status_code=fetched.status_code)
    memento = fetched.headers.get("memento-datetime")
    location = fetched.headers.get("location")
    content_type = media_type(fetched.headers.get("content-type"))
    no_memento_text = fetched.text.lower() if memento is None else ""
    capture_of_page = memento is not None and fetched.status_code == 200
    return Replayed(
        url=url, status_code=fetched.status_code, memento_ts=memento_timestamp(memento),
        location=urljoin(link, location) if location else None,
        excluded=_EXCLUDED in no_memento_text, content_type=content_type,
        page=read_page(fetched.text, content_type) if capture_of_page else PageText(),
        truncated=fetched.truncated,
    )


async def capture_content(ctx: ArchiveContext, timestamp: str, url: str) -> CaptureContent | None:
    """The body of the capture of ``url`` at ``timestamp`` (one ``id_`` replay, plus one hop for
    "found capture at"), or None when no 200 capture with a ``Memento-Datetime`` replays there.

    Raises ArchiveUnavailable (5xx, timeout) and ArchiveThrottled, as every replay does.
    """
    for _ in range(2):
        link = replay_link(ctx.settings.replay_url, timestamp, url, "id_")
        fetched = await ctx.fetch("replay", "GET", link)
        if fetched.status_code >= 500:
            raise ArchiveUnavailable(f"replay answered HTTP {fetched.status_code}",
                                     status_code=fetched.status_code)
        memento = memento_timestamp(fetched.headers.get("memento-datetime"))
        if memento is not None:
            if fetched.status_code != 200:
                return None      # a capture of a redirect or an error page: no text to compare
            return CaptureContent(url=url, timestamp=memento, text=fetched.text,
                                  content_type=media_type(fetched.headers.get("content-type")),
                                  truncated=fetched.truncated)
        location = fetched.headers.get("location")
        nearest = split_archive_link(urljoin(link, location), replay_base=ctx.settings.replay_url
                                     ) if location and 300 <= fetched.status_code < 400 else None
        if nearest is None:
            return None
        timestamp, url = nearest.timestamp, nearest.url
    return None


def judge_replay(
    replayed: Replayed, *, asked_url: str, cited_title: str | None,
    redirected_from: str | None = None, page_judge: PageJudge | None = None,
) -> Verified:
    """Pure verdict on one replay answer: the archive's rules, then ``page_judge`` on a 200."""
    if replayed.memento_ts is None:
        if replayed.excluded:
            return Verified(outcome=Outcome.EXCLUDED,
                            reason="the site is excluded from the Wayback Machine")
        if replayed.is_nearest_redirect:
            return Verified(outcome=Outcome.NO_CAPTURE,
                            reason="replay kept redirecting to other timestamps")
        return Verified(outcome=Outcome.NO_CAPTURE,
                        reason=f"no capture replayed (HTTP {replayed.status_code} "
                               "without Memento-Datetime)")
    if replayed.status_code != 200:
        what = "redirect" if 300 <= replayed.status_code < 400 else "page"
        return Verified(outcome=Outcome.NO_CAPTURE,
                        reason=f"the capture is of an HTTP {replayed.status_code} {what}")
    page = replayed.page
    if page_judge is not None:
        shown = ArchivedPage(
            url=asked_url, original=replayed.url, timestamp=replayed.memento_ts,
            status_code=replayed.status_code, content_type=replayed.content_type,
            title=page.title, headings=page.headings, body_sample=page.sample,
            truncated=replayed.truncated,
        )
        if (problem := page_judge(shown, cited_title)) is not None:
            return Verified(outcome=Outcome.NO_CAPTURE, reason=problem)
    return Verified(
        outcome=Outcome.FOUND, timestamp=replayed.memento_ts,
        captured_at=parse_timestamp(replayed.memento_ts), original=replayed.url,
        status_code=200, title=page.title, redirected_from=redirected_from,
    )


def media_type(content_type: str | None) -> str | None:
    """``"Text/HTML; charset=utf-8"`` → ``"text/html"``; None when absent or empty."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def read_page(text: str, content_type: str | None) -> PageText:
    """Title, headings and a visible-text sample, as ``checker.net.fetch.read_page`` reads them.

    ``<title>`` is looked for in the head only (an SVG ``<title>`` further down is not the
    page's); the title falls back to og:title. Untyped text counts as HTML when it starts with
    markup. Non-HTML text gets only a sample, binary types nothing.
    """
    if content_type is None:
        is_html = text[:512].lstrip("\ufeff \t\r\n").startswith("<")
        is_text = is_html or "\0" not in text[:512]
    else:
        is_html = content_type in _HTML_TYPES
        is_text = is_html or content_type.startswith("text/") \
            or content_type.endswith(("json", "xml"))
    if not text or not is_text:
        return PageText()
    if not is_html:
        return PageText(sample=" ".join(text[: SAMPLE_CHARS * 4].split())[:SAMPLE_CHARS])
    body_at = _BODY_OPEN.search(text)
    body_start = body_at.start() if body_at else -1
    head_close = _HEAD_CLOSE.search(text, 0, len(text) if body_start < 0 else body_start)
    head_end = head_close.start() if head_close else body_start
    if head_end < 0:   # no <head> or <body> markup at all: a fragment, search all of it
        head_end, body_start = len(text), 0
    body_start = max(body_start, 0)
    head = text[:head_end]
    title_match = _TITLE.search(head)
    title = _clean(title_match[1]) if title_match else None
    og_title = _og_title(head)
    body = text[body_start: body_start + _SCAN_CHARS]
    h1_match = _H1.search(body)
    h1 = _clean(h1_match[1]) if h1_match else None
    return PageText(
        title=title or og_title or None,
        headings=tuple(h for h in (og_title, h1) if h),
        sample=_visible_text(body),
    )


def _clean(fragment: str, limit: int = _TITLE_CHARS) -> str:
    """Markup out, entities decoded, whitespace collapsed, length capped."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())[:limit]


def _og_title(head: str) -> str | None:
    for tag in _META.finditer(head):
        if "og:title" not in tag[0]:
            continue
        attrs = {m[1].lower(): m[2] or m[3] or m[4] or "" for m in _ATTR.finditer(tag[0])}
        if "og:title" in (attrs.get("property", "").lower(), attrs.get("name", "").lower()):
            return _clean(attrs.get("content", "")) or None
    return None


def _visible_text(markup: str) -> str:
    """Roughly the first SAMPLE_CHARS characters a reader sees: no scripts, styles or tags."""
    text = _TAG.sub(" ", _HIDDEN.sub(" ", markup))
    return " ".join(html.unescape(text).split())[:SAMPLE_CHARS]


def memento_timestamp(header: str | None) -> str | None:
    """The 14-digit timestamp of a ``Memento-Datetime`` header (RFC 1123), None if unreadable."""
    if not header:
        return None
    try:
        return format_timestamp(parsedate_to_datetime(header))
    except (TypeError, ValueError):
        return None
