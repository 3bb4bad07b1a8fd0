"""
Save Page Now 2 on httpx (reference §4): capture what the archive does not have yet.

* ``POST <save_url>`` with form ``url=…&if_not_archived_within=…`` and ``Accept:
  application/json``; with both keys set, ``Authorization: LOW <access>:<secret>``, else the
  anonymous form (IA may answer 401 to anonymous calls: outcome ``refused``).
* The answer is ``{"url":…, "job_id":"spn2-<40 hex>"}`` (do not expect a UUID; the same URL
  within an hour gets the same job id and a "same snapshot" message), **or an error with HTTP
  200**: ``{"status":"error","status_ext":"error:too-many-daily-captures",…}``.
* Poll ``GET <save_url>/status/<job_id>`` every ``save_poll_interval_s`` (injected sleep) until
  ``success`` (record ``timestamp`` and ``original_url``, the URL after redirects) or ``error``
  (again with HTTP 200). After ``save_max_wait_s`` the outcome is ``pending`` with the job id:
  IA keeps job results for about an hour.
* A new capture is not checked by replay: SPN captures can take a while to replay or appear in
  the CDX index (reference §4.2), so ``saved`` is SPN's word.

Captures go through the gate's ``save`` pool (6/min with keys, 2/min anonymous by default) and
at most ``max_saves_per_url_per_day`` per URL; status polls go through the ``replay`` pool.
Errors whose ``status_ext`` means "try later" (overload, session limit, timeouts) give
``failed``; the others (blocked URL, daily cap, not found…) give ``refused``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from archive.context import ArchiveContext, stream_bounded
from archive.errors import ArchiveThrottled, ArchiveUnavailable, SaveRefused
from archive.links import replay_link
from archive.models import SaveOutcome, SaveResult
from archive.timestamps import parse_timestamp

_RETRYABLE = frozenset({
    "error:bad-gateway", "error:bandwidth-limit-exceeded", "error:browsing-timeout",
    "error:celery", "error:gateway-timeout", "error:internal-server-error",
    "error:job-failed", "error:no-browsers-available", "error:proxy-error",
    "error:read-timeout", "error:service-unavailable", "error:soft-time-limit-exceeded",
    "error:too-many-requests", "error:user-session-limit", "error:max-daily-bandwidth",
    "error:max-daily-bandwidth-from-ip",
    "error:job-unknown",           # ours: the status poll answered 404 (expired after ~1 h)
})


async def save_urls(ctx: ArchiveContext, urls: Sequence[str]) -> AsyncIterator[SaveResult]:
    """Save each distinct URL, yielding results as they finish; ArchiveThrottled at the end."""

    async def items() -> AsyncIterator[str]:
        for url in dict.fromkeys(urls):
            yield url

    async for result in stream_bounded(
        items(), lambda url: save_url(ctx, url), limit=ctx.settings.save_concurrency,
        stop=lambda: ctx.gate.stopped,
    ):
        yield result
    ctx.gate.raise_if_stopped()


async def save_url(ctx: ArchiveContext, url: str) -> SaveResult:
    """Capture one URL with SPN2 and wait (boundedly) for the job. Never raises for one URL."""
    requested_at = datetime.now(UTC)
    job_id: str | None = None

    def result(outcome: SaveOutcome, **fields: Any) -> SaveResult:
        return SaveResult(url=url, outcome=outcome, requested_at=requested_at, job_id=job_id,
                          **fields)

    if not ctx.gate.claim_save(url):
        return result(SaveOutcome.SKIPPED, message="captures-per-day cap for this URL reached")
    try:
        job_id, message = await _submit(ctx, url)
        body = await _poll(ctx, job_id)
    except SaveRefused as exc:
        outcome = SaveOutcome.FAILED if exc.status_ext in _RETRYABLE else SaveOutcome.REFUSED
        return result(outcome, status_ext=exc.status_ext, message=exc.message)
    except ArchiveThrottled as exc:
        outcome = SaveOutcome.PENDING if job_id else SaveOutcome.FAILED
        return result(outcome, message=str(exc))
    except ArchiveUnavailable as exc:
        outcome = SaveOutcome.PENDING if job_id else SaveOutcome.FAILED
        return result(outcome, message=str(exc))
    if body is None:
        return result(SaveOutcome.PENDING, message=message or "the capture job is still running")
    timestamp = str(body.get("timestamp", ""))
    original = str(body.get("original_url") or url)
    captured_at = parse_timestamp(timestamp)
    if captured_at is None:
        return result(SaveOutcome.FAILED, message=f"success without a timestamp: {body!r:.200}")
    return result(
        SaveOutcome.SAVED, timestamp=timestamp, captured_at=captured_at, original_url=original,
        replay_url=replay_link(ctx.settings.replay_url, timestamp, original),
        message=str(body.get("message") or message),
    )


async def _submit(ctx: ArchiveContext, url: str) -> tuple[str, str]:
    """POST the capture request; the job id and SPN's message. Raises SaveRefused."""
    settings = ctx.settings
    headers = {"Accept": "application/json"}
    if settings.authenticated:
        headers["Authorization"] = f"LOW {settings.access_key}:{settings.secret_key}"
    fetched = await ctx.fetch(
        "save", "POST", settings.save_url, headers=headers,
        data={"url": url, "if_not_archived_within": settings.if_not_archived_within},
    )
    if fetched.status_code in (401, 403):
        body = _json_or_empty(fetched.text)
        raise SaveRefused(url, str(body.get("status_ext") or "error:unauthorized"),
                          str(body.get("message") or f"HTTP {fetched.status_code}"))
    if fetched.status_code != 200:
        raise ArchiveUnavailable(f"Save Page Now answered HTTP {fetched.status_code}",
                                 status_code=fetched.status_code)
    body = _json(fetched.text)
    _raise_for_error(url, body)
    job_id = body.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise ArchiveUnavailable(f"Save Page Now gave no job id: {fetched.text[:200]!r}")
    return job_id, str(body.get("message") or "")


async def _poll(ctx: ArchiveContext, job_id: str) -> dict[str, Any] | None:
    """The job's success body, or None if it is still pending after save_max_wait_s."""
    settings = ctx.settings
    started = ctx.clock()
    status_url = f"{settings.save_url.rstrip('/')}/status/{job_id}"
    while ctx.clock() - started < settings.save_max_wait_s:
        await ctx.sleep(settings.save_poll_interval_s)
        fetched = await ctx.fetch("replay", "GET", status_url,
                                  headers={"Accept": "application/json"})
        if fetched.status_code == 404:
            raise SaveRefused(job_id, "error:job-unknown", "the job is unknown or expired")
        if fetched.status_code != 200:
            continue               # a failed poll is retried until the bound
        body = _json(fetched.text)
        _raise_for_error(str(body.get("original_url") or job_id), body)
        if body.get("status") == "success":
            return body
    return None


def _raise_for_error(url: str, body: dict[str, Any]) -> None:
    if body.get("status") == "error":
        raise SaveRefused(url, str(body.get("status_ext") or "error:unknown"),
                          str(body.get("message") or body.get("exception") or ""))


def _json(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ArchiveUnavailable(f"Save Page Now answer is not JSON: {text[:80]!r}") from exc
    if not isinstance(body, dict):
        raise ArchiveUnavailable(f"Save Page Now answer is not an object: {text[:80]!r}")
    return body


def _json_or_empty(text: str) -> dict[str, Any]:
    try:
        return _json(text)
    except ArchiveUnavailable:
        return {}
