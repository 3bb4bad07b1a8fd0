"""
CDX lookups with waybackpy, the project's chosen client, as the query model and row parser; the
request itself goes out on our httpx client. The ONLY module that imports waybackpy (a test
enforces it); nothing outside sees a waybackpy object or exception.

What we use from waybackpy 3.0.6: ``WaybackMachineCDXServerAPI`` as the query model (its
argument validation, ``closest`` + ``sort=closest``, filters, the ``endpoint`` attribute pointed
at ``ArchiveSettings.cdx_url``, ``add_payload()`` for the parameters), ``full_url`` for encoding
repeatable parameters, ``check_for_blocked_site`` for the 403 "Blocked Site Error", and
``snapshots()`` to parse the rows.

What we replace, and why (read in site-packages ``waybackpy/cdx_api.py`` and ``cdx_utils.py``):

* Transport. ``cdx_api_manager()`` calls ``cdx_utils.get_response``, which opens a fresh
  ``requests`` session per call (a new connection, so no keep-alive) with **no timeout**, mounts
  ``Retry(total=5, backoff_factor=0.5)`` on 5xx for ``https://`` only (up to 5 extra requests
  and about 15 s of sleeps that our gate never sees), never looks at the HTTP status (a 429 HTML
  page reaches the row parser and becomes a confusing ``WaybackError``), and always pages with
  ``showResumeKey`` (more requests than one per URL). Being synchronous, it also needed worker
  threads, each with its own connection. So the request URL is built from the query model
  without any network (``request_url()``), sent once through ``ArchiveContext.fetch("lookup",
  ...)`` (the gate's pace, the per-host cap, the 429 pause, a timeout, the shared kept-alive
  connections), and ``_CdxQuery`` overrides ``cdx_api_manager`` to hand the body already
  fetched to waybackpy's own parser, ``snapshots()``.
* Parsing, only when it crashes. ``CDXSnapshot`` parses timestamps with strict ``strptime``
  (month ``00`` rows exist: ValueError) and ``snapshots()`` raises ``WaybackError`` on a row
  without exactly 7 fields; either kills the whole answer. We then parse the same body ourselves
  (no second request), repairing ``00`` and skipping junk rows.
* Pagination (``use_pagination``) is never used: ``get_total_pages()`` hard-codes
  web.archive.org. waybackpy's Availability and Save classes are not used at all (fixed 5 s
  sleeps, re-queries of empty answers, no status handling, no batch form, legacy anonymous
  ``GET /save/<url>`` without SPN2 jobs): availability.py and spn.py speak httpx instead.

The query: one request per distinct URL, ``closest=<median target>&sort=closest`` with a status
filter keeping 2xx rows and the 3xx rows (redirect captures, which replay.py may follow),
``resolveRevisits=true`` so revisit rows carry their original status (unresolved ``-`` rows are
filtered out), ``limit=cdx_limit``. The rows closest to the citations come back first; the
chooser picks locally for every citation. Like every lookup, it waits its turn at the gate: at
the default 24 a minute, one CDX request every 2.5 s.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from waybackpy.cdx_api import WaybackMachineCDXServerAPI
from waybackpy.cdx_snapshot import CDXSnapshot
from waybackpy.cdx_utils import check_for_blocked_site, full_url
from waybackpy.exceptions import BlockedSiteError, WaybackError

from archive.context import ArchiveContext, Fetched
from archive.errors import ArchiveUnavailable
from archive.links import strip_fragment
from archive.models import Capture
from archive.settings import ArchiveSettings
from archive.timestamps import format_timestamp, parse_timestamp

CDX_STATUS_FILTER = "statuscode:(200|203|206|301|302|303|307|308)"
# Bytes of a CDX answer kept: 1,000 rows of long URLs fit (a replay keeps max_body_bytes).
CDX_MAX_BYTES = 2_000_000
_ROBOTS_BLOCK = "RobotAccessControlException"
_JUNK_ORIGINAL = re.compile(r"^(?:https?://)?(?:mailto:|data:|javascript:)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CdxAnswer:
    """What one CDX request said about one URL."""

    status_code: int
    captures: tuple[Capture, ...] = ()
    excluded: str | None = None    # why, when the site is blocked from the Wayback Machine
    parsed_by: str = "waybackpy"   # "citewatch" when waybackpy's parser gave up


async def fetch_captures(ctx: ArchiveContext, url: str, *, closest: datetime) -> CdxAnswer:
    """The usable captures of ``url``, closest to ``closest`` first (one CDX request).

    Raises ArchiveUnavailable (5xx, timeout, unreadable answer) and ArchiveThrottled.
    """
    query = _CdxQuery(strip_fragment(url), closest=format_timestamp(closest),
                      settings=ctx.settings)
    fetched = await ctx.fetch("lookup", "GET", query.request_url(), max_bytes=CDX_MAX_BYTES)
    return read_answer(query, fetched)


def read_answer(query: _CdxQuery, fetched: Fetched) -> CdxAnswer:
    """Judge one CDX answer (no I/O): rows through waybackpy's parser, else through ours."""
    url = query.url
    status = fetched.status_code
    if status == 200:
        # A body cut at CDX_MAX_BYTES ends in half a row: drop it rather than misread it.
        body = fetched.text.rpartition("\n")[0] if fetched.truncated else fetched.text
        parsed_by = "waybackpy"
        try:
            captures = [_from_waybackpy(snapshot) for snapshot in query.parse(body)]
        except (ValueError, WaybackError):
            captures, parsed_by = parse_cdx_text(body), "citewatch"
        if not captures and _has_rows(body):
            raise ArchiveUnavailable(f"unreadable CDX answer: {body[:120]!r}", status_code=200)
        return CdxAnswer(200, tuple(collapse_duplicates(captures)), parsed_by=parsed_by)
    if status == 403:
        try:
            # waybackpy reads only ``.text`` of the response it is given (cdx_utils.py), which
            # our Fetched has too: no requests.Response needed.
            check_for_blocked_site(cast(Any, fetched), url)
        except BlockedSiteError:   # its message blames robots.txt; this is an admin block
            return CdxAnswer(403, excluded=f"{url} is blocked from the Wayback Machine "
                                           "(Blocked Site Error)")
        if _ROBOTS_BLOCK in fetched.text:
            return CdxAnswer(403, excluded=f"{url} is blocked from the Wayback Machine "
                                           "by robots.txt")
    raise ArchiveUnavailable(f"CDX answered HTTP {status}", status_code=status)


class _CdxQuery(WaybackMachineCDXServerAPI):
    """waybackpy's CDX query, sent by us: its URL built without network, its parser fed our body."""

    def __init__(self, url: str, *, closest: str, settings: ArchiveSettings) -> None:
        super().__init__(
            url, user_agent=settings.user_agent, filters=[CDX_STATUS_FILTER], sort="closest",
            closest=closest, limit=str(settings.cdx_limit), max_tries=1,
        )
        self.endpoint = settings.cdx_url
        self._body = ""

    def request_url(self) -> str:
        """The one GET to send: waybackpy's parameters, plus ours, encoded by waybackpy."""
        payload: dict[str, str] = {}
        self.add_payload(payload)
        self._add_ours(payload)
        request_url = full_url(self.endpoint, params=payload)
        self.last_api_request_url = request_url
        return request_url

    def parse(self, body: str) -> Generator[CDXSnapshot, None, None]:
        """waybackpy's row parser over a body we fetched (``snapshots()`` without its I/O)."""
        self._body = body
        return self.snapshots()

    def cdx_api_manager(
        self, payload: dict[str, str], headers: dict[str, str]
    ) -> Generator[str, None, None]:
        # Called by snapshots(): instead of requesting (and paging), yield the fetched body.
        yield self._body

    def _add_ours(self, payload: dict[str, str]) -> None:
        payload["limit"] = str(self.limit)      # waybackpy adds it only in its own transport
        payload["resolveRevisits"] = "true"


def _from_waybackpy(snapshot: CDXSnapshot) -> Capture:
    return Capture(
        timestamp=snapshot.timestamp,
        # archive.timestamps' rule, as for every other timestamp (waybackpy's strptime agrees on
        # the rows it can parse at all)
        captured_at=parse_timestamp(snapshot.timestamp)
        or snapshot.datetime_timestamp.replace(tzinfo=UTC),
        original=snapshot.original,
        status_code=int(snapshot.statuscode) if snapshot.statuscode.isdigit() else None,
        mimetype=snapshot.mimetype,
        digest=snapshot.digest,
    )


def parse_cdx_text(text: str) -> list[Capture]:
    """Our parser for 7-field CDX text rows: repairs ``00`` dates, skips junk rows."""
    captures = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 7:
            continue
        # a space inside the original URL would add fields: the last four are fixed
        _urlkey, timestamp = fields[0], fields[1]
        original = " ".join(fields[2:-4])
        mimetype, status, digest, _length = fields[-4:]
        captured_at = parse_timestamp(timestamp)
        if captured_at is None or _JUNK_ORIGINAL.match(original) or "://" not in original:
            continue
        captures.append(Capture(
            timestamp=timestamp, captured_at=captured_at, original=original,
            status_code=int(status) if status.isdigit() else None,
            mimetype=mimetype, digest=digest,
        ))
    return captures


def collapse_duplicates(captures: Iterable[Capture]) -> list[Capture]:
    """Identical rows are common in CDX answers: keep one per (timestamp, status), by time."""
    seen: dict[tuple[str, int | None], Capture] = {}
    for capture in captures:
        seen.setdefault((capture.timestamp, capture.status_code), capture)
    return sorted(seen.values(), key=lambda capture: capture.captured_at)


def _has_rows(body: str) -> bool:
    return any(line.strip() for line in body.splitlines())
