"""`guarantor init`, `guarantor validate` and `guarantor schema`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from guarantor.atomic import write_text
from guarantor.console import err, out
from guarantor.data.files import data_dir
from guarantor.errors import Conflict
from guarantor.guarantees.display import count
from guarantor.settings import get_settings
from guarantor.tasks.catalogue import read_occupations
from guarantor.tasks.service import find_occupation
from guarantor.workspace import loader
from guarantor.workspace.scaffold import scaffold
from guarantor.workspace.schema import json_schema


def init(
    path: Path = typer.Argument(Path(loader.DEFAULT_NAME), help="File to create."),
    from_role: str | None = typer.Option(None, help="Seed tasks from this O*NET occupation (title or code)."),
    name: str | None = typer.Option(None, help="Workspace name."),
    person: str | None = typer.Option(None, help="Your name."),
    hours: float = typer.Option(40.0, help="Hours in your week."),
    force: bool = typer.Option(False, help="Overwrite an existing file."),
) -> None:
    """Create a guarantor.yaml (asks a few questions on a terminal)."""
    if path.exists() and not force:
        raise Conflict(f"{path} exists already.", hint="Pass --force to overwrite it, or give another file name.")
    interactive = sys.stdin.isatty()
    if interactive:
        name = name or typer.prompt("Workspace name", default="My work")
        person = person or typer.prompt("Your name", default="Me")
        from_role = from_role or typer.prompt("Your role (an occupation title or O*NET code)", default="") or None
        hours = typer.prompt("Hours in your week", default=hours, type=float)
    occupation = None
    if from_role:
        occupation = find_occupation(read_occupations(data_dir(get_settings())), from_role)
    text = scaffold(name or "My work", person or "Me", from_role or "Describe your role", hours, occupation)
    loader.parse(text, str(path))  # what init writes must validate
    write_text(path, text)
    out.print(
        f"Wrote {path}"
        + (f" with the {count(len(occupation.tasks), 'task')} of {occupation.title}" if occupation else "")
        + ". Edit it, then run `guarantor validate` and `guarantor analyze`."
    )


def validate(workspace: Path | None = typer.Argument(None, help="guarantor.yaml or its folder.")) -> None:
    """Check a workspace against the schema and resolve its references (owners, serves)."""
    path = loader.resolve(workspace)
    ws = loader.load(path)
    sizes = ", ".join(
        count(len(items), noun) for items, noun in ((ws.people, "person"), (ws.tasks, "task"), (ws.outcomes, "outcome"))
    )
    out.print(f"{path}: valid — {sizes}.")


def schema(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
) -> None:
    """Print the published JSON Schema of guarantor.yaml."""
    text = json_schema()
    if output:
        write_text(output, text)
        err.print(f"Wrote {output}")
    else:
        sys.stdout.write(text)
