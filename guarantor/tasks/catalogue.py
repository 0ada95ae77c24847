"""The O*NET occupation catalogue: tasks, labels, occupation scores and work contexts."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from guarantor.data import files
from guarantor.errors import InputError

EXPOSURE_LEVELS = ("E0", "E1", "E2")
AUTOMATION_LEVELS = ("T0", "T1", "T2", "T3", "T4")
EXPOSURE_WORDS = {
    "E0": "not exposed: an LLM would not halve its time",
    "E1": "exposed: an LLM alone would halve its time",
    "E2": "exposed with tools: software built on an LLM would halve its time",
}
"""The rubric of "GPTs are GPTs" in words a manager reads; the codes stay for machines."""
AUTOMATION_WORDS = {
    "T0": "no automation",
    "T1": "automation helps a person",
    "T2": "partly automated, a person in charge",
    "T3": "mostly automated, a person checks",
    "T4": "fully automated",
}
T = TypeVar("T")
_parsed: dict[tuple[str, Path, int, int], Any] = {}


@dataclass(frozen=True)
class Task:
    onet_soc_code: str
    occupation: str
    task_id: int
    text: str
    task_type: str


@dataclass(frozen=True)
class LabelledTask:
    task: Task
    human_exposure: str
    gpt4_exposure: str
    gpt4_automation: str


@dataclass(frozen=True)
class Occupation:
    code: str
    title: str
    tasks: list[Task] = field(default_factory=list)


@dataclass(frozen=True)
class OccupationScores:
    """Occupation-level exposure from the paper: alpha = E1 share, beta = E1 + E2/2, gamma = E1 + E2."""

    human: tuple[float, float, float]
    gpt4: tuple[float, float, float]


@dataclass(frozen=True)
class WorkContext:
    degree_of_automation: float
    repeating_same_tasks: float
    structured_work: float
    being_exact: float


def read_tasks(folder: Path) -> list[Task]:
    path = folder / files.TASKS.name
    out = []
    for line, row in files.read_rows(path, files.TASKS):
        try:
            task_id = int(row["task_id"])
        except ValueError as exc:
            raise InputError(f"{path}:{line}: task_id: not a whole number: {row['task_id']!r}.") from exc
        out.append(Task(row["onet_soc_code"], row["occupation"], task_id, row["task"], row["task_type"]))
    return out


def read_labelled(folder: Path) -> list[LabelledTask]:
    """Every labelled task joined to its statement; a label without a task is an error."""
    by_key = {(t.onet_soc_code, t.task_id): t for t in read_tasks(folder)}
    path = folder / files.LABELS.name
    out = []
    for line, row in files.read_rows(path, files.LABELS):
        for name, allowed in (
            ("human_exposure", EXPOSURE_LEVELS),
            ("gpt4_exposure", EXPOSURE_LEVELS),
            ("gpt4_automation", AUTOMATION_LEVELS),
        ):
            if row[name] not in allowed:
                raise InputError(f"{path}:{line}: {name}: {row[name]!r} is not one of {', '.join(allowed)}.")
        try:
            key = (row["onet_soc_code"], int(row["task_id"]))
        except ValueError as exc:
            raise InputError(f"{path}:{line}: task_id: not a whole number: {row['task_id']!r}.") from exc
        task = by_key.get(key)
        if task is None:
            raise InputError(f"{path}:{line}: task_id: no task {key[1]} of {key[0]} in {files.TASKS.name}.")
        out.append(LabelledTask(task, row["human_exposure"], row["gpt4_exposure"], row["gpt4_automation"]))
    return out


def _once(path: Path, parse: Callable[[], T]) -> T:
    """One parse per version of a file (path, size, mtime) per process: the web app looks up an
    occupation on every role page, and reading tasks.tsv costs about 80 ms. Callers do not mutate
    what they get."""
    st = path.stat()
    key = (parse.__qualname__, path, st.st_size, st.st_mtime_ns)
    if key not in _parsed:
        _parsed[key] = parse()
    value: T = _parsed[key]
    return value


def read_occupations(folder: Path) -> dict[str, Occupation]:
    def parse() -> dict[str, Occupation]:
        occupations: dict[str, Occupation] = {}
        for task in read_tasks(folder):
            code = task.onet_soc_code
            occupations.setdefault(code, Occupation(code, task.occupation)).tasks.append(task)
        return occupations

    return _once(folder / files.TASKS.name, parse)


def _keyed(
    folder: Path, spec: files.DataFile, what: str, entry: Callable[[dict[str, str]], tuple[str, T]]
) -> dict[str, T]:
    """An optional reference table, one value per key (``entry`` reads a row): empty when the file
    is not there; a number that does not read names its line and ``what`` it is."""
    path = folder / spec.name
    if not path.is_file():
        return {}

    def parse() -> dict[str, T]:
        out = {}
        for line, row in files.read_rows(path, spec):
            try:
                key, value = entry(row)
            except ValueError as exc:
                raise InputError(f"{path}:{line}: {what} is not a number: {exc}") from exc
            out[key] = value
        return out

    return _once(path, parse)


def read_scores(folder: Path) -> dict[str, OccupationScores]:
    def entry(row: dict[str, str]) -> tuple[str, OccupationScores]:
        human, gpt4 = (
            tuple(float(row[f"{who}_rating_{k}"]) for k in ("alpha", "beta", "gamma")) for who in ("human", "dv")
        )
        return row["O*NET-SOC Code"], OccupationScores(human, gpt4)  # type: ignore[arg-type]

    return _keyed(folder, files.OCCUPATION_EXPOSURE, "a rating", entry)


def read_applicability(folder: Path) -> dict[str, float]:
    """Observed AI applicability per 2018 SOC code (an O*NET-SOC code's first 7 characters); empty
    when the observed files are not there."""
    score = "ai_applicability_score"
    return _keyed(folder, files.APPLICABILITY, score, lambda row: (row["SOC Code"], float(row[score])))


FAMILIES = {
    "11": "Management",
    "13": "Business and financial operations",
    "15": "Computer and mathematical",
    "17": "Architecture and engineering",
    "19": "Life, physical and social science",
    "21": "Community and social service",
    "23": "Legal",
    "25": "Education and library",
    "27": "Arts, design, entertainment, sports and media",
    "29": "Healthcare practitioners",
    "31": "Healthcare support",
    "33": "Protective service",
    "35": "Food preparation and serving",
    "37": "Building and grounds cleaning and maintenance",
    "39": "Personal care and service",
    "41": "Sales",
    "43": "Office and administrative support",
    "45": "Farming, fishing and forestry",
    "47": "Construction and extraction",
    "49": "Installation, maintenance and repair",
    "51": "Production",
    "53": "Transportation and material moving",
    "55": "Military",
}
"""The 2018 SOC major groups: an occupation's family is the first two digits of its code."""


def read_work_contexts(folder: Path) -> dict[str, WorkContext]:
    """Work contexts keyed by lower-cased occupation title (the file has no codes)."""
    columns = (
        "degree_of_automation_context",
        "importance_of_repeating_same_tasks_context",
        "structured_versus_unstructured_work_context",
        "importance_of_being_exact_or_accurate_context",
    )
    return _keyed(
        folder,
        files.WORK_CONTEXTS,
        "a score",
        lambda row: (row["occupation"].strip().lower(), WorkContext(*(float(row[c]) for c in columns))),
    )


def data_hash(folder: Path, observed: Path) -> str:
    """Hash of the files the model learns from (the observed applicability scores where they are
    there): a change in any rebuilds the model."""
    digest = hashlib.sha256()
    for spec in (files.TASKS, files.LABELS):
        digest.update((folder / spec.name).read_bytes())
    scores = observed / files.APPLICABILITY.name
    if scores.is_file():
        digest.update(scores.read_bytes())
    return digest.hexdigest()
