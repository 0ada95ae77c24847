"""Stream task statements from a file through the model, in fixed-size chunks.

Memory stays flat whatever the file's length: one chunk is read, predicted and written before
the next. Every malformed record fails with the file, line and field.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import sys
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from enum import StrEnum
from itertools import chain, islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

import numpy as np

from guarantor.errors import GuarantorError, InputError
from guarantor.inputs.lines import TextLines, csv_reader, json_value, text_field
from guarantor.tasks.catalogue import AUTOMATION_LEVELS, EXPOSURE_LEVELS

if TYPE_CHECKING:
    from multiprocessing import Queue

    from guarantor.tasks.model import ExposureModel

CHUNK = 2048


class InputFormat(StrEnum):
    auto = "auto"
    csv = "csv"
    tsv = "tsv"
    jsonl = "jsonl"
    lines = "lines"


class OutputFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


class Record(NamedTuple):
    """One statement to classify (a tuple: a million of them are made in a large file)."""

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
    stdin: IO[bytes] | None = None,
) -> Iterator[Record]:
    """Every record of a file (``-``: standard input), read as ``inputs.lines`` reads any text."""
    with TextLines(source, stdin) as lines:
        stream = iter(lines)
        first = next(stream, "")
        if fmt is InputFormat.auto:
            fmt = _detect(lines.name, first)
        chained = _chain(first, stream)
        if fmt in (InputFormat.csv, InputFormat.tsv):
            yield from _table(lines, chained, "," if fmt is InputFormat.csv else "\t", text_column, id_column)
        elif fmt is InputFormat.jsonl:
            yield from _jsonl(lines, chained, text_column or "text", id_column)
        else:
            for line in chained:
                if text := line.strip():
                    yield Record(str(lines.line), text)


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _table(
    lines: TextLines, chained: Iterator[str], delimiter: str, text_column: str | None, id_column: str | None
) -> Iterator[Record]:
    name = lines.name
    rows = csv_reader(chained, lines, delimiter)
    header = next(rows, None)
    if header is None:
        return
    text_col = _column(name, header, text_column, ("text", "task", "title", "summary"), "--text-column")
    id_col = (
        _column(name, header, id_column, ("id", "task_id", "key"), "--id-column")
        if (id_column or {"id", "task_id", "key"} & set(header))
        else None
    )
    needed = max(text_col, id_col or 0)
    for row in rows:
        if not row:
            continue
        if len(row) <= needed:
            shape = f"the row has {len(row)} fields, the header {len(header)}"
            raise InputError(f"{lines.where()}: {header[text_col]}: missing ({shape}).")
        if len(row) > len(header):
            raise InputError(f"{lines.where()}: {len(row)} fields, the header has {len(header)}.")
        text = row[text_col].strip()
        if not text:
            raise InputError(f"{lines.where()}: {header[text_col]}: empty.")
        yield Record(row[id_col] if id_col is not None else str(lines.line - 1), text)


def _column(name: str, header: list[str], asked: str | None, defaults: tuple[str, ...], option: str) -> int:
    if asked is not None:
        if asked not in header:
            raise InputError(f"{name}:1: no column {asked!r}; the header has {', '.join(header)}.")
        return header.index(asked)
    for candidate in defaults:
        if candidate in header:
            return header.index(candidate)
    raise InputError(f"{name}:1: no text column found (looked for {', '.join(defaults)}); name it with {option}.")


def _jsonl(lines: TextLines, chained: Iterator[str], text_key: str, id_key: str | None) -> Iterator[Record]:
    for line in chained:
        if not line.strip():
            continue
        where = lines.where()
        obj = json_value(line, where)
        if not isinstance(obj, dict):
            raise InputError(f"{where}: expected a JSON object, found {type(obj).__name__}.")
        text = text_field(obj.get(text_key), where, text_key)
        ident = obj.get(id_key or "id", lines.line)
        if isinstance(ident, bool) or not isinstance(ident, str | int):
            found = type(ident).__name__
            raise InputError(f"{where}: {id_key or 'id'}: expected text or a whole number, found {found}.")
        yield Record(str(ident), text.strip())


COLUMNS = ("id", "text", "exposure", "p_E0", "p_E1", "p_E2", "automation", "confidence", "evidence")


def classify_stream(
    model: ExposureModel, records: Iterator[Record], out: IO[str], fmt: OutputFormat, workers: int = 1
) -> int:
    """Write one prediction per record; returns how many were written. Nothing is written before
    the first chunk has been read whole, so a bad record early in the input leaves stdout empty;
    one later leaves the chunks before it written. With ``workers`` above one, an input of more than
    one chunk is predicted by that many processes forked from this one (see ``_apart``)."""
    chunks = iter(lambda: list(islice(records, CHUNK)), [])
    first = next(chunks, [])
    header = ",".join(COLUMNS) + "\n" if fmt is OutputFormat.csv else ""
    if workers > 1 and len(first) == CHUNK and may_fork():  # a full chunk: more may follow
        rendered = _apart(model, fmt, chain([first], chunks), workers)
    else:
        rendered = (_render(model, fmt, chunk) for chunk in chain([first] if first else [], chunks))
    count = 0
    with closing(rendered):  # a failed write ends the forked processes now, not when collected
        for n, text in rendered:
            out.write(header + text)
            header = ""
            count += n
    out.write(header)
    return count


AHEAD = 2
"""Chunks handed to each process at most before this one writes the oldest: the output keeps the
input's order, and what is held stays bounded whatever the input's length."""


def may_fork() -> bool:
    """Whether this process may predict with copies of itself: on Linux, with no other Python
    thread running. A fork copies one thread, so a process running others (a server, a test runner)
    could leave a lock one of them held locked for ever in the copy; native threads (numpy's BLAS
    pool) make themselves safe across a fork, and Python does not count them. Elsewhere, system
    libraries (macOS's Accelerate under numpy) are not safe in a forked copy, which is why Python
    spawns there by default."""
    import threading

    return sys.platform == "linux" and threading.active_count() == 1


def _apart(
    model: ExposureModel, fmt: OutputFormat, chunks: Iterator[list[Record]], workers: int
) -> Generator[tuple[int, str], None, None]:
    """Each chunk's count and rendered rows, in order, predicted by ``workers`` processes forked
    from this one while it reads the next chunks and writes. A fork starts at once with the model
    loaded, shared until written (which it is not); a fresh interpreter would cost more than the
    whole of a file of 20,000 tasks. A bad record stops the output where it would in one process:
    the chunks before it are written, then its error raised."""
    import multiprocessing

    from guarantor import processes

    context = multiprocessing.get_context("fork")
    tasks: Queue[tuple[int, list[Record]]] = context.Queue()
    answers: Queue[tuple[int, tuple[int, str] | GuarantorError]] = context.Queue()
    sys.stdout.flush()  # a forked process flushes its copy of what is buffered when it ends
    sys.stderr.flush()
    gc.freeze()  # the copies' collections leave the model's objects alone, so their pages stay shared
    forked = [context.Process(target=_serve, args=(model, fmt, tasks, answers), daemon=True) for _ in range(workers)]
    try:
        for process in forked:
            process.start()
    finally:
        gc.unfreeze()
    done: dict[int, tuple[int, str] | GuarantorError] = {}
    sent = written = 0
    failed: GuarantorError | None = None

    def oldest() -> tuple[int, str]:
        nonlocal written
        while written not in done:
            index, answer = processes.receive(answers, forked, "a process predicting the tasks")
            done[index] = answer
        answer = done.pop(written)
        written += 1
        if isinstance(answer, GuarantorError):
            raise answer
        return answer

    try:
        try:
            for chunk in chunks:
                tasks.put((sent, chunk))
                sent += 1
                if sent - written > AHEAD * workers:
                    yield oldest()
        except GuarantorError as exc:  # a bad record: what was read before it is written first
            failed = exc
        while written < sent:
            yield oldest()
    finally:
        for process in forked:
            process.kill()  # idle at the end, or their work is no longer wanted
            process.join()
        tasks.cancel_join_thread()  # what is left unread in it is no longer wanted either
        tasks.close()
        answers.close()
    if failed is not None:
        raise failed


def _serve(
    model: ExposureModel,
    fmt: OutputFormat,
    tasks: Queue[tuple[int, list[Record]]],
    answers: Queue[tuple[int, tuple[int, str] | GuarantorError]],
) -> None:
    """A forked process: predicts and renders chunks until it is killed, or its parent is gone.
    Ctrl-C is the parent's to handle."""
    import signal

    from guarantor import processes

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    processes.watch_parent()
    while True:
        index, chunk = tasks.get()
        answer: tuple[int, str] | GuarantorError
        try:
            answer = _render(model, fmt, chunk)
        except Exception as exc:  # sent as it can be: the parent shows it, this process has no console
            answer = GuarantorError(f"predicting failed: {type(exc).__name__}: {exc}")
        answers.put((index, answer))


def _render(model: ExposureModel, fmt: OutputFormat, chunk: list[Record]) -> tuple[int, str]:
    rows = _predicted(model, chunk)
    buffer = io.StringIO()
    if fmt is OutputFormat.csv:
        csv.writer(buffer, lineterminator="\n").writerows(
            (r.id, r.text, exp, *probs, auto, conf, " | ".join(f"{label} ({s}) {text}" for label, s, text in near))
            for r, exp, probs, auto, conf, near in rows
        )
    else:
        buffer.writelines(
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
                    "evidence": [{"label": label, "similarity": s, "text": text} for label, s, text in near],
                },
                ensure_ascii=False,
            )
            + "\n"
            for r, exp, probs, auto, conf, near in rows
        )
    return len(rows), buffer.getvalue()


Prediction = tuple[Record, str, list[float], str, float, list[tuple[str, float, str]]]


def _predicted(model: ExposureModel, chunk: Sequence[Record]) -> list[Prediction]:
    """Each record with its exposure, probabilities (4 decimals), automation level, confidence and
    evidence (label, similarity to 3 decimals, text), read out of the arrays once for the chunk."""
    p = model.predict([r.text for r in chunk])
    ev = model.evidence
    probs = p.exposure.astype(np.float64).round(4)
    exposure = np.array(EXPOSURE_LEVELS)[p.exposure.argmax(1)].tolist()
    automation = np.array(AUTOMATION_LEVELS)[p.automation.argmax(1)].tolist()
    similarity = p.similarity.astype(np.float64).round(3).tolist()
    nearest = [
        [(ev.labels[j], s, ev.texts[j]) for j, s in zip(js, ss, strict=True) if j >= 0]
        for js, ss in zip(p.evidence.tolist(), similarity, strict=True)
    ]
    return list(zip(chunk, exposure, probs.tolist(), automation, probs.max(1).tolist(), nearest, strict=True))
