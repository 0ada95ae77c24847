"""Engine and session for the configured database, migrated to the newest schema on open.

Services never commit; the face that opened the session (a CLI command, a web request) does, so
one command is one transaction and a killed run leaves nothing half-written.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from guarantor.db import scope
from guarantor.errors import DatabaseBusy, DatabaseError
from guarantor.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

_HERE = Path(__file__).parent
_VERSIONS = _HERE / "migrations" / "versions"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


BACKENDS = ("sqlite", "postgresql")
"""The databases Guarantor's migrations and queries are written and tested for."""


def make_engine(url: str) -> Engine:
    parsed = make_url(url)  # its repr hides the password
    backend = parsed.get_backend_name()
    if backend == "postgres":  # Heroku's and libpq's spelling, which SQLAlchemy does not take
        raise DatabaseError(f"Write the database URL postgresql://…, not postgres://…: {parsed!r}")
    if backend not in BACKENDS:
        raise DatabaseError(f"Guarantor keeps its data in SQLite or PostgreSQL, not {backend}: {parsed!r}")
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            # First: a second runner waits instead of failing, the journal mode's lock included
            # (it had sqlite3's default 5 s: a watcher beside a busy one once failed to open the
            # database, "database is locked", on a slow day).
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            _wal(cursor)
            # With WAL, NORMAL syncs at checkpoints rather than at every commit: a killed process
            # loses nothing committed; only a power cut may take back the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def _wal(cursor: Any) -> None:
    """Write-ahead logging, switched on once per database file: switching takes the file's
    exclusive lock, which a database in WAL already need not ask for on every connection. A
    switch refused at once by a process switching beside it is tried again by ``Database``."""
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")


def _locked(error: BaseException) -> bool:
    """Whether another process holds the lock (SQLite's "database is locked", PostgreSQL's
    lock_not_available): the same work a moment later may go through."""
    return "database is locked" in str(error) or type(error).__name__ == "LockNotAvailable"


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time: two watchers started on a fresh database would otherwise
    both create the first tables. PostgreSQL takes an advisory lock inside the migration itself."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    from filelock import FileLock

    with FileLock(f"{database}.migrate-lock"):
        yield


def head() -> str:
    """The newest migration's revision, from the file names alone: ``versions/0012_….py`` is
    revision "0012", each revising the one before (a test holds every file to this)."""
    return max(path.name.split("_", 1)[0] for path in _VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def _at_head(engine: Engine) -> bool:
    """Whether the database is already at the newest schema, asked without Alembic: loading it and
    every migration took 0.15 s of each command, for the one run in many that has anything to do."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head()]


def migrate(engine: Engine) -> None:
    if _at_head(engine):
        return
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with _migration_lock(engine), engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:  # a table rebuilt by a migration is dropped: with keys on, that would cascade to its children
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        connection.execute(text("SELECT pg_advisory_xact_lock(7261999)"))
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Could not migrate the database at {engine.url!r}: {getattr(exc, 'orig', None) or exc}"
        ) from exc


class Database:
    """One engine for the configured database, migrated once; ``transaction()`` per unit of work.

    A long-running command (``watch``) keeps one; a short one uses ``open_session``. ``for_workspace``
    gives a view of it whose transactions work in one workspace (``guarantor.db.scope``).
    """

    workspace_id: int | None = None

    def __init__(self, url: str) -> None:
        try:
            self.engine = make_engine(url)
        except (SQLAlchemyError, OSError, ImportError) as exc:  # OSError: its folder; ImportError: a driver
            raise DatabaseError(f"Could not open the database: {exc}") from exc
        deadline = time.monotonic() + 10
        while True:
            try:
                migrate(self.engine)
                break
            except (SQLAlchemyError, DatabaseError) as exc:
                if _locked(exc) and time.monotonic() < deadline:
                    # Another process opening the same new SQLite file at this moment (two watchers
                    # started together): SQLite may refuse at once, without its busy wait. Again.
                    self.engine.dispose()
                    time.sleep(0.1)
                    continue
                if isinstance(exc, DatabaseError):
                    raise
                raise DatabaseError(f"Could not open the database: {exc}") from exc
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    def for_workspace(self, workspace_id: int) -> Database:
        """The same engine, every transaction scoped to one workspace."""
        view = copy.copy(self)
        view.workspace_id = workspace_id
        return view

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits when the block ends cleanly and rolls back otherwise."""
        session = self._factory()
        if self.workspace_id is not None:
            scope.enter(session, self.workspace_id)
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            cause = getattr(exc, "orig", None) or exc
            if _locked(cause):
                raise DatabaseBusy(f"The database is busy: {cause}", hint="Try again in a moment.") from exc
            raise DatabaseError(f"Database error: {cause}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def open_session(settings: Settings) -> Iterator[Session]:
    """One transaction on the configured database, for a command that needs only one."""
    db = Database(settings.resolved_database_url)
    try:
        with db.transaction() as session:
            yield session
    finally:
        db.close()
