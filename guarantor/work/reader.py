"""Reading a large export in a second process while this one writes what it has read.

An import is Python for each item: reading its record and preparing its row (about half the time)
and writing it with the model's exposure and its links (the other half). With two processes the
halves run side by side on two cores, where threads would take turns under the interpreter's
lock. The second process only reads the export and sends prepared batches (``service.Prepared``,
plain values) through a bounded queue; it never touches the database, so the import stays one
transaction, whole or nothing, in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import signal
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guarantor import processes
from guarantor.errors import GuarantorError
from guarantor.inputs.dates import DateOrder
from guarantor.settings import get_settings
from guarantor.tasks import store
from guarantor.work import service

APART_FROM_BYTES = 8 * 2**20
"""An export from this size on is read in a second process (about 50,000 items of a tracker's
CSV): starting one (its imports) costs about a second, more than a smaller import gains. Measured
on the benchmark's export, this 2-core machine, 2026-11-24: 10,000 items (1.7 MB) 3.8 s read here
against 4.9 s apart; 50,000 (8.5 MB) 8.7 s against 7.7 s; 1,000,000 (172 MB) 133 s against 76 s."""
if TYPE_CHECKING:
    Ahead = multiprocessing.Queue[service.Prepared | BaseException | None]

AHEAD = 4
"""Batches read ahead of the writing at most: the reader's lead, and what it holds, stay bounded."""


@contextmanager
def few_collections() -> Iterator[None]:
    """What is loaded before the items (the model, SQLAlchemy, the workspace) lives as long as the
    process: out of the collector's sight, the full collections that millions of items' rows set
    off no longer walk it each time, which took 8% of an import of 100k items. The items make no
    cycles to collect: a young collection every 50,000 allocations instead of 700 saves 3% more.
    Both are undone after, for a process that goes on (the tests run the CLI in theirs)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def batches(
    fmt: str, path: Path, mapping: Mapping[str, str], order: DateOrder, now: datetime, classify: bool
) -> service.Batches | None:
    """The batches of an export read in a second process, or None where it is read here: standard
    input (read once, by this process) and exports under ``APART_FROM_BYTES``. With ``classify``,
    the second process finds the exposures of the batches this one is not ready to take yet, with
    the model loaded there from the cache this one filled; this one finds the others' (the model
    is the larger part of either side's work, so the busier side gives it to the other)."""
    if str(path) == "-" or path.stat().st_size < APART_FROM_BYTES:
        return None

    def made(workspace: int, linker: service.Linker | None) -> Generator[service.Prepared, None, None]:
        context = multiprocessing.get_context("spawn")  # a fork would copy the database's open connections
        ahead: Ahead = context.Queue(AHEAD)
        reader = context.Process(
            target=_main,
            args=(ahead, fmt, path, dict(mapping), order, now, workspace, linker, classify),
            daemon=True,
        )
        reader.start()
        try:
            while (got := processes.receive(ahead, [reader], "the process reading the export")) is not None:
                if isinstance(got, BaseException):
                    raise got
                yield got
        finally:
            reader.kill()  # at once when this side failed; already gone when it ended
            reader.join()
            ahead.close()

    return made


def _main(*args: Any) -> None:
    """The second process. Ctrl-C is the writing side's to handle: it ends this process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    processes.watch_parent()
    _read(*args)


def _read(
    ahead: Ahead,
    fmt: str,
    path: Path,
    mapping: dict[str, str],
    order: DateOrder,
    now: datetime,
    workspace: int,
    linker: service.Linker | None,
    classify: bool,
) -> None:
    """The export's items, prepared in batches, then None; or the error that stopped the reading,
    for the writing side to raise (a malformed record's file and line)."""
    try:
        with few_collections():
            exposure = None  # the model is loaded the first time the writing side is behind
            _, items = service.read(fmt, path, mapping, order)
            for batch in service.batches_of(items, now)(workspace, linker):
                try:
                    ahead.put_nowait(batch)
                except queue.Full:  # the writing side is behind: take its classifying while waiting
                    if classify:
                        exposure = exposure or service.exposure_of(store.load_or_build(get_settings()))
                        batch.classify(exposure)
                    ahead.put(batch)
    except GuarantorError as exc:
        ahead.put(exc)
    except Exception as exc:  # sent as it can be: the other side shows it, this one has no console
        ahead.put(GuarantorError(f"reading the export failed: {type(exc).__name__}: {exc}"))
    else:
        ahead.put(None)
