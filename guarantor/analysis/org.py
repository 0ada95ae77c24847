"""The organisation view: where AI frees time and which outcomes are guaranteed, team by team.

It reads one row per team and per figure, never a team's items: outcome states and each team's
latest analysis are grouped in the database over every workspace at once, and what changes only
when its source changes is a fact kept on the workspace by whoever changed it, with its time, so
it answers in milliseconds at fifty teams of a hundred thousand work items (``bench/org_view.py``):

* work items per AI exposure: counted by the database after each import, sync or classification;
* outcomes and guarantees: counted from the workspace file whenever it is read;
* orphan work: from the team's last ``balance`` (work page, `guarantor balance`, `analyze`), since
  which outcome an item serves follows the file's label, epic and component maps; flagged stale
  when items were imported after it;
* systems blocking retirement: from the last full check or analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from guarantor.analysis import repository as analyses
from guarantor.analysis.schemas import Org
from guarantor.db import scope
from guarantor.guarantees import repository as measurements
from guarantor.guarantees.models import BY_SEVERITY
from guarantor.tasks.catalogue import EXPOSURE_LEVELS
from guarantor.workspace import repository as workspaces

STATUSES = BY_SEVERITY
EXPOSURES = (*EXPOSURE_LEVELS, "unknown")
KEPT = ("name", "outcomes", "guaranteed", "orphan_items", "balanced_at", "systems", "systems_blocked")
"""The figures a team's workspace row keeps under the same name as ``Team``'s."""


@dataclass
class Team:
    key: str
    name: str
    hours_week: float | None = None  # of the team's people, from its latest analysis
    hours_freed: float | None = None  # a week, by AI, from the same analysis
    analysed_at: datetime | None = None
    outcomes: int = 0
    guaranteed: int = 0  # outcomes with a guarantee; the others are aspirational
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    work_items: int = 0
    exposure: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXPOSURES, 0))  # work items by AI exposure
    orphan_items: int | None = None  # serving no outcome, at the last balance
    balanced_items: int | None = None  # the items that balance counted
    balanced_at: datetime | None = None
    orphans_stale: bool = False  # items were imported after the last balance
    systems: int = 0
    systems_blocked: int | None = None

    @property
    def aspirational(self) -> int:
        return self.outcomes - self.guaranteed

    @property
    def orphan_share(self) -> float | None:
        if self.orphan_items is None or not self.balanced_items:
            return None
        return self.orphan_items / self.balanced_items


@dataclass
class OrgView:
    teams: list[Team]
    total: Team
    at: datetime


def view(session: Session, ids: Sequence[int], now: datetime) -> OrgView:
    """The teams with these workspace ids, and their total."""
    scope.everywhere(session)
    records = workspaces.records(session, ids)
    teams = {
        r.id: Team(
            key=r.key or str(r.id),
            balanced_items=r.work_items,
            **{kept: getattr(r, kept) for kept in KEPT},
        )
        for r in records
    }
    wanted = list(teams)
    for wid, week, freed, at in analyses.latest_of(session, wanted):
        teams[wid].hours_week, teams[wid].hours_freed, teams[wid].analysed_at = week, freed, at
    for wid, status, count in measurements.states_by_status(session, wanted):
        teams[wid].by_status[status] = teams[wid].by_status.get(status, 0) + count
    for r in records:
        team = teams[r.id]
        for exposure, count in (r.items_by_exposure or {}).items():
            team.exposure[exposure if exposure in EXPOSURES else "unknown"] += count
            team.work_items += count
        newest = r.last_import_at
        team.orphans_stale = newest is not None and (team.balanced_at is None or newest > team.balanced_at)
    ordered = sorted(teams.values(), key=lambda t: (t.name.lower(), t.key))
    return OrgView(ordered, _total(ordered), now)


def _total(teams: Sequence[Team]) -> Team:
    total = Team(key="", name="All teams")
    analysed = [t for t in teams if t.hours_week is not None]
    if analysed:
        total.hours_week = sum(t.hours_week or 0.0 for t in analysed)
        total.hours_freed = sum(t.hours_freed or 0.0 for t in analysed)
    balanced = [t for t in teams if t.orphan_items is not None]
    if balanced:
        total.orphan_items = sum(t.orphan_items or 0 for t in balanced)
        total.balanced_items = sum(t.balanced_items or 0 for t in balanced)
    blocked = [t.systems_blocked for t in teams if t.systems_blocked is not None]
    total.systems_blocked = sum(blocked) if blocked else None
    total.orphans_stale = any(t.orphans_stale for t in teams)
    for t in teams:
        total.outcomes += t.outcomes
        total.guaranteed += t.guaranteed
        total.work_items += t.work_items
        total.systems += t.systems
        for k, v in t.by_status.items():
            total.by_status[k] = total.by_status.get(k, 0) + v
        for k, v in t.exposure.items():
            total.exposure[k] += v
    return total


def as_schema(org: OrgView) -> Org:
    """For JSON: each team's figures, with the shares computed, and the total."""
    return Org.model_validate(org, from_attributes=True)
