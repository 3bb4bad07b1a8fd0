"""
Citations in HTML pages, read with beautifulsoup4's ``html.parser`` backend (it gives each tag's
``sourceline``, which becomes the citation's line).

What becomes a citation:

* **Footnote and reference items**, each a labelled citation:

  - the ``<li>`` items of a notes list: an element whose class is ``footnotes``, ``endnotes``,
    ``references`` or ``reflist`` (``<ol class="footnotes">``, ``<section class="footnotes">``,
    ``<div class="footnotes">``, Wikipedia's ``<ol class="references">``), or whose ARIA role is
    ``doc-endnotes``/``doc-footnotes``/``doc-bibliography``; a notes element with no list items
    gives its child paragraphs instead;
  - any element a footnote marker points to, even outside such a list. A marker is an in-page link
    (``href="#fn3"``) inside or around a ``<sup>``, or marked ``footnote-ref``/``doc-noteref``.

  The label is the marker's text without brackets (``[3]`` → ``3``); an item no marker points to
  is labelled with its number in its list (``<ol start>`` and ``<li value>`` respected). The text is
  the item's text (Wikipedia: its ``<span class="reference-text">``) without back-links (``↩``,
  ``#fnref`` links, Wikipedia's ``^ a b``). The URLs are the item's outbound links and the bare URLs
  written in its text, in order. With no quoted title in the text, the text of the first outbound
  link (Wikipedia's linked title inside ``<cite>``) is the cited title.

* **Every other outbound ``<a href>``**, as an unlabelled citation whose text is the link text (else
  its ``title`` or image ``alt``) and whose title is the link's ``title`` attribute.

A **Robust Link** (``<a href data-originalurl data-versionurl data-versiondate>``,
robustlinks.mementoweb.org; ``citewatch fix --robust-links`` writes them) cites both URLs: the
``data-versionurl`` capture and the ``data-originalurl`` page follow ``href`` in the citation's
URLs (each once), so the capture counts as the citation's archive link. A link ``citewatch fix``
pointed at its capture keeps its page in ``data-original-href``: that page comes first, then the
capture.

Outbound means http(s). Relative links are resolved against the page's ``<base href>``; with no
absolute base they point inside the site and are skipped, and so are ``#fragment``,
``mailto:``, ``javascript:`` and other non-web links. ``href="www.example.org"`` is relative, as
browsers read it.

The document's title is its ``<title>`` (else ``citation_title``/``og:title`` meta, else the first
``<h1>``); its date comes from ``<meta name="citation_publication_date">``, ``name="citation_date"``,
``name="date"``, Dublin Core ``name="dcterms.issued"``/``"dcterms.date"``/``"dc.date"`` (meta names
in any case), ``property="article:published_time"`` (in that order), else the first
``<time datetime>``. A value may have any ISO 8601 precision (``2023-01``, ``2021``): that is the
date's precision (``citations.dates.parse_metadata_date``). A page with none of them is dated by
what it cites (``citations.parse``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, NavigableString

from citations.dates import CitedDate, parse_metadata_date
from citations.formats.common import FormatResult
from citations.models import Citation
from citations.records import make_citation
from citations.urls import find_urls

_NOTE_CLASSES = frozenset({"footnotes", "endnotes", "references", "reflist"})
_NOTE_ROLES = frozenset({"doc-endnotes", "doc-footnotes", "doc-bibliography"})
_MARKER_CLASSES = frozenset({"footnote-ref", "footnoteref", "noteref"})
_BACKLINK_CLASSES = frozenset(
    {"footnote-back", "footnote-backref", "footnote-return", "reversefootnote", "mw-cite-backlink"}
)
_DATE_META = (
    ("name", "citation_publication_date"),
    ("name", "citation_date"),
    ("name", "date"),
    ("name", "dcterms.issued"),
    ("name", "dcterms.date"),
    ("name", "dc.date"),
    ("property", "article:published_time"),
)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")

# (sourceline, sourcepos): the order of citations in the page
_Position = tuple[int, int]
# id(tag) -> (tag, its number in its list); tags are not hashable by identity, ids are
_Items = dict[int, tuple[Tag, int | None]]


def parse(text: str) -> FormatResult:
    """The citations of an HTML page: note items and outbound links, in page order."""
    soup = BeautifulSoup(text, "html.parser")
    base = _base_href(soup)
    result = FormatResult(title=_title(soup), date=_date(soup))

    items = _list_items(soup)                       # id(tag) -> (tag, number in its list)
    labels: dict[int, str] = {}                     # id(item) -> marker text
    markers: set[int] = set()
    anchors = _anchors(soup)
    for a in soup.find_all("a", href=True):
        if not _is_marker(a):
            continue
        markers.add(id(a))
        target = _target(anchors.get(str(a["href"])[1:]), items)
        if target is None:
            result.warnings.append(
                f"line {a.sourceline}: footnote marker {_squash(a.get_text())!r} points to "
                f"{a['href']}, which is not in the page"
            )
            continue
        items.setdefault(id(target), (target, None))
        label = _squash(a.get_text()).strip("[]() ")
        if label:
            labels.setdefault(id(target), label)

    found: list[tuple[_Position, Citation]] = []
    for key, (item, number) in items.items():
        note_label = labels.get(key) or (str(number) if number is not None else None)
        found.append((_position(item), _note(item, note_label, base)))
    for a in soup.find_all("a", href=True):
        if id(a) in markers or any(id(parent) in items for parent in a.parents):
            continue
        url = _outbound(str(a["href"]), base)
        if url is not None:
            found.append((_position(a), _link(a, url, base)))
    result.citations = [c for _, c in sorted(found, key=lambda pair: pair[0])]
    return result


# --- notes -------------------------------------------------------------------------------------


def _is_notes(tag: Tag) -> bool:
    classes = set(tag.get("class") or ())
    return bool(classes & _NOTE_CLASSES) or tag.get("role") in _NOTE_ROLES


def _list_items(soup: BeautifulSoup) -> _Items:
    """The items of every notes list, each with its number in its list."""
    items: _Items = {}
    for notes in soup.find_all(_is_notes):
        if any(_is_notes(parent) for parent in notes.parents):
            continue  # the outermost notes element has them all
        entries = [li for li in notes.find_all("li") if not _has_ancestor(li, "li", stop=notes)]
        if not entries:
            blocks = notes.find_all(["p", "div"], recursive=False)
            entries = [p for p in blocks if p.get_text(strip=True)]
        counters: dict[int, int] = {}
        for entry in entries:
            parent = entry.parent
            key = id(parent)
            if key not in counters:
                counters[key] = _int(parent.get("start") if parent is not None else None, 1)
            number = _int(entry.get("value"), counters[key])
            counters[key] = number + 1
            items[id(entry)] = (entry, number)
    return items


def _has_ancestor(tag: Tag, name: str, *, stop: Tag) -> bool:
    for parent in tag.parents:
        if parent is stop:
            return False
        if parent.name == name:
            return True
    return False


def _int(value: object, default: int) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def _is_marker(a: Tag) -> bool:
    """An in-page link that marks a footnote: ``<sup><a href="#fn3">``, ``<a href="#fn3"><sup>``."""
    href = a["href"]
    if not isinstance(href, str) or not href.startswith("#") or len(href) < 2:
        return False
    if href.startswith(("#fnref", "#cite_ref")) or set(a.get("class") or ()) & _BACKLINK_CLASSES:
        return False
    return (
        a.find_parent("sup") is not None
        or a.find("sup") is not None
        or bool(set(a.get("class") or ()) & _MARKER_CLASSES)
        or a.get("role") == "doc-noteref"
    )


def _anchors(soup: BeautifulSoup) -> dict[str, Tag]:
    """Every in-page link target: elements by ``id``, then old-style ``<a name>`` (first wins)."""
    anchors: dict[str, Tag] = {}
    for tag in soup.find_all(id=True):
        anchors.setdefault(str(tag["id"]), tag)
    for tag in soup.find_all("a", attrs={"name": True}):
        anchors.setdefault(str(tag["name"]), tag)
    return anchors


def _target(anchor: Tag | None, items: _Items) -> Tag | None:
    """The note a marker points to: the list item holding the anchor, or the anchor element."""
    if anchor is None:
        return None
    for tag in (anchor, *anchor.parents):
        if id(tag) in items:
            return tag
    if anchor.name in ("a", "span", "sup"):
        holder = anchor.find_parent(["li", "p", "div", "dd", "aside"])
        return holder if isinstance(holder, Tag) else anchor
    if anchor.name in ("body", "html") or _is_notes(anchor):
        return None
    return anchor


def _note(item: Tag, label: str | None, base: str | None) -> Citation:
    for back in item.find_all(_is_backlink):
        back.decompose()
    body = item.find("span", class_="reference-text") or item
    text = _squash(body.get_text()).replace("↩︎", "").replace("↩", "").strip()
    urls: list[str] = []
    captures: dict[str, str] = {}
    titles: list[str] = []
    for node in body.descendants:
        if isinstance(node, Tag) and node.name == "a" and node.get("href"):
            url = _outbound(str(node["href"]), base)
            if url is not None:
                urls.extend(_link_urls(node, url, base))
                captures.update(_captures(node, url, base))
                titles.append(_squash(node.get_text()))
        elif isinstance(node, NavigableString) and not isinstance(node, Comment) \
                and node.find_parent("a") is None:
            urls.extend(m.url for m in find_urls(str(node)))
    citation = make_citation(label=label, line=item.sourceline or 1, text=text, urls=urls,
                             captures=captures)
    if citation.title is None:
        title = next((t for t in titles if len(t.split()) > 1 and not _SCHEME.match(t)), None)
        if title:
            citation = replace(citation, title=title.strip("\"“”"))
    return citation


def _is_backlink(tag: Tag) -> bool:
    if set(tag.get("class") or ()) & _BACKLINK_CLASSES or tag.get("role") == "doc-backlink":
        return True
    href = tag.get("href") if tag.name == "a" else None
    return isinstance(href, str) and href.startswith(("#fnref", "#cite_ref"))


# --- links -------------------------------------------------------------------------------------


def _link_urls(a: Tag, href: str, base: str | None) -> list[str]:
    """The URLs one ``<a>`` cites: ``href``, then a Robust Link's others. A link ``citewatch fix``
    pointed at a capture (``data-original-href``) cites its original page first, so that the
    citation stays the citation of that page (its ``@`` key unchanged) with the capture beside it."""
    value = a.get("data-original-href")
    original = _outbound(value, base) if isinstance(value, str) else None
    if original is not None and original != href:
        return [original, href]
    return [href, *_robust_urls(a, href, base)]


def _captures(a: Tag, href: str, base: str | None) -> dict[str, str]:
    """{capture: page} of one ``<a>`` whose markup says which URL is a capture: ``href`` with
    citewatch's ``data-original-href``, or a Robust Link's ``data-versionurl``."""
    def attr(name: str) -> str | None:
        value = a.get(name)
        return _outbound(value, base) if isinstance(value, str) else None

    original = attr("data-original-href")
    if original is not None and original != href:
        return {href: original}
    version = attr("data-versionurl")
    if version is not None and version != href:
        return {version: attr("data-originalurl") or href}
    return {}


def _robust_urls(a: Tag, href: str, base: str | None) -> list[str]:
    """The other URLs of a Robust Link: its original and its capture, when not ``href``."""
    urls: list[str] = []
    for name in ("data-versionurl", "data-originalurl"):
        value = a.get(name)
        url = _outbound(value, base) if isinstance(value, str) else None
        if url is not None and url != href and url not in urls:
            urls.append(url)
    return urls


def _link(a: Tag, url: str, base: str | None) -> Citation:
    text = _squash(a.get_text())
    if not text:
        img = a.find("img", alt=True)
        text = _squash(str(a.get("title") or (img["alt"] if isinstance(img, Tag) else "") or url))
    title = a.get("title")
    return make_citation(
        label=None, line=a.sourceline or 1, text=text, urls=_link_urls(a, url, base),
        captures=_captures(a, url, base),
        title=_squash(title) if isinstance(title, str) and title.strip() else None,
    )


def _base_href(soup: BeautifulSoup) -> str | None:
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        href = str(base["href"]).strip()
        if re.match(r"^https?://", href, re.IGNORECASE):
            return href
    return None


def _outbound(href: str, base: str | None) -> str | None:
    """The absolute http(s) URL a link points to, or None when it is not an outbound web link."""
    href = re.sub(r"[\t\r\n]", "", href).strip()
    if not href or href.startswith("#"):
        return None
    scheme = _SCHEME.match(href)
    if scheme:
        return href if scheme.group(1).lower() in ("http", "https") else None
    if href.startswith("//"):
        return (urlsplit(base).scheme if base else "https") + ":" + href
    return urljoin(base, href) if base else None


# --- document ----------------------------------------------------------------------------------


def _title(soup: BeautifulSoup) -> str | None:
    tag = soup.find("title")
    if isinstance(tag, Tag) and _squash(tag.get_text()):
        return _squash(tag.get_text())
    for attr, value in (("name", "citation_title"), ("property", "og:title")):
        meta = soup.find("meta", attrs={attr: value})
        if isinstance(meta, Tag) and str(meta.get("content") or "").strip():
            return _squash(str(meta["content"]))
    h1 = soup.find("h1")
    if isinstance(h1, Tag) and _squash(h1.get_text()):
        return _squash(h1.get_text())
    return None


def _date(soup: BeautifulSoup) -> CitedDate | None:
    for attr, value in _DATE_META:
        meta = soup.find("meta", attrs={attr: re.compile(f"^{re.escape(value)}$", re.IGNORECASE)})
        if isinstance(meta, Tag):
            found = parse_metadata_date(str(meta.get("content") or ""))
            if found is not None:
                return found
    time = soup.find("time", datetime=True)
    return parse_metadata_date(str(time["datetime"])) if isinstance(time, Tag) else None


def _position(tag: Tag) -> _Position:
    return (tag.sourceline or 0, tag.sourcepos or 0)


def _squash(s: str) -> str:
    return " ".join(s.split())
