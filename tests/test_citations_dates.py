"""Dates, titles and publishers read from citation text (citations.dates, citations.fields)."""

from __future__ import annotations

from datetime import date

import pytest

from citations.dates import find_accessed, find_dates, find_published, parse_date
from citations.fields import extract_fields, split_sources


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("November 16, 2022", date(2022, 11, 16)),
        ("Nov. 16, 2022", date(2022, 11, 16)),
        ("Sept. 5 2022", date(2022, 9, 5)),
        ("July 25-30, 2009", date(2009, 7, 25)),  # a range: its first day
        ("October\u00a024, 2020", date(2020, 10, 24)),  # no-break space, as in the corpus
        ("16 November 2022", date(2022, 11, 16)),
        ("16 Nov. 2022", date(2022, 11, 16)),
        ("2022-11-16", date(2022, 11, 16)),
        ("16.11.2022", date(2022, 11, 16)),
        ("16 ноября 2022", date(2022, 11, 16)),
        ("28 мая 2019 г.", date(2019, 5, 28)),
        ("1 Января 2020", date(2020, 1, 1)),
    ],
)
def test_date_formats(text: str, expected: date) -> None:
    assert parse_date(text) == expected
    assert find_published(f"Ministry, {text}, https://ex.org") == expected


@pytest.mark.parametrize(
    "text",
    [
        "October 2023",          # no day: not invented
        "December 201449",       # "December 2014" + footnote 49
        "February 30, 2020",     # no such day
        "31.02.2020",
        "2022-13-01",
        "Mayday 5, 2020",
        "in 2022 – digital development minister",
    ],
)
def test_not_dates(text: str) -> None:
    assert find_dates(text) == []


@pytest.mark.parametrize(
    ("text", "accessed"),
    [
        ("Yandex.com, accessed November 16, 2022, https://…", date(2022, 11, 16)),
        ("accessed on 16 November 2022", date(2022, 11, 16)),
        ("last accessed Jan. 5, 2024", date(2024, 1, 5)),
        ("Retrieved: 2023-01-15", date(2023, 1, 15)),
        ("retrieved on 1.2.2021", date(2021, 2, 1)),
        ("(viewed 3 March 2021)", date(2021, 3, 3)),
        ("дата обращения: 01.12.2022", date(2022, 12, 1)),
    ],
)
def test_accessed_dates(text: str, accessed: date) -> None:
    assert find_accessed(text) == accessed
    assert find_published(text) is None


def test_published_and_accessed_apart() -> None:
    text = "“T,” Site, March 1, 2022, accessed April 2, 2023, https://ex.org"
    assert (find_published(text), find_accessed(text)) == (date(2022, 3, 1), date(2023, 4, 2))


def test_month_glued_to_the_publisher() -> None:
    fields = extract_fields("« Бизнес », PT SecurityJuly 25, 2023, https://group.ptsecurity.com/ru/news/x.")
    assert (fields.title, fields.publisher, fields.published) == ("Бизнес", "PT Security", date(2023, 7, 25))


def test_dates_in_urls_and_titles_are_not_publication_dates() -> None:
    fields = extract_fields(
        "“Statement of March 5, 2022,” Ministry, https://ex.org/2021-01-02/news/2020/12/11/x"
    )
    assert fields.published is None
    assert extract_fields("Ministry, https://ex.org/2021-01-02/, 4 May 2021").published == date(2021, 5, 4)


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
        ("For a discussion of “color revolution” fears, see: Herd, “Orange Revolution”", "Orange Revolution", None),
        # the opening quote was lost
        ("Commerce Department Prohibits Kaspersky Software,” US Department of Commerce, June 20, 2024",
         "Commerce Department Prohibits Kaspersky Software", "US Department of Commerce"),
        ("See, e.g., The Structure of Anti-Extremism Legislation,” SOVA Center, November 2010",
         "The Structure of Anti-Extremism Legislation", "SOVA Center"),
        # journals: the volume number is not part of the name; a site may be named by its domain
        ("Q. S., “High hopes,” Nature 461, no. 7267 (2009): 1036-1039.", "High hopes", "Nature"),
        ("“Chip distributors in Russia,” chipinfo.ru, June 30, 2002", "Chip distributors in Russia", "chipinfo.ru"),
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
    assert [s.urls for s in sources] == [
        (), ("https://www.foi.se/rest-api/report/FOI%20Memo%208236",),
        ("https://www.themoscowtimes.com/a79398",), ("https://ex.org/x;y=1",),
    ]
    assert [s.fields.title for s in sources] == [None, None, "Russia Falls Into Recession", "A; B"]
    assert sources[0].fields.publisher == "Swedish Defense Research Agency"
    assert [s.fields.published for s in sources] == [None, None, date(2022, 11, 17), date(2002, 12, 11)]
    # the footnote as a whole: its first title and date
    whole = extract_fields(text)
    assert (whole.title, whole.published) == ("Russia Falls Into Recession", date(2022, 11, 17))


def test_split_sources_of_a_single_source() -> None:
    [only] = split_sources("“T,” Site, May 2, 2020, https://ex.org/a.")
    assert (only.text, only.urls, only.fields.title) == ("“T,” Site, May 2, 2020, https://ex.org/a.", ("https://ex.org/a",), "T")
