"""Turn what a source returned into a status and a reason a person can read."""

from __future__ import annotations

from guarantor.guarantees.models import Status
from guarantor.guarantees.sources.base import Reading
from guarantor.guarantees.spec import Indicator


def judge(indicator: Indicator, reading: Reading) -> tuple[Status, str]:
    unit = f" {indicator.unit}" if indicator.unit else ""
    if reading.value is None:
        return Status.NO_DATA, reading.no_data or "no value"
    value = reading.value
    if not indicator.target.holds(value):
        return Status.BROKEN, f"{value}{unit} misses the target {indicator.target}{unit}"
    if indicator.warn is not None and not indicator.warn.holds(value):
        return (
            Status.AT_RISK,
            f"{value}{unit} meets {indicator.target}{unit} but not the warning level {indicator.warn}",
        )
    return Status.MET, f"{value}{unit} meets {indicator.target}{unit}"
