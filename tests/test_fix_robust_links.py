"""Robust Links in ``fix`` (written) and in ``scan`` (read back), and captures from archives other
than the Wayback Machine named in fixes and reports."""

# ruff: noqa: E501  (documents and expected lines are clearer unbroken)

from __future__ import annotations

from datetime import date

from archive import MEMENTO_ARCHIVES
from checker.report.common import capture_phrase
from checker.report.model import Capture
from citations.formats import html as html_format
from citations.models import DocumentFormat, LinkKind
from citations.rewrite import Outcome, Repair, apply_repairs, fix_document
from citations.urls import make_link

MD, HTML, PLAIN = DocumentFormat.MARKDOWN, DocumentFormat.HTML, DocumentFormat.PLAINTEXT
DEAD = "https://dead.example/page"
CAPTURE = f"https://web.archive.org/web/20221116000000/{DEAD}"
DAY = date(2022, 11, 16)


def repair(line: int = 1, capture: str = CAPTURE, archive: str | None = "wayback") -> Repair:
    return Repair(line=line, cited_url=DEAD, replacement_url=capture, kind="archive",
                  captured_at=DAY, archive=archive)


def robust_twice(text: str, fmt: DocumentFormat, repairs: list[Repair]) -> str:
    once = fix_document(text, fmt, repairs, robust_links=True)
    again = apply_repairs(once, fmt, repairs, robust_links=True)
    assert again.text == once
    assert [o.outcome for o in again.outcomes] == [Outcome.ALREADY_FIXED] * len(repairs)
    return once


def test_html_links_keep_the_original_and_gain_the_robust_links_attributes() -> None:
    text = f'<p>See <a class="x" href="{DEAD}">the plan</a>.</p>\n'
    assert robust_twice(text, HTML, [repair()]) == (
        f'<p>See <a class="x" href="{DEAD}" data-originalurl="{DEAD}" '
        f'data-versionurl="{CAPTURE}" data-versiondate="2022-11-16">the plan</a>.</p>\n')


def test_markdown_links_keep_the_original_and_gain_a_readable_note() -> None:
    text = f"See [the plan]({DEAD}).\n\n[ref]: {DEAD} \"Plan\"\n"
    fixed = robust_twice(text, MD, [repair(1), repair(3)])
    assert fixed == (f"See [the plan]({DEAD}) [archived 2022-11-16: <{CAPTURE}>].\n\n"
                     f"[ref]: {DEAD} \"Plan (archived 2022-11-16: <{CAPTURE}>)\"\n")


def test_plain_text_is_written_the_same_either_way() -> None:
    text = f"1. Plan, {DEAD}\n"
    assert robust_twice(text, PLAIN, [repair()]) == fix_document(text, PLAIN, [repair()])


def test_a_capture_from_another_archive_is_named_in_the_note() -> None:
    capture = f"https://archive.today/20221116000000/{DEAD}"
    fixed = fix_document(f"1. Plan, {DEAD}\n", PLAIN, [repair(capture=capture,
                                                                 archive="archive.today")])
    assert fixed == f"1. Plan, {DEAD} [archived 2022-11-16 at archive.today: {capture}]\n"


def test_scan_reads_a_robust_link_back_as_the_citations_archive_link() -> None:
    loc = f"https://webarchive.loc.gov/all/20221116000000/{DEAD}"
    page = ("<html><body>"
            f'<p><a href="{DEAD}" data-originalurl="{DEAD}" data-versionurl="{CAPTURE}" '
            'data-versiondate="2022-11-16">Plan</a></p>'
            '<ol class="footnotes"><li>Report, '
            f'<a href="{DEAD}" data-versionurl="{loc}">{DEAD}</a></li></ol>'
            "</body></html>")
    citations = html_format.parse(page).citations
    links = [[(u.link.url, u.link.kind, u.link.archive) for u in c.urls] for c in citations]
    assert links == [
        [(DEAD, LinkKind.WEB, None), (CAPTURE, LinkKind.ARCHIVE, "wayback")],
        [(DEAD, LinkKind.WEB, None), (loc, LinkKind.ARCHIVE, "loc")],
    ]
    assert make_link(loc).original_url == DEAD


def test_the_archive_hosts_citations_knows_are_those_of_the_archive_catalogue() -> None:
    for entry in MEMENTO_ARCHIVES:
        if entry.name == "archive.today":
            continue          # its own short and dated forms, recognised separately
        capture = f"{entry.timegate}20221116000000/{DEAD}"
        assert make_link(capture).archive == entry.name, capture


def test_the_capture_phrase_names_an_archive_other_than_wayback() -> None:
    found = Capture(outcome="found", archive="archive.today",
                    captured_at=None, replay_url="https://archive.today/x")
    assert capture_phrase(found) == "captured at archive.today"
    assert capture_phrase(Capture(outcome="found", archive="wayback")) == "captured"
