"""`guarantor serve`: the web app and the API on the database the CLI uses."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import typer

from guarantor import cli_options
from guarantor.console import err
from guarantor.errors import Conflict, UsageError


def serve(
    workspaces: list[Path] | None = typer.Argument(
        None,
        help="Workspaces: guarantor.yaml files, their folders, or a folder of workspace folders (each one served); "
        "default: here.",
        show_default=False,
    ),
    workspace_option: Path | None = cli_options.OPTION,
    host: str = typer.Option("127.0.0.1", help="Address to listen on; beyond loopback, accounts are required."),
    port: int | None = typer.Option(
        None, min=1, max=65535, help="Port to listen on. Default: GUARANTOR_WEB_PORT (8000).", show_default=False
    ),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (several pay off with PostgreSQL)."),
    no_login: bool = typer.Option(
        False,
        "--no-login",
        help="For one person on this machine: a browser here is logged in as admin without a password. Loopback only.",
    ),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        help="Reverse proxies trusted to name the client (X-Forwarded-For) and say the request came over TLS "
        "(X-Forwarded-Proto), comma-separated. Default: GUARANTOR_WEB_TRUSTED_PROXIES (none).",
        show_default=False,
    ),
) -> None:
    """Serve the dashboards and the JSON API (/api/v1) of one or many workspaces until Ctrl-C."""
    import uvicorn

    from guarantor.web.app import WORKSPACE_ENV
    from guarantor.web.security import is_loopback
    from guarantor.workspace import loader

    if workspaces and workspace_option is not None:
        raise UsageError("Give the workspaces as arguments or one with -w, not both.")
    paths = loader.resolve_many(workspaces or [workspace_option or Path.cwd()])
    settings = cli_options.settings()
    if (no_login or settings.web_no_login) and not is_loopback(host):
        raise UsageError(
            f"No login (--no-login) serves only on loopback, not on {host}: anyone reaching it would be admin."
        )
    if no_login:
        os.environ["GUARANTOR_WEB_NO_LOGIN"] = "true"  # how the worker processes' settings hear of it
        settings = settings.model_copy(update={"web_no_login": True})
    port = settings.web_port if port is None else port
    # Listening before an account is created and its one-time password shown: a password shown by
    # a server that then failed to start was used up, and the next start created none.
    listener = _listen(host, port)
    with listener:
        # Likewise what may fail for want of data.
        cli_options.exposure_model()  # built once here rather than by each worker on its first request
        ids = _accounts_ready(paths, host, settings.resolved_database_url)
        os.environ[WORKSPACE_ENV] = os.pathsep.join(str(p) for p in paths)
        trusted = settings.web_trusted_proxies if forwarded_allow_ips is None else forwarded_allow_ips
        served = str(paths[0]) if len(paths) == 1 else f"{len(ids)} workspaces"
        if settings.web_no_login:
            name = "localhost" if host == "127.0.0.1" else host
            err.print(f"No login from this machine: open http://{name}:{port}/ (you are admin there).")
        err.print(f"Serving {served} on http://{host}:{port}/ ({workers} worker{'s' if workers > 1 else ''})")
        uvicorn.run(
            "guarantor.web.app:create_app",
            factory=True,
            fd=listener.fileno(),
            workers=workers,
            log_level="warning",
            **uvicorn_options(trusted),
        )


def _accounts_ready(paths: list[Path], host: str, database_url: str) -> dict[int, str]:
    """Enter the workspaces in the database and make the first admin where there is none (its
    password shown once); returns the workspaces' names by id."""
    from rich.markup import escape

    from guarantor.accounts import repository, service
    from guarantor.clock import utcnow
    from guarantor.db.session import Database
    from guarantor.web.security import is_loopback
    from guarantor.workspace.service import enter_all

    db = Database(database_url)
    try:
        entered, refused = enter_all(db, paths, utcnow())
        for r in refused:
            err.print(f"[red]Not served[/]: {escape(str(r.path))}: {escape(r.error.message)}", highlight=False)
        ids = {e.id: e.name for e in entered}
        with db.transaction() as session:
            public = None if is_loopback(host) else host
            password = service.first_admin(session, list(ids), utcnow(), public)
            if password is not None:
                err.print(
                    f"No accounts yet: created [bold]admin[/] with password [bold]{password}[/] (shown once), "
                    "admin of every workspace served."
                )
            else:
                err.print(
                    "Log in with an account made before (the first one is [bold]admin[/]); a lost password: "
                    "`guarantor user passwd admin`."
                )
            for workspace_id in repository.unattended(session, list(ids)):
                err.print(
                    f"[yellow]No one has a role in {ids[workspace_id]}[/]: "
                    "`guarantor user grant NAME admin -w ITS-FOLDER` gives one.",
                    highlight=False,
                )
    finally:
        db.close()
    return ids


def uvicorn_options(trusted_proxies: str) -> dict[str, Any]:
    """How every Guarantor server runs under uvicorn. Proxy headers only from the proxies the admin
    lists: from anyone else, X-Forwarded-For would let a client pick the address the per-address
    login limit counts (uvicorn trusts loopback by default). Requests still running two seconds
    after a stop is asked for (a check on a hanging source) are cut."""
    return {
        "proxy_headers": bool(trusted_proxies),
        "forwarded_allow_ips": trusted_proxies or None,
        "timeout_graceful_shutdown": 2,
    }


def _listen(host: str, port: int) -> socket.socket:
    """Listen on the address now, and hand the socket to uvicorn: a port in use is a clear error
    before anything is made, and connections wait in the backlog from here on. SO_REUSEADDR as
    uvicorn binds it, so the connections of a server just stopped (TIME_WAIT) do not count as one
    listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
        listener.set_inheritable(True)  # the worker processes serve it too
        return listener
    except OSError as exc:
        listener.close()
        raise Conflict(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
            hint="Another server may be using it: choose one with --port.",
        ) from exc
