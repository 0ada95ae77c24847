"""`command`: a local command that prints a number (optionally followed by a timestamp).

It runs programs on this machine, so it is allowed only in workspace files read from disk, never
in anything a web request could write: the loader refuses it elsewhere, and so does this factory.
"""

from __future__ import annotations

import shlex
import subprocess
from typing import Literal

from guarantor.guarantees.sources import base
from guarantor.guarantees.sources.base import Context, Reading, SourceError, SourceSpec, register
from guarantor.guarantees.spec import Indicator


class CommandSpec(SourceSpec):
    type: Literal["command"]


class CommandSource:
    def __init__(self, spec: CommandSpec, context: Context) -> None:
        if not context.allow_command:
            raise SourceError("command sources run only from workspace files on disk")
        self.cwd = context.base_dir

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        argv = shlex.split(indicator.query_text)
        try:
            done = subprocess.run(argv, cwd=self.cwd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SourceError(f"timed out after {timeout:g} s") from exc
        except OSError as exc:
            raise SourceError(f"cannot run {argv[0]!r}: {exc.strerror}") from exc
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or [""])[-1][:200]
            raise SourceError(f"exited with status {done.returncode}: {tail}")
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        if not lines:
            return Reading(None, no_data="the command printed nothing")
        fields = lines[-1].split()
        value = base.to_decimal(fields[0], "the command's output")
        return Reading(value, base.to_time(fields[1]) if len(fields) > 1 else None)

    def close(self) -> None:
        pass


register("command", CommandSpec, runs_programs=True)(CommandSource)
