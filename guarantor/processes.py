"""Work handed to other processes of this machine through queues, for the second core that one
Python process cannot use: an export read while this process writes it (``work.reader``), task
statements predicted while this process reads and writes them (``tasks.classify``).

A queue never answers for a process that is gone, so no side waits on one for ever: this side
raises ``Stopped`` when a process it waits on has died without a word (killed for memory, say),
and a process whose parent is gone (killed) ends itself within a second or so instead of living on
as an orphan blocked on its queue.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, TypeVar

from guarantor.errors import GuarantorError

if TYPE_CHECKING:
    from multiprocessing import Queue

T = TypeVar("T")

POLL_S = 1.0
"""How often a side waiting on a queue checks that the other is still there."""


class Stopped(GuarantorError):
    """A process doing part of the work ended without its answer or its error: an internal failure."""


def receive(source: Queue[T], senders: Sequence[BaseProcess], what: str) -> T:
    """The next item on ``source``, which ``senders`` put there; ``Stopped`` if one of them is gone
    while nothing comes. ``what``: the processes, as the error names them."""
    while True:
        try:
            return source.get(timeout=POLL_S)
        except queue.Empty:
            for sender in senders:
                if not sender.is_alive():
                    raise Stopped(f"{what} stopped (exit code {sender.exitcode}) before its end") from None


def send(target: Queue[T], item: T) -> None:
    """Put ``item`` on ``target``, waiting while it is full, in a process started from another:
    if that one is gone, this one ends at once (nothing it holds needs closing; a queue's thread
    would otherwise wait at exit to hand over what no one will read)."""
    while True:
        try:
            target.put(item, timeout=POLL_S)
            return
        except queue.Full:
            _end_if_orphaned()


def take(source: Queue[T]) -> T:
    """The next item on ``source``, in a process started from another, which puts them there; if
    that one is gone, this one ends at once, as in ``send``."""
    while True:
        try:
            return source.get(timeout=POLL_S)
        except queue.Empty:
            _end_if_orphaned()


def _end_if_orphaned() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():
        os._exit(1)
