"""Wayback replay URLs: build ``<replay base><timestamp><flag>/<url>`` and take them apart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# web.archive.org/web/<1-14 digits><optional flag such as id_, if_, im_>/<original URL>
_ARCHIVE_PATH = re.compile(r"/web/(?P<ts>\d{1,14})(?P<flag>[a-z]{2}_)?/(?P<url>.+)$", re.DOTALL)
_LINK = re.compile(r"^(?:https?://)?(?P<host>[^/]+)(?P<rest>/.*)$", re.IGNORECASE | re.DOTALL)
_WAYBACK_HOSTS = frozenset({"web.archive.org", "wayback.archive.org", "archive.org",
                            "www.archive.org", "web-beta.archive.org"})


@dataclass(frozen=True, slots=True)
class ArchiveLink:
    timestamp: str
    flag: str            # "" (view), "id_" (identity) …
    url: str             # the original URL, as written in the link


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
    url = match["url"]
    if url.startswith(("http:/", "https:/")) and not url.startswith(("http://", "https://")):
        url = url.replace(":/", "://", 1)          # some tools collapse the double slash
    elif "://" not in url:
        url = "http://" + url
    return ArchiveLink(timestamp=match["ts"], flag=match["flag"] or "", url=url)


def strip_fragment(url: str) -> str:
    """Fragments are never sent to a server; the archive indexes URLs without them."""
    return url.split("#", 1)[0]
