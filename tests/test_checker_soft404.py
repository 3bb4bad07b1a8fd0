"""Soft-404 evidence: "not found" titles, URL shapes, and the random-path probe. No network."""

from __future__ import annotations

import random
import re
from urllib.parse import urlsplit

import pytest

from checker.judge.soft404 import (
    PROBE_TOKEN_CHARS,
    ProbeCache,
    SoftProbe,
    is_error_url,
    is_home_url,
    looks_like_probe,
    normalize_text,
    random_probe_url,
    same_page,
    says_not_found,
    split_title,
)
from checker.models import Observation

# --- titles that say "not found" ----------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        # English, with the usual decorations
        "Page not found",
        "404",
        "404 Not Found",
        "Not Found",
        "Error 404 (Not Found)!!1",
        "404 - Page not found | Example News",
        "Page Not Found – The Example Times",
        "Oops! That page can’t be found. – My Blog",
        "Sorry, the page you are looking for could not be found",
        "We couldn't find that page",
        "404 Error",
        "HTTP 404",
        "The resource cannot be found.",
        "404 - File or directory not found.",
        "This page isn't available",
        "Nothing found",
        # other languages of the web
        "Страница не найдена",
        "Ошибка 404. Страница не найдена",
        "404 — Страница не найдена | Минфин",
        "Сторінку не знайдено",
        "页面不存在",
        "抱歉，您访问的页面不存在！",
        "页面不存在_百度",
        "找不到网页",
        "找不到網頁",
        "頁面不存在",
        "ページが見つかりません",
        "お探しのページは見つかりませんでした",
        "페이지를 찾을 수 없습니다",
        "Página no encontrada",
        "Error 404: página no encontrada",
        "Página não encontrada",
        "Page introuvable",
        "Erreur 404 - Page non trouvée",
        "Seite nicht gefunden",
        "Fehler 404: Seite nicht gefunden",
        "Pagina non trovata",
        "Pagina niet gevonden",
        "Nie znaleziono strony",
        "Sayfa bulunamadı",
        "SAYFA BULUNAMADI",
        "الصفحة غير موجودة",
        "صفحه پیدا نشد",
        "خطای ۴۰۴",
        "पृष्ठ नहीं मिला",
        "Halaman tidak ditemukan",
        "Không tìm thấy trang",
        "Stránka nenalezena",
        "Sidan hittades inte",
        "ไม่พบหน้า",
        "Η σελίδα δεν βρέθηκε",
        "הדף לא נמצא",
    ],
)
def test_titles_that_say_not_found(title: str) -> None:
    assert says_not_found(title)


@pytest.mark.parametrize(
    "title",
    [
        None,
        "",
        "Annual report 2019",
        "Lost and Found",
        "Found: the missing link in human evolution",
        "What is a 404 error?",
        "How to fix 404 errors in WordPress",
        "Page not found errors explained: an SEO guide",
        "Why the Higgs was not found at LEP",
        "The error of our ways",
        "Error",
        "Nothing found in the archives of the ministry about the 1953 report",
        "Закон о связи: что не найдено в проекте",
        "如何解决网站页面不存在的问题以及搜索引擎优化建议汇总",
        "Gone Girl",
    ],
)
def test_titles_that_do_not_say_not_found(title: str | None) -> None:
    assert not says_not_found(title)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Oops! That page can’t be found.", "oops that page cant be found"),
        ("Página  NO encontrada", "pagina no encontrada"),
        ("SAYFA BULUNAMADI", "sayfa bulunamadi"),
        ("خطای ۴۰۴", "خطای 404"),
        ("页面不存在_百度", "页面不存在 百度"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("title", "parts"),
    [
        ("Annual report | Ministry", ["Annual report", "Ministry"]),
        ("404 - Page not found", ["404", "Page not found"]),
        ("Error 404 (Not Found)", ["Error 404", "Not Found"]),
        ("Jean-Luc Picard", ["Jean-Luc Picard"]),
        ("页面不存在_百度", ["页面不存在", "百度"]),
    ],
)
def test_split_title(title: str, parts: list[str]) -> None:
    assert list(split_title(title)) == parts


# --- URL shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/", True),
        ("https://example.org", True),
        ("https://example.org/index.html", True),
        ("https://example.org/index.php", True),
        ("https://example.org/home", True),
        ("https://example.org/home/", True),
        ("https://example.org/en/", True),
        ("https://example.org/en-us/default.aspx", True),
        ("https://example.org/?lang=en", True),
        ("https://example.org/?utm_source=feed", True),
        ("https://example.org/reports/2019.pdf", False),
        ("https://example.org/?p=123", False),
        ("https://example.org/index.php?title=Plan", False),
        ("https://example.org/w/index.php", False),
        ("https://example.org/about", False),
    ],
)
def test_is_home_url(url: str, expected: bool) -> None:
    assert is_home_url(url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/404", True),
        ("https://example.org/404.html", True),
        ("https://example.org/errors/404", True),
        ("https://example.org/not-found", True),
        ("https://example.org/notfound.aspx", True),
        ("https://example.org/pagenotfound", True),
        ("https://example.org/page-not-found/", True),
        ("https://example.org/error", True),
        ("https://example.org/Error.aspx?aspxerrorpath=/old/page.aspx", True),
        ("https://example.org/?error=404", True),
        ("https://example.org/?404;https://example.org/old", True),
        ("https://example.org/search", True),
        ("https://example.org/search?q=plan", True),
        ("https://example.org/?s=plan+to+reduce", True),
        ("https://example.org/index.php?q=plan", True),
        ("https://example.org/?q=node/123", False),
        ("https://example.org/blog/handling-errors-in-python", False),
        ("https://example.org/reports/404-report-on-housing", False),
        ("https://example.org/research/searching-for-dark-matter", False),
        ("https://example.org/reports/2019.pdf", False),
    ],
)
def test_is_error_url(url: str, expected: bool) -> None:
    assert is_error_url(url) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("http://example.org/a", "https://example.org/a", True),
        ("https://example.org/a", "https://www.example.org/a", True),
        ("https://example.org/a", "https://example.org/a/", True),
        ("https://Example.org:443/a", "https://example.org/a", True),
        ("https://example.org/dir/", "https://example.org/dir/index.html", True),
        ("https://example.org/%D0%BF%D0%BB%D0%B0%D0%BD", "https://example.org/план", True),
        ("https://example.org/a#top", "https://example.org/a", True),
        ("https://example.org/a", "https://example.org/b", False),
        ("https://example.org/a", "https://example.net/a", False),
        ("https://example.org/a?id=1", "https://example.org/a?id=2", False),
        ("https://example.org/A", "https://example.org/a", False),
    ],
)
def test_same_page(a: str, b: str, expected: bool) -> None:
    assert same_page(a, b) is expected


# --- the probe URL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/r/2019/plan.pdf?x=1#p2", "https://example.org/r/2019/TOKEN.pdf"),
        ("https://example.org/news/story-123", "https://example.org/news/TOKEN"),
        ("https://example.org/news/2020/", "https://example.org/news/TOKEN/"),
        ("https://example.org/", "https://example.org/TOKEN"),
        ("https://example.org", "https://example.org/TOKEN"),
        ("http://example.org:8080/a/page.html", "http://example.org:8080/a/TOKEN.html"),
        ("https://example.org/v1.2/doc", "https://example.org/v1.2/TOKEN"),
    ],
)
def test_random_probe_url_mirrors_the_shape(url: str, expected: str) -> None:
    probe = random_probe_url(url, random.Random(1))
    token = rf"citewatch-[a-z0-9]{{{PROBE_TOKEN_CHARS}}}"
    assert re.fullmatch(re.escape(expected).replace("TOKEN", token), probe), probe


def test_random_probe_url_is_random_and_reproducible() -> None:
    url = "https://example.org/a/b"
    assert random_probe_url(url, random.Random(7)) == random_probe_url(url, random.Random(7))
    assert random_probe_url(url, random.Random(7)) != random_probe_url(url, random.Random(8))
    assert random_probe_url(url) != random_probe_url(url)


# --- comparing a page with the probe ------------------------------------------------------------

_SOFT_BODY = "<html><head><title>Example</title></head><body>" + "Menu Home About " * 40 + (
    "Sorry, we could not find what you asked for.</body></html>"
)
_ARTICLE_BODY = "<html><head><title>Plan</title></head><body>" + "Menu Home About " * 40 + (
    "The ministry published its plan to reduce emissions by 2030 …" * 10 + "</body></html>"
)
_PAGE = "https://example.org/news/plan"
_PROBE_URL = "https://example.org/news/citewatch-xyz"


def _obs(**kw: object) -> Observation:
    fields: dict[str, object] = {"url": _PAGE, "final_url": _PAGE, "status": 200}
    fields.update(kw)
    return Observation(**fields)  # type: ignore[arg-type]


def _probe(**kw: object) -> SoftProbe:
    fields: dict[str, object] = {"url": _PROBE_URL, "status": 200, "final_url": _PROBE_URL}
    fields.update(kw)
    return SoftProbe(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("obs", "probe", "expected"),
    [
        pytest.param(_obs(title="Example", body_sample=_SOFT_BODY),
                     _probe(title="Example", body_sample=_SOFT_BODY.replace("asked", "wanted")),
                     True, id="same-title-same-body"),
        pytest.param(_obs(title="Example", body_sample="Sorry, /news/plan was not found."),
                     _probe(title="Example",
                            body_sample="Sorry, /news/citewatch-xyz was not found."),
                     True, id="error-page-echoing-the-path"),
        pytest.param(_obs(title=None, body_sample=_SOFT_BODY),
                     _probe(title=None, body_sample=_SOFT_BODY),
                     True, id="untitled-identical-body"),
        pytest.param(_obs(final_url="https://example.org/oops", title="Plan"),
                     _probe(final_url="https://example.org/oops", title="Oops"),
                     True, id="both-redirected-to-the-same-page"),
        pytest.param(_obs(title="Plan to reduce emissions", body_sample=_ARTICLE_BODY),
                     _probe(title="Example", body_sample=_SOFT_BODY), False, id="real-article"),
        pytest.param(_obs(title="Plan to reduce emissions", body_sample=_SOFT_BODY),
                     _probe(title="Example", body_sample=_SOFT_BODY),
                     False, id="titles-differ-shared-boilerplate"),
        pytest.param(_obs(title="Example", body_sample=_ARTICLE_BODY),
                     _probe(title="Example", body_sample=_SOFT_BODY),
                     False, id="same-site-title-different-body"),
        pytest.param(_obs(title="Example", body_sample=""),
                     _probe(title="Example", body_sample=""), False, id="no-bodies-title-alone"),
        pytest.param(_obs(title="Example", body_sample=_SOFT_BODY),
                     _probe(status=404, title="Example", body_sample=_SOFT_BODY),
                     False, id="honest-host-404"),
        pytest.param(_obs(title="Example", body_sample=_SOFT_BODY),
                     _probe(status=None, title="Example", body_sample=_SOFT_BODY),
                     False, id="probe-failed"),
        pytest.param(_obs(title="Example", body_sample=_SOFT_BODY), None, False, id="no-probe"),
        pytest.param(_obs(url="https://example.org/", final_url="https://example.org/",
                          title="Example", body_sample=_SOFT_BODY),
                     _probe(final_url="https://example.org/", title="Example",
                            body_sample=_SOFT_BODY),
                     False, id="home-page-is-never-a-soft-404"),
        pytest.param(_obs(status=404, title="Example", body_sample=_SOFT_BODY),
                     _probe(title="Example", body_sample=_SOFT_BODY), False, id="page-not-2xx"),
        pytest.param(_obs(final_url="https://example.org/news/", title="News"),
                     _probe(final_url=_PROBE_URL, title="Example"),
                     False, id="only-the-page-was-redirected"),
    ],
)
def test_looks_like_probe(obs: Observation, probe: SoftProbe | None, expected: bool) -> None:
    assert looks_like_probe(obs, probe) is expected


def test_soft_probe_from_observation() -> None:
    obs = Observation(url=_PROBE_URL, final_url="https://example.org/", status=200,
                      title="Example", body_sample="<html>")
    assert SoftProbe.from_observation(obs) == SoftProbe(
        url=_PROBE_URL, status=200, final_url="https://example.org/", title="Example",
        body_sample="<html>",
    )


def test_probe_cache_is_per_scheme_and_host() -> None:
    cache = ProbeCache()
    probe = _probe(title="Example")
    cache.put("https://Example.org/a/b", probe)
    assert cache.get("https://example.org/other") is probe
    assert "https://example.org/x" in cache
    assert cache.get("http://example.org/a") is None
    assert cache.get("https://sub.example.org/a") is None


@pytest.mark.parametrize(
    "url",
    ["https://Example.org:8443/a?b#c", "http://example.org?x=1", "HTTP://EXAMPLE.ORG", "http://u@h.example/",
     "http://[::1]:8080/x", "//example.org/relative", "not a url"],
)
def test_the_probe_key_is_the_scheme_and_netloc_urlsplit_finds(url: str) -> None:
    parts = urlsplit(url)
    assert ProbeCache.key(url) == f"{parts.scheme.casefold()}://{parts.netloc.casefold()}"


def test_phrases_written_without_spaces_are_never_ascii() -> None:
    # _part_says_not_found skips them for an ASCII title: none of them could be in it.
    from checker.judge.soft404 import _UNSPACED_ONLY

    assert _UNSPACED_ONLY
    assert all(not phrase.isascii() for phrase, _ in _UNSPACED_ONLY)
