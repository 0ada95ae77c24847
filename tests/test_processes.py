"""Processes that take part of a command's work end when the command is killed, wherever they wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.test_classify import _ended

# A parent forking two children that each block where no wait with a timeout could notice it is
# gone: reading a pipe whose writing end they hold themselves, as a queue's half-written message
# leaves them. The second one, forked after the first, holds the first one's sentinel open too.
PARENT = """
import multiprocessing, os, sys, time
from guarantor import processes

def blocked():
    processes.watch_parent()
    read, _ = os.pipe()
    os.read(read, 1)

if __name__ == "__main__":  # not in a spawned child, which imports this file to find blocked
    children = [multiprocessing.get_context(sys.argv[1]).Process(target=blocked, daemon=True) for _ in range(2)]
    for child in children:
        child.start()
    print(*(c.pid for c in children), flush=True)
    time.sleep(600)
"""


def _children_end_when_their_parent_is_killed(method: str, folder: Path) -> None:
    (folder / "parent.py").write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(folder / "parent.py"), method], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        with parent.stdout:
            children = [int(pid) for pid in parent.stdout.readline().split()]
        time.sleep(1)  # both blocked in their read by now (a spawned one imports Guarantor first)
        assert len(children) == 2 and not any(_ended(pid) for pid in children)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_ended(pid) for pid in children):
        time.sleep(0.1)
    assert all(_ended(pid) for pid in children)


def test_forked_children_end_when_their_parent_is_killed_even_blocked_in_a_read(tmp_path: Path) -> None:
    """As classify's predicting processes: a fork. Before the watcher, one of them read for ever
    when `classify` was killed while writing a chunk to their queue (seen once, in a fresh clone's test run)."""
    _children_end_when_their_parent_is_killed("fork", tmp_path)


def test_spawned_children_end_when_their_parent_is_killed_even_blocked_in_a_read(tmp_path: Path) -> None:
    """As the import's reading process: spawned."""
    _children_end_when_their_parent_is_killed("spawn", tmp_path)
