"""
The Availability API: a fallback and a bulk shortcut, never the authority.

Its answer holds one "closest" snapshot at most, and it is known to answer
``{"archived_snapshots": {}}`` for URLs that are archived (reference §1.3). So an empty answer
means **unknown**, never "not archived": the resolver then asks the CDX server.

* ``available()``: ``GET /wayback/available?url=&timestamp=`` for one URL, used when the CDX
  server failed (5xx, timeout, garbage). We add IABot's ``statuscodes=200/203/206``; whether the
  legacy GET honours them is not documented, so the returned status is still checked.
* ``available_batch()``: IABot's batch form, ``POST /wayback/available`` with header
  ``Wayback-Api-Version: 2`` and a body of newline-separated form-encoded lines
  ``url=…&timestamp=…&closest=before&statuscodes=200&statuscodes=203&statuscodes=206&tag=<id>``,
  at most ``batch_size`` (100) lines per POST; the answer is ``{"results": [{"tag": …,
  "archived_snapshots": {"closest": {…}}}]}``. One POST counts as one lookup request.

``closest.url`` names the real ``http://web.archive.org/web/<ts>/<original>``; we keep only the
timestamp and the original URL, and build replay URLs on the configured base ourselves.
The waybackpy Availability class is not used: see wayback.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from archive.context import ArchiveContext
from archive.errors import ArchiveUnavailable
from archive.links import split_archive_link, strip_fragment
from archive.models import Capture
from archive.timestamps import format_timestamp, parse_timestamp

STATUS_CODES = ("200", "203", "206")


@dataclass(frozen=True, slots=True)
class BatchLine:
    tag: str
    url: str
    at: datetime


async def available(ctx: ArchiveContext, url: str, at: datetime) -> Capture | None:
    """The closest capture the Availability API names, or None (meaning: unknown)."""
    params = [("url", strip_fragment(url)), ("timestamp", format_timestamp(at))]
    params += [("statuscodes", code) for code in STATUS_CODES]
    fetched = await ctx.fetch("lookup", "GET", ctx.settings.availability_url, params=params)
    if fetched.status_code != 200:
        raise ArchiveUnavailable(f"availability answered HTTP {fetched.status_code}",
                                 status_code=fetched.status_code)
    return _closest(_json(fetched.text), url)


async def available_batch(ctx: ArchiveContext, lines: Sequence[BatchLine]) -> dict[str, Capture]:
    """Captures by tag for one batch (≤ batch_size lines); a missing tag means unknown."""
    body = "\n".join(
        urlencode([("url", strip_fragment(line.url)), ("timestamp", format_timestamp(line.at)),
                   ("closest", "before"), *(("statuscodes", code) for code in STATUS_CODES),
                   ("tag", line.tag)])
        for line in lines
    )
    fetched = await ctx.fetch(
        "lookup", "POST", ctx.settings.availability_url, content=body.encode(),
        headers={"Wayback-Api-Version": "2", "Content-Type": "application/x-www-form-urlencoded"},
    )
    if fetched.status_code != 200:
        raise ArchiveUnavailable(f"batch availability answered HTTP {fetched.status_code}",
                                 status_code=fetched.status_code)
    answer = _json(fetched.text)
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise ArchiveUnavailable("batch availability answer has no results list")
    urls = {line.tag: line.url for line in lines}
    found: dict[str, Capture] = {}
    for result in results:
        tag = str(result.get("tag", "")) if isinstance(result, dict) else ""
        if tag in urls and (capture := _closest(result, urls[tag])) is not None:
            found[tag] = capture
    return found


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:   # an HTML error page instead of JSON
        raise ArchiveUnavailable(f"availability answer is not JSON: {text[:80]!r}") from exc


def _closest(answer: Any, url: str) -> Capture | None:
    snapshots = answer.get("archived_snapshots") if isinstance(answer, dict) else None
    closest = snapshots.get("closest") if isinstance(snapshots, dict) else None
    if not isinstance(closest, dict) or closest.get("available") is False:
        return None
    timestamp = str(closest.get("timestamp", ""))
    captured_at = parse_timestamp(timestamp)
    if captured_at is None:
        return None
    link = split_archive_link(str(closest.get("url", "")))
    status = str(closest.get("status", "200"))
    return Capture(
        timestamp=timestamp, captured_at=captured_at, original=link.url if link else url,
        status_code=int(status) if status.isdigit() else None,
    )
