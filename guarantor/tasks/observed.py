"""Observed AI use beside potential exposure ("Working with AI", Tomlinson et al., 2025).

Exposure (the rubric of "GPTs are GPTs") says what an LLM *could* do to a task; these files say
what people *do* ask a consumer LLM for, per O*NET work activity (IWA), and how often it succeeds.
A task is given the closest work activity of its occupation by the words they share (TF-IDF of
the exposure model's vocabulary); the occupation gets its applicability score and its rank. Where
the two sources point different ways, a note says so in the authors' framing: what AI is used for,
never whether it replaces a job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guarantor.data import files
from guarantor.errors import InputError
from guarantor.settings import Settings
from guarantor.tasks.catalogue import _once, read_applicability
from guarantor.tasks.features import Featurizer

MATCH_FLOOR = 0.08
"""Cosine similarity under which no work activity is named for a task: they share no real word.
Low, because an activity's title is a few words and it is chosen among its occupation's own."""


@dataclass(frozen=True)
class Activity:
    iwa: str
    title: str
    share: float  # fraction of conversations whose user goal is this activity
    completion: float | None  # fraction of those where the goal was completed (None: no conversation)
    scope: float | None  # fraction with a moderate or higher scope of impact


@dataclass
class TaskUse:
    """The closest work activity of a task, what people ask AI for in it, and where the rubric differs."""

    iwa: str
    activity: str
    similarity: float
    share: float
    completion: float | None
    scope: float | None
    level: str  # "often", "sometimes" or "rarely", by the share's tercile across all activities
    note: str | None


@dataclass
class OccupationUse:
    soc: str
    score: float
    rank: int
    of: int
    note: str | None


@dataclass(frozen=True)
class ObservedData:
    activities: dict[str, Activity]
    by_soc: dict[str, list[str]]
    scores: dict[str, float]
    terciles: tuple[float, float]


def load(settings: Settings) -> ObservedData | None:
    """The observed data beside the configured O*NET folder, or None when it is not there."""
    return read(files.observed_dir(settings))


def read(folder: Path) -> ObservedData | None:
    """The observed files of ``folder``, or None when they are not all there."""
    needed = (files.IWA_METRICS, files.SOC_IWAS, files.APPLICABILITY)
    if not all((folder / f.name).is_file() for f in needed):
        return None
    return _once(folder / files.IWA_METRICS.name, lambda: _parse(folder))


def _parse(folder: Path) -> ObservedData:
    activities = {}
    path = folder / files.IWA_METRICS.name
    for line, row in files.read_rows(path, files.IWA_METRICS):
        try:
            activities[row["IWA"]] = Activity(
                row["IWA"],
                row["title"],
                float(row["share_user"] or 0.0),
                _fraction(row["completion_user"]),
                _fraction(row["impact_scope_user"]),
            )
        except ValueError as exc:
            raise InputError(f"{path}:{line}: a metric is not a number: {exc}") from exc
    by_soc: dict[str, list[str]] = {}
    for _, row in files.read_rows(folder / files.SOC_IWAS.name, files.SOC_IWAS):
        if row["IWA"] in activities:
            by_soc.setdefault(row["SOC Code"], []).append(row["IWA"])
    shares = np.array([a.share for a in activities.values()])
    low, high = np.quantile(shares, [1 / 3, 2 / 3]) if len(shares) else (0.0, 0.0)
    return ObservedData(activities, by_soc, read_applicability(folder), (float(low), float(high)))


def _singular(text: str) -> str:
    """Plural nouns to singular, so "systems" meets "system" in the title of an activity."""
    return re.sub(r"\b(\w{3,}[^s])s\b", r"\1", text.lower())


def _fraction(text: str) -> float | None:
    """Empty where no conversation had this activity as its goal: nothing was measured, not zero."""
    return float(text) if text.strip() else None


def occupation_use(data: ObservedData, onet_code: str, beta: float | None, betas: list[float]) -> OccupationUse | None:
    """The occupation's applicability score and rank (1 = the most AI use), with a note where its
    exposure (beta, among ``betas``) and its observed use sit at opposite ends."""
    soc = onet_code[:7]
    score = data.scores.get(soc)
    if score is None:
        return None
    ordered = sorted(data.scores.values(), reverse=True)
    rank = ordered.index(score) + 1
    note = None
    if beta is not None and betas:
        use_pct = 1 - (rank - 1) / len(ordered)
        exposure_pct = sum(b <= beta for b in betas) / len(betas)
        if exposure_pct - use_pct >= 0.4:
            note = (
                "Exposure is higher than observed use: an LLM could speed up much of this work, yet people "
                "ask AI for it less than for most occupations."
            )
        elif use_pct - exposure_pct >= 0.4:
            note = (
                "Observed use is higher than exposure: people often ask AI for help with this occupation's "
                "activities, though the rubric finds few tasks whose time an LLM would halve."
            )
    return OccupationUse(soc, round(score, 4), rank, len(ordered), note)


def task_uses(
    data: ObservedData, featurizer: Featurizer, texts: list[str], exposures: list[str], onet_code: str | None
) -> list[TaskUse | None]:
    """Each task's closest work activity: among its occupation's activities when it has one, else
    among all of them."""
    candidates = data.by_soc.get(onet_code[:7], []) if onet_code else []
    ids = candidates or list(data.activities)
    if not texts or not ids:
        return [None] * len(texts)
    tasks = featurizer.transform([_singular(t) for t in texts])
    titles = featurizer.transform([_singular(data.activities[i].title) for i in ids])
    sims = np.asarray((tasks @ titles.T).todense())
    out: list[TaskUse | None] = []
    low, high = data.terciles
    for row, exposure in zip(sims, exposures, strict=True):
        j = int(row.argmax())
        if row[j] < MATCH_FLOOR:
            out.append(None)
            continue
        a = data.activities[ids[j]]
        level = "often" if a.share >= high else "rarely" if a.share < low else "sometimes"
        note = None
        if exposure == "E0" and level == "often":
            note = "Not exposed by the rubric, yet people often ask AI for help with this activity."
        elif exposure in ("E1", "E2") and level == "rarely":
            note = "Exposed by the rubric, yet people rarely ask AI for this activity."
        out.append(TaskUse(a.iwa, a.title, round(float(row[j]), 3), a.share, a.completion, a.scope, level, note))
    return out
