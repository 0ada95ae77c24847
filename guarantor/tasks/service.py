"""Role profiles: an occupation's tasks with their exposure, and the hours AI frees.

A task whose statement is a labelled O*NET task (the same words, or a cosine similarity of at least
``model.SAME_TASK``) shows the human label, marked as such, with the model's prediction beside it;
any other task shows the prediction. Hours freed come from the label shown, never from the
probabilities, so an E0 task frees nothing: a lower bound that follows the paper's rubric, where an
exposed task takes at least half less time. E2 tasks need software built on top of an LLM that a
person may not have yet, so they count half, as in the paper's beta (E1 + E2/2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from guarantor.data.files import OBSERVED_ATTRIBUTION, data_dir
from guarantor.settings import Settings
from guarantor.tasks import catalogue, observed
from guarantor.tasks.catalogue import EXPOSURE_LEVELS, OccupationScores, WorkContext
from guarantor.tasks.features import normalise
from guarantor.tasks.model import (
    EVIDENCE_FLOOR,
    EVIDENCE_K,
    SAME_TASK,
    ExposureModel,
    Predictions,
    Role,
)
from guarantor.tasks.observed import OccupationUse, TaskUse
from guarantor.tasks.schemas import Reading
from guarantor.tasks.search import find_occupation

WEEK_HOURS = 40.0
TIME_CUT = 0.5
"""The rubric's threshold: an exposed task's time is cut by at least half."""
FREED = {"E0": 0.0, "E1": TIME_CUT, "E2": TIME_CUT / 2}
"""Share of a task's time AI frees, by the exposure label shown."""
HOW_FREED = (
    "core tasks weigh 2, supplemental 1; from the label shown, an E1 task's time is cut by half, "
    "an E2 task's by a quarter, an E0 task's not at all"
)
HUMAN, MODEL = "human", "model"
"""Where the exposure shown comes from: the human label of the same O*NET task, or the model."""
UNFAMILIAR_NOTE = "outside what the model knows: few of its words are in the labelled tasks; no hours counted"


@dataclass
class EvidenceItem:
    text: str
    label: str
    occupation_code: str
    similarity: float
    occupation: str = ""  # its title, where the reader knows the occupations (a report names, never codes)


@dataclass
class TaskAssessment:
    """``exposure`` is the label shown and the one hours are computed from; ``label_source`` says
    whether it is a human label (``predicted`` then stands beside it) or the model's prediction.
    ``confidence`` is the model's probability of the label shown. An ``unfamiliar`` statement (few
    words the model has seen: another language, no words at all) frees no hours: its label is a guess."""

    text: str
    hours: float
    exposure: str
    label_source: str
    predicted: str
    p: tuple[float, float, float]
    automation: str
    confidence: float
    hours_freed: float
    evidence: list[EvidenceItem]
    task_type: str = ""
    task_id: int | None = None
    observed: TaskUse | None = None
    unfamiliar: bool = False


@dataclass
class RoleMatch:
    """How a title was read: the name it matched and the confidence of that match (1.0: word for word)."""

    query: str
    via: str
    confidence: float


@dataclass
class RoleProfile:
    code: str
    title: str
    tasks: list[TaskAssessment]
    alpha: float
    beta: float
    gamma: float
    published: OccupationScores | None
    work_context: WorkContext | None
    hours_week: float
    hours_freed: float
    match: RoleMatch
    observed: OccupationUse | None = None
    notes: list[str] = field(default_factory=list)


def assess(
    model: ExposureModel, texts: Sequence[str], hours: Sequence[float], role: Role | None
) -> list[TaskAssessment]:
    """``role``: the tasks are one role's, read together (None: each statement alone)."""
    p = model.predict(texts, role=role)
    return [_assessment(model, p, i, text, h) for i, (text, h) in enumerate(zip(texts, hours, strict=True))]


def _assessment(model: ExposureModel, p: Predictions, i: int, text: str, hours: float) -> TaskAssessment:
    ev = model.evidence
    near = [(int(j), float(s)) for j, s in zip(p.evidence[i], p.similarity[i], strict=True) if j >= 0]
    same = ev.by_text.get(normalise(text))
    if same is not None:
        near.insert(0, (same, 1.0))
    elif near and near[0][1] >= SAME_TASK:
        same = near[0][0]
    evidence: list[EvidenceItem] = []
    seen = set()
    for j, s in near:
        key = normalise(ev.texts[j])
        if s >= EVIDENCE_FLOOR and key not in seen and len(evidence) < EVIDENCE_K:
            seen.add(key)
            evidence.append(EvidenceItem(ev.texts[j], ev.labels[j], ev.codes[j], round(s, 3)))
    predicted = p.exposure_label(i)
    shown = ev.labels[same] if same is not None else predicted
    unfamiliar = same is None and not p.familiar(i)
    return TaskAssessment(
        text=text,
        hours=round(hours, 2),
        exposure=shown,
        label_source=HUMAN if same is not None else MODEL,
        predicted=predicted,
        p=tuple(round(float(v), 4) for v in p.exposure[i]),  # type: ignore[arg-type]
        automation=p.automation_label(i),
        confidence=round(float(p.exposure[i][EXPOSURE_LEVELS.index(shown)]), 3),
        hours_freed=0.0 if unfamiliar else round(hours * FREED[shown], 2),
        evidence=evidence,
        unfamiliar=unfamiliar,
    )


def default_hours(task_types: Sequence[str], week: float = WEEK_HOURS) -> list[float]:
    """Spread a week over tasks: core tasks weigh 2, supplemental (and untyped) 1."""
    weights = [2.0 if t == "Core" else 1.0 for t in task_types]
    total = sum(weights) or 1.0
    return [week * w / total for w in weights]


def role_of(data: observed.ObservedData | None, onet_code: str | None, reading: Reading) -> Role | None:
    """What the model is told of a role's tasks read together: its occupation's applicability."""
    if reading is Reading.text:
        return None
    return Role(data.scores.get(onet_code[:7]) if data and onet_code else None)


def profile(
    settings: Settings, model: ExposureModel, query: str, week: float = WEEK_HOURS, reading: Reading = Reading.role
) -> RoleProfile:
    folder = data_dir(settings)
    match = find_occupation(catalogue.read_occupations(folder), query)
    occupation = match.occupation
    tasks = occupation.tasks
    data = observed.load(settings)
    hours = default_hours([t.task_type for t in tasks], week)
    assessed = assess(model, [t.text for t in tasks], hours, role_of(data, occupation.code, reading))
    for a, t in zip(assessed, tasks, strict=True):
        a.task_type, a.task_id = t.task_type, t.task_id
    shares = np.array([[a.exposure == level for level in EXPOSURE_LEVELS] for a in assessed], dtype=float).mean(0)
    notes = ["Automation levels (T0-T4) are learned from GPT-4's labels: no human T labels exist."]
    beta = round(float(shares[1] + 0.5 * shares[2]), 3)
    scores = catalogue.read_scores(folder)
    use = None
    if data is not None:
        attach_observed(data, model, assessed, occupation.code)
        use = observed.occupation_use(data, occupation.code, beta, [s.human[1] for s in scores.values()])
        notes.append(OBSERVED_ATTRIBUTION)
    return RoleProfile(
        code=occupation.code,
        title=occupation.title,
        tasks=assessed,
        alpha=round(float(shares[1]), 3),
        beta=beta,
        gamma=round(float(shares[1] + shares[2]), 3),
        published=scores.get(occupation.code),
        work_context=catalogue.read_work_contexts(folder).get(occupation.title.lower()),
        hours_week=week,
        hours_freed=round(sum(a.hours_freed for a in assessed), 2),
        match=RoleMatch(query, match.via, match.score),
        observed=use,
        notes=notes,
    )


def attach_observed(
    data: observed.ObservedData, model: ExposureModel, assessed: Sequence[TaskAssessment], onet_code: str | None
) -> None:
    """Give each task the closest work activity of its occupation and what people ask AI for in it."""
    uses = observed.task_uses(
        data, model.featurizer, [a.text for a in assessed], [a.exposure for a in assessed], onet_code
    )
    for a, use in zip(assessed, uses, strict=True):
        a.observed = use
