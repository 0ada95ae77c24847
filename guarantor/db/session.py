"""Engine and session for the configured database, migrated to the newest schema on open.

Services never commit; the face that opened the session (a CLI command, a web request) does, so
one command is one transaction and a killed run leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from guarantor.errors import DatabaseError
from guarantor.settings import Settings

_HERE = Path(__file__).parent


def alembic_config(url: str) -> Config:
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def migrate(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Could not migrate the database at {engine.url!r}: {getattr(exc, 'orig', None) or exc}"
        ) from exc


@contextmanager
def open_session(settings: Settings) -> Iterator[Session]:
    """A migrated session that commits when the block ends cleanly and rolls back otherwise."""
    try:
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Could not open the database: {exc}") from exc
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise DatabaseError(f"Database error: {exc}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()
