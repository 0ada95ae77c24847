"""Stream task statements from a file through the model, in fixed-size chunks.

Memory stays flat whatever the file's length: one chunk is read, predicted and written before
the next. Every malformed record fails with the file, line and field.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

from guarantor.errors import InputError, NotFound
from guarantor.tasks.catalogue import AUTOMATION_LEVELS, EXPOSURE_LEVELS
from guarantor.tasks.model import ExposureModel

CHUNK = 2048
csv.field_size_limit(1 << 24)


class InputFormat(StrEnum):
    auto = "auto"
    csv = "csv"
    tsv = "tsv"
    jsonl = "jsonl"
    lines = "lines"


class OutputFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@dataclass(frozen=True)
class Record:
    id: str
    text: str


def _detect(name: str, first: str) -> InputFormat:
    suffix = Path(name).suffix.lower()
    by_suffix = {
        ".csv": InputFormat.csv,
        ".tsv": InputFormat.tsv,
        ".tab": InputFormat.tsv,
        ".jsonl": InputFormat.jsonl,
        ".ndjson": InputFormat.jsonl,
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    if first.lstrip().startswith("{"):
        return InputFormat.jsonl
    return InputFormat.lines


def read_records(
    source: str,
    fmt: InputFormat,
    text_column: str | None,
    id_column: str | None,
    stdin: IO[str] | None = None,
) -> Iterator[Record]:
    name = "<stdin>" if source == "-" else source
    if source == "-":
        handle = stdin or sys.stdin
    else:
        try:
            handle = open(source, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
        except FileNotFoundError as exc:
            raise NotFound(f"{source}: no such file.") from exc
    try:
        first = handle.readline()
        if fmt is InputFormat.auto:
            fmt = _detect(name, first)
        lines = _chain(first, handle)
        if fmt in (InputFormat.csv, InputFormat.tsv):
            yield from _table(name, lines, "," if fmt is InputFormat.csv else "\t", text_column, id_column)
        elif fmt is InputFormat.jsonl:
            yield from _jsonl(name, lines, text_column or "text", id_column)
        else:
            for number, line in enumerate(lines, start=1):
                if text := line.strip():
                    yield Record(str(number), text)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    finally:
        if handle is not (stdin or sys.stdin):
            handle.close()


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _table(
    name: str, lines: Iterator[str], delimiter: str, text_column: str | None, id_column: str | None
) -> Iterator[Record]:
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    text_col = _column(name, header, text_column, ("text", "task", "title", "summary"), "--text-column")
    id_col = (
        _column(name, header, id_column, ("id", "task_id", "key"), "--id-column")
        if (id_column or {"id", "task_id", "key"} & set(header))
        else None
    )
    try:
        for row in reader:
            if not row:
                continue
            line = reader.line_num
            if len(row) <= max(text_col, id_col or 0):
                raise InputError(
                    f"{name}:{line}: {header[text_col]}: missing (the row has {len(row)} fields, "
                    f"the header {len(header)})."
                )
            text = row[text_col].strip()
            if not text:
                raise InputError(f"{name}:{line}: {header[text_col]}: empty.")
            yield Record(row[id_col] if id_col is not None else str(line - 1), text)
    except csv.Error as exc:
        raise InputError(f"{name}:{reader.line_num}: {exc}.") from exc


def _column(name: str, header: list[str], asked: str | None, defaults: tuple[str, ...], option: str) -> int:
    if asked is not None:
        if asked not in header:
            raise InputError(f"{name}:1: no column {asked!r}; the header has {', '.join(header)}.")
        return header.index(asked)
    for candidate in defaults:
        if candidate in header:
            return header.index(candidate)
    raise InputError(f"{name}:1: no text column found (looked for {', '.join(defaults)}); name it with {option}.")


def _jsonl(name: str, lines: Iterator[str], text_key: str, id_key: str | None) -> Iterator[Record]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}:{number}:{exc.colno}: invalid JSON: {exc.msg}.") from exc
        if not isinstance(obj, dict):
            raise InputError(f"{name}:{number}: expected a JSON object, found {type(obj).__name__}.")
        text = obj.get(text_key)
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{name}:{number}: {text_key}: missing or not a non-empty string.")
        ident = obj.get(id_key or "id", number)
        yield Record(str(ident), text.strip())


COLUMNS = ("id", "text", "exposure", "p_E0", "p_E1", "p_E2", "automation", "confidence", "evidence")


def classify_stream(model: ExposureModel, records: Iterator[Record], out: IO[str], fmt: OutputFormat) -> int:
    """Write one prediction per record; returns how many were written."""
    writer = csv.writer(out, lineterminator="\n") if fmt is OutputFormat.csv else None
    if writer:
        writer.writerow(COLUMNS)
    ev = model.evidence
    count = 0
    chunk: list[Record] = []

    def flush() -> None:
        p = model.predict([r.text for r in chunk])
        exposure = p.exposure.argmax(1)
        automation = p.automation.argmax(1)
        for i, r in enumerate(chunk):
            probs = [round(float(v), 4) for v in p.exposure[i]]
            nearest = [
                (ev.labels[j], round(float(s), 3), ev.texts[j])
                for j, s in zip(p.evidence[i], p.similarity[i], strict=True)
                if j >= 0
            ]
            exp, auto = EXPOSURE_LEVELS[exposure[i]], AUTOMATION_LEVELS[automation[i]]
            conf = max(probs)
            if writer:
                evidence = " | ".join(f"{label} ({s}) {text}" for label, s, text in nearest)
                writer.writerow((r.id, r.text, exp, *probs, auto, conf, evidence))
            else:
                out.write(
                    json.dumps(
                        {
                            "id": r.id,
                            "text": r.text,
                            "exposure": exp,
                            "p_E0": probs[0],
                            "p_E1": probs[1],
                            "p_E2": probs[2],
                            "automation": auto,
                            "confidence": conf,
                            "evidence": [{"label": label, "similarity": s, "text": text} for label, s, text in nearest],
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )

    for record in records:
        chunk.append(record)
        if len(chunk) == CHUNK:
            flush()
            count += len(chunk)
            chunk = []
    if chunk:
        flush()
        count += len(chunk)
    return count
