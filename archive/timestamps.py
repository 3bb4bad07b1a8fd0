"""Wayback timestamps (``YYYYMMDDhhmmss``) to UTC datetimes and back, tolerant of real data."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

_DIGITS = re.compile(r"\d{4,14}")


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_timestamp(timestamp: str) -> datetime | None:
    """The UTC datetime of a Wayback timestamp, or None if it is not one.

    Short timestamps are padded to the start of their period. Real CDX rows carry a spurious
    ``00`` pair where the month or day should be (``20000012170449``, ``20000800241623``):
    like EDGI's wayback we drop the pair and shift the rest left (→ ``20001217044900``,
    ``20000824162300``); if that is no date either, ``00`` is read as ``01``.
    """
    if not _DIGITS.fullmatch(timestamp):
        return None
    digits = timestamp.ljust(14, "0")
    candidates = [digits]
    if digits[4:6] == "00":
        candidates.append(digits[:4] + digits[6:] + "00")
    elif digits[6:8] == "00":
        candidates.append(digits[:6] + digits[8:] + "00")
    candidates.append(digits[:4] + (digits[4:6].replace("00", "01")) +
                      (digits[6:8].replace("00", "01")) + digits[8:])
    for candidate in candidates:
        try:
            return datetime.strptime(candidate, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def format_timestamp(moment: datetime) -> str:
    """The 14-digit Wayback timestamp of a datetime (UTC)."""
    return as_utc(moment).strftime("%Y%m%d%H%M%S")


def start_of_day(day: date) -> datetime:
    """The first second of a date, UTC: where a cited period starts."""
    return datetime.combine(day, time(0, 0, 0), tzinfo=UTC)


def end_of_day(day: date) -> datetime:
    """The last second of a date, UTC: the target for a citation that gives only a date.

    A page "accessed May 1, 2020" may have been read at any time that day, so a capture taken
    that afternoon still counts as taken before the access.
    """
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
