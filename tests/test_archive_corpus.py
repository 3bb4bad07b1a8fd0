"""The shared report (233 footnotes, 265 URLs, dated by days, months, seasons, years or not at
all) with every web link lost, resolved in one run at the default settings against the strict
Wayback fake: every lost citation is looked up, the fake refuses nothing, no more than 2
connections are ever open, and every citation gets the capture taken inside its own cited period
(each period holds one; the others lie before it and at the newest end).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from archive import ArchiveSettings, VirtualClock, settings_from_env
from checker.judge.state import ConfirmRule
from checker.models import CheckResult, Observation, Verdict
from checker.run.archiving import run_archive, target_of
from checker.store.database import Store, open_store
from checker.store.rows import CitedLink
from citations.parse import parse_document
from tests.corpus import CORPUS
from tests.fake_wayback import FakeWayback, stamp

pytestmark = pytest.mark.usefixtures("shared_corpus")  # skipped without it, failed under CI


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "citewatch.db") as store:
        store.save_document(parse_document(CORPUS))
        yield store


def _all_lost(store: Store) -> list[CitedLink]:
    cited = [c for c in store.cited_links() if c.kind == "web"]
    when = datetime(2026, 11, 1, tzinfo=UTC)
    for link_id in sorted({c.link_id for c in cited}):
        url = next(c.url for c in cited if c.link_id == link_id)
        store.record_check(link_id, CheckResult(
            url=url, verdict=Verdict.DEAD, reason="HTTP 404",
            observation=Observation(url=url, status=404), checked_at=when), run_id=None)
    return cited


def _capture_inside_each_period(fake: FakeWayback, cited: list[CitedLink]) -> None:
    """One capture in the middle of every citation's period, one a year before it, and the
    newest one (what a citation without its date used to get)."""
    for c in cited:
        target = target_of(c)
        assert target is not None and target.start is not None and target.cited is not None
        middle = target.start + (target.end - target.start) / 2
        title = c.title or "An archived page"
        for moment in (middle, target.start - timedelta(days=365),
                       datetime.combine(datetime(2026, 9, 1).date(), time(12), tzinfo=UTC)):
            fake.add(c.url, stamp(moment), title=title)


def test_every_lost_citation_of_the_report_gets_a_capture_of_its_own_period(
    store: Store, fake: FakeWayback, clock: VirtualClock
) -> None:
    cited = _all_lost(store)
    _capture_inside_each_period(fake, cited)
    urls = {c.url for c in cited}
    assert len(urls) > 200                       # the report's web links, all lost

    settings = settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url},
                                 base=ArchiveSettings())
    summary = run_archive(store, settings, ConfirmRule(count=1), document_ids=None,
                          max_age_s=0, save=False, clock=clock, sleep=clock.sleep, quiet=True)

    assert summary.stopped is None
    assert summary.looked_up == len(urls)        # every lost link, in one run
    assert not fake.refused                   # no 429 at all
    assert fake.max_connections_seen <= 2 and fake.max_in_progress_seen <= 2
    rows = list(store.db.query("select s.outcome, s.distance_s, s.target_kind from snapshots s "
                               "join links l on l.id = s.link_id where l.kind = 'web'"))
    assert len(rows) == len({(c.citation_id, c.link_id) for c in cited})
    assert {r["outcome"] for r in rows} == {"found"}
    assert {r["distance_s"] for r in rows} == {0}    # inside the cited period, every one
    kinds = {r["target_kind"] for r in rows}
    assert {"published", "inferred"} <= kinds
