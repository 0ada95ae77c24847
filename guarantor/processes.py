"""Work handed to other processes of this machine through queues, for the second core that one
Python process cannot use: an export read while this process writes it (``work.reader``), task
statements predicted while this process reads and writes them (``tasks.classify``).

A queue never answers for a process that is gone, so no side waits on one for ever: this side
raises ``Stopped`` when a process it waits on has died without a word (killed for memory, say),
and a process whose parent is gone (killed) ends itself within a second or so (``watch_parent``)
instead of living on as an orphan blocked on its queue.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
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


def watch_parent() -> None:
    """Called first in a process started from another: once that one is gone (killed), end this one
    within ``POLL_S``, wherever it waits. A check made only between waits is not enough: a parent
    killed while it wrote a message leaves this process reading the rest for ever, since the pipe's
    writing end stays open here (inherited) and in its siblings; a full pipe no one reads blocks a
    write the same way."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        # getppid: the parent's sentinel would tell too, but a sibling forked after this process
        # holds it open, so that one would tell only once the sibling had ended.
        while os.getppid() == parent.pid:
            time.sleep(POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="guarantor-watch-parent", daemon=True).start()
