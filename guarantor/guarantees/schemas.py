"""Guarantee states and measurements as they leave the domain: `check --json`, `history --json`,
the API, and what a saved analysis keeps. Exact values for machines (``value``: a decimal as text),
rounded ones for people (``display``), times as ISO 8601 in UTC."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

StatusName = Literal["MET", "AT_RISK", "BROKEN", "NO_DATA", "ERROR"]


class MeasurementOut(BaseModel):
    """A measurement: ``value`` exact (a decimal as text) for machines, ``display`` rounded for people."""

    indicator: str
    value: str | None
    display: str
    unit: str
    status: StatusName
    reason: str
    target: str
    measured_at: str = Field(description="When Guarantor took or recorded the value.")
    scheduled_at: str = Field(description="The slot measured; for a check-in, the time it is for (--at).")
    observed_at: str = Field(
        description="Where the value belongs in time: a check-in's own time, else when it was measured. "
        "History and charts place it here."
    )
    value_at: str | None = Field(description="When the value was true, where the source says.")
    source: str
    spec_hash: str = Field(description="Of the indicator as measured: a changed query starts a new history.")
    duration_ms: float
    trigger: str = Field(description="schedule, manual (check --all) or checkin.")
    author: str | None = Field(description="Who checked in.")
    note: str | None
    confidence: Literal["low", "medium", "high"] | None


class IndicatorOut(BaseModel):
    id: str
    name: str = Field(description="What people read; the id is the handle for files and commands.")
    target: str
    unit: str
    manual: bool = Field(description="Measured by a person's check-in.")
    latest: MeasurementOut | None


class BudgetDisplay(BaseModel):
    objective: str
    achieved: str
    spent: str


class BudgetOut(BaseModel):
    """The error budget over the guarantee's window (OpenSLO's objective and budget)."""

    objective: float = Field(description="The share of evaluations that must be good.")
    since: str = Field(description="Where the window starts.")
    good: int
    bad: int
    unknown: int = Field(description="Evaluations with no data or an error: neither good nor bad.")
    achieved: float | None
    spent: float | None = Field(description="Share of the budget used; above 1: exhausted.")
    exhausted_at: str | None = Field(description="At the current rate of bad evaluations.")
    burn_alerts: list[str]
    display: BudgetDisplay


class StateOut(BaseModel):
    """An outcome's guarantee now: its status with the reason, each indicator's latest measurement
    and the error budget."""

    outcome: str
    title: str
    status: StatusName
    reason: str
    indicators: list[IndicatorOut]
    budget: BudgetOut | None


class SeriesOut(BaseModel):
    """One indicator's values in the window, oldest first, for a chart: [observed_at, value] pairs."""

    indicator: str
    name: str = ""  # empty in analyses saved before indicators had names
    unit: str
    target: str
    points: list[tuple[str, float]]
    precision: int | None = Field(description="Decimal places to show; null: at most two, zeros dropped.")


class ProgressOut(BaseModel):
    """How far a people-checked indicator moved toward its target over the window (as OKR tools
    show a key result): from the first check-in in the window to the latest."""

    indicator: str
    start: str = Field(description="The first check-in's value in the window, rounded for people.")
    current: str = Field(description="The latest check-in's value, rounded for people.")
    target: str
    share: float = Field(description="(latest - first) / (target - first), between 0 and 1; 1 once the target holds.")
    since: str = Field(description="When the first check-in was true.")


class GuaranteeFacts(StateOut):
    """What an analysis keeps of a guaranteed outcome: its state and the chart of each indicator."""

    series: list[SeriesOut]


class CheckOut(BaseModel):
    """What a check did: how many indicators were due, measured here, or left (already measured, or
    being measured by another runner), and every outcome's state after it."""

    planned: int
    evaluated: int
    skipped: int
    outcomes: list[StateOut]
