"""Alert channels, one module each, registered by name (``type:`` under ``alerts:``).

To add one: a module here with a spec deriving from ``ChannelSpec`` (``type: Literal["name"]``) and
a function that delivers a ``Notice``, registered with ``@register("name", Spec)``; it raises
``DeliveryFailed`` when the notice was not taken. The modules are found here, and the workspace
schema's ``alerts`` derives from the registry (``CONTRIBUTING.md``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from guarantor.guarantees.channels.base import REGISTRY, DeliveryFailed, Notice

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

if TYPE_CHECKING:
    from guarantor.guarantees.channels.base import ChannelSpec as Channel
else:
    Channel = Annotated[Union[tuple(kind.spec for kind in REGISTRY.values())], Field(discriminator="type")]  # noqa: UP007


def send(channel: Channel, notice: Notice) -> None:
    """Deliver one notice on its channel; ``DeliveryFailed`` when it was not taken."""
    REGISTRY[channel.type].send(channel, notice)


__all__ = ["REGISTRY", "Channel", "DeliveryFailed", "Notice", "send"]
