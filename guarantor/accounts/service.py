"""Passwords, API tokens and browser sessions.

Passwords are hashed with Argon2id (argon2-cffi's defaults, which follow RFC 9106). Tokens and
session cookies are 256-bit random secrets; only their SHA-256 is stored, which is enough for a
secret that is not guessable, and cheap enough to check on every request.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from guarantor.accounts import repository
from guarantor.accounts.models import ApiToken, Role, User, WebSession
from guarantor.errors import Forbidden, InputError, NotFound, TooManyAttempts, Unauthenticated

log = logging.getLogger("guarantor.accounts")
_hasher = PasswordHasher()
# Checked against when the user does not exist, so a login takes as long for an unknown name.
_DUMMY_HASH = _hasher.hash("not a password anyone has")
USERNAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}\Z")  # \Z: "$" would let a final newline through
MIN_PASSWORD = 8
TOKEN_PREFIX = "gt_"
TOKEN_TOUCH = timedelta(minutes=1)  # how stale a token's last_used_at may get, to spare a write per request


@dataclass(frozen=True)
class Principal:
    """Who makes a request, how they proved it, and their role in each workspace they may see."""

    user_id: int
    username: str
    roles: Mapping[int, Role]  # workspace id -> role; a workspace not here does not exist for them
    csrf_token: str | None  # set for browser sessions, whose forms must carry it; None for API tokens
    only: int | None = None  # the one workspace a token is limited to

    def role_in(self, workspace_id: int) -> Role | None:
        if self.only is not None and self.only != workspace_id:
            return None
        return self.roles.get(workspace_id)

    def can(self, workspace_id: int, role: Role | str) -> bool:
        mine = self.role_in(workspace_id)
        return mine is not None and mine.rank >= Role(role).rank

    @property
    def workspaces(self) -> list[int]:
        return [w for w in self.roles if self.role_in(w) is not None]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise InputError(f"Unknown role {value!r}: use one of {', '.join(Role)}.") from exc


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"The password is too short: at least {MIN_PASSWORD} characters.")


def add_user(
    session: Session, username: str, password: str, now: datetime, roles: Mapping[int, str] | None = None
) -> User:
    """A new user, with a role in each workspace of ``roles`` (workspace id -> role)."""
    if not USERNAME.match(username):
        raise InputError(f"Invalid username {username!r}: letters, digits and _ . @ - (at most 64).")
    _check_password(password)
    if repository.user(session, username) is not None:
        raise InputError(f"A user named {username!r} exists already.")
    user = User(username=username, password_hash=_hasher.hash(password), created_at=now)
    session.add(user)
    session.flush()
    for workspace_id, role in (roles or {}).items():
        repository.set_role(session, user.id, workspace_id, _role(role))
    return user


def first_admin(session: Session, workspace_ids: list[int], now: datetime, public_host: str | None) -> str | None:
    """With no account yet, ``admin``, admin of every workspace served, and its password (shown
    once); None when accounts exist. Refused on a ``public_host`` (one beyond loopback): a server
    anyone can reach must not start open, nor with a password printed to its log."""
    if repository.count_users(session) > 0:
        return None
    if public_host is not None:
        raise Forbidden(
            f"Refusing to serve on {public_host} with no accounts: anyone who can reach it would see everything.",
            hint="Create one first: guarantor user add NAME --role admin",
        )
    password = secrets.token_urlsafe(12)
    add_user(session, "admin", password, now, dict.fromkeys(workspace_ids, "admin"))
    return password


def grant(session: Session, username: str, workspace_id: int, role: str | None) -> None:
    """Give a user a role in one workspace, or (None) take it away; their other workspaces stay as they are."""
    user = repository.user(session, username)
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    repository.set_role(session, user.id, workspace_id, _role(role) if role is not None else None)


def _principal(session: Session, user: User, csrf: str | None, only: int | None) -> Principal:
    roles = {w: Role(r) for w, r in repository.memberships(session, user.id).items()}
    return Principal(user.id, user.username, roles, csrf, only)


def set_password(session: Session, username: str, password: str, now: datetime) -> int:
    """A new password; sessions opened with the old one end and the user's API tokens are revoked
    (a password is changed because it may be known: so may a token made with it). Returns how many
    tokens were revoked."""
    user = repository.user(session, username)
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    repository.end_sessions_of(session, user.id)
    repository.clear_login_failures(session, [f"user:{username}"])
    return repository.revoke_tokens_of(session, user.id, now)


def remove_user(session: Session, username: str) -> None:
    user = repository.user(session, username)
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    repository.delete_user(session, user.id)


def authenticate(session: Session, username: str, password: str) -> User:
    user = repository.user(session, username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or user.disabled:
        raise Unauthenticated("Wrong username or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


@dataclass(frozen=True)
class Backoff:
    """How many failed logins in a row are free, and the longest wait after more."""

    free: int
    max_wait_s: int

    def wait(self, failures: int) -> int:
        """Seconds to wait after ``failures`` failures in a row: none while free, then 1 s doubling."""
        if failures < self.free:
            return 0
        return min(self.max_wait_s, 1 << min(failures - self.free, 30))


def login(session: Session, username: str, password: str, client: str, now: datetime, backoff: Backoff) -> User | None:
    """A password login, throttled per user name and per client address.

    Returns None for a wrong name or password, after counting the failure (the caller commits, so
    the count holds although the login failed). While either key must wait, even the right password
    is refused: otherwise guessing at full speed would only need to hit the window."""
    keys = [f"user:{username[:64]}", f"client:{client[:64]}"]
    for failure in repository.login_failures(session, keys):
        until = failure.last_failure_at + timedelta(seconds=backoff.wait(failure.failures))
        if now < until:
            retry = max(1, int((until - now).total_seconds() + 0.999))
            log.warning(
                "login refused for %r from %s: %s locked for %d s after %d failed logins",
                username[:64],
                client,
                failure.key,
                retry,
                failure.failures,
            )
            raise TooManyAttempts("Too many failed logins; wait before trying again.", retry)
    try:
        user = authenticate(session, username, password)
    except Unauthenticated:
        counts = [repository.add_login_failure(session, key, now) for key in keys]
        if max(counts) >= backoff.free:
            log.warning("failed login %d in a row for %r from %s", max(counts), username[:64], client)
        return None
    repository.clear_login_failures(session, keys)
    return user


def session_without_password(session: Session, username: str, now: datetime, lifetime: timedelta) -> str | None:
    """A session for ``username`` with no password asked (``GUARANTOR_WEB_NO_LOGIN``, checked by
    the caller); None when no such user is enabled."""
    user = repository.user(session, username)
    return start_session(session, user, now, lifetime)[0] if user and not user.disabled else None


def start_session(session: Session, user: User, now: datetime, lifetime: timedelta) -> tuple[str, WebSession]:
    """A new session; returns the cookie's value, which is not stored anywhere else."""
    secret = secrets.token_urlsafe(32)
    record = WebSession(
        id=digest(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(record)
    repository.purge_sessions(session, now)
    return secret, record


def end_session(session: Session, secret: str) -> None:
    repository.end_session(session, digest(secret))


def from_session(session: Session, secret: str, now: datetime) -> Principal | None:
    found = repository.by_session(session, digest(secret), now)
    if found is None:
        return None
    user, record = found
    return _principal(session, user, record.csrf_token, None)


def create_token(
    session: Session, username: str, name: str, now: datetime, only: int | None = None
) -> tuple[str, ApiToken]:
    """A new API token carrying the user's roles (in workspace ``only`` alone, when given); returns its
    secret, shown once and never stored."""
    user = repository.user(session, username)
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), created_at=now, workspace_id=only)
    session.add(record)
    session.flush()
    return secret, record


def from_token(session: Session, secret: str, now: datetime) -> tuple[Principal, int | None] | None:
    """Who the token is, and its id when its last use is to be written (at most once a
    ``TOKEN_TOUCH``), which the caller does apart (``touch_token``): a read must not write."""
    found = repository.by_token(session, digest(secret))
    if found is None:
        return None
    user, token = found
    stale = token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH
    return _principal(session, user, None, token.workspace_id), token.id if stale else None


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    repository.touch_token(session, token_id, now)


def revoke_token(session: Session, token_id: int, now: datetime) -> None:
    if not repository.revoke_token(session, token_id, now):
        raise NotFound(f"No active token with id {token_id}.")


def require(principal: Principal, workspace_id: int, role: Role) -> None:
    if not principal.can(workspace_id, role):
        mine = principal.role_in(workspace_id)
        raise Forbidden(f"This needs the {role} role; {principal.username} is a {mine} here.")
