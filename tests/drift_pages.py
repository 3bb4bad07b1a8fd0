"""Pairs of page versions for calibrating content drift: (capture, live), each a full HTML page
with the navigation, header, sidebar and footer that a real site wraps its article in."""

from __future__ import annotations

ARTICLE = [
    "The ministry published its annual review of broadband coverage on 3 March 2019, finding "
    "that 87 per cent of rural households could order a connection of at least 30 megabits.",
    "Coverage grew fastest in the northern regions, where the state programme paid for fibre to "
    "reach villages that commercial operators had passed over for a decade.",
    "The review warns that the last ten per cent of premises will cost more than the first "
    "ninety, and proposes a voucher scheme for households that remain without service.",
    "Consultation on the voucher scheme runs until the end of June, and the department will "
    "publish the responses together with a revised delivery plan in the autumn.",
    "Independent analysts welcomed the figures but questioned whether the speed threshold "
    "still reflects what families need for remote work and schooling.",
]

OTHER_ARTICLE = [
    "The ministry has announced a new strategy for digital skills in adult education, aimed at "
    "people who left school before the internet became part of everyday working life.",
    "Colleges will receive funding for evening courses, and employers who release staff for "
    "training will be able to claim back part of their wages from a central fund.",
    "The strategy sets a target of one million learners within five years and promises an "
    "annual report to parliament on the number of courses completed in each region.",
    "Trade unions said the plan was a step forward but asked for guarantees that older workers "
    "would not be pushed into courses they had not chosen.",
]

NAV = ('<nav class="site-nav"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
       '<li><a href="/publications">Publications</a></li><li><a href="/about">About us</a></li>'
       "</ul></nav>")
HEADER = '<header class="masthead"><a href="/">Ministry of Digital Affairs</a></header>'
FOOTER = ('<footer class="site-footer"><p>Ministry of Digital Affairs, 1 Parliament Street. '
          'All content is available under the Open Government Licence.</p>'
          '<p><a href="/privacy">Privacy</a> <a href="/cookies">Cookies</a></p></footer>')
SIDEBAR = ('<div class="sidebar"><h3>Most read</h3><ul>'
           "<li><a href='/a'>Spectrum auction results announced for the coming year</a></li>"
           "<li><a href='/b'>New rules for data sharing between public bodies</a></li>"
           "<li><a href='/c'>Minister visits the new regional data centre in the north</a></li>"
           "</ul><p>Sign up to receive our weekly newsletter with all the latest news from the "
           "department and its agencies.</p></div>")
TITLE = "Annual review of broadband coverage"


def article_page(paragraphs: list[str], *, title: str = TITLE, extra: str = "",
                 date: str = "3 March 2019", views: int = 1204, semantic: bool = True) -> str:
    """A news page: chrome around an article (``semantic``: in ``<article>``, else in divs)."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    meta = f'<p class="meta">Published {date}. Viewed {views} times.</p>'
    if semantic:
        main = f"<article><h1>{title}</h1>{meta}{body}</article>"
    else:
        main = f'<div class="wrap"><div class="col"><h1>{title}</h1>{meta}{body}</div></div>'
    return (f"<!DOCTYPE html><html><head><title>{title} | Ministry</title>"
            f"<style>body {{ font: 1em serif }}</style></head><body>{HEADER}{NAV}"
            f'<div class="layout">{main}{extra}</div>{FOOTER}'
            "<script>track('page')</script></body></html>")


def template_page() -> str:
    """What a CMS shows where an article was: the site's chrome and a list of links."""
    listing = "".join(f"<li><a href='/news/{i}'>News item number {i} of the ministry</a></li>"
                      for i in range(12))
    return (f"<!DOCTYPE html><html><head><title>{TITLE} | Ministry</title></head><body>{HEADER}"
            f"{NAV}<main><h1>{TITLE}</h1><p>This page is being updated. Browse our latest news "
            f"below.</p><ul>{listing}</ul></main>{FOOTER}</body></html>")


def updated(paragraphs: list[str]) -> list[str]:
    """A light edit: one sentence corrected, one added at the end."""
    changed = list(paragraphs)
    changed[2] = changed[2].replace("proposes a voucher scheme", "proposes a revised voucher scheme")
    return [*changed, "Update: the consultation deadline has been extended by two weeks."]


def extended(paragraphs: list[str]) -> list[str]:
    """Every cited paragraph kept, and a new section as long as the old ones added."""
    return [*paragraphs, *(f"{p} (Addendum.)" for p in OTHER_ARTICLE)]


def half_rewritten(paragraphs: list[str]) -> list[str]:
    return [*paragraphs[:2], *OTHER_ARTICLE[:3]]


#: name -> (capture, live, drifted?): the calibration table of tests/test_checker_drift.py
PAIRS: dict[str, tuple[str, str, bool]] = {
    "identical": (article_page(ARTICLE), article_page(ARTICLE), False),
    "date and counter changed": (
        article_page(ARTICLE),
        article_page(ARTICLE, date="4 March 2019", views=98_311), False),
    "new sidebar": (article_page(ARTICLE), article_page(ARTICLE, extra=SIDEBAR), False),
    "new sidebar, no semantic markup": (
        article_page(ARTICLE, semantic=False),
        article_page(ARTICLE, extra=SIDEBAR, semantic=False), False),
    "redesigned chrome": (article_page(ARTICLE, semantic=False), article_page(ARTICLE), False),
    "lightly updated": (article_page(ARTICLE), article_page(updated(ARTICLE)), False),
    "a new section as long as the old": (
        article_page(ARTICLE), article_page(extended(ARTICLE)), False),
    "half rewritten": (article_page(ARTICLE), article_page(half_rewritten(ARTICLE)), True),
    "same title, different article": (
        article_page(ARTICLE), article_page(OTHER_ARTICLE), True),
    "template page": (article_page(ARTICLE), template_page(), True),
}
