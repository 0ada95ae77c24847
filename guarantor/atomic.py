"""Write output files whole or not at all.

A report or a prediction file is written to a temporary file beside it and renamed into place, so
a killed run never leaves half a file that looks finished. A target that is not a regular file (a
device such as /dev/null, a pipe) is written directly: renaming over it would replace it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from guarantor.errors import NotFound


@contextmanager
def atomic_writer(target: Path) -> Iterator[IO[str]]:
    if target.exists() and not target.is_file():
        with target.open("w", newline="", encoding="utf-8") as handle:
            yield handle
        return
    if not target.parent.is_dir():  # else the error names the temporary file, not what is missing
        raise NotFound(f"No folder {target.parent} to write {target.name} in.")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the result is an ordinary file
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> None:
    with atomic_writer(target) as handle:
        handle.write(text)
