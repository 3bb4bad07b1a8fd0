"""Build Citation records from what a format parser found: shared by every format."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from citations.dates import CitedDate
from citations.fields import Fields, extract_fields, split_sources
from citations.models import Citation, CitedUrl, Link, LinkKind
from citations.urls import InvalidUrl, make_link


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
) -> Citation:
    """A Citation with its URLs deduplicated (in order) and its title and dates read from ``text``.

    ``title``, ``published``, ``accessed`` and ``publisher``, when given (structured sources such as
    BibTeX fields), win over what is read from ``text``.

    ``key`` is provisional (the label, or ``@`` + first URL); ``parse_document`` makes keys unique.
    """
    seen: set[str] = set()
    cited: list[CitedUrl] = []
    for url in urls:
        if url not in seen:
            seen.add(url)
            cited.append(cited_url(url))
    fields = extract_fields(text) if fields_from_text else None
    if fields_from_text and title is None and len(cited) > 1:
        cited = _with_source_fields(text, cited)
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
