"""
Read back citewatch's own notes: the ``archived …`` annotations ``citewatch fix`` writes
(citations/rewrite.py has every form).

After ``fix --in-place`` and a rescan, a footnote reads::

    “Plan,” 2015, https://dead.example/page [archived 2018-09-05: https://web.archive.org/web/…]

The note's date is the day of the *capture*, not of the cited work, so it must never become the
citation's publication or access date (nor, through them, the document's inferred date); and its
URL is the citation's archive capture of the page it follows. ``make_citation`` (citations/records.py)
therefore reads the fields from the text with every note taken out, and turns each note's URL
into an archive link of the citation, whatever its host: a capture from a Wayback Machine other
than web.archive.org (a mirror, a test server) is known as one because citewatch said so.

The forms, as they stand in a citation's text or a Markdown link title once the format is read
(angle brackets of autolinks may or may not be left, ``at NAME`` names an archive other than the
Wayback Machine, and the day is missing when the capture's date was unknown)::

    [archived 2018-09-05: CAPTURE]                 text, Markdown, HTML text, Robust Links note
    (archived 2018-09-05; original: ORIGINAL)      after a Markdown link that now points at CAPTURE
    archived 2018-09-05; original: ORIGINAL        a reference definition's title (also in "( … )")
    archived 2018-09-05: <CAPTURE>                 a Robust Links reference title (also in "( … )")

Only these exact shapes count: an author's "archived at the Wayback Machine" is prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_URL = r"https?://[^\s<>\"]+"
NOTE = re.compile(
    r"(?P<open>[\[(])?archived(?: (?P<day>\d{4}-\d{2}-\d{2}))?(?: at (?P<archive>[A-Za-z0-9][\w.-]*))?"
    rf"(?:: <?(?P<capture>{_URL})>?|; original: <?(?P<original>{_URL})>?)"
    r"(?(open)[\])])"
)
# A capture URL's page: ``…/web/20180905000000[id_]/https://page``.
_CAPTURE_PATH = re.compile(r"/(?P<ts>\d{14})(?:[a-z]{2}_)?/(?P<orig>https?:/.+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """One citewatch annotation found in a text."""

    start: int
    end: int
    day: date | None
    archive: str                 # "wayback" unless the note names another archive
    capture: str | None = None   # the capture URL, when the note gives it
    original: str | None = None  # the page's URL, when the note gives it ("original: …")


def find_notes(text: str) -> list[Note]:
    """Every citewatch annotation in ``text``, in order."""
    notes = []
    for m in NOTE.finditer(text):
        day = None
        if m.group("day"):
            try:
                day = date.fromisoformat(m.group("day"))
            except ValueError:
                day = None
        capture = m.group("capture")
        notes.append(Note(start=m.start(), end=m.end(), day=day,
                          archive=m.group("archive") or "wayback",
                          capture=capture.rstrip(".,;") if capture else None,
                          original=m.group("original")))
    return notes


def strip_notes(text: str) -> str:
    """``text`` without citewatch's annotations (and the space before each)."""
    return re.sub(r"[ \t]*" + NOTE.pattern, "", text) if "archived" in text else text


def capture_page(url: str) -> str | None:
    """The page a capture URL names in its path (``…/20180905000000[id_]/https://page``, any
    host), when it does."""
    m = _CAPTURE_PATH.search(url)
    if m is None:
        return None
    return re.sub(r"^(https?):/+", r"\1://", m.group("orig"), flags=re.IGNORECASE)
