"""Pure parts of archive/: the chooser, timestamps, archive links, the replay verdict, settings."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from archive import (
    DEFAULT_CDX_URL,
    ArchivedPage,
    ArchiveSettings,
    Capture,
    Outcome,
    choose_capture,
    end_of_day,
    parse_timestamp,
    rank_captures,
    settings_from_env,
    split_archive_link,
)
from archive.replay import SAMPLE_CHARS, PageText, Replayed, judge_replay, read_page
from archive.wayback import collapse_duplicates, parse_cdx_text

ROOT = Path(__file__).resolve().parents[1]


def cap(timestamp: str, status: int | None = 200) -> Capture:
    captured_at = parse_timestamp(timestamp)
    assert captured_at is not None
    return Capture(timestamp=timestamp, captured_at=captured_at, original="https://ex.org/a",
                   status_code=status)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


CAPTURES = [cap("20150301000000"), cap("20180601000000"), cap("20200510000000"),
            cap("20200420000000", 404), cap("20200425000000", 301), cap("20220101000000")]


@pytest.mark.parametrize(
    ("target", "failing_since", "expected"),
    [
        ("2020-05-01", None, "20180601000000"),        # closest good one *before*, not the 404/301
        ("2016-01-01", None, "20150301000000"),        # publication date: an older capture
        ("2014-01-01", None, "20150301000000"),        # nothing before: the closest after
        ("2020-05-15", None, "20200510000000"),
        ("2023-01-01", "2021-06-01", "20200510000000"),  # never after failing when earlier exists
        ("2014-01-01", "2021-06-01", "20150301000000"),
    ],
)
def test_choose_capture(target: str, failing_since: str | None, expected: str) -> None:
    failing = at(failing_since) if failing_since else None
    chosen = choose_capture(CAPTURES, at(target), failing_since=failing)
    assert chosen is not None and chosen.timestamp == expected


def test_redirect_capture_comes_after_every_good_capture_and_late_captures_last() -> None:
    ranked = rank_captures(CAPTURES, at("2020-05-01"), failing_since=at("2021-06-01"))
    assert [c.timestamp for c in ranked] == [
        "20180601000000", "20150301000000", "20200510000000", "20200425000000",
        "20220101000000"]   # taken after the link failed: tried only when all else is refused


def test_only_a_redirect_capture_is_chosen_to_be_followed() -> None:
    assert choose_capture([cap("20200425000000", 301), cap("20200101000000", 404)],
                          at("2020-05-01")) == cap("20200425000000", 301)


def test_captures_after_the_failure_only_when_nothing_earlier() -> None:
    late = [cap("20210101000000"), cap("20230101000000")]
    ranked = rank_captures(late + [cap("20190101000000", 404)], at("2020-01-01"),
                           failing_since=at("2020-06-01"))
    assert [c.timestamp for c in ranked] == ["20210101000000", "20230101000000"]


def test_no_usable_capture() -> None:
    assert choose_capture([], at("2020-01-01")) is None
    assert choose_capture([cap("20200101000000", 404), cap("20200101000001", None)],
                          at("2020-01-01")) is None


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert choose_capture(CAPTURES, datetime(2016, 1, 1)) == cap("20150301000000")


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [("20200510123456", datetime(2020, 5, 10, 12, 34, 56, tzinfo=UTC)),
     ("20000012170449", datetime(2000, 12, 17, 4, 49, tzinfo=UTC)),   # real rows with a
     ("20000800241623", datetime(2000, 8, 24, 16, 23, tzinfo=UTC)),   # spurious "00" pair
     ("20000001000000", datetime(2000, 1, 1, tzinfo=UTC)),           # else 00 reads as 01
     ("2019", datetime(2019, 1, 1, tzinfo=UTC)),
     ("2019abc", None), ("20191332000000", None)],
)
def test_parse_timestamp(timestamp: str, expected: datetime | None) -> None:
    assert parse_timestamp(timestamp) == expected


def test_end_of_day_counts_a_same_day_capture_as_before() -> None:
    target = end_of_day(date(2020, 5, 10))
    assert choose_capture(CAPTURES, target) == cap("20200510000000")


def test_our_cdx_parser_repairs_and_skips() -> None:
    text = (
        "org,ex)/a 20000012170449 https://ex.org/a text/html 200 AAAA 100\n"
        "org,ex)/a 20100218025451 http://www.ex.org/a text/html 200 BBBB -\n"
        "org,ex)/a 20090521230410 http://ex.org/a warc/revisit - CCCC 469\n"
        "gov,epa)/ 20200418140810 http://mailto:someone@epa.gov/ unk 301 DDDD 324\n"
        "java.lang.IllegalArgumentException: fromKey > toKey\n"
        "org,ex)/a 20100218025451 http://www.ex.org/a text/html 200 BBBB -\n"
    )
    captures = collapse_duplicates(parse_cdx_text(text))
    assert [(c.timestamp, c.status_code) for c in captures] == [
        ("20000012170449", 200), ("20090521230410", None), ("20100218025451", 200)]
    assert captures[0].captured_at == datetime(2000, 12, 17, 4, 49, tzinfo=UTC)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://web.archive.org/web/20190101000000/https://ex.org/a?b=c",
         ("20190101000000", "", "https://ex.org/a?b=c")),
        ("http://web.archive.org/web/2019id_/http://ex.org/", ("2019", "id_", "http://ex.org/")),
        ("web.archive.org/web/20200101000000if_/https:/ex.org/p",
         ("20200101000000", "if_", "https://ex.org/p")),
        ("https://wayback.archive.org/web/20200101000000/ex.org/p",
         ("20200101000000", "", "http://ex.org/p")),
        ("https://example.com/web/2019/https://ex.org/", None),
        ("https://web.archive.org/web/*/https://ex.org/", None),
    ],
)
def test_split_archive_link(link: str, expected: tuple[str, str, str] | None) -> None:
    parts = split_archive_link(link)
    assert (parts and (parts.timestamp, parts.flag, parts.url)) == expected


def replayed(status: int, title: str | None = None, *, memento: bool = True) -> Replayed:
    return Replayed(url="https://ex.org/a", status_code=status,
                    memento_ts="20200101000000" if memento else None, location=None,
                    content_type="text/html", page=PageText(title=title))


@pytest.mark.parametrize(
    ("answer", "outcome", "reason_part"),
    [
        (replayed(200, "Annual report 2019"), Outcome.FOUND, ""),
        # no judge: a capture's title is not archive/'s business (the checker judges it)
        (replayed(200, "Page Not Found"), Outcome.FOUND, ""),
        (replayed(200, "Just a moment..."), Outcome.FOUND, ""),
        (replayed(404, "Not Found"), Outcome.NO_CAPTURE, "HTTP 404 page"),
        (replayed(301), Outcome.NO_CAPTURE, "HTTP 301 redirect"),
        (replayed(404, memento=False), Outcome.NO_CAPTURE, "without Memento"),
    ],
)
def test_judge_replay_without_a_page_judge(answer: Replayed, outcome: Outcome,
                                           reason_part: str) -> None:
    verdict = judge_replay(answer, asked_url="https://ex.org/a", cited_title="Annual report")
    assert verdict.outcome is outcome
    assert reason_part in verdict.reason


def test_judge_replay_hands_a_200_capture_to_the_page_judge() -> None:
    seen: list[tuple[ArchivedPage, str | None]] = []

    def judge(page: ArchivedPage, cited_title: str | None) -> str | None:
        seen.append((page, cited_title))
        return "not the cited page" if page.title == "Elsewhere" else None

    answer = Replayed(url="https://ex.org/new", status_code=200, memento_ts="20200101000000",
                      location=None, content_type="text/html",
                      page=PageText(title="Elsewhere", headings=("Elsewhere",), sample="Hello"))
    verdict = judge_replay(answer, asked_url="https://ex.org/a", cited_title="Plan",
                           redirected_from="https://ex.org/a", page_judge=judge)
    assert (verdict.outcome, verdict.reason) == (Outcome.NO_CAPTURE, "not the cited page")
    assert seen == [(ArchivedPage(
        url="https://ex.org/a", original="https://ex.org/new", timestamp="20200101000000",
        status_code=200, content_type="text/html", title="Elsewhere", headings=("Elsewhere",),
        body_sample="Hello"), "Plan")]
    accepted = judge_replay(replayed(200, "Plan"), asked_url="https://ex.org/a",
                            cited_title="Plan", page_judge=judge)
    assert accepted.ok and accepted.title == "Plan"
    judge_replay(replayed(404, "Not Found"), asked_url="https://ex.org/a", cited_title=None,
                 page_judge=judge)
    assert len(seen) == 2                       # only 200 captures reach the judge


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("<html><head><TITLE>\n A &amp; B </TITLE></head><body><p>Hi</p></body>", "text/html",
         PageText(title="A & B", sample="Hi")),
        ('<html><head><meta property="og:title" content="Og &amp; title"></head>'
         "<body><h1>Only <b>heading</b></h1><script>var x = '<p>no</p>';</script>"
         "<!-- hidden --><p>Text  here</p></body></html>", "text/html",
         PageText(title="Og & title", headings=("Og & title", "Only heading"),
                  sample="Only heading Text here")),
        ("<html><head><title>Page</title></head><body><svg><title>Icon</title></svg>"
         "<h1>Страница не найдена</h1></body></html>", None,
         PageText(title="Page", headings=("Страница не найдена",), sample="Страница не найдена")),
        ("<h1>A fragment</h1>", "text/html",
         PageText(headings=("A fragment",), sample="A fragment")),
        ("plain   text", "text/plain", PageText(sample="plain text")),
        ("%PDF-1.4 <title>x</title>", "application/pdf", PageText()),
    ],
)
def test_read_page_reads_title_headings_and_visible_text(body: str, content_type: str | None,
                                                         expected: PageText) -> None:
    assert read_page(body, content_type) == expected


def test_read_page_bounds_the_sample() -> None:
    page = read_page("<body><p>" + "word " * 5000 + "</p></body>", "text/html")
    assert len(page.sample) == SAMPLE_CHARS


def test_settings_from_env_maps_every_endpoint() -> None:
    settings = settings_from_env({"CITEWATCH_WAYBACK_URL": "http://127.0.0.1:9/",
                                  "IA_ACCESS_KEY": "k", "IA_SECRET_KEY": "s"})
    assert (settings.cdx_url, settings.availability_url, settings.replay_url, settings.save_url) \
        == ("http://127.0.0.1:9/cdx/search/cdx", "http://127.0.0.1:9/wayback/available",
            "http://127.0.0.1:9/web/", "http://127.0.0.1:9/save")
    assert settings.authenticated and settings.save_per_min == 6
    assert "s" not in repr(settings).split("secret")[0] or "secret_key" not in repr(settings)
    default = settings_from_env({"IA_ACCESS_KEY": "only-one"})
    assert default.cdx_url == DEFAULT_CDX_URL and not default.authenticated
    assert default.save_per_min == 2 and default == ArchiveSettings()


def test_results_are_plain_values() -> None:
    capture = cap("20200101000000")
    assert dataclasses.asdict(capture)["timestamp"] == "20200101000000"
    with pytest.raises(dataclasses.FrozenInstanceError):
        capture.timestamp = "x"  # type: ignore[misc]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_archive_is_a_leaf_and_only_wayback_imports_waybackpy() -> None:
    modules = sorted((ROOT / "archive").glob("*.py"))
    assert all(not _imports(m) & {"citations", "checker"} for m in modules)
    assert [m.name for m in modules if "waybackpy" in _imports(m)] == ["wayback.py"]
