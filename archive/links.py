"""Web archive capture URLs: build ``<replay base><timestamp><flag>/<url>`` and take them apart.

This module is citewatch's one rulebook for what an archive capture URL names (the page, the
capture time); archive/timestamps.py is the one rulebook for the time a Wayback timestamp means.
citations/ only recognises that a cited URL points into an archive (a leaf package may not import
this one); whatever asks "when was this capture taken" asks ``read_capture_link``.

Read (each form pinned by tests/test_contracts.py):

* Wayback: ``http(s)://`` + ``web.archive.org`` / ``wayback.archive.org`` / ``archive.org`` /
  ``www.archive.org`` / ``web-beta.archive.org`` (or the configured replay base's host) +
  ``/web/<1-14 digits><flag>/<url>``, the flag a replay mode (``id_``, ``im_``, ``if_``, ``js_``…).
  ``/web/2019*/<url>`` and ``/web/*/<url>`` are calendar and search pages, not captures: None.
* the same path under the replay prefix of a Memento archive that runs Wayback software
  (archive.settings.MEMENTO_ARCHIVES: the Library of Congress, the UK Web Archive, Archive-It);
* archive.today's dated form ``archive.ph/2019.01.02-123456/<url>``.

The original URL is returned as written, with a collapsed ``http:/`` repaired and a
percent-encoded one (``https%3A%2F%2F…``) decoded; it is not normalised (that is the caller's key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from archive.models import ARCHIVE_WAYBACK
from archive.settings import MEMENTO_ARCHIVES
from archive.timestamps import parse_timestamp

# web.archive.org/web/<1-14 digits><optional flag such as id_, if_, im_>/<original URL>
_ARCHIVE_PATH = re.compile(r"/web/(?P<ts>\d{1,14})(?P<flag>[a-z]{2}_)?/(?P<url>.+)$",
                           re.DOTALL | re.IGNORECASE)
_LINK = re.compile(r"^(?:https?://)?(?P<host>[^/]+)(?P<rest>/.*)$", re.IGNORECASE | re.DOTALL)
_WAYBACK_HOSTS = frozenset({"web.archive.org", "wayback.archive.org", "archive.org",
                            "www.archive.org", "web-beta.archive.org"})
# Memento archives running Wayback software: <prefix><14 digits><flag>/<original URL>
_MEMENTO_PATH = re.compile(r"/(?P<ts>\d{14})(?P<flag>[a-z]{2}_)?/(?P<url>https?(?::|%3A).+)$",
                           re.DOTALL | re.IGNORECASE)
_ARCHIVE_TODAY = re.compile(
    r"^https?://(?:www\.)?archive\.(?:today|ph|is|li|vn|md|fo)/"
    r"(?P<ts>\d{4}\.?\d{2}\.?\d{2}-?\d{0,6})/(?P<url>.+)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class ArchiveLink:
    timestamp: str
    flag: str            # "" (view), "id_" (identity) …
    url: str             # the original URL, as written in the link
    archive: str = ARCHIVE_WAYBACK

    @property
    def captured_at(self) -> datetime | None:
        """The capture time the link names (UTC), by archive.timestamps.parse_timestamp."""
        return parse_timestamp(self.timestamp)


def replay_link(replay_base: str, timestamp: str, url: str, flag: str = "") -> str:
    """``https://web.archive.org/web/<timestamp><flag>/<url>`` on the configured replay base."""
    return f"{replay_base.rstrip('/')}/{timestamp}{flag}/{strip_fragment(url)}"


def split_archive_link(link: str, *, replay_base: str | None = None) -> ArchiveLink | None:
    """The parts of a Wayback replay URL (on archive.org or the replay base), else None."""
    whole = _LINK.match(link.strip())
    if not whole:
        return None
    hosts = set(_WAYBACK_HOSTS)
    if replay_base:
        hosts.add((urlsplit(replay_base).hostname or "").lower())
    if whole["host"].split(":")[0].lower() not in hosts:
        return None
    match = _ARCHIVE_PATH.search(whole["rest"])   # the replay base may have a path prefix
    if not match:
        return None
    return ArchiveLink(timestamp=match["ts"], flag=(match["flag"] or "").lower(),
                       url=_original(match["url"]))


def read_capture_link(link: str, *, replay_base: str | None = None) -> ArchiveLink | None:
    """The archive, capture time and page a cited capture URL names: a Wayback link, a capture of
    a Memento archive running Wayback software, or a dated archive.today link; else None."""
    wayback = split_archive_link(link, replay_base=replay_base)
    if wayback is not None:
        return wayback
    text = link.strip()
    today = _ARCHIVE_TODAY.match(text)
    if today:
        return ArchiveLink(timestamp=re.sub(r"\D", "", today["ts"]), flag="",
                           url=_original(today["url"]), archive="archive.today")
    lowered = text.lower()
    for name, prefix in _memento_prefixes():
        if lowered.startswith(prefix) or lowered.startswith(prefix.replace("https:", "http:", 1)):
            match = _MEMENTO_PATH.search(text)
            if match:
                return ArchiveLink(timestamp=match["ts"], flag=(match["flag"] or "").lower(),
                                   url=_original(match["url"]), archive=name)
    return None


def capture_time(link: str, *, replay_base: str | None = None) -> datetime | None:
    """When the capture a cited archive URL names was taken (UTC); None if it names none."""
    read = read_capture_link(link, replay_base=replay_base)
    return None if read is None else read.captured_at


def _memento_prefixes() -> tuple[tuple[str, str], ...]:
    return tuple((a.name, a.timegate.lower()) for a in MEMENTO_ARCHIVES
                 if a.timegate and a.name != "archive.today")


def _original(url: str) -> str:
    if re.match(r"^https?%3A", url, re.IGNORECASE):
        url = unquote(url)                         # the whole original URL percent-encoded
    if re.match(r"^https?:/", url, re.IGNORECASE):
        url = re.sub(r"^(https?):/+", r"\1://", url, flags=re.IGNORECASE)   # "http:/x" too
    else:
        url = "http://" + url
    return url


def strip_fragment(url: str) -> str:
    """Fragments are never sent to a server; the archive indexes URLs without them."""
    return url.split("#", 1)[0]
