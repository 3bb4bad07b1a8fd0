"""Plain-text citations: the shared report's 233 inline footnotes, and small notes-section documents."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from citations.dates import CitedDate
from citations.formats import plaintext
from citations.models import Citation, ParsedDocument
from citations.parse import parse_document
from tests.corpus import CORPUS

DATA = Path(__file__).parent / "data"
needs_corpus = pytest.mark.usefixtures("shared_corpus")  # skipped without it, failed under CI


def squash(text: str) -> str:
    """Text with every run of whitespace (the corpus has many no-break spaces) as one space."""
    return " ".join(text.split())


def urls(c: Citation) -> list[str]:
    return [u.cited for u in c.urls]


def day(year: int, month: int, day: int) -> CitedDate:
    return CitedDate.day(date(year, month, day))


@pytest.fixture(scope="module")
def report() -> ParsedDocument:
    return parse_document(CORPUS)


@pytest.fixture(scope="module")
def footnotes(report: ParsedDocument) -> dict[int, Citation]:
    return {c.number: c for c in report.citations if c.number is not None}


# --- the shared report ---------------------------------------------------------------------------


@needs_corpus
def test_report_has_footnotes_1_to_233_in_order_and_nothing_else(report: ParsedDocument) -> None:
    assert [c.label for c in report.citations] == [str(n) for n in range(1, 234)]
    assert [c.key for c in report.citations] == [str(n) for n in range(1, 234)]
    assert report.warnings == ()


@needs_corpus
def test_report_cites_265_urls_and_every_url_of_the_text(report: ParsedDocument) -> None:
    text = CORPUS.read_text(encoding="utf-8")
    # 267 "http(s)://" in the text, two of them inside Wayback URLs (…/web/2006…/http://…).
    assert len(re.findall(r"https?://", text)) == 267
    assert len(re.findall(r"/https?://", text)) == 2
    assert sum(len(c.urls) for c in report.citations) == 265
    cited = [u.cited for c in report.citations for u in c.urls]
    assert all(u in text for u in cited)
    assert len(set(cited)) == 263  # 1 and 146 cite the same Interfax page, 40 and 137 one brief


@needs_corpus
def test_report_parses_alone_to_its_233_notes() -> None:
    # plaintext.parse without the document layer; bench/bench_budgets.py times it
    assert len(plaintext.parse(CORPUS.read_text(encoding="utf-8")).citations) == 233


@needs_corpus
def test_report_title_and_lines(report: ParsedDocument, footnotes: dict[int, Citation]) -> None:
    assert report.title is not None and report.title.startswith("Russia’s Digital Tech Isolationism")
    lines = CORPUS.read_text(encoding="utf-8").split("\n")
    assert footnotes[1].line == 27 and "problems.1“About 100,000" in lines[26]
    assert footnotes[34].line == 59 and "as well34.Jen Tracy" in lines[58]
    assert footnotes[233].line == 240 and "institutions.233“Twisted Panda" in lines[239]
    assert [c.line for c in report.citations] == sorted(c.line for c in report.citations)


# (footnote, text starts with, text ends with, URLs exactly as cited)
TRICKY = [
    # marker after a full stop, citation opens with a quote; "/." keeps no dot in the URL
    (1, "“About 100,000 IT specialists left Russia in 2022", "top-stories/86316/.",
     ["https://interfax.com/newsroom/top-stories/86316/"]),
    # marker glued to a word; two sources split by ";"; prose resumes after " —and"
    (2, "See, e.g., Emil Wannheden, Russia’s Wartime Economy", "russia-falls-into-recession-a79398",
     ["https://www.foi.se/rest-api/report/FOI%20Memo%208236",
      "https://www.themoscowtimes.com/2022/11/16/russia-falls-into-recession-a79398"]),
    # marker after a closing quote; prose "Despite these clear…" follows the URL with no full stop
    (3, "Stephen Kotkin, “Technology and Governance", "governance-russia-possibilities",
     ["https://www.hoover.org/research/technology-and-governance-russia-possibilities"]),
    # page number after the URL belongs to the citation
    (5, "Dmitri Alperovitch and Keith Mularski", "RussCybercrime-PAPER.pdf, 2.",
     ["https://www.blackhat.com/presentations/bh-usa-09/ALPEROVITCH/"
      "BHUSA09-Alperovitch-RussCybercrime-PAPER.pdf"]),
    # "in 19976“History": the year 1997, then marker 6
    (6, "“History of Yandex: 1997,” Yandex.com, accessed", "https://yandex.com/company/history/1997",
     ["https://yandex.com/company/history/1997"]),
    # guillemets, Cyrillic, a Wayback URL holding a second http://
    (10, "« “Проф-Медиа” приобретает 54.8% Rambler Media »", "5f9af8339a79470b67836406",
     ["https://web.archive.org/web/20061213022333/http://www.rambler.ru/db/press/msg.html"
      "?mid=9017070&s=260000269",
      "https://www.rbc.ru/business/29/10/2020/5f9af8339a79470b67836406"]),
    # four sources, one after ". See also:"
    (19, "Elizabeth Williamson, “Software Piracy Rates", "article=1460&context=buffalolawreview.",
     ["https://www.wsj.com/articles/SB993403332336788539",
      "https://www.baltimoresun.com/2002/12/11/a-pirates-bazaar-in-moscow-offers-treasured-bootleg-media/",
      "https://www.jstor.org/stable/1192397?seq=7",
      "https://digitalcommons.law.buffalo.edu/cgi/viewcontent.cgi?article=1460&context=buffalolawreview"]),
    # "…-announced/Cisco advised…": the next sentence is glued to the URL
    (22, "“Partnership with Russia’s Largest School", "school-of-journalism-announced/",
     ["https://journalism.missouri.edu/2003/02/"
      "partnership-with-russias-largest-school-of-journalism-announced/"]),
    (23, "“Cisco in Europe,” Cisco Systems, 2004,", "assets/docs/solutions_europe.pdf",
     ["https://www.cisco.com/c/dam/global/fi_fi/assets/docs/solutions_europe.pdf"]),
    # "(later expanded to its now-current SORM-3 version…)" after the URL is the author's prose
    (29, "Andrei Soldatov and Irina Borogan, “In Ex-Soviet", "https://www.wired.com/2012/12/russias-hand/",
     ["https://www.wired.com/2012/12/russias-hand/"]),
    (30, "Amy Knight, Russia’s New Security Services", "ADA299951.pdf, 38.",
     ["https://apps.dtic.mil/sti/tr/pdf/ADA299951.pdf"]),
    # a book without URL ends at its page number; "In 2000, the government…" is prose
    (33, "Julian Cooper, “The Internet as an Agent", "(Helsinki: Finnish Literature Society, 2006), 294.",
     []),
    # "as well34.Jen Tracy": the full stop after the marker ends the prose sentence
    (34, "Jen Tracy, “New KGB Takes Internet by SORM,”", "new-kgb-takes-internet-sorm/.",
     ["https://www.motherjones.com/politics/2000/02/new-kgb-takes-internet-sorm/"]),
    # en dashes inside the URL; pages after it
    (35, "Andrei Soldatov and Irina Borogan, The New Nobility", "FOI-R–2970–SE, 27-28.",
     ["https://foi.se/rest-api/report/FOI-R–2970–SE"]),
    # marker followed by a space
    (40, "For a more detailed treatment of this evolving Kremlin thinking",
     "targeting-ukraine-through-washington/.",
     ["https://www.atlanticcouncil.org/in-depth-research-reports/issue-brief/reassessing-runet-russian-"
      "internet-isolation-and-implications-for-russian-cyber-behavior/",
      "https://www.atlanticcouncil.org/in-depth-research-reports/issue-brief/targeting-ukraine-through-washington/"]),
    # "…/1491981.the Russian government": a lower-case word glued after the full stop
    (47, "See, e.g., Jackie Kerr, The Russian Model", "https://www.osti.gov/biblio/1491981.",
     ["https://www.osti.gov/biblio/1491981"]),
    # no URL: ends before "—were resurrected"
    (48, "Information Security Doctrine of the Russian Federation, 2000, I.1.",
     "Federation, 2000, I.1.", []),
    # "…Doctrine.pdf.Russia’s 2015 National Security Strategy…"
    (51, "Military Doctrine of the Russian Federation, 2014. II. 13,", "2014-Military-Doctrine.pdf.",
     ["https://web.archive.org/web/20180501051233id_/https://www.offiziere.ch/wp-content/"
      "uploads-001/2015/08/Russia-s-2014-Military-Doctrine.pdf"]),
    (52, "National Security Strategy of the Russian Federation, 2015.", "russiamatters.org/node/21421.",
     ["https://www.russiamatters.org/node/21421"]),
    # "…/ukrainerussia/.Notably, beginning…"
    (56, "See, e.g., “Treasury Sanctions Russian Officials", "spi/ukrainerussia/.",
     ["https://home.treasury.gov/news/press-releases/jl23331",
      "https://obamawhitehouse.archives.gov/the-press-office/2014/03/17/fact-sheet-ukraine-related-sanctions",
      "https://2009-2017.state.gov/e/eb/tfs/spi/ukrainerussia/"]),
    # no URL, the next sentence glued: "…1036-1039.Despite the backing…"
    (58, "Quirin Schiermeier, “High hopes", "Nature 461, no. 7267 (2009): 1036-1039.", []),
    # "FOI-R—3197-SE. 37, …" does not end the citation; "140-142.Follow-on" does
    (59, "Fredrik Westerlund, Russian Nanotechnology R&D", "FOI-R—3197-SE. 37, 47-52, 140-142.", []),
    # page number then lower-case prose: "34. and corruption investigations…"
    (61, "Alexander Etkind, Russia Against Modernity", "(Hoboken: Wiley, 2023), 34.", []),
    # Cyrillic path kept as cited
    (65, "« Реестр Проектов НТИ », NTI 2035, July 28, 2023,", "НТИ_28.07.2023.pdf",
     ["https://nti2035.ru/documents/docs/projects/Реестр%20проектов%20НТИ_28.07.2023.pdf"]),
    # balanced parentheses in the URL; "(This goal, …)" after it is prose
    (67, "“NTI National Technology Initiative,” TA Advisor", "National_Technology_Initiative_(NTI)",
     ["https://tadviser.com/index.php/Company:National_Technology_Initiative_(NTI)"]),
    # a URL-less source after "; " following the last URL
    (118, "“Investigators uncover multi-million embezzlement", "Luhn, “Not Just Oil and Oligarchs.”",
     ["https://tass.com/russianpress/689632",
      "https://www.themoscowtimes.com/2015/07/27/"
      "former-executive-at-russian-innovations-hub-skolkovo-arrested-in-absentia-a48554"]),
    # "Cited in: …" after the last URL belongs to the footnote
    (132, "“Kremlin Spokesman Still Uses Telegram Despite Ban,”",
     "Cited in: Burgess, “This is why Russia’s attempts to block Telegram have failed.”",
     ["https://www.themoscowtimes.com/2018/04/26/kremlin-spokesman-still-uses-telegram-despite-ban-a61278",
      "https://tass.ru/obschestvo/5160494"]),
    (164, "Ibid., 14-15.", "Ibid., 14-15.", []),
    # "…/doc/5357614Equipment such as supercomputer boards…"
    (167, "« Тотального бегства иностранцев не наблюдаем", "https://www.kommersant.ru/doc/5357614",
     ["https://www.kommersant.ru/doc/5357614"]),
    # an unbalanced "(" inside a text fragment; ".;" after it is punctuation
    (197, "“Visa Suspends All Russia Operations,” Visa,", "suspension-of-russian-operations/.",
     ["https://usa.visa.com/about-visa/newsroom/press-releases.releaseId.18871.html#:~:text=SAN%20FRANCISCO"
      "%2D%2D(BUSINESS%20WIRE,transactions%20over%20the%20coming%20days",
      "https://www.mastercard.com/news/press/2022/march/mastercard-statement-on-suspension-of-russian-operations/"]),
    # "…-partnershipRussian dependence…" and "…/catalog/Most projects…"
    (206, "Philipp Ivanov, “Together and Apart", "conundrum-china-russia-partnership",
     ["https://asiasociety.org/policy-institute/together-and-apart-conundrum-china-russia-partnership"]),
    (207, "« Реестр проектов », NTI 2035, accessed", "https://nti2035.ru/catalog/",
     ["https://nti2035.ru/catalog/"]),
    # "2022;“210Putin instructs…": the opening quote stands before the marker
    (210, "“Putin instructs Cabinet to take steps", "https://tass.com/politics/1502743.",
     ["https://tass.com/politics/1502743"]),
    # "…/news/page/65Narratives aside…": 65 is the page, not a marker
    (213, "“Security Council Meeting,” The Kremlin, May 20, 2022,", "president/news/page/65",
     ["http://en.kremlin.ru/events/president/news/page/65"]),
    # a parenthesised quotation from the source belongs to the citation
    (214, "See, e.g., Gregory Arcuri, “Lessons from Russia’s",
     "(“…Putin’s regime has been at best indifferent—and at worst, hostile—towards the civilian and "
     "purely economic application of emerging technologies.”)",
     ["https://www.csis.org/blogs/perspectives-innovation/lessons-russias-dysfunctional-pre-war-innovation-economy"]),
    # an unclosed quote; the prose resumes with " —one where payments…"
    (216, "Eckel, “One App To Rule Them All", "Coming Soon To Russia’s Internet.", []),
    # "…32813744.htmlAuthor’s conversation…": a second note glued to the URL, same footnote
    (217, "See, e.g., Philipp Dietrich, “Banning YouTube in Russia",
     "russia-ban-youtube-shadayev/31854787.html.",
     ["https://dgap.org/en/research/publications/banning-youtube-russia-just-matter-time-0",
      "https://www.rferl.org/a/russia-youtube-blacklist-vloggers/32813744.html",
      "https://www.rferl.org/a/russia-ban-youtube-shadayev/31854787.html"]),
]


@needs_corpus
@pytest.mark.parametrize(("number", "starts", "ends", "cited"), TRICKY, ids=[str(t[0]) for t in TRICKY])
def test_report_tricky_footnotes(
    footnotes: dict[int, Citation], number: int, starts: str, ends: str, cited: list[str]
) -> None:
    c = footnotes[number]
    assert squash(c.text).startswith(starts)
    assert squash(c.text).endswith(ends)
    assert urls(c) == cited


@needs_corpus
def test_report_prose_never_leaks_into_citations(footnotes: dict[int, Citation]) -> None:
    leaks = {
        3: "Despite these clear", 5: "Others yet founded", 29: "later expanded", 33: "In 2000",
        48: "were resurrected", 58: "Despite the backing", 61: "corruption investigations",
        64: "There are 68 approved", 67: "This goal", 134: "There has also been",
        216: "one where payments", 217: "Capacity-building",
    }
    for number, prose in leaks.items():
        assert prose not in footnotes[number].text, number
    assert "Author’s conversation with an expert" in squash(footnotes[217].text)


@needs_corpus
def test_report_ibid_points_at_the_source_it_repeats(report: ParsedDocument) -> None:
    ibid = {c.number: c.ibid_of for c in report.citations if c.ibid_of is not None}
    assert ibid == {
        31: "30", 32: "30",  # "Ibid, 37." then "Ibid, 5.": both repeat footnote 30
        50: "49", 106: "105", 121: "120", 125: "124", 128: "127", 164: "163", 168: "167", 194: "193",
    }


@needs_corpus
@pytest.mark.parametrize(
    ("number", "title", "publisher", "published", "accessed"),
    [
        (1, "About 100,000 IT specialists left Russia in 2022 – digital development minister",
         "Interfax", day(2022, 12, 20), None),
        (6, "History of Yandex: 1997", "Yandex.com", None, day(2022, 11, 16)),
        (10, "“Проф-Медиа” приобретает 54.8% Rambler Media", "Rambler", day(2006, 10, 31), None),
        (12, "Chip distributors in Russia", "chipinfo.ru", day(2002, 6, 30), None),
        (45, "Russia and the ‘Orange Revolution’: Response, Rhetoric, Reality?", "Connections",
         CitedDate.from_iso("2005-06/2005-08"), None),  # "(Summer 2005)"
        (58, "High hopes for Russia’s nanotech firms: but an ambitious government initiative has been "
             "slow to incubate a domestic high-tech industry", "Nature", CitedDate.year(2009), None),
        (95, None, None, day(2019, 5, 28), None),  # "от 28 мая 2019 г."
        (210, "Putin instructs Cabinet to take steps to make Russia independent from foreign software",
         "TASS", day(2022, 9, 5), None),
        (224, "Russia Revises Yandex Partition Terms Over Founder’s Anti-War Stance – Reports",
         "The Moscow Times", day(2023, 10, 6), None),
        (225, "Бизнес Positive Technologies растет: компания увеличила объем отгрузок во втором "
              "квартале на 71% — до 3,3 млрд рублей", "PT Security", day(2023, 7, 25), None),
        (230, "A ‘Superior Relationship’: How the Invasion of Ukraine Has Deepened the Sino-Russian "
              "Partnership", "China Leadership Monitor", CitedDate.month(2023, 6), None),
    ],
)
def test_report_cited_fields(
    footnotes: dict[int, Citation], number: int, title: str | None, publisher: str | None,
    published: CitedDate | None, accessed: CitedDate | None,
) -> None:
    c = footnotes[number]
    assert (c.title, c.publisher, c.published, c.accessed) == (title, publisher, published, accessed)


def own_dates(c: Citation) -> list[tuple[str, str | None]]:
    """Each URL of a footnote with the publication date of its own work."""
    return [(u.cited, u.published.iso if u.published else None) for u in c.urls]


@needs_corpus
def test_report_footnote_37_is_dated_january_2023(footnotes: dict[int, Citation]) -> None:
    c = footnotes[37]
    assert "Carnegie Endowment for International Peace, January 2023," in squash(c.text)
    # "…Russian Federation, 2000, url1; …, January 2023, url2": the year alone is only a fallback
    assert c.published == CitedDate.month(2023, 1)
    assert own_dates(c) == [
        ("https://www.itu.int/en/ITU-D/Cybersecurity/Documents/National_Strategies_Repository/Russia_2000.pdf",
         "2000"),
        ("https://carnegieendowment.org/2023/01/04/no-water-s-edge-russia-s-information-war-and-regime-"
         "security-pub-88644", "2023-01"),
    ]


@needs_corpus
def test_report_partial_dates_of_several_works_in_one_footnote(footnotes: dict[int, Citation]) -> None:
    assert [d for _, d in own_dates(footnotes[4])] == ["1996-03/1996-08", "2012-09/2012-12", "2013"]
    assert [d for _, d in own_dates(footnotes[42])] == ["2020-01", "2013-12/2014-02"]  # "(Winter 2014)"
    # "(…, October 2023); FOI Memo 8236, url": the memo number and link belong to the report
    assert own_dates(footnotes[2])[0] == ("https://www.foi.se/rest-api/report/FOI%20Memo%208236", "2023-10")


def _whole_months(d: CitedDate) -> bool:
    """A month, months, a season or a year: not a day, not a range of days."""
    return d.start.day == 1 and (d.end + timedelta(days=1)).day == 1


@needs_corpus
def test_report_urls_with_month_season_or_year_dates(report: ParsedDocument) -> None:
    # The issue counted 38 cited URLs dated by a month, a season or a year only.
    source = [(c.number, u if u.own_fields else c) for c in report.citations for u in c.urls]
    dated = [(n, s.published) for n, s in source]
    partial = [(n, d) for n, d in dated if d is not None and _whole_months(d)]
    assert len(partial) == 38
    assert sorted({n for n, _ in partial if n is not None}) == [
        2, 4, 19, 23, 28, 30, 35, 37, 39, 40, 42, 45, 47, 51, 52, 64, 75, 87, 93, 104, 136, 137,
        142, 148, 162, 163, 175, 191, 202, 212, 219, 230,
    ]
    assert Counter(d.precision for _, d in partial) == {"month": 22, "year": 11, "period": 5}
    # the day ranges of footnotes 5 and 60 ("July 25-30, 2009") are periods of days
    assert [n for n, d in dated if d is not None and not d.is_day and not _whole_months(d)] == [5, 60]
    # no date at all: two YouTube talks ("Positive Hack Days 2023" is a name), "October 202)" (a typo)
    assert [n for n, s in source if s.published is None and s.accessed is None] == [186, 187, 206]


@needs_corpus
def test_report_is_dated_by_its_newest_citation(report: ParsedDocument) -> None:
    # a web page pasted as text states no date: footnote 80 (June 20, 2024) is the newest source
    assert (report.date, report.date_source) == (day(2024, 6, 20), "inferred")


# --- inline footnotes in small texts -------------------------------------------------------------


def test_inline_sample_document() -> None:
    doc = parse_document(DATA / "plaintext_inline.txt")
    assert doc.title == "A Pasted Web Report"
    assert [(c.label, c.line) for c in doc.citations] == [
        ("1", 3), ("2", 3), ("3", 5), ("4", 5), ("5", 5), ("6", 5),
    ]
    c1, c2, c3, c4, c5, c6 = doc.citations
    # "…/census/2019/.2“Follow-up": the 2 is the next marker, not part of the URL
    assert urls(c1) == ["https://stats.example.gov/census/2019/"]
    assert c1.text.endswith("census/2019/.")
    assert (c2.title, c2.accessed) == ("Follow-up Census", day(2021, 5, 1))
    # "in 20053Maria": 2005 and marker 3; the book ends at its page, before "and grew quickly"
    assert c3.text == "Maria Lind, The Programme Years (Boston: Harbor Books, 2011), 41."
    assert c3.publisher == "Harbor Books"
    assert (c4.text, c4.ibid_of) == ("Ibid., 55–57.", "3")
    assert urls(c5) == ["https://ministry.example.ru/review/Обзор_2022.pdf"]  # ".pdf.Next year"
    assert (c5.title, c5.published) == ("Review of the Programme (in Russian)", day(2022, 11, 16))
    assert (c6.text, c6.ibid_of) == ("Ibid.", "5")


def test_marker_digits_glued_to_the_end_of_a_url_go_to_the_marker() -> None:
    text = "One.1“A,” X, https://ex.org/a/2“B,” Y, https://ex.org/b/2.3“C,” Z, https://ex.org/c.\n"
    result = plaintext.parse(text)
    assert [c.label for c in result.citations] == ["1", "2", "3"]
    assert [urls(c) for c in result.citations] == [
        ["https://ex.org/a/"], ["https://ex.org/b/2"], ["https://ex.org/c"],
    ]


def test_numbers_in_prose_are_not_markers() -> None:
    text = (
        "In 2014 Putin spoke. Item 3 The budget had 12 Items and 5G Networks grew 4% in 2020.\n"
        "Figure 1 shows the trend.\n"
    )
    assert plaintext.parse(text).citations == []


def test_a_lone_number_without_url_is_not_a_footnote() -> None:
    assert plaintext.parse("The answer is in chapter.1See the index.\n").citations == []


def test_a_skipped_footnote_number_is_bridged_and_reported() -> None:
    text = (
        "A.1“One,” https://ex.org/1 B.2“Two,” https://ex.org/2 C.4“Four,” https://ex.org/4 "
        "D.5“Five,” https://ex.org/5\n"
    )
    result = plaintext.parse(text)
    assert [c.label for c in result.citations] == ["1", "2", "4", "5"]
    assert result.warnings == ["footnote 3 not found"]


def test_a_stray_number_after_the_last_footnote_does_not_extend_the_chain() -> None:
    text = "A.1“One,” https://ex.org/1 B.2“Two,” https://ex.org/2\n\nIn the year 4Quarters later.\n"
    result = plaintext.parse(text)
    assert [c.label for c in result.citations] == ["1", "2"]
    assert result.warnings == []


def test_ibid_chain_and_id_forms() -> None:
    text = (
        "A.1“One,” https://ex.org/1 B.2Ibid. C.3Ibid., p. 5. D.4Id. at 7. "
        "E.5“Five,” https://ex.org/5 F.6Ibidem.\n"
    )
    ibid = {c.label: c.ibid_of for c in plaintext.parse(text).citations}
    assert ibid == {"1": None, "2": "1", "3": "1", "4": "1", "5": None, "6": "5"}


def test_urls_in_prose_outside_footnotes_are_unlabelled_citations() -> None:
    doc = parse_document(DATA / "plaintext_no_notes.txt")
    [c] = doc.citations
    assert (c.key, c.label, c.line) == ("@https://club.example.org/agenda_(2024)", None, 4)
    assert urls(c) == ["https://club.example.org/agenda_(2024)"]
    assert c.text == "The agenda is at https://club.example.org/agenda_(2024). Next meeting: March 5, 2024."


# --- notes sections -----------------------------------------------------------------------------


def test_numbered_notes_section() -> None:
    doc = parse_document(DATA / "plaintext_endnotes.txt")
    assert [c.key for c in doc.citations] == [
        "@https://example.org/baltic-brief", "1", "2", "3", "4", "@https://janedoe.example.net/about",
    ]
    _, n1, n2, n3, n4, _ = doc.citations
    assert (n1.line, n2.line, n3.line, n4.line) == (11, 13, 15, 16)
    assert n1.text == (
        "Anna Berg, “Two Baltic Cables Cut Within Hours,” Nordic Wire, 10 October 2023, "
        "https://nordicwire.example.com/2023/10/10/baltic-cables-cut/."
    )
    assert (n1.title, n1.publisher, n1.published) == (
        "Two Baltic Cables Cut Within Hours", "Nordic Wire", day(2023, 10, 10),
    )
    # the URL broken across two lines is read whole
    assert urls(n2) == ["https://gasgrid.example.fi/news/timeline"]
    assert (n2.published, n2.accessed) == (day(2023, 10, 12), day(2023, 11, 14))
    assert (n3.ibid_of, n4.ibid_of) == ("2", "2")
    assert n4.text.endswith("(Oslo: Fjord Press, 2014), 88.")
    assert doc.warnings == ()


def test_bracketed_notes_and_body_markers() -> None:
    doc = parse_document(DATA / "plaintext_brackets.txt")
    assert [c.label for c in doc.citations] == ["1", "2", "3", "4"]
    n1, n2, n3, n4 = doc.citations
    assert urls(n1) == ["https://civictech.example.org/open-budgets_(2022)"]
    assert (n1.title, n1.published) == ("Open Budgets in Practice", day(2022, 11, 16))
    assert (n2.title, n2.publisher) == ("Открытые данные Москвы", "Правительство Москвы")
    assert (n2.published, n2.accessed) == (day(2022, 11, 16), day(2022, 12, 1))
    assert n3.urls[0].link.archive == "wayback"
    assert (n4.title, n4.accessed) == ("Open data", day(2023, 1, 15))
    assert doc.warnings == ("marker [5] has no note",)


def test_caret_markers_and_bare_numbered_notes() -> None:
    doc = parse_document(DATA / "plaintext_caret.txt")
    assert [(c.label, c.line) for c in doc.citations] == [("1", 8), ("2", 9), ("3", 10), ("4", 12)]
    n1, n2, n3, n4 = doc.citations
    assert n1.urls == () and n1.publisher == "Town Press"
    assert urls(n2) == ["http://gazette.example.com/2004/03/03/online.html"]
    # a wrapped note: "last accessed Jan. 5, 2024," then the URL on the next line
    assert n3.text == "Catalogue, last accessed Jan. 5, 2024, https://archive.example.org/catalogue?page=1&size=50."
    assert n3.accessed == day(2024, 1, 5)
    assert urls(n4) == ["https://пример.рф/партнеры/"]
    assert n4.urls[0].link.url == "https://xn--e1afmkfd.xn--p1ai/%D0%BF%D0%B0%D1%80%D1%82%D0%BD%D0%B5%D1%80%D1%8B/"


def test_a_numbered_list_under_a_heading_that_is_not_notes() -> None:
    text = "Sources\n\n2019 was a good year.\n\nThe end.1“One,” https://ex.org/1\n"
    result = plaintext.parse(text)
    assert [(c.label, urls(c)) for c in result.citations] == [("1", ["https://ex.org/1"])]


def test_notes_section_ends_at_the_next_paragraph() -> None:
    text = (
        "Body.[1]\n\nEndnotes:\n[1] “One,” https://ex.org/1\n[2] Two, wrapped\n    over a line.\n\n"
        "Appendix\n3 tables follow, https://ex.org/appendix\n"
    )
    result = plaintext.parse(text)
    assert [(c.key, c.text) for c in result.citations] == [
        ("1", "“One,” https://ex.org/1"),
        ("2", "Two, wrapped over a line."),
        ("@https://ex.org/appendix", "3 tables follow, https://ex.org/appendix"),
    ]
