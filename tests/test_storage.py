from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from guarantor.db.base import UTCDateTime

TIMES = [
    datetime(2026, 11, 24, 15, 4, 5, tzinfo=UTC),  # no microseconds: still written, as SQLAlchemy does
    datetime(2026, 11, 24, 15, 4, 5, 6, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # a year of three digits
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=14))),  # the day before in UTC
    datetime(2025, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-12))),
    datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),  # the second 02:30 of the night
    datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),  # a time the clocks skipped
]


@pytest.mark.parametrize("when", [*TIMES, None], ids=str)
def test_a_time_is_written_to_sqlite_as_sqlalchemys_own_steps_write_it(when: datetime | None) -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)  # as SQLAlchemy asks for it
    theirs = TypeDecorator.bind_processor(UTCDateTime().dialect_impl(dialect), dialect)  # to UTC, then DATETIME's
    assert ours is not None and theirs is not None
    assert ours(when) == theirs(when)


def test_a_naive_time_is_refused_on_every_database() -> None:
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        assert process is not None
        with pytest.raises(ValueError, match="naive datetime"):
            process(datetime(2026, 11, 24, 15, 4))
