"""Compacted history gives the states, dates and outages that every check gives.

Random histories (fixed seeds) of one link, and of a few cited links over many nights, are
stored three ways: one row per check (a database migrated within its window), folded as they are
recorded (``record_check``), and folded afterwards (``prune``). Each must give exactly what the
raw checks give to ``link_state``, under several confirmation rules, now and at past moments, and
the same report (states, labels, "failing since", counts, newly lost and recovered, the chart).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from checker.judge.state import (
    CheckRecord,
    CheckRun,
    ConfirmRule,
    history_of,
    link_state,
    run_records,
    states_at,
)
from checker.models import CheckResult, Observation, Verdict
from checker.report.build import build_report
from checker.store.database import open_store
from checker.store.history import CURRENT
from checker.store.rows import iso
from checker.store.schema import migrations
from citations.models import DocumentFormat, ParsedDocument
from citations.records import make_citation

RULES = [
    ConfirmRule(),
    ConfirmRule(count=1),
    ConfirmRule(count=2, spacing=timedelta(days=1)),
    ConfirmRule(count=5, spacing=timedelta(hours=40)),
    ConfirmRule(count=3, spacing=timedelta(0)),
]

# (status, final URL suffix) per verdict: a few outcomes each, so that runs also break on them
OUTCOMES: dict[Verdict, list[tuple[int | None, str | None]]] = {
    Verdict.ALIVE: [(200, ""), (200, "?v=2")],
    Verdict.MOVED: [(200, "/new")],
    Verdict.DRIFTED: [(200, "")],
    Verdict.DEAD: [(404, ""), (410, ""), (404, "/gone")],
    Verdict.SOFT_404: [(200, "/not-found")],
    Verdict.BLOCKED: [(403, ""), (429, "")],
    Verdict.UNREACHABLE: [(None, None), (503, "")],
    Verdict.SKIPPED: [(None, None)],
    Verdict.INVALID: [(None, None)],
}
WEIGHTS = {Verdict.ALIVE: 5, Verdict.DEAD: 4, Verdict.SOFT_404: 1, Verdict.UNREACHABLE: 2,
           Verdict.BLOCKED: 1, Verdict.MOVED: 1, Verdict.DRIFTED: 1, Verdict.SKIPPED: 0.2,
           Verdict.INVALID: 0.2}
START = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Check:
    at: datetime
    verdict: Verdict
    status: int | None
    final: str | None


def _outcome(rnd: random.Random) -> tuple[Verdict, int | None, str | None]:
    verdict = rnd.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    status, suffix = rnd.choice(OUTCOMES[verdict])
    return verdict, status, suffix


def _steps(rnd: random.Random) -> Iterator[timedelta]:
    """Nightly mostly; skipped nights, several checks a day, and odd microseconds too."""
    while True:
        days = rnd.choice([1, 1, 1, 1, 2, 3, 0.25, 0.5, 7])
        yield timedelta(days=days, seconds=rnd.randint(-1800, 1800),
                        microseconds=rnd.randint(0, 999_999))


def random_history(seed: int, length: int, url: str = "https://example.org/p") -> list[Check]:
    rnd = random.Random(seed)
    stay = rnd.choice([0.5, 0.8, 0.95])   # flapping to steady
    at = START
    verdict, status, suffix = _outcome(rnd)
    checks = []
    steps = _steps(rnd)
    for _ in range(length):
        if rnd.random() > stay:
            verdict, status, suffix = _outcome(rnd)
        final = None if suffix is None else url + suffix
        checks.append(Check(at, verdict, status, final))
        at += next(steps)
    return checks


def _reason(check: Check) -> str:
    return f"{check.verdict} at {check.at:%H:%M:%S.%f}"


def _result(url: str, check: Check) -> CheckResult:
    return CheckResult(
        url=url, verdict=check.verdict, reason=_reason(check),
        observation=Observation(url=url, final_url=check.final, status=check.status),
        checked_at=check.at,
    )


def _records(checks: list[Check]) -> list[CheckRecord]:
    return [CheckRecord(c.at, c.verdict) for c in checks]


def _raw_rows(link_id: int, checks: list[Check], run_id: int | None = None) -> list[dict[str, object]]:
    """One row per check, as a database written before m007 (and migrated within its window)."""
    return [
        {"link_id": link_id, "run_id": run_id, "checked_at": iso(c.at), "verdict": str(c.verdict),
         "status": c.status, "final_url": c.final, "reason": _reason(c), "last_checked_at": iso(c.at),
         "last_run_id": run_id, "repeats": 1, "checks_total": i}
        for i, c in enumerate(checks, 1)
    ]


def _link(store: object, url: str) -> int:
    from checker.store.database import Store

    assert isinstance(store, Store)
    ids, _ = store._link_ids([make_citation(label="1", line=1, text=url, urls=[url]).urls[0].link],
                             None)
    return ids[url]


SEEDS = range(60)


@pytest.mark.parametrize("seed", SEEDS)
def test_folded_history_gives_the_states_the_checks_give(tmp_path: Path, seed: int) -> None:
    checks = random_history(seed, length=random.Random(seed).randint(1, 120))
    truth = _records(checks)
    url = "https://example.org/p"
    with open_store(tmp_path / "c.db") as store:
        link_id = _link(store, url)
        for check in checks:
            store.record_check(link_id, _result(url, check), run_id=None)
        rows = store.db.execute("select count(*), sum(repeats) from checks").fetchone()
        (_, runs), = store.histories()
        moments = sorted({c.at for c in checks} | {c.at + timedelta(hours=1) for c in checks})
        since = [moments[len(moments) // 2], moments[-1], CURRENT]
        partial = {t: dict(store.histories(since=t))[link_id] for t in since}
    changes = 1 + sum(1 for a, b in zip(checks, checks[1:], strict=False)
                      if (a.verdict, a.status, a.final) != (b.verdict, b.status, b.final))
    assert tuple(rows) == (changes, len(checks))   # a row per change, a check per check
    folded = history_of(runs)
    for rule in RULES:
        assert link_state(folded, rule) == link_state(truth, rule)
        past = [link_state([r for r in truth if r.checked_at <= m], rule).state for m in moments]
        # states at past moments (the report's chart, "since the previous run"), in one pass
        assert states_at(folded, moments, rule) == states_at(truth, moments, rule) == past
        for t, part in partial.items():   # a read from `since` on is enough from there on
            now = link_state(history_of(part), rule)
            whole = link_state(truth, rule)
            assert (now.state, now.failing_count, now.failing_since, now.last_ok, now.latest) \
                == (whole.state, whole.failing_count, whole.failing_since, whole.last_ok,
                    whole.latest)
            for moment in (m for m in moments if m >= t):
                assert link_state([r for r in history_of(part) if r.checked_at <= moment],
                                  rule).state \
                    == link_state([r for r in truth if r.checked_at <= moment], rule).state


@pytest.mark.parametrize("seed", range(20))
def test_a_database_from_before_folds_when_migrated_and_keeps_its_states(tmp_path: Path,
                                                                        seed: int) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m007_check_runs")
    histories = {i: random_history(seed * 100 + i, length=80) for i in range(1, 6)}
    db["links"].insert_all({"id": i, "url": f"https://e.org/{i}", "kind": "web"} for i in histories)
    db["checks"].insert_all(
        {k: v for k, v in row.items() if k in ("link_id", "checked_at", "verdict", "status",
                                                   "final_url", "reason")}
        for i, checks in histories.items() for row in _raw_rows(i, checks))
    db.close()
    with open_store(path) as store:   # m007 folds everything older than the window
        stored = dict(store.histories())
        totals = dict(store.db.execute(
            "select link_id, checks_total from checks k where id = "
            "(select max(id) from checks where link_id = k.link_id)").fetchall())
        rows = store.db.execute("select count(*) from checks").fetchone()[0]
    assert rows < sum(len(c) for c in histories.values())
    for i, checks in histories.items():
        assert totals[i] == len(checks)
        for rule in RULES:
            assert link_state(history_of(stored[i]), rule) == link_state(_records(checks), rule)


def test_prune_keeps_the_window_and_says_what_it_would_fold(tmp_path: Path) -> None:
    checks = [Check(START + timedelta(days=d), Verdict.ALIVE, 200, "https://e.org/a")
              for d in range(40)]
    now = [START + timedelta(days=40)]
    with open_store(tmp_path / "c.db", clock=lambda: now[0]) as store:
        link_id = _link(store, "https://e.org/a")
        store.db["checks"].insert_all(_raw_rows(link_id, checks))
        dry = store.prune(keep_s=10 * 86400, dry_run=True)
        assert store.db["checks"].count == 40
        done = store.prune(keep_s=10 * 86400)
        assert store.db["checks"].count == 11   # the folded run, and ten days of rows
        (_, runs), = store.histories()
    assert (dry.rows, dry.folded, dry.checks) == (done.rows, done.folded, done.checks) == (40, 29, 40)
    assert runs[0] == CheckRun(first=START, last=START + timedelta(days=29), verdict=Verdict.ALIVE,
                               checks=30)
    assert len(run_records(runs[0])) == 2


def _nights(seed: int, links: int, nights: int) -> dict[int, list[tuple[int, Check]]]:
    """Per night, each link's check (some nights skipped), at the night's run."""
    rnd = random.Random(seed)
    out: dict[int, list[tuple[int, Check]]] = {}
    state = {i: _outcome(rnd) for i in range(links)}
    for night in range(nights):
        for i in range(links):
            if rnd.random() < 0.1:
                continue
            if rnd.random() < (0.6 if night >= nights - 2 else 0.2):   # news for the summary
                state[i] = _outcome(rnd)
            verdict, status, suffix = state[i]
            at = START + timedelta(days=night, seconds=i)
            url = f"https://e{i}.example/p"
            out.setdefault(night, []).append(
                (i, Check(at, verdict, status, None if suffix is None else url + suffix)))
    return out


def _build(path: Path, seed: int, *, how: str, nights: int = 45, links: int = 16
           ) -> list[object]:
    """The same nightly history stored `how` ("rows", "recorded", "pruned"); the reports of
    the default rule and of --confirm 1 at the end."""
    clock = [START]
    by_night = _nights(seed, links, nights)
    with open_store(path, clock=lambda: clock[0]) as store:
        urls = [f"https://e{i}.example/p" for i in range(links)]
        store.save_document(ParsedDocument(
            path="/doc.txt", format=DocumentFormat.PLAINTEXT, content_hash="h",
            citations=tuple(make_citation(label=str(n), line=n, text=f"“T{n},” {u}", urls=[u])
                            for n, u in enumerate(urls, 1))))
        ids = {u: _link(store, u) for u in urls}
        total: dict[int, int] = {}
        for night in range(nights):
            clock[0] = START + timedelta(days=night)
            run_id = store.start_run("check")
            for i, check in by_night.get(night, []):
                url = urls[i]
                link_id = ids[url]
                if how == "recorded":
                    store.record_check(link_id, _result(url, check), run_id=run_id)
                else:
                    total[link_id] = total.get(link_id, 0) + 1
                    row = _raw_rows(link_id, [check], run_id)[0]
                    store.db["checks"].insert({**row, "checks_total": total[link_id]})
            clock[0] = START + timedelta(days=night, hours=1)
            store.finish_run(run_id, "finished")
        if how == "pruned":
            store.prune(keep_s=0)
        return [build_report(store, rule) for rule in (ConfirmRule(), ConfirmRule(count=1))]


@pytest.mark.parametrize("seed", range(8))
def test_reports_are_the_same_from_rows_folded_as_recorded_and_pruned(tmp_path: Path,
                                                                      seed: int) -> None:
    rows = _build(tmp_path / "rows.db", seed, how="rows")
    recorded = _build(tmp_path / "recorded.db", seed, how="recorded")
    pruned = _build(tmp_path / "pruned.db", seed, how="pruned")
    assert rows == recorded == pruned
    summaries = [r.summary for r in rows]   # type: ignore[attr-defined]
    assert any(s.newly_dead or s.recovered for s in summaries)
    assert all(r.history for r in rows)   # type: ignore[attr-defined]


def test_citewatch_prune_dry_run_then_prune(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from click.testing import CliRunner

    from checker.cli.main import get_cli

    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    path = tmp_path / "c.db"
    checks = [Check(START + timedelta(days=d), Verdict.DEAD, 404, "https://e.org/a")
              for d in range(12)]
    with open_store(path) as store:
        link_id = _link(store, "https://e.org/a")
        store.db["checks"].insert_all(_raw_rows(link_id, checks))
        before = link_state(history_of(dict(store.histories())[link_id]))
    runner = CliRunner()
    dry = runner.invoke(get_cli(), ["prune", "--db", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.stderr
    assert dry.stderr.startswith(
        "Would fold 11 of 12 check rows older than 30d into the rows of their runs, leaving 1 "
        "rows for 12 checks: their evidence (reason, headers, timings) would go, and the times "
        "of old checks without a failure that no state needs; every failure's time and every "
        "state would stay. The database is ")
    assert sqlite_utils.Database(path)["checks"].count == 12
    done = runner.invoke(get_cli(), ["prune", "--db", str(path)])
    assert done.exit_code == 0, done.stderr
    assert done.stderr.startswith("Folded 11 of 12 check rows: 1 rows for 12 checks. Database ")
    with open_store(path) as store:
        after = link_state(history_of(dict(store.histories())[link_id]))
    assert after == before and after.failing_count == 4   # days 0, 3, 6, 9


@pytest.mark.parametrize("seed", range(40))
def test_prune_folds_old_stretches_and_every_state_from_the_cutoff_on_stays(tmp_path: Path,
                                                                           seed: int) -> None:
    """Old rows without a failure become one row per stretch (a flapping link's year is a few
    rows); from the cutoff on every state is what the checks give, and so are the outages,
    "failing since", the last check that ended a streak and the latest check, for every rule."""
    checks = random_history(seed, length=150)
    truth = _records(checks)
    url = "https://example.org/p"
    cut = checks[random.Random(seed).randrange(1, len(checks))].at + timedelta(seconds=1)
    now = cut + timedelta(days=10)
    with open_store(tmp_path / "c.db", clock=lambda: now) as store:
        link_id = _link(store, url)
        for check in checks:
            store.record_check(link_id, _result(url, check), run_id=None)
        before = store.db.execute("select count(*), sum(repeats) from checks").fetchone()
        was = _old_verdicts(store, cut)
        store.prune(keep_s=10 * 86400)
        after = store.db.execute("select count(*), sum(repeats) from checks").fetchone()
        old = _old_verdicts(store, cut)
        (_, runs), = store.histories()
    assert after[1] == before[1] == len(checks)   # every check still counted
    # no two old rows without a failure follow each other (but the last, `latest` at the cut)
    assert not _foldable(old)
    if _foldable(was):
        assert after[0] < before[0]
    folded = history_of(runs)
    moments = sorted({c.at for c in checks if c.at >= cut} | {cut, now})
    for rule in RULES:
        assert link_state(folded, rule) == link_state(truth, rule)   # outages and last_ok too
        assert states_at(folded, moments, rule) == states_at(truth, moments, rule)
        for moment in moments:
            # (inside a run, `latest` and `last_ok` are its first check's, as before pruning)
            mine = link_state([r for r in folded if r.checked_at <= moment], rule)
            real = link_state([r for r in truth if r.checked_at <= moment], rule)
            assert (mine.state, mine.label, mine.failing_since, mine.down_periods) \
                == (real.state, real.label, real.failing_since, real.down_periods)


def _old_verdicts(store: object, cut: datetime) -> list[Verdict]:
    from checker.store.database import Store

    assert isinstance(store, Store)
    return [Verdict(v) for v, in store.db.execute(
        "select verdict from checks where last_checked_at < ? order by checked_at", [iso(cut)])]


def _foldable(old: list[Verdict]) -> bool:
    return any(not a.is_failure and not b.is_failure for a, b in zip(old, old[1:-1], strict=False))


def test_checks_read_ahead_are_recorded_without_a_query_each_and_give_the_same_rows(
        tmp_path: Path) -> None:
    urls = [f"https://e{i}.example/p" for i in range(6)]
    histories = {url: random_history(i, length=30, url=url) for i, url in enumerate(urls)}
    tables = []
    for ahead in (False, True):
        with open_store(tmp_path / f"{ahead}.db") as store:
            ids = {url: _link(store, url) for url in urls}
            statements: list[str] = []
            for night in range(30):
                if ahead:   # as `check` does for each batch of links
                    store.expect_checks([ids[u] for u in urls[:-1]])   # the last: not read ahead
                store.db.conn.set_trace_callback(statements.append)
                for url in urls:
                    store.record_check(ids[url], _result(url, histories[url][night]), run_id=None)
                store.db.conn.set_trace_callback(None)
            selects = sum(1 for s in statements if s.lstrip().lower().startswith("select"))
            assert selects == (30 if ahead else 30 * len(urls))   # the last link's own, if ahead
            tables.append(list(store.db.execute(
                "select link_id, checked_at, last_checked_at, verdict, status, final_url, reason, "
                "repeats, times, checks_total from checks order by link_id, checked_at")))
    assert tables[0] == tables[1]


def test_the_json_report_written_in_pieces_is_json_dumps_of_the_whole() -> None:
    """JSON is streamed a citation at a time with its own indenting; its bytes stay json's."""
    import json
    from dataclasses import replace

    from checker.report import to_json
    from tests.report_sample import big_report, sample_report

    for report in (sample_report(), big_report(40)):
        empty_document = replace(report.documents[0], citations=())
        for variant in (report, replace(report, documents=()),
                        replace(report, documents=(empty_document,))):
            whole = json.dumps(to_json.as_dict(variant), ensure_ascii=False, indent=2) + "\n"
            assert "".join(to_json.chunks(variant)) == whole
    # (no infinity: json writes an invalid `Infinity`, orjson a null; a report has none)
    odd = {"a": [1.5, True, None, "é\n\"", {}, [], {"b": [0, -2]}], "c": {}}
    assert to_json._dumps(odd, 3) == json.dumps(odd, ensure_ascii=False, indent=2).replace(
        "\n", "\n" + "  " * 3)


@pytest.mark.parametrize("seed", range(4))
def test_the_report_chart_and_news_are_each_links_states_at_each_run(tmp_path: Path,
                                                                     seed: int) -> None:
    """The report counts links with the same states together and skips the fold for a link
    of one steady run: its chart, "newly dead" and "recovered" are still, link by link, the
    states of the whole history at the end of each charted run (run ids in any time order)."""
    from collections import Counter

    from checker.report.build import HISTORY_RUNS, _link_states
    from checker.report.model import STATES

    path = tmp_path / "c.db"
    _build(path, seed, how="recorded")
    with open_store(path) as store:
        store.db.execute("update runs set finished_at = ? where id = 20",   # out of order
                         [iso(START + timedelta(days=60))])
        runs = store.finished_runs("check", limit=HISTORY_RUNS)
        ids = store.report_links(None)
        whole = {i: history_of(r) for i, r in store.histories(link_ids=ids)}
        for rule in RULES:
            states, chart, changed = _link_states(store, rule, runs, ids)
            counts: list[Counter[str]] = [Counter() for _ in runs]
            news = {}
            for i in ids:
                history = whole.get(i, [])
                mine, real = states[i], link_state(history, rule)   # (read from the chart on)
                assert (mine.state, mine.label, mine.failing_since, mine.latest) \
                    == (real.state, real.label, real.failing_since, real.latest)
                at = [link_state([r for r in history if r.checked_at <= m], rule).state
                      for _, m in runs]
                for count, state in zip(counts, at, strict=True):
                    count[state] += 1
                now = states[i].state
                if now.is_lost and not at[-2].is_lost:
                    news[i] = "newly_dead"
                elif at[-2].is_lost and not now.is_lost:
                    news[i] = "recovered"
            assert [p.counts for p in chart] == [{s: c[s] for s in STATES if c[s]} for c in counts]
            assert changed == news
