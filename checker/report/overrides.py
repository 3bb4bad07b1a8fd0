"""States set by hand in the configuration (``[links."URL"] state = "alive"``), applied to a
built report: InternetArchiveBot's "permalive" and "permadead".

A link behind a login or a bot wall that the checks can never see as alive, or a page that
answers 200 but is known to be gone, gets the state its reader would give it, and the reason
from the configuration is shown wherever the checks' reason would be. The checks themselves are
still recorded as they were: removing the override brings the measured state back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace

from checker.judge.state import State
from checker.report.common import problems
from checker.report.model import STATES, HostCount, LinkRow, Report, Summary
from citations.urls import normalize_url

#: Shown after the state, so a reader knows no check said it.
OVERRIDE_LABEL = "set in configuration"
#: The states a configuration may give a link.
OVERRIDE_STATES = ("alive", "dead")


@dataclass(frozen=True, slots=True)
class LinkOverride:
    """A state set by hand for one URL (``[links."URL"]``), shown with its reason in reports."""

    state: str       # one of OVERRIDE_STATES
    reason: str


def apply_overrides(report: Report, overrides: Mapping[str, LinkOverride]) -> Report:
    """``report`` with the configured state of every overridden URL, and its summary recounted.

    A URL matches as cited or as normalised (the form the checks use)."""
    if not overrides:
        return report
    by_url = {normalize_url(url): override for url, override in overrides.items()}
    by_url.update(overrides)

    def row(link: LinkRow) -> LinkRow:
        override = by_url.get(link.cited_url) or by_url.get(link.url)
        if override is None:
            return link
        dead = override.state == "dead"
        found = link.capture is not None and link.capture.outcome == "found"
        return replace(
            link, state=State(override.state), state_label=f"{override.state} ({OVERRIDE_LABEL})",
            reason=override.reason or OVERRIDE_LABEL,
            # A lost page's fix is its capture; a page said alive needs none.
            fix=(link.capture.replay_url if dead and found and link.capture else None),
            suggested_url=None if dead else link.suggested_url,
        )

    documents = tuple(
        replace(document, citations=tuple(
            replace(citation, links=tuple(row(link) for link in citation.links))
            for citation in document.citations))
        for document in report.documents
    )
    rows = [link for d in documents for c in d.citations for link in c.links]
    return replace(report, documents=documents, summary=_recount(report, rows))


def _recount(report: Report, rows: list[LinkRow]) -> Summary:
    """The summary's counts from the overridden rows (the change since the last run is the
    checks' own and is kept)."""
    counts = Counter(link.state for link in rows)
    by_host: dict[str, Counter[str]] = defaultdict(Counter)
    for link in rows:
        by_host[link.host][link.state] += 1

    hosts = sorted(by_host.items(), key=lambda kv: (-problems(kv[1]), kv[0]))
    return replace(
        report.summary,
        counts={state: counts[state] for state in STATES if counts[state]},
        hosts=tuple(HostCount(host=h, counts=dict(c)) for h, c in hosts),
        lost=sum(1 for link in rows if link.lost),
        lost_unrecoverable=sum(1 for link in rows if link.unrecoverable),
        lost_not_looked_up=sum(1 for link in rows if link.unrecoverable and link.not_looked_up),
    )
