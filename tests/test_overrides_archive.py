"""Links set by hand in the configuration (issue 14): a link set "dead" (InternetArchiveBot's
permadead) gets its capture from ``citewatch archive`` like any lost link, and ``fix`` uses it; a
link set "alive" is not looked up; both are still checked, for the record."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import sqlite_utils
from click.testing import Result

from archive import VirtualClock
from tests.fake_wayback import FakeWayback, serve_wayback
from tests.servers import LocalServer, page, serve

FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0", "--confirm", "1"]


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with serve({"/withdrawn": page(200, title="Annual report")}) as server:
        yield server


@pytest.fixture
def cli(run_on_clock: Callable[..., Result]) -> Callable[..., Result]:
    return run_on_clock


@pytest.fixture
def wayback(clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWayback]:
    with serve_wayback(clock=clock) as fake:
        monkeypatch.setenv("CITEWATCH_WAYBACK_URL", fake.base_url)
        yield fake


def test_permadead_is_archived_and_fixed_permalive_is_not_looked_up(  # type: ignore[no-untyped-def]
        cli, tmp_path, site, wayback) -> None:
    withdrawn, members = site.url("/withdrawn"), site.url("/members")
    for url in (withdrawn, members):
        wayback.add(url, "20190301000000", "200", title="Annual report")
    (tmp_path / "paper.txt").write_text(
        "A paper.\n\nNotes\n"
        f"1. Ministry, “Annual report,” March 3, 2019, {withdrawn}\n"
        f"2. Club, “Members,” March 3, 2019, {members}\n", encoding="utf-8")
    (tmp_path / "citewatch.toml").write_text(
        f'[links."{withdrawn}"]\nstate = "dead"\nreason = "the report was withdrawn"\n'
        f'[links."{members}"]\nstate = "alive"\nreason = "behind a login"\n', encoding="utf-8")
    assert cli("scan", "paper.txt").exit_code == 0
    assert cli("check", *FAST).exit_code == 0     # answers 200 and 404: alive and dead, measured
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    checked = {r["url"]: r["verdict"] for r in db.query(
        "select l.url, k.verdict from checks k join links l on l.id = k.link_id")}
    assert checked == {withdrawn: "alive", members: "dead"}   # both fetched, for the record

    result = cli("archive")
    assert result.exit_code == 0, result.stderr
    looked_up = {r["url"]: r["outcome"] for r in db.query(
        "select l.url, s.outcome from snapshots s join links l on l.id = s.link_id")}
    assert looked_up == {withdrawn: "found"}                # permadead yes, permalive no

    report = json.loads(cli("report", "--all", "--format", "json", "--fail-on", "none").stdout)
    rows = {link["cited_url"]: link for d in report["documents"] for c in d["citations"]
            for link in c["links"]}
    assert rows[withdrawn]["state"] == "dead"
    assert rows[withdrawn]["fix"].endswith("/web/20190301000000/" + withdrawn)
    assert rows[members]["state"] == "alive" and rows[members]["fix"] is None

    fixed = cli("fix", "paper.txt", "--in-place")
    assert fixed.exit_code == 0 and "1 applied" in fixed.stderr
    text = (tmp_path / "paper.txt").read_text(encoding="utf-8")
    assert f"{withdrawn} [archived 2019-03-01: {wayback.base_url}/web/20190301000000/{withdrawn}]" in text
    assert "[archived" not in text.splitlines()[-1]          # the members page is left alone
