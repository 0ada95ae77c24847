"""The value plan of a workspace, in the four steps of the shift from tasks to outcomes.

1. the outcomes that matter beyond the tasks; 2. what AI can take over; 3. where the freed hours
go, concretely (which outcomes, through which human-led tasks); 4. the skills to build. It only
reads facts (the workspace, the model's predictions, the previous analysis) and does no I/O of
its own: the caller saves what it returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from guarantor.analysis.models import AnalysisPersonRecord, AnalysisRecord
from guarantor.analysis.schemas import (
    Allocation,
    Analysis,
    ModelInfo,
    OutcomeResult,
    PersonResult,
    RoleShift,
    SavedAnalysis,
    TaskChange,
    TaskResult,
    ValuePlan,
)
from guarantor.errors import Ambiguous, NotFound, ValidationFailed
from guarantor.guarantees.display import count
from guarantor.guarantees.schemas import GuaranteeFacts
from guarantor.systems.service import Readiness
from guarantor.tasks import observed
from guarantor.tasks.catalogue import AUTOMATION_WORDS, EXPOSURE_WORDS, Occupation
from guarantor.tasks.model import ExposureModel
from guarantor.tasks.schemas import Reading
from guarantor.tasks.search import find_occupation
from guarantor.tasks.service import TaskAssessment, assess, attach_observed, default_hours, role_of
from guarantor.work.service import Balance
from guarantor.workspace import loader
from guarantor.workspace.schema import Workspace, task_id

EXPOSED = ("E1", "E2")


def _role_occupation(role: str, occupations: dict[str, Occupation]) -> Occupation | None:
    try:
        return find_occupation(occupations, role).occupation
    except (NotFound, Ambiguous):
        return None


def _task_hours(ws: Workspace, notes: list[str]) -> list[float]:
    """Hours a week of each workspace task: as given, or the owner's rest spread evenly."""
    hours = [t.hours_week for t in ws.tasks]
    for person in ws.people:
        own = [i for i, t in enumerate(ws.tasks) if t.owner == person.id]
        given = sum(hours[i] or 0.0 for i in own)
        open_ = [i for i in own if hours[i] is None]
        rest = person.hours_week - given
        if given > person.hours_week:
            notes.append(f"{person.name}'s tasks add up to {given:g} h, more than their {person.hours_week:g} h week.")
        for i in open_:
            hours[i] = max(rest, 0.0) / len(open_)
    for i, task in enumerate(ws.tasks):
        if hours[i] is None:
            notes.append(f"Task {task.text!r} has neither hours nor owner: counted as 0 h.")
    return [h or 0.0 for h in hours]


@dataclass(frozen=True)
class Inputs:
    """What an analysis reads, gathered once by the face that runs it (the CLI from the file, the
    web from its snapshot and caches): the workspace parsed, its file's path and text, and the
    reference data: the exposure model, the O*NET occupations and observed AI use."""

    ws: Workspace
    path: str
    text: str
    model: ExposureModel
    occupations: dict[str, Occupation]
    observed_use: observed.ObservedData | None


def analyze(
    inputs: Inputs,
    now: datetime,
    previous: AnalysisRecord | None,
    guarantees: dict[str, GuaranteeFacts] | None = None,
    work: Balance | None = None,
    systems: list[Readiness] | None = None,
) -> Analysis:
    """``guarantees``: each guaranteed outcome's state and charts (``guarantees.service.facts``);
    the analysis shows them and does not measure anything itself. A workspace still holding
    template text, or a role naming no one occupation, is refused at its line: never a report
    that shows the template as content, or a silent zero."""
    problems = loader.reference_problems(inputs.ws, None, inputs.path, inputs.occupations)
    if problems:  # found without positions, which only a second parse of the text gives
        marks = loader.parse(inputs.text, inputs.path)[1]
        raise ValidationFailed(loader.reference_problems(inputs.ws, marks, inputs.path, inputs.occupations))
    ws, model, observed_use = inputs.ws, inputs.model, inputs.observed_use
    notes: list[str] = []
    specs: list[tuple[str, str, str | None, list[str], str, float]] = []  # id, text, owner, serves, source, h
    for i, (task, h) in enumerate(zip(ws.tasks, _task_hours(ws, notes), strict=True)):
        specs.append((task_id(task.id, i), task.text, task.owner, task.serves, "workspace", h))
    occupation_of: dict[str, Occupation | None] = {}
    for person in ws.people:
        occupation = occupation_of[person.id] = _role_occupation(person.role, inputs.occupations)
        if occupation is not None and not any(t.owner == person.id for t in ws.tasks):
            hours = default_hours([t.task_type for t in occupation.tasks], person.hours_week)
            for t, h in zip(occupation.tasks, hours, strict=True):
                specs.append((f"{person.id}-onet-{t.task_id}", t.text, person.id, [], f"O*NET {occupation.code}", h))
            notes.append(
                f"{person.name} lists no tasks: the {len(occupation.tasks)} tasks of O*NET "
                f"{occupation.title} are used, weighted core 2 : supplemental 1."
            )
    assessed: dict[int, TaskAssessment] = {}
    for owner in dict.fromkeys(s[2] for s in specs):  # each person's tasks read as one role
        here = [i for i, s in enumerate(specs) if s[2] == owner]
        occupation = occupation_of.get(owner) if owner else None
        code = occupation.code if occupation else None
        role = role_of(observed_use, code, Reading.role) if owner else None
        found = assess(model, [specs[i][1] for i in here], [specs[i][5] for i in here], role)
        if observed_use is not None:
            attach_observed(observed_use, model, found, code)
        for e in (e for a in found for e in a.evidence):
            known = inputs.occupations.get(e.occupation_code)
            e.occupation = known.title if known else ""
        assessed.update(zip(here, found, strict=True))
    tasks = [
        TaskResult(id=s[0], owner=s[2], serves=list(s[3]), source=s[4], assessment=assessed[i])
        for i, s in enumerate(specs)
    ]

    before = {p.person_id: p.hours_freed for p in previous.people} if previous else {}
    people = []
    for person in ws.people:
        own = [t for t in tasks if t.owner == person.id]
        occupation = occupation_of[person.id]
        people.append(
            PersonResult(
                id=person.id,
                name=person.name,
                role=person.role,
                occupation=f"{occupation.code} {occupation.title}" if occupation else None,
                hours_week=person.hours_week,
                hours_freed=round(sum(t.assessment.hours_freed for t in own), 2),
                hours_exposed=round(sum(t.assessment.hours for t in own if t.assessment.exposure in EXPOSED), 2),
                previous_hours_freed=before.get(person.id),
                value_proposition=person.value_proposition.model_dump() if person.value_proposition else None,
                observed=observed.occupation_use(observed_use, occupation.code, None, [])
                if observed_use and occupation
                else None,
            )
        )

    outcomes = []
    for o in ws.outcomes:
        serving = [t for t in tasks if o.id in t.serves]
        outcomes.append(
            OutcomeResult(
                id=o.id,
                title=o.title,
                for_whom=o.for_whom,
                need=o.need,
                indicator=o.indicator,
                target=o.target,
                owner=o.owner,
                served_by=[t.id for t in serving],
                hours_week=round(sum(t.assessment.hours for t in serving), 2),
                hours_human_led=round(sum(t.assessment.hours for t in serving if t.assessment.exposure == "E0"), 2),
                guarantee=(guarantees or {}).get(o.id),
            )
        )
    analysis = Analysis(
        workspace=ws.name,
        path=inputs.path,
        created_at=now.isoformat(),
        model=ModelInfo.model_validate({k: model.meta.get(k) for k in ("version", "data_hash", "metrics")}),
        hours_week=round(sum(p.hours_week for p in ws.people), 2),
        hours_freed=round(sum(t.assessment.hours_freed for t in tasks), 2),
        people=people,
        tasks=tasks,
        outcomes=outcomes,
        orphan_tasks=[t.id for t in tasks if not t.serves],
        unserved_outcomes=[o.id for o in outcomes if not o.served_by],
        outcomes_without_indicator=[
            o.id for o in ws.outcomes if o.guarantee is None and (not o.indicator or not o.target)
        ],
        notes=notes,
        work=work,
        systems=systems,
    )
    analysis.plan = plan(analysis)
    prior = read_saved(previous.result) if previous is not None else None
    if prior is not None:
        analysis.shift = role_shift(prior, analysis)
    analysis.model.workspace_hash = hashlib.sha256(inputs.text.encode()).hexdigest()
    return analysis


def role_shift(before: Analysis, now: Analysis) -> RoleShift:
    """Tasks are matched by their text: one written differently counts as removed and added."""
    then = {t.assessment.text: t.assessment.exposure for t in before.tasks}
    current = {t.assessment.text: t.assessment.exposure for t in now.tasks}
    return RoleShift(
        since=before.created_at,
        hours_freed_then=before.hours_freed,
        hours_freed_now=now.hours_freed,
        added=[text for text in current if text not in then],
        removed=[text for text in then if text not in current],
        changed=[
            TaskChange(text=text, before=then[text], after=level)
            for text, level in current.items()
            if then.get(text, level) != level
        ],
    )


def plan(a: Analysis) -> ValuePlan:
    """What matters, what AI takes over, where the freed hours go and which skills to build."""
    matter = [f"{o.title} — for {o.for_whom}" + (f": {o.need}" if o.need else "") for o in a.outcomes]
    for p in a.people:
        if p.value_proposition and p.value_proposition.get("outcomes_delivered"):
            matter.append(f"{p.name}: {p.value_proposition['outcomes_delivered']}")
    exposed = sorted((t for t in a.tasks if t.assessment.hours_freed > 0), key=lambda t: -t.assessment.hours_freed)
    takes_over = [
        f"{t.assessment.text}: {t.assessment.hours_freed:.1f} of {t.assessment.hours:.1f} h a week "
        f"({EXPOSURE_WORDS[t.assessment.exposure].split(': ')[1]}; {AUTOMATION_WORDS[t.assessment.automation]})"
        for t in exposed[:8]
        if t.assessment.exposure in EXPOSED
    ]
    return ValuePlan(
        outcomes_that_matter=matter,
        ai_takes_over=takes_over,
        freed_hours_go_to=_allocate(a, {o.id: o for o in a.outcomes}),
        skills=_skills(a),
    )


def _allocate(a: Analysis, by_id: dict[str, OutcomeResult]) -> list[Allocation]:
    """Spread each person's freed hours over the outcomes they own or serve, neediest first.

    An outcome needs more when it lacks an indicator or target (it must be defined), when little
    human-led work serves it, or when nobody owns it.
    """
    out = []
    for p in a.people:
        if p.hours_freed <= 0:
            continue
        mine = {o for t in a.tasks if t.owner == p.id for o in t.serves if o in by_id}
        mine |= {o.id for o in a.outcomes if o.owner == p.id and o.id in by_id}
        if not mine:
            own = [t for t in a.tasks if t.owner == p.id]
            biggest = max(own, key=lambda t: t.assessment.hours, default=None)
            focus = f" Start from who benefits from '{biggest.assessment.text.rstrip('.')}'." if biggest else ""
            why = "No outcome is linked to this person's work yet: name the outcomes it serves." + focus
            out.append(Allocation(person=p.id, outcome=None, hours=p.hours_freed, through=[], why=why))
            continue
        need = {}
        for oid in mine:
            o = by_id[oid]
            need[oid] = (
                1.0
                + (1.0 if oid in a.outcomes_without_indicator else 0.0)
                + (1.0 if o.hours_human_led < 2 else 0.0)
                + (0.5 if o.owner is None else 0.0)
            )
        total = sum(need.values())
        for oid in sorted(mine, key=lambda k: (-need[k], k)):
            o = by_id[oid]
            human = [
                t.assessment.text
                for t in a.tasks
                if oid in t.serves and t.owner == p.id and t.assessment.exposure == "E0"
            ]
            reasons = []
            if oid in a.outcomes_without_indicator:
                reasons.append("define its indicator and target")
            if o.hours_human_led < 2:
                reasons.append("little human-led work serves it")
            if o.owner is None:
                reasons.append("nobody owns it")
            why = "; ".join(reasons) or f"deepen the relationship with {o.for_whom}"
            hours = round(p.hours_freed * need[oid] / total, 2)
            out.append(Allocation(person=p.id, outcome=oid, hours=hours, through=human[:3], why=why))
    return out


def _skills(a: Analysis) -> list[str]:
    """Skills tied to the person's own outcomes and to the task that AI takes over from them: what to
    learn so the freed hours land on an outcome someone else gets."""
    skills = []
    titles = {o.id: o.title for o in a.outcomes}
    for p in a.people:
        mine = [o for o in a.outcomes if o.owner == p.id and o.id in titles]
        freed = sorted(
            (t for t in a.tasks if t.owner == p.id and t.assessment.exposure in EXPOSED),
            key=lambda t: -t.assessment.hours_freed,
        )
        if not freed:
            continue
        task = freed[0].assessment
        if mine:
            target = mine[0]
            what = target.indicator or "the number that shows it was met"
            skills.append(
                f"{p.name}: hand '{task.text}' to AI ({task.hours_freed:.1f} h a week) and build the judgement "
                f"to check its work; spend the time on '{target.title}' for {target.for_whom}, learning to "
                f"measure {what[0].lower() + what[1:]}."
            )
        else:
            skills.append(
                f"{p.name}: hand '{task.text}' to AI ({task.hours_freed:.1f} h a week); first name an outcome "
                "you own for someone else, then the skill it needs."
            )
    if a.outcomes_without_indicator or a.orphan_tasks:
        n_out, n_tasks = len(a.outcomes_without_indicator), len(a.orphan_tasks)
        skills.append(
            f"Outcome definition: {count(n_out, 'outcome')} {'lacks' if n_out == 1 else 'lack'} an indicator or "
            f"target and {count(n_tasks, 'task')} {'serves' if n_tasks == 1 else 'serve'} no outcome: write who "
            "benefits, their need, and the number that shows it was met."
        )
    shared = [o for o in a.outcomes if len({t.owner for t in a.tasks if o.id in t.serves}) > 1 or o.owner is None]
    if shared or a.unserved_outcomes:
        skills.append(
            "Stakeholder alignment: "
            + (f"{count(len(shared), 'outcome')} served by several people or owned by nobody; " if shared else "")
            + (f"{count(len(a.unserved_outcomes), 'outcome')} with no work behind it. " if a.unserved_outcomes else "")
            + "Agree owners and targets with the people they are for."
        )
    return skills


def to_record(a: Analysis) -> AnalysisRecord:
    record = AnalysisRecord(
        created_at=datetime.fromisoformat(a.created_at),
        workspace_name=a.workspace,
        workspace_path=a.path,
        workspace_hash=a.model.workspace_hash,
        model_version=str(a.model.version),
        hours_week=a.hours_week,
        hours_freed=a.hours_freed,
        result=a.model_dump(mode="json"),
    )
    record.people = [
        AnalysisPersonRecord(person_id=p.id, role=p.role, hours_week=p.hours_week, hours_freed=p.hours_freed)
        for p in a.people
    ]
    return record


def listed(r: AnalysisRecord) -> SavedAnalysis:
    return SavedAnalysis(
        id=r.id,
        created_at=r.created_at.isoformat(),
        workspace=r.workspace_name,
        hours_week=r.hours_week,
        hours_freed=r.hours_freed,
        model=r.model_version,
        people={p.person_id: p.hours_freed for p in r.people},
    )


def read_saved(result: Mapping[str, object]) -> Analysis | None:
    """A saved analysis typed again; None for one an earlier version saved in a shape this one no
    longer reads (it is still listed; only its report and the shift from it are not shown)."""
    try:
        return Analysis.model_validate(result)
    except ValidationError:
        return None


@dataclass
class Saved:
    """An analysis as saved, with what its report draws beside it."""

    analysis: Analysis
    record_id: int
    trend: list[tuple[str, float]]


def run(session: Session, inputs: Inputs, now: datetime) -> Saved:
    """The main job, for the CLI and the web alike: gather the facts the other domains keep
    (guarantee states, the work balance, systems' readiness), analyse, and save the analysis."""
    from guarantor.analysis import repository
    from guarantor.guarantees.service import facts, outcome_states
    from guarantor.systems.service import recorded
    from guarantor.work.repository import count as work_items
    from guarantor.work.service import balance

    ws = inputs.ws
    previous = repository.latest(session)
    states = outcome_states(session, ws, now, history=True)  # a report draws each outcome's chart
    work = balance(session, ws) if work_items(session) else None
    ready = recorded(session, ws, states)
    analysis = analyze(inputs, now, previous, {s.id: facts(s) for s in states}, work, ready)
    record = repository.add(session, to_record(analysis))
    trend = [
        (r.created_at.strftime("%m-%d %H:%M"), r.hours_freed) for r in reversed(repository.history(session, limit=20))
    ]
    return Saved(analysis, record.id, trend)
