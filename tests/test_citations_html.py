"""HTML extraction: footnote and reference lists, outbound links, base URLs, title and date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from citations import CitedDate, LinkKind, parse_bytes, parse_document
from citations.formats import html
from citations.formats.common import FormatResult
from citations.models import Citation

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"
INTERFAX = "About 100,000 IT specialists left Russia in 2022 – digital development minister"


def urls(c: Citation) -> list[str]:
    return [u.cited for u in c.urls]


def day(year: int, month: int, day: int) -> CitedDate:
    return CitedDate.day(date(year, month, day))


@pytest.fixture(scope="module")
def page() -> FormatResult:
    return html.parse((DATA / "html_footnotes.html").read_text(encoding="utf-8"))


def test_footnote_items_are_labelled_by_their_markers(page) -> None:
    notes = [c for c in page.citations if c.label is not None]
    assert [(c.label, c.line) for c in notes] == [("1", 23), ("2", 26)]
    first, second = notes
    assert urls(first) == ["https://interfax.com/newsroom/top-stories/86316/"]
    assert first.title == INTERFAX
    assert first.published == day(2022, 12, 20)
    assert "↩" not in first.text and first.text.endswith("/86316/.")
    # a URL written as text and a link, in order; the archive link is recognised
    assert urls(second) == [
        "https://yandex.com/company/history/1997",
        "https://web.archive.org/web/20221116000000/https://yandex.com/company/history/1997",
    ]
    assert second.urls[1].link.kind is LinkKind.ARCHIVE
    assert second.accessed == day(2022, 11, 16)


def test_outbound_links_resolved_against_base_href(page) -> None:
    body = [(c.line, c.text, urls(c)) for c in page.citations if c.label is None]
    assert body == [
        (10, "Home", ["https://www.atlanticcouncil.org/"]),
        (15, "our earlier brief",
         ["https://www.atlanticcouncil.org/in-depth-research-reports/issue-brief/reassessing-runet/"]),
        (16, "RFE/RL", ["https://www.rferl.org/a/1091683.html"]),
        # protocol-relative link takes the base's scheme; an image link reads its alt text
        (17, "Brookings", ["https://www.brookings.edu/articles/ukraine-a-prize/"]),
    ]
    brief = next(c for c in page.citations if c.text == "our earlier brief")
    assert brief.title == "Reassessing RuNet"


def test_mailto_javascript_and_fragment_links_are_skipped(page) -> None:
    everything = [u for c in page.citations for u in urls(c)]
    assert not [u for u in everything if u.startswith(("mailto:", "javascript:", "#"))]
    assert len(page.citations) == 6


def test_title_and_publication_date(page) -> None:
    assert page.title == "Russia’s Digital Tech Isolationism | Notes"
    assert page.date == day(2023, 9, 14)   # "2023/09/14" in citation_publication_date
    assert page.warnings == []


@pytest.fixture(scope="module")
def wiki() -> FormatResult:
    return html.parse((DATA / "html_wikipedia.html").read_text(encoding="utf-8"))


def test_wikipedia_references(wiki) -> None:
    assert [(c.label, c.line) for c in wiki.citations] == [("1", 10), ("2", 11)]
    rbc, yandex = wiki.citations
    assert urls(rbc) == [
        "https://www.rbc.ru/business/29/10/2020/5f9af8339a79470b67836406",
        "https://web.archive.org/web/20201030000000/https://www.rbc.ru/business/29/10/2020/5f9af8339a79470b67836406",
    ]
    assert rbc.title == "Сбербанк стал единственным владельцем Rambler"
    # the text is the reference-text span: no "^ a b" back-links
    assert yandex.text == "History of Yandex: 1997. Yandex. Retrieved 16 November 2022."
    assert yandex.title == "History of Yandex: 1997"   # the linked title inside <cite>


def test_relative_links_without_base_are_not_outbound(wiki) -> None:
    assert all(c.label is not None for c in wiki.citations)   # /wiki/Yandex is skipped


def test_article_published_time(wiki) -> None:
    assert wiki.title == "Internet in Russia - Wikipedia"
    assert wiki.date == day(2021, 3, 5)


def test_list_numbers_label_items_without_markers() -> None:
    text = """<ol class="footnotes" start="5">
<li>Five https://five.example.org/</li>
<li value="9">Nine <a href="https://nine.example.org/">nine</a></li>
<li>Ten</li>
</ol>"""
    result = html.parse(text)
    assert [(c.label, c.number, c.line, urls(c)) for c in result.citations] == [
        ("5", 5, 2, ["https://five.example.org/"]),
        ("9", 9, 3, ["https://nine.example.org/"]),
        ("10", 10, 4, []),
    ]


def test_div_footnotes_with_paragraph_items_and_nested_lists() -> None:
    text = """<div class="footnotes"><p>A <a href="https://a.example.org/">a</a></p>
<p>B https://b.example.org/</p></div>
<section class="footnotes"><ol><li>Outer<ul><li>inner https://inner.example.org/</li></ul></li></ol></section>"""
    result = html.parse(text)
    assert [(c.label, urls(c)) for c in result.citations] == [
        ("1", ["https://a.example.org/"]),
        ("2", ["https://b.example.org/"]),
        ("1", ["https://inner.example.org/"]),   # a nested list belongs to its item
    ]


def test_marker_to_an_item_outside_any_notes_list() -> None:
    text = """<p>Claim<sup><a href="#n7">7</a></sup></p>
<ol><li>not a note <a href="https://plain.example.org/">x</a></li>
<li id="n7">The note, https://note.example.org/</li></ol>"""
    result = html.parse(text)
    note = next(c for c in result.citations if c.label == "7")
    assert note.line == 3 and urls(note) == ["https://note.example.org/"]
    plain = next(c for c in result.citations if c.label is None)
    assert urls(plain) == ["https://plain.example.org/"] and plain.text == "x"


def test_pandoc_marker_with_sup_inside_the_link() -> None:
    text = """<p>Text<a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref">
<sup>[a]</sup></a></p>
<aside id="footnotes" class="footnotes footnotes-end-of-document" role="doc-endnotes"><ol>
<li id="fn1"><p>Note https://n.example.org/<a href="#fnref1" class="footnote-back"
role="doc-backlink">↩︎</a></p></li>
</ol></aside>"""
    (c,) = html.parse(text).citations
    assert c.label == "a" and urls(c) == ["https://n.example.org/"] and c.text == "Note https://n.example.org/"


def test_marker_to_a_missing_note_is_a_warning() -> None:
    result = html.parse('<p>Text<sup><a href="#fn9">9</a></sup></p>')
    assert result.citations == []
    assert result.warnings == [
        "line 1: footnote marker '9' points to #fn9, which is not in the page"
    ]


def test_relative_base_is_ignored_and_uppercase_scheme_is_outbound() -> None:
    text = """<base href="/docs/"><a href="page.html">p</a> <a href="HTTPS://WWW.BBC.COM/news">BBC</a>
<a href="tel:+123">call</a> <a href="">empty</a> <a href="   https://spaces.example.org/  ">s</a>"""
    result = html.parse(text)
    assert [urls(c) for c in result.citations] == [
        ["HTTPS://WWW.BBC.COM/news"], ["https://spaces.example.org/"],
    ]
    assert result.citations[0].urls[0].link.url == "https://www.bbc.com/news"


def test_date_from_time_element_and_title_fallbacks() -> None:
    text = """<html><head><meta property="og:title" content="OG title"></head>
<body><h1>Heading</h1><time datetime="2020-02-29T08:00">Feb 29</time></body></html>"""
    result = html.parse(text)
    assert result.title == "OG title"
    assert result.date == day(2020, 2, 29)
    assert html.parse("<h1>Only <em>a</em> heading</h1>").title == "Only a heading"


def test_citation_publication_date_wins_over_time() -> None:
    text = """<meta name="date" content="2019-01-02">
<meta name="citation_publication_date" content="2018-05-06">
<time datetime="2017-01-01"></time>"""
    assert html.parse(text).date == day(2018, 5, 6)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta name="citation_publication_date" content="2023-01">', "2023-01"),   # a month
        ('<meta name="citation_date" content="2021">', "2021"),                     # a year
        ('<meta name="DC.Date" content="2012-09/2012-12">', "2012-09/2012-12"),     # any case
        ('<meta name="dcterms.issued" content="2019-05-28">', "2019-05-28"),
        ('<meta name="date" content="January 2023">', "2023-01"),                   # written out
        ('<meta property="article:published_time" content="2024-03-01T23:30:00-05:00">', "2024-03-01"),
        ('<time datetime="2020-02">February</time>', "2020-02"),
        ('<meta name="date" content="soon">', None),
    ],
)
def test_page_date_keeps_its_precision(head: str, expected: str | None) -> None:
    assert html.parse(f"<html><head>{head}</head><body></body></html>").date == CitedDate.from_iso(expected)


def test_a_page_without_a_date_is_dated_by_what_it_cites() -> None:
    text = """<ol class="footnotes">
<li>“A,” Site, March 2021, <a href="https://a.example.org/">a</a></li>
<li>“B,” Site, accessed January 5, 2024, <a href="https://b.example.org/">b</a></li>
</ol>"""
    parsed = parse_bytes(text.encode(), path="page.html")
    assert (parsed.date, parsed.date_source) == (day(2024, 1, 5), "inferred")
    dated = parse_bytes(b'<meta name="date" content="2024-06"> ' + text.encode(), path="page.html")
    assert (dated.date, dated.date_source) == (CitedDate.month(2024, 6), "metadata")


def test_latin1_page_is_decoded_through_parse_bytes() -> None:
    page_text = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        "<title>Caf\xe9 cr\xe8me \x93quoted\x94</title></head>"
        '<body><p>Voil\xe0 <a href="https://www.lemonde.fr/pixels/">'
        "Pixels, le monde num\xe9rique</a></p></body></html>"
    )
    data = page_text.encode("latin-1")   # byte for byte: 0x93 and 0x94 are curly quotes in cp1252
    parsed = parse_bytes(data, path="page.html")
    assert parsed.title == "Café crème “quoted”"   # iso-8859-1 is read as windows-1252
    (c,) = parsed.citations
    assert c.text == "Pixels, le monde numérique"


def test_example_page() -> None:
    parsed = parse_document(EXAMPLES / "page.html")
    assert [c.label for c in parsed.citations if c.label] == ["1", "2", "3"]
    assert len([c for c in parsed.citations if c.label is None]) == 2
    assert (parsed.date, parsed.date_source) == (day(2024, 1, 20), "metadata")


def test_marker_to_an_old_style_named_anchor_takes_its_paragraph() -> None:
    text = """<p>Claim<sup><a href="#note1">1</a></sup> and <a href="https://body.example.org/">body</a></p>
<p><a name="note1"></a>1. Source, https://source.example.org/report</p>"""
    result = html.parse(text)
    assert [(c.label, c.line, urls(c)) for c in result.citations] == [
        (None, 1, ["https://body.example.org/"]),
        ("1", 2, ["https://source.example.org/report"]),
    ]
