"""The database as a product (issue 14): the ``link_status`` and ``lost_citations`` views answer
what ``report`` answers, for sqlite-utils and datasette users, and the shipped datasette metadata
names only tables, views and columns that exist."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import Result

from archive import VirtualClock
from tests.fake_wayback import FakeWayback, serve_wayback
from tests.servers import LocalServer, page, serve

FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0"]
METADATA = Path(__file__).parent.parent / "datasette" / "metadata.json"


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with serve({"/alive": page(200, title="A live page"),
                "/capture": page(200, title="Lost report")}) as server:
        yield server


@pytest.fixture
def cli(run_on_clock: Callable[..., Result]) -> Callable[..., Result]:
    return run_on_clock


def _build(cli, tmp_path: Path, site: LocalServer, wayback: FakeWayback, *confirm: str) -> None:  # type: ignore[no-untyped-def]
    gone, lost = site.url("/gone"), site.url("/lost")
    wayback.add(gone, "20190301000000", "200", title="Gone report")
    (tmp_path / "paper.md").write_text(
        "Body.[^1][^2][^3][^4]\n\n"
        f"[^1]: Ministry, “Gone report,” March 3, 2019, {gone}\n"
        f"[^2]: Ministry, “Lost report,” 2018, {lost}\n"
        f"[^3]: Agency, “A live page,” {site.url('/alive')}\n"
        f"[^4]: Ministry, “Lost report,” 2018, {lost} [archived 2018-09-05: "
        f"<{site.url('/capture')}>]\n",
        encoding="utf-8")
    assert cli("scan", "paper.md").exit_code == 0
    assert cli("check", *FAST, *confirm).exit_code == 0
    assert cli("archive").exit_code == 0


@pytest.fixture
def wayback(clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWayback]:
    with serve_wayback(clock=clock) as fake:
        monkeypatch.setenv("CITEWATCH_WAYBACK_URL", fake.base_url)
        yield fake


def _report(cli) -> dict[tuple[str, str, str], dict[str, object]]:  # type: ignore[no-untyped-def]
    report = json.loads(cli("report", "--all", "--format", "json", "--fail-on", "none").stdout)
    return {(d["path"], c["key"], link["url"]): link
            for d in report["documents"] for c in d["citations"] for link in c["links"]}


def test_the_views_agree_with_the_report(cli, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _build(cli, tmp_path, site, wayback, "--confirm", "1")
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    assert {"link_status", "lost_citations"} <= set(db.view_names())
    rows = _report(cli)

    states = {r["url"]: r for r in db.query("select * from link_status")}
    for (_, _, url), link in rows.items():
        assert states[url]["state"] == link["state"], url
    assert states[site.url("/gone")]["state"] == "dead"
    assert states[site.url("/gone")]["policy_confirm"] == 1      # the stored policy
    assert states[site.url("/alive")]["state"] == "alive"
    assert states[site.url("/gone")]["latest_status"] == 404

    lost = {(r["document"], r["key"], r["url"]): r for r in db.query("select * from lost_citations")}
    expected = {key for key, link in rows.items()
                if link["state"] in ("dead", "soft-404", "drifted") and link["kind"] == "web"}
    assert set(lost) == expected
    for key, row in lost.items():
        capture = rows[key]["capture"]
        replay = capture["replay_url"] if isinstance(capture, dict) else None
        assert row["capture_url"] == replay, key
    gone = lost[("paper.md", "1", site.url("/gone"))]
    assert (gone["capture_source"], gone["lookup_outcome"]) == ("lookup", "found")
    assert gone["capture_url"].endswith("/web/20190301000000/" + site.url("/gone"))
    cited = lost[("paper.md", "4", site.url("/lost"))]
    assert cited["capture_source"] == "cited"                    # the note fix wrote
    assert lost[("paper.md", "2", site.url("/lost"))]["capture_url"] is None


def test_the_states_follow_the_stored_policy(cli, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _build(cli, tmp_path, site, wayback)                         # default policy: 3 checks
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    row = next(db.query("select * from link_status where url = ?", [site.url("/gone")]))
    assert (row["state"], row["state_label"], row["policy_confirm"]) == (
        "failing", "failing (1 of 3)", 3)
    assert list(db.query("select * from lost_citations")) == []
    # the policy stored by a command changes every state at once
    from checker.store.database import open_store

    with open_store(tmp_path / "citewatch.db") as store:
        store.set_setting("confirm", "1")
    row = next(db.query("select * from link_status where url = ?", [site.url("/gone")]))
    assert (row["state"], row["policy_confirm"]) == ("dead", 1)


def test_the_datasette_metadata_names_what_the_database_has(cli, tmp_path, site, wayback) -> None:  # type: ignore[no-untyped-def]
    _build(cli, tmp_path, site, wayback, "--confirm", "1")
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    tables = metadata["databases"]["citewatch"]["tables"]
    assert {"link_status", "lost_citations", "links", "citations"} <= set(tables)
    for name, spec in tables.items():
        assert name in db.table_names() + db.view_names(), name
        columns = {c.name for c in (db.table(name) if name in db.table_names() else db.view(name)).columns}
        assert set(spec.get("columns", {})) <= columns, name
        for label in (spec.get("label_column"),):
            assert label is None or label in columns


def test_a_database_made_before_the_views_gets_its_states_on_opening(  # type: ignore[no-untyped-def]
        cli, tmp_path, site, wayback) -> None:
    _build(cli, tmp_path, site, wayback, "--confirm", "1")
    path = tmp_path / "citewatch.db"
    db = sqlite_utils.Database(path)
    db.execute("drop view lost_citations")
    db.execute("drop view link_status")
    db.execute("drop table link_states")
    db.execute("delete from _sqlite_migrations where name = 'm011_views'")
    db.conn.commit()
    db.close()
    assert cli("citations", "--format", "json").exit_code == 0   # any command opens it
    db = sqlite_utils.Database(path)
    states = {r["url"]: r["state"] for r in db.query("select url, state from link_status")}
    assert states[site.url("/gone")] == "dead" and states[site.url("/alive")] == "alive"
