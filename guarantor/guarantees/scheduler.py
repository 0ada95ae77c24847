"""When an indicator is due: the scheduled slot that the current time falls in.

Slots of ``every`` schedules are aligned on the Unix epoch, so every runner (two watchers, a check
beside them) computes the same slot for the same moment and the database can tell who did it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from guarantor.guarantees.spec import Schedule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def current_slot(schedule: Schedule, now: datetime) -> datetime:
    """The latest scheduled time at or before ``now``."""
    if schedule.every is not None:
        step = schedule.every.total_seconds()
        return EPOCH + timedelta(seconds=((now - EPOCH).total_seconds() // step) * step)
    from croniter import croniter

    assert schedule.cron is not None
    local = now.astimezone(ZoneInfo(schedule.timezone))
    probe = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    previous: datetime = croniter(schedule.cron, probe).get_prev(datetime)
    return previous.astimezone(UTC)


def next_slot(schedule: Schedule, now: datetime) -> datetime:
    if schedule.every is not None:
        return current_slot(schedule, now) + schedule.every
    from croniter import croniter

    assert schedule.cron is not None
    following: datetime = croniter(schedule.cron, now.astimezone(ZoneInfo(schedule.timezone))).get_next(datetime)
    return following.astimezone(UTC)


def due_after(schedule: Schedule, last: datetime) -> datetime:
    """When the next value is due after one taken at ``last``: a check-in every week taken on the
    13th is due on the 20th; with cron, at the next slot after it."""
    if schedule.every is not None:
        return last + schedule.every
    from croniter import croniter

    assert schedule.cron is not None
    following: datetime = croniter(schedule.cron, last.astimezone(ZoneInfo(schedule.timezone))).get_next(datetime)
    return following.astimezone(UTC)
