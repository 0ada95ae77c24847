"""Every query on users, tokens and sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from guarantor.accounts.models import ApiToken, LoginFailure, Membership, User, WebSession


def user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.disabled.is_(False))) or 0


def delete_user(session: Session, user_id: int) -> None:
    # Explicit deletes: SQLite enforces ON DELETE CASCADE only with a pragma some connections lack.
    session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    session.execute(delete(User).where(User.id == user_id))


def by_session(session: Session, session_hash: str, now: datetime) -> tuple[User, WebSession] | None:
    row = session.execute(
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.id == session_hash, WebSession.expires_at > now, User.disabled.is_(False))
    ).first()
    return (row[0], row[1]) if row else None


def by_token(session: Session, token_hash: str) -> tuple[User, ApiToken] | None:
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None), User.disabled.is_(False))
    ).first()
    return (row[0], row[1]) if row else None


def end_session(session: Session, session_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == session_hash))


def end_sessions_of(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def purge_sessions(session: Session, now: datetime) -> None:
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))


def memberships(session: Session, user_id: int) -> dict[int, str]:
    """Workspace id -> role, of one user."""
    rows = session.execute(select(Membership.workspace_id, Membership.role).where(Membership.user_id == user_id))
    return {int(w): str(r) for w, r in rows}


def roles(session: Session) -> Sequence[tuple[str, int, str]]:
    """(user name, workspace id, role) of every membership."""
    query = select(User.username, Membership.workspace_id, Membership.role).join(
        Membership, Membership.user_id == User.id
    )
    return [(u, int(w), r) for u, w, r in session.execute(query.order_by(User.username, Membership.workspace_id))]


def unattended(session: Session, workspace_ids: Sequence[int]) -> list[int]:
    """Those of these workspaces in which no one has a role."""
    held = set(session.scalars(select(Membership.workspace_id).where(Membership.workspace_id.in_(workspace_ids))))
    return [w for w in workspace_ids if w not in held]


def set_role(session: Session, user_id: int, workspace_id: int, role: str | None) -> None:
    """Give a user a role in a workspace, or (None) take every role there away."""
    found = session.get(Membership, (user_id, workspace_id))
    if role is None:
        if found is not None:
            session.delete(found)
    elif found is None:
        session.add(Membership(user_id=user_id, workspace_id=workspace_id, role=role))
    else:
        found.role = role
    session.flush()


def tokens(session: Session) -> Sequence[tuple[ApiToken, str]]:
    rows = session.execute(select(ApiToken, User.username).join(User).order_by(ApiToken.id)).all()
    return [(t, name) for t, name in rows]


def revoke_token(session: Session, token_id: int, now: datetime) -> bool:
    result = session.execute(
        update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_tokens_of(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0))


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def login_failures(session: Session, keys: Sequence[str]) -> Sequence[LoginFailure]:
    return session.scalars(select(LoginFailure).where(LoginFailure.key.in_(keys))).all()


def add_login_failure(session: Session, key: str, now: datetime) -> int:
    """Count one more failure for ``key``; returns the count. A row lock (PostgreSQL) or the
    database lock (SQLite) keeps two processes from losing a failure between them."""
    found = session.scalars(select(LoginFailure).where(LoginFailure.key == key).with_for_update()).first()
    if found is None:
        session.add(LoginFailure(key=key, failures=1, last_failure_at=now))
        session.flush()
        return 1
    found.failures += 1
    found.last_failure_at = now
    return found.failures


def clear_login_failures(session: Session, keys: Sequence[str]) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))
