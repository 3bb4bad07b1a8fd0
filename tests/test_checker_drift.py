"""Content drift, measured: main text (boilerplate removed), shingle similarity, the calibration
table, classify's rule, and ``check --drift`` end to end against a loopback site and the strict
Wayback fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from archive import VirtualClock
from checker.cli.main import get_cli
from checker.cli.options import ArchiveTime
from checker.judge.classify import CONTENT_DRIFT_THRESHOLD, classify
from checker.judge.maintext import main_text, similarity
from checker.models import Hop, Observation, Verdict
from checker.net.fetch import main_text_of
from tests.drift_pages import ARTICLE, OTHER_ARTICLE, PAIRS, SIDEBAR, article_page, updated
from tests.fake_wayback import FakeWayback
from tests.servers import LocalServer, page, serve

URL = "https://example.org/news/broadband-review"


@pytest.mark.parametrize("name", list(PAIRS))
def test_calibration_table(name: str) -> None:
    capture, live, drifted = PAIRS[name]
    score = similarity(main_text(capture), main_text(live))
    assert (score < CONTENT_DRIFT_THRESHOLD) is drifted, f"{name}: {score:.3f}"


def test_the_threshold_has_a_margin_on_both_sides() -> None:
    scores = {name: similarity(main_text(a), main_text(b)) for name, (a, b, _) in PAIRS.items()}
    kept = min(s for name, s in scores.items() if not PAIRS[name][2])
    lost = max(s for name, s in scores.items() if PAIRS[name][2])
    assert lost + 0.1 <= CONTENT_DRIFT_THRESHOLD <= kept - 0.1


def test_main_text_drops_navigation_header_footer_sidebar_and_scripts() -> None:
    text = main_text(article_page(ARTICLE, extra=SIDEBAR))
    assert text.startswith("Annual review of broadband coverage Published 3 March 2019")
    assert ARTICLE[-1] in text
    for chrome in ("About us", "Parliament Street", "Most read", "newsletter", "track("):
        assert chrome not in text


def test_main_text_without_semantic_markup_is_the_densest_block() -> None:
    text = main_text(article_page(ARTICLE, extra=SIDEBAR, semantic=False))
    assert ARTICLE[0] in text and "Spectrum auction" not in text


def test_main_text_of_a_fragment_and_of_non_html() -> None:
    assert main_text("<p>Just a line of text.</p>") == "Just a line of text."
    assert main_text_of(b"%PDF-1.7 ...", "application/pdf") == ""
    assert main_text_of("<p>Привет, мир</p>".encode("cp1251"),
                        "text/html; charset=windows-1251") == "Привет, мир"


def test_similarity_ignores_numbers_and_case_and_reads_cjk_by_character() -> None:
    assert similarity("Viewed 1204 times on 3 March", "viewed 98311 TIMES on 4 March") == 1.0
    assert similarity("", "anything at all") == 0.0
    assert similarity("宽带覆盖年度审查报告", "宽带覆盖年度审查报告") == 1.0
    assert similarity("宽带覆盖年度审查报告", "成人教育数字技能战略") == 0.0


def _live(**kw: object) -> Observation:
    fields: dict[str, object] = {"url": URL, "final_url": URL, "status": 200,
                                 "content_type": "text/html", "title": "Annual review"}
    fields.update(kw)
    return Observation(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("obs", "score", "expected"),
    [
        (_live(), None, Verdict.ALIVE),                       # not measured: no evidence
        (_live(), 0.95, Verdict.ALIVE),
        (_live(), CONTENT_DRIFT_THRESHOLD, Verdict.ALIVE),    # at the threshold: kept
        (_live(), 0.05, Verdict.DRIFTED),
        (_live(final_url=URL + "-2019", chain=(Hop(301, URL), Hop(200, URL + "-2019"))),
         0.9, Verdict.MOVED),
        (_live(final_url=URL + "-2019", chain=(Hop(301, URL), Hop(200, URL + "-2019"))),
         0.1, Verdict.DRIFTED),                               # moved, but not the cited page
        (_live(status=404), 0.05, Verdict.DEAD),              # dead stays dead
        (_live(title="Page not found"), 0.05, Verdict.SOFT_404),
    ],
)
def test_classify_judges_the_similarity(obs: Observation, score: float | None,
                                        expected: Verdict) -> None:
    judgement = classify(obs, similarity=score)
    assert judgement.verdict is expected
    if expected is Verdict.DRIFTED:
        assert judgement.suggested_url is None
        assert "archive capture" in judgement.reason


# --- end to end ---------------------------------------------------------------------------------

REWRITTEN = "/news/rewritten"
UPDATED = "/news/updated"
FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0", "--confirm", "1"]


@pytest.fixture
def site() -> Iterator[LocalServer]:
    routes = {
        REWRITTEN: page(200, body=article_page(OTHER_ARTICLE).encode()),   # same title
        UPDATED: page(200, body=article_page(updated(ARTICLE), extra=SIDEBAR,
                                             date="5 March 2019", views=5_000).encode()),
    }
    with serve(routes) as server:
        yield server


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeWayback,  # type: ignore[no-untyped-def]
        clock: VirtualClock):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    monkeypatch.setenv("CITEWATCH_WAYBACK_URL", fake.base_url)
    # Every archive wait (the replay pace, a 429 pause) moves the fake's clock, not real time.
    runner = CliRunner()
    return lambda *args: runner.invoke(get_cli(archive_time=ArchiveTime(clock, clock.sleep)), list(args),
                                      catch_exceptions=False)


def test_check_drift_finds_the_rewritten_page_and_keeps_the_updated_one(  # type: ignore[no-untyped-def]
        run, tmp_path, site, fake) -> None:
    for path in (REWRITTEN, UPDATED):
        fake.add(site.url(path), "20190310000000", body=article_page(ARTICLE))
    paper = tmp_path / "paper.md"
    paper.write_text(
        "Body.\n\n"
        f"[^1]: “Annual review of broadband coverage,” accessed March 12, 2019, "
        f"{site.url(REWRITTEN)}\n"
        f"[^2]: “Annual review of broadband coverage,” accessed March 12, 2019, "
        f"{site.url(UPDATED)}\n")
    assert run("scan", str(paper)).exit_code == 0
    assert run("check", *FAST).exit_code == 0            # both alive by their titles
    assert run("archive", "--drift").exit_code == 0      # captures for live links too
    replays = fake.counts["replay"]

    result = run("check", *FAST, "--drift", "--max-age", "0")
    assert result.exit_code == 0, result.stderr
    assert "Drift: 2 live link(s) compared with their archive capture, 1 drifted; " \
           "2 capture(s) fetched from the archive." in result.stderr
    assert fake.counts["replay"] == replays + 2       # one identity replay per capture
    assert all("id_/" in r.path for r in fake.requests("replay")[-2:])
    assert sum(fake.refused.values()) == 0            # no burst or concurrency 429
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    latest = {r["url"]: r for r in db.query(
        "select l.url, k.verdict, k.similarity, k.compared_with, k.reason from checks k "
        "join links l on l.id = k.link_id where k.id in "
        "(select max(id) from checks group by link_id)")}
    rewritten, kept = latest[site.url(REWRITTEN)], latest[site.url(UPDATED)]
    assert rewritten["verdict"] == "drifted" and rewritten["similarity"] < 0.1
    assert "archive capture" in rewritten["reason"]
    assert rewritten["compared_with"].endswith("/web/20190310000000/" + site.url(REWRITTEN))
    assert kept["verdict"] == "alive" and kept["similarity"] > 0.8

    report = run("report", "--format", "markdown")
    assert "main text 5% like the archive capture (live: " in report.stdout
    assert rewritten["compared_with"] in report.stdout

    again = run("check", *FAST, "--drift", "--max-age", "0")
    assert "0 capture(s) fetched from the archive" in again.stderr
    assert fake.counts["replay"] == replays + 2       # cached: no replay on a rerun


def test_check_without_drift_asks_the_archive_nothing(run, tmp_path, site, fake) -> None:  # type: ignore[no-untyped-def]
    fake.add(site.url(REWRITTEN), "20190310000000", body=article_page(ARTICLE))
    paper = tmp_path / "paper.md"
    paper.write_text(f"[^1]: “Annual review of broadband coverage,” {site.url(REWRITTEN)}\n")
    run("scan", str(paper))
    run("check", *FAST)
    run("archive", "--drift")
    before = sum(fake.counts.values())
    result = run("check", *FAST, "--max-age", "0")
    assert "Drift:" not in result.stderr
    assert sum(fake.counts.values()) == before
