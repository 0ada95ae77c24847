"""What every plug-in kind shares (sources, alert channels, importers): its implementations are the
modules of one package, found by listing the package's folder, so adding one is adding a module;
a kind whose entries are configured in the workspace file gets one schema type for all of them."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Annotated, Union

from pydantic import BaseModel, Field

NOT_PLUGINS = frozenset({"base"})
"""A package's module of shared parts, which is no plug-in; so is a module whose name starts with
an underscore (parts some of the plug-ins share)."""


def names(path: Iterable[str]) -> tuple[str, ...]:
    """The plug-in modules of a package, by name, without importing any (a command's help lists
    them and must not pay for their imports)."""
    found = pkgutil.iter_modules(path)
    return tuple(m.name for m in found if m.name not in NOT_PLUGINS and not m.name.startswith("_") and not m.ispkg)


def load(package: str, path: Iterable[str]) -> None:
    """Import every plug-in module of a package: each registers itself as it is imported."""
    for name in names(path):
        importlib.import_module(f"{package}.{name}")


def one_of(specs: Iterable[type[BaseModel]]) -> object:
    """The schema type of a configured plug-in: any registered spec, told apart by its ``type``
    (a discriminated union, so an error names the fields of the type written, not of every type)."""
    return Annotated[Union[tuple(specs)], Field(discriminator="type")]  # noqa: UP007
