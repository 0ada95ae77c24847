"""Load guarantor.yaml, reporting every problem with file:line:column and the field.

PyYAML's node tree keeps where each value stood; we keep those marks beside the plain data so a
pydantic error (which knows only a path like people.1.role) can point at the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from guarantor.errors import NotFound, Problem, ValidationFailed
from guarantor.workspace.schema import Workspace

Path_ = tuple[str | int, ...]
Marks = dict[Path_, tuple[int, int]]

DEFAULT_NAME = "guarantor.yaml"


def resolve(path: Path | None) -> Path:
    """A workspace path: a file, or a folder holding guarantor.yaml."""
    path = path or Path.cwd()
    if path.is_dir():
        path = path / DEFAULT_NAME
    if not path.is_file():
        raise NotFound(f"No workspace at {path}.", hint="Create one with `guarantor init`.")
    return path


def _to_python(node: yaml.Node, path: Path_, marks: Marks, problems: list[Problem], name: str) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            key = str(key)
            if key in out:
                problems.append(
                    Problem(
                        name,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        _dotted((*path, key)),
                        "duplicate key",
                    )
                )
            out[key] = _to_python(value_node, (*path, key), marks, problems, name)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, (*path, i), marks, problems, name) for i, v in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _where(marks: Marks, loc: Path_) -> tuple[int | None, int | None]:
    for end in range(len(loc), -1, -1):
        if loc[:end] in marks:
            return marks[loc[:end]]
    return None, None


def parse(text: str, name: str) -> tuple[Workspace, Marks]:
    problems: list[Problem] = []
    marks: Marks = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ValidationFailed([Problem(name, line, col, "", f"invalid YAML: {exc.problem or exc}")]) from exc
    if node is None:
        raise ValidationFailed([Problem(name, 1, 1, "", "the file is empty; expected a mapping with name:")])
    data = _to_python(node, (), marks, problems, name)
    if not isinstance(data, dict):
        raise ValidationFailed([Problem(name, 1, 1, "", "expected a mapping at the top level")])
    try:
        workspace = Workspace.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            line, col = _where(marks, loc)
            problems.append(Problem(name, line, col, _dotted(loc), error["msg"]))
        raise ValidationFailed(problems) from exc
    problems.extend(_references(workspace, marks, name))
    if problems:
        raise ValidationFailed(problems)
    return workspace, marks


def _references(ws: Workspace, marks: Marks, name: str) -> list[Problem]:
    problems = []

    def problem(loc: Path_, message: str) -> None:
        line, col = _where(marks, loc)
        problems.append(Problem(name, line, col, _dotted(loc), message))

    people = {p.id for p in ws.people}
    outcomes = {o.id for o in ws.outcomes}
    ids: tuple[tuple[str, list[str | None]], ...] = (
        ("people", [p.id for p in ws.people]),
        ("outcomes", [o.id for o in ws.outcomes]),
        ("tasks", [t.id for t in ws.tasks]),
    )
    for kind, item_ids in ids:
        seen: set[str] = set()
        for i, item_id in enumerate(item_ids):
            if item_id is not None and item_id in seen:
                problem((kind, i, "id"), f"duplicate id {item_id!r}")
            if item_id is not None:
                seen.add(item_id)
    for i, task in enumerate(ws.tasks):
        if task.owner is not None and task.owner not in people:
            problem(("tasks", i, "owner"), f"no person with id {task.owner!r}")
        for j, outcome in enumerate(task.serves):
            if outcome not in outcomes:
                problem(("tasks", i, "serves", j), f"no outcome with id {outcome!r}")
    for i, o in enumerate(ws.outcomes):
        if o.owner is not None and o.owner not in people:
            problem(("outcomes", i, "owner"), f"no person with id {o.owner!r}")
    return problems


def load(path: Path) -> Workspace:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed([Problem(str(path), None, None, "", f"not UTF-8 text: {exc.reason}")]) from exc
    return parse(text, str(path))[0]
