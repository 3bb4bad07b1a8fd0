"""The report as JUnit XML, for CI systems that show test results (GitLab, Jenkins, GitHub
actions that publish test reports).

Mapping:

* ``<testsuites name="citewatch">`` holds one ``<testsuite>`` per document (``name`` = its path);
  each citation link is one ``<testcase>`` with ``classname`` = the document path and ``name`` =
  ``footnote <label>: <cited URL>`` (``link at line <n>: <cited URL>`` for links outside
  footnotes).
* **failure** when the row fails ``fail_on``: the ``--fail-on`` policy's own test
  (``Policy.fails``, as ``report`` and ``audit`` pass it), so the red tests are exactly the
  citations that make the command exit 1; or a set of states (default: the lost states).
  ``type`` is the state, ``message`` the state label and reason, and the body the evidence: status,
  final URL, failing since, number of checks, the archive capture and the suggested fix.
* **passed** for ``alive`` and ``moved`` (the page still answers), unless they are in
  ``fail_on``; ``<system-out>`` says the state (and a moved link's new URL).
* **skipped** for everything else that is not in ``fail_on``: ``failing`` (not confirmed yet),
  ``blocked`` and ``unreachable`` (we could not tell: the site refused us or was down, which is not
  rot), ``invalid``, ``skipped`` and ``unchecked``. The ``message`` says which and why.
* There are no ``<error>`` elements: a link that could not be checked is not a crash.

Every row is a testcase, problems first: the command line gives JUnit the whole report, without
``--only`` and without hiding alive rows, so the failures are exactly the citations behind the
exit code and the test count is every citation link. Each ``<testsuite>`` carries the state
policy in a ``state_policy`` property when the report has one.

``time`` is ``0`` (checks run concurrently and are cached, so per-link durations mean nothing);
``timestamp`` is the report's time. Text that XML 1.0 cannot carry (control characters) is
replaced by U+FFFD; everything else is escaped by ``xml.etree``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection

from checker.judge.state import State
from checker.report.common import (
    Row,
    capture_phrase,
    document_rows,
    evidence_parts,
    iso_datetime,
    label_of,
    ordered_documents,
    policy_phrase,
    shown_capture,
)
from checker.report.model import LOST_STATES, LinkRow, Report

#: What ``fail_on`` may be: a policy's test of one row, or the states that fail.
FailOn = Callable[[LinkRow], bool] | Collection[str]

PASSING_STATES = frozenset({State.ALIVE, State.MOVED})

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(report: Report, *, fail_on: FailOn | None = None) -> str:
    if callable(fail_on):
        fails = fail_on
    else:
        states = frozenset(LOST_STATES if fail_on is None else fail_on)

        def fails(row: LinkRow) -> bool:
            return row.state in states
    root = ET.Element("testsuites", name="citewatch")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for document in ordered_documents(report):
        suite = ET.SubElement(root, "testsuite", name=_x(document.path))
        if report.summary.state_policy is not None:
            properties = ET.SubElement(suite, "properties")
            ET.SubElement(properties, "property", name="state_policy",
                          value=policy_phrase(report.summary.state_policy))
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for row in document_rows(document):
            outcome = _testcase(suite, row, fails)
            counts["tests"] += 1
            if outcome:
                counts[outcome] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
        suite.set("time", "0")
        suite.set("timestamp", iso_datetime(report.generated_at) or "")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, row: Row, fails: Callable[[LinkRow], bool]) -> str | None:
    """Add one testcase; return "failures", "skipped" or None (passed)."""
    link = row.link
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_x(row.document.path),
        name=_x(f"{label_of(row.citation)}: {link.cited_url}"),
        time="0",
    )
    headline = link.state_label + (f": {link.reason}" if link.reason else "")
    if fails(link):
        failure = ET.SubElement(case, "failure", type=_x(link.state), message=_x(headline))
        failure.text = _x(_details(row))
        return "failures"
    if link.state in PASSING_STATES:
        out = ET.SubElement(case, "system-out")
        out.text = _x(_details(row) if link.state is State.MOVED else f"state: {headline}")
        return None
    ET.SubElement(case, "skipped", message=_x(headline))
    return "skipped"


def _details(row: Row) -> str:
    link, citation = row.link, row.citation
    lines = [
        f"citation: {citation.text}",
        f"line: {citation.line}",
        f"URL: {link.cited_url}",
        f"state: {link.state_label}",
    ]
    lines += [f"evidence: {part}" for part in evidence_parts(link)]
    if (capture := shown_capture(link)) is not None:
        lines.append(f"archive: {capture_phrase(capture)}")
        if capture.replay_url:
            lines.append(f"capture: {capture.replay_url}")
    if link.suggested_url:
        lines.append(f"new URL: {link.suggested_url}")
    if link.fix:
        lines.append(f"fix: cite {link.fix}")
    return "\n".join(lines)


def _x(text: str) -> str:
    """Text XML 1.0 can carry."""
    return _NOT_XML.sub("\ufffd", text)
