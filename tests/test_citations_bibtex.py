"""BibTeX extraction: the tolerant parser, URL fields, dates, and errors that name the line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from citations import CitedDate, DocumentFormat, LinkKind, UnreadableDocument, parse_bytes, parse_document
from citations.formats import bibtex
from citations.formats.common import FormatResult
from citations.models import Citation

DATA = Path(__file__).parent / "data"
INTERFAX = "About 100,000 IT specialists left Russia in 2022 – digital development minister"


def urls(c: Citation) -> list[str]:
    return [u.cited for u in c.urls]


def day(year: int, month: int, day: int) -> CitedDate:
    return CitedDate.day(date(year, month, day))


def one(text: str) -> Citation:
    (c,) = bibtex.parse(text).citations
    return c


@pytest.fixture(scope="module")
def refs() -> FormatResult:
    return bibtex.parse((DATA / "bib_references.bib").read_text(encoding="utf-8"))


def test_every_entry_is_a_citation_labelled_by_its_key(refs) -> None:
    assert [(c.label, c.line) for c in refs.citations] == [
        ("interfax2022", 9), ("kerr2022", 18), ("markoff1992", 28), ("rbc2020", 37),
        ("wiki-ru", 45),
    ]
    assert refs.warnings == []
    assert refs.title is None and refs.date is None


def test_online_entry_fields(refs) -> None:
    c = refs.citations[0]
    assert c.title == INTERFAX
    assert c.publisher == "Interfax"                 # from the @string macro
    assert c.published == day(2022, 12, 20)
    assert c.accessed == day(2023, 1, 5)
    assert urls(c) == ["https://interfax.com/newsroom/top-stories/86316/"]
    assert c.text == (
        f"Interfax, “{INTERFAX},” Interfax, December 20, 2022, accessed January 5, 2023, "
        "https://interfax.com/newsroom/top-stories/86316/"
    )


def test_quoted_values_month_macro_and_doi(refs) -> None:
    c = refs.citations[1]
    assert c.title == (
        "Runet's Critical Juncture: The Ukraine War and the Battle for the Soul of the Web"
    )
    assert c.publisher == "SAIS Review of International Affairs"
    assert c.published == CitedDate.month(2022, 11)  # a month without a day: the month
    assert urls(c) == ["https://doi.org/10.1353/sais.2022.0010"]


def test_howpublished_and_note_urls(refs) -> None:
    c = refs.citations[2]
    assert urls(c) == [
        "https://www.nytimes.com/1992/03/03/business/russian-computer-scientists-hired-by-american-company.html",
        "https://web.archive.org/web/20200101000000/https://www.nytimes.com/1992/03/03/business/"
        "russian-computer-scientists-hired-by-american-company.html",
    ]
    assert c.urls[1].link.kind is LinkKind.ARCHIVE
    assert c.publisher == "The New York Times"
    assert c.published == day(1992, 3, 3)


def test_parenthesised_entry_with_year_only(refs) -> None:
    c = refs.citations[3]
    assert c.title == "Сбербанк стал единственным владельцем Rambler"
    assert c.publisher == "RBC"
    assert c.published == CitedDate.year(2020)       # a year alone is the year
    assert c.accessed == day(2024, 1, 20)
    assert c.text.endswith("RBC, 2020, accessed January 20, 2024, "
                           "https://www.rbc.ru/business/29/10/2020/5f9af8339a79470b67836406")


def test_escaped_cyrillic_url_and_written_urldate(refs) -> None:
    c = refs.citations[4]
    assert urls(c) == ["https://ru.wikipedia.org/wiki/Интернет_в_России"]
    assert c.accessed == day(2022, 11, 16)


def test_comments_and_commented_entries_are_not_read(refs) -> None:
    everything = [u for c in refs.citations for u in urls(c)]
    assert "https://example.org/old" not in everything
    assert "https://example.org/x" not in everything


@pytest.mark.parametrize(
    "doi",
    [
        "10.1080/01402390.2020.1717954",
        "https://doi.org/10.1080/01402390.2020.1717954",
        "http://dx.doi.org/10.1080/01402390.2020.1717954",
        "doi:10.1080/01402390.2020.1717954",
        "DOI: 10.1080/01402390.2020.1717954",
    ],
)
def test_doi_forms(doi: str) -> None:
    c = one(f"@article{{k, doi = {{{doi}}}}}")
    assert urls(c) == ["https://doi.org/10.1080/01402390.2020.1717954"]


def test_url_order_url_then_notes_then_doi_then_arxiv() -> None:
    c = one(r"""@misc{k,
      eprint = {2101.00001}, archivePrefix = {arXiv},
      doi = {10.1/x},
      note = {see https://bare.example.org/a and \href{https://href.example.org/b}{here}},
      url = {https://www.example.org/very/long/
             path_part\_two?x=1\&y=2},
    }""")
    assert urls(c) == [
        "https://www.example.org/very/long/path_part_two?x=1&y=2",
        "https://bare.example.org/a",
        "https://href.example.org/b",
        "https://doi.org/10.1/x",
        "https://arxiv.org/abs/2101.00001",
    ]


def test_fields_win_over_text_heuristics() -> None:
    c = one("""@misc{k, title = {Real title}, urldate = {2022-11-16},
      note = {“A quoted decoy,” Decoy Press, accessed March 3, 2021}, publisher = {Real Press},
      year = 2020, month = {May}, day = 4}""")
    assert c.title == "Real title"
    assert c.accessed == day(2022, 11, 16)
    assert c.publisher == "Real Press"
    assert c.published == day(2020, 5, 4)


def test_text_fills_what_the_fields_do_not_say() -> None:
    c = one("@misc{k, title = {T}, note = {Accessed November 16, 2022}, url = {https://a.example.org/}}")
    assert c.accessed == day(2022, 11, 16)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{The {RAND} Corporation}", "The RAND Corporation"),
        (r"{M{\"u}ller and Gr{\'e}goire}", "Müller and Grégoire"),
        (r"{\v{S}koda \c{c}a \'{\i}}", "Škoda ça í"),
        (r"{Stra{\ss}e \o{} \AA}", "Straße ø Å"),
        (r"{Fish \& Chips 100\% \emph{really} \textbf{bold}}", "Fish & Chips 100% really bold"),
        ("{1990--2000 --- a ``decade''}", "1990–2000 — a “decade”"),
        (r"{Using \LaTeX~well}", "Using LaTeX well"),
        ('"Quoted {with braces} and \\"{o}"', "Quoted with braces and ö"),
        ('"Joined " # {parts} # " here"', "Joined parts here"),
    ],
)
def test_title_cleaning(value: str, expected: str) -> None:
    assert one(f"@misc{{k, title = {value}}}").title == expected


@pytest.mark.parametrize(
    ("fields", "published", "text"),
    [
        # biblatex date: ISO 8601 at the precision written, ranges included
        ("date = {2022-12-20}", "2022-12-20", "December 20, 2022"),
        ("date = {2023-01}", "2023-01", "January 2023"),
        ("date = {2021}", "2021", "2021"),
        ("date = {2020-05/2020-07}", "2020-05/2020-07", "May–July 2020"),
        ("date = {2012-09/2012-12}", "2012-09/2012-12", "September–December 2012"),
        ("date = {2012/}", "2012", "2012"),                         # open range: its known end
        ("date = {2022-11-14T09:30:00Z}", "2022-11-14", "November 14, 2022"),
        ("date = {Summer 2005}", "2005-06/2005-08", "June–August 2005"),
        # BibTeX year, month, day: as precise as the entry is
        ("year = 2021", "2021", "2021"),
        ("year = 2022, month = nov", "2022-11", "November 2022"),
        ("year = 2019, month = {Sept.}", "2019-09", "September 2019"),
        ("year = {1992}, month = {3}, day = {3}", "1992-03-03", "March 3, 1992"),
        ("year = 2005, month = {Spring}", "2005-03/2005-05", "March–May 2005"),
        ("year = 2012, month = {sep--dec}", "2012-09/2012-12", "September–December 2012"),
        ("year = 2019, month = 13", "2019", "2019"),               # no such month: the year
        ("year = 2019, month = 2, day = 30", "2019", "2019"),       # no such day: the year
        ("month = nov", None, ""),
    ],
)
def test_publication_dates(fields: str, published: str | None, text: str) -> None:
    c = one(f"@misc{{k, {fields}}}")
    assert c.published == CitedDate.from_iso(published)
    assert c.text == text


@pytest.mark.parametrize(
    ("urldate", "accessed"),
    [
        ("2023-01-05", "2023-01-05"),
        ("2023-01", "2023-01"),
        ("2022-1-5", "2022-01-05"),
        ("November 16, 2022", "2022-11-16"),
        ("March 2021", "2021-03"),
        ("2022-02-30", None),
    ],
)
def test_urldate(urldate: str, accessed: str | None) -> None:
    assert one(f"@misc{{k, urldate = {{{urldate}}}}}").accessed == CitedDate.from_iso(accessed)


def test_a_bibliography_is_dated_by_its_newest_entry() -> None:
    parsed = parse_bytes((DATA / "bib_references.bib").read_bytes(), path="refs.bib")
    assert (parsed.date, parsed.date_source) == (day(2024, 1, 20), "inferred")  # rbc2020's urldate


def test_tolerates_case_trailing_commas_and_junk() -> None:
    result = bibtex.parse(
        "junk } text\n@ARTICLE{Up,\n  TITLE = {Upper},\n  URL = {https://up.example.org/},,\n}\n"
        "@Misc(paren, title = \"closes ) inside quotes\")\n"
        "@preamble{\"\\newcommand{\\noop}[1]{}\"}\n"
    )
    assert [(c.label, c.title) for c in result.citations] == [
        ("Up", "Upper"), ("paren", "closes ) inside quotes"),
    ]
    assert urls(result.citations[0]) == ["https://up.example.org/"]


def test_entry_with_a_syntax_error_is_skipped_with_a_warning() -> None:
    result = bibtex.parse(
        "@misc{good1, title = {A}}\n@book{bad,\n  title = {No comma}\n  author = {X}\n}\n"
        "@misc{good2, title = {B}}\n@misc{noequals, title {C}}\n"
    )
    assert [c.label for c in result.citations] == ["good1", "good2"]
    assert result.warnings == [
        "line 2: entry 'bad' skipped: expected ',' after field 'title' on line 4",
        "line 7: entry 'noequals' skipped: expected '=' after 'title' on line 7",
    ]


def test_unknown_macro_and_repeated_key_are_warned_about() -> None:
    result = bibtex.parse("@misc{a, publisher = acm}\n@misc{a, title = {Again}}\n")
    assert result.warnings == [
        "line 1: unknown @string macro 'acm'",
        "line 2: key 'a' is used again (first on line 1)",
    ]
    assert result.citations[0].publisher == "acm"


def test_repeated_keys_are_made_unique_by_parse_bytes() -> None:
    parsed = parse_bytes(b"@misc{a, title={1}}\n@misc{a, title={2}}\n", path="refs.bib")
    assert [c.key for c in parsed.citations] == ["a", "a#2"]


def test_entry_without_url_is_still_a_citation() -> None:
    c = one("@book{etkind, author = {Etkind, Alexander}, title = {Russia Against Modernity},"
            " year = 2023}")
    assert c.urls == () and c.text == "Etkind, Alexander, “Russia Against Modernity,” 2023"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # a brace left open runs into the next entry
        ("@misc{ok, title = {Fine}}\n\n@article{broken,\n  title = {Open {brace},\n"
         "  year = 2020\n}\n@misc{next, title = {N}}\n",
         "line 3: @article entry 'broken' does not close before the next entry on line 7 "
         "(unbalanced braces)"),
        # the last entry never closes
        ("@misc{ok, title = {Fine}}\n@online{last,\n  url = {https://example.org/}\n",
         "line 2: @online entry 'last' does not close (unbalanced braces)"),
    ],
)
def test_unbalanced_braces_make_the_file_unreadable(text: str, reason: str) -> None:
    with pytest.raises(UnreadableDocument) as info:
        bibtex.parse(text)
    assert info.value.reason == reason
    assert info.value.path == ""


def test_parse_document_names_the_file_in_the_error(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@misc{x,\n title = {never closed\n", encoding="utf-8")
    with pytest.raises(UnreadableDocument) as info:
        parse_document(bib)
    assert info.value.path == str(bib)
    assert str(info.value) == f"{bib}: line 1: @misc entry 'x' does not close (unbalanced braces)"


def test_bib_file_is_detected_and_parsed() -> None:
    parsed = parse_document(DATA / "bib_references.bib")
    assert parsed.format is DocumentFormat.BIBTEX
    assert len(parsed.citations) == 5
