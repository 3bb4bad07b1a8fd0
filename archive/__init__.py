"""
Resolve lost citations to Wayback Machine captures, verify cited archive links, and save what
is not archived yet. A leaf package: it imports nothing else of citewatch and works on ``str``
URLs and UTC ``datetime``s.

    async with Wayback(settings_from_env()) as wayback:
        async for result in wayback.resolve([LookupRequest(url, (Target("fn1", accessed),))]):
            store(result)                      # yielded per URL, as soon as it is done

Other web archives that speak Memento (archive.today, national libraries, a MemGator) are asked
after the Wayback Machine, only for citations it has nothing usable for, when
``ArchiveSettings.memento_archives`` names them (archive/others.py).

``Wayback(..., judge=...)`` takes a ``PageJudge`` that decides whether a replayed capture is the
cited page; without one, any capture that replays 200 is accepted.
"""

from archive.choose import choose_capture, rank_captures
from archive.client import Wayback, resolve, save, verify_archived
from archive.errors import ArchiveError, ArchiveThrottled, ArchiveUnavailable, SaveRefused
from archive.links import ArchiveLink, capture_time, read_capture_link, replay_link, split_archive_link
from archive.models import (
    ArchivedPage,
    Capture,
    CaptureContent,
    Choice,
    LookupRequest,
    LookupResult,
    Outcome,
    PageJudge,
    ReplayCheck,
    SaveOutcome,
    SaveResult,
    Snapshot,
    Target,
)
from archive.ratelimit import VirtualClock
from archive.settings import (
    DEFAULT_AVAILABILITY_URL,
    DEFAULT_BATCH_THRESHOLD,
    DEFAULT_CDX_URL,
    DEFAULT_LOOKUP_PER_MIN,
    DEFAULT_MEMENTO_MAX_FAILURES,
    DEFAULT_MEMENTO_TIMEOUT_S,
    DEFAULT_PAUSE_ON_429_S,
    DEFAULT_PER_HOST_CONNECTIONS,
    DEFAULT_REPLAY_PER_MIN,
    DEFAULT_REPLAY_URL,
    DEFAULT_SAVE_URL,
    MEMENTO_ARCHIVES,
    ArchiveSettings,
    MementoArchive,
    known_archives,
    memento_aggregator,
    parse_memento_archive,
    settings_from_env,
)
from archive.timestamps import end_of_day, format_timestamp, parse_timestamp, start_of_day

__all__ = [
    "DEFAULT_AVAILABILITY_URL", "DEFAULT_BATCH_THRESHOLD", "DEFAULT_CDX_URL",
    "DEFAULT_LOOKUP_PER_MIN", "DEFAULT_MEMENTO_MAX_FAILURES", "DEFAULT_MEMENTO_TIMEOUT_S",
    "DEFAULT_PAUSE_ON_429_S", "MEMENTO_ARCHIVES", "MementoArchive", "DEFAULT_PER_HOST_CONNECTIONS",
    "DEFAULT_REPLAY_PER_MIN",
    "DEFAULT_REPLAY_URL", "DEFAULT_SAVE_URL",
    "ArchiveError", "ArchiveLink", "ArchiveSettings", "ArchiveThrottled", "ArchiveUnavailable",
    "ArchivedPage",
    "Capture", "CaptureContent", "Choice", "LookupRequest", "LookupResult", "Outcome", "PageJudge",
    "ReplayCheck",
    "SaveOutcome", "SaveRefused", "SaveResult", "Snapshot", "Target", "VirtualClock", "Wayback",
    "capture_time", "choose_capture", "end_of_day", "format_timestamp", "known_archives",
    "memento_aggregator", "parse_memento_archive", "parse_timestamp", "rank_captures",
    "read_capture_link",
    "replay_link", "resolve", "save", "settings_from_env", "split_archive_link", "start_of_day",
    "verify_archived",
]
