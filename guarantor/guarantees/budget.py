"""Outcome status over a window: the objective, the error budget, and multi-window burn rates.

An evaluation counts as good when it is MET or AT_RISK and as bad when BROKEN; NO_DATA and ERROR
say nothing about the outcome and are reported separately instead of being counted. Burn-rate
alerts follow the multi-window scheme that Sloth and Pyrra derive from the SRE workbook: the
error ratio over a long and a short window must both exceed the factor, with the windows scaled
to the objective's window (the classic numbers are for 30 days).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from guarantor.guarantees.models import SEVERITY, Measurement, Status
from guarantor.guarantees.spec import CalendarWindow, Guarantee, RollingWindow

BURN_RATE_WINDOWS = (  # long, short, factor, severity — for a 30-day window
    (timedelta(hours=1), timedelta(minutes=5), 14.4, "page"),
    (timedelta(hours=6), timedelta(minutes=30), 6.0, "page"),
    (timedelta(days=1), timedelta(hours=2), 3.0, "ticket"),
    (timedelta(days=3), timedelta(hours=6), 1.0, "ticket"),
)
_THIRTY_DAYS = timedelta(days=30)


def window_start(window: RollingWindow | CalendarWindow, now: datetime) -> datetime:
    if isinstance(window, RollingWindow):
        return now - window.rolling
    local = now.astimezone(ZoneInfo(window.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
    if window.calendar == "week":
        local -= timedelta(days=local.weekday())
    elif window.calendar == "month":
        local = local.replace(day=1)
    return local.astimezone(now.tzinfo)


def window_length(window: RollingWindow | CalendarWindow) -> timedelta:
    if isinstance(window, RollingWindow):
        return window.rolling
    return {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}[window.calendar]


@dataclass
class Budget:
    objective: Decimal
    since: datetime
    good: int
    bad: int
    unknown: int
    achieved: float | None
    spent: float | None  # share of the error budget used; above 1: exhausted
    exhausted_at: datetime | None  # at the current rate of bad evaluations
    burn_alerts: list[str] = field(default_factory=list)


class Tally(NamedTuple):
    """Evaluations of an outcome's indicators since some time: good (MET, AT_RISK), bad (BROKEN),
    and unknown (NO_DATA, ERROR)."""

    good: int = 0
    bad: int = 0
    unknown: int = 0


Since = Callable[[datetime], Tally]
"""The tally since a time: one of ``moments``; counted in the database, not from a list of
measurements (a 28-day window of a 15-minute schedule holds 2,688 per indicator)."""


@dataclass(frozen=True)
class _Starts:
    """Since when ``budget`` counts: the window, the recent rate (its last thirtieth) and each burn-rate
    window's long and short spans, scaled to the window; none before the window's start."""

    window: datetime
    recent: datetime
    burns: list[tuple[datetime, datetime]]  # (long, short), in the order of BURN_RATE_WINDOWS

    @classmethod
    def of(cls, guarantee: Guarantee, now: datetime) -> _Starts:
        since = window_start(guarantee.window, now)
        length = window_length(guarantee.window)
        scale = length / _THIRTY_DAYS
        burns = [
            (max(since, now - long * scale), max(since, now - short * scale)) for long, short, _, _ in BURN_RATE_WINDOWS
        ]
        return cls(since, max(since, now - length / 30), burns)


def moments(guarantee: Guarantee, now: datetime) -> list[datetime]:
    """Every time ``budget`` asks for a tally since, for the database to count them all at once."""
    starts = _Starts.of(guarantee, now)
    return sorted({starts.window, starts.recent, *(t for pair in starts.burns for t in pair)})


def budget(guarantee: Guarantee, tally: Since, now: datetime) -> Budget | None:
    if guarantee.objective is None:
        return None
    starts = _Starts.of(guarantee, now)
    since = starts.window
    inside = tally(since)
    good, bad = inside.good, inside.bad
    total = good + bad
    allowed = float(1 - guarantee.objective) * total
    spent = (bad / allowed if allowed > 0 else (float("inf") if bad else 0.0)) if total else None
    length = window_length(guarantee.window)
    exhausted_at = None
    if spent is not None and spent < 1:
        recent_bad = tally(starts.recent).bad
        exhausted_at = _exhaustion(guarantee.objective, length, total, bad, recent_bad, since, now)
    scale = length / _THIRTY_DAYS
    alerts = []
    error_budget = float(1 - guarantee.objective)
    for (long, _, factor, severity), (long_start, short_start) in zip(BURN_RATE_WINDOWS, starts.burns, strict=True):
        long_ratio, short_ratio = _bad_ratio(tally(long_start)), _bad_ratio(tally(short_start))
        if long_ratio is not None and short_ratio is not None and min(long_ratio, short_ratio) / error_budget >= factor:
            alerts.append(f"{severity}: burning the budget {factor:g}x too fast over {_short(long * scale)}")
    return Budget(
        guarantee.objective,
        since,
        good,
        bad,
        inside.unknown,
        good / total if total else None,
        spent,
        exhausted_at,
        alerts,
    )


def _bad_ratio(t: Tally) -> float | None:
    return t.bad / (t.good + t.bad) if t.good + t.bad else None


def _exhaustion(
    objective: Decimal, length: timedelta, total: int, bad: int, recent_bad: int, since: datetime, now: datetime
) -> datetime | None:
    """When the budget runs out if bad evaluations keep coming at the recent rate (``recent_bad``
    over the last thirtieth of the window: a day for 30 days), or None if not within a window's length."""
    elapsed = (now - since).total_seconds()
    recent = length / 30
    if not recent_bad or elapsed <= 0:
        return None
    allowed_at_end = float(1 - objective) * total / elapsed * length.total_seconds()
    seconds_left = max(allowed_at_end - bad, 0.0) / (recent_bad / recent.total_seconds())
    return now + timedelta(seconds=seconds_left) if seconds_left < length.total_seconds() else None


def _short(d: timedelta) -> str:
    minutes = d.total_seconds() / 60
    return f"{minutes / 60:g}h" if minutes >= 60 else f"{minutes:g}m"


def outcome_status(
    latest: Sequence[Measurement | None], b: Budget | None, names: Mapping[str, str] | None = None
) -> tuple[Status, str]:
    """The outcome's status from its indicators' latest measurements and its budget. The reason
    names the indicator it comes from (by ``names``: indicator id -> the name people read) only
    where the outcome has several."""
    known = [m for m in latest if m is not None]
    if not known:
        return Status.NO_DATA, "never measured: run `guarantor check`"
    worst = max(known, key=lambda m: SEVERITY[Status(m.status)])
    status, reason = Status(worst.status), worst.reason
    if len(latest) > 1:
        reason = f"{(names or {}).get(worst.indicator_id, worst.indicator_id)}: {reason}"
    if len(known) < len(latest) and SEVERITY[status] < SEVERITY[Status.NO_DATA]:
        status, reason = Status.NO_DATA, "some indicators were never measured"
    if b is None or b.achieved is None:
        return status, reason
    achieved = f"met in {b.achieved:.1%} of {b.good + b.bad} evaluations, objective {float(b.objective):.1%}"
    if b.achieved < float(b.objective):
        return Status.BROKEN, f"{achieved}: the error budget is spent"
    if status == Status.BROKEN:
        left = max(0.0, 1 - (b.spent or 0.0))
        return Status.AT_RISK, f"{reason}; {achieved}, {left:.0%} of the error budget left"
    if b.burn_alerts and status == Status.MET:
        return Status.AT_RISK, f"{b.burn_alerts[0]}; {achieved}"
    return status, f"{reason}; {achieved}" if status == Status.MET else reason
