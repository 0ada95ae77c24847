"""Which workspace a session works in, enforced below every query.

A face (a CLI command, a web request) opens a session and says once which workspace it serves
(``enter``). From then on:

* every ORM query on a table that belongs to a workspace (a ``Scoped`` model) gets
  ``workspace_id = that workspace`` added, whoever wrote it (``with_loader_criteria``), so a query
  that forgot the filter still sees one workspace only;
* such a query on a session that named no workspace is an error, not a read of all of them;
* a new row takes the session's workspace, and a row of another workspace cannot be written.

Core statements on a table (bulk inserts and updates in the repositories) name the column
themselves through ``current``. Only the organisation view reads across workspaces, and it says
so with ``everywhere``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

_KEY = "guarantor.workspace_id"
_ALL = "guarantor.all_workspaces"


class Scoped:
    """A table whose rows belong to one workspace (deleted with it)."""

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))


class ScopedRow(Scoped):
    """A scoped table whose rows are numbered: the number alone is the key, unique across workspaces."""

    id: Mapped[int] = mapped_column(primary_key=True)


class ScopedKey(Scoped):
    """A scoped table keyed by names that are unique only within a workspace (outcome ids, external
    ids), so the workspace is the first part of its primary key."""

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)


class Unscoped(RuntimeError):
    """A query on workspace data from a session that named no workspace: a bug, never a user's error."""


def enter(session: Session, workspace_id: int) -> None:
    """Work in one workspace for the rest of this session."""
    known = session.info.get(_KEY)
    if known is not None and known != workspace_id:
        raise Unscoped(f"this session works in workspace {known}, not {workspace_id}")
    session.info[_KEY] = workspace_id


def everywhere(session: Session) -> None:
    """Read across every workspace (the organisation view): said explicitly, never by default."""
    session.info[_ALL] = True


def current(session: Session) -> int:
    """The session's workspace; an error when none was entered."""
    found = session.info.get(_KEY)
    if found is None:
        raise Unscoped("no workspace entered on this session (guarantor.db.scope.enter)")
    return int(found)


def _scoped(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, Scoped) for m in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _filter(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete) or state.session.info.get(_ALL):
        return
    workspace = state.session.info.get(_KEY)
    if workspace is None:
        if _scoped(state):
            raise Unscoped("a query on workspace data from a session with no workspace entered")
        return
    state.statement = state.statement.options(
        with_loader_criteria(Scoped, lambda cls: cls.workspace_id == workspace, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_ALL):
        return
    workspace = session.info.get(_KEY)
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Scoped):
            continue
        if workspace is None:
            raise Unscoped(f"writing {type(obj).__name__} from a session with no workspace entered")
        if getattr(obj, "workspace_id", None) is None:
            obj.workspace_id = workspace
        elif obj.workspace_id != workspace:
            raise Unscoped(f"writing a {type(obj).__name__} of workspace {obj.workspace_id} from workspace {workspace}")
