"""The colours of the report and the web pages: one meaning, one colour, everywhere.

Exposure and status share the traffic-light hues (not exposed / met is green, exposed / at risk is
amber, exposed with tools / broken is red), automation is a scale of violets so it is never read as
exposure, and hours freed by AI are blue against the grey of the hours a person keeps. The report
draws its SVG and writes its CSS from this; the pages hand it to app.js as data.
"""

from __future__ import annotations

COLORS: dict[str, str] = {
    "E0": "#16a34a",
    "E1": "#f59e0b",
    "E2": "#dc2626",
    "MET": "#16a34a",
    "AT_RISK": "#f59e0b",
    "BROKEN": "#dc2626",
    "ERROR": "#9f1239",
    "NO_DATA": "#a855f7",
    "UNGUARANTEED": "#9ca3af",
    "T0": "#ede9fe",
    "T1": "#c4b5fd",
    "T2": "#8b5cf6",
    "T3": "#6d28d9",
    "T4": "#4c1d95",
    "freed": "#2563eb",
    "kept": "#d1d5db",
    "human-led": "#16a34a",
    "exposed": "#f59e0b",
    "items": "#2563eb",
    "orphan": "#9ca3af",
}
SERIES = ["#2563eb", "#0891b2", "#db2777", "#7c3aed", "#65a30d", "#ea580c", "#475569", "#ca8a04"]
"""For series that are not one of the meanings above (outcomes in a stacked chart)."""
OTHER = "#6b7280"


def color(label: str) -> str:
    """A label's colour by its meaning: the label itself, or its first word ("E1 LLM alone")."""
    return COLORS.get(label) or COLORS.get(label.split(" ")[0]) or OTHER
