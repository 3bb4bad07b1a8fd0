"""One judgement of "is this the cited page": the checker's rules (``judge_capture``) applied to
Wayback captures, as a table, against the fake Wayback Machine, through ``citewatch archive``, and
archive/ alone without it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner, Result

from archive import (
    ArchivedPage,
    ArchiveSettings,
    LookupRequest,
    LookupResult,
    Outcome,
    PageJudge,
    ReplayCheck,
    Target,
    VirtualClock,
    Wayback,
    end_of_day,
    settings_from_env,
)
from archive.replay import read_page as read_archived_page
from checker.cli.main import get_cli
from checker.cli.options import ArchiveTime
from checker.judge.classify import judge_capture
from checker.net.fetch import read_page as read_live_page
from tests.fake_wayback import FakeWayback
from tests.servers import serve

URL = "https://ex.org/reports/plan"
# From the project's corpus: an English title for a page whose own title is Russian.
RU_URL = "http://www.chipinfo.ru/chipdir/dist/ru.htm"
RU_CITED = "Chip distributors in Russia"
RU_TITLE = "Дистрибьюторы электронных компонентов в России"


def shown(title: str | None, *, url: str = URL, original: str | None = None,
          headings: tuple[str, ...] | None = None, sample: str = "",
          content_type: str | None = "text/html") -> ArchivedPage:
    return ArchivedPage(
        url=url, original=original or url, timestamp="20200101000000", status_code=200,
        content_type=content_type, title=title,
        headings=(title,) if headings is None and title else headings or (), body_sample=sample,
    )


def test_an_untitled_capture_cut_at_the_size_cap_is_no_evidence_of_drift() -> None:
    cited = "Annual report of the ministry 2019"
    untitled = shown(None)
    assert "drifted: the page has no title" in (judge_capture(untitled, cited) or "")
    assert judge_capture(replace(untitled, truncated=True), cited) is None


# --- the judge, as a table ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("page", "cited", "reason_part"),
    [
        # accepted
        (shown(RU_TITLE, url=RU_URL), RU_CITED, None),           # not compared across scripts
        (shown("Annual Report 2019 | Ministry of Plans"), "Annual report 2019", None),
        (shown("Annual report 2019"), None, None),
        (shown("Page Not Found"), "Page Not Found", None),       # a work may be called that
        (shown(None, content_type="application/pdf"), "Annual report of the ministry", None),
        # rejected: not found, in any language the checker knows
        (shown("Страница не найдена"), RU_CITED, "soft-404: the page says it is not found"),
        (shown("Página no encontrada"), None, "soft-404"),
        (shown("ページが見つかりません"), "Annual report 2019", "soft-404"),
        (shown("Plan", headings=("Plan", "404 - Page not found")), None, "soft-404"),
        # rejected: bot and login walls
        (shown("Just a moment..."), "Annual report 2019", "blocked: HTTP 200: bot challenge"),
        (shown(None, sample="Checking your browser before accessing ex.org."), None, "blocked"),
        (shown("Sign in", original="https://ex.org/login?next=/reports/plan"), None,
         "blocked: redirected to a login or paywall page"),
        # rejected: an archived redirect to the home page is a soft-404 capture
        (shown("Ex.org", original="https://ex.org/"), None, "soft-404: redirected to a home page"),
        # rejected: another page (Latin vs Latin), or a generic title on a deep URL
        (shown("Weather in Paris today"), "Annual report of the ministry 2019",
         "drifted: page title 'Weather in Paris today' does not match"),
        (shown("Home"), "Annual report of the ministry 2019", "drifted: generic page title"),
    ],
)
def test_judge_capture(page: ArchivedPage, cited: str | None, reason_part: str | None) -> None:
    reason = judge_capture(page, cited)
    if reason_part is None:
        assert reason is None
    else:
        assert reason is not None and reason_part in reason


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><head><title>Plan &amp; budget</title></head><body><p>Text</p></body></html>",
         "text/html"),
        ('<html><head><meta property="og:title" content="Og title"></head><body>'
         "<h1>Only <b>heading</b></h1><script>var x='<p>no</p>';</script><!-- c --><p>Text</p>"
         "</body></html>", "text/html"),
        ("<HTML><HEAD><TITLE>Old page</TITLE></HEAD><BODY><H1>Big</H1>words</BODY></HTML>",
         "text/html"),
        ("<html><head><title>Page</title></head><body><svg><title>Icon</title></svg>"
         "<h1>Страница не найдена</h1></body></html>", None),
        ("<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><div>Checking "
         "your browser before accessing ex.org</div><noscript>JS</noscript></body></html>",
         "text/html"),
        ("<h1>A fragment</h1>", "text/html"),
        ("plain   text", "text/plain"),
        ("<body><p>" + "word " * 5000 + "</p></body>", "text/html"),
    ],
)
def test_a_capture_is_read_as_the_checker_reads_a_live_page(
        body: str, content_type: str | None) -> None:
    # archive/ may not import checker/, so it has its own small copy of the page reader
    archived, live = read_archived_page(body, content_type), read_live_page(body.encode(),
                                                                             content_type)
    assert (archived.title, archived.headings, archived.sample) == \
        (live.title, live.headings, live.sample)


# --- against the fake Wayback Machine -----------------------------------------------------------

def day(text: str) -> datetime:
    return end_of_day(date.fromisoformat(text))


def settings_for(fake: FakeWayback) -> ArchiveSettings:
    return settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url}, base=ArchiveSettings())


async def resolve_one(fake: FakeWayback, clock: VirtualClock, target: Target, *, url: str = URL,
                      judge: PageJudge | None = judge_capture) -> LookupResult:
    async with Wayback(settings_for(fake), clock=clock, sleep=clock.sleep, judge=judge) as wb:
        [result] = [r async for r in wb.resolve([LookupRequest(url, (target,))])]
    return result


async def verify(fake: FakeWayback, clock: VirtualClock, link: str, cited_title: str | None,
                 judge: PageJudge | None = judge_capture) -> ReplayCheck:
    async with Wayback(settings_for(fake), clock=clock, sleep=clock.sleep, judge=judge) as wb:
        return await wb.verify_archived(link, cited_title=cited_title)


def replayed_timestamps(fake: FakeWayback) -> list[str]:
    return [r.path.split("/")[2].removesuffix("id_") for r in fake.requests("replay")]


@pytest.mark.anyio
async def test_a_russian_page_cited_under_its_english_title_is_found(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(RU_URL, "20020630000000", title=RU_TITLE)
    result = await resolve_one(fake, clock, Target("k", day("2002-06-30"), RU_CITED), url=RU_URL)
    choice = result.choice("k")
    assert choice.outcome is Outcome.FOUND, choice.reason
    assert choice.snapshot is not None and choice.snapshot.title == RU_TITLE


@pytest.mark.anyio
async def test_not_found_captures_in_any_language_give_way_to_the_next_good_one(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200301000000", title="Страница не найдена")
    fake.add(URL, "20200201000000", title="ページが見つかりません")
    fake.add(URL, "20190101000000", title="National Plan 2019 | Ministry of Plans")
    result = await resolve_one(fake, clock,
                               Target("k", day("2020-05-01"), "National Plan 2019"))
    choice = result.choice("k")
    assert choice.snapshot is not None and choice.snapshot.timestamp == "20190101000000"
    assert replayed_timestamps(fake) == ["20200301000000", "20200201000000", "20190101000000"]


@pytest.mark.anyio
async def test_when_every_capture_is_rejected_each_reason_is_kept(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200301000000", title="Página no encontrada")
    fake.add(URL, "20200201000000", title="Buy this domain: parked page")
    result = await resolve_one(fake, clock,
                               Target("k", day("2020-05-01"), "Annual report of the ministry"))
    choice = result.choice("k")
    assert choice.outcome is Outcome.NO_CAPTURE and choice.snapshot is None
    assert "20200301000000: soft-404: the page says it is not found" in choice.reason
    assert "20200201000000: drifted: page title 'Buy this domain: parked page'" in choice.reason


@pytest.mark.anyio
async def test_a_capture_that_redirected_to_a_login_page_is_rejected(
        fake: FakeWayback, clock: VirtualClock) -> None:
    login = "https://ex.org/account/login?next=/reports/plan"
    fake.add(URL, "20200301000000", "302", redirect_to=login)
    fake.add(login, "20200301000009", title="Sign in to Ex")
    fake.add(URL, "20190101000000", title="The plan")
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01")))
    snapshot = result.choice("k").snapshot
    assert snapshot is not None and snapshot.timestamp == "20190101000000"
    assert replayed_timestamps(fake)[-1] == "20190101000000"


@pytest.mark.anyio
async def test_a_matching_title_passes_at_the_first_replay(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200301000000", title="Annual Report 2019 | Ministry of Plans")
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01"), "Annual report 2019"))
    snapshot = result.choice("k").snapshot
    assert snapshot is not None and snapshot.timestamp == "20200301000000"
    assert fake.counts["replay"] == 1


@pytest.mark.anyio
async def test_without_a_judge_only_the_archive_rules_apply(
        fake: FakeWayback, clock: VirtualClock) -> None:
    fake.add(URL, "20200420000000", "404")                         # still never a fix
    fake.add(URL, "20200301000000", title="Страница не найдена")
    result = await resolve_one(fake, clock, Target("k", day("2020-05-01"), "Annual report 2019"),
                               judge=None)
    snapshot = result.choice("k").snapshot
    assert snapshot is not None and snapshot.timestamp == "20200301000000"
    assert snapshot.title == "Страница не найдена"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("title", "cited", "judge", "outcome", "reason_part"),
    [
        (RU_TITLE, RU_CITED, judge_capture, Outcome.FOUND, ""),
        ("Página no encontrada", "Plan nacional de desarrollo", judge_capture,
         Outcome.NO_CAPTURE, "soft-404"),
        ("Just a moment...", None, judge_capture, Outcome.NO_CAPTURE, "blocked"),
        ("Página no encontrada", "Plan nacional de desarrollo", None, Outcome.FOUND, ""),
    ],
)
async def test_a_cited_archive_link_is_judged_the_same_way(
        fake: FakeWayback, clock: VirtualClock, title: str, cited: str | None,
        judge: PageJudge | None, outcome: Outcome, reason_part: str) -> None:
    fake.add(URL, "20190101000000", title=title)
    check = await verify(fake, clock, f"https://web.archive.org/web/20190101000000/{URL}",
                         cited, judge)
    assert check.outcome is outcome and reason_part in check.reason
    assert (check.snapshot is not None) is (outcome is Outcome.FOUND)


# --- through the command ------------------------------------------------------------------------

@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeWayback,
        clock: VirtualClock) -> Callable[..., Result]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    monkeypatch.setenv("CITEWATCH_WAYBACK_URL", fake.base_url)
    monkeypatch.delenv("IA_ACCESS_KEY", raising=False)
    monkeypatch.delenv("IA_SECRET_KEY", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(get_cli(archive_time=ArchiveTime(clock, clock.sleep)), list(args),
                                      catch_exceptions=False)


def test_citewatch_archive_judges_captures_as_it_judges_live_pages(
        run: Callable[..., Result], tmp_path: Path, fake: FakeWayback) -> None:
    with serve({}) as site:                               # every path answers 404: both lost
        ru, plan = site.url("/chipdir/dist/ru.htm"), site.url("/plan")
        paper = tmp_path / "paper.md"
        paper.write_text(
            f"[^1]: “{RU_CITED},” chipinfo.ru, accessed June 30, 2002, {ru}\n"
            f"[^2]: “National Plan for Digital Policy,” Ministry, accessed May 1, 2020, {plan}\n")
        assert run("scan", str(paper)).exit_code == 0
        run("check", "--host-interval", "0", "--retries", "0", "--confirm", "1")
    fake.add(ru, "20020601000000", title=RU_TITLE)
    fake.add(plan, "20200401000000", title="Страница не найдена")
    fake.add(plan, "20190101000000", title="National Plan for Digital Policy")
    result = run("archive")
    assert result.exit_code == 0, result.stderr
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    rows = {r["key"]: r for r in db.query(
        "select c.key, s.* from snapshots s join citations c on c.id = s.citation_id")}
    assert (rows["1"]["outcome"], rows["1"]["capture_title"]) == ("found", RU_TITLE)
    assert (rows["2"]["outcome"], rows["2"]["timestamp"]) == ("found", "20190101000000")
