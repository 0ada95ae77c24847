"""`guarantor init`, `guarantor validate` and `guarantor schema`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from guarantor import cli_options
from guarantor.atomic import write_text
from guarantor.console import err, out
from guarantor.data.files import data_dir
from guarantor.errors import Ambiguous, Conflict, NotFound
from guarantor.guarantees.display import count
from guarantor.workspace import DEFAULT_NAME

if TYPE_CHECKING:
    from guarantor.tasks.catalogue import Occupation


def init(
    path: Path = typer.Argument(Path(DEFAULT_NAME), help="File to create."),
    from_role: str | None = typer.Option(None, help="Seed tasks from this O*NET occupation (title or code)."),
    name: str | None = typer.Option(None, help="Workspace name."),
    person: str | None = typer.Option(None, help="Your name."),
    hours: float = cli_options.hours("Hours in your week."),
    force: bool = typer.Option(False, help="Overwrite an existing file."),
) -> None:
    """Create a guarantor.yaml: on a terminal, a guided start (your role, the outcomes you deliver, your
    value proposition, your main tasks); without one, from the options."""
    from guarantor.tasks.catalogue import read_occupations
    from guarantor.tasks.search import find_occupation
    from guarantor.workspace import loader
    from guarantor.workspace.scaffold import TEMPLATE_ROLE, scaffold, template_fields

    if path.exists() and not force:
        raise Conflict(f"{path} exists already.", hint="Pass --force to overwrite it, or give another file name.")
    occupations = read_occupations(data_dir(cli_options.settings())) if from_role or sys.stdin.isatty() else {}
    if sys.stdin.isatty():
        text = _guided(occupations, name, person, from_role, hours)
    else:
        occupation = find_occupation(occupations, from_role).occupation if from_role else None
        text = scaffold(name or "My work", person or "Me", from_role or TEMPLATE_ROLE, hours, occupation)
    loader.parse(text, str(path))  # what init writes must validate
    write_text(path, text)
    drafts = template_fields(loader.parse(text, str(path))[0])
    out.print(
        f"Wrote {path}."
        + (f" {count(len(drafts), 'field')} still hold the template's text: edit them," if drafts else "")
        + " then run `guarantor validate` and `guarantor analyze`."
    )


def _guided(
    occupations: dict[str, Occupation], name: str | None, person: str | None, role: str | None, hours: float
) -> str:
    """The questions of a guided start, in the order that makes the file worth analysing."""
    from guarantor.workspace.scaffold import QUESTIONS, OutcomeDraft, scaffold

    name = name or typer.prompt("Workspace name", default="My work")
    person = person or typer.prompt("Your name", default="Me")
    role = role or typer.prompt("Your role (any job title)")
    occupation = _pick_occupation(occupations, role)
    hours = typer.prompt("Hours in your week", default=hours, type=float)
    err.print("\n[bold]The outcomes you deliver[/]: what someone else gets from your work.")
    err.print("An empty title ends the list.")
    outcomes: list[OutcomeDraft] = []
    while title := typer.prompt(f"Outcome {len(outcomes) + 1}, its title", default="", show_default=False).strip():
        outcomes.append(
            OutcomeDraft(
                title=title,
                for_whom=typer.prompt("  For whom (who benefits)"),
                need=typer.prompt("  The need of theirs it meets", default="", show_default=False) or None,
                indicator=typer.prompt("  How would they know they got it", default="", show_default=False) or None,
                target=typer.prompt("  The level that counts as delivered", default="", show_default=False) or None,
            )
        )
    err.print("\n[bold]Your value proposition[/], in your words (empty: answer later in the file).")
    answers = {key: typer.prompt(question, default="", show_default=False) for key, question in QUESTIONS.items()}
    tasks: list[str] | None = None
    if occupation is not None:
        keep = typer.confirm(
            f"\nKeep the {count(len(occupation.tasks), 'task')} of {occupation.title} as your tasks (edit them later)?",
            default=True,
        )
        tasks = None if keep else _own_tasks()
    else:
        tasks = _own_tasks() or None
    return scaffold(name, person, role, hours, occupation, outcomes, {k: v for k, v in answers.items() if v}, tasks)


def _pick_occupation(occupations: dict[str, Occupation], role: str) -> Occupation | None:
    """The O*NET occupation the title means: the clear match, a candidate the person picks, or none
    (the title stays as free text)."""
    from guarantor.tasks.search import find_occupation

    try:
        return find_occupation(occupations, role).occupation
    except Ambiguous as exc:
        err.print(f"{role!r} could be one of these occupations:", highlight=False, markup=False)
        for i, candidate in enumerate(exc.candidates, start=1):
            err.print(f"  {i}. {candidate}", highlight=False, markup=False)
        err.print(f"  0. none of these: keep {role!r} as free text", highlight=False, markup=False)
        while not 0 <= (choice := typer.prompt("Pick one", default=1, type=int)) <= len(exc.candidates):
            err.print(f"Pick a number from 0 to {len(exc.candidates)}.")
        return occupations[exc.candidates[choice - 1].split()[0]] if choice else None
    except NotFound:
        err.print(f"No O*NET occupation matches {role!r}: it stays as free text.", highlight=False, markup=False)
        return None


def _own_tasks() -> list[str]:
    err.print("Your main tasks, one a line; an empty line ends the list.")
    tasks: list[str] = []
    while task := typer.prompt(f"Task {len(tasks) + 1}", default="", show_default=False).strip():
        tasks.append(task)
    return tasks


def validate(workspace: Path | None = cli_options.ARGUMENT, workspace_option: Path | None = cli_options.OPTION) -> None:
    """Check a workspace against the schema and resolve its references (owners, serves)."""
    from guarantor.workspace import loader
    from guarantor.workspace.scaffold import template_fields

    workspace = cli_options.workspace(workspace, workspace_option)
    path = loader.resolve(workspace)
    ws, marks = loader.parse(loader.read_text(path), str(path))
    _check_roles(ws, marks, str(path))
    for loc, text in template_fields(ws):
        warning = loader.problem_at(marks, str(path), loc, f"still the template's text ({text!r}): write your own")
        err.print(f"[yellow]warning:[/] {escape(str(warning))}", highlight=False)
    sizes = ", ".join(
        count(len(items), noun) for items, noun in ((ws.people, "person"), (ws.tasks, "task"), (ws.outcomes, "outcome"))
    )
    out.print(f"{path}: valid — {sizes}.")


def _check_roles(ws: Any, marks: Any, name: str) -> None:
    """Every person's role names one occupation, where the O*NET data is here to say (without it,
    validate says so and checks the rest)."""
    from guarantor.data.files import data_dir
    from guarantor.errors import DataMissing, ValidationFailed
    from guarantor.tasks.catalogue import read_occupations
    from guarantor.workspace import loader

    if not ws.people:
        return
    try:
        occupations = read_occupations(data_dir(cli_options.settings()))
    except DataMissing:
        err.print("[yellow]warning:[/] roles not checked: the O*NET data is not here (`guarantor data status`)")
        return
    problems = loader.role_problems(ws, marks, name, occupations)
    if problems:
        raise ValidationFailed(problems)


def schema(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
) -> None:
    """Print the published JSON Schema of guarantor.yaml."""
    from guarantor.workspace.schema import json_schema

    text = json_schema()
    if output:
        write_text(output, text)
        err.print(f"Wrote {output}")
    else:
        sys.stdout.write(text)
