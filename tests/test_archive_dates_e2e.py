"""The capture a reader gets for each lost citation, end to end, on one test document that covers
every date rule: ``scan`` → ``check`` against a loopback site → ``archive`` against the strict
local Wayback fake → ``report``.

The document has no date of its own, and its citations are dated by an exact "accessed" day, a
month, a season, a bare year, or not at all (those fall back to the document's date, inferred
from its newest citation: January 2023). One link is unreachable, and one Russian page is cited
under an English title. The fake's captures are placed so that only the right rule picks the
expected capture: the newest capture (what a citation without a date got before), the capture
closest to the start of a period, or one that a title rulebook of the archive's own would refuse
or accept, all pick another.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner, Result

from archive import VirtualClock
from checker.cli.main import get_cli
from checker.cli.options import ArchiveTime
from tests.fake_wayback import FakeWayback
from tests.servers import LocalServer, reset, serve

FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0"]

#: footnote -> (path on the site, the capture expected, its target date, where that date is from)
EXPECTED = {
    "1": ("/gone/exact", "20200415000000", "2020-05-01", "accessed"),
    "2": ("/gone/month", "20230114000000", "2023-01", "published"),
    "3": ("/gone/season", "20050825000000", "2005-06/2005-08", "published"),
    "4": ("/gone/year", "20211120000000", "2021", "published"),
    "5": ("/gone/undated", "20230120000000", "2023-01", "inferred"),
    "6": ("/gone/russian", "20221105000000", "2023-01", "inferred"),
    "7": ("/down", "20221201000000", "2023-01", "inferred"),
}


@pytest.fixture
def site() -> Iterator[LocalServer]:
    # Every /gone/ path answers 404 (the default); /down resets the connection: unreachable.
    with serve({"/down": reset()}) as server:
        yield server


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeWayback,
        clock: VirtualClock) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    monkeypatch.setenv("CITEWATCH_WAYBACK_URL", fake.base_url)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(get_cli(archive_time=ArchiveTime(clock, clock.sleep)), list(args),
                                      catch_exceptions=False)

    return invoke


def _document(tmp_path: Path, site: LocalServer) -> Path:
    u = site.url
    doc = tmp_path / "undated-paper.md"
    doc.write_text(
        "A paper that states no date of its own.[^1]\n\n"
        f"[^1]: “Annual Report on Digital Policy,” Ministry, accessed May 1, 2020, "
        f"{u('/gone/exact')}\n"
        f"[^2]: “Sovereign internet law explained,” Agency news, January 2023, "
        f"{u('/gone/month')}\n"
        f"[^3]: “Summer school programme in network security,” University, Summer 2005, "
        f"{u('/gone/season')}\n"
        f"[^4]: “Annual statistics of the federal agency,” Federal Agency, 2021, "
        f"{u('/gone/year')}\n"
        f"[^5]: “Registry of domestic software products,” {u('/gone/undated')}\n"
        f"[^6]: “The Ministry plan for import substitution,” {u('/gone/russian')}\n"
        f"[^7]: “Status of the national data centre,” {u('/down')}\n",
        encoding="utf-8",
    )
    return doc


def _archive(fake: FakeWayback, site: LocalServer) -> None:
    def add(path: str, *stamps: str, title: str = "The cited page") -> None:
        for stamp in stamps:
            fake.add(site.url(path), stamp, title=title)

    # Exact day: the closest before the end of the day, not the one just after, nor the newest.
    add("/gone/exact", "20190101000000", "20200415000000", "20200503000000", "20240101000000",
        title="Annual Report on Digital Policy")
    # A month: inside January 2023; before it, after it, and the newest (what "no date" chose).
    add("/gone/month", "20221220000000", "20230114000000", "20230203000000", "20250910000000",
        title="Sovereign internet law explained")
    # A season: the latest inside June-August 2005; the one nearest the season's start is before.
    add("/gone/season", "20050525000000", "20050825000000", "20050902000000", "20240101000000",
        title="Summer school programme in network security")
    # A year: the latest inside 2021.
    add("/gone/year", "20201230000000", "20210601000000", "20211120000000", "20220102000000",
        title="Annual statistics of the federal agency")
    # No date: the document's inferred date (January 2023), not the newest capture.
    add("/gone/undated", "20220601000000", "20230120000000", "20240501000000",
        title="Registry of domestic software products")
    # A Russian page cited under an English title: its capture is the cited page; the capture in
    # the period itself is of a not-found page, in Russian.
    add("/gone/russian", "20221105000000", title="План Министерства по импортозамещению")
    add("/gone/russian", "20230110000000", title="Страница не найдена")
    add("/gone/russian", "20250101000000", title="План Министерства по импортозамещению")
    # Unreachable now: the capture nearest the inferred date is offered as a fallback.
    add("/down", "20221201000000", "20250101000000", title="Status of the national data centre")


def test_every_citation_gets_the_capture_of_its_own_date(
    run: Any, tmp_path: Path, site: LocalServer, fake: FakeWayback
) -> None:
    _archive(fake, site)
    assert run("scan", str(_document(tmp_path, site))).exit_code == 0
    assert run("check", *FAST, "--confirm", "1").exit_code in (0, 1)
    result = run("archive")
    assert result.exit_code == 0, result.stderr
    assert not fake.refused and fake.max_connections_seen <= 2

    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    document = next(db.query("select date, date_source from documents"))
    assert (document["date"], document["date_source"]) == ("2023-01", "inferred")
    rows = {r["key"]: r for r in db.query(
        "select c.key, s.* from snapshots s join citations c on c.id = s.citation_id")}
    for key, (_, stamp, target, kind) in EXPECTED.items():
        row = rows[key]
        assert (row["outcome"], row["timestamp"], row["target_date"], row["target_kind"]) == (
            "found", stamp, target, kind), key

    report = json.loads(run("report", "--confirm", "1", "--format", "json").stdout)
    links = {c["key"]: (c, c["links"][0]) for d in report["documents"] for c in d["citations"]}
    month, month_link = links["2"]
    assert month["published"] == "2023-01"
    assert month_link["capture"]["target"] == "2023-01"
    assert month_link["capture"]["target_kind"] == "published"
    assert month_link["capture"]["distance_days"] == 0
    down = links["7"][1]
    assert down["state"] == "unreachable" and not down["lost"] and not down["unrecoverable"]
    assert down["fix"] == down["capture"]["replay_url"]
    assert report["summary"]["lost"] == 6

    markdown = run("report", "--confirm", "1", "--format", "markdown").stdout
    assert "within January 2023, published" in markdown
    assert "unreachable now; archived copy" in markdown
    assert "the document's date, inferred from its newest source" in markdown


def test_the_citations_listing_shows_dates_as_cited(
    run: Any, tmp_path: Path, site: LocalServer
) -> None:
    run("scan", str(_document(tmp_path, site)))
    listed = {c["key"]: c for c in json.loads(run("citations", "--format", "json").stdout)}
    assert [listed[k]["published"] for k in "1234"] == [None, "2023-01", "2005-06/2005-08", "2021"]
    assert listed["1"]["accessed"] == "2020-05-01"
    table = run("citations").stdout
    assert "January 2023" in table and "June–August 2005" in table


def test_a_citation_whose_date_changed_is_looked_up_again_and_only_it(
    run: Any, tmp_path: Path, site: LocalServer, fake: FakeWayback
) -> None:
    _archive(fake, site)
    doc = _document(tmp_path, site)
    run("scan", str(doc))
    run("check", *FAST, "--confirm", "1")
    assert run("archive").exit_code == 0
    doc.write_text(doc.read_text(encoding="utf-8").replace("January 2023", "February 2023"),
                   encoding="utf-8")
    run("scan", str(doc))
    again = run("archive")
    assert again.exit_code == 0, again.stderr
    # footnote 2 now, and the undated ones whose inferred date moved with it
    assert "Looked up 4 lost or unreachable link(s)" in again.stderr
    assert "3 answered from the database" in again.stderr
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    month = next(db.query("select s.timestamp, s.target_date from snapshots s join citations c "
                          "on c.id = s.citation_id where c.key = '2'"))
    assert (month["timestamp"], month["target_date"]) == ("20230203000000", "2023-02")
