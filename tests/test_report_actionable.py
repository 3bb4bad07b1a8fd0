"""Reports you can act on (issue 14): problems first, alive and skipped rows left out unless
--all, paths relative to the current folder, one line per problem for CI logs, the state policy
named in every format, JUnit failures that are the exit code's, and options that mean the same
in every command (--format is the output, --input-format the document, --config anywhere).
Real loopback sites, the fake Wayback Machine and real SQLite files; no network."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from checker.cli.main import get_cli
from checker.cli.report import terminal_style
from checker.report import render
from checker.report.build import hide_states, relative_path
from checker.report.common import evidence_parts, rows
from checker.report.to_terminal import TerminalStyle
from tests.fake_wayback import FakeWayback
from tests.report_sample import link, sample_report
from tests.servers import LocalServer, page, redirect, serve

FAST = ["--host-interval", "0", "--retries", "0", "--timeout", "5", "--dns-canary", ""]


@pytest.fixture
def site() -> Iterator[LocalServer]:
    routes = {"/ok": page(200, title="Annual Report on Digital Policy"),
              "/gone": page(404, title="Not Found"),
              "/gone-archived": page(404, title="Not Found"),
              "/old": redirect(301, "/new"),
              "/new": page(200, title="Annual Report on Digital Policy")}
    with serve(routes) as server:
        yield server


@pytest.fixture
def wayback(wayback_env: FakeWayback) -> FakeWayback:
    return wayback_env


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("CITEWATCH_DB", "CI", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def cw(*args: str) -> Result:
    return CliRunner().invoke(get_cli(), list(args), catch_exceptions=False)


def _paper(here: Path, site: LocalServer) -> Path:
    urls = [site.url("/ok"), site.url("/gone-archived"), site.url("/gone"), site.url("/old"),
            "http://intranet.invalid/page"]
    notes = "".join(f"[^{i}]: “Annual Report on Digital Policy,” accessed May 1, 2020, {u}\n"
                    for i, u in enumerate(urls, 1))
    paper = here / "docs" / "paper.md"
    paper.parent.mkdir()
    paper.write_text("Body.[^1][^2][^3][^4][^5]\n\n" + notes)
    return paper


@pytest.fixture
def audited(here: Path, site: LocalServer, wayback: FakeWayback,
            paced_cli: click.Group) -> LocalServer:
    """docs/paper.md audited once: alive, dead with a capture, dead without, moved, skipped."""
    wayback.add(site.url("/gone-archived"), "20200420101500",
                title="Annual Report on Digital Policy")
    (here / ".citewatchignore").write_text("intranet\\.invalid\n")
    _paper(here, site)
    result = CliRunner().invoke(paced_cli, ["audit", str(here / "docs"), "--confirm", "1", *FAST,
                                            "--fail-on", "none"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return site


def _json(*args: str) -> dict[str, object]:
    result = cw("report", "--format", "json", *args)
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _links(data: dict[str, object]) -> list[dict[str, object]]:
    return [ln for d in data["documents"] for c in d["citations"]  # type: ignore[attr-defined]
            for ln in c["links"]]


# --- 1. problems first, alive and skipped left out, paths relative --------------------------------


def test_problems_first_and_alive_and_skipped_rows_only_with_all(audited: LocalServer) -> None:
    data = _json()
    assert [ln["cited_url"] for ln in _links(data)] == [
        audited.url("/gone"),            # lost, nothing to follow: first
        audited.url("/gone-archived"),   # lost, archived
        audited.url("/old"),             # moved
    ]
    assert data["hidden"] == ["skipped", "alive"]
    summary = data["summary"]
    assert summary["citations"] == 5     # type: ignore[index]
    assert summary["counts"]["alive"] == 1 and summary["counts"]["skipped"] == 1  # type: ignore[index]
    everything = _json("--all")
    assert everything["hidden"] == []
    assert [ln["state"] for ln in _links(everything)] == [
        "dead", "dead", "moved", "skipped", "alive"]
    # --only is a filter of its own: alive rows when asked for
    assert [ln["state"] for ln in _links(_json("--only", "alive"))] == ["alive"]


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html", "csv"])
def test_every_format_leaves_out_alive_rows_and_says_so(audited: LocalServer, fmt: str) -> None:
    text = cw("report", "--format", fmt).stdout
    assert audited.url("/gone") in text and audited.url("/ok") not in text
    if fmt != "csv":    # rows only: the count is the sum of the rows
        assert "1 skipped and 1 alive row(s) not shown" in text
    assert audited.url("/ok") in cw("report", "--format", fmt, "--all").stdout


def test_paths_are_relative_to_the_current_folder(audited: LocalServer) -> None:
    (document,) = _json()["documents"]  # type: ignore[misc]
    assert document["path"] == "docs/paper.md"
    assert "(docs/paper.md:" in cw("report").stdout


def test_a_path_outside_the_current_folder_stays_absolute(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    assert relative_path(str(folder / "docs" / "a.md"), folder) == "docs/a.md"
    assert relative_path(str(tmp_path / "other" / "a.md"), folder) == str(tmp_path / "other" / "a.md")
    assert relative_path("docs/a.md", folder) == "docs/a.md"


def test_rows_come_problems_first_in_the_renderers() -> None:
    order = [r.link.state for r in rows(sample_report())]
    assert order[:3] == ["soft-404", "dead", "drifted"]   # the one with no capture first
    assert order[-1] == "alive"


# --- 2. one line per problem for CI logs --------------------------------------------------------


def test_ci_logs_get_one_line_per_problem(audited: LocalServer, wayback: FakeWayback) -> None:
    gone, archived, old = (audited.url(p) for p in ("/gone", "/gone-archived", "/old"))
    capture = next(ln["capture"]["replay_url"] for ln in _links(_json())  # type: ignore[index]
                   if ln["cited_url"] == archived)
    lines = cw("report").stdout.splitlines()   # standard output is not a terminal here
    assert lines[:3] == [
        f"[dead 404] {gone} (docs/paper.md:5) → no capture",
        f"[dead 404] {archived} (docs/paper.md:4) → {capture}",
        f"[moved] {old} (docs/paper.md:6) → {audited.url('/new')}",
    ]
    assert lines[3] == "" and lines[4].startswith("citewatch report, ")
    assert "1 skipped and 1 alive row(s) not shown (--all shows them)." in lines
    table = cw("report", "--style", "table").stdout
    assert "┃ URL" in table and "[dead 404]" not in table


def test_a_lost_link_not_looked_up_says_so(here: Path, site: LocalServer) -> None:
    (here / "p.md").write_text(f"Body.[^1]\n\n[^1]: “Plan,” {site.url('/gone')}\n")
    cw("audit", "p.md", "--confirm", "1", "--no-archive", *FAST, "--fail-on", "none")
    assert cw("report").stdout.splitlines()[0] == (
        f"[dead 404] {site.url('/gone')} (p.md:3) → not looked up yet")


@pytest.mark.parametrize(("style", "to_terminal", "ci", "expected"), [
    ("auto", True, False, TerminalStyle.TABLE),
    ("auto", True, True, TerminalStyle.LINES),
    ("auto", False, False, TerminalStyle.LINES),
    ("table", False, True, TerminalStyle.TABLE),
    ("lines", True, False, TerminalStyle.LINES),
])
def test_the_terminal_style_follows_the_output(style: str, to_terminal: bool, ci: bool,
                                               expected: TerminalStyle) -> None:
    assert terminal_style(style, to_terminal=to_terminal, ci=ci) is expected


# --- 3. evidence once ----------------------------------------------------------------------------


def test_evidence_says_each_fact_once() -> None:
    row = link("https://a.example/x", "dead", status=404, reason="HTTP 404", checks=2)
    assert evidence_parts(row) == ["HTTP 404", "2 checks"]
    refused = link("https://a.example/y", "blocked", status=403,
                   reason="HTTP 403: the site refuses automated checks")
    assert evidence_parts(refused) == ["HTTP 403: the site refuses automated checks"]
    redirected = link("https://a.example/z", "alive", status=200,
                      final_url="https://a.example/new",
                      reason="HTTP 200 after a redirect to https://a.example/new")
    assert evidence_parts(redirected) == ["HTTP 200 after a redirect to https://a.example/new"]
    assert evidence_parts(link("https://a.example/w", "dead", status=4040, reason="HTTP 404")) == [
        "HTTP 4040", "HTTP 404"]


def test_html_labels_and_paths_do_not_wrap_letter_by_letter() -> None:
    html = render(sample_report(), "html")
    assert "td { overflow-wrap: break-word; }" in html and "td { overflow-wrap: anywhere" not in html
    assert '<td class="doc" title="Notes [bold]not markup[/bold]">docs/<wbr>notes.md</td>' in html
    assert '<span class="w">soft-404</span>' in html
    assert "td.label { white-space: nowrap; }" in html


def test_html_shows_repeated_evidence_once() -> None:
    report = sample_report()
    doc = report.documents[0]
    first = doc.citations[0]
    twice = replace(first.links[0], reason=f"HTTP {first.links[0].status}")
    report = replace(report, documents=(replace(doc, citations=(
        replace(first, links=(twice,)),)),))
    html = render(report, "html")
    cell = html.split('<td class="ev">', 1)[1].split("</td>", 1)[0]
    assert cell.count(f"HTTP {twice.status}") == 1


# --- 4. the state policy in every format --------------------------------------------------------


def test_the_report_names_the_state_policy_and_where_it_came_from(
        here: Path, audited: LocalServer) -> None:
    policy = _json()["summary"]["state_policy"]  # type: ignore[index]
    # audit's --confirm 1 was the first statement: stored, and read back from the database
    assert policy == {"confirm": 1, "confirm_spacing_s": 259200.0, "confirm_from": "database",
                      "confirm_spacing_from": "default"}
    flagged = _json("--confirm", "2")["summary"]["state_policy"]  # type: ignore[index]
    assert (flagged["confirm"], flagged["confirm_from"]) == (2, "command line")
    (here / "citewatch.toml").write_text('confirm = 2\nconfirm_spacing = "1d"\n')
    configured = _json()["summary"]["state_policy"]  # type: ignore[index]
    assert configured == {"confirm": 2, "confirm_spacing_s": 86400.0,
                          "confirm_from": "configuration", "confirm_spacing_from": "configuration"}
    line = ("State policy: a link is dead after 2 failing checks at least 1d apart "
            "(from the configuration file).")
    for fmt in ("terminal", "markdown", "html"):
        assert line in cw("report", "--format", fmt).stdout, fmt
    junit = ET.fromstring(cw("report", "--format", "junit").stdout)
    assert junit.find(".//property[@name='state_policy']").get("value") == line  # type: ignore[union-attr]


# --- 5. JUnit is the exit code --------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "exit_code", "failures"), [
    ("dead-unarchived", 1, 1), ("lost", 1, 2), ("any", 1, 3), ("moved", 1, 1), ("none", 0, 0)])
def test_junit_failures_are_the_exit_code_whatever_rows_are_shown(
        audited: LocalServer, policy: str, exit_code: int, failures: int) -> None:
    for shown in ([], ["--only", "alive"], ["--all"]):
        result = cw("report", "--format", "junit", "--fail-on", policy, *shown)
        root = ET.fromstring(result.stdout)
        assert (result.exit_code, int(root.get("failures") or 0)) == (exit_code, failures)
        assert root.get("tests") == "5"            # every citation link, hidden or not
    cases = {c.get("name", "").split(": ", 1)[1]: c for c in root.iter("testcase")}
    alive = cases[audited.url("/ok")]
    assert alive.find("failure") is None and alive.find("skipped") is None
    assert (alive.findtext("system-out") or "").startswith("state: alive")


def test_the_action_writes_junit_by_the_audits_policy() -> None:
    """The action's reports share the audit's --fail-on (never a hard-coded none) and the
    example workflow has no JUnit step of its own."""
    root = Path(__file__).parents[1]
    action = (root / "action.yml").read_text()
    assert "report --format junit --output" in action and "--fail-on none" not in action
    assert 'shared+=(--fail-on "$IN_FAIL_ON")' in action
    assert 'citewatch "${top[@]}" report "${shared[@]}" "$@"' in action
    for example in (root / "examples").iterdir():
        text = example.read_text(errors="replace")
        assert not ("junit" in text and "--fail-on none" in text), example.name


# --- 6. options mean the same in every command -----------------------------------------------------


def test_format_is_always_an_output_format() -> None:
    from checker.cli.commands import COMMANDS, load
    from citations import DocumentFormat

    # html and markdown are both; the others are only ever read
    document_formats = {f.value for f in DocumentFormat} - {"html", "markdown"}
    assert document_formats == {"plaintext", "pdf", "bibtex"}
    for name in COMMANDS:
        command = load(name)
        assert command is not None
        for param in command.params:
            if isinstance(param, click.Option) and "--format" in param.opts and not param.hidden:
                choices = set(getattr(param.type, "choices", ()))
                assert not choices & document_formats, name


def test_scan_takes_input_format_and_the_old_format_with_a_warning(here: Path) -> None:
    (here / "notes.txt").write_text("# Title\n\nBody.[^1]\n\n[^1]: “Plan,” https://example.org/a\n")
    assert cw("scan", "notes.txt", "--input-format", "markdown").exit_code == 0
    listed = json.loads(cw("citations", "--format", "json").stdout)
    assert [c["label"] for c in listed] == ["1"]           # read as Markdown footnotes
    old = cw("scan", "notes.txt", "--format", "markdown", "--db", "old.db")
    assert old.exit_code == 0
    assert "Warning: --format is deprecated here, use --input-format" in old.stderr
    assert "--format" not in cw("scan", "--help").stdout.replace("--input-format", "")
    clash = cw("scan", "notes.txt", "--format", "html", "--input-format", "markdown")
    assert clash.exit_code == 2


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_works_before_and_after_the_command(audited: LocalServer, here: Path,
                                                   where: str) -> None:
    (here / "ci.toml").write_text('fail_on = "moved"\n')
    args = ["report", "--format", "json"]
    result = cw("--config", "ci.toml", *args) if where == "before" else cw(*args, "--config",
                                                                            "ci.toml")
    assert result.exit_code == 1, result.stderr
    assert "fail the policy (moved)" in result.stderr


def test_config_after_the_command_is_read_instead_of_a_broken_one_in_the_folder(
        audited: LocalServer, here: Path) -> None:
    (here / "citewatch.toml").write_text("per_hots = 3\n")
    assert cw("report").exit_code == 4
    (here / "ci.toml").write_text('fail_on = "none"\n')
    assert cw("report", "--config", "ci.toml").exit_code == 0
    bad = cw("report", "--config", "missing.toml")
    assert bad.exit_code == 4 and "missing.toml: no such configuration file" in bad.stderr


def test_hidden_rows_are_counted_in_the_lines_summary() -> None:
    text = render(hide_states(sample_report()), "terminal", style="lines")
    assert "1 skipped and 1 alive row(s) not shown (--all shows them)." in text
    assert "long.example.org" not in text
