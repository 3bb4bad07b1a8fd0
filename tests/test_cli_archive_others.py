"""``citewatch archive`` with an archive after the Wayback Machine: end to end on the local fakes,
stored, reported with the archive's name, fixed, and asked nothing again on a rerun."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from archive import VirtualClock
from checker.cli.main import get_cli
from tests.fake_memento import FakeMemento, serve_memento
from tests.fake_wayback import FakeWayback
from tests.test_cli_archive import (  # noqa: F401  (fixtures)
    FAST,
    archive_settings_of,
    clock,
    run,
    site,
    wayback,
)


@pytest.fixture
def other(clock: VirtualClock):  # type: ignore[no-untyped-def]  # noqa: F811
    with serve_memento(name="archive.today", clock=clock) as fake:
        yield fake


def test_a_citation_wayback_cannot_resolve_gets_the_capture_of_another_archive(  # type: ignore[no-untyped-def]
        run, tmp_path: Path, site, wayback: FakeWayback, other: FakeMemento) -> None:  # noqa: F811
    gone, lost = site.url("/gone/report"), site.url("/gone/other")
    wayback.add(gone, "20200415000000", title="Annual Report on Digital Policy")
    other.add(gone, "20200401000000", title="Annual Report on Digital Policy")
    other.add(lost, "20190301000000", title="Another report")
    other.add(lost, "20210301000000", title="Another report")
    doc = tmp_path / "paper.md"
    doc.write_text(
        f"[^1]: “Annual Report on Digital Policy,” accessed May 1, 2020, {gone}\n"
        f"[^2]: “Another report,” accessed June 1, 2019, {lost}\n")
    run("scan", str(doc))
    run("check", *FAST, "--confirm", "1")
    spec = f"archive.today={other.archive.timemap},{other.archive.timegate}"
    result = run("archive", "--memento-archive", spec)
    assert result.exit_code == 0, result.stderr
    assert "other archives: archive.today 1 found in 2 request(s)" in result.stderr
    assert other.counts == {"timemap": 1, "memento": 1}       # not asked about footnote 1
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    rows = {r["key"]: r for r in db.query(
        "select c.key, s.* from snapshots s join citations c on c.id = s.citation_id")}
    assert rows["1"]["archive"] == "wayback"
    assert (rows["2"]["archive"], rows["2"]["timestamp"]) == ("archive.today", "20190301000000")
    assert rows["2"]["replay_url"] == other.memento_url(lost, "20190301000000")

    again = run("archive", "--memento-archive", spec)
    assert again.exit_code == 0 and other.total == 2          # cached: nothing asked again

    report = run("report", "--format", "markdown", "--confirm", "1")
    assert "2019-03-01](<" in report.stdout and ">) at archive.today" in report.stdout
    fixed = run("fix", str(doc), "--dry-run", "--confirm", "1")
    assert f"[archived 2019-03-01 at archive.today: <{rows['2']['replay_url']}>]" in fixed.stdout


@pytest.mark.parametrize(("config", "args", "expected"), [
    ("", [], []),                                                        # Wayback only
    ('archives = "wayback,loc,archive.today"\n', [], ["loc", "archive.today"]),
    ('archives = "loc"\n', ["--archives", "ukwa", "--memento-aggregator", "http://mg:1208"],
     ["ukwa", "memgator"]),
])
def test_archives_from_the_command_line_and_the_config_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, args: list[str],
        expected: list[str]) -> None:
    settings = archive_settings_of(tmp_path, monkeypatch, config, args)
    assert [a.name for a in settings.memento_archives] == expected


def test_an_unknown_archive_is_a_usage_error(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "citewatch.db").touch()
    result = CliRunner().invoke(get_cli(), ["archive", "--db", "citewatch.db",
                                            "--archives", "wayback,nope"])
    assert result.exit_code == 2
    assert "unknown archive 'nope'" in result.stderr
