"""Plan which indicators are due, evaluate them concurrently, and derive each outcome's status.

Pure logic over a workspace and measurements: nothing here commits. ``runner`` drives the
transactions (claim, record) that make a run safe to kill and to run twice at once.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy.orm import Session

from guarantor import __version__
from guarantor.clock import MAX_YEAR, MIN_YEAR
from guarantor.errors import Ambiguous, Conflict, InputError, NotFound, Problem, ValidationFailed
from guarantor.guarantees import budget as budgets
from guarantor.guarantees import display, repository
from guarantor.guarantees.evaluation import judge
from guarantor.guarantees.models import Measurement, Status
from guarantor.guarantees.scheduler import NeverFires, current_slot, due_after
from guarantor.guarantees.schemas import (
    BudgetDisplay,
    BudgetOut,
    GuaranteeFacts,
    IndicatorOut,
    MeasurementOut,
    ProgressOut,
    SeriesOut,
    StateOut,
)
from guarantor.guarantees.sources.base import (
    REGISTRY,
    Context,
    MissingSecret,
    Reading,
    Source,
    SourceError,
    env_refs,
)
from guarantor.guarantees.spec import Indicator
from guarantor.workspace.loader import Marks, problem_at
from guarantor.workspace.schema import MAX_TEXT, Outcome, Workspace

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a check-in's time may lie (clocks differ a little between machines)."""

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Planned:
    outcome_id: str
    indicator: Indicator
    spec_hash: str
    scheduled_at: datetime
    trigger: str
    failure: str = ""  # why it cannot be measured (a schedule that never fires): its ERROR's reason

    @property
    def key(self) -> repository.Key:
        return (self.indicator.id, self.spec_hash, self.scheduled_at)


def plan(ws: Workspace, now: datetime, *, force: bool = False, outcome: str | None = None) -> list[Planned]:
    """Every indicator of the workspace (or of one outcome) with the slot it would fill now.

    ``force`` measures at this very moment (trigger ``manual``) instead of the scheduled slot."""
    items = []
    for o in ws.outcomes:
        if o.guarantee is None or (outcome is not None and o.id != outcome):
            continue
        failure = ""
        try:
            slot = now if force else current_slot(o.guarantee.schedule, now)
        except NeverFires as exc:  # this outcome's ERROR, once an hour; the others measure on
            slot, failure = now.replace(minute=0, second=0, microsecond=0), str(exc)
        trigger = "manual" if force else "schedule"
        for ind in o.guarantee.indicators:
            if not ind.manual:  # check-ins are measured by people, not by a run
                items.append(Planned(o.id, ind, hash_of(ws, ind), slot, trigger, failure))
    return items


def hash_of(ws: Workspace, ind: Indicator) -> str:
    return ind.spec_hash(ws.sources.get(ind.source_name))


def measured_series(ws: Workspace) -> set[tuple[str, str]]:
    """Every (indicator, spec hash) the workspace measures now: the series a claim may belong to."""
    return {(ind.id, hash_of(ws, ind)) for o in ws.outcomes if o.guarantee for ind in o.guarantee.indicators}


def resume(
    ws: Workspace, keys: Sequence[repository.Key], planned: set[repository.Key], outcome: str | None = None
) -> list[Planned]:
    """Abandoned slots (claimed by a run that died) of indicators the workspace still has unchanged
    (same spec hash), to measure late rather than leave a hole in the history."""
    wanted = {k for k in keys if k not in planned}
    items = []
    for o in ws.outcomes:
        if o.guarantee is None or (outcome is not None and o.id != outcome):
            continue
        for ind in o.guarantee.indicators:
            if ind.manual:
                continue
            spec_hash = hash_of(ws, ind)
            items += [Planned(o.id, ind, h, at, "schedule") for i, h, at in wanted if i == ind.id and h == spec_hash]
    return items


def check_secrets(ws: Workspace, items: Sequence[Planned], marks: Marks, name: str) -> None:
    """Every environment variable the planned sources need is set, or nothing runs."""
    problems: list[Problem] = []
    for source_name in sorted({p.indicator.source_name for p in items}):
        for path, variable in env_refs(ws.sources[source_name]):
            if variable not in os.environ:
                problems.append(
                    problem_at(
                        marks, name, ("sources", source_name, *path), f"environment variable {variable} is not set"
                    )
                )
    if problems:
        raise ValidationFailed(problems)


class Evaluator:
    """Opens each source once per run and measures indicators through it, with retries."""

    def __init__(self, ws: Workspace, context: Context, clock: Clock, retries: int = 1) -> None:
        self.ws, self.context, self.clock, self.retries = ws, context, clock, retries
        self._sources: dict[str, Source | SourceError] = {}

    def _source(self, name: str) -> Source:
        if name not in self._sources:
            spec = self.ws.sources[name]
            try:
                self._sources[name] = REGISTRY[spec.type].factory(spec, self.context)
            except (SourceError, MissingSecret) as exc:
                self._sources[name] = SourceError(str(exc))
        found = self._sources[name]
        if isinstance(found, SourceError):
            raise found
        return found

    def evaluate(self, item: Planned) -> Measurement:
        ind = item.indicator
        spec: Any = self.ws.sources.get(ind.source_name)
        timeout = self.context.timeout(ind.timeout or spec.timeout)
        start = time.perf_counter()
        value = value_at = None
        status, reason = Status.ERROR, item.failure
        for attempt in range(0 if item.failure else self.retries + 1):
            try:
                reading = self._source(ind.source_name).measure(ind, timeout)
                status, reason, reading = judge(ind, reading, self.clock())
                value, value_at = reading.value, reading.at
                break
            except SourceError as exc:
                status, reason = Status.ERROR, str(exc)
                if attempt < self.retries:
                    time.sleep(0.2 * (attempt + 1))
            except Exception as exc:  # a fault in one source's code is its indicator's ERROR, not the run's
                log.exception("measuring %s failed", ind.id)
                status, reason = Status.ERROR, f"the {spec.type} source failed unexpectedly ({type(exc).__name__})"
                break
        return Measurement(
            outcome_id=item.outcome_id,
            indicator_id=ind.id,
            spec_hash=item.spec_hash,
            scheduled_at=item.scheduled_at,
            measured_at=self.clock(),
            value=str(value) if value is not None else None,
            value_at=value_at,
            unit=ind.shown_unit,
            status=status.value,
            reason=reason[:2000],
            target=str(ind.goal),
            source=ind.source or "manual",
            trigger=item.trigger,
            duration_ms=(time.perf_counter() - start) * 1000,
            tool_version=__version__,
        )

    def evaluate_batches(
        self, items: Sequence[Planned], workers: int, size: int = 200, wait_s: float = 0.5
    ) -> Iterator[list[Measurement]]:
        """Measurements in batches as they complete: a batch is handed over when it is full or has
        waited ``wait_s``, so one slow source never holds back what the others measured.

        The workers are daemon threads: a process told to stop (a server's SIGTERM) ends without
        waiting for a source that hangs; what they had claimed is measured by the next run."""
        todo: queue.SimpleQueue[Planned] = queue.SimpleQueue()
        for item in items:
            todo.put(item)
        done: queue.SimpleQueue[Measurement] = queue.SimpleQueue()

        def work() -> None:
            while True:
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                done.put(self.evaluate(item))

        for n in range(min(max(1, workers), len(items))):
            threading.Thread(target=work, name=f"measure-{n}", daemon=True).start()
        batch: list[Measurement] = []
        deadline = time.monotonic() + wait_s
        for _ in items:
            while True:
                try:
                    batch.append(done.get(timeout=max(deadline - time.monotonic(), 0.001)))
                    break
                except queue.Empty:  # a slow source: hand over what the others measured meanwhile
                    if batch:
                        yield batch
                        batch = []
                    deadline = time.monotonic() + wait_s
            if len(batch) >= size or time.monotonic() >= deadline:
                yield batch
                batch, deadline = [], time.monotonic() + wait_s
        if batch:
            yield batch

    def close(self) -> None:
        for source in self._sources.values():
            if not isinstance(source, SourceError):
                source.close()


@dataclass
class IndicatorState:
    id: str
    name: str  # what people read (Outcome.indicator_name)
    unit: str
    target: str
    latest: Measurement | None
    precision: int | None = None  # decimal places for people; None: by unit
    manual: bool = False
    due: datetime | None = None  # manual: when the next check-in is due (now, when none was made)
    checked_in: datetime | None = None  # manual: when the last check-in was true, if any


@dataclass
class OutcomeState:
    id: str
    title: str
    status: Status
    reason: str
    indicators: list[IndicatorState]
    budget: budgets.Budget | None = None
    history: list[Measurement] = field(default_factory=list)


def outcome_states(
    session: Session, ws: Workspace, now: datetime, outcome: str | None = None, *, history: bool = False
) -> list[OutcomeState]:
    """Each guaranteed outcome's status, from each indicator's latest measurement in its window and
    the tallies its budget asks for, both counted by the database: a window may hold thousands of
    measurements per indicator. ``history``: with every measurement in the window too, for charts."""
    states = []
    guaranteed = [o for o in ws.outcomes if o.guarantee is not None and (outcome is None or o.id == outcome)]
    hashes = {ind.id: hash_of(ws, ind) for o in guaranteed if o.guarantee for ind in o.guarantee.indicators}
    manual = {ind.id for o in guaranteed if o.guarantee for ind in o.guarantee.indicators if ind.manual}
    windows: dict[datetime, list[Outcome]] = defaultdict(list)
    for o in guaranteed:
        assert o.guarantee is not None
        windows[budgets.window_start(o.guarantee.window, now)].append(o)
    latest: dict[str, Measurement] = {}
    tallies: dict[str, dict[datetime, budgets.Tally]] = {}
    for since, members in windows.items():  # outcomes with the same window: one query for all
        current = {ind.id: hashes[ind.id] for o in members if o.guarantee for ind in o.guarantee.indicators}
        for by_schedule in (False, True):
            ids = [i for i in current if (i in manual) == by_schedule]
            latest |= repository.latest(session, ids, hashes=current, by_schedule=by_schedule, since=since)
        asked = {t for o in members if o.guarantee and o.guarantee.objective for t in budgets.moments(o.guarantee, now)}
        tallies |= repository.tally(session, current, sorted(asked))
    unseen = [i for i in hashes if i not in latest]  # nothing in the window: the last one ever, if unchanged
    latest |= {i: m for i, m in repository.latest(session, unseen).items() if m.spec_hash == hashes[i]}
    measured: dict[str, list[Measurement]] = defaultdict(list)
    if history and hashes:
        for m in repository.history(session, list(hashes), since=min(windows)):
            if m.spec_hash == hashes[m.indicator_id]:
                measured[m.indicator_id].append(m)
    for o in guaranteed:
        assert o.guarantee is not None
        ids = [ind.id for ind in o.guarantee.indicators]
        since = budgets.window_start(o.guarantee.window, now)
        mine = {i: latest[i] for i in ids if i in latest}
        checkins: dict[str, tuple[datetime, datetime | None]] = {}
        for ind in o.guarantee.indicators:
            if ind.manual:
                last = mine.get(ind.id)
                try:
                    due = due_after(o.guarantee.schedule, last.scheduled_at) if last else now
                except NeverFires:  # due now: it shows as late, never as met
                    due = now
                checkins[ind.id] = (due, last.scheduled_at if last else None)
                if last is None or now > due:
                    mine[ind.id] = _overdue(o, ind, hashes[ind.id], last, due, now)

        def tally(t: datetime, ids: list[str] = ids) -> budgets.Tally:
            return budgets.Tally(*(sum(n) for n in zip(*(tallies[i][t] for i in ids), strict=True)))

        b = budgets.budget(o.guarantee, tally, now)
        names = {ind.id: o.indicator_name(ind) for ind in o.guarantee.indicators}
        status, reason = budgets.outcome_status([mine.get(i) for i in ids], b, names)
        states.append(
            OutcomeState(
                o.id,
                o.title,
                status,
                reason,
                [
                    IndicatorState(
                        ind.id,
                        o.indicator_name(ind),
                        ind.shown_unit,
                        str(ind.goal),
                        mine.get(ind.id),
                        ind.precision,
                        ind.manual,
                        *checkins.get(ind.id, (None, None)),
                    )
                    for ind in o.guarantee.indicators
                ],
                b,
                sorted(
                    (m for i in ids for m in measured[i] if m.observed_at >= since), key=lambda m: (m.observed_at, m.id)
                ),
            )
        )
    return states


def checkin_command(outcome_id: str, indicator_id: str) -> str:
    """What a person runs to check in: named where a check-in is late or due."""
    return f"guarantor record {outcome_id} {indicator_id} VALUE"


def _overdue(
    o: Outcome, ind: Indicator, spec_hash: str, last: Measurement | None, due: datetime, now: datetime
) -> Measurement:
    """A manual indicator whose check-in is late is NO_DATA until the next one: a stand-in
    measurement (never stored) says since when and what was due."""
    if last is None:
        reason = "no check-in yet"
    else:
        reason = f"check-in due {due:%Y-%m-%d}, none since {last.scheduled_at:%Y-%m-%d}"
    return _manual(o, ind, spec_hash, due, now, None, Status.NO_DATA, reason, "overdue")


def _manual(
    o: Outcome,
    ind: Indicator,
    spec_hash: str,
    at: datetime,
    now: datetime,
    value: Decimal | None,
    status: Status,
    reason: str,
    trigger: str,
    **person: str | None,
) -> Measurement:
    """A manual indicator's measurement: a check-in (``person`` says who, their note and confidence),
    or the stand-in that says one is late."""
    return Measurement(
        outcome_id=o.id,
        indicator_id=ind.id,
        spec_hash=spec_hash,
        scheduled_at=at,
        measured_at=now,
        value=str(value) if value is not None else None,
        value_at=at if value is not None else None,
        unit=ind.unit,
        status=status.value,
        reason=reason,
        target=str(ind.goal),
        source="manual",
        trigger=trigger,
        duration_ms=0.0,
        tool_version=__version__,
        **person,
    )


Confidence = Literal["low", "medium", "high"]


def checkin_target(ws: Workspace, outcome_id: str, indicator_id: str | None) -> tuple[Outcome, Indicator]:
    """The outcome and the manual indicator a check-in goes to: the one named, or the outcome's only one."""
    o = ws.outcome(outcome_id)
    if o.guarantee is None:
        raise InputError(f"Outcome {outcome_id!r} has no guarantee: give it an indicator of type: manual first.")
    manual = [i for i in o.guarantee.indicators if i.manual]
    if indicator_id is not None:
        ind = next((i for i in o.guarantee.indicators if i.id == indicator_id), None)
        if ind is None:
            raise NotFound(f"Outcome {outcome_id!r} has no indicator {indicator_id!r}.")
        if not ind.manual:
            raise InputError(f"{indicator_id} is measured from a source; only manual indicators take check-ins.")
    elif len(manual) == 1:
        ind = manual[0]
    elif not manual:
        raise InputError(f"Outcome {outcome_id!r} has no manual indicator (type: manual) to check in to.")
    else:
        raise Ambiguous(
            f"Outcome {outcome_id!r} has {len(manual)} manual indicators; name one.", [i.id for i in manual]
        )
    return o, ind


def record_checkin(
    session: Session,
    ws: Workspace,
    outcome_id: str,
    indicator_id: str | None,
    value: str,
    *,
    author: str,
    now: datetime,
    at: datetime | None = None,
    note: str | None = None,
    confidence: Confidence | None = None,
) -> Measurement:
    """A person's check-in: a measurement with its author, in the same append-only history, judged
    against the indicator's target like any other."""
    o, ind = checkin_target(ws, outcome_id, indicator_id)
    exact = _checked_value(value)
    when = at or now
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        raise InputError(f"{when:%Y-%m-%d} is outside the years {MIN_YEAR} to {MAX_YEAR}.")
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if when > now + CLOCK_SKEW:
        raise InputError(f"--at {when:%Y-%m-%d %H:%M} UTC is in the future.")
    if note is not None and len(note) > MAX_TEXT:
        raise InputError(f"The note is longer than {MAX_TEXT:,} characters.")
    status, reason, reading = judge(ind, Reading(exact, when), now)
    m = _manual(
        o,
        ind,
        hash_of(ws, ind),
        when,
        now,
        reading.value,
        status,
        reason,
        "checkin",
        author=author[:64],
        note=note or None,
        confidence=confidence,
    )
    if not repository.add(session, m):
        raise Conflict(f"A check-in of {ind.id} at {when:%Y-%m-%d %H:%M:%S} UTC exists already.")
    return m


_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


def _checked_value(text: str) -> Decimal:
    """A check-in's number as a person typed it: "1,234.5" is read with its thousands separators,
    but "1,5" is refused, never read as 15 (nor as 1.5: a decimal comma is a locale's, not ours)."""
    plain = str(text).strip().rstrip("%").strip()
    if "," in plain:
        if not _GROUPED.fullmatch(plain):
            raise InputError(
                f"{str(text)[:40]!r} is not a number: write a decimal point (1.5), not a decimal comma; "
                "commas may only group thousands (1,234.5)."
            )
        plain = plain.replace(",", "")
    try:
        value = Decimal(plain)
    except InvalidOperation:
        raise InputError(f"{str(text)[:40]!r} is not a number.") from None
    if not value.is_finite() or abs(value) >= Decimal("1e15"):
        raise InputError(f"{str(text)[:40]!r} is not a number a check-in can hold.")
    return value


@dataclass(frozen=True)
class DueCheckin:
    """A manual indicator whose next check-in falls within the horizon (or is late)."""

    person: str | None
    outcome: str
    title: str
    indicator: str
    indicator_name: str
    due: datetime
    last: datetime | None

    def overdue(self, now: datetime) -> bool:
        return self.due < now


def due_checkins(ws: Workspace, states: list[OutcomeState], now: datetime, within: timedelta) -> list[DueCheckin]:
    """Check-ins due before ``now + within``, soonest first, with who is expected to make each: read
    from the outcomes' states, so the list and the statuses beside it agree on the last check-in."""
    outcomes = {o.id: o for o in ws.outcomes}
    found = []
    for state in states:
        o = outcomes[state.id]
        assert o.guarantee is not None  # states exist only for guaranteed outcomes
        for ind, s in zip(o.guarantee.indicators, state.indicators, strict=True):
            if s.due is not None and s.due <= now + within:
                found.append(DueCheckin(ind.by or o.owner, o.id, o.title, ind.id, s.name, s.due, s.checked_in))
    return sorted(found, key=lambda d: d.due)


def measurement_out(m: Measurement, precision: int | None = None) -> MeasurementOut:
    """A measurement as it leaves the domain: the exact ``value`` for machines, ``display`` rounded
    for people."""
    return MeasurementOut(
        indicator=m.indicator_id,
        value=m.value,
        display=display.number(m.value, m.unit, precision),
        unit=m.unit,
        status=m.status,  # a Status value, stored as its name
        reason=m.reason,
        target=m.target,
        measured_at=m.measured_at.isoformat(),
        scheduled_at=m.scheduled_at.isoformat(),
        observed_at=m.observed_at.isoformat(),
        value_at=m.value_at.isoformat() if m.value_at else None,
        source=m.source,
        spec_hash=m.spec_hash,
        duration_ms=round(m.duration_ms, 2),
        trigger=m.trigger,
        author=m.author,
        note=m.note,
        confidence=m.confidence,  # low | medium | high, checked when recorded
    )


def series(s: OutcomeState) -> list[SeriesOut]:
    """Each indicator's values in the window, oldest first, for a chart."""
    return [
        SeriesOut(
            indicator=ind.id,
            name=ind.name,
            unit=ind.unit,
            target=ind.target,
            points=[
                (m.observed_at.isoformat(), float(m.value))
                for m in s.history
                if m.indicator_id == ind.id and m.value is not None
            ],
            precision=display.precision_for(ind.unit, ind.precision),
        )
        for ind in s.indicators
    ]


def progress(s: OutcomeState, ind: Indicator) -> ProgressOut | None:
    """How far ``ind``'s check-ins in the window went toward its target: (latest - first) /
    (target - first), kept between 0 and 1, and 1 once the target holds. None without a single
    threshold to move toward (a range, an equality) or without a check-in."""
    values = [m for m in s.history if m.indicator_id == ind.id and m.trigger == "checkin" and m.value is not None]
    goal = ind.goal
    if not values or goal.threshold is None or goal.comparator in ("==", "!="):
        return None
    first, latest = Decimal(values[0].value or 0), Decimal(values[-1].value or 0)
    if goal.holds(latest):
        share = 1.0
    elif goal.threshold == first:
        share = 0.0
    else:
        share = min(1.0, max(0.0, float((latest - first) / (goal.threshold - first))))
    shown = display.precision_for(ind.unit, ind.precision)
    return ProgressOut(
        indicator=ind.id,
        start=display.number(first, ind.unit, shown),
        current=display.number(latest, ind.unit, shown),
        target=display.with_unit(str(goal), ind.unit),
        share=share,
        since=values[0].observed_at.isoformat(),
    )


def state_out(s: OutcomeState) -> StateOut:
    """The state as it leaves the domain: what `check --json` prints and the API answers."""
    b = s.budget
    return StateOut(
        outcome=s.id,
        title=s.title,
        status=s.status.value,
        reason=s.reason,
        indicators=[
            IndicatorOut(
                id=i.id,
                name=i.name,
                target=i.target,
                unit=i.unit,
                manual=i.manual,
                latest=measurement_out(i.latest, i.precision) if i.latest is not None else None,
            )
            for i in s.indicators
        ],
        budget=None
        if b is None
        else BudgetOut(
            objective=float(b.objective),
            since=b.since.isoformat(),
            good=b.good,
            bad=b.bad,
            unknown=b.unknown,
            achieved=b.achieved,
            spent=b.spent,
            exhausted_at=b.exhausted_at.isoformat() if b.exhausted_at else None,
            burn_alerts=b.burn_alerts,
            display=BudgetDisplay(
                objective=display.ratio(float(b.objective)),
                achieved=display.ratio(b.achieved),
                spent=display.ratio(b.spent, 0),
            ),
        ),
    )


def facts(s: OutcomeState) -> GuaranteeFacts:
    """What an analysis keeps of a guaranteed outcome: its state and its charts."""
    return GuaranteeFacts(**dict(state_out(s)), series=series(s))
