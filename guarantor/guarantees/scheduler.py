"""When an indicator is due: the scheduled slot that the current time falls in.

Slots of ``every`` schedules are aligned on the Unix epoch, so every runner (two watchers, a check
beside them) computes the same slot for the same moment and the database can tell who did it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from guarantor.guarantees.spec import Schedule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class NeverFires(ValueError):
    """A cron that names no moment (``0 0 30 2 *``, the 30th of February): its outcome's
    indicators are ERROR, and every other outcome is measured as usual."""


def _cron(schedule: Schedule, at: datetime, forward: bool) -> datetime:
    """The cron's next (or previous) moment from ``at``, in UTC."""
    from croniter import CroniterError, croniter

    assert schedule.cron is not None
    try:
        it = croniter(schedule.cron, at.astimezone(ZoneInfo(schedule.timezone)))
        found: datetime = it.get_next(datetime) if forward else it.get_prev(datetime)
    except (CroniterError, OverflowError) as exc:
        raise NeverFires(f"the schedule's cron {schedule.cron!r} never fires") from exc
    return found.astimezone(UTC)


def fires_within_a_year(schedule: Schedule, now: datetime) -> bool:
    """Whether the schedule names a moment in the coming year: one that does not measures nothing."""
    try:
        return schedule.every is not None or _cron(schedule, now, True) <= now + timedelta(days=366)
    except NeverFires:
        return False


def current_slot(schedule: Schedule, now: datetime) -> datetime:
    """The latest scheduled time at or before ``now``."""
    if schedule.every is not None:
        step = schedule.every.total_seconds()
        return EPOCH + timedelta(seconds=((now - EPOCH).total_seconds() // step) * step)
    probe = now.astimezone(ZoneInfo(schedule.timezone)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return _cron(schedule, probe, False)


def next_slot(schedule: Schedule, now: datetime) -> datetime:
    if schedule.every is not None:
        return current_slot(schedule, now) + schedule.every
    return _cron(schedule, now, True)


def due_after(schedule: Schedule, last: datetime) -> datetime:
    """When the next value is due after one taken at ``last``: a check-in every week taken on the
    13th is due on the 20th; with cron, at the next slot after it."""
    if schedule.every is not None:
        return last + schedule.every
    return _cron(schedule, last, True)
