"""``report``, ``audit`` and ``fix`` as a user runs them: policies and exit codes, formats,
configuration errors, the change between runs, and repaired documents."""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import VirtualClock
from checker.cli.main import get_cli
from checker.cli.options import ArchiveTime
from tests.fake_wayback import FakeWayback, serve_wayback
from tests.servers import LocalServer, page, redirect, serve

FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0"]


class Site:
    """A loopback site whose pages can change between runs."""

    def __init__(self) -> None:
        self.gone = True
        routes = {
            "/live/brief": page(200, title="Digital Policy Brief 2021"),
            "/old/location": redirect(301, "/new/location"),
            "/new/location": page(200, title="Statement on Technology Sanctions"),
            "/lost/report": self._lost,
            "/vanished/note": page(404, title="Not Found"),
        }
        self.server = serve(routes)

    def _lost(self, exchange):  # type: ignore[no-untyped-def]
        if self.gone:
            return page(404, title="Not Found")(exchange)
        return page(200, title="Annual Report on Digital Policy")(exchange)


@pytest.fixture
def site() -> Iterator[tuple[Site, LocalServer]]:
    s = Site()
    with s.server as server:
        yield s, server


@pytest.fixture
def clock() -> VirtualClock:
    """Archive waits move a virtual clock, which the fake Wayback reads too (it refuses bursts)."""
    return VirtualClock()


@pytest.fixture
def wayback(clock: VirtualClock) -> Iterator[FakeWayback]:
    with serve_wayback(clock=clock) as fake:
        yield fake


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wayback: FakeWayback,  # type: ignore[no-untyped-def]
        clock: VirtualClock):
    monkeypatch.chdir(tmp_path)
    for name in ("CITEWATCH_DB", "IA_ACCESS_KEY", "IA_SECRET_KEY", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CITEWATCH_WAYBACK_URL", wayback.base_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(get_cli(archive_time=ArchiveTime(clock, clock.sleep)), list(args),
                                      catch_exceptions=False)


def _paper(tmp_path: Path, server: LocalServer, suffix: str = ".md") -> Path:
    lost, vanished = server.url("/lost/report"), server.url("/vanished/note")
    live, moved = server.url("/live/brief"), server.url("/old/location")
    if suffix == ".md":
        text = ("# Paper\n\nBody text.[^1] More.[^2] Also.[^3] And.[^4]\n\n"
                f"[^1]: “Annual Report on Digital Policy,” Ministry, accessed May 1, 2020, {lost}\n"
                f"[^2]: “Digital Policy Brief 2021,” {live}\n"
                f"[^3]: “Statement on Technology Sanctions,” {moved}\n"
                f"[^4]: “A vanished note,” {vanished}\n")
    elif suffix == ".txt":
        text = ("Digital policy has changed.1“Annual Report on Digital Policy,” Ministry, accessed "
                f"May 1, 2020, {lost}. More text here.2“A vanished note,” {vanished}.\n")
    else:
        text = ("<html><head><title>Paper</title></head><body><p>Text<sup><a href=\"#fn1\">1</a>"
                "</sup></p>\n<ol class=\"footnotes\">\n"
                f"<li id=\"fn1\">“Annual Report on Digital Policy,” accessed May 1, 2020, "
                f"<a class=\"ext\" href=\"{lost}\">report</a></li>\n</ol></body></html>\n")
    doc = tmp_path / f"paper{suffix}"
    doc.write_bytes(text.encode())
    return doc


def _archive_lost(wayback: FakeWayback, server: LocalServer) -> None:
    wayback.add(server.url("/lost/report"), "20200420101500", title="Annual Report on Digital Policy")


def test_audit_report_and_policies(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    _archive_lost(wayback, server)
    doc = _paper(tmp_path, server)
    result = run("audit", str(doc), *FAST, "--confirm", "1", "--format", "json", "--all")
    # the vanished note has no capture: dead-unarchived fails the default policy
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    rows = {link["cited_url"].rsplit("/", 2)[-2]: link
            for d in data["documents"] for c in d["citations"] for link in c["links"]}
    assert rows["lost"]["state"] == "dead"
    assert rows["lost"]["capture"]["replay_url"].endswith("/web/20200420101500/" + server.url("/lost/report"))
    assert rows["lost"]["fix"] == rows["lost"]["capture"]["replay_url"]
    assert rows["old"]["state"] == "moved" and rows["old"]["fix"] == server.url("/new/location")
    assert rows["vanished"]["state"] == "dead" and rows["vanished"]["capture"]["outcome"] == "no-capture"
    assert rows["live"]["state"] == "alive"
    assert data["summary"]["lost_unrecoverable"] == 1

    def code(*args: str) -> int:
        return run("report", "--format", "json", "--confirm", "1", *args).exit_code

    assert code("--fail-on", "none") == 0
    assert code("--fail-on", "moved") == 1
    assert code("--fail-on", "blocked") == 0
    assert code("--fail-on", "any") == 1
    assert code("--fail-on", "lost") == 1
    assert code("--fail-on", "nonsense") == 2
    assert code("--confirm", "3") == 0     # one failing check is "failing (1 of 3)", not lost yet
    only = json.loads(run("report", "--format", "json", "--confirm", "1", "--only", "moved").stdout)
    states = {link["state"] for d in only["documents"] for c in d["citations"] for link in c["links"]}
    assert states == {"moved"}


def test_every_format_writes_its_file(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    run("audit", str(_paper(tmp_path, server)), *FAST, "--confirm", "1", "--fail-on", "none")
    for fmt, probe in (("markdown", "| "), ("html", "<table"), ("csv", "cited_url"),
                       ("junit", "<testsuites"), ("terminal", "dead"), ("json", '"schema_version"')):
        out = tmp_path / f"report.{fmt}"
        result = run("report", "--confirm", "1", "--format", fmt, "--output", str(out),
                     "--fail-on", "none")
        assert result.exit_code == 0, result.stderr
        assert probe in out.read_text(encoding="utf-8"), fmt
        assert result.stdout == ""


def test_the_cycle_collector_is_back_on_after_a_report_whatever_happens(  # type: ignore[no-untyped-def]
    run, tmp_path, site, wayback,
) -> None:
    # paused while the report is built and written (checker.cli.report), never left off
    _, server = site
    run("audit", str(_paper(tmp_path, server)), *FAST, "--confirm", "1", "--fail-on", "none")
    assert gc.isenabled()
    missing = tmp_path / "no" / "such" / "report.json"   # an error once the report is built
    result = run("report", "--format", "json", "--output", str(missing))
    assert result.exit_code == 2
    assert f"Invalid value for '--output': cannot write {missing}: No such file or directory" \
        in result.stderr
    assert gc.isenabled()
    gc.disable()   # a caller that had it off finds it off
    try:
        assert run("report", "--format", "json", "--fail-on", "none").exit_code == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_fix_into_a_folder_that_does_not_exist_is_one_line(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    doc = _paper(tmp_path, server)
    run("audit", str(doc), *FAST, "--confirm", "1", "--fail-on", "none")
    missing = tmp_path / "no" / "such" / "paper.md"
    result = run("fix", str(doc), "--output", str(missing))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '--output': cannot write {missing}: No such file or directory")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="a device that is always full")
def test_a_report_that_cannot_be_written_whole_is_one_line(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    run("audit", str(_paper(tmp_path, server)), *FAST, "--confirm", "1", "--fail-on", "none")
    result = run("report", "--format", "html", "--output", "/dev/full")   # a full disk
    assert result.exit_code == 4
    assert result.stderr.splitlines()[-1] == (
        "Error: /dev/full: writing failed (No space left on device)")


def test_change_since_previous_run(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    state, server = site
    doc = _paper(tmp_path, server)
    run("audit", str(doc), *FAST, "--confirm", "1", "--no-archive", "--fail-on", "none")
    state.gone = False   # the report comes back
    run("check", *FAST, "--confirm", "1", "--max-age", "0")
    data = json.loads(run("report", "--format", "json", "--confirm", "1").stdout)
    assert data["summary"]["recovered"] == [server.url("/lost/report")]
    assert data["summary"]["newly_dead"] == []
    assert len(data["history"]) == 2


def test_audit_exit_codes_for_breakage(run, tmp_path, site) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    doc = _paper(tmp_path, server)
    (tmp_path / "empty.txt").write_text("")
    result = run("audit", str(doc), "empty.txt", *FAST, "--no-archive", "--fail-on", "none")
    assert result.exit_code == 3
    assert "empty.txt: empty file" in result.stderr
    (tmp_path / "c.db").write_text("not a database " * 100)
    assert run("audit", str(doc), "--db", "c.db", "--no-archive").exit_code == 4


def test_config_file_sets_defaults_and_rejects_unknown_keys(run, tmp_path, site) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    doc = _paper(tmp_path, server)
    (tmp_path / "citewatch.toml").write_text('fail_on = "moved"\nconfirm = 1\nhost_interval = 0\n')
    result = run("audit", str(doc), "--no-archive", "--format", "json")
    assert result.exit_code == 1
    assert "fail the policy (moved)" in result.stderr
    assert run("audit", str(doc), "--no-archive", "--fail-on", "none").exit_code == 0  # CLI wins
    (tmp_path / "citewatch.toml").write_text("per_hots = 3\n")
    bad = run("report")
    assert bad.exit_code == 4
    assert "unknown key 'per_hots'" in bad.stderr
    (tmp_path / "citewatch.toml").write_text('timeout = "fast"\n')
    bad = run("report")
    assert bad.exit_code == 4 and "'timeout' must be" in bad.stderr
    (tmp_path / "citewatch.toml").write_text('drift = "yes"\n')
    bad = run("report")
    assert bad.exit_code == 4 and "'drift' must be true or false" in bad.stderr


@pytest.mark.parametrize("suffix", [".md", ".txt", ".html"])
def test_fix_repairs_only_the_lost_links(run, tmp_path, site, wayback, suffix) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    _archive_lost(wayback, server)
    doc = _paper(tmp_path, server, suffix)
    original = doc.read_bytes()
    run("audit", str(doc), *FAST, "--confirm", "1", "--fail-on", "none")
    fixed = tmp_path / f"fixed{suffix}"
    result = run("fix", str(doc), "--output", str(fixed), "--confirm", "1")
    assert result.exit_code == 0, result.stderr
    assert "1 applied" in result.stderr
    assert doc.read_bytes() == original        # never modified in place unless asked
    old_lines = original.decode().splitlines()
    new_lines = fixed.read_text().splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert len(changed) == 1
    capture = "/web/20200420101500/" + server.url("/lost/report")
    assert capture in changed[0][1] and server.url("/lost/report") in changed[0][1]
    assert changed[0][1].count("/web/") == 1     # the vanished note has no capture: left alone
    dry = run("fix", str(doc), "--dry-run", "--confirm", "1")
    assert dry.stdout.startswith("--- a/") and capture in dry.stdout


def test_fix_needs_one_destination_and_an_unchanged_document(run, tmp_path, site) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    doc = _paper(tmp_path, server)
    run("audit", str(doc), *FAST, "--no-archive", "--fail-on", "none")
    assert run("fix", str(doc)).exit_code == 2
    doc.write_text(doc.read_text() + "\nmore\n")
    changed = run("fix", str(doc), "--dry-run")
    assert changed.exit_code == 2 and "changed since it was scanned" in changed.stderr


def test_report_on_locked_database(run, tmp_path, site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    run("audit", str(_paper(tmp_path, server)), *FAST, "--no-archive", "--fail-on", "none")
    monkeypatch.setattr("checker.store.database.DEFAULT_BUSY_TIMEOUT_S", 0.05)
    other = sqlite3.connect(tmp_path / "citewatch.db", isolation_level=None)
    other.execute("begin exclusive")
    try:
        result = run("audit", str(tmp_path / "paper.md"), *FAST, "--no-archive")
    finally:
        other.execute("rollback")
        other.close()
    assert result.exit_code == 4
    assert "locked" in result.stderr


def test_a_citation_that_already_cites_a_capture_is_not_unrecoverable(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    vanished = server.url("/vanished/note")
    doc = tmp_path / "archived.md"
    doc.write_text(f"[^1]: “A vanished note,” {vanished}, archived at "
                   f"https://web.archive.org/web/20190101000000/{vanished}\n")
    result = run("audit", str(doc), *FAST, "--confirm", "1", "--format", "json", "--no-archive")
    assert result.exit_code == 0, result.stderr   # lost, but the reader has the cited capture
    data = json.loads(result.stdout)
    links = {link["url"]: link for d in data["documents"] for c in d["citations"] for link in c["links"]}
    assert links[vanished]["state"] == "dead"
    assert links[vanished]["fix"] == f"https://web.archive.org/web/20190101000000/{vanished}"
    assert data["summary"]["lost_unrecoverable"] == 0
    assert "not verified" in links[vanished]["capture"]["reason"]


def test_fix_writes_a_legacy_encoded_document_back_in_its_encoding(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _, server = site
    _archive_lost(wayback, server)
    lost = server.url("/lost/report")
    doc = tmp_path / "доклад.txt"
    text = ("Цифровая политика России сильно изменилась за последние годы.1“Annual Report on "
            f"Digital Policy,” Министерство, accessed May 1, 2020, {lost}. Далее текст.\n")
    doc.write_bytes(text.encode("cp1251"))
    run("audit", str(doc), *FAST, "--confirm", "1", "--fail-on", "none")
    fixed = tmp_path / "fixed.txt"
    assert run("fix", str(doc), "--output", str(fixed), "--confirm", "1").exit_code == 0
    repaired = fixed.read_bytes().decode("cp1251")
    assert repaired.startswith("Цифровая политика")
    assert f"{lost} [archived 2020-04-20: " in repaired
