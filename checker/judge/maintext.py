"""
The main text of an HTML page, and how alike two main texts are: the evidence of content drift.

Both functions are pure (no I/O); ``checker.net.fetch`` runs ``main_text`` on a live page's body as it
is read (``--drift`` only), ``checker.run.drift`` runs it on an archive capture's body, and
``checker.judge.classify`` judges the ``similarity`` of the two.

**Boilerplate removal: a readability-style densest block, with beautifulsoup4.** Navigation,
headers, footers, sidebars, forms and scripts are dropped (by tag, and by a class or id that says
so: readability's "unlikely candidates"); then the page's ``<article>``/``<main>`` is taken when it
holds text, else the element whose paragraphs carry the most text not inside links (readability's
paragraph scoring, a parent scoring each paragraph in full and a grandparent half). Why not a
library: beautifulsoup4 is a dependency already, and the libraries that would fit
(readability-lxml, jusText, boilerpy3, goose3) each bring lxml and more; jusText needs the page's
language for its stop words, boilerpy3 (Boilerpipe) was last released in 2023, and we need plain
text for comparison, not cleaned HTML. What drift needs is that the *same* rules run on both
versions, so that a new sidebar or a changed footer does not count; this does that.

**Similarity: Jaccard index of word 3-shingles**, on case-folded words with every run of digits
read as one "0", so a changed date, counter or price is no change at all. Shingles rather than a
bag of words, because two different articles on one topic share most of their words but few of
their three-word runs; Jaccard rather than simhash, because our texts are short enough to compare
exactly (at most ``MAX_MAIN_TEXT_CHARS`` each) and simhash's bit distance is coarse between "near
duplicate" and "unrelated", which is where the threshold has to sit. Scripts written without
spaces (CJK, Thai) are read a character at a time, so their shingles are character trigrams.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

#: Main text kept per page: about 3,000 words. Live page and capture are cut at the same length,
#: so a long article is compared on the same stretch of both.
MAX_MAIN_TEXT_CHARS = 20_000
#: Words per shingle: a changed word changes at most this many shingles.
SHINGLE_WORDS = 3
#: Characters of markup parsed: the start of a long page holds its article.
MAX_MARKUP_CHARS = 600_000
#: Bump when the extraction changes, so cached capture texts are extracted again.
EXTRACTOR_VERSION = 1

_DROPPED_TAGS = ("script", "style", "noscript", "template", "svg", "nav", "header", "footer",
                 "aside", "form", "iframe", "button", "select", "menu", "dialog", "head")
# readability's unlikelyCandidates and okMaybeItsACandidate, shortened
_UNLIKELY = re.compile(
    r"nav|menu|sidebar|side-bar|footer|masthead|breadcrumb|banner|cookie|consent|comment|"
    r"share|social|related|recommend|promo|advert|sponsor|widget|newsletter|subscribe|"
    r"pagination|pager|popup|modal|skip-link|toolbar", re.IGNORECASE)
_MAYBE = re.compile(r"article|main|content|body|entry|post|story|column|text", re.IGNORECASE)
_PARAGRAPHS = ("p", "pre", "blockquote", "td", "dd", "li")
_MIN_PARAGRAPH_CHARS = 25      # readability ignores shorter paragraphs
_TOKEN = re.compile(
    r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
    r"|[^\W\d_]+|\d+")


def main_text(markup: str) -> str:
    """The main text of an HTML document, whitespace collapsed, at most ``MAX_MAIN_TEXT_CHARS``."""
    soup = BeautifulSoup(markup[:MAX_MARKUP_CHARS], "html.parser")
    root = soup.body or soup
    for tag in root.find_all(_DROPPED_TAGS):
        tag.decompose()
    for tag in root.find_all(_unlikely):
        tag.decompose()
    block = _marked_main(root) or _densest_block(root) or root
    return " ".join(block.get_text(" ").split())[:MAX_MAIN_TEXT_CHARS]


def _unlikely(tag: Tag) -> bool:
    if tag.name in ("html", "body", "article", "main") or tag.decomposed:
        return False
    names = " ".join([*tag.get_attribute_list("class"), tag.get("id") or ""])  # type: ignore[list-item]
    names = names.strip()
    return bool(names) and bool(_UNLIKELY.search(names)) and not _MAYBE.search(names)


def _marked_main(root: Tag) -> Tag | None:
    """The longest ``<article>``, ``<main>`` or ``role=main`` holding a paragraph's worth of text."""
    marked = [*root.find_all(("article", "main")), *root.find_all(True, attrs={"role": "main"})]
    best = max(marked, key=_text_length, default=None)
    return best if best is not None and _text_length(best) >= _MIN_PARAGRAPH_CHARS else None


def _densest_block(root: Tag) -> Tag | None:
    """The element whose paragraphs carry the most text outside links (readability's score)."""
    scores: dict[int, float] = {}
    tags: dict[int, Tag] = {}
    for paragraph in root.find_all(_PARAGRAPHS):
        length = _text_length(paragraph)
        if length < _MIN_PARAGRAPH_CHARS:
            continue
        linked = sum(len(a.get_text(" ", strip=True)) for a in paragraph.find_all("a"))
        score = length * (1.0 - min(linked / length, 1.0))
        parent = paragraph.parent
        for share, holder in ((1.0, parent), (0.5, parent.parent if parent else None)):
            if isinstance(holder, Tag):
                scores[id(holder)] = scores.get(id(holder), 0.0) + score * share
                tags[id(holder)] = holder
    if not scores:
        return None
    return tags[max(scores, key=scores.__getitem__)]


def _text_length(tag: Tag) -> int:
    return len(" ".join(tag.get_text(" ").split()))


def tokens(text: str) -> list[str]:
    """Case-folded words (one per character in CJK and Thai), every number read as ``0``."""
    return ["0" if token.isdigit() else token for token in _TOKEN.findall(text.casefold())]


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """The runs of ``size`` tokens of a text (the whole text when it is shorter)."""
    words = tokens(text)
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def similarity(a: str, b: str) -> float:
    """Jaccard index (0 to 1) of the shingles of two texts; 0 when either has none."""
    first, second = shingles(a[:MAX_MAIN_TEXT_CHARS]), shingles(b[:MAX_MAIN_TEXT_CHARS])
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
