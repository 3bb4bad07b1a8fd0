"""
The public entry points. ``Wayback`` holds one run's shared state (rate limits, the 429 pause,
the stop after repeated 429s, the HTTP client), so lookups, link checks and saves made through
one instance are polite *together*. The module functions are one-shot conveniences.

Clock and sleep are injected (``time.monotonic``/``asyncio.sleep`` by default); tests and the
benchmark pass a ``VirtualClock`` to run the real limiter without waiting.

``judge`` decides whether a replayed capture shows the cited page (archive.replay); every lookup
and cited-link check of one ``Wayback`` uses it. Without one, only the archive's own answers
(status, ``Memento-Datetime``) count.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import httpx

from archive.context import ArchiveContext
from archive.errors import ArchiveThrottled, ArchiveUnavailable
from archive.links import replay_link, split_archive_link
from archive.models import (
    ARCHIVE_WAYBACK,
    CaptureContent,
    LookupRequest,
    LookupResult,
    Outcome,
    PageJudge,
    ReplayCheck,
    SaveResult,
    Snapshot,
)
from archive.others import OtherArchives
from archive.ratelimit import Clock, Sleep
from archive.replay import Verifier, capture_content
from archive.resolver import resolve_requests
from archive.settings import ArchiveSettings
from archive.spn import save_urls
from archive.timestamps import parse_timestamp


class Wayback:
    """A session with the Wayback Machine. Use ``async with Wayback(settings) as wayback:``."""

    def __init__(
        self, settings: ArchiveSettings | None = None, *, clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep, transport: httpx.AsyncBaseTransport | None = None,
        judge: PageJudge | None = None,
    ) -> None:
        self.settings = settings or ArchiveSettings()
        self._judge = judge
        self._ctx = ArchiveContext(self.settings, clock=clock, sleep=sleep, transport=transport)
        # Other archives (settings.memento_archives): asked only for what Wayback cannot resolve.
        self.others = OtherArchives(self.settings, clock=clock, sleep=sleep, transport=transport,
                                    judge=judge) if self.settings.memento_archives else None

    async def __aenter__(self) -> Wayback:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._ctx.aclose()
        if self.others is not None:
            await self.others.aclose()

    @property
    def requests_sent(self) -> dict[str, int]:
        """Requests sent so far by kind: ``lookup``, ``replay``, ``save``."""
        return dict(self._ctx.gate.requests)

    @property
    def other_requests(self) -> dict[str, int]:
        """Requests sent so far to each other archive, by name (empty without any)."""
        return dict(self.others.requests) if self.others is not None else {}

    @property
    def throttled(self) -> int:
        """429 answers received so far."""
        return self._ctx.gate.throttled

    def resolve(self, requests: Sequence[LookupRequest]) -> AsyncIterator[LookupResult]:
        """One verified capture per citation, yielded per URL as each finishes.

        Citations the Wayback Machine has nothing usable for (``no-capture``, ``excluded``) are
        then asked of ``settings.memento_archives`` in order (archive/others.py).

        Raises ArchiveThrottled after yielding every result finished before the stop.
        """
        results = resolve_requests(self._ctx, requests, judge=self._judge)
        if self.others is None:
            return results
        return self.others.follow(results, requests)

    async def verify_archived(self, archive_url: str, *, cited_title: str | None = None
                              ) -> ReplayCheck:
        """Whether a cited ``web.archive.org/web/<ts>[flag]/<url>`` link still replays a page.

        One ``id_`` replay (plus one hop for "found capture at", plus one for an archived
        redirect). Raises ValueError if ``archive_url`` is not a Wayback replay URL (see
        ``split_archive_link``) and ArchiveThrottled after repeated 429s.
        """
        link = split_archive_link(archive_url, replay_base=self.settings.replay_url)
        if link is None:
            raise ValueError(f"not a Wayback Machine replay URL: {archive_url}")
        checked_at = datetime.now(UTC)

        def check(outcome: Outcome, reason: str, snapshot: Snapshot | None = None) -> ReplayCheck:
            return ReplayCheck(archive_url=archive_url, url=link.url, outcome=outcome,
                               snapshot=snapshot, reason=reason, checked_at=checked_at)

        try:
            verified = await Verifier(self._ctx, self._judge).verify(
                link.timestamp, link.url, cited_title=cited_title)
        except ArchiveThrottled:
            raise
        except ArchiveUnavailable as exc:
            return check(Outcome.UNKNOWN, f"replay failed: {exc}")
        if not verified.ok:
            return check(verified.outcome, verified.reason)
        assert verified.timestamp and verified.captured_at and verified.original
        cited_at = parse_timestamp(link.timestamp) or verified.captured_at
        snapshot = Snapshot(
            archive=ARCHIVE_WAYBACK, url=link.url, original=verified.original,
            timestamp=verified.timestamp, captured_at=verified.captured_at,
            replay_url=replay_link(self.settings.replay_url, verified.timestamp, verified.original),
            status_code=verified.status_code or 200, title=verified.title,
            distance_s=round((verified.captured_at - cited_at).total_seconds()),
            looked_up_at=checked_at, redirected_from=verified.redirected_from,
        )
        return check(Outcome.FOUND, "", snapshot)

    async def capture_content(self, replay_url: str) -> CaptureContent | None:
        """The archived body of a Wayback capture (``web.archive.org/web/<ts>/<url>``), fetched
        in identity form (``id_``) under the replay pace; None when no 200 capture replays there.

        Raises ValueError if ``replay_url`` is not a Wayback replay URL, ArchiveUnavailable (5xx,
        timeout) and ArchiveThrottled after repeated 429s.
        """
        link = split_archive_link(replay_url, replay_base=self.settings.replay_url)
        if link is None:
            raise ValueError(f"not a Wayback Machine replay URL: {replay_url}")
        return await capture_content(self._ctx, link.timestamp, link.url)

    def save(self, urls: Sequence[str]) -> AsyncIterator[SaveResult]:
        """Save Page Now 2 for each distinct URL, yielding results as they finish.

        Raises ArchiveThrottled after yielding every result finished before the stop.
        """
        return save_urls(self._ctx, urls)


async def resolve(
    requests: Sequence[LookupRequest], settings: ArchiveSettings | None = None, *,
    clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep, judge: PageJudge | None = None,
) -> AsyncIterator[LookupResult]:
    """``Wayback(settings).resolve(requests)`` in one call (its own rate-limit state)."""
    async with Wayback(settings, clock=clock, sleep=sleep, judge=judge) as wayback:
        async for result in wayback.resolve(requests):
            yield result


async def verify_archived(
    archive_url: str, settings: ArchiveSettings | None = None, *, cited_title: str | None = None,
    clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep, judge: PageJudge | None = None,
) -> ReplayCheck:
    """``Wayback(settings).verify_archived(archive_url)`` in one call."""
    async with Wayback(settings, clock=clock, sleep=sleep, judge=judge) as wayback:
        return await wayback.verify_archived(archive_url, cited_title=cited_title)


async def save(
    urls: Sequence[str], settings: ArchiveSettings | None = None, *,
    clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[SaveResult]:
    """``Wayback(settings).save(urls)`` in one call."""
    async with Wayback(settings, clock=clock, sleep=sleep) as wayback:
        async for result in wayback.save(urls):
            yield result
