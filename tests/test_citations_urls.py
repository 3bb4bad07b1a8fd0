"""Reading URLs in prose the way a careful human does (citations.urls.find_urls)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from citations.hosts import host_of
from citations.urls import find_urls, make_link, normalize_url


def found(text: str) -> list[str]:
    return [m.url for m in find_urls(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # trailing sentence punctuation and closing quotes are not part of the URL
        ("See https://ex.org/a.", "https://ex.org/a"),
        ("at https://ex.org/a, and", "https://ex.org/a"),
        ("https://ex.org/a; next", "https://ex.org/a"),
        ("https://ex.org/a: the", "https://ex.org/a"),
        ("“https://ex.org/a”", "https://ex.org/a"),
        ("'https://ex.org/a'", "https://ex.org/a"),
        ("https://ex.org/a?!", "https://ex.org/a"),
        ("https://home.treasury.gov/news/press-releases/jy0127;, “Official", "https://home.treasury.gov/news/press-releases/jy0127"),
        # brackets: balanced ones belong to the URL, unbalanced closing ones do not
        ("(see https://ex.org/a)", "https://ex.org/a"),
        ("(see https://en.wikipedia.org/wiki/Foo_(bar)).", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("https://tadviser.com/index.php/Company:National_Technology_Initiative_(NTI) (This goal",
         "https://tadviser.com/index.php/Company:National_Technology_Initiative_(NTI)"),
        ("[https://ex.org/a]", "https://ex.org/a"),
        ("<https://ex.org/a>", "https://ex.org/a"),
        ("https://ex.org/p#:~:text=SAN%20FRANCISCO%2D%2D(BUSINESS%20WIRE,days.;",
         "https://ex.org/p#:~:text=SAN%20FRANCISCO%2D%2D(BUSINESS%20WIRE,days"),
        # whitespace of any kind ends a URL (the corpus is full of no-break spaces)
        ("https://ex.org/a\u00a0next", "https://ex.org/a"),
        ("https://ex.org/a\u202fnext", "https://ex.org/a"),
        ("https://ex.org/a\u200bnext", "https://ex.org/a"),
        # en dashes and Cyrillic inside a URL are kept; an IDN host is kept as cited
        ("https://foi.se/rest-api/report/FOI-R–2970–SE, 27-28.", "https://foi.se/rest-api/report/FOI-R–2970–SE"),
        ("https://nti2035.ru/docs/Реестр%20проектов%20НТИ_28.07.2023.pdf AutoNet",
         "https://nti2035.ru/docs/Реестр%20проектов%20НТИ_28.07.2023.pdf"),
        ("https://президент.рф/news/1,", "https://президент.рф/news/1"),
        ("https://ex.org/a;jsessionid=AF0?sequence=1 Some", "https://ex.org/a;jsessionid=AF0?sequence=1"),
        ("https://ex.org/a/#; next", "https://ex.org/a/#"),
        ("visit www.example.com/page.", "www.example.com/page"),
        # the next sentence glued to the URL (copy-paste lost the space)
        ("…/2015/08/Russia-s-2014-Military-Doctrine.pdf.Russia’s 2015 National",
         "…/2015/08/Russia-s-2014-Military-Doctrine.pdf"),
        ("https://www.russiamatters.org/node/21421.The Kremlin’s", "https://www.russiamatters.org/node/21421"),
        ("https://ex.com/2014/08/08/world/europe/russia-sanctions.html.At a meeting",
         "https://ex.com/2014/08/08/world/europe/russia-sanctions.html"),
        ("https://2009-2017.state.gov/e/eb/tfs/spi/ukrainerussia/.Notably, beginning",
         "https://2009-2017.state.gov/e/eb/tfs/spi/ukrainerussia/"),
        ("https://www.osti.gov/biblio/1491981.the Russian government", "https://www.osti.gov/biblio/1491981"),
        ("https://www.cisco.com/c/dam/docs/solutions_europe.pdfRussian cell provider",
         "https://www.cisco.com/c/dam/docs/solutions_europe.pdf"),
        ("https://ex.org/a/32813744.htmlAuthor’s conversation", "https://ex.org/a/32813744.html"),
        ("https://www.kommersant.ru/doc/5357614Equipment such as", "https://www.kommersant.ru/doc/5357614"),
        ("http://en.kremlin.ru/events/president/news/page/65Narratives aside",
         "http://en.kremlin.ru/events/president/news/page/65"),
        ("https://asiasociety.org/policy-institute/together-and-apart-conundrum-china-russia-partnership"
         "Russian dependence",
         "https://asiasociety.org/policy-institute/together-and-apart-conundrum-china-russia-partnership"),
        ("https://journalism.missouri.edu/2003/02/partnership-with-russias-largest-school-of-journalism-"
         "announced/Cisco advised",
         "https://journalism.missouri.edu/2003/02/partnership-with-russias-largest-school-of-journalism-announced/"),
        ("https://interfax.com/newsroom/top-stories/95329/The state banned",
         "https://interfax.com/newsroom/top-stories/95329/"),
        ("https://nti2035.ru/catalog/Most projects are", "https://nti2035.ru/catalog/"),
        # … but a path that plausibly ends in a capitalised word is left alone
        ("https://en.wikipedia.org/wiki/Moscow and more", "https://en.wikipedia.org/wiki/Moscow"),
        ("https://wiki.debian.org/Derivatives/Census/AstraLinux It has", "https://wiki.debian.org/Derivatives/Census/AstraLinux"),
        ("https://ex.com/Report.Pdf is", "https://ex.com/Report.Pdf"),
        ("https://www.nuget.org/packages/Microsoft.Extensions.Http now", "https://www.nuget.org/packages/Microsoft.Extensions.Http"),
        ("https://ex.org/a/b?q=Moscow and", "https://ex.org/a/b?q=Moscow"),
        ("https://www.youtube.com/watch?v=rxuzvuQrbC0.", "https://www.youtube.com/watch?v=rxuzvuQrbC0"),
        ("https://example.com.The next", "https://example.com.The"),  # host names are never cut
        # a footnote number glued between a URL and the next citation's opening quote
        ("https://interfax.com/newsroom/top-stories/86316/.2“Title", "https://interfax.com/newsroom/top-stories/86316/"),
        ("https://ex.org/a/v1.2«Заголовок", "https://ex.org/a/v1"),
        ('"see https://ex.org/v1.2"', "https://ex.org/v1.2"),  # a straight quote may close
    ],
)
def test_find_urls_reads_like_a_human(text: str, expected: str) -> None:
    text = text.replace("…/", "https://www.offiziere.ch/wp-content/uploads-001/")
    expected = expected.replace("…/", "https://www.offiziere.ch/wp-content/uploads-001/")
    assert found(text) == [expected]


def test_spans_point_into_the_text() -> None:
    text = "A, https://a.org/x; B, “T,” https://b.org/y.The c and www.c.org."
    matches = find_urls(text)
    assert [text[m.start : m.end] for m in matches] == [m.url for m in matches]
    assert [m.url for m in matches] == ["https://a.org/x", "https://b.org/y", "www.c.org"]


def test_wayback_url_with_a_nested_url_is_one_url() -> None:
    text = "https://web.archive.org/web/20061213022333/http://www.rambler.ru/db/msg.html?mid=9&s=2; next"
    assert found(text) == ["https://web.archive.org/web/20061213022333/http://www.rambler.ru/db/msg.html?mid=9&s=2"]


def test_no_url_without_a_host() -> None:
    assert found("the prefix https:// alone, or http://. here") == []
    assert found("email me at someone@www.example.com") == []


def test_normalisation_is_unchanged_by_the_reading_rules() -> None:
    assert normalize_url("https://foi.se/rest-api/report/FOI-R–2970–SE") == (
        "https://foi.se/rest-api/report/FOI-R%E2%80%932970%E2%80%93SE"
    )
    assert normalize_url("HTTP://Президент.РФ:80/a b#frag") == "http://xn--d1abbgf6aiiy.xn--p1ai/a%20b"
    link = make_link("https://web.archive.org/web/20180501051233id_/https://www.offiziere.ch/a.pdf")
    assert (link.archive, link.original_url) == ("wayback", "https://www.offiziere.ch/a.pdf")


_SHAPES = [
    "http://Example.ORG/a/b?c=d#e",
    "https://example.org:8443/path",
    "https://example.org?query=only",
    "https://example.org#fragment",
    "http://example.org",
    "http://user:pass@example.org:81/x",
    "http://[2001:DB8::1]:8080/v6",
    "http://[::1]/",
    "http:///no-host",
    "HTTPS://WWW.EXAMPLE.ORG/",
    "http://xn--bcher-kva.example/buch",
    "//example.org/scheme-relative",
    "mailto:someone@example.org",
    "not a url",
]


@pytest.mark.parametrize("url", _SHAPES)
def test_host_of_answers_as_urlsplit_does(url: str) -> None:
    assert host_of(url) == (urlsplit(url).hostname or "").lower()


_NEAR_NORMAL = [
    "http://a.b/", "https://example.org:443/x", "http://example.org:80/x", "http://example.org:8080/x",
    "http://x.org:080/", "http://x.org:65535/", "http://x.org:65536/", "http://x.org:0/",
    "https://x.org:99999/p", "http://x.org/a%20b?q=1&r=%zz", "http://x.org/a#f", "http://x.org",
    "http://X.org/", "HTTP://x.org/", "http://x.org./", "http://-x.org/", "http://x.org/?a?b",
    "http://x.org/p?q#", "http://x.org/ü", "http://u@x.org/", "http://x.org/a b", " http://x.org/",
    "http://127.0.1.5:4000/ok/12", "https://bücher.example/x", "http://[::1]:8080/",
]


def _by_the_long_way(url: str) -> str:
    import re

    import citations.urls as urls

    fast, urls._ALREADY_NORMAL = urls._ALREADY_NORMAL, re.compile(r"(?!)")
    try:
        return normalize_url(url)
    except ValueError as exc:
        return f"invalid: {type(exc).__name__}"
    finally:
        urls._ALREADY_NORMAL = fast


@pytest.mark.parametrize("url", _NEAR_NORMAL)
def test_the_shortcut_for_normal_urls_answers_as_the_long_way(url: str) -> None:
    try:
        quick = normalize_url(url)
    except ValueError as exc:
        quick = f"invalid: {type(exc).__name__}"
    assert quick == _by_the_long_way(url)
    if not quick.startswith("invalid"):
        assert normalize_url(quick) == quick  # what it gives is normal, and taken as it is
