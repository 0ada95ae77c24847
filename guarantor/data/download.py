"""Fetch the upstream data files and derive the layout Guarantor reads.

Downloads go to a temporary file and are renamed into place only when whole, so an interrupted
download never leaves a half-written file that later passes for data.
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from guarantor.atomic import atomic_writer
from guarantor.data import files
from guarantor.errors import InputError, NetworkError

if TYPE_CHECKING:
    from guarantor.settings import Settings

UPSTREAM = ("full_labelset.tsv", "occ_level.csv", "occupations_onet_work_contexts.csv")

# Upstream spellings of each column we derive, first match wins.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "onet_soc_code": ("O*NET-SOC Code", "onet_soc_code"),
    "occupation": ("Title", "occupation"),
    "task_id": ("Task ID", "task_id"),
    "task": ("Task", "task"),
    "task_type": ("Task Type", "task_type"),
    "human_exposure": ("human_exposure_agg", "human_labels", "human_exposure"),
    "gpt4_exposure": ("gpt4_exposure", "gpt_4_exposure"),
    "gpt4_automation": ("gpt4_automation", "gpt_4_automation"),
}

Progress = Callable[[str], None]


def fetch(url: str, target: Path, timeout: float) -> str:
    """Download ``url`` to ``target`` atomically; returns the SHA-256 of what was written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out, httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes(1 << 16):
                digest.update(chunk)
                out.write(chunk)
        os.replace(tmp, target)
    except (httpx.HTTPError, OSError) as exc:
        Path(tmp).unlink(missing_ok=True)
        raise NetworkError(
            f"Could not download {url}: {exc}.",
            hint="Check the network, or copy the data files into a folder and set GUARANTOR_DATA_DIR to it.",
        ) from exc
    return digest.hexdigest()


def _pick(header: list[str], name: str, path: Path) -> int:
    for spelling in _COLUMNS[name]:
        if spelling in header:
            return header.index(spelling)
    raise InputError(f"{path}:1: no column for {name} (looked for {', '.join(_COLUMNS[name])}).")


def derive(raw: Path, out: Path) -> None:
    """Turn the upstream files in ``raw`` into tasks.tsv, exposure_labels.tsv and the two CSVs."""
    out.mkdir(parents=True, exist_ok=True)
    source = raw / "full_labelset.tsv"
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        cols = {name: _pick(header, name, source) for name in _COLUMNS}
        task_rows: list[list[str]] = []
        label_rows: list[list[str]] = []
        for row in reader:
            if not row:
                continue
            if len(row) < len(header):
                raise InputError(f"{source}:{reader.line_num}: expected {len(header)} fields, found {len(row)}.")
            v = {name: row[i].strip() for name, i in cols.items()}
            task_rows.append([v[c] for c in files.TASKS.columns])
            if v["human_exposure"]:
                label_rows.append([v[c] for c in files.LABELS.columns])
    _write(out / files.TASKS.name, "\t", files.TASKS.columns, task_rows)
    _write(out / files.LABELS.name, "\t", files.LABELS.columns, label_rows)
    _select(raw / "occ_level.csv", out / files.OCCUPATION_EXPOSURE.name, files.OCCUPATION_EXPOSURE.columns)
    _select(
        raw / "occupations_onet_work_contexts.csv",
        out / files.WORK_CONTEXTS.name,
        files.WORK_CONTEXTS.columns,
    )


def _select(source: Path, target: Path, columns: tuple[str, ...]) -> None:
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        absent = [c for c in columns if c not in (reader.fieldnames or [])]
        if absent:
            raise InputError(f"{source}:1: missing column(s) {', '.join(absent)}.")
        rows = [[r[c] for c in columns] for r in reader]
    _write(target, ",", columns, rows)


def _write(target: Path, delimiter: str, header: tuple[str, ...], rows: list[list[str]]) -> None:
    with atomic_writer(target) as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def download(settings: Settings, target: Path, progress: Progress) -> tuple[dict[str, str], str | None]:
    """Fetch every upstream file, derive the layout into ``target`` and the observed-use files into
    ``observed/`` beside it; returns file -> SHA-256, and a note when the observed files (optional)
    could not be fetched."""
    raw = settings.home / "cache" / "upstream"
    hashes = {}
    for name in UPSTREAM:
        progress(name)
        hashes[name] = fetch(settings.download_base_url + name, raw / name, settings.download_timeout_s)
    derive(raw, target)
    observed = target.parent / "observed"
    try:
        for spec in files.OBSERVED_FILES:
            progress(spec.name)
            hashes[spec.name] = fetch(
                settings.observed_base_url + spec.name, observed / spec.name, settings.download_timeout_s
            )
    except NetworkError as exc:
        return hashes, (
            f"Observed AI use was not downloaded: {exc.message} Everything else works without it; to add it, copy "
            f"{', '.join(f.name for f in files.OBSERVED_FILES)} from microsoft/working-with-ai into {observed}, "
            "or set GUARANTOR_OBSERVED_BASE_URL to where they are."
        )
    return hashes, None
