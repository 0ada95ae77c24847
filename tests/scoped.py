"""A database whose transactions work in one workspace, opened as the CLI opens it."""

from __future__ import annotations

from pathlib import Path

from guarantor.db.session import Database
from guarantor.workspace import loader
from guarantor.workspace.session import workspace_database


def workspace_db(url: str, workspace: Path | str) -> Database:
    path = loader.resolve(Path(workspace))
    return workspace_database(url, path, loader.load(path))
