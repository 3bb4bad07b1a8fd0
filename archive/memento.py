"""
Memento (RFC 7089) with any web archive: read a TimeMap, ask a TimeGate, verify a memento.

A **TimeMap** (``<timemap prefix><URL>``, ``application/link-format``) lists every memento of a
URL: ``<uri>; rel="memento"; datetime="<RFC 1123>"`` entries (rels may combine: ``"first
memento"``), besides ``original``, ``self`` and ``timegate``. Entries are separated by commas, which
also occur inside datetimes and URIs, so they are read by their ``<…>`` starts, not split on
commas. A TimeMap carries no status codes: every memento is a candidate as if it were a 200, and
replaying it decides (``choose.py``'s order still applies: periods, before, after, late last). A
404 TimeMap is "no memento" (MemGator answers so too), not a failure. TimeMaps split into pages
(``rel="timemap"`` entries) are read as their first page only.

A **TimeGate** (``<timegate prefix><URL>`` with ``Accept-Datetime``) redirects to the memento
closest to that date; it is used for archives configured without a TimeMap, one request per
citation date.

A memento is **verified** by one GET of it as listed (following at most ``MAX_HOPS`` redirects:
archive.today sends its dated URLs on to a short one): it must answer 200 with a
``Memento-Datetime`` header, and the caller's ``PageJudge`` sees its title, headings and text as
for a Wayback capture (``replay.judge_replay``). Archives other than the Wayback Machine have no
common "raw bytes" replay form, so the judge sees the page as the archive replays it: pywb and
OpenWayback keep the page's own ``<title>``; a banner's text may come first in the sample.

Every request goes through the ``ArchiveContext`` of the host it is for (archive/others.py).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urljoin

import httpx

from archive.context import Fetched
from archive.errors import ArchiveUnavailable
from archive.models import Capture, PageJudge
from archive.ratelimit import Kind
from archive.replay import (
    PageText,
    Replayed,
    Verified,
    judge_replay,
    media_type,
    memento_timestamp,
    read_page,
)
from archive.settings import MementoArchive
from archive.timestamps import as_utc, format_timestamp

MAX_HOPS = 3                     # redirects followed from a TimeGate or a listed memento
_ENTRY = re.compile(r"<(?P<uri>[^>]*)>(?P<params>(?:\s*;\s*[^;,=<>\s]+\s*=\s*(?:\"[^\"]*\"|[^;,<\s]*))*)")
_PARAM = re.compile(r";\s*(?P<name>[^;,=<>\s]+)\s*=\s*(?:\"(?P<quoted>[^\"]*)\"|(?P<bare>[^;,<\s]*))")

#: Sends one request to an archive through the context of its host: (kind, url, headers).
Get = Callable[[Kind, str, dict[str, str]], Awaitable[Fetched]]


@dataclass(frozen=True, slots=True)
class Memento:
    """One entry of a TimeMap: where the memento replays, and when it was captured."""

    uri: str
    captured_at: datetime        # UTC


@dataclass(frozen=True, slots=True)
class TimeMap:
    original: str | None
    mementos: tuple[Memento, ...]


def parse_timemap(text: str, *, base: str = "") -> TimeMap:
    """The mementos of an ``application/link-format`` TimeMap, oldest first (pure).

    Raises ValueError when the text is no TimeMap at all (an HTML error page with a 200).
    """
    original = None
    mementos: dict[str, Memento] = {}
    entries = 0
    for entry in _ENTRY.finditer(text):
        params = {m["name"].lower(): (m["quoted"] if m["quoted"] is not None else m["bare"])
                  for m in _PARAM.finditer(entry["params"])}
        rels = params.get("rel", "").split()
        if not rels:
            continue
        entries += 1
        uri = urljoin(base, entry["uri"].strip())
        if "original" in rels and original is None:
            original = uri
        if "memento" not in rels:
            continue
        try:
            moment = parsedate_to_datetime(params.get("datetime", ""))
        except (TypeError, ValueError):
            continue              # a memento without a readable date cannot be chosen for one
        mementos.setdefault(uri, Memento(uri, as_utc(moment)))
    if not entries:
        raise ValueError("not a TimeMap (no link-format entries with a rel)")
    return TimeMap(original, tuple(sorted(mementos.values(), key=lambda m: m.captured_at)))


def as_captures(mementos: tuple[Memento, ...], original: str) -> dict[str, tuple[Capture, Memento]]:
    """Mementos as ``Capture``s for choose.py, keyed by timestamp (the first memento of a second
    wins: an aggregator may list several archives' captures of the same moment)."""
    out: dict[str, tuple[Capture, Memento]] = {}
    for memento in mementos:
        stamp = format_timestamp(memento.captured_at)
        # No status in a TimeMap: a candidate page; the replay decides (module docstring).
        capture = Capture(timestamp=stamp, captured_at=memento.captured_at, original=original,
                          status_code=200)
        out.setdefault(stamp, (capture, memento))
    return out


async def fetch_timemap(get: Get, archive: MementoArchive, url: str) -> TimeMap:
    """The archive's TimeMap of ``url`` (empty on 404). Raises ArchiveUnavailable on failure."""
    fetched = await _follow(get, "lookup", archive.timemap + url, {})
    if fetched.status_code == 404:
        return TimeMap(None, ())
    if fetched.status_code != 200:
        raise ArchiveUnavailable(f"{archive.name}: TimeMap answered HTTP {fetched.status_code}",
                                 status_code=fetched.status_code)
    try:
        return parse_timemap(fetched.text, base=fetched.url)
    except ValueError as exc:
        raise ArchiveUnavailable(f"{archive.name}: unreadable TimeMap: {exc}") from None


async def ask_timegate(get: Get, archive: MementoArchive, url: str, at: datetime) -> str | None:
    """The memento the TimeGate names for ``at``, or None when it has none (4xx)."""
    link = archive.timegate + url
    headers = {"Accept-Datetime": format_datetime(as_utc(at), usegmt=True)}
    fetched = await get("lookup", link, headers)
    if fetched.status_code >= 500 or fetched.status_code == 429:
        raise ArchiveUnavailable(f"{archive.name}: TimeGate answered HTTP {fetched.status_code}",
                                 status_code=fetched.status_code)
    location = fetched.headers.get("location")
    if 300 <= fetched.status_code < 400 and location:
        return urljoin(link, location)
    if fetched.status_code == 200 and fetched.headers.get("memento-datetime"):
        return fetched.url        # some TimeGates answer with the memento itself
    return None


async def verify_memento(
    get: Get, memento_uri: str, *, asked_url: str, original: str, cited_title: str | None,
    judge: PageJudge | None,
) -> Verified:
    """Replay one memento and judge it (see the module docstring). Raises ArchiveUnavailable."""
    fetched = await _follow(get, "replay", memento_uri, {})
    if fetched.status_code >= 500:
        raise ArchiveUnavailable(f"memento answered HTTP {fetched.status_code}",
                                 status_code=fetched.status_code)
    memento = fetched.headers.get("memento-datetime")
    content_type = media_type(fetched.headers.get("content-type"))
    replayed = Replayed(
        url=original, status_code=fetched.status_code, memento_ts=memento_timestamp(memento),
        location=None, content_type=content_type, truncated=fetched.truncated,
        # only a capture of a page is read: nothing else reaches the judge
        page=read_page(fetched.text, content_type)
        if memento and fetched.status_code == 200 else PageText(),
    )
    return judge_replay(replayed, asked_url=asked_url, cited_title=cited_title,
                        page_judge=judge)


async def _follow(get: Get, kind: Kind, link: str, headers: dict[str, str]) -> Fetched:
    """GET ``link``, following up to MAX_HOPS redirects (each a paced request of its own)."""
    fetched = await get(kind, link, headers)
    for _ in range(MAX_HOPS):
        location = fetched.headers.get("location")
        if not (300 <= fetched.status_code < 400 and location):
            break
        fetched = await get(kind, urljoin(fetched.url, location), headers)
    return fetched


def timeout_for(archive: MementoArchive) -> httpx.Timeout:
    """The archive's own timeout, for every request to it (connect, read, pool)."""
    return httpx.Timeout(archive.timeout_s)


__all__ = ["MAX_HOPS", "Memento", "TimeMap", "as_captures", "ask_timegate", "fetch_timemap",
           "parse_timemap", "timeout_for", "verify_memento"]
