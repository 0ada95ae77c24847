"""`guarantor init`, `guarantor validate` and `guarantor schema`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from guarantor import cli_options
from guarantor.atomic import write_text
from guarantor.console import err, out
from guarantor.data.files import data_dir
from guarantor.errors import Ambiguous, Conflict, NotFound
from guarantor.guarantees.display import count
from guarantor.workspace import DEFAULT_NAME

if TYPE_CHECKING:
    from guarantor.tasks.catalogue import Occupation
    from guarantor.workspace.scaffold import OutcomeDraft


def init(
    path: Path = typer.Argument(Path(DEFAULT_NAME), help="File to create."),
    from_role: str | None = typer.Option(None, help="Seed tasks from this O*NET occupation (title or code)."),
    name: str | None = typer.Option(None, help="Workspace name."),
    person: str | None = typer.Option(None, help="Your name."),
    hours: float = cli_options.hours("Hours in your week."),
    force: bool = typer.Option(False, help="Overwrite an existing file."),
    copy_of: Path | None = typer.Option(
        None,
        "--from",
        help="Copy this workspace (a guarantor.yaml or its folder) under a new key: a workspace of its own, "
        "with no shared history.",
        show_default=False,
    ),
) -> None:
    """Create a guarantor.yaml: on a terminal, a guided start (your role, the outcomes you deliver,
    which tasks serve each, your value proposition); without one, from the options; or a copy of
    another workspace (--from)."""
    from guarantor.tasks.catalogue import read_occupations
    from guarantor.tasks.search import find_occupation
    from guarantor.workspace import loader
    from guarantor.workspace.scaffold import TEMPLATE_ROLE, copied, scaffold, template_fields

    if path.is_dir():
        path = path / DEFAULT_NAME
    if path.exists() and not force:
        raise Conflict(f"{path} exists already.", hint="Pass --force to overwrite it, or give another file name.")
    if copy_of is not None:
        source = loader.resolve(copy_of)
        text = copied(loader.read_text(source), name)
    elif sys.stdin.isatty():
        occupations = read_occupations(data_dir(cli_options.settings()))
        text = _guided(occupations, name, person, from_role, hours)
    else:
        occupations = read_occupations(data_dir(cli_options.settings())) if from_role else {}
        occupation = find_occupation(occupations, from_role).occupation if from_role else None
        text = scaffold(name or "My work", person or "Me", from_role or TEMPLATE_ROLE, hours, occupation)
    written = loader.parse(text, str(path))[0]  # what init writes must parse; placeholders are the person's
    write_text(path, text)
    drafts = template_fields(written)
    if drafts:
        out.print(
            f"Wrote {path}. {count(len(drafts), 'field')} still hold the template's text: replace them "
            f"(`guarantor validate {path}` shows where, and passes once they are your own), then "
            f"`guarantor analyze {path} -o report.html`.",
            highlight=False,
        )
    else:
        out.print(f"Wrote {path}. Next: `guarantor analyze {path} -o report.html`.", highlight=False)


def _guided(
    occupations: dict[str, Occupation], name: str | None, person: str | None, role: str | None, hours: float
) -> str:
    """The questions of a guided start, in the order that makes the file worth analysing: the
    occupation confirmed as soon as it is found, the outcomes, the tasks and which outcome each
    serves, then the value proposition. Nothing is written before the last answer."""
    from guarantor.workspace.scaffold import OutcomeDraft, scaffold
    from guarantor.workspace.schema import VALUE_QUESTIONS

    name = name or typer.prompt("Workspace name", default="My work")
    person = person or typer.prompt("Your name", default="Me")
    role, occupation = _pick_occupation(occupations, role or typer.prompt("Your role (any job title)"))
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
    kept, tasks = _tasks(occupation)
    links = _links(tasks, outcomes) if outcomes else [[] for _ in tasks]
    err.print("\n[bold]Your value proposition[/], in your words (empty: answer later in the file).")
    answers = {key: typer.prompt(question, default="", show_default=False) for key, question in VALUE_QUESTIONS.items()}
    return scaffold(name, person, role, hours, occupation, outcomes, answers, None if kept else tasks, links)


def _pick_occupation(occupations: dict[str, Occupation], role: str) -> tuple[str, Occupation | None]:
    """The O*NET occupation the title means, confirmed by the person at once: the best match and
    the next ones, numbered; another title searches again; 0 keeps the title as free text.
    Returns the role as written in the file and the occupation."""
    from guarantor.tasks.search import find_occupation, rank

    while True:
        try:
            found = [find_occupation(occupations, role).occupation]
            err.print(f"Found: {found[0].title} ({found[0].code}).", highlight=False, markup=False)
        except Ambiguous:
            found = []
            err.print(f"{role!r} could be one of these occupations:", highlight=False, markup=False)
        except NotFound:
            found = []
            err.print(f"No O*NET occupation clearly matches {role!r}; the closest:", highlight=False, markup=False)
        choices = (
            found
            + [m.occupation for m in rank(occupations, role)[:8] if m.occupation not in found][: 5 if found else 8]
        )
        for i, candidate in enumerate(choices, start=1):
            err.print(f"  {i}. {candidate.title} ({candidate.code})", highlight=False, markup=False)
        err.print(f"  0. none of these: keep {role!r} as free text", highlight=False, markup=False)
        answer = typer.prompt("Pick one by number, or type another title to search again", default="1").strip()
        if not answer.isdigit():
            role = answer
            continue
        if int(answer) == 0:
            return role, None
        if int(answer) <= len(choices):
            picked = choices[int(answer) - 1]
            return f"{picked.code} {picked.title}", picked
        err.print(f"Pick a number from 0 to {len(choices)}.", highlight=False)


def _tasks(occupation: Occupation | None) -> tuple[bool, list[str]]:
    """The occupation's tasks (True: kept, with their default hours), or the person's own."""
    if occupation is not None and typer.confirm(
        f"\nKeep the {count(len(occupation.tasks), 'task')} of {occupation.title} as your tasks (edit them later)?",
        default=True,
    ):
        return True, [t.text for t in occupation.tasks]
    err.print("Your main tasks, one a line; an empty line ends the list.")
    tasks: list[str] = []
    while task := typer.prompt(f"Task {len(tasks) + 1}", default="", show_default=False).strip():
        tasks.append(task)
    return False, tasks


def _links(tasks: list[str], outcomes: list[OutcomeDraft]) -> list[list[int]]:
    """Which outcomes each task serves (their indexes), asked outcome by outcome over the numbered
    tasks; a task no answer names serves none, and the person is told which."""
    if not tasks:
        return []
    err.print("\n[bold]Which tasks serve each outcome?[/] Your tasks:")
    for i, text in enumerate(tasks, start=1):
        err.print(f"  {i}. {text}", highlight=False, markup=False)
    serves: list[list[int]] = [[] for _ in tasks]
    for o, outcome in enumerate(outcomes):
        while True:
            answer = typer.prompt(
                f"Tasks serving {outcome.title!r}: numbers or ranges such as 1 3-5 (empty: none)",
                default="",
                show_default=False,
            )
            picked = _numbers(answer, len(tasks))
            if picked is not None:
                break
            err.print(
                f"Numbers from 1 to {len(tasks)}, separated by spaces or commas, or ranges such as 2-4.",
                highlight=False,
            )
        for t in picked:
            serves[t].append(o)
    orphans = [i + 1 for i, s in enumerate(serves) if not s]
    if orphans:
        err.print(
            f"{count(len(orphans), 'task')} serve no outcome ({', '.join(map(str, orphans))}): the report shows "
            "them as work that serves none.",
            highlight=False,
        )
    return serves


def _numbers(answer: str, most: int) -> list[int] | None:
    """The 0-based indexes a person named as "1 3-5, 7", or None when any is not one of 1..most."""
    picked: set[int] = set()
    for part in answer.replace(",", " ").split():
        first, _, last = part.partition("-")
        if not first.isdigit() or not (last or first).isdigit():
            return None
        low, high = int(first), int(last or first)
        if not 1 <= low <= high <= most:
            return None
        picked.update(range(low - 1, high))
    return sorted(picked)


def validate(workspace: Path | None = cli_options.ARGUMENT, workspace_option: Path | None = cli_options.OPTION) -> None:
    """Check a workspace against the schema and resolve its references (owners, serves)."""
    from guarantor.workspace import loader

    workspace = cli_options.workspace(workspace, workspace_option)
    path = loader.resolve(workspace)
    ws, marks = loader.parse(loader.read_text(path), str(path))
    _check_references(ws, marks, str(path))
    sizes = ", ".join(
        count(len(items), noun) for items, noun in ((ws.people, "person"), (ws.tasks, "task"), (ws.outcomes, "outcome"))
    )
    out.print(f"{path}: valid — {sizes}.")


def _check_references(ws: Any, marks: Any, name: str) -> None:
    """No template text is left, and every person's role names one occupation, where the O*NET data
    is here to say (without it, validate says so and checks the rest)."""
    from guarantor.data.files import data_dir
    from guarantor.errors import DataMissing, ValidationFailed
    from guarantor.tasks.catalogue import read_occupations
    from guarantor.workspace import loader

    occupations = None
    if ws.people:
        try:
            occupations = read_occupations(data_dir(cli_options.settings()))
        except DataMissing:
            err.print("[yellow]warning:[/] roles not checked: the O*NET data is not here (`guarantor data status`)")
    problems = loader.reference_problems(ws, marks, name, occupations)
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
