"""A starting guarantee for an outcome that has none: which kind of indicator fits, from the
outcome's own words and the workspace's sources, as a draft a person finishes.

The rules are few and stated in the draft itself: a share, a duration or a count that some system
records is a query on a source the workspace has (SQL, a file, Prometheus, an HTTP endpoint); a
judgement (satisfaction, readiness, a milestone) that no system records is a check-in by the
outcome's owner. Placeholders are written in capitals, so nothing runs until they are replaced.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import yaml

from guarantor.guarantees.sources import REGISTRY
from guarantor.workspace.schema import Outcome, Workspace

_JUDGEMENT = re.compile(
    r"\b(satisf|happy|glad|trust|confiden|recommend|nps|csat|feel|rating|score|quality|ready|readiness|live|"
    r"launch|migrat|finish|complete|done|deliver(ed)? on|adopt)",
    re.I,
)
_SHARE = re.compile(r"%|\b(share|rate|ratio|percent|proportion|on time|on the promised|every|all)\b", re.I)
_DURATION = re.compile(r"\b(within|minutes?|hours?|days?|seconds?|ms|latency|fast|quick|wait|answer time|late)\b", re.I)
_UNITS = (("second", "s"), ("ms", "ms"), ("minute", "min"), ("hour", "min"), ("day", "days"))


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "query" or "manual"
    why: str
    yaml: str


def suggest(ws: Workspace, outcome_id: str) -> Suggestion:
    outcome = ws.outcome(outcome_id)
    words = " ".join(filter(None, (outcome.title, outcome.need, outcome.indicator, outcome.target)))
    queryable = [name for name, spec in ws.sources.items() if REGISTRY[spec.type].example is not None]
    measured = _SHARE.search(words) or _DURATION.search(words)
    if queryable and measured and not _JUDGEMENT.search(outcome.indicator or ""):
        return _query(outcome, words, queryable[0], ws)
    return _manual(outcome, words, bool(queryable))


def _draft(why: str, guarantee: dict[str, object]) -> str:
    text = "DRAFT from `guarantor outcome suggest-indicator`: replace every CAPITALISED placeholder, then "
    text += f"paste it under the outcome. {why}"
    header = "".join(f"# {line}\n" for line in textwrap.wrap(text, 98))
    return header + yaml.safe_dump({"guarantee": guarantee}, sort_keys=False, allow_unicode=True, width=100)


def _query(outcome: Outcome, words: str, source: str, ws: Workspace) -> Suggestion:
    spec = ws.sources[source]
    share = bool(_SHARE.search(words))
    unit = "%" if share else _duration_unit(words)
    threshold = _number(outcome.target or words) or ("95" if share else "60")
    comparator = ">=" if share else "<="
    example = REGISTRY[spec.type].example
    assert example is not None
    start = example(share)
    indicator: dict[str, object] = {
        "id": f"{outcome.id}-{'share' if share else 'time'}"[:64],
        "source": source,
        "query": start.pop("query"),
        "unit": unit,
        "target": f"{comparator} {threshold}",
        **start,
    }
    why = (
        f"Its words name a {'share' if share else 'duration'} that a system records, and the workspace has the "
        f"{spec.type} source {source!r}: a query measures it every hour."
    )
    guarantee: dict[str, object] = {"schedule": "1h", "window": "28d", "objective": "95%", "indicators": [indicator]}
    return Suggestion("query", why, _draft(why, guarantee))


def _manual(outcome: Outcome, words: str, has_sources: bool) -> Suggestion:
    share = bool(_SHARE.search(words))
    unit, target = ("%", f">= {_number(outcome.target or '') or '80'}") if share else ("/5", ">= 4")
    if re.search(r"\b(live|launch|migrat|finish|complete|done)", words, re.I):
        unit, target = "%", ">= 100"
    indicator: dict[str, object] = {"id": f"{outcome.id}-checkin"[:64], "type": "manual", "unit": unit}
    if outcome.owner:
        indicator["by"] = outcome.owner
    indicator["target"] = target
    why = (
        "No system records this: its owner checks in a value every week, with a note and a confidence "
        "(guarantor record, the outcome page or the API); a late check-in shows as NO_DATA."
    )
    if not has_sources:
        why += " The workspace has no source to query yet."
    return Suggestion("manual", why, _draft(why, {"schedule": "1w", "indicators": [indicator]}))


def _duration_unit(words: str) -> str:
    lowered = words.lower()
    return next((unit for word, unit in _UNITS if word in lowered), "min")


def _number(text: str) -> str | None:
    found = re.search(r"(\d+(?:\.\d+)?)", text)
    if found:
        return found[1]
    if re.search(r"\bthe hour\b", text, re.I):
        return "60"
    return None
