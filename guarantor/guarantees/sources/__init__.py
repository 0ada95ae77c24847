"""Data sources, one module each, registered by name (``type:`` in the workspace file).

To add one: a module here with a spec (a ``SourceSpec`` with ``type: Literal["name"]``) and an
implementation registered with ``register("name", Spec, …)``, with its checks and capabilities.
Nothing else names it: the modules are found here, and the workspace schema's ``sources`` (a union
discriminated by ``type``), the trust checks and the README's list all derive from the registry
(``CONTRIBUTING.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guarantor import plugins
from guarantor.guarantees.sources.base import REGISTRY, Context, Reading, Source, SourceError

plugins.load(__name__, __path__)

if TYPE_CHECKING:
    from guarantor.guarantees.sources.base import SourceSpec
else:
    SourceSpec = plugins.one_of(kind.spec for kind in REGISTRY.values())

__all__ = ["REGISTRY", "Context", "Reading", "Source", "SourceError", "SourceSpec"]
