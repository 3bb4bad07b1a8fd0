"""Markdown extraction: footnotes, every kind of link, code and line numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from citations import CitedDate, LinkKind, parse_bytes, parse_document
from citations.formats import markdown
from citations.formats.common import FormatResult
from citations.models import Citation

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"
INTERFAX = "About 100,000 IT specialists left Russia in 2022 – digital development minister"


def urls(c: Citation) -> list[str]:
    return [u.cited for u in c.urls]


def day(year: int, month: int, day: int) -> CitedDate:
    return CitedDate.day(date(year, month, day))


def by_label(citations: list[Citation]) -> dict[str | None, Citation]:
    return {c.label: c for c in citations if c.label is not None}


@pytest.fixture(scope="module")
def notes() -> FormatResult:
    return markdown.parse((DATA / "md_footnotes.md").read_text(encoding="utf-8"))


def test_footnote_definitions_are_labelled_citations(notes) -> None:
    labelled = by_label(notes.citations)
    assert list(labelled) == ["1", "2", "google"]
    first = labelled["1"]
    assert first.number == 1 and first.line == 20
    assert urls(first) == ["https://interfax.com/newsroom/top-stories/86316/"]
    assert first.title == INTERFAX
    assert first.published == day(2022, 12, 20)
    # the indented continuation line is part of the text, emphasis markers are not
    assert "Interfax, December 20, 2022" in first.text and "*" not in first.text


def test_footnote_runs_on_over_a_blank_line_and_an_indented_paragraph(notes) -> None:
    second = by_label(notes.citations)["2"]
    assert second.line == 23
    assert urls(second) == [
        "https://yandex.com/company/history/1997",
        "https://web.archive.org/web/20221116000000/https://yandex.com/company/history/1997",
    ]
    assert second.urls[1].link.kind is LinkKind.ARCHIVE
    assert second.accessed == day(2022, 11, 16)


def test_lazy_continuation_line_belongs_to_the_footnote(notes) -> None:
    google = by_label(notes.citations)["google"]
    assert google.number is None
    assert google.text.endswith("accessed August 28, 2023.")
    assert google.accessed == day(2023, 8, 28)
    # an inline link reads "text (url)" in the citation text; its text is the title when no quote is
    assert "From the garage to the Googleplex (https://about.google/our-story/)" in google.text
    assert google.title == "From the garage to the Googleplex"


def test_body_links_are_unlabelled_with_link_text_or_sentence(notes) -> None:
    body = [c for c in notes.citations if c.label is None]
    assert [(c.line, urls(c)) for c in body] == [
        (11, ["https://www.themoscowtimes.com/2022/11/16/russia-falls-into-recession-a79398"]),
        (12, ["https://data.worldbank.org/country/russian-federation"]),
    ]
    story, autolink = body
    assert story.text == "story"
    assert story.title == "Russia Falls Into Recession"       # the link's "title"
    assert story.key == "@https://www.themoscowtimes.com/2022/11/16/russia-falls-into-recession-a79398"
    # an autolink has no text of its own: its sentence, rendered, stands for it
    assert autolink.text.startswith("The Moscow Times covered the recession (story), and the full")
    assert autolink.text.endswith("russian-federation.")


def test_code_spans_and_fenced_blocks_are_not_cited(notes) -> None:
    everything = [u for c in notes.citations for u in urls(c)]
    assert not [u for u in everything if "example.com" in u]


def test_front_matter_gives_title_and_date(notes) -> None:
    assert notes.title == "Russia's tech isolation: sources"
    assert notes.date == day(2023, 9, 14)
    assert notes.warnings == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-09-14", "2023-09-14"),
        ('"2023-01"', "2023-01"),                  # a month stays a month
        ("2021", "2021"),
        ("2024-03-01T10:00:00+02:00", "2024-03-01"),
        ("'January 2023'", "2023-01"),
        ("Spring 2005", "2005-03/2005-05"),
        ("someday", None),
    ],
)
def test_front_matter_date_keeps_its_precision(value: str, expected: str | None) -> None:
    result = markdown.parse(f"---\ntitle: T\ndate: {value}\n---\n\nText.\n")
    assert result.date == CitedDate.from_iso(expected)


def test_front_matter_date_is_metadata_else_the_newest_citation_dates_the_notes() -> None:
    notes = "Text.[^1]\n\n[^1]: “A,” Site, Summer 2005, https://a.example.org/\n"
    dated = parse_bytes(f"---\ndate: 2006-02\n---\n{notes}".encode(), path="notes.md")
    assert (dated.date, dated.date_source) == (CitedDate.month(2006, 2), "metadata")
    undated = parse_bytes(notes.encode(), path="notes.md")
    assert (undated.date, undated.date_source) == (CitedDate.from_iso("2005-06/2005-08"), "inferred")


def test_citations_come_in_line_order(notes) -> None:
    lines = [c.line for c in notes.citations]
    assert lines == sorted(lines)


@pytest.fixture(scope="module")
def links() -> FormatResult:
    return markdown.parse((DATA / "md_links.md").read_text(encoding="utf-8"))


def test_reference_links_full_collapsed_and_shortcut(links) -> None:
    first_line = {c.text: c for c in links.citations if c.line == 1}
    assert urls(first_line["Wikipedia article"]) == ["https://ru.wikipedia.org/wiki/Интернет_в_России"]
    assert first_line["Wikipedia article"].title == "Интернет в России"
    # "[BBC][]" finds "[bbc]: <…>": labels match case-insensitively, angle brackets dropped
    assert urls(first_line["BBC"]) == ["https://www.bbc.com/news/technology-60533083"]
    assert urls(first_line["Reuters"]) == ["https://www.reuters.com/technology/"]


def test_cyrillic_reference_url_is_kept_as_cited_and_normalised_for_checking(links) -> None:
    wiki = next(c for c in links.citations if c.text == "Wikipedia article")
    assert wiki.urls[0].cited == "https://ru.wikipedia.org/wiki/Интернет_в_России"
    assert wiki.urls[0].link.url.startswith("https://ru.wikipedia.org/wiki/%D0%98")


def test_images_relative_mail_and_fragment_links_are_not_cited(links) -> None:
    everything = [u for c in links.citations for u in urls(c)]
    assert "https://upload.example.org/chart.png" not in everything
    assert "https://img.shields.io/badge/x.svg" not in everything
    assert not [u for u in everything if "docs/" in u or "mailto" in u or "#top" in u]
    badge = next(c for c in links.citations if urls(c) == ["https://github.com/example/project"])
    assert badge.line == 3 and badge.text == "badge"   # the link around the image is cited


def test_balanced_parentheses_stay_in_the_url(links) -> None:
    foo = next(c for c in links.citations if c.text == "Foo")
    assert urls(foo) == ["https://en.wikipedia.org/wiki/Foo_(disambiguation)"]
    assert foo.line == 5


def test_unused_reference_definition_is_still_cited(links) -> None:
    spare = next(c for c in links.citations if urls(c) == ["https://www.example.org/never-linked"])
    assert spare.label is None and spare.line == 11 and spare.title == "Spare"
    assert len(links.citations) == 6


def test_link_text_with_brackets_and_a_code_span() -> None:
    result = markdown.parse("Read [the `[x]` guide [v2]](https://docs.python.org/3/ \"Docs\").\n")
    (c,) = result.citations
    assert c.text == "the [x] guide [v2]" and urls(c) == ["https://docs.python.org/3/"]
    assert c.title == "Docs"


def test_fence_with_longer_closing_and_tilde_fences() -> None:
    text = (
        "````md\n```\nhttps://inside.example.org/a\n```\n````\n"
        "~~~\nhttps://inside.example.org/b\n~~~\n"
        "After https://outside.example.org/c\n"
    )
    result = markdown.parse(text)
    assert [(c.line, urls(c)) for c in result.citations] == [(9, ["https://outside.example.org/c"])]


def test_unclosed_fence_hides_the_rest() -> None:
    result = markdown.parse("Before https://a.example.org/\n```\nhttps://b.example.org/\n")
    assert [urls(c) for c in result.citations] == [["https://a.example.org/"]]


def test_html_comments_are_not_cited() -> None:
    result = markdown.parse("<!-- draft: https://draft.example.org/ -->\nKept: https://kept.example.org/\n")
    assert [(c.line, urls(c)) for c in result.citations] == [(2, ["https://kept.example.org/"])]


def test_footnote_ends_at_an_unindented_paragraph_after_a_blank_line() -> None:
    text = "Claim.[^a]\n\n[^a]: Source, https://source.example.org/\n\nBody again https://body.example.org/\n"
    result = markdown.parse(text)
    note, body = sorted(result.citations, key=lambda c: c.line)
    assert note.label == "a" and urls(note) == ["https://source.example.org/"]
    assert body.label is None and body.line == 5 and urls(body) == ["https://body.example.org/"]


def test_footnote_with_tab_continuation_and_several_urls() -> None:
    text = "[^7]: First https://one.example.org/x, then\n\thttps://two.example.org/y.\n"
    (c,) = markdown.parse(text).citations
    assert c.label == "7" and c.number == 7
    assert urls(c) == ["https://one.example.org/x", "https://two.example.org/y"]
    assert c.text == "First https://one.example.org/x, then https://two.example.org/y."


def test_underscores_in_urls_survive_emphasis_stripping() -> None:
    text = "[^1]: _Report_, https://www.example.org/annual_report_2020.pdf\n"
    (c,) = markdown.parse(text).citations
    assert urls(c) == ["https://www.example.org/annual_report_2020.pdf"]
    assert c.text == "Report, https://www.example.org/annual_report_2020.pdf"


def test_undefined_and_duplicate_footnotes_are_warned_about() -> None:
    text = "One[^1] two[^missing].\n\n[^1]: A https://a.example.org/\n[^1]: B https://b.example.org/\n"
    result = markdown.parse(text)
    assert "line 1: footnote [^missing] is referenced but never defined" in result.warnings
    assert "line 4: footnote [^1] is defined again (first on line 3)" in result.warnings


def test_title_from_first_level_one_heading_without_front_matter() -> None:
    result = markdown.parse("Intro\n\n## Part\n\n# The *real* title\n")
    assert result.title == "The real title"
    assert result.date is None


def test_crlf_line_endings_keep_line_numbers() -> None:
    text = "# T\r\n\r\nLine three https://three.example.org/\r\n\r\n[^1]: Five https://five.example.org/\r\n"
    result = markdown.parse(text)
    assert [(c.line, c.label) for c in result.citations] == [(3, None), (5, "1")]


def test_repeated_body_url_gets_unique_keys_through_parse_bytes() -> None:
    data = b"See https://www.bbc.com/news and again https://www.bbc.com/news.\n"
    parsed = parse_bytes(data, path="notes.md")
    assert [c.key for c in parsed.citations] == ["@https://www.bbc.com/news", "@https://www.bbc.com/news#2"]


def test_example_notes_document() -> None:
    parsed = parse_document(EXAMPLES / "notes.md")
    labelled = [c for c in parsed.citations if c.label is not None]
    assert len(labelled) >= 5
    assert all(c.urls for c in labelled)
    assert any(u.link.kind is LinkKind.ARCHIVE for c in parsed.citations for u in c.urls)
    assert parsed.title


@pytest.mark.parametrize(
    "text",
    ["[" * 20000, "[a](" * 20000, "[^" * 20000, "` x " * 20000, "`` ` " * 20000, "![" * 20000],
)
def test_unmatched_brackets_and_backticks_are_no_citations(text: str) -> None:
    # The quadratic scan took tens of seconds on these; bench/bench_budgets.py times them.
    assert markdown.parse(text).citations == []
