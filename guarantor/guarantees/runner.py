"""One check run, and the watch loop, as transactions that survive being killed at any point.

1. claim the due slots (committed: another runner now skips them);
2. evaluate concurrently;
3. record measurements in small committed batches (full, or half a second old), releasing their claims.
Killed between 1 and 3, a slot stays claimed by a dead process; the next run on this host takes
it over at once (elsewhere, when the claim expires), measures it even though a later slot is due
by then, and no slot is ever stored twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from guarantor.db.session import Database
from guarantor.guarantees import alerts, channels, repository, service
from guarantor.guarantees.channels import DeliveryFailed
from guarantor.guarantees.models import Measurement
from guarantor.guarantees.scheduler import NeverFires, next_slot
from guarantor.guarantees.schemas import CheckOut
from guarantor.guarantees.sources.base import Context, MissingSecret
from guarantor.guarantees.spec import AlertPolicy
from guarantor.workspace.loader import Marks
from guarantor.workspace.schema import Workspace

BATCH = 200


@dataclass
class RunReport:
    planned: int
    evaluated: int
    skipped: int  # already measured, or being measured by another runner
    states: list[service.OutcomeState]
    alerts: list[dict[str, str | None]] = field(default_factory=list)  # what this run tried to send

    def out(self) -> CheckOut:
        """As `check --json` prints it and the API answers it."""
        return CheckOut(
            planned=self.planned,
            evaluated=self.evaluated,
            skipped=self.skipped,
            outcomes=[service.state_out(s) for s in self.states],
        )


def check(
    db: Database,
    ws: Workspace,
    marks: Marks,
    name: str,
    context: Context,
    clock: Callable[[], datetime],
    *,
    force: bool = False,
    outcome: str | None = None,
    workers: int = 8,
    retries: int = 1,
) -> RunReport:
    if outcome is not None:
        ws.outcome(outcome, guaranteed=True)
    now = clock()
    items = service.plan(ws, now, force=force, outcome=outcome)
    with db.transaction() as session:
        abandoned = repository.abandoned(session, now)
        items += service.resume(ws, abandoned, {i.key for i in items}, outcome)
        current = service.measured_series(ws)
        repository.forget_claims(session, [k for k in abandoned if (k[0], k[1]) not in current])
    service.check_secrets(ws, items, marks, name)
    owner = repository.runner_id()
    lease = (
        max(context.timeout(i.indicator.timeout or ws.sources[i.indicator.source_name].timeout) for i in items)
        if items
        else 0.0
    )
    with db.transaction() as session:
        done = repository.measured(session, [i.key for i in items])
        todo = [i for i in items if i.key not in done]
        held = repository.claim(
            session, [i.key for i in todo], owner, now, now + timedelta(seconds=(retries + 1) * lease + 60)
        )
    mine = [i for i in todo if i.key in held]
    evaluator = service.Evaluator(ws, context, clock, retries)
    evaluated = 0
    try:
        for batch in evaluator.evaluate_batches(mine, workers, BATCH):
            evaluated += _record(db, batch, owner)
    finally:
        evaluator.close()
    with db.transaction() as session:
        states = service.outcome_states(session, ws, clock(), outcome)
    return RunReport(len(items), evaluated, len(items) - len(mine), states, notify(db, ws, states, clock))


def _remind(
    session: Session, workspace: str, policy: AlertPolicy | None, s: service.OutcomeState, now: datetime
) -> None:
    """A reminder for the check-ins of an outcome due within the policy's ``remind_before``,
    recorded once per outcome and due time (the alert's episode), so each is sent once whoever
    runs first."""
    if policy is None or policy.remind_before is None:
        return
    due: dict[datetime, list[str]] = {}
    for ind in s.indicators:
        if ind.manual and ind.due is not None and ind.due - policy.remind_before <= now < ind.due:
            due.setdefault(ind.due, []).append(ind.id)
    for when, indicators in due.items():
        notice = channels.Notice(
            workspace=workspace,
            outcome=s.id,
            title=s.title,
            event="checkin_due",
            status=s.status.value,
            reason=f"check-in due {when:%Y-%m-%d %H:%M} UTC: "
            + "; ".join(service.checkin_command(s.id, i) for i in indicators),
            since=when,
        )
        for channel in policy.channels:
            alerts.record(session, s.id, channel, "checkin_due", when, notice.model_dump_json(), now)


def notify(
    db: Database, ws: Workspace, states: list[service.OutcomeState], clock: Callable[[], datetime]
) -> list[dict[str, str | None]]:
    """Record the alerts that status changes call for, then deliver every undelivered one."""
    policies = {o.id: o.guarantee.alert for o in ws.outcomes if o.guarantee is not None}
    now = clock()
    with db.transaction() as session:
        changes = alerts.transitions(session, [(s.id, s.title, s.status, s.reason) for s in states], now)
        status_of = {s.id: s.status.value for s in states}
        for outcome_id, title, event, reason, episode in changes:
            policy = policies.get(outcome_id)
            if policy is None or event not in policy.on:
                continue
            notice = channels.Notice(
                workspace=ws.name,
                outcome=outcome_id,
                title=title,
                event=event,
                status=status_of[outcome_id],
                reason=reason,
                since=episode,
            )
            for channel in policy.channels:
                alerts.record(session, outcome_id, channel, event, episode, notice.model_dump_json(), now)
        for state in states:
            _remind(session, ws.name, policies.get(state.id), state, now)
    with db.transaction() as session:
        taken = alerts.take(session, now)
    report = []
    for alert in taken:
        error = None
        try:
            target = ws.alerts.get(alert.channel)
            if target is None:
                raise LookupError(f"no alert channel named {alert.channel!r} in the workspace any more")
            channels.send(target, channels.Notice.model_validate_json(alert.detail))
        except DeliveryFailed as exc:
            error = str(exc)
        except (LookupError, MissingSecret) as exc:
            error = f"{type(exc).__name__}: {exc}"
        with db.transaction() as session:
            alerts.delivered(session, alert.id, clock(), error)
        report.append({"outcome": alert.outcome_id, "channel": alert.channel, "event": alert.event, "error": error})
    return report


def _next_slots(ws: Workspace, now: datetime) -> Iterator[datetime]:
    """When each outcome is next due; one whose schedule never fires is skipped (it is ERROR)."""
    for o in ws.outcomes:
        if o.guarantee is not None:
            try:
                yield next_slot(o.guarantee.schedule, now)
            except NeverFires:
                continue


def _record(db: Database, batch: list[Measurement], owner: str) -> int:
    with db.transaction() as session:
        return repository.record(session, batch, owner)


def watch(
    db: Database,
    load: Callable[[], tuple[Workspace, Marks, str, Context]],
    clock: Callable[[], datetime],
    on_run: Callable[[RunReport], None],
    on_error: Callable[[Exception], None],
    *,
    workers: int = 8,
    retries: int = 1,
    stop: Callable[[], bool] = lambda: False,
    each_cycle: Callable[[], None] = lambda: None,
) -> None:
    """Evaluate due indicators at each slot until ``stop()``; a failing run is reported and retried.
    ``each_cycle`` runs first in every cycle (at least every 30 s): the syncs that are due.

    The workspace is reloaded every cycle, so edits take effect without a restart."""
    while not stop():
        wake = clock() + timedelta(seconds=30)
        each_cycle()
        try:
            ws, marks, name, context = load()
            # known before the run: a run that fails still wakes at the next slot, not 30 s later
            wake = min([*_next_slots(ws, clock()), wake])
            on_run(check(db, ws, marks, name, context, clock, workers=workers, retries=retries))
            wake = min([*_next_slots(ws, clock()), wake])
        except Exception as exc:  # a broken edit or a database outage must not end the watch
            on_error(exc)
        while not stop() and clock() < wake:
            time.sleep(min(0.5, max((wake - clock()).total_seconds(), 0.01)))
