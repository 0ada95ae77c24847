"""The guarantee part of the workspace file: targets, windows, objectives, schedules, indicators.

Written to read like a sentence for someone who has never run an SLO (``target: ">= 99.5"``,
``window: 28d``, ``objective: 95%``, ``schedule: 15m``), and parsed into exact types: thresholds
are Decimals, so 0.1 + 0.2 never fails a target of 0.3.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints, field_validator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION_S = 10 * 366 * 86400
"""Ten years: longer than any window, schedule or timeout means a typo, and far past it a timedelta
overflows."""


def parse_duration(value: Any) -> timedelta:
    """'30s', '15m', '6h', '28d', '2w' (or a number of seconds), up to ten years."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", str(value)[:40])
        if not match:
            raise ValueError(f"{str(value)[:40]!r} is not a duration such as 30s, 15m, 6h, 28d or 2w")
        seconds = float(match[1]) * _UNITS[match[2]]
    if not 0 < seconds <= MAX_DURATION_S:
        raise ValueError(f"{str(value)[:40]!r} is not a duration between 1s and ten years")
    return timedelta(seconds=seconds)


def duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration, json_schema_input_type=str | float),
    PlainSerializer(duration_text, return_type=str),
]

_COMPARATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


def _decimal(text: Any) -> Decimal:
    try:
        value = Decimal(str(text).strip().rstrip("%").replace("_", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


class Target(Strict):
    """A comparator and threshold (``">= 99.5"``) or an inclusive range (``"between 1 and 5"``)."""

    comparator: Literal[">=", ">", "<=", "<", "==", "!=", "between"]
    threshold: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None

    def holds(self, value: Decimal) -> bool:
        if self.comparator == "between":
            assert self.low is not None and self.high is not None
            return self.low <= value <= self.high
        assert self.threshold is not None
        return _COMPARATORS[self.comparator](value, self.threshold)

    def lines(self) -> list[float]:
        """The thresholds a chart draws across an indicator's values."""
        bounds = (self.low, self.high) if self.comparator == "between" else (self.threshold,)
        return [float(b) for b in bounds if b is not None]

    def __str__(self) -> str:
        if self.comparator == "between":
            return f"between {self.low} and {self.high}"
        return f"{self.comparator} {self.threshold}"


def parse_target(value: Any) -> Target:
    if isinstance(value, Target):
        return value
    if isinstance(value, dict) and set(value) == {"between"}:
        bounds = value["between"]
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ValueError("between takes two numbers: {between: [low, high]}")
        low, high = _decimal(bounds[0]), _decimal(bounds[1])
    elif isinstance(value, str) and (m := re.fullmatch(r"\s*between\s+(\S+)\s+and\s+(\S+)\s*", value, re.I)):
        low, high = _decimal(m[1]), _decimal(m[2])
    else:
        m = re.fullmatch(r"\s*(>=|<=|==|!=|>|<|=)?\s*(\S+)\s*", str(value)) if not isinstance(value, dict) else None
        if not m or m[1] is None:
            raise ValueError(
                f"{value!r} is not a target: write a comparator (>=, >, <=, <, ==, !=) and a number, "
                "such as '>= 99.5', or 'between 1 and 5'"
            )
        return Target(comparator="==" if m[1] == "=" else m[1], threshold=_decimal(m[2]))
    if low > high:
        raise ValueError(f"between {low} and {high}: the low bound is above the high bound")
    return Target(comparator="between", low=low, high=high)


TargetSpec = Annotated[
    Target,
    BeforeValidator(parse_target, json_schema_input_type=str | dict[Literal["between"], list[float | str]]),
    PlainSerializer(str, return_type=str),
]


def parse_ratio(value: Any) -> Decimal:
    """'95%', '99.9%' or 0.95: a share of evaluations."""
    text = str(value).strip()
    ratio = _decimal(text) / 100 if text.endswith("%") else _decimal(text)
    if not 0 < ratio < 1:
        raise ValueError(f"{value!r} is not a share between 0% and 100% (exclusive)")
    return ratio


Ratio = Annotated[
    Decimal,
    BeforeValidator(parse_ratio, json_schema_input_type=str | float),
    PlainSerializer(lambda r: f"{r * 100:g}%", return_type=str),
]


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Paris") from None
    return name


Zone = Annotated[str, BeforeValidator(_zone)]


class CalendarWindow(Strict):
    calendar: Literal["day", "week", "month"]
    timezone: Zone = "UTC"


class RollingWindow(Strict):
    rolling: Duration


def parse_window(value: Any) -> Any:
    return {"rolling": value} if isinstance(value, str | int | float) else value


Window = Annotated[
    RollingWindow | CalendarWindow,
    BeforeValidator(parse_window, json_schema_input_type=str | RollingWindow | CalendarWindow),
]


class Schedule(Strict):
    every: Duration | None = None
    cron: str | None = None
    timezone: Zone = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            from croniter import croniter

            if not croniter.is_valid(value):
                raise ValueError(f"{value!r} is not a cron expression such as '*/15 * * * *'")
        return value

    def model_post_init(self, _context: Any) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of every (such as 15m) or cron")


def parse_schedule(value: Any) -> Any:
    return {"every": value} if isinstance(value, str | int | float) else value


ScheduleSpec = Annotated[Schedule, BeforeValidator(parse_schedule, json_schema_input_type=str | Schedule)]


class EnvRef(BaseModel):
    """A secret named by its environment variable: its value is read at run time, never stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


Secret = str | EnvRef


AlertEvent = Literal["breach", "at_risk", "no_data", "error", "recovery"]
DEFAULT_ALERT_EVENTS: tuple[AlertEvent, ...] = ("breach", "at_risk", "recovery", "no_data", "error")
"""At risk is in: a fast burn of the error budget (a burn-rate alert) shows as AT_RISK."""


class AlertPolicy(Strict):
    channels: list[Id] = Field(min_length=1, description="Names of channels under alerts:.")
    on: list[AlertEvent] = Field(default_factory=lambda: list(DEFAULT_ALERT_EVENTS))
    remind_before: Duration | None = Field(
        None,
        description="For indicators people check in: a reminder on the channels this long before a check-in "
        "is due (e.g. 1d), once per check-in due; `watch` and `check` send it.",
    )


MAX_QUERY_CHARS = 16 * 1024
"""An indicator's query, at most 16 KiB: a 900 KiB one, edited 24 times, grew a workspace file to
22 MB and its stored revisions to 276 MB."""

Reduce = Literal["sum", "avg", "min", "max", "count", "first", "last"]


class Indicator(Strict):
    id: Id = Field(description="Explicit and unique: history is kept under it.")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        None,
        description="What people read, in reports and on pages. Default: the outcome's indicator: "
        "when it is the only one, else the id in words.",
    )
    type: Literal["source", "manual"] = Field(
        "source",
        description="source: measured by a query on a source; manual: people check in the value (guarantor "
        "record, the outcome page, the API), expected at each slot of the guarantee's schedule.",
    )
    source: Id | None = Field(None, description="The name of a source under sources: (not for manual).")
    query: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description="SQL (sql, file), a PromQL expression (prometheus), a URL path (http) or a command line.",
    )
    jsonpath: str | None = Field(None, description="http: where the number is in the JSON document.")
    jmespath: str | None = Field(None, description="http: a JMESPath expression instead of jsonpath.")
    time_path: str | None = Field(
        None, description="http: where the value's time is in the document (JSONPath or JMESPath, as the value)."
    )
    reduce: Reduce | None = Field(
        None,
        description="How several rows (or selected values, or series) become one value; without it, more than "
        "one is an ERROR.",
    )
    fresh_within: Duration | None = Field(
        None,
        description="The value's own time (a second column, time_path, Prometheus' sample time, a file's "
        "modification time) must be this recent, or the indicator is NO_DATA. Without a target, the indicator "
        "is the data's age: BROKEN when older.",
    )
    unit: str = Field("", max_length=32)
    precision: int | None = Field(
        None, ge=0, le=10, description="Decimal places shown to people (exact values are kept); default by unit."
    )
    target: TargetSpec | None = Field(None, description="Required, except for a freshness-only indicator.")
    warn: TargetSpec | None = Field(None, description="Met, but at risk, when this does not hold.")
    timeout: Duration | None = Field(None, description="Overrides the source's timeout.")
    system: Id | None = Field(None, description="The system (under systems:) through which the outcome is delivered.")
    by: Id | None = Field(None, description="manual: who is expected to check in (default: the outcome's owner).")

    @property
    def manual(self) -> bool:
        return self.type == "manual"

    @property
    def source_name(self) -> str:
        """The source a source indicator reads ("" for a manual one; the loader checks both)."""
        return self.source or ""

    @property
    def query_text(self) -> str:
        return self.query or ""

    @property
    def freshness_only(self) -> bool:
        return self.target is None and self.fresh_within is not None

    @property
    def goal(self) -> Target:
        """The target; a freshness-only indicator's is its age in seconds, at most fresh_within."""
        if self.target is not None:
            return self.target
        assert self.fresh_within is not None, "the loader requires a target or fresh_within"
        return Target(comparator="<=", threshold=Decimal(int(self.fresh_within.total_seconds())))

    @property
    def shown_unit(self) -> str:
        return "s" if self.freshness_only and not self.unit else self.unit

    def spec_hash(self, source: BaseModel | None) -> str:
        """What determines the measured value; target, warn, freshness and precision are left out,
        so tightening a target keeps the same history (each measurement stores the status it had
        under its own target). Keys are added only when set, so older series keep their hash."""
        if self.manual or source is None:
            what: dict[str, Any] = {"type": "manual", "unit": self.unit}
        else:
            what = {
                "source": source.model_dump(mode="json"),
                "query": self.query,
                "jsonpath": self.jsonpath,
                "jmespath": self.jmespath,
                "unit": self.unit,
            }
            what.update({k: v for k, v in (("reduce", self.reduce), ("time_path", self.time_path)) if v})
            if self.freshness_only:
                what["freshness_only"] = True
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


class Guarantee(Strict):
    indicators: list[Indicator] = Field(min_length=1)
    schedule: ScheduleSpec = Field(default_factory=lambda: Schedule(every=timedelta(hours=1)))
    window: Window = Field(default_factory=lambda: RollingWindow(rolling=timedelta(days=28)))
    objective: Ratio | None = Field(None, description="Share of evaluations in the window that must be met.")
    alert: AlertPolicy | None = Field(None, description="Who is told when the status changes.")
