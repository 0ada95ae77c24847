"""The one injectable clock: every timestamp the product stores comes from here, in UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]

MIN_YEAR, MAX_YEAR = 1900, 2200
"""Dates outside these years are typos (or 9999-12-31 placeholders) and would overflow date arithmetic."""


def utcnow() -> datetime:
    return datetime.now(UTC)
