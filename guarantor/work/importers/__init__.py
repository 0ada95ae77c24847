"""Importers: one module a format, each turning an export into normalised ``Item``s with their line.

A format is registered by its module: a module here that defines ``IMPORTER`` is the format named
like the module, and nothing else needs to know of it. ``guarantor import``'s help, the formats a
link's ``source:id`` may name and the README's list come from here; to add a tracker's export,
add a module and its tests (``CONTRIBUTING.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from guarantor import plugins
from guarantor.errors import InputError, UsageError

if TYPE_CHECKING:
    from guarantor.inputs.dates import DateOrder
    from guarantor.work.importers.base import Columns, Item

Reader = Callable[[Path, "Mapping[str, str]", "DateOrder"], "tuple[Columns | None, Iterator[Item]]"]


@dataclass(frozen=True)
class Importer:
    """A format: how its export is made (for the help), how it is read, and whether it takes
    ``--map FIELD=COLUMN`` (only a format with no fixed columns does)."""

    made_by: str
    read: Reader
    mapped: bool = False


@cache
def names() -> tuple[str, ...]:
    """The formats, from the modules' names alone: listing them imports none (the CLI's help)."""
    return plugins.names(__path__)


@cache
def registry() -> dict[str, Importer]:
    found = {}
    for name in names():
        importer = getattr(importlib.import_module(f"{__name__}.{name}"), "IMPORTER", None)
        if isinstance(importer, Importer):
            found[name] = importer
    return found


def get(name: str) -> Importer:
    found = registry().get(name)
    if found is None:
        raise InputError(f"unknown format {name!r}; one of {', '.join(registry())}")
    return found


def read(name: str, path: Path, mapping: Mapping[str, str], order: DateOrder) -> tuple[Columns | None, Iterator[Item]]:
    """The items of an export in a format, and which column each field is read from (None for JSON)."""
    importer = get(name)
    if mapping and not importer.mapped:
        raise UsageError(f"--map is for exports without fixed columns (csv); {name} exports have their own.")
    return importer.read(path, mapping, order)
