"""The `guarantor` command. Commands are thin: they call services and map errors to exit codes.

Every failure is turned into a message and a code from ``errors.ExitCode`` here, in one place,
so no command ever ends in a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from rich.markup import escape

from guarantor import __version__
from guarantor.accounts.cli import token_app, user_app
from guarantor.analysis.cli import analyses, analyze, org
from guarantor.console import err
from guarantor.data.cli import app as data_app
from guarantor.errors import ExitCode, GuarantorError, from_os_error
from guarantor.guarantees.cli import check, history, outcome_app, record, watch
from guarantor.systems.cli import systems
from guarantor.tasks.cli import classify, model_app, role
from guarantor.web.cli import serve
from guarantor.work.cli import balance, import_, link_app, sync_app, work_app
from guarantor.workspace.cli import init, schema, validate

app = typer.Typer(
    name="guarantor",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="From the tasks AI takes over to the outcomes people guarantee.\n\n"
    "Exit codes: " + ", ".join(f"{c.value} {c.name.lower()}" for c in ExitCode) + ".",
)
# In the order a person meets them: start a workspace, see what AI does to a role, guarantee the
# outcomes, bring in the work, write the plan, share it on the web.
PANELS: list[tuple[str, list[tuple[str, Any]]]] = [
    ("Start", [("init", init), ("validate", validate), ("schema", schema)]),
    ("Tasks and AI", [("role", role), ("classify", classify), ("model", model_app), ("data", data_app)]),
    (
        "Outcomes and guarantees",
        [("check", check), ("record", record), ("history", history), ("watch", watch), ("outcome", outcome_app)],
    ),
    (
        "Work and systems",
        [
            ("import", import_),
            ("sync", sync_app),
            ("work", work_app),
            ("link", link_app),
            ("balance", balance),
            ("systems", systems),
        ],
    ),
    ("Value plan", [("analyze", analyze), ("analyses", analyses), ("org", org)]),
    ("Web app and accounts", [("serve", serve), ("user", user_app), ("token", token_app)]),
]
for panel, commands in PANELS:
    for name, command in commands:
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name, rich_help_panel=panel)
        else:
            app.command(name, rich_help_panel=panel)(command)


def _version(asked: bool) -> None:
    if asked:
        print(__version__)
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """From the tasks AI takes over to the outcomes people guarantee."""


@app.command(hidden=True)
def version() -> None:
    """Print the version (the same as --version, kept for scripts that call it)."""
    print(__version__)


def run(argv: list[str] | None = None) -> int:
    """Run a command; returns its exit code instead of exiting, so tests can call it in-process.

    Typer handles usage errors (exit 2) and Ctrl-C (130) itself and raises SystemExit; everything
    of ours arrives as a GuarantorError and is mapped here.
    """
    try:
        app(args=argv, prog_name="guarantor")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    except GuarantorError as exc:
        return _failed(exc)
    except OSError as exc:
        return _failed(from_os_error(exc))
    except Exception as exc:
        if os.environ.get("GUARANTOR_DEBUG"):
            raise
        err.print(
            f"[red]internal error:[/] {escape(f'{type(exc).__name__}: {exc}')}\nThis is a bug in Guarantor; "
            "run again with GUARANTOR_DEBUG=1 for the traceback and report it.",
            highlight=False,
        )
        return ExitCode.INTERNAL
    return ExitCode.OK


def _failed(exc: GuarantorError) -> int:
    err.print(f"[red]error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err.print(exc.hint, highlight=False, markup=False)
    return exc.exit_code


def main() -> None:
    sys.exit(run())
