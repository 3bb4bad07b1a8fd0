"""History rules: from a link's checks to its state. Explicit datetimes, no clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from checker.judge.state import (
    CheckRecord,
    CheckRun,
    ConfirmRule,
    LinkState,
    State,
    fold_runs,
    history_of,
    keeps_every_time,
    link_state,
    offsets_of,
    state_of_latest,
    states_at,
)
from checker.models import Verdict
from checker.settings import DEFAULT_CONFIRM_COUNT, DEFAULT_CONFIRM_SPACING_S

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

A, M, DR = Verdict.ALIVE, Verdict.MOVED, Verdict.DRIFTED
D, S4 = Verdict.DEAD, Verdict.SOFT_404
B, U, I, SK = Verdict.BLOCKED, Verdict.UNREACHABLE, Verdict.INVALID, Verdict.SKIPPED  # noqa: E741


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def history(*checks: tuple[float, Verdict]) -> list[CheckRecord]:
    """``(day, verdict)`` pairs, day counted from T0."""
    return [CheckRecord(at(day), verdict) for day, verdict in checks]


IABOT = ConfirmRule()                      # 3 failures, 3 days apart
ONCE = ConfirmRule(count=1)                # a manual audit's --confirm 1
TWO_DAILY = ConfirmRule(count=2, spacing=timedelta(days=1))


def test_default_rule_is_internet_archive_bot() -> None:
    assert IABOT.count == DEFAULT_CONFIRM_COUNT == 3
    assert IABOT.spacing == timedelta(seconds=DEFAULT_CONFIRM_SPACING_S) == timedelta(days=3)


@pytest.mark.parametrize("bad", [{"count": 0}, {"count": -1}, {"spacing": timedelta(-1)}])
def test_rule_rejects_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ConfirmRule(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("checks", "rule", "label", "k"),
    [
        pytest.param((), IABOT, "unchecked", 0, id="no-checks"),
        pytest.param(((0, A),), IABOT, "alive", 0, id="alive"),
        pytest.param(((0, M),), IABOT, "moved", 0, id="moved"),
        pytest.param(((0, DR),), IABOT, "drifted", 0, id="drifted"),
        pytest.param(((0, B),), IABOT, "blocked", 0, id="blocked"),
        pytest.param(((0, U),), IABOT, "unreachable", 0, id="unreachable"),
        pytest.param(((0, I),), IABOT, "invalid", 0, id="invalid"),
        pytest.param(((0, SK),), IABOT, "skipped", 0, id="skipped"),
        # one transient failure never flips a live link
        pytest.param(((0, A), (1, D)), IABOT, "failing (1 of 3)", 1, id="one-failure"),
        pytest.param(((0, D),), IABOT, "failing (1 of 3)", 1, id="first-check-fails"),
        pytest.param(((0, A), (1, D), (2, A)), IABOT, "alive", 0, id="transient-failure"),
        # spacing: failures closer than the spacing count once
        pytest.param(((0, D), (1, D), (2, D)), IABOT, "failing (1 of 3)", 1,
                     id="three-failures-in-three-days"),
        pytest.param(((0, D), (1, D), (2, D), (3, D)), IABOT, "failing (2 of 3)", 2,
                     id="second-counted-at-day-3"),
        pytest.param(((0, D), (3, D)), IABOT, "failing (2 of 3)", 2, id="two-spaced"),
        pytest.param(((0, D), (3, D), (6, D)), IABOT, "dead", 3, id="three-spaced-confirm"),
        pytest.param(((0, D), (2.9, D), (5.9, D)), IABOT, "failing (2 of 3)", 2,
                     id="spacing-measured-from-the-last-counted"),
        pytest.param(((0, D), (3, D), (4, D), (5, D), (6, D)), IABOT, "dead", 3,
                     id="extra-failures-in-between"),
        pytest.param(((0, D), (3, D), (6, D), (9, D)), IABOT, "dead", 4, id="beyond-n"),
        # what ends a streak
        pytest.param(((0, D), (3, D), (5, A), (6, D)), IABOT, "failing (1 of 3)", 1,
                     id="alive-resets"),
        pytest.param(((0, D), (3, D), (5, M), (6, D)), IABOT, "failing (1 of 3)", 1,
                     id="moved-resets"),
        pytest.param(((0, D), (3, D), (5, DR), (6, D)), IABOT, "failing (1 of 3)", 1,
                     id="drifted-resets"),
        pytest.param(((0, D), (3, D), (6, D), (7, A)), IABOT, "alive", 0,
                     id="confirmed-dead-comes-back"),
        # neutral checks neither count nor reset
        pytest.param(((0, D), (3, U), (6, D)), IABOT, "failing (2 of 3)", 2,
                     id="unreachable-does-not-count"),
        pytest.param(((0, D), (3, U), (4, B), (6, D), (9, D)), IABOT, "dead", 3,
                     id="unreachable-and-blocked-do-not-reset"),
        pytest.param(((0, D), (3, D), (4, U)), IABOT, "failing (2 of 3)", 2,
                     id="latest-unreachable-inside-a-streak"),
        pytest.param(((0, D), (3, D), (6, D), (7, U)), IABOT, "dead", 3,
                     id="dead-then-timeouts-stays-dead"),
        pytest.param(((0, A), (1, U)), IABOT, "unreachable", 0, id="alive-then-unreachable"),
        pytest.param(((0, A), (1, B)), IABOT, "blocked", 0, id="alive-then-blocked"),
        pytest.param(((0, D), (3, D), (6, D), (7, I)), IABOT, "invalid", 3,
                     id="latest-invalid-wins"),
        pytest.param(((0, D), (1, SK)), IABOT, "skipped", 1, id="latest-skipped-wins"),
        # dead and soft-404 count together; the latest failure names the state
        pytest.param(((0, D), (3, S4), (6, D)), IABOT, "dead", 3, id="mixed-ends-dead"),
        pytest.param(((0, D), (3, D), (6, S4)), IABOT, "soft-404", 3, id="mixed-ends-soft-404"),
        pytest.param(((0, S4), (3, S4), (6, S4)), IABOT, "soft-404", 3, id="soft-404-confirmed"),
        pytest.param(((0, S4),), IABOT, "failing (1 of 3)", 1, id="soft-404-unconfirmed"),
        pytest.param(((0, D), (3, D), (6, D), (6.5, S4)), IABOT, "soft-404", 3,
                     id="uncounted-latest-failure-names-the-state"),
        # configurable count and spacing
        pytest.param(((0, D),), ONCE, "dead", 1, id="confirm-1"),
        pytest.param(((0, S4),), ONCE, "soft-404", 1, id="confirm-1-soft-404"),
        pytest.param(((0, A), (1, D), (2, A)), ONCE, "alive", 0, id="confirm-1-comes-back"),
        pytest.param(((0, D), (0.5, D)), TWO_DAILY, "failing (1 of 2)", 1, id="two-daily-early"),
        pytest.param(((0, D), (1, D)), TWO_DAILY, "dead", 2, id="two-daily-confirm"),
        pytest.param(((0, D), (0, D), (0, D)), ConfirmRule(count=3, spacing=timedelta(0)),
                     "dead", 3, id="no-spacing"),
    ],
)
def test_link_state(
    checks: tuple[tuple[float, Verdict], ...], rule: ConfirmRule, label: str, k: int
) -> None:
    state = link_state(history(*checks), rule)
    assert (state.label, state.failing_count, state.needed) == (label, k, rule.count)


def test_unchecked() -> None:
    assert link_state([]) == LinkState(state=State.UNCHECKED, needed=3)


def test_history_order_does_not_matter() -> None:
    checks = history((0, D), (3, D), (6, D), (7, A), (8, D))
    assert link_state(list(reversed(checks))) == link_state(checks)


def test_failing_link_reports_since_and_last_ok() -> None:
    state = link_state(history((0, A), (1, A), (2, D), (3, U), (5, D)))
    assert state == LinkState(
        state=State.FAILING,
        failing_count=2,
        needed=3,
        failing_since=at(2),
        last_ok=at(1),
        latest=CheckRecord(at(5), D),
        down_periods=((at(2), None),),
    )
    assert state.label == "failing (2 of 3)"
    assert not state.is_confirmed_failure


def test_history_shows_when_the_link_was_down() -> None:
    checks = history(
        (0, A),
        (1, D), (2, A),                    # a transient failure: a short outage
        (3, B),                            # blocked: not an outage
        (4, S4), (7, D), (10, D), (11, U),  # confirmed dead
        (12, M),                           # back, at a new address
        (20, D),                           # failing again, still open
    )
    state = link_state(checks)
    assert state.down_periods == ((at(1), at(2)), (at(4), at(12)), (at(20), None))
    assert state.label == "failing (1 of 3)"
    assert state.failing_since == at(20)
    assert state.last_ok == at(12)
    assert state.latest == CheckRecord(at(20), D)


def test_confirmed_dead_then_alive() -> None:
    state = link_state(history((0, D), (3, D), (6, D), (9, A)))
    assert state.state is State.ALIVE
    assert state.failing_since is None
    assert state.last_ok == at(9)
    assert state.down_periods == ((at(0), at(9)),)


def test_confirmed_state() -> None:
    state = link_state(history((0, D), (3, D), (6, D)))
    assert state.state == "dead"
    assert state.is_confirmed_failure
    assert state.failing_since == at(0)
    assert state.last_ok is None


def test_states_are_strings_for_reports() -> None:
    assert {s.value for s in State} == {
        "unchecked", "alive", "moved", "failing", "dead", "soft-404", "blocked", "drifted",
        "unreachable", "invalid", "skipped",
    }
    assert {v.value for v in Verdict} < {s.value for s in State}


@pytest.mark.parametrize("latest", list(Verdict))
@pytest.mark.parametrize(
    "before", [(), (D,), (D, D, D), (S4, U, D), (A, D, B), (I,)], ids=lambda v: "-".join(map(str, v))
)
@pytest.mark.parametrize("rule", [IABOT, ONCE], ids=["iabot", "once"])
def test_a_state_settled_by_the_latest_check_is_the_one_the_history_gives(
    latest: Verdict, before: tuple[Verdict, ...], rule: ConfirmRule
) -> None:
    settled = state_of_latest(latest)
    checks = history(*((3 * day, verdict) for day, verdict in enumerate((*before, latest))))
    if settled is not None:
        assert link_state(checks, rule).state is settled
    else:  # a failure or a neutral check: what came before matters
        assert latest.is_failure or latest in (B, U)


def _runs_of(checks: list[tuple[datetime, Verdict]]) -> list[CheckRun]:
    """Consecutive identical verdicts as the store keeps them: failures with every time."""
    runs: list[CheckRun] = []
    for at, verdict in checks:
        if runs and runs[-1].verdict is verdict:
            last = runs[-1]
            times = last.times + (at,) if keeps_every_time(verdict) else ()
            runs[-1] = CheckRun(first=last.first, last=at, verdict=verdict, checks=last.checks + 1,
                                offsets=offsets_of(times))
        else:
            runs.append(CheckRun(first=at, last=at, verdict=verdict,
                                 offsets=(0,) if keeps_every_time(verdict) else ()))
    return runs


@pytest.mark.parametrize("zone", [UTC, timezone(timedelta(hours=-5)), None],
                         ids=["utc", "utc-5", "naive"])
@pytest.mark.parametrize("seed", range(60))
def test_fold_runs_gives_link_state_and_states_at_of_the_same_history(
    seed: int, zone: timezone | None,
) -> None:
    rnd = random.Random(seed)
    verdicts = [Verdict.ALIVE, Verdict.DEAD, Verdict.SOFT_404, Verdict.UNREACHABLE,
                Verdict.BLOCKED, Verdict.MOVED, Verdict.DRIFTED]
    at = datetime(2025, 1, 1, 0, 0, 0, rnd.randrange(1_000_000), tzinfo=zone)
    checks = []
    verdict = rnd.choice(verdicts)
    for _ in range(rnd.randint(0, 90)):
        if rnd.random() < 0.3:
            verdict = rnd.choice(verdicts)
        at += timedelta(hours=rnd.choice([1, 6, 12, 24, 30, 72]))
        checks.append((at, verdict))
    runs = _runs_of(checks)
    moments = sorted({rnd.choice(checks)[0] + timedelta(hours=rnd.choice([-2, 0, 0, 3]))
                      for _ in range(rnd.randint(0, 8))} if checks else set())
    rule = ConfirmRule(count=rnd.randint(1, 4), spacing=timedelta(hours=rnd.choice([0, 12, 24, 48])))
    history = history_of(runs)
    folded = fold_runs(runs, moments, rule)
    assert folded == (link_state(history, rule), states_at(history, moments, rule))
    # and the times come back naive for naive times (equal instants for aware ones: above)
    if folded[0].latest is not None:
        assert (folded[0].latest.checked_at.tzinfo is None) is (zone is None)


def test_fold_runs_takes_overlapping_runs_the_slow_way_with_the_same_answer() -> None:
    day = datetime(2025, 1, 1, tzinfo=UTC)
    runs = [CheckRun(first=day, last=day + timedelta(days=3), verdict=Verdict.ALIVE, checks=2),
            CheckRun(first=day + timedelta(days=1), last=day + timedelta(days=2),
                     verdict=Verdict.DEAD, checks=2,
                     offsets=offsets_of((day + timedelta(days=1), day + timedelta(days=2))))]
    rule = ConfirmRule(count=2, spacing=timedelta(hours=12))
    moments = [day + timedelta(days=1, hours=12), day + timedelta(days=4)]
    history = history_of(runs)
    assert fold_runs(runs, moments, rule) == (link_state(history, rule),
                                             states_at(history, moments, rule))
