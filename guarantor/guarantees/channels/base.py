"""What every alert channel is: a spec (``type:`` under ``alerts:`` in the workspace file) and a way
to deliver a notice, registered by name with ``register``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from guarantor.errors import NetworkError
from guarantor.guarantees.spec import Duration


class ChannelSpec(BaseModel):
    """Strict (an unknown field is an error at its line) and frozen; ``type`` names the kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str
    timeout: Duration = Field(timedelta(seconds=10), description="How long one delivery may take.")


class Notice(BaseModel):
    """What an alert says: an outcome's status changed, since when, and why."""

    workspace: str
    outcome: str
    title: str
    event: str
    status: str
    reason: str
    since: datetime

    def text(self) -> str:
        mark = {"breach": "🔴", "at_risk": "🟠", "no_data": "⚪", "error": "🟣", "recovery": "🟢", "checkin_due": "⏰"}[
            self.event
        ]
        since = f"{self.since:%Y-%m-%d %H:%M} UTC"
        return f"{mark} {self.title}: {self.status} — {self.reason} ({self.workspace}, since {since})"


class DeliveryFailed(NetworkError):
    """The channel did not take the notice (refused, timed out, answered an error); it is retried
    at the next run."""


Send = Callable[[Any, Notice], None]


@dataclass(frozen=True)
class Kind:
    """A channel type: its spec model and how it delivers (raising ``DeliveryFailed``)."""

    spec: type[ChannelSpec]
    send: Send


REGISTRY: dict[str, Kind] = {}


def register(name: str, spec: type[ChannelSpec]) -> Callable[[Send], Send]:
    def decorate(send: Send) -> Send:
        REGISTRY[name] = Kind(spec, send)
        return send

    return decorate
