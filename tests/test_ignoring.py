"""Ignoring on purpose (.citewatchignore, exclude_path, .gitignore), links whose state is set in
the configuration, truthful "not looked up yet" summaries, and JUnit failures that match the exit
code. Real loopback sites and the fake Wayback Machine; no network."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from checker.cli.main import get_cli
from checker.run.collect import collect_documents
from tests.fake_wayback import FakeWayback
from tests.servers import LocalServer, page, serve

FAST = ["--confirm", "1", "--host-interval", "0", "--retries", "0", "--timeout", "5",
        "--dns-canary", ""]


@pytest.fixture
def site() -> Iterator[LocalServer]:
    routes = {"/ok": page(200, title="Annual Report on Digital Policy"),
              "/gone": page(404, title="Not Found"),
              "/members": page(403, title="Sign in")}
    with serve(routes) as server:
        yield server


@pytest.fixture
def wayback(wayback_env: FakeWayback) -> FakeWayback:
    return wayback_env


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder, where .citewatchignore and citewatch.toml are read from."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _paper(folder: Path, *urls: str, name: str = "paper.md") -> Path:
    notes = "".join(f"[^{i}]: “Annual Report on Digital Policy,” accessed May 1, 2020, {u}\n"
                    for i, u in enumerate(urls, 1))
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Body." + "".join(f"[^{i}]" for i in range(1, len(urls) + 1)) + "\n\n" + notes)
    return path


def _audit(*args: str, cli: click.Group | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli or get_cli(), ["audit", *args, *FAST], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --- which documents are scanned ----------------------------------------------------------------


def _names(found: tuple[Path, ...], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in found]


def test_gitignore_rules_leave_folders_and_files_out(tmp_path: Path) -> None:
    for name in ("docs/a.md", "docs/drafts/b.md", "node_modules/pkg/readme.md", "docs/keep.md",
                 "docs/sub/c.md", "docs/sub/d.md", ".hidden/e.md"):
        _paper(tmp_path, "https://example.org/", name=name)
    (tmp_path / ".gitignore").write_text("node_modules/\ndrafts/\n")
    (tmp_path / "docs" / "sub" / ".gitignore").write_text("*.md\n!d.md\n")   # the deepest wins
    collected = collect_documents([tmp_path])
    assert _names(collected.files, tmp_path) == ["docs/a.md", "docs/keep.md", "docs/sub/d.md"]
    assert collected.ignored == 3 and collected.errors == ()   # 2 folders, 1 file; hidden: not
    every = collect_documents([tmp_path], gitignore=False)
    assert len(every.files) == 6


def test_the_repository_root_gitignore_applies_to_a_folder_inside_it(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("/docs/drafts/\n")
    _paper(tmp_path, "https://example.org/", name="docs/a.md")
    _paper(tmp_path, "https://example.org/", name="docs/drafts/b.md")
    assert _names(collect_documents([tmp_path / "docs"]).files, tmp_path) == ["docs/a.md"]


def test_exclude_path_patterns_and_named_files(tmp_path: Path) -> None:
    _paper(tmp_path, "https://example.org/", name="docs/a.md")
    _paper(tmp_path, "https://example.org/", name="docs/old/b.md")
    _paper(tmp_path, "https://example.org/", name="docs/c.tmp.md")
    (tmp_path / "docs" / ".gitignore").write_text("c.tmp.md\n")
    collected = collect_documents([tmp_path / "docs"], exclude_path=("old/",))
    assert _names(collected.files, tmp_path) == ["docs/a.md"]
    # A file named on the command line is read even if .gitignore lists it, not if excluded.
    named = collect_documents([tmp_path / "docs" / "c.tmp.md"])
    assert _names(named.files, tmp_path) == ["docs/c.tmp.md"]
    assert collect_documents([tmp_path / "docs" / "c.tmp.md"], exclude_path=("*.tmp.md",)).files == ()


def test_scan_takes_exclude_path_from_the_option_and_the_configuration(here: Path) -> None:
    _paper(here, "https://example.org/a", name="docs/a.md")
    _paper(here, "https://example.org/b", name="docs/drafts/b.md")
    _paper(here, "https://example.org/c", name="docs/notes/c.md")
    (here / "citewatch.toml").write_text('exclude_path = ["drafts/"]\n')
    runner = CliRunner()
    result = runner.invoke(get_cli(), ["scan", "docs", "--db", "a.db"])
    assert result.exit_code == 0, result.output
    assert "Scanned 2 document(s)" in result.stderr and "1 path(s) ignored" in result.stderr
    # On the command line it replaces the configuration's list, as every option does.
    result = runner.invoke(get_cli(), ["scan", "docs", "--db", "b.db", "--exclude-path", "notes/"])
    assert "Scanned 2 document(s)" in result.stderr
    listed = runner.invoke(get_cli(), ["citations", "--db", "b.db", "--format", "json"])
    assert sorted(c["urls"][0]["cited"] for c in json.loads(listed.stdout)) == [
        "https://example.org/a", "https://example.org/b"]


# --- which URLs are checked ---------------------------------------------------------------------


def test_citewatchignore_skips_urls_like_exclude(here: Path, site: LocalServer) -> None:
    _paper(here, site.url("/ok"), site.url("/gone"))
    (here / ".citewatchignore").write_text("# the intranet is checked by hand\n\n/gone$\n")
    code, out, err = _audit("paper.md", "--no-archive", "--format", "json", "--all")
    assert code == 0, err
    states = {r["cited_url"]: r["state"] for r in _rows(out)}
    assert states == {site.url("/ok"): "alive", site.url("/gone"): "skipped"}
    assert not any(r.path == "/gone" for r in site.requests)   # never fetched


def test_the_configuration_names_another_ignore_file(here: Path, site: LocalServer) -> None:
    _paper(here, site.url("/gone"))
    (here / "ci").mkdir()
    (here / "ci" / "ignore.txt").write_text("/gone$\n")
    (here / "citewatch.toml").write_text('ignore_file = "ci/ignore.txt"\n')
    code, out, _ = _audit("paper.md", "--no-archive", "--format", "json", "--all")
    assert code == 0 and [r["state"] for r in _rows(out)] == ["skipped"]


def test_a_bad_ignore_line_is_a_configuration_error(here: Path) -> None:
    _paper(here, "https://example.org/")
    (here / ".citewatchignore").write_text("fine\n(unclosed\n")
    result = CliRunner().invoke(get_cli(), ["scan", "paper.md", "--db", "c.db"])
    assert result.exit_code == 4
    assert ".citewatchignore:2: not a regular expression: '(unclosed'" in result.stderr


# --- states set in the configuration --------------------------------------------------------------


def test_links_set_alive_or_dead_in_the_configuration(here: Path, site: LocalServer,
                                                       wayback: FakeWayback,
                                                       paced_cli: click.Group) -> None:
    _paper(here, site.url("/members"), site.url("/ok"))
    (here / "citewatch.toml").write_text(
        f'[links."{site.url("/members")}"]\nstate = "alive"\nreason = "behind a login"\n'
        f'[links."{site.url("/ok")}"]\nstate = "dead"\nreason = "the report was withdrawn"\n')
    code, out, _ = _audit("paper.md", "--format", "json", "--all", cli=paced_cli)
    rows = {r["cited_url"]: r for r in _rows(out)}
    members, ok = rows[site.url("/members")], rows[site.url("/ok")]
    assert (members["state"], members["reason"]) == ("alive", "behind a login")
    assert (ok["state"], ok["reason"]) == ("dead", "the report was withdrawn")
    assert code == 1   # the withdrawn report has no capture: the default policy fails
    markdown = CliRunner().invoke(get_cli(), ["report", "--format", "markdown", "--confirm", "1"])
    assert "the report was withdrawn" in markdown.stdout
    assert "dead (set in configuration)" in markdown.stdout


def test_a_link_state_other_than_alive_or_dead_is_refused(here: Path) -> None:
    (here / "citewatch.toml").write_text('[links."https://example.org/"]\nstate = "moved"\n')
    result = CliRunner().invoke(get_cli(), ["report"])
    assert result.exit_code == 4 and 'state must be "alive" or "dead"' in result.stderr


# --- truthful reasons ---------------------------------------------------------------------------


def test_no_capture_is_claimed_before_the_archive_was_asked(here: Path, site: LocalServer,
                                                             wayback: FakeWayback,
                                                             paced_cli: click.Group) -> None:
    _paper(here, site.url("/gone"))
    code, out, _ = _audit("paper.md", "--no-archive", "--format", "markdown")
    assert code == 1
    assert "no archive capture was found" not in out
    assert "not looked up in an archive yet (run citewatch archive)" in out
    assert "🔴 dead<br>not looked up yet |" in out   # the row's capture, not a blank
    html = CliRunner().invoke(get_cli(), ["report", "--format", "html", "--confirm", "1"]).stdout
    assert "no archive capture was found" not in html and "not looked up in an archive yet" in html
    # Once the archive was asked (it has no capture), the summary may say so.
    CliRunner().invoke(paced_cli, ["archive", "--confirm", "1"], catch_exceptions=False)
    after = CliRunner().invoke(get_cli(), ["report", "--format", "markdown", "--confirm", "1"])
    assert "no archive capture was found" in after.stdout
    assert "not looked up" not in after.stdout


# --- JUnit agrees with the exit code --------------------------------------------------------------


@pytest.mark.parametrize(("policy", "exit_code", "failures"), [
    ("dead-unarchived", 1, 1),   # the archived dead link does not fail the policy, nor JUnit
    ("lost", 1, 2),
    ("none", 0, 0),
])
def test_junit_failures_are_what_fails_the_policy(here: Path, site: LocalServer,
                                                   wayback: FakeWayback, paced_cli: click.Group,
                                                   policy: str, exit_code: int, failures: int) -> None:
    (here / "a").mkdir()
    site.routes["/gone-archived"] = page(404, title="Not Found")
    wayback.add(site.url("/gone-archived"), "20200420101500",
                title="Annual Report on Digital Policy")
    _paper(here, site.url("/gone"), site.url("/gone-archived"), site.url("/ok"))
    code, _, _ = _audit("paper.md", "--format", "junit", "--output", "r.xml", "--fail-on", policy,
                        cli=paced_cli)
    suites = ET.parse(here / "r.xml").getroot()
    assert (code, int(suites.get("failures") or 0)) == (exit_code, failures)
    report = CliRunner().invoke(get_cli(), ["report", "--format", "junit", "--confirm", "1",
                                            "--fail-on", policy])
    assert report.exit_code == exit_code
    assert int(ET.fromstring(report.stdout).get("failures") or 0) == failures


def _rows(json_text: str) -> list[dict[str, object]]:
    data = json.loads(json_text)
    return [link for d in data["documents"] for c in d["citations"] for link in c["links"]]
