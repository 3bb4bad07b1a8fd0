"""The ``--fail-on`` policy: which report rows make ``citewatch report``/``audit`` exit with 1.

A comma-separated list of any of:

``dead-unarchived`` (default)  a lost citation (dead, soft-404 or drifted) with no archive capture:
                               the reader has nothing to follow
``lost``                       any lost citation, archived or not
``any``                        anything but alive, skipped and unchecked (failing, moved, blocked …)
``none``                       never fail (report only)
a state                        that state exactly: dead, soft-404, drifted, failing, moved, blocked,
                               unreachable, invalid
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.judge.state import NOT_A_PROBLEM
from checker.report.model import LOST_STATES, STATES, LinkRow, Report

DEFAULT_FAIL_ON = "dead-unarchived"
_NEVER_FAIL = NOT_A_PROBLEM   # what is no problem never fails a run (State.is_problem)
_KEYWORDS = ("dead-unarchived", "lost", "any", "none")


@dataclass(frozen=True, slots=True)
class Policy:
    terms: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Policy:
        """Raises ValueError naming the unknown term."""
        terms = frozenset(t.strip() for t in text.split(",") if t.strip())
        unknown = sorted(t for t in terms if t not in _KEYWORDS and t not in STATES)
        if unknown:
            known = ", ".join((*_KEYWORDS, *(s for s in STATES if s not in _NEVER_FAIL)))
            raise ValueError(f"unknown --fail-on value {', '.join(map(repr, unknown))} (known: {known})")
        return cls(terms or frozenset({"none"}))

    def fails(self, row: LinkRow) -> bool:
        if row.state in _NEVER_FAIL:
            return False
        return (
            ("any" in self.terms)
            or ("lost" in self.terms and row.lost)
            or ("dead-unarchived" in self.terms and row.unrecoverable)
            or (row.state in self.terms)
        )

    def failures(self, report: Report) -> list[LinkRow]:
        return [row for _, _, row in report.rows() if self.fails(row)]

    @property
    def states(self) -> frozenset[str]:
        """The states whose rows may fail (for JUnit failures)."""
        states: set[str] = {t for t in self.terms if t in STATES}
        if "any" in self.terms:
            states |= set(STATES) - _NEVER_FAIL
        if self.terms & {"lost", "dead-unarchived"}:
            states |= LOST_STATES
        return frozenset(states)
