"""PDF extraction: PDFs built with reportlab at test time, broken URLs joined, bad files refused."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest

from citations import CitedDate, UnreadableDocument, parse_bytes
from citations.formats import pdf, plaintext
from citations.formats.common import FormatResult
from citations.models import DocumentFormat
from citations.records import make_citation

_BUILDER = Path(__file__).parent / "data" / "pdf_build.py"
_spec = importlib.util.spec_from_file_location("pdf_build", _BUILDER)
assert _spec is not None and _spec.loader is not None
pdf_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pdf_build)
build_pdf = pdf_build.build_pdf
INTERFAX = "About 100,000 IT specialists left Russia in 2022 – digital development minister"


def all_urls(result: FormatResult) -> list[str]:
    return [u.cited for c in result.citations for u in c.urls]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a hyphen inside a URL at the line end is the URL's own, and is kept
        ("See https://www.example.org/reports/annual-\nreport-2020.pdf for details.",
         "See https://www.example.org/reports/annual-report-2020.pdf for details."),
        # break after a slash, continued by a path
        ("https://example.org/news/\n2022/11/16/story", "https://example.org/news/2022/11/16/story"),
        ("https://www.wsj.com/articles/\nSB114973190819574520 and",
         "https://www.wsj.com/articles/SB114973190819574520 and"),
        # break after the scheme, after "www." and after a dot before the suffix
        ("https://\nwww.example.org/x", "https://www.example.org/x"),
        ("http://www.\nchipinfo.ru/chipdir/dist/ru.htm", "http://www.chipinfo.ru/chipdir/dist/ru.htm"),
        ("http://www.chipinfo.ru/chipdir/dist/ru.\nhtm.", "http://www.chipinfo.ru/chipdir/dist/ru.htm."),
        # a break inside a word of the path
        ("https://www.themoscowtimes.com/2022/11/16/russia-falls-into-rec\nession-a79398 —and",
         "https://www.themoscowtimes.com/2022/11/16/russia-falls-into-recession-a79398 —and"),
        # no URL ends with "_": a capitalised Cyrillic word is still its rest
        ("https://ru.wikipedia.org/wiki/Интернет_в_\nРоссии.", "https://ru.wikipedia.org/wiki/Интернет_в_России."),
        # a URL over three lines
        ("https://example.org/a/b/\nc/d/\ne.html done", "https://example.org/a/b/c/d/e.html done"),
        # query strings
        ("https://www.jstor.org/stable/1192397?\nseq=7;", "https://www.jstor.org/stable/1192397?seq=7;"),
        # a prose word hyphenated at the line end loses its hyphen; a soft hyphen too
        ("Russia’s Digital Tech Isola-\ntionism", "Russia’s Digital Tech Isolationism"),
        ("isola\u00ad\ntionism", "isolationism"),
    ],
)
def test_broken_lines_are_joined(text: str, expected: str) -> None:
    assert pdf.join_broken_lines(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # the next line starts a footnote (a number) or a sentence (a capital): the URL is complete
        "https://about.google/our-story/\n8 “From the garage to the Googleplex,” Google",
        "https://example.org/report.\nNext sentence",
        "https://www.rferl.org/a/1091683.html.\nMany of the large chips",
        "https://example.org/news/\n2022.",
        # punctuation closed the URL
        "https://x.org/a,\naccessed May 1",
        "(https://x.org/a)\nmore",
        # a lone prose word after a slash, and a year range after a complete path, stay prose
        "https://x.org/\nand the ministry said",
        "https://example.org/about\n2019-2020 report",
        # a capitalised word is not the rest of a hyphenated prose word, nor of a number
        "well-\nKnown",
        "2019-\n2020",
        # a blank line ends everything
        "https://www.example.org/reports/annual-\n\nreport-2020.pdf",
    ],
)
def test_lines_that_are_not_joined(text: str) -> None:
    assert pdf.join_broken_lines(text) == text


REPORT_PAGES = [
    [
        "Russia's Digital Tech Isolationism",
        "About 100,000 technologists left the country in 2022.1 The economy went into recession.2",
        f"1 “{INTERFAX},” Interfax,",
        "December 20, 2022, https://interfax.com/newsroom/top-",
        "stories/86316/.",
        "2 “Russia Falls Into Recession,” The Moscow Times, November 17, 2022, https://www.",
        "themoscowtimes.com/2022/11/16/russia-falls-into-recession-a79398",
    ],
    [
        "See the annual report at https://www.example.org/reports/annual-",
        "report-2020.pdf and the archive https://web.archive.org/web/20200101000000/",
        "https://www.example.org/reports/annual-report-2020.pdf.",
    ],
]
REPORT_URLS = {
    "https://interfax.com/newsroom/top-stories/86316/",
    "https://www.themoscowtimes.com/2022/11/16/russia-falls-into-recession-a79398",
    "https://www.example.org/reports/annual-report-2020.pdf",
    "https://web.archive.org/web/20200101000000/https://www.example.org/reports/annual-report-2020.pdf",
}


def test_report_pdf_urls_are_joined_and_footnotes_found() -> None:
    result = pdf.parse(build_pdf(REPORT_PAGES, title="Digital isolationism"), path="report.pdf")
    assert set(all_urls(result)) == REPORT_URLS
    notes = {c.label: c for c in result.citations if c.label is not None}
    assert [u.cited for u in notes["1"].urls] == ["https://interfax.com/newsroom/top-stories/86316/"]
    assert notes["2"].title == "Russia Falls Into Recession"
    assert result.title == "Digital isolationism"


def test_layout_reading_footnotes_and_other_urls(monkeypatch) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    result = pdf.parse(build_pdf(REPORT_PAGES), path="report.pdf")
    assert [(c.label, c.line, [u.cited for u in c.urls]) for c in result.citations] == [
        ("1", 3, ["https://interfax.com/newsroom/top-stories/86316/"]),
        ("2", 5, ["https://www.themoscowtimes.com/2022/11/16/russia-falls-into-recession-a79398"]),
        (None, 6, ["https://www.example.org/reports/annual-report-2020.pdf"]),
        (None, 6, ["https://web.archive.org/web/20200101000000/https://www.example.org/reports/annual-report-2020.pdf"]),
    ]
    first = result.citations[0]
    # the note's wrapped lines are one text, the number is not part of it
    assert first.text == (
        f"“{INTERFAX},” Interfax, "
        "December 20, 2022, https://interfax.com/newsroom/top-stories/86316/."
    )
    assert first.title == INTERFAX
    assert result.citations[2].text.startswith("See the annual report at https://www.example.org/")
    assert result.title is None   # reportlab's default "untitled" is not a title


def test_layout_notes_need_consecutive_numbers_and_stop_at_the_page_end(monkeypatch) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    pages = [
        [
            "3 Million people read https://stats.example.org/readers every day.",  # no note 1 yet
            "1. Smith, “First,” https://first.example.org/",
            "3 Jones, https://skipped.example.org/ is not note 2",
            "2. Doe, “Second,”",
            "https://second.example.org/",
        ],
        ["Body text on the next page, https://body.example.org/."],
    ]
    result = pdf.parse(build_pdf(pages), path="notes.pdf")
    assert [(c.label, c.line, [u.cited for u in c.urls]) for c in result.citations] == [
        (None, 1, ["https://stats.example.org/readers"]),
        ("1", 2, ["https://first.example.org/", "https://skipped.example.org/"]),
        ("2", 4, ["https://second.example.org/"]),
        (None, 6, ["https://body.example.org/"]),
    ]


def test_url_broken_across_a_page_break_is_joined_over_headers_and_page_numbers(monkeypatch) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    pages = [
        ["ISSUE BRIEF", "See https://www.example.org/reports/annual-", "", "", "1"],
        ["ISSUE BRIEF", "report-2020.pdf, page 2.", "", "", "2"],
        ["ISSUE BRIEF", "The end.", "", "", "3"],
    ]
    result = pdf.parse(build_pdf(pages), path="p.pdf")
    assert all_urls(result) == ["https://www.example.org/reports/annual-report-2020.pdf"]
    assert [c.page for c in result.citations] == [1]


def test_running_headers_and_page_numbers_are_dropped_but_note_numbers_stay(monkeypatch) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    pages = [
        ["Digital Isolationism | 1", "7", "“First,” https://first.example.org/", "Page 1 of 3"],
        ["Digital Isolationism | 2", "12", "“Second,” https://second.example.org/", "Page 2 of 3"],
        ["Digital Isolationism | 3", "30", "“Third,” https://third.example.org/", "Page 3 of 3"],
    ]
    pages_read, _, _, _ = pdf._read(build_pdf(pages), "p.pdf")
    kept = [line.text for line in pdf._drop_running_lines(pages_read)]
    # the header and footer follow the page numbers; the numbers 7, 12, 30 do not
    assert kept == [line for page in pages for line in page[1:3]]


def test_note_numbers_on_lines_of_their_own_restarting_per_chapter(monkeypatch) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    pages = [
        ["Chapter 1", "1", "“A,” https://a.example.org/", "2", "“B,” Site,", "https://b.example.org/x",
         "Chapter 2", "1", "“C,” https://c.example.org/", "2", "“D,” https://d.example.org/"],
    ]
    result = pdf.parse(build_pdf(pages), path="n.pdf")
    assert [(c.label, all_urls(FormatResult(citations=[c])), c.page) for c in result.citations] == [
        ("1", ["https://a.example.org/"], 1), ("2", ["https://b.example.org/x"], 1),
        ("1", ["https://c.example.org/"], 1), ("2", ["https://d.example.org/"], 1),
    ]


def test_a_number_in_the_prose_before_note_1_is_not_note_1(monkeypatch) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    pages = [["1 million people left https://stats.example.org/ last year.",
              "1 “First,” https://first.example.org/", "2 “Second,” https://second.example.org/"]]
    result = pdf.parse(build_pdf(pages), path="n.pdf")
    assert [(c.label, c.text.split()[0]) for c in result.citations] == [
        (None, "1"), ("1", "“First,”"), ("2", "“Second,”")]


def _linked_pdf(lines: list[tuple[str, str | None, str | None]]) -> bytes:
    """One page; each line is (text, linked phrase, target)."""
    page = pdf_build.Page()
    for k, (text, phrase, uri) in enumerate(lines):
        y = 800 - 12 * k
        page.text(40, y, text, 9)
        if phrase and uri:
            x = 40 + pdf_build.pdfmetrics.stringWidth(text[: text.index(phrase)], "Helvetica", 9)
            page.link(x, y, phrase, 9, uri)
    return pdf_build.render([page])


def test_link_annotations_confirm_repair_and_add_urls(monkeypatch) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    data = _linked_pdf([
        ("The data are published online.", "published online", "https://data.example.org/"),
        ("1 “Same,” https://same.example.org/a", "https://same.example.org/a", "https://same.example.org/a"),
        ("2 “About,” https://www.example.org/", "https://www.example.org/", "https://www.example.org/about"),
        ("about", "about", "https://www.example.org/about"),
        ("3 Ministry, Annual report (2021), available here.", "available here", "https://gov.example.org/r.pdf"),
        ("", None, None),
        ("See the contact page.", "contact", "mailto:office@example.org"),
    ])
    result = pdf.parse(data, path="l.pdf")
    assert [(c.label, [u.cited for u in c.urls]) for c in result.citations] == [
        (None, ["https://data.example.org/"]),             # a link outside every note
        ("1", ["https://same.example.org/a"]),
        ("2", ["https://www.example.org/about"]),          # the text layer broke it: repaired
        ("3", ["https://gov.example.org/r.pdf"]),          # only in the annotation
    ]
    assert result.citations[0].key == "@https://data.example.org/"


def test_every_citation_records_its_page(monkeypatch) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    result = pdf.parse(build_pdf(REPORT_PAGES), path="report.pdf")
    assert [(c.label, c.page) for c in result.citations] == [("1", 1), ("2", 1), (None, 2), (None, 2)]


@pytest.mark.parametrize(
    ("found_by_plaintext", "used"),
    [(2, "plaintext"), (1, "layout")],   # a tie goes to the plain-text reading
)
def test_the_reading_with_more_footnotes_wins(
    monkeypatch: pytest.MonkeyPatch, found_by_plaintext: int, used: str
) -> None:
    seen: list[str] = []

    def fake(text: str) -> FormatResult:
        seen.append(text)
        return FormatResult(citations=[
            make_citation(label=f"p{n}", line=n, text="x", urls=["https://a.example/"])
            for n in range(found_by_plaintext)
        ])

    monkeypatch.setattr(plaintext, "parse", fake)
    result = pdf.parse(build_pdf(REPORT_PAGES), path="report.pdf")
    labels = [c.label for c in result.citations if c.label]
    assert labels == (["p0", "p1"] if used == "plaintext" else ["1", "2"])
    # plaintext got the joined text, pages in a row
    assert "https://interfax.com/newsroom/top-stories/86316/." in seen[0]
    assert "annual-report-2020.pdf and the archive" in seen[0]


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Annual Report 2020", "Annual Report 2020"), ("Microsoft Word - draft3.docx", None),
     ("report_final.pdf", None), ("Untitled", None)],
)
def test_metadata_title_unless_a_placeholder(monkeypatch, title: str, expected: str | None) -> None:
    monkeypatch.setattr(plaintext, "parse", lambda text: FormatResult())
    assert pdf.parse(build_pdf([["Text"]], title=title), path="t.pdf").title == expected


@pytest.mark.parametrize(
    ("dc_dates", "expected"),
    [
        (["2023-09-14"], "2023-09-14"),
        (["2023-01"], "2023-01"),                               # the precision written is kept
        (["2021"], "2021"),
        (["2024-03-01T10:00:00Z"], "2024-03-01"),
        (["2019-05-28", "2020-02"], "2020-02"),                 # several: the latest
        (["not a date"], None),
    ],
)
def test_document_date_from_xmp_dc_date(dc_dates: list[str], expected: str | None) -> None:
    result = pdf.parse(build_pdf([["Text"]], dc_dates=dc_dates), path="t.pdf")
    assert result.date == CitedDate.from_iso(expected)


def test_pdf_dates_come_from_xmp_else_from_what_it_cites_never_from_the_file_dates() -> None:
    pages = [["1 “Recession,” The Moscow Times, November 17, 2022, https://www.example.org/a"]]
    dated = parse_bytes(build_pdf(pages, dc_dates=["2023-01"]), path="t.pdf")
    assert (dated.date, dated.date_source) == (CitedDate.month(2023, 1), "metadata")
    # reportlab stamps /CreationDate with today: that is the file's date, not the document's
    undated = parse_bytes(build_pdf(pages), path="t.pdf")
    assert (undated.date, undated.date_source) == (CitedDate.day(date(2022, 11, 17)), "inferred")


def test_broken_xmp_costs_the_date_not_the_document() -> None:
    data = build_pdf([["1 “T,” Site, May 2, 2020, https://www.example.org/a"]], dc_dates=["2023-01"])
    broken = data.replace(b"</rdf:li>", b"</rdf:lX>")  # same length: the file's offsets still hold
    assert broken != data
    result = pdf.parse(broken, path="t.pdf")
    assert result.date is None
    assert [u.cited for c in result.citations for u in c.urls] == ["https://www.example.org/a"]


def test_cyrillic_pdf() -> None:
    font = pdf_build.cyrillic_font()
    if font is None:
        pytest.skip("no TTF font with Cyrillic letters on this machine")
    lines = [
        "1 « Сбербанк стал единственным владельцем Rambler », РБК, 29 октября 2020,",
        "https://ru.wikipedia.org/wiki/Интернет_в_",
        "России",
    ]
    result = pdf.parse(build_pdf([lines], font=font), path="ru.pdf")
    assert all_urls(result) == ["https://ru.wikipedia.org/wiki/Интернет_в_России"]


def test_pdf_through_parse_bytes_is_detected_by_content() -> None:
    parsed = parse_bytes(build_pdf(REPORT_PAGES), path="download")
    assert parsed.format is DocumentFormat.PDF
    assert {u.cited for c in parsed.citations for u in c.urls} == REPORT_URLS


def test_password_protected_pdf_is_unreadable() -> None:
    data = build_pdf([["secret https://example.org/"]], user_password="secret")
    with pytest.raises(UnreadableDocument) as info:
        parse_bytes(data, path="locked.pdf")
    assert info.value.path == "locked.pdf"
    assert info.value.reason == "encrypted PDF: it needs a password"


def test_pdf_encrypted_only_against_editing_is_read() -> None:
    data = build_pdf([["Open https://open.example.org/page"]], user_password="")
    assert all_urls(pdf.parse(data, path="open.pdf")) == ["https://open.example.org/page"]


def test_pdf_without_text_layer_is_unreadable() -> None:
    with pytest.raises(UnreadableDocument) as info:
        pdf.parse(build_pdf([[], []], draw_text=False), path="scan.pdf")
    assert info.value.reason == "no text layer (scanned PDF?)"
    assert str(info.value) == "scan.pdf: no text layer (scanned PDF?)"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\nthis is not really a PDF\n",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
        b"<html>not a pdf</html>",
    ],
)
def test_malformed_pdf_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableDocument) as info:
        pdf.parse(data, path="bad.pdf")
    assert info.value.path == "bad.pdf"
    assert info.value.reason.startswith("malformed PDF: ")


def test_truncated_pdf_is_unreadable() -> None:
    data = build_pdf(REPORT_PAGES)
    with pytest.raises(UnreadableDocument, match="malformed PDF"):
        parse_bytes(data[: len(data) // 3], path="cut.pdf")
