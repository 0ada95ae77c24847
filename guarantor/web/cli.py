"""`guarantor serve`: the web app and the API on the database the CLI uses."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import typer

from guarantor import cli_options
from guarantor.console import err
from guarantor.errors import Conflict, Forbidden


def serve(
    workspace: Path | None = cli_options.ARGUMENT,
    workspace_option: Path | None = cli_options.OPTION,
    host: str = typer.Option("127.0.0.1", help="Address to listen on; beyond loopback, accounts are required."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (several pay off with PostgreSQL)."),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1", help="Proxies trusted to say the request came over TLS (X-Forwarded-Proto)."
    ),
) -> None:
    """Serve the dashboards and the JSON API (/api/v1) until Ctrl-C."""
    import uvicorn

    from guarantor.accounts import repository, service
    from guarantor.clock import utcnow
    from guarantor.db.session import Database
    from guarantor.tasks.cli import load_model
    from guarantor.web.app import WORKSPACE_ENV
    from guarantor.web.security import is_loopback
    from guarantor.workspace import loader

    workspace = cli_options.workspace(workspace, workspace_option)
    settings = cli_options.settings()
    path = loader.resolve(workspace).resolve()
    loader.load(path)
    _port_free(host, port)  # before an account is created and its one-time password shown
    db = Database(settings.resolved_database_url)
    try:
        with db.transaction() as session:
            if repository.count_users(session) == 0:
                if not is_loopback(host):
                    raise Forbidden(
                        f"Refusing to serve on {host} with no accounts: anyone who can reach it would see everything.",
                        hint="Create one first: guarantor user add NAME --role admin",
                    )
                password = secrets.token_urlsafe(12)
                service.add_user(session, "admin", password, "admin", utcnow())
                err.print(f"No accounts yet: created [bold]admin[/] with password [bold]{password}[/] (shown once).")
    finally:
        db.close()
    load_model()  # built once here rather than by each worker on its first request
    os.environ[WORKSPACE_ENV] = str(path)
    err.print(f"Serving {path} on http://{host}:{port}/ ({workers} worker{'s' if workers > 1 else ''})")
    uvicorn.run(
        "guarantor.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="warning",
    )


def _port_free(host: str, port: int) -> None:
    """Bind and release the address now: a port in use is a clear error before anything is made."""
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, port))
    except OSError as exc:
        raise Conflict(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
            hint="Another server may be using it: choose one with --port.",
        ) from exc
