"""Dates, titles and publishers read from citation text (citations.dates, citations.fields), and
the date a document gets from what it cites (citations.parse.infer_date)."""

from __future__ import annotations

from datetime import date

import pytest

from citations.dates import (
    CitedDate,
    find_accessed,
    find_dates,
    find_published,
    parse_date,
    parse_metadata_date,
)
from citations.fields import extract_fields, split_sources
from citations.models import Citation, CitedUrl, Link
from citations.parse import infer_date, parse_bytes


def day(year: int, month: int, day: int) -> CitedDate:
    return CitedDate.day(date(year, month, day))


def read(text: str) -> str | None:
    """``text`` read as one date, in its ISO form."""
    found = parse_date(text)
    return found.iso if found else None


# --- the forms -------------------------------------------------------------------------------------

FORMS = [
    # days
    ("November 16, 2022", "2022-11-16"),
    ("Nov. 16, 2022", "2022-11-16"),
    ("Sept. 5 2022", "2022-09-05"),
    ("October\u00a024, 2020", "2020-10-24"),  # no-break space, as in the corpus
    ("16 November 2022", "2022-11-16"),
    ("16 Nov. 2022", "2022-11-16"),
    ("2022-11-16", "2022-11-16"),
    ("16.11.2022", "2022-11-16"),
    ("16 ноября 2022", "2022-11-16"),
    ("28 мая 2019 г.", "2019-05-28"),
    ("1 Января 2020", "2020-01-01"),
    # day ranges: periods of days, not their first day
    ("July 25-30, 2009", "2009-07-25/2009-07-30"),
    ("November 14–18, 2022", "2022-11-14/2022-11-18"),
    ("October 20-21, 2010", "2010-10-20/2010-10-21"),
    ("July 30 – August 2, 2009", "2009-07-30/2009-08-02"),
    ("25–30 July 2009", "2009-07-25/2009-07-30"),
    ("30 July – 2 August 2009", "2009-07-30/2009-08-02"),
    ("14–18 ноября 2022", "2022-11-14/2022-11-18"),
    # months
    ("January 2023", "2023-01"),
    ("Jan. 2023", "2023-01"),
    ("Jan 2023", "2023-01"),
    ("Sept. 2023", "2023-09"),
    ("March 2000", "2000-03"),
    ("JANUARY 2023", "2023-01"),
    ("январь 2023", "2023-01"),
    ("января 2023", "2023-01"),
    ("январе 2023 г.", "2023-01"),
    ("в декабре 2021 года", None),     # the words around are not a date: find_dates reads it
    ("Май 2020", "2020-05"),
    # month ranges
    ("September-December 2012", "2012-09/2012-12"),
    ("Sept.–Dec. 2012", "2012-09/2012-12"),
    ("July/August 2019", "2019-07/2019-08"),
    ("December 2012 – February 2013", "2012-12/2013-02"),
    ("Dec. 2012–Feb. 2013", "2012-12/2013-02"),
    ("сентябрь–декабрь 2012", "2012-09/2012-12"),
    ("декабрь 2012 – февраль 2013", "2012-12/2013-02"),
    # seasons: meteorological, northern hemisphere; Winter 2014 = December 2013 – February 2014
    ("Summer 2005", "2005-06/2005-08"),
    ("Spring 2010", "2010-03/2010-05"),
    ("Fall 2010", "2010-09/2010-11"),
    ("Autumn 2010", "2010-09/2010-11"),
    ("Winter 2014", "2013-12/2014-02"),
    ("Winter 2013/14", "2013-12/2014-02"),
    ("Winter 2013–2014", "2013-12/2014-02"),
    ("Spring/Summer 1996", "1996-03/1996-08"),
    ("Summer/Fall 2022", "2022-06/2022-11"),
    ("Fall/Winter 2010", "2010-09/2011-02"),   # each next season follows the one before
    ("Winter/Spring 2015", "2014-12/2015-05"),
    ("Winter/Spring 2013/14", "2013-12/2014-05"),
    ("Fall/Winter 2013/14", "2013-09/2014-02"),
    ("весна 2005", "2005-03/2005-05"),
    ("летом 2005", "2005-06/2005-08"),
    ("осень 2010", "2010-09/2010-11"),
    ("зима 2014", "2013-12/2014-02"),
    ("весна–лето 1996", "1996-03/1996-08"),
    # years, as a whole field
    ("2021", "2021"),
    ("2021 г.", "2021"),
    ("2021 год", "2021"),
]


@pytest.mark.parametrize(("text", "iso"), FORMS)
def test_forms(text: str, iso: str | None) -> None:
    assert read(text) == iso
    if iso is not None:
        # the same inside a citation, where a year alone needs the comma before it
        expected = CitedDate.from_iso(iso)
        assert expected is not None and expected.iso == iso
        assert find_published(f"Ministry, “Title,” {text}, https://ex.org") == expected


def test_russian_month_inside_a_phrase() -> None:
    [found] = find_dates("Отчёт опубликован в декабре 2021 года.")
    assert found.value == CitedDate.month(2021, 12)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        # a year alone where a citation puts a date: as a field of its own
        ("“Cisco in Europe,” Cisco Systems, 2004, https://ex.org", "2004"),
        ("Ina Ganguli, “Scientific Brain Drain,” European University Institute, 2013.", "2013"),
        ("Soldatov, The New Nobility (New York: Public Affairs, 2010), 232.", "2010"),
        ("Q. S., “High hopes,” Nature 461, no. 7267 (2009): 1036-1039.", "2009"),
        ("Military Doctrine of the Russian Federation, 2014. II. 13, https://ex.org", "2014"),
        ("National Security Strategy of the Russian Federation, 2021; “What You Need to Know”", "2021"),
        ("« Мы строим глобального вендора »C News, 2021, https://www.cnews.ru/x", "2021"),
        ("Росстат, 2021 г., https://rosstat.gov.ru/x", "2021"),
        ("Доклад (2019) https://ex.org", "2019"),
        ("[2018] https://ex.org", "2018"),
        ("Author, “Title,” Journal, vol. 5, no. 2, 2019, pp. 12–20.", "2019"),    # MLA
        ("Mayday 5, 2020", "2020"),      # "Mayday" is not May: no day, and 2020 stands alone
        ("Data, accessed 2021", None),   # an "accessed" year is no publication date (next test)
    ],
)
def test_years_as_fields(text: str, iso: str | None) -> None:
    assert find_published(text) == CitedDate.from_iso(iso)


@pytest.mark.parametrize(
    "text",
    [
        "December 201449",          # "December 2014" + footnote 49 glued: rejected, not guessed
        "February 30, 2020",        # no such day, and not the year 2020 either
        "31.02.2020",
        "2022-13-01",
        "February 30",
        "October 202)",             # a typo in the corpus (footnote 206)
        # years in titles, names and prose
        "in 2022 – digital development minister",
        "“About 100,000 IT specialists left Russia in 2022 – digital development minister,”",
        "Digital Economy 2024 program",
        "discussion at Positive Hack Days 2023, Moscow, Russia",
        "« Реестр Проектов НТИ », NTI 2035",
        "Targeting Ukraine Through Washington: Russian Election Interference, and the 2024 US Election",
        "Modernization in Russia Since 1900 (Helsinki: Finnish Literature Society",
        "the state’s denial from 2022, with related",
        "For a synopsis of the restructuring in the 2000s, see: Soldatov",
        "“Ukraine and Russia Sanctions,” 2009-2017, US Department of State",   # a year range
        "Report no. 2021.",
        "Ibid., 1998.",             # a page
        "the price may 2021 rise",  # a verb, not a month: English months need their capital
        "the spring 2021 protests",
        "Программа «Цифровая экономика» 2024",
        "в 2022 году",
        "Годовой отчёт за 2021 г.",   # the year a report covers, not a field of its own
        "November 16",              # no year
    ],
)
def test_not_dates(text: str) -> None:
    assert find_dates(text) == []


def test_a_year_alone_is_a_fallback() -> None:
    # footnote 37 of the corpus: the doctrine's year comes first, the paper's month is the date
    text = (
        "See, e.g., Information Security Doctrine of the Russian Federation, 2000, https://ex.org/a; "
        "Gavin Wilde, “No Water’s Edge,” Carnegie Endowment, January 2023, https://ex.org/b."
    )
    assert [d.value.iso for d in find_dates(text)] == ["2000", "2023-01"]
    assert find_published(text) == CitedDate.month(2023, 1)
    assert extract_fields(text).published == CitedDate.month(2023, 1)
    assert [s.fields.published for s in split_sources(text)] == [
        CitedDate.year(2000), CitedDate.month(2023, 1),
    ]
    # with nothing more precise, the first year
    assert find_published("Book (Place: Pub, 2010), 232; Other, 2015, https://ex.org") == CitedDate.year(2010)
    # a year is also what a season or a month range is not: those are more precise
    assert find_published("Review, 2013; Journal (Spring/Summer 1996)") == CitedDate.from_iso(
        "1996-03/1996-08"
    )


@pytest.mark.parametrize(
    ("text", "accessed"),
    [
        ("Yandex.com, accessed November 16, 2022, https://…", "2022-11-16"),
        ("accessed on 16 November 2022", "2022-11-16"),
        ("last accessed Jan. 5, 2024", "2024-01-05"),
        ("Retrieved: 2023-01-15", "2023-01-15"),
        ("retrieved on 1.2.2021", "2021-02-01"),
        ("(viewed 3 March 2021)", "2021-03-03"),
        ("дата обращения: 01.12.2022", "2022-12-01"),
        # partial dates after the phrase
        ("Site, accessed March 2021, https://ex.org", "2021-03"),
        ("Site, accessed Summer 2020", "2020-06/2020-08"),
        ("Site, accessed 2021.", "2021"),  # the phrase names the year a date
        ("(дата обращения: январь 2023)", "2023-01"),
    ],
)
def test_accessed_dates(text: str, accessed: str) -> None:
    assert find_accessed(text) == CitedDate.from_iso(accessed)
    assert find_published(text) is None


def test_published_and_accessed_apart() -> None:
    text = "“T,” Site, March 2022, accessed April 2, 2023, https://ex.org"
    assert (find_published(text), find_accessed(text)) == (CitedDate.month(2022, 3), day(2023, 4, 2))
    text = "“Cisco in Europe,” Cisco Systems, 2004, accessed May 1, 2020, https://ex.org"
    assert (find_published(text), find_accessed(text)) == (CitedDate.year(2004), day(2020, 5, 1))


def test_month_glued_to_the_publisher() -> None:
    fields = extract_fields("« Бизнес », PT SecurityJuly 25, 2023, https://group.ptsecurity.com/ru/news/x.")
    assert (fields.title, fields.publisher, fields.published) == ("Бизнес", "PT Security", day(2023, 7, 25))
    fields = extract_fields("« Бизнес », PT SecurityJuly 2023, https://group.ptsecurity.com/ru/news/x.")
    assert (fields.publisher, fields.published) == ("PT Security", CitedDate.month(2023, 7))


def test_dates_in_urls_and_titles_are_not_publication_dates() -> None:
    fields = extract_fields(
        "“Statement of March 5, 2022,” Ministry, https://ex.org/2021-01-02/news/2020/12/11/x"
    )
    assert fields.published is None
    assert extract_fields("Ministry, https://ex.org/2021-01-02/, 4 May 2021").published == day(2021, 5, 4)
    # "…Technical Note: July 2016,” The World Bank Group, July 2016": the second July is the date
    fields = extract_fields("“Financial Infrastructure Technical Note: July 2016,” The World Bank, 2016, https://ex.org")
    assert fields.published == CitedDate.year(2016)
    assert extract_fields("“Russia’s 2024 Budget,” Carnegie, https://ex.org/2024").published is None


# --- CitedDate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cited", "iso", "label", "precision"),
    [
        (day(2023, 1, 14), "2023-01-14", "2023-01-14", "day"),
        (CitedDate.month(2023, 1), "2023-01", "January 2023", "month"),
        (CitedDate.year(2021), "2021", "2021", "year"),
        (CitedDate(date(1996, 3, 1), date(1996, 8, 31)), "1996-03/1996-08", "March–August 1996", "period"),
        (CitedDate(date(2013, 12, 1), date(2014, 2, 28)), "2013-12/2014-02", "December 2013 – February 2014",
         "period"),
        (CitedDate(date(2022, 11, 14), date(2022, 11, 18)), "2022-11-14/2022-11-18",
         "2022-11-14 – 2022-11-18", "period"),
    ],
)
def test_cited_date_forms(cited: CitedDate, iso: str, label: str, precision: str) -> None:
    assert (cited.iso, cited.label, cited.precision, str(cited)) == (iso, label, precision, iso)
    assert CitedDate.from_iso(iso) == cited


@pytest.mark.parametrize("text", ["", "  ", "2023-13", "2023-02-30", "2024/2023", "January 2023", "23-01"])
def test_cited_date_from_iso_refuses(text: str) -> None:
    assert CitedDate.from_iso(text) is None


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        CitedDate(date(2023, 2, 1), date(2023, 1, 1))


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2022-11-16", "2022-11-16"),
        ("2022-11-16T10:00:00Z", "2022-11-16"),
        ("2022/11/16", "2022-11-16"),
        ("2022.1.5", "2022-01-05"),
        ("2023-01", "2023-01"),
        ("2021", "2021"),
        ("2012-09/2012-12", "2012-09/2012-12"),
        ("January 2023", "2023-01"),
        ("Sat, 14 Sep 2023 10:00:00 GMT", "2023-09-14"),
        ("2022-02-30", None),
        ("", None),
        (None, None),
    ],
)
def test_metadata_dates(value: str | None, iso: str | None) -> None:
    assert parse_metadata_date(value) == CitedDate.from_iso(iso)


# --- titles and publishers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "publisher"),
    [
        ("“About 100,000 IT specialists left Russia in 2022 – digital development minister,” Interfax, "
         "December 20, 2022, https://interfax.com/newsroom/top-stories/86316/.",
         "About 100,000 IT specialists left Russia in 2022 – digital development minister", "Interfax"),
        ('M. Ortiz, "Open Budgets in Practice," Civic Tech Review, Nov. 16, 2022',
         "Open Budgets in Practice", "Civic Tech Review"),
        ("«\u00a0Битва Титанов\u00a0»,\u00a0Kommersant, December 23, 2021", "Битва Титанов", "Kommersant"),
        ("« «Газпром-медиа» строит видеовертикаль », Kommersant", "«Газпром-медиа» строит видеовертикаль",
         "Kommersant"),
        ("Author, “Why do officials still prefer Microsoft?” Russia Beyond, August 9, 2016",
         "Why do officials still prefer Microsoft?", "Russia Beyond"),
        ("Graeme P. Herd, “Russia and the ‘Orange Revolution’: Response?” Connections 4, no. 2 (2005)",
         "Russia and the ‘Orange Revolution’: Response?", "Connections"),
        # a quotation before the title is not the title
        ("Wishnick argues that the “services have been uneasy.” See: Elizabeth Wishnick, “A Superior "
         "Relationship,” China Leadership Monitor 76 (June 2023), https://ex.org",
         "A Superior Relationship", "China Leadership Monitor"),
        # words in quotes inside a sentence lose to the real title
        ("For a discussion of “color revolution” fears, see: Herd, “Orange Revolution”", "Orange Revolution",
         None),
        # the opening quote was lost
        ("Commerce Department Prohibits Kaspersky Software,” US Department of Commerce, June 20, 2024",
         "Commerce Department Prohibits Kaspersky Software", "US Department of Commerce"),
        ("See, e.g., The Structure of Anti-Extremism Legislation,” SOVA Center, November 2010",
         "The Structure of Anti-Extremism Legislation", "SOVA Center"),
        # journals: the volume number is not part of the name; a site may be named by its domain
        ("Q. S., “High hopes,” Nature 461, no. 7267 (2009): 1036-1039.", "High hopes", "Nature"),
        ("“Chip distributors in Russia,” chipinfo.ru, June 30, 2002", "Chip distributors in Russia",
         "chipinfo.ru"),
        ("« Реестр Проектов НТИ », NTI 2035, July 28, 2023", "Реестр Проектов НТИ", "NTI 2035"),
        ("“Official Journal,” Volume 66, June 23, 2023.", "Official Journal", None),
        ("“T,” in A. Editor, ed., Book (Place: Pub, 2006), 294.", "T", None),
        ("“History of Yandex: 1997,” Yandex.com, accessed November 16, 2022", "History of Yandex: 1997",
         "Yandex.com"),
        # a book: the publisher inside "(Place: Publisher, Year)"
        ("Gordon Bennett, The FSB (London: Conflict Studies Research Center, March 2000), https://ex.org",
         None, "Conflict Studies Research Center"),
        ("Ibid., 14-15.", None, None),
    ],
)
def test_title_and_publisher(text: str, title: str | None, publisher: str | None) -> None:
    fields = extract_fields(text)
    assert (fields.title, fields.publisher) == (title, publisher)


def test_split_sources() -> None:
    text = (
        "See, e.g., Emil Wannheden, Russia’s Wartime Economy (Stockholm: Swedish Defense Research Agency, "
        "October 2023); FOI Memo 8236, https://www.foi.se/rest-api/report/FOI%20Memo%208236;  “Russia "
        "Falls Into Recession,” The Moscow Times, November 17, 2022, https://www.themoscowtimes.com/a79398. "
        "See also: “A; B,” Baltimore Sun, December 11, 2002, https://ex.org/x;y=1"
    )
    sources = split_sources(text)
    # the memo number and its link are the report's, not a work of their own
    assert [s.urls for s in sources] == [
        ("https://www.foi.se/rest-api/report/FOI%20Memo%208236",),
        ("https://www.themoscowtimes.com/a79398",), ("https://ex.org/x;y=1",),
    ]
    assert [s.fields.title for s in sources] == [None, "Russia Falls Into Recession", "A; B"]
    assert sources[0].fields.publisher == "Swedish Defense Research Agency"
    assert [s.fields.published for s in sources] == [
        CitedDate.month(2023, 10), day(2022, 11, 17), day(2002, 12, 11),
    ]
    # the footnote as a whole: its first title and its first date
    whole = extract_fields(text)
    assert (whole.title, whole.published) == ("Russia Falls Into Recession", CitedDate.month(2023, 10))


def test_split_sources_with_partial_dates() -> None:
    # footnote 4 of the corpus, shortened
    text = (
        "See, e.g., R. Adam Moody, “Reexamining Brain Drain,” The Nonproliferation Review "
        "(Spring/Summer 1996): 92-97, https://ex.org/a; A. Korobkov, “Russian brain drain,” "
        "Communist and Post-Communist Studies 45, no. 3-4 (September-December 2012): 327-341, "
        "https://ex.org/b; Ina Ganguli, “Scientific Brain Drain,” European University Institute, 2013, "
        "https://ex.org/c"
    )
    sources = split_sources(text)
    assert [(s.urls, s.fields.published.iso if s.fields.published else None) for s in sources] == [
        (("https://ex.org/a",), "1996-03/1996-08"),
        (("https://ex.org/b",), "2012-09/2012-12"),
        (("https://ex.org/c",), "2013"),
    ]


def test_a_url_after_a_titled_work_is_not_merged_into_it() -> None:
    sources = split_sources("Book (Place: Pub, 2010), 232; “Page,” Site, https://ex.org/p")
    assert [(s.urls, s.fields.title) for s in sources] == [((), None), (("https://ex.org/p",), "Page")]


def test_split_sources_of_a_single_source() -> None:
    [only] = split_sources("“T,” Site, May 2, 2020, https://ex.org/a.")
    assert (only.text, only.urls, only.fields.title) == (
        "“T,” Site, May 2, 2020, https://ex.org/a.", ("https://ex.org/a",), "T"
    )


# --- the document's date from what it cites ---------------------------------------------------------


def cite(published: str | None = None, accessed: str | None = None, *urls: CitedUrl) -> Citation:
    return Citation(
        key="1", label="1", number=1, line=1, text="…", urls=urls,
        published=CitedDate.from_iso(published), accessed=CitedDate.from_iso(accessed),
    )


def own(published: str | None = None, accessed: str | None = None) -> CitedUrl:
    return CitedUrl(cited="https://ex.org", link=Link(url="https://ex.org/"), own_fields=True,
                    published=CitedDate.from_iso(published), accessed=CitedDate.from_iso(accessed))


TODAY = date(2024, 7, 1)


@pytest.mark.parametrize(
    ("citations", "expected"),
    [
        ([], None),
        ([cite()], None),
        ([cite("2020-05-04"), cite("2022-01"), cite("2021-06-30")], "2022-01"),
        ([cite("2019", "2023-11-16")], "2023-11-16"),                 # an accessed date counts
        ([cite("2019"), cite(None, None, own("2023-03"), own())], "2023-03"),   # and each URL's own
        # the latest start; of two that start together, the narrower
        ([cite("2023"), cite("2023-01"), cite("2023-01-01")], "2023-01-01"),
        ([cite("2022-12-31"), cite("2023")], "2023"),
        ([cite("2013-12/2014-02"), cite("2014-01")], "2014-01"),
        # a date after today is a typo, not evidence; a period that has begun is not
        ([cite("2024-06-20"), cite("2042-06-20")], "2024-06-20"),
        ([cite("2024-06-20"), cite("2024")], "2024-06-20"),
        ([cite("2024-06-20"), cite("2024-07-02")], "2024-06-20"),
        ([cite("2024-06-20"), cite("2024-07")], "2024-07"),
    ],
)
def test_infer_date(citations: list[Citation], expected: str | None) -> None:
    assert infer_date(citations, today=TODAY) == CitedDate.from_iso(expected)


def test_an_undated_document_is_dated_by_its_newest_citation() -> None:
    text = (
        "Report\n\nNotes\n"
        "1. “A,” Site, Summer 2005, https://a.example.org/\n"
        "2. “B,” Site, March 3, 2004, accessed January 2006, https://b.example.org/\n"
        "3. “C,” Site, November 16, 2099, https://c.example.org/\n"   # a typo for 2009: ignored
    )
    parsed = parse_bytes(text.encode(), path="report.txt")
    assert [c.published for c in parsed.citations] == [
        CitedDate.from_iso("2005-06/2005-08"), day(2004, 3, 3), day(2099, 11, 16),
    ]
    assert (parsed.date, parsed.date_source) == (CitedDate.month(2006, 1), "inferred")


def test_a_document_citing_no_date_has_none() -> None:
    parsed = parse_bytes(b"Links: https://a.example.org/ and https://b.example.org/\n", path="x.txt")
    assert (parsed.date, parsed.date_source) == (None, None)
