"""Turn what a source returned into a status and a reason a person can read.

Freshness comes first: a value whose own time is older than ``fresh_within`` says nothing about
now, so it is NO_DATA (as Soda's freshness checks and OpenSLO's no-data policies treat it); a
freshness-only indicator (no target) is the data's age itself, BROKEN when older. Reasons show
values rounded for people (``display``); the comparison uses the exact value.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from guarantor.guarantees import display
from guarantor.guarantees.models import Status
from guarantor.guarantees.sources.base import Reading
from guarantor.guarantees.spec import Indicator, duration_text

_NO_TIME = "fresh_within needs the value's time (a second column, time_path, or a file's modification time)"


def judge(indicator: Indicator, reading: Reading, now: datetime) -> tuple[Status, str, Reading]:
    """The status, the reason, and the reading to store (a freshness-only indicator stores the age)."""
    fresh = indicator.fresh_within
    if fresh is not None:
        if reading.at is None:
            return Status.NO_DATA, reading.no_data or _NO_TIME, reading
        old = now - reading.at
        if indicator.freshness_only:
            age = Decimal(str(round(max(old.total_seconds(), 0.0), 3)))
            reading = Reading(age, reading.at)
            verdict = "within" if indicator.goal.holds(age) else "older than"
            status = Status.MET if verdict == "within" else Status.BROKEN
            return status, f"the newest data is {display.age(old)} old, {verdict} {duration_text(fresh)}", reading
        if old > fresh:
            when = f"{reading.at:%Y-%m-%d %H:%M} UTC"
            return (
                Status.NO_DATA,
                f"the value is from {when}, {display.age(old)} old: older than {duration_text(fresh)}",
                reading,
            )
    if reading.value is None:
        return Status.NO_DATA, reading.no_data or "no value", reading
    unit, places = indicator.unit, indicator.precision
    shown = display.number(reading.value, unit, places)
    target = indicator.goal
    if not target.holds(reading.value):
        return Status.BROKEN, f"{shown} misses the target {_target(target, unit)}", reading
    if indicator.warn is not None and not indicator.warn.holds(reading.value):
        return (
            Status.AT_RISK,
            f"{shown} meets {_target(target, unit)} but not the warning level {indicator.warn}",
            reading,
        )
    return Status.MET, f"{shown} meets {_target(target, unit)}", reading


def _target(target: object, unit: str) -> str:
    return display.with_unit(str(target), unit)
