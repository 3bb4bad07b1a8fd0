"""
Resolve lost citations to verified Wayback captures, one URL at a time, yielding as we go.

Per distinct URL (requests for the same URL are merged):

1. With ``batch_threshold`` (20) or more distinct URLs, the batch Availability API is asked
   first, ≤ ``batch_size`` (100) lines per POST, one line per (URL, citation date),
   ``closest=before``. Each capture it names is verified by replay; a citation it answers nothing
   for, or whose capture fails verification, goes to step 2. One POST replaces up to 100 CDX
   requests, so at scale most URLs cost no CDX request at all.
2. **One** CDX request (wayback.py): the URL's usable captures closest to the median citation
   date. The pure chooser (choose.py) ranks them for every citation locally, and the best
   ``max_verify`` candidates are replayed in turn (replay.py) until one passes. Replays are
   cached per URL, so two citations choosing the same capture cost one replay.
3. If the CDX request fails (5xx, timeout, unreadable), the single Availability API is tried
   per citation. It can only find, never rule out: nothing found stays ``unknown``.

Results stream out as URLs finish (at most ``concurrency`` in flight; the gate sets the pace).
After repeated 429s the gate stops: URLs in flight finish at once with ``unknown`` for what was
not done, are yielded, and then ``ArchiveThrottled`` is raised, so the caller has stored every
result before it stops. The batch POST is counted in ``requests_made`` of the first URL of its
batch.
"""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from archive.availability import BatchLine, available, available_batch
from archive.choose import GOOD_STATUSES, rank_captures
from archive.context import ArchiveContext, start_tally, stream_bounded
from archive.errors import ArchiveThrottled, ArchiveUnavailable
from archive.links import replay_link
from archive.models import (
    ARCHIVE_WAYBACK,
    Capture,
    Choice,
    LookupRequest,
    LookupResult,
    Outcome,
    PageJudge,
    Snapshot,
    Target,
)
from archive.replay import Verified, Verifier
from archive.timestamps import as_utc
from archive.wayback import fetch_captures


@dataclass(slots=True)
class _Work:
    request: LookupRequest
    hints: dict[str, Capture] = field(default_factory=dict)   # key -> batch availability answer
    batch_requests: int = 0


async def resolve_requests(
    ctx: ArchiveContext, requests: Sequence[LookupRequest], *, judge: PageJudge | None = None
) -> AsyncIterator[LookupResult]:
    """Yield one LookupResult per distinct URL, in completion order (see the module docstring).

    ``judge`` decides whether a replayed capture is the cited page (archive.replay).
    """
    merged = merge_requests(requests)
    items = _with_batch_hints(ctx, merged) if len(merged) >= ctx.settings.batch_threshold \
        else _plain(merged)
    async for result in stream_bounded(
        items, lambda work: _resolve_url(ctx, work, judge), limit=ctx.settings.concurrency,
        stop=lambda: ctx.gate.stopped,
    ):
        yield result
    ctx.gate.raise_if_stopped()   # ArchiveThrottled, now that every result is out


def merge_requests(requests: Sequence[LookupRequest]) -> list[LookupRequest]:
    """One request per URL: targets joined (first key wins), the earliest failing_since kept."""
    by_url: dict[str, LookupRequest] = {}
    for request in requests:
        known = by_url.get(request.url)
        if known is None:
            by_url[request.url] = request
            continue
        keys = {target.key for target in known.targets}
        failing = [d for d in (known.failing_since, request.failing_since) if d is not None]
        by_url[request.url] = LookupRequest(
            url=request.url,
            targets=known.targets + tuple(t for t in request.targets if t.key not in keys),
            failing_since=min(failing, key=as_utc) if failing else None,
        )
    return list(by_url.values())


async def _plain(requests: list[LookupRequest]) -> AsyncIterator[_Work]:
    for request in requests:
        yield _Work(request)


async def _with_batch_hints(
    ctx: ArchiveContext, requests: list[LookupRequest]
) -> AsyncIterator[_Work]:
    for chunk in _chunks(requests, ctx.settings.batch_size):
        async for work in _batch(ctx, chunk):
            yield work


def _chunks(requests: list[LookupRequest], size: int) -> Iterator[list[LookupRequest]]:
    """Whole URLs per batch, at most ``size`` lines (one per citation date) each."""
    chunk: list[LookupRequest] = []
    lines = 0
    for request in requests:
        count = min(len(request.targets), size)
        if chunk and lines + count > size:
            yield chunk
            chunk, lines = [], 0
        chunk.append(request)
        lines += count
    if chunk:
        yield chunk


async def _batch(ctx: ArchiveContext, chunk: list[LookupRequest]) -> AsyncIterator[_Work]:
    lines: list[BatchLine] = []
    owners: dict[str, tuple[str, str]] = {}
    for request in chunk:
        for target in request.targets[: ctx.settings.batch_size]:
            tag = str(len(lines))
            lines.append(BatchLine(tag=tag, url=request.url, at=target.at))
            owners[tag] = (request.url, target.key)
    found: dict[str, Capture] = {}
    try:
        found = await available_batch(ctx, lines)
    except ArchiveThrottled:
        raise
    except ArchiveUnavailable:
        pass                       # every URL of this batch goes to the CDX server
    hints: dict[str, dict[str, Capture]] = {}
    for tag, capture in found.items():
        url, key = owners[tag]
        hints.setdefault(url, {})[key] = capture
    for index, request in enumerate(chunk):
        yield _Work(request, hints.get(request.url, {}), batch_requests=1 if index == 0 else 0)


async def _resolve_url(ctx: ArchiveContext, work: _Work, judge: PageJudge | None
                       ) -> LookupResult:
    tally = start_tally()
    resolver = _UrlResolver(ctx, work.request, judge)
    try:
        await resolver.run(work.hints)
    except ArchiveThrottled:
        pass                       # keep what was found; the rest stays unknown
    return LookupResult(
        url=work.request.url, choices=resolver.choices(), looked_up_at=resolver.looked_up_at,
        requests_made=tally.requests + work.batch_requests, source="+".join(resolver.sources),
    )


class _UrlResolver:
    """The state of one URL's lookup: choices so far, shared replay cache."""

    def __init__(self, ctx: ArchiveContext, request: LookupRequest, judge: PageJudge | None
                 ) -> None:
        self.ctx = ctx
        self.request = request
        self.looked_up_at = datetime.now(UTC)
        self.verifier = Verifier(ctx, judge)
        self.sources: list[str] = []
        self._choices: dict[str, Choice] = {}

    def choices(self) -> tuple[Choice, ...]:
        return tuple(
            self._choices.get(t.key) or Choice(key=t.key, target=t.at, outcome=Outcome.UNKNOWN,
                                               reason=self._stopped_reason())
            for t in self.request.targets
        )

    def _stopped_reason(self) -> str:
        # why the gate stopped: repeated 429s, or no answer at all (the network is down)
        why = self.ctx.gate.stop_reason or "the archive stopped answering"
        return f"stopped before this was looked up: {why}"

    def _remaining(self) -> list[Target]:
        return [t for t in self.request.targets if t.key not in self._choices]

    async def run(self, hints: dict[str, Capture]) -> None:
        for target in self.request.targets:
            if (hint := hints.get(target.key)) is not None and self._allowed(hint):
                await self._try_hint(target, hint)
        if self._choices:
            self.sources.append("availability-batch")
        if not (remaining := self._remaining()):
            return
        median = datetime.fromtimestamp(
            statistics.median(as_utc(t.at).timestamp() for t in remaining), UTC)
        try:
            answer = await fetch_captures(self.ctx, self.request.url, closest=median)
        except ArchiveThrottled:
            raise
        except ArchiveUnavailable as exc:
            await self._fallback(remaining, f"CDX failed: {exc}")
            return
        self.sources.append("cdx")
        if answer.excluded is not None:
            for target in remaining:
                self._set(target, Outcome.EXCLUDED, reason=answer.excluded)
            return
        for target in remaining:
            await self._choose(target, answer.captures)

    def _allowed(self, capture: Capture) -> bool:
        failing = self.request.failing_since
        return capture.status_code in GOOD_STATUSES and (
            failing is None or capture.captured_at <= as_utc(failing))

    async def _try_hint(self, target: Target, capture: Capture) -> None:
        try:
            verified = await self.verifier.verify(capture.timestamp, self.request.url,
                                                  cited_title=target.cited_title)
        except ArchiveThrottled:
            raise
        except ArchiveUnavailable:
            return                 # the CDX step will try again
        if verified.ok:
            self._found(target, verified)

    async def _choose(self, target: Target, captures: tuple[Capture, ...]) -> None:
        ranked = rank_captures(captures, target.at, failing_since=self.request.failing_since,
                               start=target.start)
        if not ranked:
            reason = "no capture" if not captures else \
                f"none of {len(captures)} captures is usable before the link failed"
            self._set(target, Outcome.NO_CAPTURE, reason=reason)
            return
        rejected = []
        # max_verify bounds the *new* replays per citation: a capture another citation of the
        # URL already replayed is judged again for free (several citations, one shared shelf of
        # not-found captures, must not use up each other's tries).
        budget = self.ctx.settings.max_verify
        for capture in ranked:
            if not self.verifier.has_replayed(capture.timestamp, self.request.url):
                if budget == 0:
                    break
                budget -= 1
            try:
                verified = await self.verifier.verify(capture.timestamp, self.request.url,
                                                      cited_title=target.cited_title)
            except ArchiveThrottled:
                raise
            except ArchiveUnavailable as exc:
                self._set(target, Outcome.UNKNOWN, reason=f"replay failed: {exc}")
                return
            if verified.ok:
                self._found(target, verified)
                return
            if verified.outcome is Outcome.EXCLUDED:
                self._set(target, Outcome.EXCLUDED, reason=verified.reason)
                return
            rejected.append(f"{capture.timestamp}: {verified.reason}")
        untried = len(ranked) - len(rejected)
        more = f" ({untried} more not tried)" if untried else ""
        self._set(target, Outcome.NO_CAPTURE, reason="; ".join(rejected) + more)

    async def _fallback(self, remaining: list[Target], why: str) -> None:
        """CDX failed: the single Availability API may still find a capture (never rule out)."""
        for target in remaining:
            try:
                capture = await available(self.ctx, self.request.url, target.at)
            except ArchiveThrottled:
                raise
            except ArchiveUnavailable as exc:
                self._set(target, Outcome.UNKNOWN, reason=f"{why}; availability failed: {exc}")
                continue
            if capture is not None and self._allowed(capture):
                await self._try_hint(target, capture)
            if target.key in self._choices:
                if "availability" not in self.sources:
                    self.sources.append("availability")
            else:
                self._set(target, Outcome.UNKNOWN,
                          reason=f"{why}; availability found no usable capture")

    def _found(self, target: Target, verified: Verified) -> None:
        assert verified.timestamp and verified.captured_at and verified.original
        snapshot = Snapshot(
            archive=ARCHIVE_WAYBACK, url=self.request.url, original=verified.original,
            timestamp=verified.timestamp, captured_at=verified.captured_at,
            replay_url=replay_link(self.ctx.settings.replay_url, verified.timestamp,
                                   verified.original),
            status_code=verified.status_code or 200, title=verified.title,
            distance_s=target.distance_s(verified.captured_at),
            looked_up_at=self.looked_up_at, redirected_from=verified.redirected_from,
        )
        self._choices[target.key] = Choice(key=target.key, target=target.at,
                                           outcome=Outcome.FOUND, snapshot=snapshot)

    def _set(self, target: Target, outcome: Outcome, *, reason: str) -> None:
        self._choices[target.key] = Choice(key=target.key, target=target.at, outcome=outcome,
                                           reason=reason)
