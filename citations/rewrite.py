"""
Rewrite a document so that its lost citations point at their archive captures, and its moved
ones at their new address: the way InternetArchiveBot repairs Wikipedia references.

Only the repaired links change. The text is edited at exact offsets (never parsed and
re-serialised), so a byte-for-byte diff of the result shows the repaired links and nothing else:
line endings, entities, attribute order and whitespace all stay as they were.

The forms, for a lost page ``https://dead.example/page`` with a capture of 16 November 2022:

plain text, and bare URLs in Markdown or HTML text
    The capture follows the URL, which stays as cited::

        https://dead.example/page [archived 2022-11-16: https://web.archive.org/web/20221116000000/https://dead.example/page]

    In Markdown the capture is written as an autolink ``<…>`` (GitHub would otherwise take the
    closing ``]`` into the link); in HTML it is an ``<a href>``. A Markdown autolink
    ``<https://dead.example/page>`` is handled the same way, after its ``>``.
Markdown inline link
    The link points at the capture; the original follows it, visible and clickable::

        [Plan](https://web.archive.org/web/…) (archived 2022-11-16; original: <https://dead.example/page>)

Markdown reference definition
    The definition points at the capture; the original goes into its title (the only attribute a
    definition has), after the existing title if there is one::

        [plan]: https://web.archive.org/web/… "Plan (archived 2022-11-16; original: https://dead.example/page)"

HTML ``<a href>``
    ``href`` points at the capture and a ``data-original-href`` attribute, inserted right after
    it, keeps the original value byte for byte; every other attribute stays as it was.

A capture from an archive other than the Wayback Machine is named in the note:
``[archived 2022-11-16 at archive.today: …]``.

**Robust Links** (``robust_links=True``, ``citewatch fix --robust-links``; robustlinks.mementoweb.org):
the link keeps pointing at the original and the capture is added beside it, so readers (and
tools that know the convention) reach either:

HTML ``<a href>``
    ``href`` stays as it was; ``data-originalurl``, ``data-versionurl`` (the capture) and
    ``data-versiondate`` (its day, ISO 8601) are inserted right after it::

        <a href="https://dead.example/page" data-originalurl="https://dead.example/page"
           data-versionurl="https://web.archive.org/web/…" data-versiondate="2022-11-16">

Markdown inline link
    The link stays; the readable equivalent follows it::

        [Plan](https://dead.example/page) [archived 2022-11-16: <https://web.archive.org/web/…>]

Markdown reference definition
    The destination stays; the title gains ``archived 2022-11-16: <capture URL>``.

Plain text and bare URLs already keep the original and add the capture after it, so they are
written the same either way. ``citewatch scan`` reads all of these back (citations/annotation.py):
the capture is an archive link of the same citation, whatever its host, and the note's date is
never taken for the citation's own date. Keep the forms here and the patterns there in step
(tests/test_fix_round_trip.py runs every form through fix and a rescan).

A moved page gets its new URL in place, in every form.

Which occurrence is repaired: each ``Repair`` names the line where its citation starts and the URL
as cited; the first occurrence of that URL at or after the start of that line (a citation may run
over several lines) that no earlier repair took. Markdown reference definitions can sit anywhere,
so for them the whole document is searched when nothing is found after the line. Repairs are
taken in line order, so when a URL is cited several times each repair gets its own occurrence.
Link text that merely repeats the URL (``[https://x](https://x)``, ``<a href=x>x</a>``) is not an
occurrence: the link itself is.

Running the fixer twice changes nothing the second time: an occurrence already followed by
``[archived …]``, already named as ``original:``, or an ``<a>`` with ``data-original-href`` counts
as repaired (outcome ``already-fixed``), and a URL inside a capture URL is never an occurrence.

Not rewritten: PDF (outcome ``unsupported``) and archive repairs in BibTeX, which has no standard
field for an archive copy (a moved URL is replaced in place there too). Not found (outcome
``not-found``, the text is left alone): an HTML link the parser resolved against ``<base href>``
(the document holds a relative URL), and a URL broken over two lines. Known limit: an identical
URL in a Markdown code block between the citation's first line and its URL would be taken for it.
"""

from __future__ import annotations

import difflib
import html
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from citations.models import DocumentFormat, LinkKind
from citations.urls import InvalidUrl, find_urls, make_link

RepairKind = Literal["archive", "moved"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Repair:
    """One cited URL to rewrite: to its archive capture (lost page) or its new URL (moved)."""

    line: int  # 1-based line where the citation starts
    cited_url: str  # the URL exactly as written in the document
    replacement_url: str  # the capture's replay URL, or the moved page's new URL
    kind: RepairKind
    # shown as "archived YYYY-MM-DD"; None writes a bare "archived". The caller dates the capture
    # (checker.report.repairs asks archive/, whose rulebook reads capture timestamps).
    captured_at: date | None = None
    archive: str | None = None  # the archive of the capture; named unless it is "wayback"


class Outcome(StrEnum):
    APPLIED = "applied"
    ALREADY_FIXED = "already-fixed"  # a previous run (or the author) repaired it
    NOT_FOUND = "not-found"  # the URL is not in the document at or after the line
    UNSUPPORTED = "unsupported"  # the format cannot be rewritten safely


@dataclass(frozen=True, slots=True, kw_only=True)
class RepairOutcome:
    repair: Repair
    outcome: Outcome
    line: int | None = None  # line of the occurrence that was (or had been) repaired
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FixResult:
    text: str
    outcomes: tuple[RepairOutcome, ...]

    @property
    def applied(self) -> tuple[RepairOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome is Outcome.APPLIED)


def fix_document(text: str, fmt: DocumentFormat, repairs: Sequence[Repair], *,
                 robust_links: bool = False) -> str:
    """``text`` with ``repairs`` applied (see the module docstring for the forms)."""
    return apply_repairs(text, fmt, repairs, robust_links=robust_links).text


def apply_repairs(text: str, fmt: DocumentFormat, repairs: Sequence[Repair], *,
                  robust_links: bool = False) -> FixResult:
    """Apply ``repairs`` and say, for each, whether it was applied and where (or why not).

    ``robust_links``: keep links pointing at the original and add the capture beside them
    (the Robust Links forms in the module docstring)."""
    fmt = DocumentFormat(fmt)
    doc = _Document(text, fmt)
    outcomes: list[RepairOutcome | None] = [None] * len(repairs)
    edits: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for index in sorted(range(len(repairs)), key=lambda i: repairs[i].line):
        repair = repairs[index]
        if fmt is DocumentFormat.PDF or (fmt is DocumentFormat.BIBTEX and repair.kind == "archive"):
            outcomes[index] = RepairOutcome(
                repair=repair,
                outcome=Outcome.UNSUPPORTED,
                detail=f"{fmt.value} documents are not rewritten"
                if fmt is DocumentFormat.PDF
                else "BibTeX has no standard field for an archive copy",
            )
            continue
        if repair.kind == "archive" and _is_archive(repair.cited_url):
            outcomes[index] = RepairOutcome(
                repair=repair,
                outcome=Outcome.ALREADY_FIXED,
                detail="the cited URL is an archive capture",
            )
            continue
        site = doc.find(repair.cited_url, repair.line, taken)
        if site is None:
            outcomes[index] = _not_found(doc, repair)
            continue
        taken.add(site.start)
        line = doc.line_of(site.start)
        if site.repaired:
            outcomes[index] = RepairOutcome(
                repair=repair,
                outcome=Outcome.ALREADY_FIXED,
                line=line,
                detail="already points at an archive capture",
            )
            continue
        edits.extend(site.edits(repair, fmt, robust_links))
        outcomes[index] = RepairOutcome(repair=repair, outcome=Outcome.APPLIED, line=line)
    return FixResult(text=_apply(text, edits), outcomes=tuple(o for o in outcomes if o))


def unified_diff(old: str, new: str, path: str) -> str:
    """A ``git diff``-style unified diff of one document, for ``--dry-run``; "" when unchanged."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    out: list[str] = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


# --- finding occurrences -----------------------------------------------------------------------

_MD_DEST_BEFORE = re.compile(r"\]\([ \t]*(<?)$")
_MD_DEST_AFTER = re.compile(
    r"""(?P<open>[ \t\n]+(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?[ \t\n]*\)"""
)
_MD_REFDEF_BEFORE = re.compile(r"^ {0,3}\[(?!\^)(?:[^\]\\]|\\.)+\]:[ \t]*(<?)$")
_MD_REFDEF_AFTER = re.compile(
    r"""(?P<title>[ \t]+(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?[ \t]*$"""
)
_HTML_A = re.compile(r"""<a\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_HTML_HREF = re.compile(
    r"""(?<=[\s"'])href[ \t\n]*=[ \t\n]*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s"'=<>`]+))""",
    re.IGNORECASE,
)
_HTML_ORIGINAL = re.compile(r"""[\s"']data-original-href[ \t\n]*=""", re.IGNORECASE)
_HTML_ORIGINAL_VALUE = re.compile(
    r"""data-original-href[ \t\n]*=[ \t\n]*(?P<v>"[^"]*"|'[^']*')""", re.IGNORECASE
)
_HTML_A_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)
_ARCHIVED_AFTER = re.compile(r"[ \t]*\[archived\b")
_ARCHIVED_NOTE = re.compile(r"\barchived\b")
_HTML_VERSION = re.compile(r"""[\s"']data-versionurl[ \t\n]*=""", re.IGNORECASE)
_ORIGINAL_BEFORE = re.compile(r"original: <?$")

Form = Literal["bare", "autolink", "md-inline", "md-refdef", "html-href", "html-text"]


@dataclass(frozen=True, slots=True)
class _Site:
    """One occurrence of a cited URL and the form it is written in."""

    start: int
    end: int
    form: Form
    repaired: bool = False
    after: int = 0  # where the "archived …" note goes (after the link's closing bracket)
    quote: str = ""  # md-inline: "<" when the destination is in angle brackets;
    # html-href: the attribute's quote; md-refdef: the title's closing char
    title_end: int = -1  # md-refdef: offset of the title's closing delimiter, -1 if no title
    raw: str = ""  # html-href: the attribute value exactly as written

    def edits(self, repair: Repair, fmt: DocumentFormat, robust: bool = False
              ) -> list[tuple[int, int, str]]:
        new = repair.replacement_url
        if repair.kind == "moved":
            if self.form == "html-text":
                return [(self.start, self.end, html.escape(new, quote=False))]
            if self.form == "md-inline" and self.quote != "<" and _needs_brackets(new):
                return [(self.start, self.end, f"<{new}>")]
            return [(self.start, self.end, new)]
        archived = _archived_label(repair)
        if robust and self.form == "md-inline":
            return [(self.after, self.after, f" [{archived}: <{new}>]")]
        if robust and self.form == "md-refdef":
            note = f"{archived}: <{new}>"
            if self.title_end >= 0:
                return [(self.title_end, self.title_end, " " + _escape_title(f"({note})",
                                                                              self.quote))]
            return [(self.after, self.after, " " + '"' + _escape_title(note, '"') + '"')]
        if self.form == "md-inline":
            dest = new if self.quote == "<" or not _needs_brackets(new) else f"<{new}>"
            return [
                (self.start, self.end, dest),
                (self.after, self.after, f" ({archived}; original: {_autolink(repair.cited_url)})"),
            ]
        if self.form == "md-refdef":
            note = f"{archived}; original: {repair.cited_url}"
            edits = [(self.start, self.end, new)]
            if self.title_end >= 0:
                closing = self.quote
                edits.append(
                    (self.title_end, self.title_end, " " + _escape_title(f"({note})", closing))
                )
            else:
                edits.append((self.after, self.after, " " + '"' + _escape_title(note, '"') + '"'))
            return edits
        if self.form == "html-text":
            link = f'<a href="{html.escape(new)}">{html.escape(new, quote=False)}</a>'
            return [(self.after, self.after, f" [{archived}: {link}]")]
        capture = f"<{new}>" if fmt is DocumentFormat.MARKDOWN else new
        return [(self.after, self.after, f" [{archived}: {capture}]")]


def _autolink(url: str) -> str:
    return url if _needs_brackets(url) else f"<{url}>"


def _needs_brackets(url: str) -> bool:
    return any(c.isspace() or c in "()<>" for c in url)


def _escape_title(text: str, closing: str) -> str:
    """Backslash-escape what would end a link title delimited by ``closing``."""
    specials = "()" if closing == ")" else closing
    return "".join("\\" + c if c in specials or c == "\\" else c for c in text)


def _archived_label(repair: Repair) -> str:
    day = repair.captured_at
    if isinstance(day, datetime):
        day = day.date()
    where = f" at {repair.archive}" if repair.archive and repair.archive != "wayback" else ""
    return (f"archived {day.isoformat()}" if day else "archived") + where


def _capture_day(repair: Repair) -> date | None:
    day = repair.captured_at
    return day.date() if isinstance(day, datetime) else day


def _is_archive(url: str) -> bool:
    try:
        return make_link(url).kind is LinkKind.ARCHIVE
    except InvalidUrl:
        return False


class _Document:
    def __init__(self, text: str, fmt: DocumentFormat) -> None:
        self.text = text
        self.fmt = fmt
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._bare: list[tuple[int, int, str]] | None = None

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset)

    def offset_of(self, line: int) -> int:
        return self.line_starts[min(max(line, 1), len(self.line_starts)) - 1]

    def bare_urls(self) -> list[tuple[int, int, str]]:
        """URLs as a reader finds them in the prose (the parsers' own rules)."""
        if self._bare is None:
            unescape = html.unescape if self.fmt is DocumentFormat.HTML else (lambda s: s)
            self._bare = [(m.start, m.end, unescape(m.url)) for m in find_urls(self.text)]
        return self._bare

    def find(self, url: str, line: int, taken: set[int]) -> _Site | None:
        start = self.offset_of(line)
        sites = [s for s in self.sites(url) if s.start not in taken]
        after = [s for s in sites if s.start >= start]
        if after:
            return after[0]
        if self.fmt is not DocumentFormat.MARKDOWN:
            return None
        # reference definitions can stand anywhere, also before the link that uses them
        # (a repaired one keeps the original in its title, where it shows as repaired)
        anywhere = [s for s in sites if s.form == "md-refdef" or s.repaired]
        return anywhere[0] if anywhere else None

    def sites(self, url: str) -> list[_Site]:
        if self.fmt is DocumentFormat.MARKDOWN:
            return self._markdown_sites(url)
        if self.fmt is DocumentFormat.HTML:
            return self._html_sites(url)
        return [self._bare_site(s, e) for s, e, u in self.bare_urls() if u == url]

    def _bare_site(
        self, start: int, end: int, form: Form = "bare", after: int | None = None
    ) -> _Site:
        after = end if after is None else after
        repaired = bool(_ARCHIVED_AFTER.match(self.text, after)) or bool(
            _ORIGINAL_BEFORE.search(self.text, max(0, start - 12), start)
        )
        return _Site(start, end, form, repaired=repaired, after=after)

    def _markdown_sites(self, url: str) -> list[_Site]:
        text = self.text
        bare = {(s, e) for s, e, u in self.bare_urls() if u == url}
        sites: list[_Site] = []
        for m in re.finditer(re.escape(url), text):
            s, e = m.start(), m.end()
            line_start = text.rfind("\n", 0, s) + 1
            before = _MD_DEST_BEFORE.search(text, max(0, s - 40), s)
            if before:
                bracket = before.group(1)
                close = e + 1 if bracket and text.startswith(">", e) else e
                if bracket and close == e:
                    continue
                after = _MD_DEST_AFTER.match(text, close)
                if after:
                    # a Robust Links note after the link: repaired, the link kept the original
                    noted = bool(_ARCHIVED_AFTER.match(text, after.end()))
                    sites.append(_Site(s, e, "md-inline", repaired=noted, after=after.end(),
                                       quote=bracket))
                    continue
            refdef = _MD_REFDEF_BEFORE.match(text[line_start:s])
            if refdef:
                bracket = refdef.group(1)
                close = e + 1 if bracket and text.startswith(">", e) else e
                line_end = text.find("\n", e)
                line_end = len(text) if line_end < 0 else line_end
                tail = _MD_REFDEF_AFTER.match(text[close:line_end])
                if tail and not (bracket and close == e):
                    title = tail.group("title")
                    title_end = -1
                    closing = ""
                    if title:
                        closing = title.rstrip()[-1]
                        title_end = close + len(title.rstrip()) - 1
                    sites.append(
                        _Site(
                            s,
                            e,
                            "md-refdef",
                            repaired=bool(title and _ARCHIVED_NOTE.search(title)),
                            after=close + len(title or ""),
                            quote=closing,
                            title_end=title_end,
                        )
                    )
                    continue
            if text.startswith("](", e) or text.startswith("][", e):
                continue  # link text that repeats the URL; the link itself is the occurrence
            if s > 0 and text[s - 1] == "<" and text.startswith(">", e):
                sites.append(self._bare_site(s, e, "autolink", after=e + 1))
            elif (s, e) in bare:
                sites.append(self._bare_site(s, e))
        return sites

    def _html_sites(self, url: str) -> list[_Site]:
        text = self.text
        sites: list[_Site] = []
        anchors: list[tuple[int, int]] = []  # (start of <a>, end of its content)
        for tag in _HTML_A.finditer(text):
            close = _HTML_A_CLOSE.search(text, tag.end())
            anchors.append((tag.start(), close.start() if close else tag.end()))
            href = _HTML_HREF.search(text, tag.start(), tag.end())
            if href is None:
                continue
            group = next(g for g in ("dq", "sq", "uq") if href.group(g) is not None)
            if html.unescape(href.group(group)).strip() != url:
                continue
            quote = {"dq": '"', "sq": "'", "uq": ""}[group]
            s, e = href.span(group)
            value_end = e + len(quote)
            repaired = bool(_HTML_ORIGINAL.search(text, tag.start(), tag.end())
                            or _HTML_VERSION.search(text, tag.start(), tag.end()))
            sites.append(
                _HtmlHref(
                    s - len(quote),
                    value_end,
                    "html-href",
                    repaired=repaired,
                    after=value_end,
                    quote=quote or '"',
                    raw=href.group(group),
                )
            )
        for s, e, u in self.bare_urls():
            if u != url or _inside_tag(text, s):
                continue
            if any(a <= s < b for a, b in anchors):
                continue  # the visible text of a link: the link is the occurrence
            sites.append(self._bare_site(s, e, "html-text"))
        return sorted(sites, key=lambda site: site.start)


@dataclass(frozen=True, slots=True)
class _HtmlHref(_Site):
    """An ``href`` attribute value (quotes included in ``start:end``)."""

    def edits(self, repair: Repair, fmt: DocumentFormat, robust: bool = False
              ) -> list[tuple[int, int, str]]:
        quote = self.quote
        if robust and repair.kind == "archive":
            return [(self.end, self.end, _robust_attributes(repair, quote))]
        value = quote + html.escape(repair.replacement_url, quote=True) + quote
        edits = [(self.start, self.end, value)]
        if repair.kind == "archive":
            original = f" data-original-href={quote}{self.raw}{quote}"
            edits.append((self.end, self.end, original))
        return edits


def _robust_attributes(repair: Repair, quote: str) -> str:
    """The Robust Links attributes for an ``<a>`` that keeps its original ``href``."""
    def attr(name: str, value: str) -> str:
        return f" {name}={quote}{html.escape(value, quote=True)}{quote}"

    day = _capture_day(repair)
    return (attr("data-originalurl", repair.cited_url)
            + attr("data-versionurl", repair.replacement_url)
            + (attr("data-versiondate", day.isoformat()) if day else ""))


def _inside_tag(text: str, pos: int) -> bool:
    return text.rfind("<", 0, pos) > text.rfind(">", 0, pos)


def _not_found(doc: _Document, repair: Repair) -> RepairOutcome:
    if any(s.start >= doc.offset_of(repair.line) for s in doc.sites(repair.replacement_url)):
        return RepairOutcome(
            repair=repair,
            outcome=Outcome.ALREADY_FIXED,
            detail="the replacement URL is already there",
        )
    if doc.fmt is DocumentFormat.HTML:
        for tag in _HTML_A.finditer(doc.text):
            original = _HTML_ORIGINAL_VALUE.search(tag.group(0))
            if original and html.unescape(original.group("v")[1:-1]).strip() == repair.cited_url:
                return RepairOutcome(
                    repair=repair,
                    outcome=Outcome.ALREADY_FIXED,
                    line=doc.line_of(tag.start()),
                    detail="already points at an archive capture",
                )
    return RepairOutcome(
        repair=repair,
        outcome=Outcome.NOT_FOUND,
        detail=f"{repair.cited_url} is not in the document at or after line {repair.line}",
    )


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise AssertionError(f"overlapping edits at offset {start}")  # a bug, never input
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


__all__ = [
    "FixResult",
    "Outcome",
    "Repair",
    "RepairKind",
    "RepairOutcome",
    "apply_repairs",
    "fix_document",
    "unified_diff",
]
