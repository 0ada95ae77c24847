"""Request bodies of the JSON API. Workspace fields keep the workspace file's names and rules:
the edited workspace is validated as a whole by the same loader as the file."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from guarantor.analysis.schemas import (
    Allocation,
    OutcomeResult,
    PersonResult,
    TaskResult,
    ValuePlan,
)
from guarantor.guarantees.schemas import MeasurementOut, ProgressOut, SeriesOut, StateOut, StatusName
from guarantor.guarantees.spec import Guarantee
from guarantor.work.service import Balance, Orphan, Unlinked
from guarantor.workspace.schema import Id, OutcomeFields, Text, ValueProposition


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OutcomeCreate(Body):
    id: Id
    title: Text
    for_whom: Text
    need: Text | None = None
    indicator: Text | None = None
    target: Text | None = None
    owner: Id | None = None
    guarantee: dict[str, JsonValue] | None = Field(
        None,
        description="As under outcome.guarantee in guarantor.yaml (its JSON Schema: `guarantor schema`); "
        "checked with the whole edited workspace, so a problem names its place in the file.",
    )


class OutcomeUpdate(Body):
    """Only the fields sent change; a field sent as null is removed."""

    title: Text | None = None
    for_whom: Text | None = None
    need: Text | None = None
    indicator: Text | None = None
    target: Text | None = None
    owner: Id | None = None
    guarantee: dict[str, JsonValue] | None = None


class TaskCreate(Body):
    id: Id | None = None
    text: Text
    hours_week: float | None = Field(None, ge=0, le=168)
    owner: Id | None = None
    serves: list[Id] = Field(default_factory=list)


class TaskUpdate(Body):
    text: Text | None = None
    hours_week: float | None = Field(None, ge=0, le=168)
    owner: Id | None = None
    serves: list[Id] | None = None


class PersonUpdate(Body):
    value_proposition: ValueProposition | None = Field(
        None, description="The three answers; an answer left empty is removed, and so are all three when none is left."
    )


class LinkDecision(Body):
    item: str = Field(
        description="SOURCE:ID of an imported work item, such as jira:PAY-12.", pattern=r"^[a-z]+:\S.*$", max_length=220
    )
    outcome: Id
    decision: Literal["accepted", "rejected"]


class CheckIn(Body):
    """A value observed by a person, for a manual indicator (type: manual)."""

    indicator: Id | None = Field(None, description="The manual indicator; absent: the outcome's only one.")
    value: str | float = Field(description="The number observed (an exact decimal as text, or a number).")
    note: Text | None = None
    confidence: Literal["low", "medium", "high"] | None = None
    at: datetime | None = Field(None, description="When it was true (default: now); not in the future.")


class CheckRequest(Body):
    outcome: Id | None = Field(None, description="Only this outcome; absent: every due indicator.")


class Edited(BaseModel):
    revision: int = Field(description="The workspace revision the edit created.")


# -- responses -------------------------------------------------------------------------------------
# What the pages and the API show that no domain has as such: views put together from several
# domains' answers (their own types: the analysis, guarantee states, the work balance). Typed, so
# the OpenAPI document says what each route answers.


class Me(BaseModel):
    username: str
    role: Literal["viewer", "editor", "admin"] = Field(description="The caller's role in this workspace.")
    workspace: str = Field(description="The workspace's key.")


class WorkspaceEntry(BaseModel):
    key: str
    name: str
    role: Literal["viewer", "editor", "admin"]


class Revision(BaseModel):
    id: int
    created_at: str
    origin: Literal["file", "web", "api"]
    author: str | None


class AnalysedNow(BaseModel):
    id: int
    created_at: str
    hours_week: float
    hours_freed: float


class PersonHours(BaseModel):
    id: str
    name: str
    hours_week: float
    hours_freed: float


class Attention(BaseModel):
    """Something on the overview to look at now: an outcome not met, one no work serves, one with no
    indicator or target."""

    kind: Literal["outcome", "unserved", "undefined"]
    id: str
    title: str
    status: StatusName | None
    reason: str | None


class OrphanWork(BaseModel):
    items: int = Field(description="Work items serving no outcome.")
    of: int = Field(description="All work items.")
    largest: list[Orphan]


class CheckinDue(BaseModel):
    person: str | None
    name: str
    outcome: str
    title: str
    indicator: str
    indicator_name: str
    due: str
    overdue: bool
    last: str | None = Field(description="When the last check-in was true.")


class Overview(BaseModel):
    workspace: str
    revision: int
    problems: list[str] = Field(description="Why a newer workspace file on disk was not taken.")
    checkins_due: list[CheckinDue]
    hours_week: float
    hours_freed: float
    people: list[PersonHours]
    outcomes_by_status: dict[str, int] = Field(description="Statuses, and UNGUARANTEED for outcomes without one.")
    attention: list[Attention]
    orphan_work: OrphanWork | None = Field(description="Null until work items are imported.")
    orphan_tasks: int


class OutcomeRow(OutcomeFields):
    status: StatusName | None
    reason: str | None
    guaranteed: bool
    served_by_tasks: list[str]
    hours_week: float


class WorkServing(BaseModel):
    items: int
    points: float


class ClosedItem(BaseModel):
    closed_at: str
    item: str


class OutcomeDetail(BaseModel):
    outcome: OutcomeFields
    guarantee: Guarantee | None
    state: StateOut | None
    series: list[SeriesOut] = Field(description="At most about 400 points each; the full series is under /history.")
    checkins: list[MeasurementOut] = Field(
        description="The check-ins of its people-checked indicators in the window, newest first: who, when it "
        "was true, the value, how sure they were and their note."
    )
    progress: list[ProgressOut] = Field(description="Each people-checked indicator's way toward its target.")
    tasks: list[TaskResult]
    work: WorkServing
    work_closed: list[ClosedItem]
    systems: list[str] = Field(description="Ids of the systems that serve it.")
    source_types: dict[str, str]
    revision: int


class PersonTasks(PersonResult):
    tasks: list[TaskResult]


class Plan(BaseModel):
    plan: ValuePlan
    notes: list[str]


class AllocationTo(Allocation):
    title: str | None = Field(description="The outcome's title.")


class PersonDetail(PersonTasks):
    freed_hours_go_to: list[AllocationTo]
    skills: list[str]
    titles: dict[str, str] = Field(description="Outcome titles by id.")
    outcomes: list[OutcomeResult] = Field(description="The outcomes this person owns.")


class OccupationRef(BaseModel):
    code: str
    title: str


class OccupationRow(OccupationRef):
    tasks: int
    exposure_beta: float | None = Field(description="Human-labelled exposure (E1 + E2/2), where labelled.")
    observed_applicability: float | None


class Family(BaseModel):
    code: str
    title: str
    occupations: int
    exposure_beta: float | None
    observed_applicability: float | None


class FamilyDetail(BaseModel):
    code: str
    title: str
    occupations: list[OccupationRow]


class Work(BaseModel):
    balance: Balance | None = Field(description="Null until work items are imported.")
    suggestions: list[Unlinked]
    titles: dict[str, str] = Field(description="Outcome titles by id.")
