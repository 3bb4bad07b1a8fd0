"""Save Page Now 2 (archive/spn.py) against the fake, polling on an injected clock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from archive import (
    ArchiveSettings,
    ArchiveThrottled,
    SaveOutcome,
    SaveResult,
    VirtualClock,
    Wayback,
    settings_from_env,
)
from tests.fake_wayback import FakeWayback, days_ago, serve_wayback

pytestmark = pytest.mark.anyio

URL = "https://ex.org/new-report"
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def fake(clock: VirtualClock) -> Iterator[FakeWayback]:
    with serve_wayback(clock=clock, now=lambda: NOW) as fake:
        yield fake


def settings_for(fake: FakeWayback, env: dict[str, str] | None = None,
                 **overrides: object) -> ArchiveSettings:
    return settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url, **(env or {})},
                             base=ArchiveSettings(**overrides))  # type: ignore[arg-type]


async def save_all(fake: FakeWayback, clock: VirtualClock, urls: Sequence[str],
                   env: dict[str, str] | None = None, **overrides: object) -> list[SaveResult]:
    settings = settings_for(fake, env, **overrides)
    async with Wayback(settings, clock=clock, sleep=clock.sleep) as wayback:
        return [result async for result in wayback.save(urls)]


KEYS = {"IA_ACCESS_KEY": "key123", "IA_SECRET_KEY": "secret456"}


async def test_save_with_keys_pending_then_success(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.spn_keys = ("key123", "secret456")
    fake.spn_pending_polls = 2
    fake.spn_redirects[URL] = URL + "/"                     # SPN reports the post-redirect URL
    [result] = await save_all(fake, clock, [URL], KEYS)
    assert result.outcome is SaveOutcome.SAVED
    assert result.job_id is not None and result.job_id.startswith("spn2-")
    assert len(result.job_id) == 45
    assert (result.timestamp, result.original_url) == ("20260301123000", URL + "/")
    assert result.captured_at == NOW
    assert result.replay_url == f"{fake.base_url}/web/20260301123000/{URL}/"
    [post] = fake.requests("save")
    assert post.method == "POST"
    assert post.headers["Authorization"] == "LOW key123:secret456"
    assert post.headers["Accept"] == "application/json"
    assert parse_qs(post.body) == {"url": [URL], "if_not_archived_within": ["30d"]}
    polls = fake.requests("save-status")
    assert [p.path for p in polls] == [f"/save/status/{result.job_id}"] * 3
    assert clock() == pytest.approx(15.0)                  # three polls, 5 s apart


async def test_save_without_keys_is_anonymous(fake: FakeWayback, clock: VirtualClock) -> None:
    [result] = await save_all(fake, clock, [URL])
    assert result.outcome is SaveOutcome.SAVED
    assert "Authorization" not in fake.requests("save")[0].headers


async def test_anonymous_refused_with_401(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.spn_allow_anonymous = False
    [result] = await save_all(fake, clock, [URL])
    assert result.outcome is SaveOutcome.REFUSED
    assert result.status_ext == "error:unauthorized" and "logged in" in result.message


async def test_wrong_keys_refused(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.spn_keys = ("key123", "other")
    [result] = await save_all(fake, clock, [URL], KEYS)
    assert result.outcome is SaveOutcome.REFUSED and result.status_ext == "error:unauthorized"


async def test_error_with_http_200_on_the_post(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.spn_daily_limit = 0
    fake.spn_post_errors["https://ex.org/busy"] = ("error:user-session-limit",
                                                   "You have too many active sessions.")
    results = {r.url: r for r in await save_all(fake, clock, [URL, "https://ex.org/busy"])}
    assert results[URL].outcome is SaveOutcome.REFUSED
    assert results[URL].status_ext == "error:too-many-daily-captures"
    assert "already captured" in results[URL].message and results[URL].job_id is None
    assert results["https://ex.org/busy"].outcome is SaveOutcome.FAILED   # try again later
    assert fake.counts["save-status"] == 0


async def test_error_on_the_status_poll(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.spn_job_errors[URL] = ("error:blocked-url", "This URL is in the Save Page Now blocklist")
    [result] = await save_all(fake, clock, [URL])
    assert result.outcome is SaveOutcome.REFUSED and result.status_ext == "error:blocked-url"
    assert result.job_id is not None


async def test_a_job_that_does_not_finish_is_pending(fake: FakeWayback, clock: VirtualClock
                                                     ) -> None:
    fake.spn_pending_polls = 1000
    [result] = await save_all(fake, clock, [URL], save_max_wait_s=30.0,
                              save_poll_interval_s=10.0)
    assert result.outcome is SaveOutcome.PENDING and result.job_id
    assert fake.counts["save-status"] == 3 and clock() == pytest.approx(30.0)


async def test_same_url_within_the_hour_gets_the_same_job_and_the_daily_cap_holds(
        fake: FakeWayback, clock: VirtualClock) -> None:
    async with Wayback(settings_for(fake), clock=clock, sleep=clock.sleep) as wayback:
        first = [r async for r in wayback.save([URL, URL])]       # duplicates are dropped
        second = [r async for r in wayback.save([URL])]
        third = [r async for r in wayback.save([URL])]
    assert len(first) == 1 and first[0].job_id == second[0].job_id
    assert second[0].outcome is SaveOutcome.SAVED and "same snapshot" in second[0].message
    assert third[0].outcome is SaveOutcome.SKIPPED               # 2 per URL per day by default
    assert fake.counts["save"] == 2


async def test_if_not_archived_within_reuses_a_recent_capture(fake: FakeWayback,
                                                              clock: VirtualClock) -> None:
    recent = days_ago(3, now=NOW)
    fake.add(URL, recent, title="Report")
    [result] = await save_all(fake, clock, [URL])
    assert result.outcome is SaveOutcome.SAVED and result.timestamp == recent
    assert len(fake.captures) == 1


async def test_saves_respect_the_anonymous_rate(fake: FakeWayback, clock: VirtualClock) -> None:
    urls = [f"https://ex.org/{n}" for n in range(5)]
    results = await save_all(fake, clock, urls, save_concurrency=1)
    assert all(r.outcome is SaveOutcome.SAVED for r in results)
    assert fake.max_in_window(["save"]) == 2                 # 2/min without keys
    assert clock() >= 120.0


async def test_429_on_save_pauses_then_three_stop(fake: FakeWayback, clock: VirtualClock) -> None:
    fake.fail("save", 429, times=5)
    results: list[SaveResult] = []
    settings = settings_for(fake, save_concurrency=1)
    async with Wayback(settings, clock=clock, sleep=clock.sleep) as wayback:
        with pytest.raises(ArchiveThrottled):
            async for result in wayback.save([URL, "https://ex.org/2"]):
                results.append(result)
    # 429, a 60 s pause, 429 again, another pause, the third 429 stops everything
    assert [(r.at, r.status) for r in fake.requests("save")] == [(0, 429), (60, 429), (120, 429)]
    assert [(r.url, r.outcome) for r in results] == [(URL, SaveOutcome.FAILED)]
    assert "429" in results[0].message
