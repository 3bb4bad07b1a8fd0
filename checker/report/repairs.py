"""What ``citewatch fix`` changes in a document, read from its report: one ``Repair`` per
citation link that has something better to point at (``citations.rewrite`` applies them).

* a lost citation (dead, soft-404, drifted) with an archive capture that replays gets the capture;
* with ``update_moved``, a link that moved gets its new URL.

Only web links are repaired: a cited archive link is already what a repair would write.
"""

from __future__ import annotations

from datetime import datetime

from archive import capture_time
from checker.report.model import Report
from citations.rewrite import Repair


def repairs_for(report: Report, *, update_moved: bool) -> list[Repair]:
    """The repairs the report's rows call for, in the order of the report."""
    repairs = []
    for _, citation, row in report.rows():
        if row.kind != "web" or row.fix is None:
            continue
        if row.lost and row.capture is not None and row.capture.replay_url:
            repairs.append(archive_repair(citation.line, row.cited_url, row.capture.replay_url,
                                          row.capture.captured_at, row.capture.archive))
        elif update_moved and row.state == "moved":
            repairs.append(Repair(line=citation.line, cited_url=row.cited_url,
                                  replacement_url=row.fix, kind="moved"))
    return repairs


def archive_repair(line: int, cited_url: str, capture_url: str, captured_at: datetime | None,
                   archive: str | None) -> Repair:
    """The repair of a lost link to its capture, dated by the capture's record, else by what its
    URL says (archive/'s reading of Wayback timestamps: the one rulebook)."""
    captured = captured_at or capture_time(capture_url)
    return Repair(line=line, cited_url=cited_url, replacement_url=capture_url, kind="archive",
                  captured_at=captured.date() if captured else None, archive=archive)


__all__ = ["archive_repair", "repairs_for"]
