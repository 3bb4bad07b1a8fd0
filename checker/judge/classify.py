"""
Judge one Observation: the verdict of a check, with a reason for humans.

``classify()`` is pure (no I/O, clock or database): the rules are tested as a table, and a live
page and an archive capture (``judge_capture``) are judged by the same rules. Stored checks are not
re-judged when these rules change (the store does not keep all the evidence they read: see
checker/models.py); the next check applies them.

The rules, applied in this order (the first that applies wins):

1. **skipped**: the URL matches a ``settings.exclude`` regex (``is_excluded``), or the fetcher
   refused to connect because the host resolves to a forbidden address
   (``FailureKind.FORBIDDEN_ADDRESS``: a policy decision, not the site's answer).
2. **invalid**: ``FailureKind.INVALID_URL``, or a URL that is not http(s) with a host.
3. No HTTP answer (``obs.failure`` set and no status):

   * **dead**: the domain no longer resolves (``NXDOMAIN``) or the host refuses connections
     (``REFUSED``). An NXDOMAIN judged here is one observation; whether the run's resolver can
     be believed is a fact about the run, not the observation, so ``check`` turns these
     verdicts ``unreachable`` when no name of the run resolved and neither did the canary
     (``checker.run.checking.DnsWitness``; classify stays pure);
   * **unreachable**: everything else: timeouts, TLS, DNS errors other than NXDOMAIN, connect
     errors, resets, protocol and decoding errors.

   Redirect loops and too many redirects are **unreachable** even when a status was seen (as in
   lychee, where they are errors, not "not found"): a loop is usually a cookie or consent wall or a
   misconfiguration, which says nothing about whether the page exists.
4. **alive**: a status listed in ``settings.accepted_status``.
5. **blocked**, bot walls (before the status table, because walls answer 403/429/503 and
   sometimes 200): a ``cf-mitigated: challenge`` or ``x-amzn-waf-action`` header; a challenge title
   ("Just a moment...", "Attention Required! | Cloudflare", "DDoS-Guard", "Access Denied",
   "Are you a robot?", "Robot Check", "Pardon Our Interruption", …, matched as the whole title, or
   on a non-2xx answer also as a whole part of it); challenge text in the body sample
   ("Checking your browser before accessing", "Verifying you are human", "Incapsula incident ID",
   PerimeterX's "Press & Hold"…) on a non-2xx answer or an untitled 2xx page; and, on a 5xx only,
   captcha words ("captcha", "are you a robot") or a ``server`` of cloudflare/ddos-guard with
   "challenge" in the body.
6. The final status:

   * 2xx: go on with rule 7;
   * 404, 410: **dead**;
   * 401, 403, 407, 429, 451: **blocked** (the fetcher has already retried 429s; "451 Unavailable
     For Legal Reasons" means the page exists but is withheld from us);
   * 408, 425 and 5xx: **unreachable** (the fetcher has already retried; a lasting server error is
     not evidence that the page is gone: Sphinx ignores 503, lychee retries 5xx);
   * any other 4xx (400, 405, 406, 418, …): **blocked**. These answer *our request* (method,
     headers, a WAF's dislike of robots: mod_security answers 406, AWS WAF 405), not the page's
     existence, and a wrong "dead" costs more than a wrong "blocked". Blocked is never dead;
   * 999: **blocked** (LinkedIn and a few others answer robots with it: a refusal, not a page
     that is gone or a server that is down);
   * 300 and 304: **alive**; other 3xx (a redirect without a usable Location), 1xx and
     other non-standard codes: **unreachable**.
7. A 2xx page reached through redirects, judged on URLs alone:

   * **blocked**: a deep URL sent to a login, paywall or consent page: a path segment such as
     ``login``, ``signin``, ``sign-in``, ``auth``, ``oauth``, ``sso``, ``subscribe``, ``paywall``,
     ``consent``, ``wp-login.php``…, or a host such as ``accounts.google.com``,
     ``login.microsoftonline.com``, ``login.*``, ``signin.*``, ``sso.*``, ``auth.*``, ``consent.*``;
   * **soft-404**: a deep URL sent to a home page or to an error/search page (see
     ``checker.judge.soft404``: ``is_home_url``, ``is_error_url``).
8. When the body was read (a GET with no failure), judged on content:

   * **soft-404**: the title or a heading (og:title, first h1) of an HTML page says "not found"
     (``checker.judge.soft404.says_not_found``), unless the page title matches a cited title (a cited work
     may well be called "Not Found"); or the page looks like the host's answer to a random path
     (``checker.judge.soft404.looks_like_probe``).
   * **drifted** (see *Drift* below);
   * **drifted**, with ``check --drift``: the ``similarity`` of the page's main text to the
     archive capture chosen for the citation's date is below ``CONTENT_DRIFT_THRESHOLD`` (see
     *Content drift* below).
9. **moved**: a permanent hop (301/308) in the redirect chain changed the page (``same_page`` is
   false for that hop: scheme, ``www.``, trailing slash, ``index.html``, percent-encoding and host
   case don't count, nor a front page sent to another front page of the same host, ``/`` to
   ``/en/``) and the final page is live. ``suggested_url`` is the final URL. A drifted page
   is reported as drifted, not moved, with no suggestion: the new URL is not the cited page.
10. **alive** otherwise, including a temporary redirect (302/303/307) to another page, and a
    permanent redirect that only changed the scheme, ``www.`` or a trailing slash.

Drift
-----
Judged only for HTML (``content_type`` text/html or xhtml, or unknown with a title found), when the
body was read, and when at least one cited title is informative: ``MIN_CITED_WORDS`` words or more
(or ``MIN_CITED_UNSPACED_CHARS`` characters in a script written without spaces). Then:

* a page whose titles are all generic for a deep URL ("Home", "Homepage", "Welcome",
  "Главная", "首页", the host name, "Home | Site", no title at all…) is **drifted** (but no title
  in a body cut at the size cap is no evidence);
* otherwise each cited title is compared with each page title (``<title>``, og:title, first h1;
  each also without its last `` | Site``/`` - Site`` part), normalised by
  ``checker.judge.soft404.normalize_text``. The score is rapidfuzz ``token_set_ratio`` (the max with
  ``partial_ratio`` when a script without spaces is involved). When the page text is short (fewer
  than ``MIN_CITED_WORDS`` words, or for CJK/Thai fewer characters than ``SHORT_PAGE_TITLE_RATIO``
  of the cited title), plain ``ratio`` is used instead, so that a short page title ("Renewable
  energy") cannot vouch for a long cited one by being a subset of it. The best score below
  ``DRIFT_THRESHOLD`` is **drifted**;
* a pair is not compared when the cited title is in Latin script and the page title in another
  script: citing a Russian or Chinese page under an English translation of its title is common,
  and the two share no characters. (A cited title in any other script is compared as is; titles
  are never transliterated.) When no pair is comparable, no drift is reported.

Content drift
-------------
Most drift keeps the title: the page was rewritten, or a template replaced the article. With
``check --drift``, ``checker.run.drift`` compares the main text of a live page (alive or moved) with
that of its verified Wayback capture (``checker.judge.maintext``: boilerplate removed, Jaccard of word
3-shingles) and hands the similarity in; classify only judges it. Below
``CONTENT_DRIFT_THRESHOLD`` the page is **drifted**. No similarity (no capture, a capture too
short to compare, a non-HTML page) is no evidence.

Archive captures
----------------
``judge_capture`` is the ``archive.PageJudge`` that ``checker.run.archiving`` hands to
``archive.Wayback``, so a Wayback capture is judged by these same rules, not by a second rulebook.
A replayed capture (archive/ has already required HTTP 200 with a ``Memento-Datetime``) is judged
as a GET of the cited URL that ended on the URL the capture is of (after an archived redirect, if
one was followed), with the capture's content type, title, headings and text sample. No probe is
given (nothing was asked of the site) and no headers (the archive's are not the site's). A
**soft-404**, **drifted** or **blocked** verdict rejects the capture, with the verdict and reason;
any other accepts it. So a capture titled "Страница не найдена", a bot wall, a capture that
followed an archived redirect to the site's home page or to a login page, or a page with another
title is not a fix, and a Russian page cited under an English translation of its title is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from rapidfuzz import fuzz

from checker.judge.soft404 import (
    SoftProbe,
    is_deep_url,
    is_error_url,
    is_home_url,
    is_unspaced,
    looks_like_probe,
    normalize_text,
    same_page,
    says_not_found,
    split_title,
)
from checker.models import FailureKind, Hop, Observation, Verdict
from checker.settings import CheckSettings
from citations.hosts import host_of

if TYPE_CHECKING:
    from archive.models import ArchivedPage

DRIFT_THRESHOLD = 60.0          # best title similarity (0-100) below this is drift
# Main-text similarity (Jaccard of 3-shingles, 0-1) with the archive capture below this is drift.
# Calibrated on tests/drift_pages.py: a date, counter, sidebar or chrome change scores 1.0, a light
# edit 0.90, the cited text kept with as much new text added 0.55; half the article replaced 0.29,
# another article under the same title 0.05, a template page 0.02.
CONTENT_DRIFT_THRESHOLD = 0.4
SHORT_PAGE_TITLE_RATIO = 0.5    # CJK/Thai page text shorter than this share of the cited: ratio()
MIN_CITED_WORDS = 3             # a cited title needs this many words to judge drift
MIN_CITED_UNSPACED_CHARS = 4    # … or this many characters in CJK/Thai

_PERMANENT = frozenset({301, 308})
_DEAD_STATUS = frozenset({404, 410})
_BLOCKED_STATUS = frozenset({401, 403, 407, 429, 451, 999})  # 999: LinkedIn's "no robots"
_UNREACHABLE_4XX = frozenset({408, 425})
_DEAD_FAILURES = frozenset({FailureKind.NXDOMAIN, FailureKind.REFUSED})
_LOOP_FAILURES = frozenset({FailureKind.TOO_MANY_REDIRECTS, FailureKind.REDIRECT_LOOP})
# The verdicts that reject an archive capture. The others cannot arise from a 200 replay, or judge
# the URL rather than the page (invalid, skipped), or accept it (alive, moved).
_NOT_THE_CITED_PAGE = frozenset({Verdict.SOFT_404, Verdict.DRIFTED, Verdict.BLOCKED})

_FAILURE_TEXT = {
    FailureKind.NXDOMAIN: "the domain no longer resolves (NXDOMAIN)",
    FailureKind.DNS: "DNS lookup failed",
    FailureKind.REFUSED: "the host refuses connections",
    FailureKind.CONNECT: "could not connect",
    FailureKind.RESET: "the connection was reset",
    FailureKind.TLS: "TLS handshake failed",
    FailureKind.TIMEOUT: "timed out",
    FailureKind.TOO_MANY_REDIRECTS: "too many redirects",
    FailureKind.REDIRECT_LOOP: "redirect loop",
    FailureKind.FORBIDDEN_ADDRESS: "not fetched: the host resolves to a forbidden address",
    FailureKind.PROTOCOL: "HTTP protocol error",
    FailureKind.INVALID_URL: "not a valid URL",
    FailureKind.DECODING: "could not decode the response",
}


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict on one observation, why (for humans; never parse it), and a new URL if moved."""

    verdict: Verdict
    reason: str
    suggested_url: str | None = None


def is_excluded(url: str, settings: CheckSettings | None) -> bool:
    """True when ``url`` matches one of ``settings.exclude`` (regexes, ``re.search``)."""
    if settings is None:
        return False
    return any(_compiled(pattern).search(url) for pattern in settings.exclude)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def classify(
    obs: Observation,
    *,
    cited_titles: Sequence[str] = (),
    probe: SoftProbe | None = None,
    settings: CheckSettings | None = None,
    similarity: float | None = None,
) -> Judgement:
    """Judge ``obs`` by the rules in the module docstring. Pure: no I/O, clock or database.

    ``similarity``: how alike the page's main text and its archive capture's are (0 to 1,
    ``checker.judge.maintext.similarity``), when ``check --drift`` measured it (``checker.run.drift``)."""
    settings = settings or CheckSettings()
    if is_excluded(obs.url, settings):
        return Judgement(Verdict.SKIPPED, "excluded by configuration")
    if obs.failure is FailureKind.FORBIDDEN_ADDRESS:
        return Judgement(Verdict.SKIPPED, _failure_reason(obs))
    if obs.failure is FailureKind.INVALID_URL or not _is_http_url(obs.url):
        reason = _failure_reason(obs) if obs.failure else "not an http(s) URL"
        return Judgement(Verdict.INVALID, reason)
    if obs.failure in _LOOP_FAILURES:
        return Judgement(Verdict.UNREACHABLE, _failure_reason(obs))
    if obs.status is None:
        if obs.failure in _DEAD_FAILURES:
            return Judgement(Verdict.DEAD, _failure_reason(obs))
        if obs.failure is not None:
            return Judgement(Verdict.UNREACHABLE, _failure_reason(obs))
        return Judgement(Verdict.UNREACHABLE, "no response was recorded")

    status = obs.status
    if status in settings.accepted_status and not 200 <= status < 300:
        return Judgement(Verdict.ALIVE, f"HTTP {status}, accepted by configuration")
    wall = _bot_wall(obs)
    if wall:
        return Judgement(Verdict.BLOCKED, f"HTTP {status}: {wall}")
    if not 200 <= status < 300:
        return _judge_status(obs, status)

    final_url = obs.final_url or obs.url
    redirected = not same_page(final_url, obs.url)
    deep = is_deep_url(obs.url)
    if redirected and deep:
        if _is_login_url(final_url) and not _is_login_url(obs.url):
            return Judgement(Verdict.BLOCKED, f"redirected to a login or paywall page: {final_url}")
        if is_home_url(final_url):
            return Judgement(Verdict.SOFT_404, f"redirected to a home page: {final_url}")
        if is_error_url(final_url) and not is_error_url(obs.url):
            return Judgement(
                Verdict.SOFT_404, f"redirected to an error or search page: {final_url}"
            )

    if obs.failure is None and obs.method.upper() != "HEAD":
        html = _is_html(obs)
        if html:
            for text in (obs.title, *obs.headings):
                if says_not_found(text) and not _matches_cited(obs.title, cited_titles):
                    return Judgement(Verdict.SOFT_404, f"the page says it is not found: {text!r}")
        if looks_like_probe(obs, probe):
            return Judgement(
                Verdict.SOFT_404, "the page is what the host serves for a path that cannot exist"
            )
        drift = _drift(obs, cited_titles, deep=deep) if html else None
        if drift:
            return Judgement(Verdict.DRIFTED, drift)
        if similarity is not None and similarity < CONTENT_DRIFT_THRESHOLD:
            return Judgement(Verdict.DRIFTED, content_drift_reason(similarity))

    moved_hop = _permanent_page_change(obs)
    if moved_hop is not None:
        reason = f"permanent redirect ({moved_hop}) to {final_url}"
        return Judgement(Verdict.MOVED, reason, suggested_url=final_url)
    if redirected:
        return Judgement(Verdict.ALIVE, f"HTTP {status} after a redirect to {final_url}")
    return Judgement(Verdict.ALIVE, f"HTTP {status}")


def content_drift_reason(similarity: float) -> str:
    """The reason given for a page whose main text drifted from its archive capture's."""
    return (f"the page's main text is {similarity:.0%} like the archive capture's "
            f"(drifted below {CONTENT_DRIFT_THRESHOLD:.0%})")


def judge_capture(page: ArchivedPage, cited_title: str | None) -> str | None:
    """Whether a Wayback capture is the cited page: None if it is, else why not (for humans).

    The ``archive.PageJudge`` of citewatch: ``classify()`` on the capture, as described under
    *Archive captures* in the module docstring.
    """
    obs = Observation(
        url=page.url, final_url=page.original, status=page.status_code, method="GET",
        content_type=page.content_type, title=page.title, headings=page.headings,
        body_sample=page.body_sample, truncated=page.truncated,
    )
    judgement = classify(obs, cited_titles=(cited_title,) if cited_title else ())
    if judgement.verdict in _NOT_THE_CITED_PAGE:
        return f"{judgement.verdict}: {judgement.reason}"
    return None


# --- status codes -------------------------------------------------------------------------------


def _judge_status(obs: Observation, status: int) -> Judgement:
    tries = f" after {obs.attempts} attempts" if obs.attempts > 1 else ""
    if status in _DEAD_STATUS:
        return Judgement(Verdict.DEAD, f"HTTP {status}")
    if status in _BLOCKED_STATUS:
        reason = f"HTTP {status}{tries}: the site refuses automated checks"
        return Judgement(Verdict.BLOCKED, reason)
    if status in _UNREACHABLE_4XX or 500 <= status < 600:
        return Judgement(Verdict.UNREACHABLE, f"HTTP {status}{tries}")
    if 400 <= status < 500:
        return Judgement(
            Verdict.BLOCKED, f"HTTP {status}: the server refused the request, not the page"
        )
    if status in (300, 304):
        return Judgement(Verdict.ALIVE, f"HTTP {status}")
    if 300 <= status < 400:
        return Judgement(Verdict.UNREACHABLE, f"HTTP {status} without a usable redirect")
    return Judgement(Verdict.UNREACHABLE, f"unexpected HTTP status {status}")


def _failure_reason(obs: Observation) -> str:
    text = _FAILURE_TEXT.get(obs.failure, str(obs.failure)) if obs.failure else "failed"
    return f"{text}: {obs.error}" if obs.error else text


def _is_http_url(url: str) -> bool:
    if url.partition(":")[0].casefold() not in ("http", "https"):
        return False  # as urlsplit reads a scheme, for the URLs a checker is given
    try:
        return bool(host_of(url))
    except ValueError:  # urlsplit's, for a malformed authority
        return False


# --- bot walls and login walls ------------------------------------------------------------------

_CHALLENGE_TITLES = frozenset(
    normalize_text(t)
    for t in (
        "Just a moment...", "Attention Required! | Cloudflare", "Attention Required!",
        "Please Wait... | Cloudflare", "One more step", "Checking your browser",
        "Checking your browser before accessing", "DDoS-Guard", "DDOS-GUARD", "Access Denied",
        "Access to this page has been denied", "Are you a robot?", "Are you a human?",
        "Robot Check", "Human Verification", "Verify you are human", "Security Check",
        "Bot Verification", "Captcha", "hCaptcha", "reCAPTCHA", "Pardon Our Interruption",
        "You have been blocked", "Sorry, you have been blocked", "Request Rejected",
        "Request unsuccessful", "Access denied | Cloudflare", "Доступ запрещён",
        "Проверка браузера", "Вы не робот?",
    )
)
# What challenge pages say (the fetcher samples visible text) or load (if markup is sampled).
_CHALLENGE_TEXT = (
    "checking your browser before accessing", "needs to review the security of your connection",
    "verifying you are human", "enable javascript and cookies to continue",
    "please complete the security check to access", "why do i have to complete a captcha",
    "ddos protection by ddos-guard", "incapsula incident id",
    "access to this page has been denied because we believe you are using automation tools",
    "press & hold to confirm you are", "please verify you are a human",
    "_cf_chl_opt", "/cdn-cgi/challenge-platform/", "captcha-delivery.com", "_incapsula_resource",
    "px-captcha",
)
# Words that real pages use too (a comment form's captcha): trusted only on a 5xx.
_CAPTCHA_TEXT = ("captcha", "are you a robot", "not a robot", "security check")
_WALL_SERVERS = ("cloudflare", "ddos-guard")
_WALL_HEADERS = frozenset({"cf-mitigated", "x-amzn-waf-action", "server"})


def _bot_wall(obs: Observation) -> str | None:
    headers = {}
    for name, value in obs.headers:
        key = name.casefold()
        if key in _WALL_HEADERS:
            headers[key] = value.casefold()
    if headers.get("cf-mitigated") == "challenge":
        return "Cloudflare bot challenge"
    if headers.get("x-amzn-waf-action") in ("challenge", "captcha"):
        return "AWS WAF bot challenge"
    title = obs.title or ""
    status = obs.status or 0
    parts = {normalize_text(title)}
    if not 200 <= status < 300:  # on a 2xx only the whole title: "Access Denied: a history"
        parts.update(normalize_text(p) for p in split_title(title))
    if parts & _CHALLENGE_TITLES:
        return f"bot challenge page ({title.strip()!r})"
    if 200 <= status < 300 and title.strip():
        return None  # a titled 2xx page is judged by its title alone (above)
    body = " ".join(obs.body_sample.casefold().split())
    if any(text in body for text in _CHALLENGE_TEXT):
        return "bot challenge page"
    if 500 <= status < 600:
        if any(text in body for text in _CAPTCHA_TEXT):
            return "captcha page"
        if headers.get("server", "") in _WALL_SERVERS and "challenge" in body:
            return f"{headers['server']} bot challenge"
    return None


_LOGIN_SEGMENT = re.compile(
    r"^(?:log[-_]?in|log[-_]?on|sign[-_]?in|sign[-_]?on|wp-login|auth|authenticate|authorize|"
    r"authorization|oauth2?|sso|saml2?|idp|subscribe|subscription|subscriptions|paywall|"
    r"consent|register|registration|anmelden|connexion|iniciar-sesion|vhod|voyti)$",
    re.IGNORECASE,
)
_LOGIN_HOSTS = frozenset(
    {"accounts.google.com", "login.microsoftonline.com", "login.live.com", "login.yahoo.com",
     "guce.yahoo.com", "consent.google.com", "consent.youtube.com", "appleid.apple.com"}
)
_LOGIN_HOST_PREFIXES = ("login.", "signin.", "sso.", "auth.", "idp.", "consent.", "accounts.")


def _is_login_url(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").casefold()
    if host in _LOGIN_HOSTS or host.startswith(_LOGIN_HOST_PREFIXES):
        return True
    for segment in parts.path.split("/"):
        stem = unquote(segment).rsplit(".", 1)[0] if "." in segment else unquote(segment)
        if stem and _LOGIN_SEGMENT.match(stem):
            return True
    return False


# --- redirects ----------------------------------------------------------------------------------


def _permanent_page_change(obs: Observation) -> int | None:
    """The status of the first permanent hop that changed the page, if the final page is live."""
    chain = list(obs.chain)
    final = obs.final_url or (chain[-1].url if chain else obs.url)
    if chain and chain[-1].url != final:  # a chain that lists the redirects only
        chain.append(Hop(status=obs.status or 0, url=final))
    for hop, following in zip(chain, chain[1:], strict=False):
        if hop.status in _PERMANENT and not _same_or_front_page(hop.url, following.url):
            return hop.status if not same_page(final, obs.url) else None
    return None


def _same_or_front_page(a: str, b: str) -> bool:
    """Same page, or a site's front page sent to another front page ("/" -> "/en/")."""
    if same_page(a, b):
        return True
    host_a = (urlsplit(a).hostname or "").casefold().removeprefix("www.")
    host_b = (urlsplit(b).hostname or "").casefold().removeprefix("www.")
    return host_a == host_b and is_home_url(a) and is_home_url(b)


# --- drift --------------------------------------------------------------------------------------

_GENERIC_TITLES = frozenset(
    normalize_text(t)
    for t in (
        "home", "homepage", "home page", "welcome", "index", "main page", "main", "start",
        "start page", "front page", "untitled", "untitled document", "untitled page", "new page",
        "default", "document", "loading", "loading...", "page", "главная", "главная страница",
        "головна", "головна сторінка", "首页", "主页", "首頁", "主頁", "ホーム", "トップページ",
        "トップ", "홈", "메인", "홈페이지", "inicio", "página de inicio", "portada", "início",
        "página inicial", "accueil", "page d'accueil", "startseite", "pagina iniziale",
        "startpagina", "strona główna", "ana sayfa", "الرئيسية", "الصفحة الرئيسية", "خانه",
        "صفحه اصلی", "मुख्य पृष्ठ", "beranda", "trang chủ", "úvod", "hlavní stránka", "startsida",
        "forside", "etusivu", "αρχική", "kezdőlap", "acasă",
    )
)


def _is_html(obs: Observation) -> bool:
    media = (obs.content_type or "").split(";", 1)[0].strip().casefold()
    if media in ("text/html", "application/xhtml+xml"):
        return True
    return not media and bool(obs.title or obs.headings)


def _informative(title: str) -> bool:
    text = normalize_text(title)
    if is_unspaced(text):
        return len(text.replace(" ", "")) >= MIN_CITED_UNSPACED_CHARS
    return len(text.split()) >= MIN_CITED_WORDS


def _is_generic(title: str, host: str) -> bool:
    text = normalize_text(title)
    if not text or text in _GENERIC_TITLES:
        return True
    compact = text.replace(" ", "")
    bare_host = host.removeprefix("www.")
    if compact in {bare_host.replace(".", ""), bare_host.split(".")[0]}:
        return True
    if text.startswith("welcome to ") and len(text.split()) <= 6:
        return True
    parts = [normalize_text(p) for p in split_title(title)]
    return len(parts) > 1 and any(p in _GENERIC_TITLES for p in parts)


def _page_texts(title: str) -> list[str]:
    """The normalised title, and the title without its last part (" | Site", " - Site")."""
    texts = [normalize_text(title)]
    parts = split_title(title)
    if len(parts) > 1:
        texts.append(normalize_text(" ".join(parts[:-1])))
    return [t for t in texts if t]


def _latin(text: str) -> bool:
    """True when most letters of ``text`` are Latin."""
    if text.isascii():  # every ASCII letter is Latin
        return True
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return True
    latin = sum(1 for ch in letters if unicodedata.name(ch, "").startswith("LATIN"))
    return latin * 2 > len(letters)


def _title_score(cited: str, page: str) -> float:
    unspaced = is_unspaced(cited) or is_unspaced(page)
    if unspaced:
        short = len(page) < SHORT_PAGE_TITLE_RATIO * len(cited)
    else:
        short = len(page.split()) < min(MIN_CITED_WORDS, len(cited.split()))
    if short:  # "Renewable energy" must not vouch for "Global trends in renewable energy …"
        return fuzz.ratio(cited, page)
    score = fuzz.token_set_ratio(cited, page)
    if unspaced:
        score = max(score, fuzz.partial_ratio(cited, page))
    return score


def _best_score(
    cited_titles: Sequence[str], page_titles: Sequence[str], *, enough: float = DRIFT_THRESHOLD
) -> float | None:
    """Best similarity of any comparable (cited, page) pair; None when no pair is comparable.

    Stops at the first score of at least `enough`: callers only ask whether a pair matches, and
    most pages match on their first pair."""
    best: float | None = None
    for cited_raw in cited_titles:
        cited = normalize_text(cited_raw)
        for page_raw in page_titles:
            if _latin(cited_raw) and not _latin(page_raw):
                continue  # an English translation of a title in another script
            for page in _page_texts(page_raw):
                score = _title_score(cited, page)
                best = score if best is None else max(best, score)
                if best >= enough:
                    return best
    return best


def _matches_cited(title: str | None, cited_titles: Sequence[str]) -> bool:
    """The page title is a cited title (any length: a cited work may be called "Not Found")."""
    if not title:
        return False
    score = _best_score([t for t in cited_titles if normalize_text(t)], [title])
    return score is not None and score >= DRIFT_THRESHOLD


def _drift(obs: Observation, cited_titles: Sequence[str], *, deep: bool) -> str | None:
    """Why the page is not the cited one, or None (rules in the module docstring)."""
    cited = [t for t in cited_titles if _informative(t)]
    if not cited:
        return None
    host = host_of(obs.final_url or obs.url)
    page = [t for t in (obs.title, *obs.headings) if t and t.strip()]
    specific = [t for t in page if not _is_generic(t, host)]
    if not specific:
        if not deep or (not page and obs.truncated):
            return None
        shown = f"generic page title {page[0].strip()!r}" if page else "the page has no title"
        return f"{shown}; cited as {cited[0]!r}"
    best = _best_score(cited, specific)
    if best is None or best >= DRIFT_THRESHOLD:
        return None
    return (
        f"page title {specific[0].strip()!r} does not match the cited title {cited[0]!r} "
        f"(similarity {best:.0f} < {DRIFT_THRESHOLD:.0f})"
    )
