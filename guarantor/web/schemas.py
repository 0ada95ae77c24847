"""Request bodies of the JSON API. Workspace fields keep the workspace file's names and rules:
the edited workspace is validated as a whole by the same loader as the file."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from guarantor.workspace.schema import Id, Text


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
    guarantee: dict[str, Any] | None = Field(None, description="As under outcome.guarantee in guarantor.yaml.")


class OutcomeUpdate(Body):
    """Only the fields sent change; a field sent as null is removed."""

    title: Text | None = None
    for_whom: Text | None = None
    need: Text | None = None
    indicator: Text | None = None
    target: Text | None = None
    owner: Id | None = None
    guarantee: dict[str, Any] | None = None


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
# Typed here so the OpenAPI document says what each route answers; the rest of the routes follow
# (issue 15).


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


class SavedAnalysis(BaseModel):
    id: int
    created_at: str
    hours_week: float
    hours_freed: float
    model: str
    people: dict[str, float] = Field(description="Hours freed a week, per person id.")


class AnalysedNow(BaseModel):
    id: int
    created_at: str
    hours_week: float
    hours_freed: float


class MeasurementOut(BaseModel):
    """A measurement: ``value`` exact (a decimal as text) for machines, ``display`` rounded for people."""

    indicator: str
    value: str | None
    display: str
    unit: str
    status: Literal["MET", "AT_RISK", "BROKEN", "NO_DATA", "ERROR"]
    reason: str
    target: str
    measured_at: str
    scheduled_at: str
    value_at: str | None
    source: str
    spec_hash: str
    duration_ms: float
    trigger: str
    author: str | None
    note: str | None
    confidence: Literal["low", "medium", "high"] | None
