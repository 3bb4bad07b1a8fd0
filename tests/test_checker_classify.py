"""classify(): every rule is a row. No network, no clock: observations are built by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from checker.judge.classify import Judgement, classify, is_excluded
from checker.judge.soft404 import SoftProbe
from checker.models import FailureKind, Hop, Observation, Verdict
from checker.settings import CheckSettings

URL = "https://example.org/news/2020/plan-to-reduce-emissions"
TITLE = "Ministry publishes plan to reduce emissions by 2030"
CITED = ("Ministry publishes plan to reduce emissions by 2030",)


def observed(**kw: object) -> Observation:
    """A plain live HTML page at URL, with the given fields changed."""
    fields: dict[str, object] = {
        "url": URL,
        "final_url": kw.get("url", URL),
        "status": 200,
        "content_type": "text/html; charset=utf-8",
        "title": TITLE,
    }
    fields.update(kw)
    return Observation(**fields)  # type: ignore[arg-type]


def redirected(*hops: tuple[int, str], final: int = 200, **kw: object) -> Observation:
    """URL answered with the redirect statuses given, hop by hop, ending at the last URL."""
    urls = [URL, *(target for _, target in hops)]
    chain = tuple(Hop(status, url) for (status, _), url in zip(hops, urls, strict=False))
    chain += (Hop(final, urls[-1]),)
    return observed(final_url=urls[-1], status=final, chain=chain, **kw)


def failed(kind: FailureKind, **kw: object) -> Observation:
    fields: dict[str, object] = {"status": None, "final_url": None, "title": None, "error": "boom"}
    fields.update(kw)
    return observed(failure=kind, **fields)


# --- status codes and failures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Verdict.ALIVE),
        (203, Verdict.ALIVE),
        (204, Verdict.ALIVE),
        (404, Verdict.DEAD),
        (410, Verdict.DEAD),
        (401, Verdict.BLOCKED),
        (403, Verdict.BLOCKED),
        (407, Verdict.BLOCKED),
        (429, Verdict.BLOCKED),
        (451, Verdict.BLOCKED),
        (400, Verdict.BLOCKED),   # answers our request, not the page: never dead
        (405, Verdict.BLOCKED),
        (406, Verdict.BLOCKED),   # mod_security's answer to robots
        (418, Verdict.BLOCKED),
        (422, Verdict.BLOCKED),
        (408, Verdict.UNREACHABLE),
        (425, Verdict.UNREACHABLE),
        (500, Verdict.UNREACHABLE),
        (502, Verdict.UNREACHABLE),
        (503, Verdict.UNREACHABLE),
        (504, Verdict.UNREACHABLE),
        (520, Verdict.UNREACHABLE),
        (300, Verdict.ALIVE),
        (304, Verdict.ALIVE),
        (302, Verdict.UNREACHABLE),  # a redirect that was not followed: no Location
        (103, Verdict.UNREACHABLE),
        (999, Verdict.BLOCKED),  # LinkedIn's "no robots" code: a refusal, not an outage
        (799, Verdict.UNREACHABLE),  # other non-standard codes say nothing
    ],
)
def test_status_codes(status: int, expected: Verdict) -> None:
    assert classify(observed(status=status)).verdict is expected


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (FailureKind.NXDOMAIN, Verdict.DEAD),
        (FailureKind.REFUSED, Verdict.DEAD),
        (FailureKind.DNS, Verdict.UNREACHABLE),
        (FailureKind.CONNECT, Verdict.UNREACHABLE),
        (FailureKind.RESET, Verdict.UNREACHABLE),
        (FailureKind.TLS, Verdict.UNREACHABLE),
        (FailureKind.TIMEOUT, Verdict.UNREACHABLE),
        (FailureKind.PROTOCOL, Verdict.UNREACHABLE),
        (FailureKind.DECODING, Verdict.UNREACHABLE),
        (FailureKind.TOO_MANY_REDIRECTS, Verdict.UNREACHABLE),
        (FailureKind.REDIRECT_LOOP, Verdict.UNREACHABLE),
        (FailureKind.INVALID_URL, Verdict.INVALID),
        (FailureKind.FORBIDDEN_ADDRESS, Verdict.SKIPPED),
    ],
)
def test_failures_without_an_answer(kind: FailureKind, expected: Verdict) -> None:
    judgement = classify(failed(kind))
    assert judgement.verdict is expected
    assert judgement.reason.endswith(": boom")


@pytest.mark.parametrize(
    ("obs", "expected"),
    [
        pytest.param(observed(status=301, failure=FailureKind.REDIRECT_LOOP), Verdict.UNREACHABLE,
                     id="loop-with-a-status"),
        pytest.param(observed(status=302, failure=FailureKind.TOO_MANY_REDIRECTS),
                     Verdict.UNREACHABLE, id="too-many-redirects-with-a-status"),
        pytest.param(observed(status=None, final_url=None), Verdict.UNREACHABLE,
                     id="nothing-recorded"),
        pytest.param(observed(url="ftp://example.org/file.txt"), Verdict.INVALID, id="ftp"),
        pytest.param(observed(url="mailto:someone@example.org"), Verdict.INVALID, id="mailto"),
        pytest.param(observed(url="https://"), Verdict.INVALID, id="no-host"),
        pytest.param(observed(status=200, failure=FailureKind.TIMEOUT, title=None), Verdict.ALIVE,
                     id="answered-then-body-timed-out"),
        pytest.param(observed(status=503, failure=FailureKind.TIMEOUT), Verdict.UNREACHABLE,
                     id="5xx-then-timeout"),
    ],
)
def test_edge_observations(obs: Observation, expected: Verdict) -> None:
    assert classify(obs, cited_titles=CITED).verdict is expected


def test_retried_status_says_how_many_attempts() -> None:
    judgement = classify(observed(status=429, attempts=3))
    assert judgement == Judgement(
        Verdict.BLOCKED, "HTTP 429 after 3 attempts: the site refuses automated checks"
    )
    assert classify(observed(status=503, attempts=3)).reason == "HTTP 503 after 3 attempts"


def test_reasons_are_for_humans() -> None:
    assert classify(observed(status=404)) == Judgement(Verdict.DEAD, "HTTP 404")
    assert classify(failed(FailureKind.NXDOMAIN, error="")).reason == (
        "the domain no longer resolves (NXDOMAIN)"
    )
    assert classify(observed()) == Judgement(Verdict.ALIVE, "HTTP 200")


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obs", "settings", "expected"),
    [
        pytest.param(observed(status=403), CheckSettings(accepted_status=frozenset({403})),
                     Verdict.ALIVE, id="accepted-403"),
        pytest.param(observed(status=404), CheckSettings(accepted_status=frozenset({404})),
                     Verdict.ALIVE, id="accepted-404"),
        pytest.param(observed(status=999), CheckSettings(accepted_status=frozenset({999})),
                     Verdict.ALIVE, id="accepted-999"),
        pytest.param(observed(status=403), CheckSettings(accepted_status=frozenset({429})),
                     Verdict.BLOCKED, id="other-code-accepted"),
        pytest.param(observed(status=404), CheckSettings(exclude=(r"example\.org/news/",)),
                     Verdict.SKIPPED, id="excluded"),
        pytest.param(failed(FailureKind.TIMEOUT), CheckSettings(exclude=(r"^https://example",)),
                     Verdict.SKIPPED, id="excluded-before-failure"),
        pytest.param(observed(url="ftp://example.org/x"), CheckSettings(exclude=(r"^ftp:",)),
                     Verdict.SKIPPED, id="excluded-before-invalid"),
        pytest.param(observed(status=404), CheckSettings(exclude=(r"example\.net",)),
                     Verdict.DEAD, id="not-excluded"),
    ],
)
def test_settings(obs: Observation, settings: CheckSettings, expected: Verdict) -> None:
    assert classify(obs, settings=settings).verdict is expected


@pytest.mark.parametrize(
    ("url", "patterns", "expected"),
    [
        ("https://example.org/a", (), False),
        ("https://example.org/a", (r"example\.org",), True),
        ("https://example.org/a", (r"^https://twitter\.com/", r"/a$"), True),
        ("https://example.org/a", (r"^http://",), False),
    ],
)
def test_is_excluded(url: str, patterns: tuple[str, ...], expected: bool) -> None:
    assert is_excluded(url, CheckSettings(exclude=patterns)) is expected
    assert is_excluded(url, None) is False


# --- bot walls ----------------------------------------------------------------------------------

_CF = (("server", "cloudflare"),)


@pytest.mark.parametrize(
    ("obs", "expected"),
    [
        pytest.param(observed(status=503, headers=_CF, title="Just a moment..."), Verdict.BLOCKED,
                     id="cloudflare-503-just-a-moment"),
        pytest.param(observed(status=403, headers=(("CF-Mitigated", "challenge"),), title=None),
                     Verdict.BLOCKED, id="cf-mitigated-header"),
        pytest.param(observed(status=200, headers=(("cf-mitigated", "challenge"),)),
                     Verdict.BLOCKED, id="cf-mitigated-on-200"),
        pytest.param(observed(status=200, title="Attention Required! | Cloudflare"),
                     Verdict.BLOCKED, id="attention-required"),
        pytest.param(observed(status=503, title="DDoS-Guard"), Verdict.BLOCKED, id="ddos-guard"),
        pytest.param(observed(status=403, headers=(("server", "AkamaiGHost"),),
                              title="Access Denied"), Verdict.BLOCKED, id="akamai"),
        pytest.param(observed(status=200, title="Are you a robot?"), Verdict.BLOCKED,
                     id="perimeterx-on-200"),
        pytest.param(observed(status=200, title="Robot Check"), Verdict.BLOCKED,
                     id="amazon-robot-check"),
        pytest.param(observed(status=200, title="Pardon Our Interruption"), Verdict.BLOCKED,
                     id="distil"),
        pytest.param(observed(status=503, title=None,
                              body_sample="Please solve this CAPTCHA to continue"),
                     Verdict.BLOCKED, id="captcha-wall-503"),
        pytest.param(observed(status=503, headers=_CF, title=None,
                              body_sample="Cloudflare challenge in progress"),
                     Verdict.BLOCKED, id="cloudflare-server-challenge-503"),
        pytest.param(observed(status=200, title=None,
                              body_sample="Verifying you are human. This may take a few seconds."),
                     Verdict.BLOCKED, id="untitled-200-challenge-text"),
        pytest.param(observed(status=404, title=None,
                              body_sample="Request unsuccessful. Incapsula incident ID: 1-2"),
                     Verdict.BLOCKED, id="incapsula-404-is-not-dead"),
        pytest.param(observed(status=200, title=None,
                              body_sample="<script>window._cf_chl_opt={}</script>"),
                     Verdict.BLOCKED, id="cloudflare-challenge-script"),
        pytest.param(observed(status=200,
                              body_sample="How Cloudflare pages say 'Verifying you are human'"),
                     Verdict.ALIVE, id="titled-article-quoting-challenge-text"),
        pytest.param(observed(status=405, headers=(("x-amzn-waf-action", "challenge"),)),
                     Verdict.BLOCKED, id="aws-waf"),
        pytest.param(observed(status=200, body_sample="Leave a comment (reCAPTCHA protected)"),
                     Verdict.ALIVE, id="comment-form-captcha-is-not-a-wall"),
        pytest.param(observed(status=503, headers=_CF, title="example.org | 502: Bad gateway",
                              body_sample="origin is unreachable"),
                     Verdict.UNREACHABLE, id="cloudflare-origin-down-is-not-a-wall"),
        pytest.param(observed(status=200, title="Access Denied: The politics of secrecy"),
                     Verdict.ALIVE, id="article-about-access-denied"),
        pytest.param(observed(status=404, title="Just a moment..."), Verdict.BLOCKED,
                     id="challenge-is-never-dead"),
    ],
)
def test_bot_walls(obs: Observation, expected: Verdict) -> None:
    assert classify(obs).verdict is expected


# --- redirects ----------------------------------------------------------------------------------

NEW = "https://example.org/climate/plan-2030"


@pytest.mark.parametrize(
    ("obs", "expected", "suggested"),
    [
        pytest.param(redirected((301, URL.replace("https:", "http:"))), Verdict.ALIVE, None,
                     id="301-scheme-only"),
        pytest.param(redirected((301, URL + "/")), Verdict.ALIVE, None, id="301-trailing-slash"),
        pytest.param(redirected((301, URL.replace("example.org", "www.example.org"))),
                     Verdict.ALIVE, None, id="301-www"),
        pytest.param(redirected((308, URL.replace("example.org", "EXAMPLE.org"))), Verdict.ALIVE,
                     None, id="308-host-case"),
        pytest.param(redirected((301, NEW)), Verdict.MOVED, NEW, id="301-to-another-page"),
        pytest.param(redirected((308, NEW)), Verdict.MOVED, NEW, id="308-to-another-page"),
        pytest.param(redirected((301, "https://example.net/news/2020/plan-to-reduce-emissions")),
                     Verdict.MOVED, "https://example.net/news/2020/plan-to-reduce-emissions",
                     id="301-new-domain"),
        pytest.param(redirected((302, NEW)), Verdict.ALIVE, None, id="302-to-another-page"),
        pytest.param(redirected((303, NEW)), Verdict.ALIVE, None, id="303-to-another-page"),
        pytest.param(redirected((307, NEW)), Verdict.ALIVE, None, id="307-to-another-page"),
        pytest.param(redirected((301, URL + "/"), (302, NEW)), Verdict.ALIVE, None,
                     id="permanent-hop-trivial-temporary-hop-moves"),
        pytest.param(redirected((302, URL + "?session=1"), (301, NEW)), Verdict.MOVED, NEW,
                     id="permanent-hop-further-down-the-chain"),
        pytest.param(redirected((301, NEW), (301, URL)), Verdict.ALIVE, None,
                     id="permanent-hops-back-to-the-same-page"),
        pytest.param(observed(final_url=NEW, chain=(Hop(301, URL),)), Verdict.MOVED, NEW,
                     id="chain-lists-only-the-redirects"),
        pytest.param(redirected((301, NEW), final=404), Verdict.DEAD, None,
                     id="301-to-a-404-is-dead"),
        pytest.param(redirected((301, NEW), final=403), Verdict.BLOCKED, None,
                     id="301-to-a-403-is-blocked"),
    ],
)
def test_redirects(obs: Observation, expected: Verdict, suggested: str | None) -> None:
    judgement = classify(obs, cited_titles=CITED)
    assert (judgement.verdict, judgement.suggested_url) == (expected, suggested)


def test_moved_reason_names_the_code_and_target() -> None:
    assert classify(redirected((301, NEW))) == Judgement(
        Verdict.MOVED, f"permanent redirect (301) to {NEW}", NEW
    )


@pytest.mark.parametrize(
    ("obs", "expected"),
    [
        # deep URL sent to a home page
        pytest.param(redirected((301, "https://example.org/")), Verdict.SOFT_404, id="301-to-root"),
        pytest.param(redirected((302, "https://example.org/")), Verdict.SOFT_404, id="302-to-root"),
        pytest.param(redirected((302, "https://example.org/index.html")), Verdict.SOFT_404,
                     id="to-index-html"),
        pytest.param(redirected((302, "https://example.org/en/")), Verdict.SOFT_404,
                     id="to-language-home"),
        pytest.param(redirected((301, "https://example.org/home")), Verdict.SOFT_404, id="to-home"),
        pytest.param(redirected((301, "https://www.example.org/?lang=en")), Verdict.SOFT_404,
                     id="to-home-with-lang"),
        pytest.param(redirected((301, "https://parked-domains.example/")), Verdict.SOFT_404,
                     id="to-another-sites-home"),
        pytest.param(observed(url="https://example.org/article.php?id=12",
                              final_url="https://example.org/"), Verdict.SOFT_404,
                     id="query-url-to-root"),
        # deep URL sent to an error or search page
        pytest.param(redirected((302, "https://example.org/404.html")), Verdict.SOFT_404,
                     id="to-404-html"),
        pytest.param(redirected((302, "https://example.org/errors/not-found")), Verdict.SOFT_404,
                     id="to-not-found"),
        pytest.param(redirected((302, "https://example.org/pagenotfound")), Verdict.SOFT_404,
                     id="to-pagenotfound"),
        pytest.param(redirected((302, "https://example.org/Error.aspx?aspxerrorpath=/x")),
                     Verdict.SOFT_404, id="to-aspx-error"),
        pytest.param(redirected((302, "https://example.org/search?q=plan")), Verdict.SOFT_404,
                     id="to-search"),
        pytest.param(redirected((301, "https://example.org/?s=plan+to+reduce")), Verdict.SOFT_404,
                     id="to-wordpress-search"),
        # not soft-404s
        pytest.param(observed(url="https://example.org/", final_url="https://example.org/en/",
                              chain=(Hop(301, "https://example.org/"),
                                     Hop(200, "https://example.org/en/"))),
                     Verdict.ALIVE, id="home-to-language-home"),
        pytest.param(observed(url="http://example.org", final_url="https://www.example.org/"),
                     Verdict.ALIVE, id="home-to-https-www-home"),
        pytest.param(redirected((301, "https://example.org/blog/handling-errors")), Verdict.MOVED,
                     id="error-word-inside-a-slug"),
        pytest.param(observed(url="https://example.org/search?q=plan",
                              final_url="https://example.org/search/?q=plan"),
                     Verdict.ALIVE, id="a-cited-search-page"),
    ],
)
def test_redirects_to_home_or_error_pages(obs: Observation, expected: Verdict) -> None:
    assert classify(obs).verdict is expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://example.org/login?next=/news/2020/plan", Verdict.BLOCKED),
        ("https://example.org/account/login", Verdict.BLOCKED),
        ("https://example.org/users/sign_in", Verdict.BLOCKED),
        ("https://example.org/sign-in", Verdict.BLOCKED),
        ("https://example.org/signin.aspx?ReturnUrl=%2fnews", Verdict.BLOCKED),
        ("https://example.org/wp-login.php?redirect_to=x", Verdict.BLOCKED),
        ("https://example.org/auth/realms/x", Verdict.BLOCKED),
        ("https://example.org/subscribe?from=paywall", Verdict.BLOCKED),
        ("https://example.org/paywall", Verdict.BLOCKED),
        ("https://accounts.google.com/ServiceLogin?continue=x", Verdict.BLOCKED),
        ("https://login.microsoftonline.com/common/oauth2/authorize", Verdict.BLOCKED),
        ("https://consent.yahoo.com/v2/collectConsent", Verdict.BLOCKED),
        ("https://example.org/blog/logins-are-hard", Verdict.ALIVE),
        ("https://example.org/authors/smith", Verdict.ALIVE),
    ],
)
def test_redirects_to_login_and_paywalls(target: str, expected: Verdict) -> None:
    assert classify(redirected((302, target))).verdict is expected


def test_a_cited_login_page_is_not_a_wall() -> None:
    obs = observed(url="https://example.org/login", final_url="https://example.org/login/")
    assert classify(obs).verdict is Verdict.ALIVE


# --- soft-404 from the page itself --------------------------------------------------------------


@pytest.mark.parametrize(
    ("obs", "cited", "expected"),
    [
        pytest.param(observed(title="Page not found"), (), Verdict.SOFT_404, id="title-en"),
        pytest.param(observed(title="404 - Page not found | Example"), CITED, Verdict.SOFT_404,
                     id="title-with-site"),
        pytest.param(observed(title="Страница не найдена"), CITED, Verdict.SOFT_404, id="title-ru"),
        pytest.param(observed(title="ページが見つかりません"), (), Verdict.SOFT_404, id="title-ja"),
        pytest.param(observed(title="Example News", headings=("Example News", "Page not found")),
                     CITED, Verdict.SOFT_404, id="first-h1"),
        pytest.param(observed(title="How to fix 404 errors in WordPress"), (), Verdict.ALIVE,
                     id="article-about-404"),
        pytest.param(observed(title="Lost and found: a history of lost property offices"), (),
                     Verdict.ALIVE, id="found-in-a-real-title"),
        pytest.param(observed(title="Not Found (2015 film) - Wikipedia"), ("Not Found",),
                     Verdict.ALIVE, id="the-cited-work-is-called-not-found"),
        pytest.param(observed(title="Page not found", content_type="application/pdf"), (),
                     Verdict.ALIVE, id="not-html"),
        pytest.param(observed(title=None, method="HEAD"), CITED, Verdict.ALIVE, id="head-only"),
        pytest.param(observed(status=200, title="Page not found", failure=FailureKind.DECODING),
                     (), Verdict.ALIVE, id="body-not-decoded"),
    ],
)
def test_soft_404_from_the_page(
    obs: Observation, cited: tuple[str, ...], expected: Verdict
) -> None:
    assert classify(obs, cited_titles=cited).verdict is expected


_BODY = "<html><head><title>Example</title></head><body>" + "menu " * 200 + "Sorry!</body></html>"


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        pytest.param(SoftProbe(url=URL + "-x", status=200, final_url=URL + "-x", title="Example",
                               body_sample=_BODY), Verdict.SOFT_404, id="same-as-probe"),
        pytest.param(SoftProbe(url=URL + "-x", status=404, final_url=URL + "-x", title="Example",
                               body_sample=_BODY), Verdict.ALIVE, id="honest-host"),
        pytest.param(SoftProbe(url=URL + "-x", status=200, final_url="https://example.org/gone",
                               title="Gone", body_sample=""), Verdict.ALIVE, id="different-page"),
        pytest.param(None, Verdict.ALIVE, id="no-probe"),
    ],
)
def test_soft_404_from_the_probe(probe: SoftProbe | None, expected: Verdict) -> None:
    obs = observed(title="Example", body_sample=_BODY)
    assert classify(obs, probe=probe).verdict is expected


def test_probe_reason() -> None:
    probe = SoftProbe(url=URL + "-x", status=200, title="Example", body_sample=_BODY)
    assert classify(observed(title="Example", body_sample=_BODY), probe=probe) == Judgement(
        Verdict.SOFT_404, "the page is what the host serves for a path that cannot exist"
    )


# --- drift --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obs", "cited", "expected"),
    [
        # the cited page is still there
        pytest.param(observed(), CITED, Verdict.ALIVE, id="same-title"),
        pytest.param(observed(title=TITLE + " | Ministry of Environment"), CITED, Verdict.ALIVE,
                     id="site-suffix"),
        pytest.param(observed(title="Ministry of Environment - " + TITLE), CITED, Verdict.ALIVE,
                     id="site-prefix"),
        pytest.param(observed(title="MINISTRY PUBLISHES PLAN TO REDUCE EMISSIONS BY 2030!"), CITED,
                     Verdict.ALIVE, id="case-and-punctuation"),
        pytest.param(observed(title="The ministry’s new plan: reduce emissions by 2030"), CITED,
                     Verdict.ALIVE, id="reworded"),
        pytest.param(observed(title="Plan to reduce emissions"),
                     ("Plan to reduce emissions, Ministry of Environment press release",),
                     Verdict.ALIVE, id="cited-title-longer"),
        pytest.param(observed(title="News", headings=(TITLE,)), CITED, Verdict.ALIVE,
                     id="og-title-or-h1-matches"),
        pytest.param(observed(title="Contact us"), ("Annual report 2019 of the ministry", TITLE),
                     Verdict.DRIFTED, id="no-cited-title-matches"),
        pytest.param(observed(title="Annual report 2019 | Ministry"),
                     ("Something else entirely here", "Annual report 2019"),
                     Verdict.ALIVE, id="one-of-several-cited-titles-matches"),
        # the page is no longer the cited one
        pytest.param(observed(title="Contact us | Ministry of Environment"), CITED,
                     Verdict.DRIFTED, id="different-title"),
        pytest.param(observed(title="Renewable energy"),
                     ("Global trends in renewable energy investment 2020",),
                     Verdict.DRIFTED, id="short-page-title-inside-the-cited-one"),
        pytest.param(observed(title="Home"), CITED, Verdict.DRIFTED, id="generic-home"),
        pytest.param(observed(title="Welcome to Example"), CITED, Verdict.DRIFTED,
                     id="generic-welcome"),
        pytest.param(observed(title="Home | Ministry of Environment"), CITED, Verdict.DRIFTED,
                     id="generic-home-with-site"),
        pytest.param(observed(title="Example.org"), CITED, Verdict.DRIFTED, id="host-name"),
        pytest.param(observed(title="Главная"), CITED, Verdict.DRIFTED, id="generic-russian"),
        pytest.param(observed(title=None), CITED, Verdict.DRIFTED, id="no-title"),
        pytest.param(observed(title="   "), CITED, Verdict.DRIFTED, id="blank-title"),
        # no judgement
        pytest.param(observed(title="Home"), (), Verdict.ALIVE, id="no-cited-title"),
        pytest.param(observed(title="Contact us"), ("Plan",), Verdict.ALIVE, id="cited-too-short"),
        pytest.param(observed(title="Contact us"), ("Emissions plan",), Verdict.ALIVE,
                     id="cited-two-words"),
        pytest.param(observed(url="https://example.org/", title="Home"), CITED, Verdict.ALIVE,
                     id="home-page-cited"),
        pytest.param(observed(title="Contact us", content_type="application/pdf"), CITED,
                     Verdict.ALIVE, id="pdf"),
        pytest.param(observed(title=None, content_type=None), CITED, Verdict.ALIVE,
                     id="unknown-type-no-title"),
        pytest.param(observed(title=None, method="HEAD"), CITED, Verdict.ALIVE, id="head"),
        pytest.param(observed(title=None, truncated=True), CITED, Verdict.ALIVE,
                     id="title-beyond-body-cap"),
        pytest.param(observed(title="Минфин опубликовал план снижения выбросов"), CITED,
                     Verdict.ALIVE, id="english-citation-of-a-russian-page"),
        pytest.param(observed(title="财政部公布2030年减排计划"), CITED, Verdict.ALIVE,
                     id="english-citation-of-a-chinese-page"),
        # titles in other scripts are compared as they are
        pytest.param(observed(title="Минфин опубликовал план снижения выбросов | Минфин России"),
                     ("Минфин опубликовал план снижения выбросов",), Verdict.ALIVE,
                     id="russian-same"),
        pytest.param(observed(title="Контакты | Минфин России"),
                     ("Минфин опубликовал план снижения выбросов",), Verdict.DRIFTED,
                     id="russian-different"),
        pytest.param(observed(title="Ministry of Finance: contacts"),
                     ("Минфин опубликовал план снижения выбросов",), Verdict.DRIFTED,
                     id="russian-citation-latin-page"),
        pytest.param(observed(title="关于印发2019年工作要点的通知_国务院"),
                     ("关于印发2019年工作要点的通知",), Verdict.ALIVE, id="chinese-same"),
        pytest.param(observed(title="国务院办公厅联系方式"), ("关于印发2019年工作要点的通知",),
                     Verdict.DRIFTED, id="chinese-different"),
    ],
)
def test_drift(obs: Observation, cited: tuple[str, ...], expected: Verdict) -> None:
    assert classify(obs, cited_titles=cited).verdict is expected


def test_drift_reason_shows_both_titles_and_the_score() -> None:
    judgement = classify(observed(title="Contact us"), cited_titles=CITED)
    assert judgement.verdict is Verdict.DRIFTED
    assert judgement.reason.startswith(
        f"page title 'Contact us' does not match the cited title {CITED[0]!r}"
    )
    assert judgement.reason.endswith("< 60)")


def test_moved_to_a_different_page_is_drifted_without_suggestion() -> None:
    obs = redirected((301, NEW), title="Climate | Ministry of Environment")
    assert classify(obs, cited_titles=CITED) == Judgement(
        Verdict.DRIFTED,
        "page title 'Climate | Ministry of Environment' does not match the cited title "
        f"{CITED[0]!r} (similarity 41 < 60)",
    )


def test_moved_to_the_cited_page_is_moved() -> None:
    obs = redirected((301, NEW), title=TITLE + " – Ministry")
    judgement = classify(obs, cited_titles=CITED)
    assert (judgement.verdict, judgement.suggested_url) == (Verdict.MOVED, NEW)


def test_classify_is_pure() -> None:
    obs = observed(title="Contact us")
    first = classify(obs, cited_titles=CITED)
    assert classify(replace(obs), cited_titles=list(CITED)) == first
    assert obs == observed(title="Contact us")


@pytest.mark.parametrize(
    "url",
    ["http://a/b", "HTTPS://X.org", "ftp://x", "mailto:a@b", "https://", "http:/x", "http://[::1]/",
     "http://[::1/", "http://u@/x", "http://:80/", "//x/y", "", "https:x", "http://a\\b"],
)
def test_what_counts_as_an_http_url_is_what_urlsplit_reads(url: str) -> None:
    from urllib.parse import urlsplit

    from checker.judge.classify import _is_http_url

    try:
        parts = urlsplit(url)
        expected = parts.scheme.casefold() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        expected = False
    assert _is_http_url(url) is expected
