"""How the workspace file and the database stay one workspace when people edit in the browser.

The YAML file is the source of truth (a team keeps it in git). The rules:

* **File to database.** Before answering, the server compares the file with the latest revision
  it recorded (by SHA-256); a changed file is validated and recorded as a new ``file`` revision.
  A file that does not validate is not recorded: the last good revision keeps being served, the
  problems are shown, and edits are refused until the file is fixed.
* **Browser to file.** An edit is applied to the latest revision's YAML data, validated like the
  file, written back to the file (atomically) and recorded as a ``web`` or ``api`` revision with
  its author, in one locked step. So the file always holds every edit, ready to commit; `git diff`
  shows what the browser changed, and nothing else: the file is edited as a round-trip document
  (ruamel.yaml), so its comments, key order and flow or block style stay as its author wrote them.
* **Stale edits.** A form says which revision it was based on; if the workspace changed since,
  the edit is refused (409) rather than silently overwriting what someone else wrote.
* **Sources, alert channels and commands stay on disk.** An edit may not add, change or remove a
  source or an alert channel (they name the server's files, databases, hosts and secrets), nor add,
  change or point an indicator at a ``command`` source (it runs programs on the server): only
  someone who can write the file may set them. Indicators on the other sources may be edited; each
  source confines what its queries reach (``guarantees.sources``).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from guarantor.atomic import write_text
from guarantor.db import scope
from guarantor.db.session import Database
from guarantor.errors import Conflict, Forbidden, GuarantorError, NotFound, Problem, ValidationFailed
from guarantor.guarantees import repository as measurements
from guarantor.guarantees.sources.base import runs_programs
from guarantor.inputs import yamldoc
from guarantor.settings import Settings
from guarantor.workspace import loader, repository
from guarantor.workspace.models import WorkspaceRecord, WorkspaceRevision
from guarantor.workspace.schema import Workspace, key_of, task_id

Change = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Current:
    revision: WorkspaceRevision
    problems: list[str]  # why the file on disk was not taken, when it does not validate
    parsed: tuple[Workspace, loader.Marks] | None = None  # set when sync parsed this revision already

    def parse(self) -> tuple[Workspace, loader.Marks]:
        return self.parsed or loader.parse(self.revision.text, self.revision.path)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def lock(home: Path, path: Path) -> Iterator[None]:
    """Serialises syncs and edits of one workspace across the server's processes (same host)."""
    from filelock import FileLock

    folder = home / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / (_sha(str(path)) + ".lock")):
        yield


@dataclass(frozen=True)
class Entered:
    path: Path
    id: int
    key: str
    name: str


@dataclass(frozen=True)
class Refused:
    """A workspace file a server does not serve, and why (shown to its admins)."""

    path: Path
    error: GuarantorError


def enter_all(db: Database, paths: Sequence[Path], now: datetime) -> tuple[list[Entered], list[Refused]]:
    """Each workspace file entered, in its own transaction. One that does not read, validate, or
    claims a key another file here claims is refused alone: an organisation's other teams are
    still served, and the refused one is shown with its errors. With none entered, the first
    refusal is raised: there is nothing to serve."""
    entered: list[Entered] = []
    refused: list[Refused] = []
    keys: dict[str, Path] = {}
    for path in paths:
        try:
            ws = loader.load(path)
            with db.transaction() as session:
                record = enter(session, path, ws, now)
            key = record.key or str(record.id)
            if key in keys:
                raise Conflict(
                    f"Two workspace files served claim the key {key!r}: {keys[key]} and {path}.",
                    hint="Give one of them its own `key:`.",
                )
        except GuarantorError as exc:
            refused.append(Refused(path, exc))
            continue
        keys[key] = path
        entered.append(Entered(path, record.id, key, ws.name))
    if not entered:
        raise refused[0].error
    return entered, refused


def enter(session: Session, path: Path, ws: Workspace, now: datetime) -> WorkspaceRecord:
    """The workspace this file is, found by its key (made on first use), and the session scoped to
    it: every query after this sees this workspace's data only. Also keeps the facts the
    organisation view adds up from the file (outcomes, guarantees, systems) current."""
    key, where = key_of(ws), str(path.resolve())
    record = repository.by_key(session, key)
    if record is None:
        record = repository.unclaimed(session, where, ws.name) or repository.add_record(
            session, WorkspaceRecord(key=key, name=ws.name, path=where, created_at=now)
        )
        record.key = key
    elif record.path not in (None, where) and _claims(Path(record.path), key):
        raise Conflict(
            f"Two workspace files claim the key {key!r}: {record.path} and {where}.",
            hint="A copy of a workspace needs a key of its own (a workspace's history follows its key): "
            "`guarantor init NEW-FOLDER --from ORIGINAL` makes one, or change one file's `key:`.",
        )
    facts = {
        "path": where,
        "name": ws.name[:200],
        "outcomes": len(ws.outcomes),
        "guaranteed": sum(o.guarantee is not None for o in ws.outcomes),
        "systems": len(ws.systems),
    }
    for field, value in facts.items():
        if getattr(record, field) != value:
            setattr(record, field, value)
    session.flush()
    scope.enter(session, record.id)
    measurements.forget_states_except(session, [o.id for o in ws.outcomes if o.guarantee is not None])
    return record


def _claims(path: Path, key: str) -> bool:
    """Whether the file at ``path`` still states ``key``: if it moved or now states another key, the
    workspace simply moved."""
    try:
        return key_of(loader.load(path)) == key
    except (GuarantorError, OSError):
        return False


def sync(session: Session, path: Path, now: datetime) -> Current:
    """Record the file as a new revision when it changed; call under ``lock``, in the workspace's
    scope (``enter``)."""
    text = loader.read_text(path)
    latest = repository.latest(session)
    if latest is not None and latest.sha256 == _sha(text):
        return Current(latest, [])
    try:
        parsed = loader.parse(text, str(path))
    except ValidationFailed as exc:
        if latest is None:
            raise
        return Current(latest, [str(p) for p in exc.problems])
    revision = WorkspaceRevision(
        path=str(path), created_at=now, origin="file", author=None, sha256=_sha(text), text=text
    )
    return Current(repository.add(session, revision), [], parsed)


def _file_only(ws: Workspace) -> str:
    """What of a workspace only its file may set: sources, alert channels, and the indicators
    reading a command source."""
    commands = {name for name, spec in ws.sources.items() if runs_programs(spec.type)}
    sources = {name: spec.model_dump(mode="json") for name, spec in ws.sources.items()}
    channels = {name: spec.model_dump(mode="json") for name, spec in ws.alerts.items()}
    indicators = [
        ind.model_dump(mode="json")
        for o in ws.outcomes
        if o.guarantee is not None
        for ind in o.guarantee.indicators
        if ind.source in commands
    ]
    return json.dumps([sources, channels, indicators], sort_keys=True, default=str)


def edit(
    session: Session,
    path: Path,
    change: Change,
    *,
    author: str,
    origin: str,
    now: datetime,
    limits: EditLimits,
    base_revision: int | None = None,
) -> WorkspaceRevision:
    """Apply ``change`` to the workspace's data, write the file and record the revision; call under
    ``lock``. ``change`` gets the YAML data as plain dicts and lists and edits it in place, and the
    result must keep within the admin's ``limits``."""
    current = sync(session, path, now)
    if current.problems:
        raise Conflict(
            "The workspace file on disk does not validate; fix it before editing here.",
            hint="\n".join(current.problems),
        )
    if base_revision is not None and base_revision != current.revision.id:
        raise Conflict("The workspace changed since this page was loaded; reload it and edit again.")
    before = current.parse()[0]
    document = yamldoc.round_trip(current.revision.text)
    data = document.load(current.revision.text)  # the text validated already: no alias bomb reaches here
    change(data)
    written = io.StringIO()
    document.dump(data, written)
    text = written.getvalue()
    name = "the edited workspace"
    after, marks = loader.parse(text, name)
    problems = limits.problems(after, marks, name, text, now)
    if problems:
        raise ValidationFailed(problems)
    if _file_only(after) != _file_only(before):
        raise Forbidden(
            "Sources, alert channels, and indicators that read a command source can be added or changed only in "
            "the workspace file on disk, never through the web or the API."
        )
    write_text(path, text)
    revision = WorkspaceRevision(
        path=str(path), created_at=now, origin=origin, author=author, sha256=_sha(text), text=text
    )
    return repository.add(session, revision)


@dataclass(frozen=True)
class EditLimits:
    """What an edit through the web or the API may leave, set by the admin (the settings), never by
    the editor: one editor's edit must not stop or starve the workspace's other checks. A file
    written on disk is the admin's own and is held only to what any workspace must be."""

    max_bytes: int
    max_indicators: int
    max_timeout_s: float
    min_every_s: float

    @classmethod
    def of(cls, settings: Settings) -> EditLimits:
        return cls(
            settings.edit_max_bytes,
            settings.edit_max_indicators,
            settings.measure_timeout_max_s,
            settings.edit_min_schedule_s,
        )

    def problems(self, ws: Workspace, marks: loader.Marks, name: str, text: str, now: datetime) -> list[Problem]:
        from guarantor.guarantees.scheduler import fires_within_a_year

        found = []
        if len(text.encode()) > self.max_bytes:
            found.append(Problem(name, None, None, "", f"would be larger than {self.max_bytes:,} bytes"))
        count = sum(len(o.guarantee.indicators) for o in ws.outcomes if o.guarantee is not None)
        if count > self.max_indicators:
            found.append(
                Problem(name, None, None, "", f"would hold {count:,} indicators, more than {self.max_indicators:,}")
            )
        for i, o in enumerate(ws.outcomes):
            if o.guarantee is None:
                continue
            where = ("outcomes", i, "guarantee")
            every = o.guarantee.schedule.every
            if not fires_within_a_year(o.guarantee.schedule, now):
                found.append(loader.problem_at(marks, name, (*where, "schedule"), "names no moment in the coming year"))
            elif every is not None and every.total_seconds() < self.min_every_s:
                found.append(
                    loader.problem_at(
                        marks,
                        name,
                        (*where, "schedule"),
                        f"is more often than every {self.min_every_s:g} s allowed here",
                    )
                )
            for j, ind in enumerate(o.guarantee.indicators):
                if ind.timeout is not None and ind.timeout.total_seconds() > self.max_timeout_s:
                    found.append(
                        loader.problem_at(
                            marks,
                            name,
                            (*where, "indicators", j, "timeout"),
                            f"is longer than the {self.max_timeout_s:g} s a measurement may take here",
                        )
                    )
        return found


def _apply(item: dict[str, Any], fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value


def _entries(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    entries = data.setdefault(kind, [])
    if not isinstance(entries, list):
        raise ValidationFailed([Problem("the workspace", None, None, kind, "is not a list")])
    return entries


def add_outcome(fields: dict[str, Any]) -> Change:
    def change(data: dict[str, Any]) -> None:
        outcomes = _entries(data, "outcomes")
        if any(o.get("id") == fields.get("id") for o in outcomes):
            raise Conflict(f"An outcome {fields.get('id')!r} exists already.")
        outcomes.append({k: v for k, v in fields.items() if v is not None})

    return change


def _update(
    kind: str, noun: str, wanted: str, fields: dict[str, Any], key: Callable[[dict[str, Any], int], str]
) -> Change:
    """Change the fields of the entry of ``kind`` (outcomes, tasks, people) whose ``key`` is ``wanted``."""

    def change(data: dict[str, Any]) -> None:
        found = next((e for i, e in enumerate(_entries(data, kind)) if key(e, i) == wanted), None)
        if found is None:
            raise NotFound(f"No {noun} {wanted!r}.")
        _apply(found, fields)

    return change


def _id(entry: dict[str, Any], _: int) -> str:
    return str(entry.get("id"))


def update_outcome(outcome_id: str, fields: dict[str, Any]) -> Change:
    return _update("outcomes", "outcome", outcome_id, fields, _id)


def update_person(person_id: str, fields: dict[str, Any]) -> Change:
    """A person's fields; an empty value proposition is removed rather than written as nothing."""
    answers = fields.get("value_proposition")
    if isinstance(answers, dict):
        kept = {k: v for k, v in answers.items() if v}
        fields = {**fields, "value_proposition": kept or None}
    return _update("people", "person", person_id, fields, _id)


def update_indicator(outcome_id: str, indicator_id: str, fields: dict[str, Any]) -> Change:
    """Change an indicator's fields in place (None removes one); the loader then checks the query
    against its source's confinement, as for any edit."""

    def change(data: dict[str, Any]) -> None:
        found = next((o for o in _entries(data, "outcomes") if o.get("id") == outcome_id), None)
        guarantee = found.get("guarantee") if found else None
        indicators = guarantee.get("indicators") if isinstance(guarantee, dict) else None
        target = next((i for i in indicators or [] if isinstance(i, dict) and i.get("id") == indicator_id), None)
        if target is None:
            raise NotFound(f"Outcome {outcome_id!r} has no indicator {indicator_id!r}.")
        _apply(target, fields)

    return change


def task_key(task: dict[str, Any], index: int) -> str:
    return task_id(str(task["id"]) if task.get("id") else None, index)


def add_task(fields: dict[str, Any]) -> Change:
    def change(data: dict[str, Any]) -> None:
        tasks = _entries(data, "tasks")
        if fields.get("id") and any(task_key(t, i) == fields["id"] for i, t in enumerate(tasks)):
            raise Conflict(f"A task {fields['id']!r} exists already.")
        tasks.append({k: v for k, v in fields.items() if v is not None})

    return change


def update_task(task_id: str, fields: dict[str, Any]) -> Change:
    return _update("tasks", "task", task_id, fields, task_key)
