"""Load guarantor.yaml, reporting every problem with file:line:column and the field.

The YAML reader keeps where each value stood; we keep those marks beside the plain data so a
pydantic error (which knows only a path like people.1.role) can point at the line. It also refuses
what would make a hostile file expensive (``inputs.yamldoc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from guarantor.errors import NotFound, Problem, TooLarge, ValidationFailed
from guarantor.guarantees.spec import Indicator
from guarantor.inputs import yamldoc
from guarantor.workspace import DEFAULT_NAME
from guarantor.workspace.schema import Workspace

if TYPE_CHECKING:
    from guarantor.tasks.catalogue import Occupation

Marks = yamldoc.Marks
Path_ = yamldoc.Path_


def resolve(path: Path | None) -> Path:
    """A workspace path: a file, or a folder holding guarantor.yaml."""
    path = path or Path.cwd()
    if path.is_dir():
        path = path / DEFAULT_NAME
    if not path.is_file():
        raise NotFound(f"No workspace at {path}.", hint="Create one with `guarantor init`.")
    return path


def resolve_many(given: Sequence[Path]) -> list[Path]:
    """Each workspace file named, absolute, once: a file, a folder holding guarantor.yaml, or a folder
    of such folders (an organisation's teams)."""
    paths: list[Path] = []
    for path in given:
        if path.is_dir() and not (path / DEFAULT_NAME).is_file():
            inside = sorted(p for p in path.iterdir() if (p / DEFAULT_NAME).is_file())
            if not inside:
                raise NotFound(
                    f"No workspace at {path}, nor in any folder inside it.", hint="Create one with `guarantor init`."
                )
            paths += [resolve(p).resolve() for p in inside]
        else:
            paths.append(resolve(path).resolve())
    return list(dict.fromkeys(paths))


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _where(marks: Marks, loc: Path_) -> tuple[int | None, int | None]:
    for end in range(len(loc), -1, -1):
        if loc[:end] in marks:
            return marks[loc[:end]]
    return None, None


def parse(text: str, name: str, allow_command: bool = True) -> tuple[Workspace, Marks]:
    """Parse and check a workspace. ``allow_command`` is False for anything a web request wrote."""
    data, marks, problems = yamldoc.load(text, name)
    if data is None:
        raise ValidationFailed([Problem(name, 1, 1, "", "the file is empty; expected a mapping with name:")])
    if not isinstance(data, dict):
        raise ValidationFailed([Problem(name, 1, 1, "", "expected a mapping at the top level")])
    problems.extend(_references(data, marks, name))
    try:
        workspace = Workspace.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            if error["type"] == "union_tag_invalid":  # an unknown `type:` is the type field's problem
                loc = (*loc, "type")
            line, col = _where(marks, loc)
            problems.append(Problem(name, line, col, _dotted(loc), error["msg"]))
    else:
        problems.extend(_guarantee_problems(workspace, marks, name, allow_command))
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise ValidationFailed(problems)
    return workspace, marks


def reference_problems(
    ws: Workspace, marks: Marks | None, name: str, occupations: dict[str, Occupation] | None
) -> list[Problem]:
    """What validate and analyze refuse beyond the schema, each at its line: text left as
    `guarantor init`'s template (a report showed it as content), and each person's role that names
    no occupation, or several (such a person had no tasks, and the analysis said "0.0 h a week AI
    frees" with exit 0); roles are not checked where ``occupations`` is None (no data here), and
    positions are left out without ``marks``."""
    from guarantor.tasks.search import role_problem
    from guarantor.workspace.scaffold import template_fields

    placeholders = dict(template_fields(ws))
    problems = [
        problem_at(marks, name, loc, f"still the template's text ({text!r}): write your own")
        for loc, text in placeholders.items()
    ]
    for i, person in enumerate(ws.people):
        why = role_problem(occupations, person.role) if occupations is not None else None
        if why and ("people", i, "role") not in placeholders:
            problems.append(problem_at(marks, name, ("people", i, "role"), why))
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def problem_at(marks: Marks | None, name: str, loc: Path_, message: str) -> Problem:
    line, col = _where(marks, loc) if marks is not None else (None, None)
    return Problem(name, line, col, _dotted(loc), message)


def _guarantee_problems(ws: Workspace, marks: Marks, name: str, allow_command: bool) -> list[Problem]:
    """What the schema alone cannot see: unique indicator ids, known sources, paths that compile."""
    from guarantor.guarantees.sources.base import runs_programs

    problems = []
    seen: set[str] = set()
    for s_name, spec in ws.sources.items():
        if runs_programs(spec.type) and not allow_command:
            problems.append(
                problem_at(
                    marks,
                    name,
                    ("sources", s_name, "type"),
                    "command sources are allowed only in workspace files on disk",
                )
            )
    for i, outcome in enumerate(ws.outcomes):
        if outcome.guarantee is None:
            continue
        if outcome.guarantee.alert is not None:
            for k, channel in enumerate(outcome.guarantee.alert.channels):
                if channel not in ws.alerts:
                    known = ", ".join(ws.alerts) or "none defined"
                    problems.append(
                        problem_at(
                            marks,
                            name,
                            ("outcomes", i, "guarantee", "alert", "channels", k),
                            f"no alert channel named {channel!r} under alerts: ({known})",
                        )
                    )
        for j, ind in enumerate(outcome.guarantee.indicators):
            loc: Path_ = ("outcomes", i, "guarantee", "indicators", j)
            if ind.id in seen:
                problems.append(problem_at(marks, name, (*loc, "id"), f"duplicate indicator id {ind.id!r}"))
            seen.add(ind.id)
            if ind.system is not None and ind.system not in {s.id for s in ws.systems}:
                problems.append(problem_at(marks, name, (*loc, "system"), f"no system with id {ind.system!r}"))
            problems.extend(_indicator_problems(ws, ind, marks, name, loc))
    return problems


_NOT_MANUAL = ("source", "query", "jsonpath", "jmespath", "time_path", "reduce", "fresh_within")


def _indicator_problems(ws: Workspace, ind: Indicator, marks: Marks, name: str, loc: Path_) -> list[Problem]:
    """One indicator against its kind: a manual one takes check-ins and nothing of a source's; a
    source one needs a source, a query the source accepts, and a target unless it is freshness-only."""
    from guarantor.guarantees.sources import REGISTRY

    problems: list[Problem] = []

    def problem(field: str | None, message: str) -> None:
        problems.append(problem_at(marks, name, (*loc, field) if field else loc, message))

    if ind.by is not None and ind.by not in {p.id for p in ws.people}:
        problem("by", f"no person with id {ind.by!r}")
    if ind.manual:
        for field in _NOT_MANUAL:
            if getattr(ind, field) is not None:
                problem(field, f"a manual indicator takes no {field}: its values are people's check-ins")
        if ind.target is None:
            problem("target", "a manual indicator needs a target")
        return problems
    if ind.by is not None:
        problem("by", "only a manual indicator takes by (who checks in)")
    if ind.target is None and ind.fresh_within is None:
        problem("target", "missing: give a target, or fresh_within alone for a freshness-only indicator")
    if ind.source is None or ind.query is None:
        problem("source" if ind.source is None else "query", "missing (or write type: manual for check-ins)")
        return problems
    source = ws.sources.get(ind.source)
    if source is None:
        known = ", ".join(ws.sources) or "none defined"
        problem("source", f"no source named {ind.source!r} under sources: ({known})")
        return problems
    wrong = REGISTRY[source.type].check_query(source, ind.query)
    if wrong is not None:
        problem("query", wrong)
    for at, message in REGISTRY[source.type].check_indicator(ind):
        problem(at, message)
    return problems


def _items(data: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(kind)
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def _references(data: dict[str, Any], marks: Marks, name: str) -> list[Problem]:
    """Duplicate ids and dangling references, checked on the raw data so they are reported in the
    same pass as schema errors, even when the schema check fails."""
    problems = []

    def problem(loc: Path_, message: str) -> None:
        problems.append(problem_at(marks, name, loc, message))

    ids: dict[str, set[str]] = {}
    for kind in ("people", "outcomes", "tasks", "systems"):
        seen = ids[kind] = set()
        for i, item in _items(data, kind):
            item_id = item.get("id")
            if isinstance(item_id, str) and item_id in seen:
                problem((kind, i, "id"), f"duplicate id {item_id!r}")
            if isinstance(item_id, str):
                seen.add(item_id)
    for kind in ("tasks", "outcomes"):
        for i, item in _items(data, kind):
            owner = item.get("owner")
            if isinstance(owner, str) and owner not in ids["people"]:
                problem((kind, i, "owner"), f"no person with id {owner!r}")
    for i, system in _items(data, "systems"):
        serves = system.get("serves")
        for j, outcome in enumerate(serves if isinstance(serves, list) else []):
            if isinstance(outcome, str) and outcome not in ids["outcomes"]:
                problem(("systems", i, "serves", j), f"no outcome with id {outcome!r}")
    work = data.get("work")
    work = work if isinstance(work, dict) else {}
    for kind in ("epics", "components", "labels"):
        mapping = work.get(kind)
        for key, outcome in (mapping if isinstance(mapping, dict) else {}).items():
            if isinstance(outcome, str) and outcome not in ids["outcomes"]:
                problem(("work", kind, key), f"no outcome with id {outcome!r}")
    links = work.get("links")
    for i, link in enumerate(links if isinstance(links, list) else []):
        if isinstance(link, dict) and isinstance(link.get("outcome"), str) and link["outcome"] not in ids["outcomes"]:
            problem(("work", "links", i, "outcome"), f"no outcome with id {link['outcome']!r}")
    for i, task in _items(data, "tasks"):
        serves = task.get("serves")
        for j, outcome in enumerate(serves if isinstance(serves, list) else []):
            if isinstance(outcome, str) and outcome not in ids["outcomes"]:
                problem(("tasks", i, "serves", j), f"no outcome with id {outcome!r}")
    return problems


def read_text(path: Path) -> str:
    """The workspace file's text; a file that is not UTF-8, or far too large, is an input error
    with the place, not a crash."""
    if path.stat().st_size > yamldoc.MAX_BYTES:
        raise TooLarge(f"{path}: larger than {yamldoc.MAX_BYTES >> 20} MiB; a workspace file is far smaller.")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} ({exc.reason}); save the file as UTF-8"
        raise ValidationFailed([Problem(str(path), line, column, "", message)]) from exc


def load(path: Path) -> Workspace:
    return parse(read_text(path), str(path))[0]
