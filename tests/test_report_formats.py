"""JSON, CSV, JUnit and terminal renderers, and the dispatch table: properties the golden files
alone would not explain."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checker.report import ReportFormat, render
from checker.report.model import SCHEMA_VERSION, STATES, LastRun
from tests.report_sample import XSS, big_report, sample_report

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "report.schema.json").read_text())


# --- dispatch ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_every_format_renders_the_dead_url(fmt: ReportFormat) -> None:
    text = render(sample_report(), fmt, width=200)
    assert "dead.example.com" in text


def test_format_names_are_the_documented_ones() -> None:
    assert [f.value for f in ReportFormat] == [
        "terminal",
        "markdown",
        "html",
        "json",
        "csv",
        "junit",
    ]
    assert render(sample_report(), "json") == render(sample_report(), ReportFormat.JSON)
    with pytest.raises(ValueError):
        render(sample_report(), "yaml")


# --- json --------------------------------------------------------------------------------------


def test_json_validates_against_the_published_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(render(sample_report(), ReportFormat.JSON))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_schema_rejects_an_undocumented_field() -> None:
    """The schema is strict, so a new field in the output fails until it is documented."""
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(render(sample_report(), ReportFormat.JSON))
    data["documents"][0]["citations"][0]["links"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("outcome", ["finished", "interrupted", "crashed", None])
def test_json_and_html_say_how_the_last_check_run_ended(outcome: str | None) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    started = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    report = sample_report()
    summary = replace(report.summary, last_run=LastRun(started, outcome),
                      unfinished_run=None if outcome == "finished" else outcome or "")
    report = replace(report, summary=summary)
    data = json.loads(render(report, ReportFormat.JSON))
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    last_run = data["summary"]["last_run"]
    assert last_run["started_at"] == "2024-05-01T03:00:00Z"
    assert (last_run["outcome"], last_run["finished"]) == (outcome, outcome == "finished")
    html = render(report, ReportFormat.HTML)
    header = html[html.index("<header>"):html.index("</header>")]
    if outcome == "finished":
        assert last_run["note"] is None and "last check run" not in html
    else:
        assert last_run["note"] == summary.unfinished_note
        assert summary.unfinished_note is not None and summary.unfinished_note in header


def test_json_schema_version_matches_the_model() -> None:
    assert SCHEMA["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert SCHEMA["$defs"]["state"]["enum"] == list(STATES)
    assert json.loads(render(sample_report(), "json"))["schema_version"] == SCHEMA_VERSION


def test_json_carries_evidence_capture_and_fix() -> None:
    data = json.loads(render(sample_report(), "json"))
    report_txt = next(d for d in data["documents"] if d["path"] == "docs/report.txt")
    dead = next(link for c in report_txt["citations"] for link in c["links"]
                if link["state"] == "dead")
    assert dead["state"] == "dead" and dead["status"] == 404 and dead["checks"] == 4
    assert dead["failing_since"] == "2024-03-01T06:00:00Z"
    assert dead["capture"]["replay_url"].startswith("https://web.archive.org/web/20221119040506/")
    assert dead["capture"]["distance_days"] == 2.17   # after the end of the accessed day
    assert dead["fix"] == dead["capture"]["replay_url"]
    assert data["summary"]["counts"]["dead"] == 1
    assert data["summary"]["lost_unrecoverable_share"] == round(1 / 11, 4)
    assert data["summary"]["newly_dead"] == ["https://dead.example.com/report|2019.pdf"]


def test_json_keeps_untrusted_and_cyrillic_text_verbatim() -> None:
    text = render(sample_report(), "json")
    data = json.loads(text)
    titles = {d["path"]: d["title"] for d in data["documents"]}
    assert titles["docs/report.txt"].endswith(XSS)
    assert "https://пример.рф/новости/статья?id=1" in text  # UTF-8, not \u escapes


def test_json_lists_every_state_in_the_summary_even_at_zero() -> None:
    report = big_report(4)
    counts = json.loads(render(report, "json"))["summary"]["counts"]
    assert list(counts) == list(STATES)
    assert counts["dead"] == 2 and counts["moved"] == 0


# --- csv ---------------------------------------------------------------------------------------


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_one_row_per_citation_and_url() -> None:
    report = sample_report()
    rows = _csv_rows(render(report, "csv"))
    assert len(rows) == len(report.rows())
    two = [r for r in rows if r["citation"] == "10"]
    assert [r["cited_url"] for r in two] == [
        "https://soft.example.com/x",
        "https://wall.example.com/y",
    ]
    assert two[0]["capture"] == "no-capture" and two[0]["unrecoverable"] == "yes"


def test_csv_quotes_commas_quotes_and_newlines() -> None:
    report = sample_report()
    doc = report.documents[0]
    citation = replace(doc.citations[0], text='a, "b"\nc')
    report = replace(report, documents=(replace(doc, citations=(citation,)),))
    rows = _csv_rows(render(report, "csv"))
    assert rows[0]["text"] == 'a, "b"\nc'


def test_csv_defuses_spreadsheet_formulas_in_free_text() -> None:
    rows = _csv_rows(render(sample_report(), "csv"))
    text = next(r["text"] for r in rows if r["citation"] == "a")
    assert text == '\'=HYPERLINK("https://evil.example") down'


# --- junit -------------------------------------------------------------------------------------


def _junit(report=None, **kw) -> ET.Element:  # type: ignore[no-untyped-def]
    return ET.fromstring(render(report or sample_report(), "junit", **kw).encode("utf-8"))


def test_junit_has_a_testcase_per_citation_link_named_by_footnote() -> None:
    root = _junit()
    cases = root.findall(".//testcase")
    assert len(cases) == len(sample_report().rows())
    names = {c.get("name") for c in cases}
    assert "footnote 1: https://dead.example.com/report|2019.pdf" in names
    assert "link at line 4: https://news.example.net/story?id=7&lang=en" in names
    assert {c.get("classname") for c in cases} == {"docs/report.txt", "docs/notes.md"}


def test_junit_fails_lost_states_and_skips_the_undecided() -> None:
    root = _junit()
    by_state = {}
    for case in root.iter("testcase"):
        kind = (
            "failure"
            if case.find("failure") is not None
            else ("skipped" if case.find("skipped") is not None else "passed")
        )
        by_state[case.get("name")] = kind
    failures = {n for n, k in by_state.items() if k == "failure"}
    assert failures == {
        "footnote 1: https://dead.example.com/report|2019.pdf",
        "footnote 10: https://soft.example.com/x",
        "link at line 4: https://news.example.net/story?id=7&lang=en",
    }
    assert by_state["footnote 4: https://flaky.example.com/a"] == "skipped"  # failing, unconfirmed
    assert by_state["footnote 10: https://wall.example.com/y"] == "skipped"  # blocked
    assert by_state["footnote a: https://down.example.org/"] == "skipped"  # unreachable
    assert by_state["footnote 2: https://пример.рф/новости/статья?id=1"] == "passed"  # moved
    assert root.get("failures") == "3" and root.get("skipped") == "6" and root.get("tests") == "11"


def test_junit_failure_carries_the_evidence_and_the_capture() -> None:
    root = _junit()
    failure = next(
        c.find("failure")
        for c in root.iter("testcase")
        if c.get("name", "").startswith("footnote 1:")
    )
    assert failure is not None
    assert failure.get("type") == "dead"
    assert failure.get("message") == "dead: Not Found | gone"
    assert "evidence: HTTP 404" in (failure.text or "")
    assert "evidence: failing since 2024-03-01" in (failure.text or "")
    assert "capture: https://web.archive.org/web/20221119040506/" in (failure.text or "")
    assert XSS in (failure.text or "")  # escaped in the XML, intact once parsed


def test_junit_fail_on_follows_the_policy() -> None:
    root = _junit(fail_on={"blocked"})
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["footnote 10: https://wall.example.com/y"]


def test_junit_replaces_characters_xml_cannot_carry() -> None:
    text = render(sample_report(), "junit")
    assert "\x07" not in text
    assert 'message="blocked: bot wall\ufffd"' in text


# --- terminal ----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 80, 120])
def test_terminal_fits_the_width(width: int) -> None:
    text = render(sample_report(), "terminal", width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "newly lost: https://dead.example.com/report|2019.pdf" in text


def test_terminal_is_plain_without_color_and_coloured_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    plain = render(sample_report(), "terminal", width=100)
    coloured = render(sample_report(), "terminal", width=100, color=True)
    assert "\x1b[" not in plain
    assert re.search(r"\x1b\[[0-9;]*31m", coloured)  # red, for dead


def test_terminal_honours_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    text = render(sample_report(), "terminal", width=100, color=True)
    assert not re.search(r"\x1b\[[0-9;]*3[0-7]m", text)


def test_terminal_prints_markup_in_citations_as_written() -> None:
    text = render(sample_report(), "terminal", width=120)
    assert "Notes [bold]not markup[/bold]" in text


def test_terminal_shows_the_verdict_of_an_unconfirmed_failure() -> None:
    text = render(sample_report(), "terminal", width=300)
    assert "failing (1 of 3) (latest check: dead)" in text
