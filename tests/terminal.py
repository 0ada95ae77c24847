"""A command on a real terminal, driven through tmux as a person types: wait until the screen shows
a prompt, then send keys. tmux runs its own server for each terminal, so tests never share one."""

from __future__ import annotations

import shlex
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str], folder: Path, columns: int = 100) -> None:
        self.server = f"guarantor-test-{uuid.uuid4().hex[:10]}"
        self.status = folder / f"{self.server}.status"
        self.seen: dict[str, int] = {}
        command = " ".join(shlex.quote(a) for a in ["env", *(f"{k}={v}" for k, v in env.items()), *argv])
        self._tmux(
            "new-session", "-d", "-x", str(columns), "-y", "50", f"{command}; echo $? > {shlex.quote(str(self.status))}"
        )
        self._tmux("set-option", "-g", "history-limit", "50000")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True, timeout=30)
        return done.stdout

    def screen(self) -> str:
        """Everything the terminal showed, scrolled-off lines too, wrapped lines joined."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-")

    def expect(self, text: str, timeout: float = 120) -> str:
        """Wait until ``text`` shows once more than it had; returns the screen."""
        wanted = self.seen.get(text, 0) + 1
        deadline = time.monotonic() + timeout
        while (shown := self.screen()).count(text) < wanted:
            if self.status.exists() or time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never showed; the screen:\n{shown}")
            time.sleep(0.05)
        self.seen[text] = wanted
        return shown

    def type(self, line: str) -> None:
        self._tmux("send-keys", "-t", "0", "-l", line)
        self._tmux("send-keys", "-t", "0", "Enter")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "0", *keys)

    def exit_code(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while not self.status.exists() or not self.status.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"still running; the screen:\n{self.screen()}")
            time.sleep(0.05)
        return int(self.status.read_text())

    def __enter__(self) -> Terminal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._tmux("kill-server")
