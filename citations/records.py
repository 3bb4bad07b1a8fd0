"""Build Citation records from what a format parser found: shared by every format."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from citations.annotation import Note, capture_page, find_notes, strip_notes
from citations.dates import CitedDate
from citations.fields import Fields, extract_fields, split_sources
from citations.models import Citation, CitedUrl, Link, LinkKind
from citations.urls import InvalidUrl, make_link, normalize_url


def cited_url(cited: str) -> CitedUrl:
    """A URL as written and its Link; an unfetchable URL keeps its text so the checker can call it invalid."""
    try:
        link = make_link(cited)
    except InvalidUrl:
        link = Link(url=cited.strip(), kind=LinkKind.INVALID)
    return CitedUrl(cited=cited, link=link)


def make_citation(
    *,
    label: str | None,
    line: int,
    text: str,
    urls: Iterable[str],
    title: str | None = None,
    published: CitedDate | None = None,
    accessed: CitedDate | None = None,
    publisher: str | None = None,
    fields_from_text: bool = True,
    captures: Mapping[str, str] | None = None,
) -> Citation:
    """A Citation with its URLs deduplicated (in order) and its title and dates read from ``text``.

    ``title``, ``published``, ``accessed`` and ``publisher``, when given (structured sources such as
    BibTeX fields), win over what is read from ``text``.

    citewatch's own ``archived …`` notes (citations/annotation.py) are left out of the text the
    fields are read from, and their URLs are the citation's archive captures. So are the URLs of
    ``captures`` ({capture URL: page URL}, from markup that says so: HTML's ``data-original-href``
    and Robust Links' ``data-versionurl``), whatever their host.

    ``key`` is provisional (the label, or ``@`` + first URL); ``parse_document`` makes keys unique.
    """
    notes = find_notes(text) + (find_notes(title) if title else [])
    if notes:
        text_read = strip_notes(text)
        title = (strip_notes(title).strip() or None) if title else title
        urls, noted = _with_notes(list(urls), notes)
    else:
        text_read, noted = text, {}
    for capture, page in (captures or {}).items():
        noted.setdefault(capture, (Note(start=0, end=0, day=None, archive=_archive_of(capture)),
                                   page))
    seen: set[str] = set()
    cited: list[CitedUrl] = []
    for url in urls:
        if url not in seen:
            seen.add(url)
            cited.append(_as_capture(cited_url(url), *noted[url]) if url in noted
                         else cited_url(url))
    fields = extract_fields(text_read) if fields_from_text else None
    if fields_from_text and title is None and len(cited) > 1:
        cited = _with_source_fields(text_read, cited)
    number = int(label) if label is not None and label.isdigit() else None
    key = label if label is not None else "@" + (cited[0].link.url if cited else text[:80])
    return Citation(
        key=key,
        label=label,
        number=number,
        line=line,
        text=text,
        urls=tuple(cited),
        title=title or (fields.title if fields else None),
        publisher=publisher or (fields.publisher if fields else None),
        published=published or (fields.published if fields else None),
        accessed=accessed or (fields.accessed if fields else None),
    )


def _with_source_fields(text: str, cited: list[CitedUrl]) -> list[CitedUrl]:
    """Give each URL the title and dates of the work it belongs to, when the footnote cites
    several works (``“A,” …, url1; “B,” …, url2``)."""
    sources = split_sources(text)
    if len(sources) < 2:
        return cited
    per_url: dict[str, Fields] = {}
    for source in sources:
        for url in source.urls:
            per_url.setdefault(url, source.fields)
    out = []
    for c in cited:
        f = per_url.get(c.cited)
        out.append(c if f is None else replace(
            c, own_fields=True, title=f.title, published=f.published, accessed=f.accessed))
    return out


def _normal(url: str) -> str | None:
    try:
        return normalize_url(url)
    except InvalidUrl:
        return None


def _with_notes(urls: list[str], notes: list[Note]) -> tuple[list[str], dict[str, tuple[Note, str | None]]]:
    """The URLs with each note's capture and page in them, the page just before its capture (so
    an unlabelled citation keeps its ``@`` key after a fix), and {capture as cited: (note, page)}."""
    normal = [_normal(u) for u in urls]
    captures: dict[str, tuple[Note, str | None]] = {}
    for note in notes:
        if note.capture is not None:
            want = _normal(note.capture)
            index = next((i for i, n in enumerate(normal) if n is not None and n == want), None)
            if index is None:
                urls.append(note.capture)
                normal.append(want)
                index = len(urls) - 1
            page = capture_page(note.capture) or (urls[index - 1] if index > 0 else None)
            captures[urls[index]] = (note, page)
        elif note.original is not None:
            # "(archived …; original: PAGE)": the capture is the URL that now names PAGE
            page_key = _normal(note.original)
            index = next((i for i, u in enumerate(urls) if u not in captures and page_key is not None
                          and _normal(capture_page(u) or "") == page_key), None)
            if index is None:
                continue
            captures[urls[index]] = (note, note.original)
            if note.original not in urls[:index]:
                urls.insert(index, note.original)
                normal.insert(index, page_key)
    return urls, captures


def _as_capture(cited: CitedUrl, note: Note, page: str | None) -> CitedUrl:
    """A note's URL as an archive link, also on a host citations/urls.py does not know."""
    link = cited.link
    if link.kind is not LinkKind.WEB:
        return cited
    original = _normal(page) if page else None
    archive = note.archive
    if archive == "wayback" and "/web/" not in link.url:
        archive = "memento"   # not a Wayback replay URL: nothing may ask a Wayback API about it
    return replace(cited, link=Link(url=link.url, kind=LinkKind.ARCHIVE, archive=archive,
                                    original_url=original))


def _archive_of(capture: str) -> str:
    """The archive a capture named only by markup is from: a Wayback Machine by its path
    (``_as_capture`` makes anything else "memento")."""
    return "wayback"
