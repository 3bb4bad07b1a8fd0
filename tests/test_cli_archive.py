"""``citewatch archive`` end to end: scan, check against a loopback site, resolve captures on the
local fake Wayback Machine, store them, and ask nothing again on a rerun."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import sqlite_utils
from click.testing import CliRunner

from archive import ArchiveSettings, VirtualClock
from checker.cli import archive as archive_command
from checker.cli.main import get_cli
from checker.cli.options import ArchiveTime
from checker.run.archiving import ArchiveSummary
from tests.fake_wayback import FakeWayback, serve_wayback
from tests.servers import LocalServer, page, serve

FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0",
        "--exclude", r"^https?://(www\.)?example\.org/"]


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with serve({"/alive/report": page(200, title="A live report on policy")}) as server:
        yield server


@pytest.fixture
def wayback(clock: VirtualClock) -> Iterator[FakeWayback]:
    with serve_wayback(clock=clock) as fake:      # on the archive's clock: it refuses bursts
        yield fake


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """Archive waits (paces, 429 pauses, Save Page Now polls) move a virtual clock instead of
    taking real time."""
    clock = VirtualClock()
    return clock


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wayback: FakeWayback,  # type: ignore[no-untyped-def]
        clock: VirtualClock):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    monkeypatch.setenv("CITEWATCH_WAYBACK_URL", wayback.base_url)
    monkeypatch.delenv("IA_ACCESS_KEY", raising=False)
    monkeypatch.delenv("IA_SECRET_KEY", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(get_cli(archive_time=ArchiveTime(clock, clock.sleep)), list(args),
                                      catch_exceptions=False)


def _paper(tmp_path: Path, site: LocalServer) -> Path:
    gone = site.url("/gone/report")
    doc = tmp_path / "paper.md"
    doc.write_text(
        "Body.\n\n"
        f"[^1]: “Annual Report on Digital Policy,” Ministry, accessed May 1, 2020, {gone}\n"
        f"[^2]: “Annual Report on Digital Policy,” Ministry, March 3, 2019, {gone}\n"
        f"[^3]: “A live report on policy,” {site.url('/alive/report')}\n"
        "[^4]: “Old page,” https://web.archive.org/web/20200101000000/http://example.org/page\n"
    )
    return doc


def test_lost_citations_get_the_capture_of_their_own_date(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    gone = site.url("/gone/report")
    for ts, status in (("20190301000000", "200"), ("20200415000000", "200"),
                       ("20200601000000", "200"), ("20210101000000", "404")):
        wayback.add(gone, ts, status, title="Annual Report on Digital Policy")
    wayback.add("http://example.org/page", "20200101000000", title="Old page")
    run("scan", str(_paper(tmp_path, site)))
    assert run("check", *FAST, "--confirm", "1").exit_code == 0
    result = run("archive")
    assert result.exit_code == 0, result.stderr
    assert "Looked up 1 lost or unreachable link(s): 2 citation(s) with a capture" in result.stderr
    assert wayback.counts["cdx"] + wayback.counts["availability"] <= 1   # one lookup for two dates
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    rows = {r["key"]: r for r in db.query(
        "select c.key, s.* from snapshots s join citations c on c.id = s.citation_id")}
    assert rows["1"]["timestamp"] == "20200415000000"      # closest before "accessed May 1, 2020"
    assert rows["1"]["target_kind"] == "accessed"
    assert rows["2"]["timestamp"] == "20190301000000"      # closest to its publication date
    assert rows["2"]["target_kind"] == "published"
    assert rows["1"]["replay_url"].endswith("/web/20200415000000/" + gone)
    assert rows["4"]["outcome"] == "found"                  # the cited Wayback link still replays
    assert "3" not in rows                                  # alive: nothing to look up

    before = sum(wayback.counts.values())
    again = run("archive")
    assert again.exit_code == 0
    assert sum(wayback.counts.values()) == before           # cached: no request at all
    assert "answered from the database" in again.stderr


def test_no_capture_is_recorded_as_such(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    run("scan", str(_paper(tmp_path, site)))
    run("check", *FAST, "--confirm", "1")
    result = run("archive")
    assert result.exit_code == 0, result.stderr
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    outcomes = {r["key"]: r["outcome"] for r in db.query(
        "select c.key, s.outcome from snapshots s join citations c on c.id = s.citation_id")}
    assert outcomes == {"1": "no-capture", "2": "no-capture", "4": "no-capture"}


def test_repeated_429_stops_cleanly_with_exit_4(run, tmp_path, site, wayback, clock) -> None:  # type: ignore[no-untyped-def]
    run("scan", str(_paper(tmp_path, site)))
    run("check", *FAST, "--confirm", "1")
    for endpoint in ("cdx", "availability", "replay"):
        wayback.fail(endpoint, 429, times=50)
    started = clock()
    result = run("archive", "--max-age", "0", "--pause-on-429", "90", "--max-429", "4")
    assert result.exit_code == 4, result.stderr
    assert "stopped early" in result.stderr and "Traceback" not in result.stderr
    assert "429 4 times in a row" in result.stderr
    assert clock() - started >= 3 * 90  # paused after each 429 before giving up on the 4th


def test_save_asks_for_live_links_without_capture(run, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    run("scan", str(_paper(tmp_path, site)))
    run("check", *FAST, "--confirm", "1")
    result = run("archive", "--save")
    assert result.exit_code == 0, result.stderr
    saved = [r for r in wayback.log if r.endpoint == "save"]
    assert [parse_qs(r.body)["url"] for r in saved] == [[site.url("/alive/report")]]
    assert all("authorization" not in {k.lower() for k in r.headers} for r in saved)
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    assert [r["outcome"] for r in db["saves"].rows] == ["saved"]


def test_an_unreachable_archive_stops_the_run_quickly(run, tmp_path, site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as s:       # a port nobody listens on: every request is refused
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    doc = tmp_path / "many.md"
    doc.write_text("".join(f"[^{i}]: “Report {i},” {site.url(f'/gone/{i}')}\n" for i in range(1, 9)))
    run("scan", str(doc))
    run("check", *FAST, "--confirm", "1")
    result = run("archive", "--wayback-url", closed)
    assert result.exit_code == 4, result.stderr
    assert "did not answer" in result.stderr and "requests in a row" in result.stderr
    assert "Traceback" not in result.stderr
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    # what was asked before the stop is recorded as unknown, never as "no capture"
    assert {r["outcome"] for r in db["snapshots"].rows} <= {"unknown"}
    stopped = [r["reason"] for r in db["snapshots"].rows if r["reason"].startswith("stopped")]
    assert stopped and all("did not answer" in r and "429" not in r for r in stopped)


@pytest.mark.parametrize(("config", "args", "expected"), [
    ("", [], 2),                                              # the default
    ("archive_per_host = 1\n", [], 1),                        # from the configuration file
    ("archive_per_host = 1\n", ["--archive-per-host", "3"], 3),   # the command line wins
])
def test_archive_per_host_from_the_command_line_and_the_config_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, args: list[str],
        expected: int) -> None:
    assert archive_settings_of(tmp_path, monkeypatch, config, args).per_host_connections == \
        expected


def archive_settings_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str,
                        args: list[str]) -> ArchiveSettings:
    """The ArchiveSettings ``citewatch archive ARGS`` builds under the configuration CONFIG
    (the run itself is replaced: nothing is asked of any archive)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    (tmp_path / "citewatch.toml").write_text(config)
    (tmp_path / "citewatch.db").touch()
    seen = []

    def capture(store, settings, rule, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(settings)
        return ArchiveSummary()

    monkeypatch.setattr(archive_command, "run_archive", capture)
    result = CliRunner().invoke(get_cli(), ["archive", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert len(seen) == 1
    return seen[0]
