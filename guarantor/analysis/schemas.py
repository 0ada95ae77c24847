"""What the analysis domain hands the faces: the analysis (saved as JSON, rendered by the report and
the pages, answered by the API) and the organisation view. One shape each, typed in the OpenAPI
document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from guarantor.guarantees.schemas import GuaranteeFacts
from guarantor.systems.service import Readiness
from guarantor.tasks.observed import OccupationUse
from guarantor.tasks.service import TaskAssessment
from guarantor.work.service import Balance


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


def week(hours_week: float | None, hours_freed: float | None) -> list[tuple[str, float]]:
    """A week split into what AI frees and what is kept, as every chart of hours shows it; kept is
    never below zero (tasks can add up to more than the week, which the analysis notes)."""
    freed = hours_freed or 0.0
    return [("freed by AI", freed), ("kept", max((hours_week or 0.0) - freed, 0.0))]


# -- the analysis: what `analyze` computes, saves as JSON, and the report and the pages render ------


class Result(BaseModel):
    """Strict about what it is given (an unknown field is a bug), lenient about what it misses, so an
    analysis saved by an earlier version still reads."""

    model_config = ConfigDict(extra="ignore")


class TaskResult(Result):
    id: str
    owner: str | None
    serves: list[str]
    source: str = Field(description='"workspace" or "O*NET <code>".')
    assessment: TaskAssessment


class PersonResult(Result):
    id: str
    name: str
    role: str
    occupation: str | None = Field(description='"<code> <title>" when the role is an O*NET occupation.')
    hours_week: float
    hours_freed: float
    hours_exposed: float
    previous_hours_freed: float | None = None
    value_proposition: dict[str, str | None] | None = None
    observed: OccupationUse | None = Field(None, description="The occupation's observed AI applicability and rank.")

    @property
    def occupation_title(self) -> str | None:
        """The O*NET occupation by its title: what people read (the code is for machines)."""
        return self.occupation.split(" ", 1)[-1] if self.occupation else None


class OutcomeResult(Result):
    id: str
    title: str
    for_whom: str
    need: str | None
    indicator: str | None
    target: str | None
    owner: str | None
    served_by: list[str]
    hours_week: float
    hours_human_led: float
    guarantee: GuaranteeFacts | None = Field(None, description="Its state, budget and charts, when guaranteed.")


class Allocation(Result):
    person: str
    outcome: str | None
    hours: float
    through: list[str]
    why: str


class ValuePlan(Result):
    outcomes_that_matter: list[str] = []
    ai_takes_over: list[str] = []
    freed_hours_go_to: list[Allocation] = []
    skills: list[str] = []


class TaskChange(Result):
    text: str
    before: str = Field(description="The exposure level then.")
    after: str = Field(description="And now.")


class RoleShift(Result):
    """The role between two analyses: tasks added, removed and reassessed, hours freed then and now."""

    since: str
    hours_freed_then: float
    hours_freed_now: float
    added: list[str]
    removed: list[str]
    changed: list[TaskChange]


class ModelInfo(Result):
    """The exposure model an analysis used, and the workspace file it read, by hash."""

    version: str | None = None
    data_hash: str | None = None
    metrics: dict[str, JsonValue] | None = None
    workspace_hash: str = ""


class Analysis(Result):
    workspace: str
    path: str
    created_at: str
    model: ModelInfo
    hours_week: float
    hours_freed: float
    people: list[PersonResult]
    tasks: list[TaskResult]
    outcomes: list[OutcomeResult]
    orphan_tasks: list[str]
    unserved_outcomes: list[str]
    outcomes_without_indicator: list[str]
    plan: ValuePlan = ValuePlan()
    notes: list[str] = []
    shift: RoleShift | None = Field(None, description="What changed since the previous analysis.")
    work: Balance | None = Field(None, description="The investment balance, from the work domain.")
    systems: list[Readiness] | None = Field(None, description="Legacy systems and their retirement readiness.")


class SavedAnalysis(BaseModel):
    """A saved analysis as listed: when, the hours, and each person's hours freed."""

    id: int
    created_at: str
    workspace: str = Field(description="The workspace's name when it was analysed.")
    hours_week: float
    hours_freed: float
    model: str
    people: dict[str, float] = Field(description="Hours freed a week, per person id.")
