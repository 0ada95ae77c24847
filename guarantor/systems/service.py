"""Retirement readiness: a system may go only when every outcome it serves is guaranteed through
another system, and that guarantee is met. Reads the workspace and the guarantees' latest states."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from guarantor.guarantees import display
from guarantor.guarantees.service import OutcomeState
from guarantor.workspace import repository as workspaces
from guarantor.workspace.schema import System, Workspace


@dataclass
class Readiness:
    id: str
    name: str
    does: str
    for_whom: str
    users: int | None
    owner: str | None
    replacement: str | None
    serves: list[str]
    ready: bool
    blocking: dict[str, str] = field(default_factory=dict)  # outcome -> why it blocks


def recorded(session: Session, ws: Workspace, states: Sequence[OutcomeState]) -> list[Readiness]:
    """Readiness, with how many systems are not ready kept for the organisation view."""
    rows = readiness(ws, states)
    workspaces.save_systems_blocked(session, sum(not r.ready for r in rows))
    return rows


def readiness(ws: Workspace, states: Sequence[OutcomeState]) -> list[Readiness]:
    by_outcome = {s.id: s for s in states}
    guarantees = {o.id: o.guarantee for o in ws.outcomes}
    out = []
    for system in ws.systems:
        blocking = {
            oid: why for oid in system.serves if (why := _blocks(system, oid, guarantees.get(oid), by_outcome.get(oid)))
        }
        out.append(
            Readiness(
                system.id,
                system.name,
                system.does,
                system.for_whom,
                system.users,
                system.owner,
                system.replacement,
                list(system.serves),
                not blocking,
                blocking,
            )
        )
    return out


def _blocks(system: System, outcome: str, guarantee: object, state: OutcomeState | None) -> str | None:
    if guarantee is None or state is None:
        return "no guarantee measures it"
    others = [i for i in state.indicators if _system_of(guarantee, i.id) not in (None, system.id)]
    if not others:
        return (
            f"it is measured only through {system.name}, or through no named system: measure it through the replacement"
        )
    met = [i for i in others if i.latest is not None and i.latest.status == "MET"]
    if not met:
        latest = ", ".join(
            f"{i.name}: {display.status_word(i.latest.status) if i.latest else 'never measured'}" for i in others
        )
        return f"its guarantee through another system is not met ({latest})"
    return None


def _system_of(guarantee: object, indicator: str) -> str | None:
    for ind in getattr(guarantee, "indicators", []):
        if ind.id == indicator:
            return ind.system  # type: ignore[no-any-return]
    return None
