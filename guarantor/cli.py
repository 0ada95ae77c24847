"""The `guarantor` command. Commands are thin: they call services and map errors to exit codes.

Every failure is turned into a message and a code from ``errors.ExitCode`` here, in one place,
so no command ever ends in a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from guarantor import __version__
from guarantor.errors import ExitCode, GuarantorError, from_os_error

if TYPE_CHECKING:
    from typer import _click as click  # what Typer's classes are built on (its own copy of click)


@dataclass(frozen=True)
class Entry:
    """A command as `guarantor --help` lists it, and where it lives. ``summary`` is the first
    paragraph of the command's own help (a test checks they agree), so listing the commands
    imports none of them."""

    name: str
    target: str  # module:attribute, a function or a Typer of subcommands
    summary: str
    ends_at_once: bool = False
    """The process may end the moment the command returns, without tearing the interpreter down:
    its output is written and closed, and it holds no database, thread or temporary file. Tearing
    down numpy and pydantic takes 40 ms, a seventh of `classify` on a short file, and a pipeline
    that calls it per file waits for it each time."""


# In the order a person meets them: start a workspace, see what AI does to a role, guarantee the
# outcomes, bring in the work, write the plan, share it on the web.
PANELS: list[tuple[str, list[Entry]]] = [
    (
        "Start",
        [
            Entry(
                "init",
                "guarantor.workspace.cli:init",
                "Create a guarantor.yaml: on a terminal, a guided start (your role, the outcomes you deliver, "
                "which tasks serve each, your value proposition); without one, from the options; or a copy of "
                "another workspace (--from).",
            ),
            Entry(
                "validate",
                "guarantor.workspace.cli:validate",
                "Check a workspace against the schema and resolve its references (owners, serves).",
            ),
            Entry("schema", "guarantor.workspace.cli:schema", "Print the published JSON Schema of guarantor.yaml."),
        ],
    ),
    (
        "Tasks and AI",
        [
            Entry(
                "role",
                "guarantor.tasks.cli:role",
                "Show an occupation's tasks with predicted exposure, and the hours a week AI frees.",
            ),
            Entry(
                "classify",
                "guarantor.tasks.cli:classify",
                "Predict exposure, automation level and evidence for every task statement in a file.",
                ends_at_once=True,
            ),
            Entry("model", "guarantor.tasks.cli:model_app", "Build and evaluate the exposure model."),
            Entry("data", "guarantor.data.cli:app", "The O*NET data Guarantor learns from."),
        ],
    ),
    (
        "Outcomes and guarantees",
        [
            Entry(
                "check",
                "guarantor.guarantees.cli:check",
                "Measure the due indicators and print each outcome's status; exits with the worst status's code.",
            ),
            Entry(
                "record",
                "guarantor.guarantees.cli:record",
                "Check in a value for a manual indicator (type: manual): kept in the history with its author.",
            ),
            Entry(
                "history",
                "guarantor.guarantees.cli:history",
                "Show an outcome's measurements: a table per indicator and a sparkline of its values.",
            ),
            Entry(
                "watch",
                "guarantor.guarantees.cli:watch",
                "Evaluate indicators on their schedules until stopped (Ctrl-C or SIGTERM), and sync trackers.",
            ),
            Entry("outcome", "guarantor.guarantees.cli:outcome_app", "Outcomes and their guarantees."),
        ],
    ),
    (
        "Work and systems",
        [
            Entry(
                "import",
                "guarantor.work.cli:import_",
                "Import work items into the workspace; re-importing an export changes only what changed (by "
                "source and id). Items without an AI exposure yet are classified too, so data added later is "
                "never missed.",
            ),
            Entry(
                "sync",
                "guarantor.work.cli:sync_app",
                "Live sync from a tracker's API: only what changed since the last sync.",
            ),
            Entry(
                "work",
                "guarantor.work.cli:work_app",
                "Work items beyond import: classify the ones without an AI exposure.",
            ),
            Entry("link", "guarantor.work.cli:link_app", "Link work items to the outcomes they serve."),
            Entry(
                "balance",
                "guarantor.work.cli:balance",
                "Where the effort goes: per outcome, per AI-exposure level, over time, and the orphan work.",
            ),
            Entry(
                "systems",
                "guarantor.systems.cli:systems",
                "The legacy systems, who they serve, and whether each may be retired (and what blocks it).",
            ),
        ],
    ),
    (
        "Value plan",
        [
            Entry(
                "analyze",
                "guarantor.analysis.cli:analyze",
                "Assess every task, find orphan work and outcome gaps, and write the value plan.",
            ),
            Entry(
                "analyses",
                "guarantor.analysis.cli:analyses",
                "List the workspace's saved analyses, newest first, to see a role shift over time.",
            ),
            Entry(
                "org",
                "guarantor.analysis.cli:org",
                "The organisation view: hours AI frees, exposure, outcomes by status, guaranteed and aspirational "
                "outcomes, orphan work and systems blocking retirement, per team and in total.",
            ),
        ],
    ),
    (
        "Web app and accounts",
        [
            Entry(
                "serve",
                "guarantor.web.cli:serve",
                "Serve the dashboards and the JSON API (/api/v1) of one or many workspaces until Ctrl-C.",
            ),
            Entry("user", "guarantor.accounts.cli:user_app", "Users of the web app and the API."),
            Entry(
                "token",
                "guarantor.accounts.cli:token_app",
                "API tokens for scripts and CI (sent as Authorization: Bearer).",
            ),
        ],
    ),
]
ENTRIES = {e.name: (panel, e) for panel, entries in PANELS for e in entries}


def load(name: str) -> click.Command:
    """The command ``name`` as click runs it, its module imported now."""
    panel, entry = ENTRIES[name]
    module, attribute = entry.target.split(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        command: click.Command = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name, rich_help_panel=panel)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


class Commands(TyperGroup):
    """The root command. Its commands are listed from ``PANELS`` and imported only when one runs
    (or its own help is asked), so `guarantor --help` and every command start without importing
    the others: the web app, the model, the importers. Its own help is plain text in sections:
    rich's boxes would take longer than everything else it does (0.1 s to import and lay out);
    each command's help keeps them."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super(TyperGroup, self).format_help(ctx, formatter)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:  # Typer prints only the help it laid out itself
            typer.echo(ctx.get_help())
            ctx.exit(ExitCode.USAGE)
        return super().parse_args(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for panel, entries in PANELS:
            with formatter.section(panel):
                formatter.write_dl([(e.name, e.summary) for e in entries])

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *ENTRIES]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in ENTRIES:
            return found
        panel, entry = ENTRIES[cmd_name]
        return TyperCommand(cmd_name, help=entry.summary, rich_help_panel=panel)  # as listed

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in ENTRIES and args[0] not in self.commands:
            self.add_command(load(args[0]))
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="guarantor",
    cls=Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="From the tasks AI takes over to the outcomes people guarantee.\n\n"
    "Exit codes: " + ", ".join(f"{c.value} {c.name.lower()}" for c in ExitCode) + ".",
)


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

    Typer handles usage errors (exit 2), Ctrl-C (130) and a closed output (its exit 1, made 141 here)
    itself and raises SystemExit; everything of ours arrives as a GuarantorError and is mapped here.
    """
    try:
        app(args=argv, prog_name="guarantor")
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):  # Typer's exit 1 for a reader gone away
            return ExitCode.OUTPUT_CLOSED
        if exc.code == 1 and _interrupted(exc):  # Ctrl-C or Ctrl-D at a prompt: click's "Aborted!", exit 1
            return ExitCode.INTERRUPTED
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    except GuarantorError as exc:
        return _failed(exc)
    except OSError as exc:
        return _failed(from_os_error(exc))
    except Exception as exc:
        if os.environ.get("GUARANTOR_DEBUG"):
            raise
        from rich.markup import escape

        from guarantor.console import err

        err.print(
            f"[red]internal error:[/] {escape(f'{type(exc).__name__}: {exc}')}\nThis is a bug in Guarantor; "
            "run again with GUARANTOR_DEBUG=1 for the traceback and report it.",
            highlight=False,
        )
        return ExitCode.INTERNAL
    return ExitCode.OK


def _interrupted(exc: BaseException) -> bool:
    """Whether the exit came from Ctrl-C or the end of input at a prompt (click turns either into
    Abort, then exit 1, which our table calls a bug)."""
    import click

    seen: BaseException | None = exc.__context__
    while seen is not None:
        if isinstance(seen, click.exceptions.Abort | KeyboardInterrupt | EOFError):
            return True
        seen = seen.__context__
    return False


def _failed(exc: GuarantorError) -> int:
    from rich.markup import escape

    from guarantor.console import err  # here, not at start: `--help` needs neither

    err.print(f"[red]error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err.print(exc.hint, highlight=False, markup=False)
    return exc.exit_code


def main() -> None:
    # Guarantor uses no pydantic plugin, and looking for one reads every installed package's entry
    # points when the first model is made: 10 ms of a short `classify`. Set to "" to load them.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    code = run()
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name in ENTRIES and ENTRIES[name][1].ends_at_once:
        _end_now(code)
    sys.exit(code)


def _end_now(code: int) -> None:
    """End the process with ``code`` once its output is out, skipping the interpreter's teardown."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a reader that went away: the normal exit reports it as Python does
        return
    import logging  # already imported by the libraries, if by no one else: its handlers are flushed

    logging.shutdown()
    os._exit(code)
