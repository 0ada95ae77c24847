"""Data sources, one module each, registered by name (``type:`` in the workspace file).

To add one: a module here with a spec (a ``SourceSpec`` with ``type: Literal["name"]``) and an
implementation registered with ``register("name", Spec, …)``, with its checks and capabilities.
Nothing else names it: the modules are found here, and the workspace schema's ``sources`` (a union
discriminated by ``type``), the trust checks and the README's list all derive from the registry
(``CONTRIBUTING.md``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from guarantor.guarantees.sources.base import REGISTRY, Context, Reading, Source, SourceError

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

if TYPE_CHECKING:
    from guarantor.guarantees.sources.base import SourceSpec
else:
    SourceSpec = Annotated[Union[tuple(kind.spec for kind in REGISTRY.values())], Field(discriminator="type")]  # noqa: UP007

__all__ = ["REGISTRY", "Context", "Reading", "Source", "SourceError", "SourceSpec"]
