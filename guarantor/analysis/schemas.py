"""The organisation view as the CLI's JSON and the API answer it: one shape, typed in the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class OrgTeam(BaseModel):
    """One team's figures (or, as ``total``, all of them added up); null where nothing was measured.

    Read from ``analysis.org.Team`` by attribute: where the accumulator's name is shorter than the
    one the JSON has always used, the field names it as its ``validation_alias``."""

    model_config = ConfigDict(from_attributes=True)

    key: str
    name: str
    hours_week: float | None = Field(description="Of the team's people, from its latest saved analysis.")
    hours_freed: float | None = Field(description="Hours a week AI frees, from the same analysis.")
    analysed_at: datetime | None
    outcomes: int
    guaranteed: int = Field(description="Outcomes with a guarantee.")
    aspirational: int = Field(description="Outcomes without one: only an intention.")
    outcomes_by_status: dict[str, int] = Field(validation_alias="by_status")
    work_items: int
    work_items_by_exposure: dict[str, int] = Field(validation_alias="exposure")
    orphan_items: int | None = Field(description="Items serving no outcome, at the team's last balance.")
    orphan_share: float | None
    orphans_counted_at: datetime | None = Field(validation_alias="balanced_at")
    orphans_stale: bool = Field(description="Items were imported after the orphans were counted.")
    systems: int
    systems_blocking_retirement: int | None = Field(
        validation_alias="systems_blocked", description="At the team's last full check."
    )


class Org(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    teams: list[OrgTeam]
    total: OrgTeam
