"""Contract tests: one rulebook per question (issue 15), every place that asks gets the same answer.

1. When was a web archive capture taken, and of which page (archive/ reads capture URLs and
   timestamps; citations/ only recognises them)?
2. Is this page the cited page, or a not-found page, a wall, another page (checker.judge.classify,
   for a live page and for an archive capture alike)?
3. Which title and dates belong to which URL of a footnote citing several works (the store's
   ``work_fields``, for the capture's target date and for the report alike)?
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive import ArchivedPage, Choice, Outcome, ReplayCheck, Snapshot
from archive.links import capture_time, read_capture_link, split_archive_link
from archive.replay import read_page as read_archived_page
from archive.timestamps import parse_timestamp
from checker.judge.classify import classify, judge_capture
from checker.judge.state import ConfirmRule, State
from checker.models import Observation, Verdict
from checker.net.fetch import read_page as read_live_page
from checker.report import to_csv
from checker.report.build import build_report
from checker.report.common import problems
from checker.report.model import LOST_STATES
from checker.report.policy import Policy
from checker.report.repairs import archive_repair
from checker.run.archiving import replay_rows, snapshot_row, target_of
from checker.store.database import open_store
from checker.store.rows import StoredCitation
from citations.dates import CitedDate
from citations.models import DocumentFormat, LinkKind, ParsedDocument
from citations.records import make_citation
from citations.rewrite import fix_document
from citations.urls import make_link, normalize_url
from tests.report_sample import link

# --- 1. capture URLs and timestamps ---------------------------------------------------------------

PAGE = "http://example.org/a"

# (cited URL, the timestamp it names or None when it names no capture)
CAPTURE_URLS = [
    (f"https://web.archive.org/web/20000012170449/{PAGE}", "20000012170449"),   # month 00
    (f"https://web.archive.org/web/20000800241623/{PAGE}", "20000800241623"),   # day 00
    (f"https://web.archive.org/web/20000001000000/{PAGE}", "20000001000000"),   # 00 and 00
    (f"https://web.archive.org/web/20191332000000/{PAGE}", "20191332000000"),   # no date at all
    (f"https://web.archive.org/web/2019/{PAGE}", "2019"),
    (f"https://web.archive.org/web/201905/{PAGE}", "201905"),
    (f"https://web.archive.org/web/20190510/{PAGE}", "20190510"),
    (f"https://web.archive.org/web/2019051012/{PAGE}", "2019051012"),
    (f"https://web.archive.org/web/201905101234/{PAGE}", "201905101234"),
    (f"https://web.archive.org/web/20190510123456/{PAGE}", "20190510123456"),
    (f"https://web.archive.org/web/201/{PAGE}", "201"),                       # too short
    (f"https://web.archive.org/web/20190510123456id_/{PAGE}", "20190510123456"),
    (f"https://web.archive.org/web/20190510123456im_/{PAGE}", "20190510123456"),
    (f"https://web.archive.org/web/20190510123456if_/{PAGE}", "20190510123456"),
    (f"http://web.archive.org/web/20190510123456/{PAGE}", "20190510123456"),
    (f"https://wayback.archive.org/web/20000012170449/{PAGE}", "20000012170449"),
    (f"https://archive.org/web/20000012170449/{PAGE}", "20000012170449"),
    (f"https://WEB.ARCHIVE.ORG/web/20000012170449/{PAGE}", "20000012170449"),
    ("https://web.archive.org/web/20000012170449/http:/example.org/a", "20000012170449"),
    ("https://web.archive.org/web/20000012170449/example.org/a", "20000012170449"),
    ("https://web.archive.org/web/20000012170449/http%3A%2F%2Fexample.org%2Fa", "20000012170449"),
    (f"https://web.archive.org/web/2019*/{PAGE}", None),      # a calendar page, not a capture
    (f"https://web.archive.org/web/*/{PAGE}", None),
    ("https://web.archive.org/", None),
    (f"https://webarchive.loc.gov/all/20000012170449/{PAGE}", "20000012170449"),
    (f"https://wayback.archive-it.org/all/20000800241623/{PAGE}", "20000800241623"),
    (f"https://archive.ph/2019.05.10-123456/{PAGE}", "20190510123456"),
    (f"{PAGE}/web/20000012170449/{PAGE}", None),              # not an archive's host
]


@pytest.mark.parametrize(("url", "timestamp"), CAPTURE_URLS)
def test_every_reader_of_a_capture_url_gives_the_same_time_and_page(
        url: str, timestamp: str | None) -> None:
    expected = parse_timestamp(timestamp) if timestamp else None
    read = read_capture_link(url)
    assert (read.timestamp if read else None) == timestamp
    assert capture_time(url) == expected
    link = make_link(url)
    assert (link.kind is LinkKind.ARCHIVE) == (read is not None)
    if read is not None:
        assert link.original_url == normalize_url(read.url) == normalize_url(PAGE)
        assert link.archive == read.archive


def test_the_tricky_timestamps_have_one_reading() -> None:
    assert parse_timestamp("20000012170449") == datetime(2000, 12, 17, 4, 49, tzinfo=UTC)
    assert parse_timestamp("20000800241623") == datetime(2000, 8, 24, 16, 23, tzinfo=UTC)
    assert parse_timestamp("20000001000000") == datetime(2000, 1, 1, tzinfo=UTC)
    assert parse_timestamp("201905") == datetime(2019, 5, 1, tzinfo=UTC)
    assert parse_timestamp("20191332000000") is None
    assert parse_timestamp("201") is None


def test_a_wayback_link_keeps_its_flag_and_the_page_it_names() -> None:
    link = split_archive_link(f"https://web.archive.org/web/20190510123456im_/{PAGE}")
    assert link is not None and (link.flag, link.url) == ("im_", PAGE)


@pytest.mark.parametrize(("url", "timestamp"), [c for c in CAPTURE_URLS if c[1]])
def test_fix_names_the_day_archive_reads(url: str, timestamp: str) -> None:
    repair = archive_repair(1, "https://dead.example/page", url, None, None)
    fixed = fix_document("1. Plan, https://dead.example/page\n", DocumentFormat.PLAINTEXT, [repair])
    day = re.search(r"archived (\d{4}-\d{2}-\d{2})", fixed)
    expected = parse_timestamp(timestamp)
    assert (day[1] if day else None) == (expected.date().isoformat() if expected else None)


def test_the_report_and_the_replay_check_read_the_cited_capture_time_as_archive_does(
        tmp_path: Path) -> None:
    cases = [(u, t) for u, t in CAPTURE_URLS if t and make_link(u).archive == "wayback"]
    citations = [make_citation(label=str(i + 1), line=i + 1, text=f"“Plan,” {url}", urls=[url])
                 for i, (url, _) in enumerate(cases)]
    document = ParsedDocument(path="/doc.txt", format=DocumentFormat.PLAINTEXT,
                              content_hash="h", citations=tuple(citations))
    with open_store(tmp_path / "c.db") as store:
        store.save_document(document)
        cited = [c for c in store.cited_links() if c.kind == "archive"]
        report = build_report(store, ConfirmRule())
    expected = {str(i + 1): parse_timestamp(t) for i, (_, t) in enumerate(cases)}
    # the report: the capture the citation already cites, shown on the page's row
    shown = {c.key: link.capture.captured_at for _, c, link in report.rows()
             if link.capture is not None}
    assert shown == expected
    # archiving: the replay check of a cited capture, measured from the time it names
    key_of = {c.id: c.key for c in store_citations(tmp_path / "c.db")}
    check = ReplayCheck(archive_url="", url=None, outcome=Outcome.UNKNOWN, snapshot=None,
                        reason="", checked_at=datetime(2024, 1, 1, tzinfo=UTC))
    targets = {key_of[row.citation_id]: row.target for row in replay_rows(check, cited)}
    assert targets == expected


def store_citations(path: Path) -> list[StoredCitation]:
    with open_store(path) as store:
        return list(store.citations())


# --- 3. the fields of each work of a footnote ----------------------------------------------------

MULTI = ("“First Report,” Agency A, accessed May 1, 2020, https://a.example/one; "
         "“Second Report,” Agency B, accessed June 2, 2021, https://b.example/two.")


def test_the_report_shows_for_each_url_the_date_its_capture_was_chosen_for(tmp_path: Path) -> None:
    urls = ["https://a.example/one", "https://b.example/two"]
    citation = make_citation(label="1", line=1, text=MULTI, urls=urls)
    assert [u.own_fields for u in citation.urls] == [True, True]
    document = ParsedDocument(path="/doc.txt", format=DocumentFormat.PLAINTEXT,
                              content_hash="h", citations=(citation,))
    looked_up = datetime(2024, 1, 1, tzinfo=UTC)
    with open_store(tmp_path / "c.db") as store:
        store.save_document(document)
        chosen = {}
        for cited in store.cited_links():
            target = target_of(cited)
            assert target is not None and target.kind == "accessed" and target.cited is not None
            chosen[cited.url] = target.cited
            snapshot = Snapshot(archive="wayback", url=cited.url, original=cited.url,
                                timestamp="20200101000000",
                                captured_at=datetime(2020, 1, 1, tzinfo=UTC),
                                replay_url=f"https://web.archive.org/web/20200101000000/{cited.url}",
                                status_code=200, title=None, distance_s=0, looked_up_at=looked_up)
            choice = Choice(key=str(cited.citation_id), target=target.end, outcome=Outcome.FOUND,
                            snapshot=snapshot)
            store.record_snapshots(cited.link_id, "cdx", 1,
                                   [snapshot_row(choice, cited, looked_up)])
        report = build_report(store, ConfirmRule())
    assert chosen == {urls[0]: CitedDate.day(datetime(2020, 5, 1).date()),
                      urls[1]: CitedDate.day(datetime(2021, 6, 2).date())}
    rows = {link.url: link for _, _, link in report.rows()}
    for url, day in chosen.items():
        capture = rows[url].capture
        assert capture is not None and capture.target == day
        assert rows[url].accessed == day   # the date shown beside the URL
    shown = {r["url"]: (r["accessed"], r["capture_target"])
             for r in csv.DictReader(io.StringIO(to_csv.render(report)))}
    assert shown == {url: (day.iso, day.iso) for url, day in chosen.items()}


# --- 2. is it the cited page? ----------------------------------------------------------------------

# (name, HTML body, cited title): each judged as a live page and as a capture
PAGES = [
    ("article", "<html><head><title>Annual report on renewable energy 2019</title></head>"
                "<body><h1>Annual report on renewable energy 2019</h1><p>Text.</p></body></html>",
     "Annual report on renewable energy 2019"),
    ("soft-404 title", "<html><head><title>Page not found</title></head><body>Sorry.</body></html>",
     "Annual report on renewable energy 2019"),
    ("soft-404 heading", "<html><head><title>Example Agency</title></head>"
                         "<body><h1>404 - Not Found</h1></body></html>", None),
    ("russian not found", "<html><head><title>Страница не найдена</title></head><body></body></html>",
     None),
    ("cited work called Not Found", "<html><head><title>Not Found</title></head><body></body></html>",
     "Not Found"),
    ("cloudflare wall", "<html><head><title>Just a moment...</title></head>"
                        "<body>Checking your browser before accessing</body></html>", None),
    ("untitled wall", "<html><body>Verifying you are human. This may take a few seconds."
                      "</body></html>", None),
    ("another page", "<html><head><title>Quarterly football results</title></head>"
                     "<body><h1>Scores</h1></body></html>",
     "Annual report on renewable energy 2019"),
    ("generic title", "<html><head><title>Home</title></head><body>Welcome</body></html>",
     "Annual report on renewable energy 2019"),
    ("empty title", "<html><head><title></title></head><body><p>Some text.</p></body></html>",
     "Annual report on renewable energy 2019"),
    ("empty title, no cited title", "<html><head><title></title></head><body>x</body></html>", None),
    ("og:title only", '<html><head><meta property="og:title" content="Annual report on renewable '
                      'energy 2019"></head><body></body></html>', "Annual report on renewable energy 2019"),
    ("translated title", "<html><head><title>Годовой отчёт о возобновляемой энергетике</title>"
                         "</head><body></body></html>", "Annual report on renewable energy"),
    ("plain text", "Annual report on renewable energy 2019", None),
]
URL = "https://agency.example/reports/2019/annual-report"


@pytest.mark.parametrize(("name", "body", "cited"), PAGES, ids=[p[0] for p in PAGES])
def test_a_page_is_judged_alike_live_and_as_a_capture(name: str, body: str, cited: str | None) -> None:
    content_type = "text/plain" if name == "plain text" else "text/html"
    live = read_live_page(body.encode(), content_type)
    archived = read_archived_page(body, content_type)
    # the two extractions agree (archive/ may not import checker/, so it has its own)
    assert (archived.title, archived.headings, archived.sample) == (
        live.title, live.headings, live.sample)
    observation = Observation(url=URL, final_url=URL, status=200, method="GET",
                              content_type=content_type, title=live.title,
                              headings=live.headings, body_sample=live.sample)
    verdict = classify(observation, cited_titles=(cited,) if cited else ()).verdict
    problem = judge_capture(ArchivedPage(
        url=URL, original=URL, timestamp="20190510123456", status_code=200,
        content_type=content_type, title=archived.title, headings=archived.headings,
        body_sample=archived.sample), cited)
    rejected = verdict in (Verdict.SOFT_404, Verdict.DRIFTED, Verdict.BLOCKED)
    assert (problem is not None) == rejected, (name, verdict, problem)
    if problem is not None:
        assert problem.startswith(f"{verdict}: ")


@pytest.mark.parametrize(("final_url", "rejected"), [
    ("https://agency.example/login?next=/reports/2019/annual-report", True),   # login wall
    ("https://accounts.google.com/signin", True),
    ("https://agency.example/", True),                                        # sent home
    ("https://agency.example/search?q=annual-report", True),
    ("https://agency.example/reports/2019/annual-report/", False),            # same page
    ("https://agency.example/publications/annual-report-2019", False),        # moved, live
])
def test_a_redirect_is_judged_alike_live_and_as_a_capture(final_url: str, rejected: bool) -> None:
    title = "Annual report on renewable energy 2019"
    live = classify(Observation(url=URL, final_url=final_url, status=200, method="GET",
                                content_type="text/html", title=title),
                    cited_titles=(title,))
    problem = judge_capture(ArchivedPage(url=URL, original=final_url, timestamp="20190510123456",
                                         status_code=200, content_type="text/html", title=title),
                            title)
    assert (live.verdict in (Verdict.SOFT_404, Verdict.DRIFTED, Verdict.BLOCKED)) is rejected
    assert (problem is not None) is rejected
    if problem is not None:
        assert problem.startswith(f"{live.verdict}: ")


# --- 4. states: one enum, one definition of a problem ---------------------------------------------

@pytest.mark.parametrize("state", list(State))
def test_a_host_problem_has_one_definition(state: State) -> None:
    row = link("https://a.example/x", str(state))
    assert row.state is state                       # the enum is carried into the report model
    assert problems({state: 1}) == problems({str(state): 1}) == int(state.is_problem)
    assert Policy.parse("any").fails(row) is state.is_problem
    assert row.lost is state.is_lost is (state in LOST_STATES)
