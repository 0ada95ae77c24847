"""A transaction in one workspace, for the commands that work in one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from guarantor.clock import utcnow
from guarantor.db.session import Database, open_session
from guarantor.settings import Settings
from guarantor.workspace import loader, service
from guarantor.workspace.schema import Workspace


@contextmanager
def open_workspace(settings: Settings, given: Path | None) -> Iterator[tuple[Session, Workspace]]:
    """The workspace file named (or the one here), and one transaction scoped to it."""
    path = loader.resolve(given)
    ws = loader.load(path)
    with open_session(settings) as session:
        service.enter(session, path, ws, utcnow())
        yield session, ws


def workspace_database(url: str, path: Path, ws: Workspace) -> Database:
    """The database at ``url`` with every transaction scoped to this workspace (made on first use),
    for commands that commit as they go (check, watch, sync); the caller closes it."""
    db = Database(url)
    try:
        with db.transaction() as session:
            record = service.enter(session, path, ws, utcnow())
    except BaseException:
        db.close()
        raise
    return db.for_workspace(record.id)
