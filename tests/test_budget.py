from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from guarantor.guarantees.budget import Tally, moments, outcome_status, window_start
from guarantor.guarantees.budget import budget as budget_of
from guarantor.guarantees.models import Measurement, Status
from guarantor.guarantees.scheduler import current_slot, next_slot
from guarantor.guarantees.spec import CalendarWindow, Guarantee, Schedule

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _g(**kw: object) -> Guarantee:
    spec = {"indicators": [{"id": "i", "source": "s", "query": "q", "target": "> 0"}], **kw}
    return TypeAdapter(Guarantee).validate_python(spec)


def _m(minutes_ago: float, status: Status) -> Measurement:
    at = NOW - timedelta(minutes=minutes_ago)
    return Measurement(indicator_id="i", measured_at=at, scheduled_at=at, status=status.value, reason=status.value)


def budget(g: Guarantee, ms: list[Measurement], now: datetime):  # type: ignore[no-untyped-def]
    """The budget over these measurements, counted here one by one; it may ask only for the
    tallies ``moments`` names, which are all the database counts."""
    asked = set(moments(g, now))

    def since(t: datetime) -> Tally:
        assert t in asked, f"{t} is not one of the moments counted"
        statuses = [m.status for m in ms if m.measured_at >= t]
        good = sum(x in (Status.MET, Status.AT_RISK) for x in statuses)
        return Tally(good, statuses.count(Status.BROKEN), len(statuses) - good - statuses.count(Status.BROKEN))

    return budget_of(g, since, now)


def test_budget_counts_good_bad_and_unknown() -> None:
    ms = [_m(60 * 24 * d, Status.MET) for d in range(1, 19)] + [
        _m(60 * 24 * 20, Status.BROKEN),
        _m(30, Status.AT_RISK),
        _m(20, Status.NO_DATA),
    ]
    b = budget(_g(objective="90%", window="28d"), ms, NOW)
    assert b is not None and (b.good, b.bad, b.unknown) == (19, 1, 1)
    assert b.achieved == pytest.approx(0.95) and b.spent == pytest.approx(0.5)
    assert outcome_status([ms[-2]], b)[0] == Status.AT_RISK, "the latest evaluation is at risk"


def test_spent_budget_breaks_the_outcome() -> None:
    ms = [_m(60 * h, Status.MET) for h in range(1, 18)] + [_m(60 * h, Status.BROKEN) for h in (20, 21, 22)]
    b = budget(_g(objective="90%"), ms, NOW)
    status, reason = outcome_status([ms[0]], b)
    assert status == Status.BROKEN and "85.0% of 20 evaluations" in reason and "budget is spent" in reason


def test_breach_within_budget_is_at_risk_with_budget_left() -> None:
    ms = [_m(60 * h, Status.MET) for h in range(2, 40)] + [_m(5, Status.BROKEN)]
    b = budget(_g(objective="95%"), ms, NOW)
    status, reason = outcome_status([ms[-1]], b)
    assert status == Status.AT_RISK and "of the error budget left" in reason


def test_fast_burn_pages_and_projects_exhaustion() -> None:
    ms = [_m(60 * 24 * 5 + i, Status.MET) for i in range(100)] + [_m(i, Status.BROKEN) for i in range(0, 60, 5)]
    b = budget(_g(objective="99%", window="30d"), ms, NOW)
    assert b is not None and b.burn_alerts and b.burn_alerts[0].startswith("page: burning the budget 14.4x")
    assert b.spent is not None and b.spent > 1
    assert outcome_status([ms[-1]], b)[0] == Status.BROKEN
    slow = [_m(60 * 24 * 5 + i, Status.MET) for i in range(1000)] + [_m(30, Status.BROKEN)]
    b = budget(_g(objective="99%", window="30d"), slow, NOW)
    assert b is not None and b.spent is not None and b.spent < 1 and b.exhausted_at is not None and b.exhausted_at > NOW


def test_no_objective_means_worst_indicator() -> None:
    assert outcome_status([None, None], None)[0] == Status.NO_DATA
    assert outcome_status([_m(1, Status.MET), _m(1, Status.ERROR)], None)[0] == Status.ERROR
    assert outcome_status([_m(1, Status.BROKEN), _m(1, Status.ERROR)], None)[0] == Status.BROKEN
    assert outcome_status([_m(1, Status.MET), None], None)[0] == Status.NO_DATA


def test_calendar_windows_start_in_their_time_zone() -> None:
    start = window_start(CalendarWindow(calendar="month", timezone="Europe/Paris"), NOW)
    assert start == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    week = window_start(CalendarWindow(calendar="week", timezone="UTC"), NOW)
    assert week == datetime(2026, 11, 16, tzinfo=UTC) and week.weekday() == 0


def test_slots_are_the_same_for_every_runner() -> None:
    every = Schedule(every=timedelta(minutes=15))
    assert current_slot(every, NOW + timedelta(minutes=14, seconds=59)) == NOW
    assert next_slot(every, NOW + timedelta(minutes=1)) == NOW + timedelta(minutes=15)
    cron = Schedule(cron="0 9 * * 1-5", timezone="Europe/Paris")  # 9:00 Paris on weekdays
    assert current_slot(cron, NOW) == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # Friday, 9:00 CET
    assert next_slot(cron, NOW) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday
    assert current_slot(cron, datetime(2026, 11, 20, 8, 0, tzinfo=UTC)) == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
