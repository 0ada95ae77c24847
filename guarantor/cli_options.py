"""What every command takes the same way: the workspace, as an argument where it is the command's
subject (`guarantor check ws/`) and as `-w/--workspace` everywhere (`guarantor history OUTCOME -w ws/`)."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from guarantor.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from guarantor.settings import Settings
    from guarantor.tasks.model import ExposureModel
    from guarantor.workspace.schema import Workspace

HELP = "guarantor.yaml or its folder (default: here)."
ARGUMENT = typer.Argument(None, help=HELP, show_default=False)
OPTION = typer.Option(None, "--workspace", "-w", help=HELP, show_default=False)
JSON = typer.Option(False, "--json", help="Print JSON.")


def _finite(value: float) -> float:
    """Click's ranges let NaN through (every comparison with it is false): "AI frees about nan h"."""
    if value != value:
        raise typer.BadParameter("is not a number")
    return value


def hours(help_text: str) -> Any:
    """Hours in a week, as the workspace file takes them: more than 0, at most 168, finite."""
    return typer.Option(40.0, min=0.5, max=168, callback=_finite, help=help_text)


def workspace(argument: Path | None, option: Path | None) -> Path | None:
    """The workspace named either way; both, and different, is a usage error."""
    if argument is not None and option is not None and argument != option:
        raise UsageError(f"The workspace is given twice ({argument} and -w {option}): give it once.")
    return argument if argument is not None else option


def opened(argument: Path | None, option: Path | None) -> AbstractContextManager[tuple[Session, Workspace]]:
    """The database session entered into the workspace named either way, and the workspace."""
    from guarantor.workspace.session import open_workspace

    return open_workspace(settings(), workspace(argument, option))


def print_json(value: object, exclude: set[str] | None = None) -> None:
    """What a domain answers (pydantic models, dataclasses, lists and dicts of them) as JSON on
    stdout, in one format for every command's ``--json``; ``exclude``: fields left out."""
    from pydantic_core import to_json

    sys.stdout.write(to_json(value, indent=2, exclude=exclude).decode() + "\n")


def wide(what: str) -> Any:
    """``--wide``, the same flag on every listing that cuts long texts to the terminal's width."""
    return typer.Option(False, "--wide", help=f"Show whole {what} (wrapped) instead of cutting them.")


def settings() -> Settings:
    """The settings, read on first use. Commands import what they need when they run: pydantic-settings
    alone takes about 0.2 s, which ``--help`` and every command that does not run should not pay."""
    from guarantor.settings import get_settings

    return get_settings()


def exposure_model() -> ExposureModel:
    """The exposure model every command that assesses texts uses, built on first use with each step
    said on stderr (a build takes ~15 s, once per data version)."""
    from guarantor.tasks import store

    started: list[str] = []

    def building(step: str) -> None:
        from guarantor.console import err  # only when building: rich takes 30 ms to import

        if not started:
            started.append(step)
            err.print("Building the exposure model for this data: once per data version, shared by every home (~15 s).")
        err.print(f"[dim]  · {step}[/]")

    return store.load_or_build(settings(), building)
