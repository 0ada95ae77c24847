"""The data files Guarantor reads, their required columns, and the attribution they carry.

Reading goes through ``read_rows`` so that a malformed file always fails with its name, line
and column, and never passes silently with a missing field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guarantor.errors import DataMissing, InputError

if TYPE_CHECKING:
    from guarantor.settings import Settings


@dataclass(frozen=True)
class DataFile:
    name: str
    delimiter: str
    columns: tuple[str, ...]
    what: str
    required: bool = True


TASKS = DataFile(
    "tasks.tsv",
    "\t",
    ("onet_soc_code", "occupation", "task_id", "task", "task_type"),
    "O*NET task statements of every occupation",
)
LABELS = DataFile(
    "exposure_labels.tsv",
    "\t",
    ("onet_soc_code", "task_id", "human_exposure", "gpt4_exposure", "gpt4_automation"),
    "AI-exposure labels (human and GPT-4) of the tasks of the labelled occupations",
)
OCCUPATION_EXPOSURE = DataFile(
    "occupation_exposure.csv",
    ",",
    (
        "O*NET-SOC Code",
        "Title",
        "dv_rating_alpha",
        "dv_rating_beta",
        "dv_rating_gamma",
        "human_rating_alpha",
        "human_rating_beta",
        "human_rating_gamma",
    ),
    "occupation-level exposure scores (alpha, beta, gamma)",
    required=False,
)
WORK_CONTEXTS = DataFile(
    "work_contexts.csv",
    ",",
    (
        "degree_of_automation_context",
        "occupation",
        "importance_of_being_exact_or_accurate_context",
        "importance_of_repeating_same_tasks_context",
        "structured_versus_unstructured_work_context",
    ),
    "O*NET work-context scores (automation, repetition, structure, exactness)",
    required=False,
)
ALL_FILES = (TASKS, LABELS, OCCUPATION_EXPOSURE, WORK_CONTEXTS)
APPLICABILITY = DataFile(
    "soc_ai_applicability_scores.csv",
    ",",
    ("SOC Code", "title", "ai_applicability_score"),
    "observed AI applicability per SOC occupation (Working with AI), in the observed/ folder beside the data",
    required=False,
)
IWA_METRICS = DataFile(
    "iwa_metrics.csv",
    ",",
    ("IWA", "title", "share_user", "completion_user", "impact_scope_user"),
    "observed AI use per O*NET work activity (IWA): share of conversations, completion, scope",
    required=False,
)
SOC_IWAS = DataFile(
    "soc_to_iwas.csv",
    ",",
    ("SOC Code", "IWA"),
    "the work activities (IWAs) of each SOC occupation",
    required=False,
)
OBSERVED_FILES = (APPLICABILITY, IWA_METRICS, SOC_IWAS)
OBSERVED_ATTRIBUTION = (
    'Observed AI use: microsoft/working-with-ai, CC BY 4.0; Tomlinson et al., "Working with AI: Measuring the '
    'Applicability of Generative AI to Occupations", 2025 (arXiv:2507.07935). It measures what a consumer LLM '
    "is used for and how successfully, not whether it replaces a job."
)

ATTRIBUTION = (
    "Task statements and work contexts: O*NET database, U.S. Department of Labor, Employment and "
    'Training Administration (USDOL/ETA), CC BY 4.0. "O*NET" is a trademark of USDOL/ETA.\n'
    "Labels and occupation scores: openai/GPTs-are-GPTs (data/full_labelset.tsv, data/occ_level.csv, "
    "data/occupations_onet_work_contexts.csv), MIT License, Copyright (c) 2024 OpenAI.\n"
    'Rubric: Eloundou, Manning, Mishkin, Rock, "GPTs are GPTs", 2023.'
)

HOW_TO_GET = (
    "Run `guarantor data use FOLDER` once with a folder holding tasks.tsv and exposure_labels.tsv "
    "(beside this repository: ../shared/data/onet), or `guarantor data download`; GUARANTOR_DATA_DIR "
    "names one for a single shell."
)


def observed_dir(settings: Settings) -> Path:
    """Where the observed-use files are: ``observed/`` beside the O*NET data folder."""
    return settings.resolved_data_dir.parent / "observed"


def data_dir(settings: Settings) -> Path:
    """The data folder, checked to hold every required file."""
    return checked(settings.resolved_data_dir)


def checked(folder: Path) -> Path:
    """A folder, checked to hold every required data file."""
    missing = [f.name for f in ALL_FILES if f.required and not (folder / f.name).is_file()]
    if missing:
        raise DataMissing(f"O*NET data not found in {folder}: missing {', '.join(missing)}.", hint=HOW_TO_GET)
    return folder


def read_rows(path: Path, spec: DataFile) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) of a data file, checking its header and every row's width."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataMissing(f"{path}: file not found.", hint=HOW_TO_GET) from exc
    with handle:
        reader = csv.reader(handle, delimiter=spec.delimiter, quoting=csv.QUOTE_MINIMAL)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(
                f"{path}:1: the file is empty; expected a header with {', '.join(spec.columns)}."
            ) from None
        absent = [c for c in spec.columns if c not in header]
        if absent:
            raise InputError(f"{path}:1: missing column(s) {', '.join(absent)} in the header.")
        index = {c: header.index(c) for c in spec.columns}
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) < len(header):
                    raise InputError(
                        f"{path}:{reader.line_num}: expected {len(header)} fields, found {len(row)} "
                        f"(missing {header[len(row)]})."
                    )
                yield reader.line_num, {c: row[i] for c, i in index.items()}
        except csv.Error as exc:
            raise InputError(f"{path}:{reader.line_num}: {exc}") from exc


def count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(1 for line in handle if line.strip()) - 1, 0)
