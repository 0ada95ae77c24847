from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from guarantor.db.base import UTCDateTime
from guarantor.db.session import Database
from guarantor.errors import DatabaseError, ExitCode

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


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (
            "mysql://me:secret@db.example/g",
            "Guarantor keeps its data in SQLite or PostgreSQL, not mysql: mysql://me:***@",
        ),
        (
            "postgres://me:secret@127.0.0.1/g",
            "Write the database URL postgresql://…, not postgres://…: postgres://me:***@",
        ),
        ("postgresql+asyncpg://me@127.0.0.1/g", "Could not open the database: No module named 'asyncpg'"),
        ("not a url", "Could not open the database: Could not parse SQLAlchemy URL"),
        ("sqlite:///{tmp}/a-file/g.db", "Could not open the database: [Errno 17] File exists"),
    ],
)
def test_a_database_url_guarantor_cannot_use_is_a_database_error(url: str, said: str, tmp_path: Path) -> None:
    """Exit 8 with what is wrong, never the password; they were exit 1 ("a bug"), the missing driver's
    ModuleNotFoundError, or exit 4 for the SQLite file's folder."""
    (tmp_path / "a-file").write_text("")
    with pytest.raises(DatabaseError) as raised:
        Database(url.format(tmp=tmp_path))
    assert raised.value.message.startswith(said), raised.value.message
    assert "secret" not in raised.value.message and raised.value.exit_code == ExitCode.DATABASE
