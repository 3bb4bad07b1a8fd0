"""
Errors raised by archive/.

* ArchiveError
  + ArchiveUnavailable - the Wayback Machine refused or failed (429, 5xx, timeout): try later
    + ArchiveThrottled - it answered 429 (or nothing) several times in a row: stop every request now
  + SaveRefused        - Save Page Now will not capture this URL (its ``status_ext`` says why)

A URL with no capture is not an error: lookups return a result whose outcome is ``no-capture``
(or ``excluded`` for sites blocked from the Wayback Machine). ``resolve()`` and ``save()`` turn a
per-URL ``ArchiveUnavailable`` into an ``unknown``/``failed`` outcome and go on; only
``ArchiveThrottled`` ends them, after everything finished so far has been yielded.
"""

from __future__ import annotations


class ArchiveError(Exception):
    "Base class: the Wayback Machine could not be used as asked"


class ArchiveUnavailable(ArchiveError):
    "The Wayback Machine could not answer (429, 5xx, timeout, unreadable answer); retry later"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ArchiveThrottled(ArchiveUnavailable):
    "Repeated 429s (IA firewalls clients that ignore them), or repeated silence: stop asking now"


class SaveRefused(ArchiveError):
    "Save Page Now answered with an error for this URL"

    def __init__(self, url: str, status_ext: str, message: str) -> None:
        super().__init__(f"{url}: {status_ext}: {message}")
        self.url = url
        self.status_ext = status_ext
        self.message = message
