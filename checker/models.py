"""What a check saw (Observation) and what citewatch concluded (Verdict), kept apart so the
judgement (checker.judge.classify) is a pure function of the observation: tested as a table, and
applied alike to a live page and to an archive capture.

Stored checks are *not* re-judged by newer rules (issue 15 decided it; no promise is made). The
store keeps, per run of identical checks, the verdict, its reason and the evidence a reader needs
(status, redirect chain, selected headers, title, content type, failure, similarity), not all the
rules read: the body sample (up to ``checker.net.fetch.SAMPLE_CHARS`` = 2,000 characters, read for
bot-wall text and the host-probe comparison), the headings, the host's probe answer and the cited
titles of the day. Keeping those would add 2 KB or more to a row whose own evidence is ~300
bytes, and rows multiply with changes (a link flapping between alive and unreachable makes one a
night), which the 100,000 links x 365 nights budget (200 MB) cannot carry; and part of a
judgement is not in the observation at all (the run's DNS witness turns an NXDOMAIN unreachable,
the configuration's exclude and accepted statuses), so a re-judgement from a partial record
could not be told from a real verdict. New rules apply from the next check on: ``citewatch
check --max-age 0`` re-checks (and so re-judges) every link now.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar


class Verdict(StrEnum):
    """The verdict of one check. Values are stored verbatim in SQLite and every report."""

    ALIVE = "alive"
    MOVED = "moved"              # permanent redirect to a different live page
    DEAD = "dead"                # 404/410, NXDOMAIN, connection refused
    SOFT_404 = "soft-404"        # 200, but the page is gone
    BLOCKED = "blocked"          # the site refuses robots (401/403/429/bot wall): NOT dead
    DRIFTED = "drifted"          # live, but no longer the cited page
    UNREACHABLE = "unreachable"  # no usable answer: timeout, TLS, DNS (not NXDOMAIN), lasting 5xx
    INVALID = "invalid"          # not a fetchable URL
    SKIPPED = "skipped"          # excluded by configuration

    @property
    def is_failure(self) -> bool:
        """Counts towards confirming a link dead (see checker.judge.state)."""
        return self in _FAILURES

    @property
    def is_lost(self) -> bool:
        """The cited page is gone or changed: it wants an archive capture."""
        return self in _LOST


_FAILURES = frozenset({Verdict.DEAD, Verdict.SOFT_404})
_LOST = frozenset({Verdict.DEAD, Verdict.SOFT_404, Verdict.DRIFTED})


class FailureKind(StrEnum):
    """Why no HTTP answer could be had (the error class stored as evidence)."""

    NXDOMAIN = "nxdomain"
    DNS = "dns"
    REFUSED = "connection-refused"
    CONNECT = "connect"
    RESET = "connection-reset"
    TLS = "tls"
    TIMEOUT = "timeout"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    REDIRECT_LOOP = "redirect-loop"
    FORBIDDEN_ADDRESS = "forbidden-address"
    PROTOCOL = "protocol"
    INVALID_URL = "invalid-url"
    DECODING = "decoding"


_T = TypeVar("_T")


def pickled_as_tuples(cls: type[_T]) -> type[_T]:
    """Pickle a frozen, slotted dataclass as the tuple of its field values.

    dataclasses' own `__getstate__` and `__setstate__` look the fields up on every call, which
    was a third of the cost of sending check results from the worker processes to the parent.
    """
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    values_of = operator.attrgetter(*names)

    def __getstate__(self: _T) -> tuple[Any, ...]:
        return values_of(self)

    def __setstate__(self: _T, state: tuple[Any, ...]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)

    setattr(cls, "__getstate__", __getstate__)  # noqa: B010 - replacing dataclasses' own
    setattr(cls, "__setstate__", __setstate__)  # noqa: B010
    return cls


@pickled_as_tuples
@dataclass(frozen=True, slots=True)
class Hop:
    """One response in a redirect chain."""

    status: int
    url: str


@pickled_as_tuples
@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What the wire said about one URL, without judgement."""

    url: str
    final_url: str | None = None
    status: int | None = None            # status of the final response
    chain: tuple[Hop, ...] = ()          # every response, redirects included, in order
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()   # selected headers of the final response
    content_type: str | None = None
    title: str | None = None             # <title>, else og:title
    headings: tuple[str, ...] = ()       # og:title, first h1: extra evidence for drift/soft-404
    body_sample: str = ""                # start of the decoded text, for soft-404 comparison
    main_text: str = ""                  # boilerplate removed (checker.judge.maintext): --drift only
    body_bytes: int = 0
    truncated: bool = False              # body cap reached
    failure: FailureKind | None = None
    error: str = ""                      # human message of the failure
    attempts: int = 1
    retry_after_s: float | None = None
    elapsed_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckTarget:
    """One link to check, with what its citations say the page is."""

    url: str
    cited_titles: tuple[str, ...] = ()


@pickled_as_tuples
@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    url: str
    verdict: Verdict
    reason: str                           # for humans; never parse it
    observation: Observation
    checked_at: datetime                  # UTC
    suggested_url: str | None = None      # the new URL of a moved link
    evidence: dict[str, str] = field(default_factory=dict)
    similarity: float | None = None       # main text vs. the archive capture's (check --drift)
    compared_with: str | None = None      # the replay URL of that capture
