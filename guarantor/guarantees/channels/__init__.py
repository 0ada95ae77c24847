"""Alert channels, one module each, registered by name (``type:`` under ``alerts:``).

To add one: a module here with a spec deriving from ``ChannelSpec`` (``type: Literal["name"]``) and
a function that delivers a ``Notice``, registered with ``@register("name", Spec)``; it raises
``DeliveryFailed`` when the notice was not taken. The modules are found here, and the workspace
schema's ``alerts`` derives from the registry (``CONTRIBUTING.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guarantor import plugins
from guarantor.guarantees.channels.base import REGISTRY, DeliveryFailed, Notice

plugins.load(__name__, __path__)

if TYPE_CHECKING:
    from guarantor.guarantees.channels.base import ChannelSpec as Channel
else:
    Channel = plugins.one_of(kind.spec for kind in REGISTRY.values())


def send(channel: Channel, notice: Notice) -> None:
    """Deliver one notice on its channel; ``DeliveryFailed`` when it was not taken."""
    REGISTRY[channel.type].send(channel, notice)


__all__ = ["REGISTRY", "Channel", "DeliveryFailed", "Notice", "send"]
