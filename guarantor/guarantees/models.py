"""Measurements (append-only history) and claims (who is evaluating which scheduled slot).

A measurement is unique on (indicator, spec hash, scheduled time): a second runner's insert of
the same slot is ignored, so no slot is ever stored twice. A claim is taken before evaluating,
so two runners do not both evaluate one slot; a claim whose runner died is taken over.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guarantor.db.base import Base, UTCDateTime
from guarantor.db.scope import ScopedKey, ScopedRow


class Status(StrEnum):
    """Status of a measurement and of an outcome. Never a silent pass: no number is NO_DATA, a
    failing source is ERROR."""

    MET = "MET"
    AT_RISK = "AT_RISK"
    BROKEN = "BROKEN"
    NO_DATA = "NO_DATA"
    ERROR = "ERROR"


SEVERITY = {Status.MET: 0, Status.AT_RISK: 1, Status.NO_DATA: 2, Status.ERROR: 3, Status.BROKEN: 4}
"""How bad each status is: an outcome with several indicators takes the worst, a check exits with it."""
BY_SEVERITY = tuple(s.value for s in sorted(SEVERITY, key=SEVERITY.__getitem__))
"""Met first, broken last: the order the statuses are listed in, everywhere."""


class Measurement(ScopedRow, Base):
    __tablename__ = "measurements"
    __table_args__ = (
        UniqueConstraint("workspace_id", "indicator_id", "spec_hash", "scheduled_at", name="uq_measurements_slot"),
        Index("ix_measurements_indicator_time", "workspace_id", "indicator_id", "measured_at"),
        # Outcome states: the latest of a spec, and the budget's tallies from the index alone.
        Index("ix_measurements_spec_time", "workspace_id", "indicator_id", "spec_hash", "measured_at", "status"),
    )

    outcome_id: Mapped[str] = mapped_column(String(64))
    indicator_id: Mapped[str] = mapped_column(String(64))
    spec_hash: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[str | None] = mapped_column(String(60))  # the exact decimal, as text
    value_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unit: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(10))  # schedule | manual (check --all) | checkin
    duration_ms: Mapped[float] = mapped_column(Float)
    tool_version: Mapped[str] = mapped_column(String(20))
    author: Mapped[str | None] = mapped_column(String(64), default=None)  # who checked in
    note: Mapped[str | None] = mapped_column(Text, default=None)
    confidence: Mapped[str | None] = mapped_column(String(8), default=None)  # low | medium | high

    @property
    def observed_at(self) -> datetime:
        """When the value was true: a check-in's own time (`record --at` back-dates it), else when
        it was measured. Histories, charts and the API place a value here."""
        return self.scheduled_at if self.trigger == "checkin" else self.measured_at


class Claim(ScopedKey, Base):
    __tablename__ = "claims"

    indicator_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec_hash: Mapped[str] = mapped_column(String(16), primary_key=True)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutcomeStateRecord(ScopedKey, Base):
    """Each outcome's last status and since when: a change is an alerting episode."""

    __tablename__ = "outcome_states"

    outcome_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertRecord(ScopedRow, Base):
    """What was (or is to be) sent: unique per outcome, channel, event and episode."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "outcome_id", "channel", "event", "episode", name="uq_alerts_episode"),
    )

    outcome_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))
    episode: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)  # a runner sending it holds it until then
    error: Mapped[str | None] = mapped_column(Text)
