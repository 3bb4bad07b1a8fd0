"""
Defaults for talking to the Wayback Machine, shared by the library and the command line.

Rates are set below the limits the Internet Archive has stated (reference §6), because IA asks
clients to stay at about 80 % of its hard limits and firewalls an IP for an hour (doubling each
time) when 429s are ignored:

* lookups (CDX, timemap, availability) share one pool: IA's hard limit is 30/min, we use 24/min;
* replays (``/web/<ts>id_/<url>``) are limited at 600/min by IA, we use 120/min (2/s);
* Save Page Now 2 documents 7 captures/min with keys and 3/min anonymous, we use 6 and 2, and at
  most 2 captures of one URL per day (IA allows 5).

A rate is kept as an even pace, one request every ``60 / rate`` seconds (a lookup every 2.5 s, a
replay every 0.5 s), never as a burst followed by a wait: archive.org's front end answers bursts
and more than 3-4 simultaneous connections from one address with 429 (reference §9). For the
same reason at most ``per_host_connections`` (2, what a browser-like client needs) requests are
in flight to any one archive host, over kept-alive connections of one HTTP client.

``settings_from_env()`` maps the one ``CITEWATCH_WAYBACK_URL`` base onto all four endpoints (the
real service spreads them over ``web.archive.org`` and ``archive.org``), and reads the SPN keys
from ``IA_ACCESS_KEY``/``IA_SECRET_KEY``.

Other web archives (``MementoArchive``, asked only for what the Wayback Machine could not
resolve: archive/others.py) are named by their Memento TimeMap and TimeGate prefixes, to which
the original URL is appended. ``MEMENTO_ARCHIVES`` is a short catalogue from MemGator's
``archives.json`` (reference §10): archives whose prefixes are known and that hold much of the
public web or of government pages. The reference lists them with ``http://``; all four serve
HTTPS, and a redirect from one to the other would cost every request a second one. None is
asked unless chosen (``--archives``): an archive the user did not pick is never sent their URLs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from archive.models import ARCHIVE_WAYBACK

DEFAULT_CDX_URL = "https://web.archive.org/cdx/search/cdx"
DEFAULT_AVAILABILITY_URL = "https://archive.org/wayback/available"
DEFAULT_REPLAY_URL = "https://web.archive.org/web/"
DEFAULT_SAVE_URL = "https://web.archive.org/save"
DEFAULT_USER_AGENT = "citewatch/0.1 (+https://github.com/citewatch/citewatch; citation archiver)"

DEFAULT_TIMEOUT_S = 30.0                 # connect, read and waiting for a pooled connection
DEFAULT_LOOKUP_PER_MIN = 24              # CDX + timemap + availability, one shared pool
DEFAULT_REPLAY_PER_MIN = 120             # replays and SPN status polls
DEFAULT_SAVE_PER_MIN_AUTHENTICATED = 6   # SPN2 doc: 7/min with keys
DEFAULT_SAVE_PER_MIN_ANONYMOUS = 2       # SPN2 doc: 3/min anonymous
DEFAULT_MAX_SAVES_PER_URL_PER_DAY = 2    # SPN2 doc: 5 (its error text says 10)
DEFAULT_PAUSE_ON_429_S = 60.0            # every archive request waits this long after any 429
DEFAULT_MAX_CONSECUTIVE_429 = 3          # then ArchiveThrottled: stop cleanly
DEFAULT_MAX_CONSECUTIVE_UNANSWERED = 5   # requests with no answer at all (network down): stop too
DEFAULT_PER_HOST_CONNECTIONS = 2         # requests (and connections) at once per archive host
DEFAULT_KEEPALIVE_S = 30.0               # idle connections kept this long: well above the paces
DEFAULT_MAX_DRAIN_BYTES = 1_000_000      # bodies read to their end up to this, so the connection
                                         # is reused; a longer one is dropped after what we keep
# URLs worked on at once. Not requests: the per-host cap bounds those, and the paces their rate.
# A few URLs in hand let one URL's replays use the time another waits for its lookup; more
# would only queue at the gate.
DEFAULT_CONCURRENCY = 8
DEFAULT_CDX_LIMIT = 1000                 # rows per CDX request (closest to the median target)
DEFAULT_BATCH_THRESHOLD = 20             # distinct URLs from which batch availability is used
DEFAULT_BATCH_SIZE = 100                 # lines per batch POST (IABot's $batchLimit)
DEFAULT_MAX_VERIFY = 3                   # candidate captures replayed per citation at most
DEFAULT_MAX_BODY_BYTES = 256_000         # enough for <title>, <h1> and a text sample
DEFAULT_SAVE_POLL_INTERVAL_S = 5.0
DEFAULT_SAVE_MAX_WAIT_S = 120.0          # SPN2: a capture takes at most 2 min; then "pending"
DEFAULT_SAVE_CONCURRENCY = 3
DEFAULT_IF_NOT_ARCHIVED_WITHIN = "30d"   # SPN2 timedelta syntax; a recent capture is reused
# Other archives are often slow (reference §10); one that takes longer than this to answer a
# request counts as failing, and after this many failures in a row it is not asked again in
# the run (the circuit breaker), so a dead archive costs a few timeouts, not one per URL.
DEFAULT_MEMENTO_TIMEOUT_S = 20.0
DEFAULT_MEMENTO_MAX_FAILURES = 3


@dataclass(frozen=True, slots=True)
class MementoArchive:
    """A web archive that speaks Memento (RFC 7089): ``<prefix><original URL>`` gives its
    TimeMap (all captures, ``application/link-format``) and its TimeGate (the capture closest to
    an ``Accept-Datetime``). An empty ``timemap`` means: ask the TimeGate, one date at a time."""

    name: str                    # as stored and reported ("archive.today"); never "wayback"
    timemap: str
    timegate: str = ""
    timeout_s: float = DEFAULT_MEMENTO_TIMEOUT_S
    aggregator: bool = False     # a MemGator: its TimeMap lists other archives' mementos


#: Known archives, in the order they are tried when several are chosen (reference §10 table).
MEMENTO_ARCHIVES: tuple[MementoArchive, ...] = (
    MementoArchive("archive.today", "https://archive.today/timemap/",
                   "https://archive.today/timegate/"),
    MementoArchive("loc", "https://webarchive.loc.gov/all/timemap/link/",
                   "https://webarchive.loc.gov/all/"),
    MementoArchive("ukwa", "https://www.webarchive.org.uk/wayback/archive/timemap/link/",
                   "https://www.webarchive.org.uk/wayback/archive/"),
    MementoArchive("archive-it", "https://wayback.archive-it.org/all/timemap/link/",
                   "https://wayback.archive-it.org/all/"),
)


def memento_aggregator(base_url: str, *, timeout_s: float = DEFAULT_MEMENTO_TIMEOUT_S
                       ) -> MementoArchive:
    """A MemGator instance (``/timemap/link/<URL>``, ``/timegate/<URL>``): one TimeMap that lists
    the captures of every archive it knows. Its captures are named by their archive's host."""
    base = base_url.rstrip("/")
    return MementoArchive("memgator", f"{base}/timemap/link/", f"{base}/timegate/",
                          timeout_s=timeout_s, aggregator=True)


def parse_memento_archive(spec: str, *, timeout_s: float = DEFAULT_MEMENTO_TIMEOUT_S
                          ) -> MementoArchive:
    """``NAME=TIMEMAP_PREFIX[,TIMEGATE_PREFIX]`` → a MementoArchive; raises ValueError."""
    name, sep, prefixes = spec.partition("=")
    timemap, _, timegate = prefixes.partition(",")
    name, timemap, timegate = name.strip(), timemap.strip(), timegate.strip()
    if not sep or not name or not (timemap or timegate):
        raise ValueError(f"expected NAME=TIMEMAP_PREFIX[,TIMEGATE_PREFIX], got {spec!r}")
    if name == ARCHIVE_WAYBACK:
        raise ValueError("'wayback' is the Wayback Machine itself; name the archive otherwise")
    for prefix in (timemap, timegate):
        if prefix and not prefix.lower().startswith(("http://", "https://")):
            raise ValueError(f"{name}: not an http(s) prefix: {prefix!r}")
    return MementoArchive(name, timemap, timegate, timeout_s=timeout_s)


def known_archives(names: str | Sequence[str], *, timeout_s: float = DEFAULT_MEMENTO_TIMEOUT_S
                   ) -> tuple[MementoArchive, ...]:
    """The catalogue entries for ``"wayback,archive.today,loc"`` (in that order; ``wayback`` is
    always asked first and needs no entry). Raises ValueError for an unknown name."""
    if isinstance(names, str):
        names = names.split(",")
    catalogue = {a.name: a for a in MEMENTO_ARCHIVES}
    chosen: list[MementoArchive] = []
    for name in (n.strip() for n in names):
        if not name or name == ARCHIVE_WAYBACK or any(a.name == name for a in chosen):
            continue
        if name not in catalogue:
            known = ", ".join([ARCHIVE_WAYBACK, *catalogue])
            raise ValueError(f"unknown archive {name!r} (known: {known}; or give its prefixes "
                             "with --memento-archive NAME=TIMEMAP_PREFIX)")
        chosen.append(replace(catalogue[name], timeout_s=timeout_s))
    return tuple(chosen)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveSettings:
    """Endpoints, limits and credentials; defaults are the DEFAULT_* constants above."""

    cdx_url: str = DEFAULT_CDX_URL
    availability_url: str = DEFAULT_AVAILABILITY_URL
    replay_url: str = DEFAULT_REPLAY_URL
    save_url: str = DEFAULT_SAVE_URL
    user_agent: str = DEFAULT_USER_AGENT
    timeout_s: float = DEFAULT_TIMEOUT_S
    lookup_per_min: int = DEFAULT_LOOKUP_PER_MIN
    replay_per_min: int = DEFAULT_REPLAY_PER_MIN
    save_per_min_authenticated: int = DEFAULT_SAVE_PER_MIN_AUTHENTICATED
    save_per_min_anonymous: int = DEFAULT_SAVE_PER_MIN_ANONYMOUS
    max_saves_per_url_per_day: int = DEFAULT_MAX_SAVES_PER_URL_PER_DAY
    pause_on_429_s: float = DEFAULT_PAUSE_ON_429_S
    max_consecutive_429: int = DEFAULT_MAX_CONSECUTIVE_429
    max_consecutive_unanswered: int = DEFAULT_MAX_CONSECUTIVE_UNANSWERED
    concurrency: int = DEFAULT_CONCURRENCY
    per_host_connections: int = DEFAULT_PER_HOST_CONNECTIONS
    keepalive_s: float = DEFAULT_KEEPALIVE_S
    max_drain_bytes: int = DEFAULT_MAX_DRAIN_BYTES
    cdx_limit: int = DEFAULT_CDX_LIMIT
    batch_threshold: int = DEFAULT_BATCH_THRESHOLD
    batch_size: int = DEFAULT_BATCH_SIZE
    max_verify: int = DEFAULT_MAX_VERIFY
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    save_poll_interval_s: float = DEFAULT_SAVE_POLL_INTERVAL_S
    save_max_wait_s: float = DEFAULT_SAVE_MAX_WAIT_S
    save_concurrency: int = DEFAULT_SAVE_CONCURRENCY
    if_not_archived_within: str = DEFAULT_IF_NOT_ARCHIVED_WITHIN
    # Asked in this order for citations the Wayback Machine had nothing usable for.
    memento_archives: tuple[MementoArchive, ...] = ()
    memento_max_failures: int = DEFAULT_MEMENTO_MAX_FAILURES
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)

    @property
    def authenticated(self) -> bool:
        """True when both S3-style keys are set, so SPN2 requests carry ``Authorization: LOW``."""
        return bool(self.access_key and self.secret_key)

    @property
    def save_per_min(self) -> int:
        if self.authenticated:
            return self.save_per_min_authenticated
        return self.save_per_min_anonymous


def endpoints_for(base_url: str) -> dict[str, str]:
    """The four endpoint fields for one base URL standing for web.archive.org and archive.org."""
    base = base_url.rstrip("/")
    return {
        "cdx_url": f"{base}/cdx/search/cdx",
        "availability_url": f"{base}/wayback/available",
        "replay_url": f"{base}/web/",
        "save_url": f"{base}/save",
    }


def settings_from_env(
    environ: Mapping[str, str] | None = None, *, base: ArchiveSettings | None = None
) -> ArchiveSettings:
    """Settings from ``CITEWATCH_WAYBACK_URL``, ``IA_ACCESS_KEY`` and ``IA_SECRET_KEY``.

    Unset variables keep the values of ``base`` (default: the real archive.org endpoints).
    """
    env = os.environ if environ is None else environ
    settings = base or ArchiveSettings()
    if wayback_url := env.get("CITEWATCH_WAYBACK_URL", "").strip():
        endpoints = endpoints_for(wayback_url)
        settings = replace(settings, cdx_url=endpoints["cdx_url"],
                           availability_url=endpoints["availability_url"],
                           replay_url=endpoints["replay_url"], save_url=endpoints["save_url"])
    access, secret = env.get("IA_ACCESS_KEY", "").strip(), env.get("IA_SECRET_KEY", "").strip()
    if access and secret:
        settings = replace(settings, access_key=access, secret_key=secret)
    return settings
