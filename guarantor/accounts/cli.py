"""`guarantor user ...` and `guarantor token ...`: the accounts the web app and the API accept."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from guarantor import cli_options
from guarantor.console import out
from guarantor.errors import InputError

user_app = typer.Typer(help="Users of the web app and the API.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for scripts and CI (sent as Authorization: Bearer).", no_args_is_help=True)


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise InputError("No terminal to ask for the password on: pass it with --password-stdin.")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


ROLE_HELP = "viewer (read), editor (also edit and check) or admin."


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="The login name."),
    role: str = typer.Option("viewer", help=f"Their role in the workspace: {ROLE_HELP}"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    workspace: Path | None = cli_options.OPTION,
) -> None:
    """Create a user with a role in the workspace (the password is asked for twice, or read from
    stdin); `guarantor user grant` gives them roles in others."""
    from guarantor.accounts import service
    from guarantor.clock import utcnow
    from guarantor.db import scope

    password = _password(password_stdin)
    with cli_options.opened(workspace, None) as (session, ws):
        user = service.add_user(session, username, password, utcnow(), {scope.current(session): role})
    out.print(f"User {user.username} created, {role} of {ws.name}.", markup=False, highlight=False)


@user_app.command("grant")
def user_grant(
    username: str = typer.Argument(..., help="The login name."),
    role: str = typer.Argument(..., help=ROLE_HELP),
    workspace: Path | None = cli_options.OPTION,
) -> None:
    """Give a user a role in the workspace (replacing the one they had there)."""
    _grant(username, role, workspace)


@user_app.command("revoke")
def user_revoke(
    username: str = typer.Argument(..., help="The login name."), workspace: Path | None = cli_options.OPTION
) -> None:
    """Take a user's role in the workspace away: they no longer see it at all."""
    _grant(username, None, workspace)


def _grant(username: str, role: str | None, workspace: Path | None) -> None:
    from guarantor.accounts import service
    from guarantor.db import scope

    with cli_options.opened(workspace, None) as (session, ws):
        service.grant(session, username, scope.current(session), role)
    said = f"now {role} of" if role else "no longer sees"
    out.print(f"{username} {said} {ws.name}.", markup=False, highlight=False)


@user_app.command("passwd")
def user_passwd(
    username: str = typer.Argument(..., help="The login name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Set a user's password (asked for twice, or read from stdin); their browser sessions end and
    their API tokens are revoked."""
    from guarantor.accounts import service
    from guarantor.clock import utcnow
    from guarantor.db.session import open_session

    password = _password(password_stdin)
    with open_session(cli_options.settings()) as session:
        revoked = service.set_password(session, username, password, utcnow())
    out.print(
        f"Password of {username} changed; their browser sessions have ended and {revoked} API "
        f"token{'' if revoked == 1 else 's'} of theirs revoked (`guarantor token create` makes new ones)."
    )


@user_app.command("list")
def user_list() -> None:
    """List users and their role in each workspace."""
    from guarantor.accounts import repository
    from guarantor.db.session import open_session
    from guarantor.workspace.repository import records

    table = Table()
    for col in ("user", "roles", "created (UTC)"):
        table.add_column(col)
    with open_session(cli_options.settings()) as session:
        keys = {w.id: w.key or w.name for w in records(session)}
        roles: dict[str, list[str]] = {}
        for name, workspace_id, role in repository.roles(session):
            roles.setdefault(name, []).append(f"{role} of {keys.get(workspace_id, workspace_id)}")
        for u in repository.users(session):
            table.add_row(
                u.username, ", ".join(roles.get(u.username, [])) or "none", u.created_at.strftime("%Y-%m-%d %H:%M")
            )
    out.print(table)


@user_app.command("remove")
def user_remove(username: str = typer.Argument(...)) -> None:
    """Delete a user, with their tokens and sessions."""
    from guarantor.accounts import service
    from guarantor.db.session import open_session

    with open_session(cli_options.settings()) as session:
        service.remove_user(session, username)
    out.print(f"User {username} removed.")


@token_app.command("create")
def token_create(
    username: str = typer.Argument(..., help="Whose rights the token carries."),
    name: str = typer.Option("api", help="What it is for, such as ci."),
    only: Path | None = typer.Option(
        None, "--only", help="Limit it to this workspace (guarantor.yaml or its folder); default: all of the user's."
    ),
) -> None:
    """Create an API token and print it once; only its hash is kept."""
    from guarantor.accounts import service
    from guarantor.clock import utcnow
    from guarantor.db import scope
    from guarantor.db.session import open_session
    from guarantor.workspace.session import open_workspace

    settings = cli_options.settings()
    if only is None:
        with open_session(settings) as session:
            secret, record = service.create_token(session, username, name, utcnow())
    else:
        with open_workspace(settings, only) as (session, _):
            secret, record = service.create_token(session, username, name, utcnow(), scope.current(session))
    sys.stdout.write(secret + "\n")
    if sys.stderr.isatty():
        out.print(f"Token {record.id} for {username}; keep it secret, it is not shown again.")


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their secrets)."""
    from guarantor.accounts import repository
    from guarantor.db.session import open_session

    table = Table()
    for col in ("id", "user", "name", "created (UTC)", "last used", "revoked"):
        table.add_column(col)
    with open_session(cli_options.settings()) as session:
        for t, username in repository.tokens(session):
            table.add_row(
                str(t.id),
                username,
                t.name,
                t.created_at.strftime("%Y-%m-%d %H:%M"),
                t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "",
                t.revoked_at.strftime("%Y-%m-%d %H:%M") if t.revoked_at else "",
            )
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., min=1, max=2**63 - 1, help="The id `token list` shows.")) -> None:
    """Revoke a token: requests carrying it are refused from now on."""
    from guarantor.accounts import service
    from guarantor.clock import utcnow
    from guarantor.db.session import open_session

    with open_session(cli_options.settings()) as session:
        service.revoke_token(session, token_id, utcnow())
    out.print(f"Token {token_id} revoked.")
