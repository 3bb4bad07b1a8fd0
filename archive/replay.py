"""
Verify a capture by replaying it once, in identity form: ``/web/<ts>id_/<url>``.

The ``id_`` form returns the archived bytes and the archived status with no banner, so the
status and ``<title>`` are the page's own (reference §3):

* 200 + ``Memento-Datetime``: a capture of a working page: a candidate fix;
* 302 without ``Memento-Datetime`` (``X-Archive-Redirect-Reason: found capture at <ts>``): the
  exact timestamp is not there; follow it **once** and record the timestamp actually replayed;
* 3xx + ``Memento-Datetime``: a capture of a redirect; its ``Location`` is
  ``/web/<ts>id_/<target>``, followed once (plus one "found capture at" hop) to the target's
  capture, which must then pass the same checks;
* 404 + ``Memento-Datetime``: a capture of a not-found page: not a fix;
* 404 without it: no capture at that timestamp; 200 without it saying "excluded from the
  Wayback Machine": the site is excluded.

A 200 capture is still rejected when its title reads like a not-found page or a login/bot wall
(unless the cited title says the same), or, when the citation gives a title, when the archived
title does not resemble it (rapidfuzz ``token_set_ratio`` with a lenient threshold, so a site
name added to the title does not matter). Replays are cached per (timestamp, URL) within one
``Verifier``, so citations sharing a capture cost one request.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from archive.context import ArchiveContext
from archive.errors import ArchiveUnavailable
from archive.links import replay_link, split_archive_link
from archive.models import Outcome
from archive.timestamps import format_timestamp, parse_timestamp

_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_EXCLUDED = "excluded from the wayback machine"
_NOT_FOUND = re.compile(
    r"^\W*(?:error|http)?\W*4(?:04|10)\b|\b(?:error|http)\W*4(?:04|10)\b"
    r"|\b4(?:04|10)\W*(?:error|page|gone)|not found"
    r"|page (?:is )?(?:missing|unavailable|not available)"
    r"|no longer (?:available|exists)|(?:does|do) not exist|doesn't exist"
    r"|(?:cannot|can't|could not|couldn't) (?:be )?f(?:ou)?nd|nothing (?:was )?found",
    re.IGNORECASE,
)
_WALL = re.compile(
    r"\blog ?in\b|\blog-in\b|\bsign ?in\b|\bsign-in\b|access denied|members only"
    r"|subscribe to (?:read|continue)|authentication required|are you a robot|captcha"
    r"|just a moment|attention required",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Replayed:
    """One replay answer, reduced to what verification needs."""

    url: str                     # the original URL that was replayed
    status_code: int
    memento_ts: str | None       # from Memento-Datetime; None when the archive itself answered
    location: str | None         # absolute
    title: str | None
    excluded: bool

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
    """Replays candidate captures, caching each answer; create one per URL being resolved."""

    def __init__(self, ctx: ArchiveContext) -> None:
        self._ctx = ctx
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
        return judge(replayed, cited_title=cited_title, redirected_from=redirected_from,
                     threshold=self._ctx.settings.title_match)

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
    no_memento_text = fetched.text.lower() if memento is None else ""
    return Replayed(
        url=url, status_code=fetched.status_code, memento_ts=_memento_ts(memento),
        location=urljoin(link, location) if location else None,
        title=page_title(fetched.text), excluded=_EXCLUDED in no_memento_text,
    )


def judge(
    replayed: Replayed, *, cited_title: str | None, redirected_from: str | None = None,
    threshold: float = 60.0,
) -> Verified:
    """Pure verdict on one replay answer (see the module docstring)."""
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
    title = replayed.title
    if title and (problem := _title_problem(title, cited_title)):
        return Verified(outcome=Outcome.NO_CAPTURE, reason=f"{problem}: {title!r}")
    if title and cited_title and not titles_match(cited_title, title, threshold):
        return Verified(outcome=Outcome.NO_CAPTURE,
                        reason=f"archived title {title!r} does not match the cited {cited_title!r}")
    captured_at = parse_timestamp(replayed.memento_ts)
    return Verified(
        outcome=Outcome.FOUND, timestamp=replayed.memento_ts, captured_at=captured_at,
        original=replayed.url, status_code=200, title=title, redirected_from=redirected_from,
    )


def titles_match(cited: str, archived: str, threshold: float) -> bool:
    """Lenient: every word of the shorter title found in the longer one scores 100."""
    return fuzz.token_set_ratio(cited, archived, processor=default_process) >= threshold


def page_title(text: str) -> str | None:
    """The page's <title> (or first <h1>), unescaped and with whitespace collapsed."""
    for pattern in (_TITLE, _H1):
        if match := pattern.search(text):
            title = " ".join(html.unescape(_TAG.sub(" ", match[1])).split())
            if title:
                return title
    return None


def _title_problem(title: str, cited_title: str | None) -> str | None:
    cited = (cited_title or "").replace("\u2019", "'")
    plain = title.replace("\u2019", "'")
    if _NOT_FOUND.search(plain) and not _NOT_FOUND.search(cited):
        return "the capture is of a not-found page"
    if _WALL.search(plain) and not _WALL.search(cited):
        return "the capture is of a login or bot wall"
    return None


def _memento_ts(header: str | None) -> str | None:
    if not header:
        return None
    try:
        return format_timestamp(parsedate_to_datetime(header))
    except (TypeError, ValueError):
        return None
