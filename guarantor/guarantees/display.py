"""Numbers for people: an indicator's value rounded to its precision, with its unit.

Exact values stay in the history and in JSON (``value``); every face and every message shows this
rounding (``display``). The precision is the indicator's own, or follows its unit: a percentage to
one decimal, a duration to one, a count to none, anything else to at most two (trailing zeros
dropped, so 30 stays 30 and 7.25 stays 7.25). Targets are compared on exact values.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DURATIONS = frozenset(
    {"s", "sec", "secs", "second", "seconds", "ms", "min", "mins", "minute", "minutes", "h", "hr", "hrs", "hour"}
    | {"hours", "d", "day", "days", "w", "week", "weeks", "month", "months"}
)
COUNTS = frozenset(
    {"count", "items", "item", "tickets", "orders", "users", "people", "rows", "errors", "incidents", "requests"}
    | {"events", "calls", "customers", "merchants", "points", "deploys", "deployments", "releases", "bugs"}
)


def precision_for(unit: str, precision: int | None = None) -> int | None:
    """Decimal places to show: the indicator's own, else by unit; None: at most two, zeros dropped."""
    if precision is not None:
        return precision
    name = unit.strip().lower()
    if name == "%" or name in DURATIONS:
        return 1
    if name in COUNTS:
        return 0
    return None


def number(value: Decimal | str | float | None, unit: str = "", precision: int | None = None) -> str:
    """``99.3%``, ``45.0 min``, ``1,204 orders``, ``7.25``; ``—`` for no value."""
    if value is None:
        return "—"
    try:
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not exact.is_finite():
        return str(exact)
    places = precision_for(unit, precision)
    rounded = exact.quantize(Decimal(1).scaleb(-(places if places is not None else 2)), rounding=ROUND_HALF_UP)
    text = f"{rounded:,f}"
    if places is None and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "-0.0") or (text.startswith("-0.") and not rounded):
        text = text[1:]
    return with_unit(text, unit)


def status_word(status: str | None) -> str:
    """How people read a status (``AT_RISK``: "at risk"); the code stays for machines and styles."""
    return (status or "no guarantee").replace("_", " ").lower()


def with_unit(text: str, unit: str) -> str:
    """``99.3%``, ``4.5/5``, ``45 min``: a unit that is a symbol sticks to its number."""
    unit = unit.strip()
    return text + unit if unit.startswith(("%", "/")) or not unit else f"{text} {unit}"


def ratio(value: float | None, places: int = 1) -> str:
    """A share (0.9927…) as a percentage for people: ``99.3%``."""
    return "—" if value is None else f"{100 * value:.{places}f}%"


def age(delta: timedelta) -> str:
    """How old something is, in the largest unit that keeps a whole number readable."""
    seconds = max(delta.total_seconds(), 0.0)
    for size, name in ((86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= 2 * size:
            count = round(seconds / size)
            return f"{count} {name}s"
    whole = round(seconds)
    return f"{whole} second" + ("" if whole == 1 else "s")


_IRREGULAR = {"person": "people"}


def count(n: float, noun: str, plural: str | None = None) -> str:
    """``1 person``, ``3 people``, ``1,204 tasks``, ``2.5 points``: a number people read as words."""
    many = (
        plural
        or _IRREGULAR.get(noun)
        or (noun[:-1] + "ies" if noun.endswith("y") and noun[-2:] != "ey" else noun + "s")
    )
    shown = f"{n:,}" if float(n).is_integer() else f"{n:,.1f}"
    return f"{shown} {noun if n == 1 else many}"
