"""Text files and standard input, line by line, the same strict way for every reader.

Every reader of tasks and exports goes through ``TextLines``, so a file gets the same answer
whichever command reads it: UTF-8 or an input error naming the line and column of the first bad
byte (stdin too, where Python would otherwise replace or escape it), a byte-order mark dropped, a
NUL byte refused, and no line longer than ``MAX_LINE_BYTES`` (read at most that far, so one
endless line cannot fill the memory). CSV is read with ``strict`` quoting: an unterminated quote is
an error at its line, never rows silently merged into one field.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from guarantor.errors import InputError, NotFound, TooLarge

SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate decodes from JSON or YAML escapes but is not a character: no database or page can hold it."""
LONE_SURROGATE = "holds a lone surrogate (\\ud800-\\udfff), which is not a character"

MAX_LINE_BYTES = 1 << 20
"""The longest line read (1 MiB): a task or a ticket is far shorter; a longer one is not text."""

csv.field_size_limit(MAX_LINE_BYTES * 4)  # a quoted field may span lines, but not the whole file
_BOM = b"\xef\xbb\xbf"


class TextLines:
    """The decoded lines of a file (or of standard input for ``-``), endings kept; ``line`` is the
    number of the line last read."""

    def __init__(self, source: str | Path, stdin: IO[bytes] | None = None, longest: int = MAX_LINE_BYTES) -> None:
        self.name = "<stdin>" if str(source) == "-" else str(source)
        self.longest = longest
        if str(source) == "-":
            self._raw: IO[bytes] = stdin or sys.stdin.buffer
            self._own = False
        else:
            try:
                self._raw = open(source, "rb")  # noqa: SIM115 - closed by close()
            except FileNotFoundError as exc:
                raise NotFound(f"{source}: no such file.") from exc
            except IsADirectoryError as exc:
                raise InputError(f"{source}: a folder, not a file.") from exc
            self._own = True
        self.line = 0

    def __enter__(self) -> TextLines:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own:
            self._raw.close()

    def where(self, line: int | None = None, column: int | None = None) -> str:
        place = f"{self.name}:{self.line if line is None else line}"
        return place + (f":{column}" if column is not None else "")

    def __iter__(self) -> Iterator[str]:
        while True:
            raw = self._raw.readline(self.longest + 1)
            if not raw:
                return
            self.line += 1
            if self.line == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if len(raw) > self.longest and not raw.endswith(b"\n"):
                raise TooLarge(f"{self.where()}: a line longer than {self.longest >> 20} MiB; is this a text file?")
            nul = raw.find(b"\x00")
            if nul >= 0:
                raise InputError(f"{self.where(column=nul + 1)}: a NUL byte; is this a text file?")
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{self.where(column=exc.start + 1)}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                    "save the file as UTF-8"
                ) from exc


def csv_reader(source: Iterable[str], lines: TextLines, delimiter: str = ",") -> Iterator[list[str]]:
    """CSV records of ``source`` (``lines``, or what is left of it) with strict quoting; each error
    names the line where the reader stood."""
    reader = csv.reader(source, delimiter=delimiter, strict=True)
    while True:
        start = lines.line + 1  # where the next record begins
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise InputError(f"{lines.where(start)}: a quote opened in this record is never closed") from exc
            raise InputError(f"{lines.where()}: {exc}") from exc
        yield row


def json_value(text: str, where: str) -> Any:
    """One JSON value; too deep, non-finite numbers (1e999) and lone surrogates are input errors."""
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from exc
    except RecursionError as exc:
        raise InputError(f"{where}: JSON nested too deeply") from exc
    return value


def decoder() -> json.JSONDecoder:
    """A decoder for streams of JSON values with the same refusals as ``json_value``."""
    return json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large a number")
    return value


def text_field(value: Any, where: str, field: str, required: bool = True) -> str:
    """A string field of a JSON object: text, present when required, with no lone surrogate, and no
    longer than a line of text may be elsewhere (``MAX_LINE_BYTES``): JSON puts a whole export on
    one line, so the line's cap cannot hold a field's."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        found = "missing" if value is None else f"{type(value).__name__}, not text"
        raise InputError(f"{where}: {field}: {'missing or empty' if isinstance(value, str) else found}")
    if len(value) > MAX_LINE_BYTES:
        raise InputError(f"{where}: {field}: longer than {MAX_LINE_BYTES >> 20} MiB; no tracker writes such a field")
    if SURROGATE.search(value):
        raise InputError(f"{where}: {field}: {LONE_SURROGATE}")
    return value
