"""`guarantor check`, `guarantor watch` and `guarantor history`."""

from __future__ import annotations

import signal
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from guarantor import cli_options, console, redact
from guarantor.clock import MAX_YEAR, MIN_YEAR
from guarantor.console import err, out
from guarantor.errors import ExitCode, UsageError
from guarantor.guarantees import display

if TYPE_CHECKING:
    from guarantor.guarantees.runner import RunReport
    from guarantor.work.sync.driver import SyncResult

_STYLE = {"MET": "green", "AT_RISK": "yellow", "BROKEN": "red", "NO_DATA": "magenta", "ERROR": "red"}
_EXIT = {
    "MET": ExitCode.OK,
    "AT_RISK": ExitCode.AT_RISK,
    "BROKEN": ExitCode.BROKEN,
    "NO_DATA": ExitCode.NO_DATA,
    "ERROR": ExitCode.SOURCE_ERROR,
}


def _load(workspace: Path | None) -> Any:
    from guarantor.guarantees.sources.base import Context
    from guarantor.workspace import loader

    path = loader.resolve(workspace)
    ws, marks = loader.parse(loader.read_text(path), str(path))
    settings = cli_options.settings()
    context = Context.of(
        path.parent, True, settings.home, settings.resolved_database_url, settings.measure_timeout_max_s
    )
    return ws, marks, str(path), context


def _database(workspace: Path | None, ws: Any) -> Any:
    """The configured database, every transaction in this workspace."""
    from guarantor.workspace import loader
    from guarantor.workspace.session import workspace_database

    return workspace_database(cli_options.settings().resolved_database_url, loader.resolve(workspace), ws)


def check(
    workspace: Path | None = cli_options.ARGUMENT,
    workspace_option: Path | None = cli_options.OPTION,
    outcome: str | None = typer.Option(None, "--outcome", help="Only this outcome."),
    all_: bool = typer.Option(False, "--all", help="Measure every indicator now, not only the due ones."),
    as_json: bool = cli_options.JSON,
    wide: bool = cli_options.wide("reasons"),
) -> None:
    """Measure the due indicators and print each outcome's status; exits with the worst status's code."""
    workspace = cli_options.workspace(workspace, workspace_option)
    from guarantor.clock import utcnow
    from guarantor.guarantees import runner
    from guarantor.guarantees.models import BY_SEVERITY
    from guarantor.systems.service import recorded

    settings = cli_options.settings()
    ws, marks, name, context = _load(workspace)
    db = _database(workspace, ws)
    try:
        report = runner.check(
            db,
            ws,
            marks,
            name,
            context,
            utcnow,
            force=all_,
            outcome=outcome,
            workers=settings.check_workers,
            retries=settings.check_retries,
        )
        if outcome is None:  # every outcome's state: what blocks each system's retirement now
            with db.transaction() as session:
                recorded(session, ws, report.states)
    finally:
        db.close()
    if as_json:
        sys.stdout.write(report.out().model_dump_json(indent=2) + "\n")
    else:
        _print_states(report, wide)
        out.print(summary(report.states), highlight=False)
    _print_alerts(report.alerts)
    worst = max((s.status.value for s in report.states), key=BY_SEVERITY.index, default="MET")
    raise typer.Exit(_EXIT[worst])


def summary(states: Sequence[Any]) -> str:
    """One line to end a check, as a scan ends ("4 outcomes: 2 met, 1 at risk, 1 error"), worst last."""
    from guarantor.guarantees.models import BY_SEVERITY

    counts = Counter(s.status.value for s in states)
    parts = [f"{counts[v]} {display.status_word(v)}" for v in BY_SEVERITY if counts[v]]
    return f"{display.count(len(states), 'outcome')}: {', '.join(parts)}" if parts else "No outcome is guaranteed."


def _print_alerts(alerts: list[dict[str, str | None]]) -> None:
    for a in alerts:
        outcome = f"{a['event']} of {a['outcome']} to {a['channel']}"
        err.print(f"alert {outcome}: " + (f"[red]not delivered[/] ({a['error']})" if a["error"] else "sent"))


def _print_states(r: RunReport, wide: bool = False) -> None:
    from guarantor.guarantees.service import checkin_command

    rows = []
    for s in r.states:
        first = True
        for i in s.indicators:
            m = i.latest
            rows.append(
                [
                    s.id if first else "",
                    f"[{_STYLE[s.status]}]{s.status}[/]" if first else "",
                    i.id,
                    display.number(m.value, i.unit, i.precision) if m and m.value is not None else "—",
                    escape(m.reason) if m else f"never measured (target {display.with_unit(i.target, i.unit)})",
                ]
            )
            first = False
    columns = [(c, "left") for c in ("outcome", "status", "indicator", "value", "reason")]  # the reason has the target
    title = f"{display.count(r.evaluated, 'indicator')} measured, {r.skipped} already measured or in progress"
    console.print_table(columns, rows, {"outcome": 1, "indicator": 1, "reason": 3}, wide, title)
    for s in r.states:  # the command here, not in the reason: the reason is also read in reports
        for i in s.indicators:
            if i.manual and i.latest is not None and i.latest.trigger == "overdue":
                out.print(f"Check in: {checkin_command(s.id, i.id)}", highlight=False)
    for s in r.states:
        if s.budget and s.budget.achieved is not None:
            b = s.budget
            spent = f"{min(b.spent or 0, 9.99):.0%}" if b.spent is not None else "—"
            out.print(
                f"{s.id}: {s.reason}. Error budget spent: {spent}"
                + (f"; runs out {b.exhausted_at:%Y-%m-%d %H:%M} UTC at this rate" if b.exhausted_at else "")
            )


def watch(
    workspace: Path | None = cli_options.ARGUMENT,
    workspace_option: Path | None = cli_options.OPTION,
    syncs: list[str] = typer.Option(
        [],
        "--sync",
        help='Also sync a tracker on a schedule: "github OWNER/REPO", "jira SITE [JQL]", "jira-server SITE [JQL]" '
        'or "linear TEAM" (repeatable); tokens from the environment, as for `guarantor sync`.',
    ),
    sync_every: str = typer.Option("1h", help="How often each --sync runs, such as 15m or 1h."),
) -> None:
    """Evaluate indicators on their schedules until stopped (Ctrl-C or SIGTERM), and sync trackers."""
    workspace = cli_options.workspace(workspace, workspace_option)
    import os

    from guarantor.clock import utcnow
    from guarantor.guarantees import runner
    from guarantor.guarantees.spec import parse_duration
    from guarantor.work.sync import trackers

    settings = cli_options.settings()
    first = _load(workspace)[0]  # a broken workspace fails now, not in the loop
    try:
        every = parse_duration(sync_every)
    except ValueError as exc:
        raise UsageError(f"--sync-every {sync_every!r}: {exc}") from exc
    schedule = [trackers.scheduled(spec, every, settings, os.environ) for spec in syncs]
    exposure = None
    if schedule:
        from guarantor.work.cli import item_exposure

        exposure = item_exposure()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    db = _database(workspace, first)

    def ran(r: RunReport) -> None:
        _print_alerts(r.alerts)
        if r.evaluated:
            summary = ", ".join(f"{s.id} {s.status}" for s in r.states)
            err.print(f"{utcnow():%Y-%m-%d %H:%M:%S} measured {r.evaluated}: {summary}", highlight=False)

    def synced(entry: trackers.Scheduled, result: SyncResult) -> None:
        err.print(f"{utcnow():%Y-%m-%d %H:%M:%S} synced {entry.spec}: {result.summary()[0]}", highlight=False)

    def sync_failed(entry: trackers.Scheduled, exc: Exception) -> None:
        err.print(f"[red]sync {escape(entry.spec)} failed, next turn resumes:[/] {escape(str(exc))}", highlight=False)

    try:
        runner.watch(
            db,
            lambda: _load(workspace),
            utcnow,
            ran,
            lambda exc: err.print(f"[red]run failed, retrying:[/] {redact.secrets(str(exc))}", highlight=False),
            workers=settings.check_workers,
            retries=settings.check_retries,
            stop=lambda: stopping,
            each_cycle=lambda: trackers.run_due(db, schedule, utcnow, exposure, settings, synced, sync_failed),
        )
    except KeyboardInterrupt:
        pass
    finally:
        db.close()


_SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(_SPARK[int((v - low) / span * (len(_SPARK) - 1))] for v in values)


def history(
    outcome: str = typer.Argument(..., help="The outcome id."),
    workspace: Path | None = cli_options.OPTION,
    limit: int = typer.Option(50, help="The newest measurements to show, per indicator."),
    as_json: bool = cli_options.JSON,
    wide: bool = cli_options.wide("reasons"),
) -> None:
    """Show an outcome's measurements: a table per indicator and a sparkline of its values."""
    from pydantic import TypeAdapter

    from guarantor.guarantees import repository
    from guarantor.guarantees.schemas import MeasurementOut
    from guarantor.guarantees.service import measurement_out

    ws, *_ = _load(workspace)
    guarantee = ws.outcome(outcome, guaranteed=True).guarantee
    assert guarantee is not None
    ids = [i.id for i in guarantee.indicators]
    precision = {i.id: i.precision for i in guarantee.indicators}
    with cli_options.opened(workspace, None) as (session, _):
        per = {i: list(repository.history(session, [i], limit=limit)) for i in ids}
    if as_json:
        doc = {i: [measurement_out(m, precision[i]) for m in ms] for i, ms in per.items()}
        sys.stdout.write(TypeAdapter(dict[str, list[MeasurementOut]]).dump_json(doc, indent=2).decode() + "\n")
        return
    for ind, ms in per.items():
        values = [float(m.value) for m in ms if m.value is not None]
        unit = next((m.unit for m in ms), "")
        shown = [display.number(repr(v), unit, precision[ind]) for v in (min(values), max(values))] if values else []
        scale = f" (low {shown[0]}, high {shown[1]})" if shown else ""
        out.print(f"[bold]{ind}[/] {sparkline(values)}{scale}")
        rows = [
            [
                f"{m.observed_at:%Y-%m-%d %H:%M:%S}",
                m.author or "",
                display.number(m.value, m.unit, precision[ind]),
                f"[{_STYLE[m.status]}]{m.status}[/]",
                escape(m.reason),
                escape(_note(m.note, m.confidence)),
            ]
            for m in ms
        ]
        columns = [(c, "left") for c in ("when (UTC)", "by", "value", "status", "reason", "note")]
        console.print_table(columns, rows, {"reason": 1, "note": 1}, wide, head="when (UTC)")


def _note(note: str | None, confidence: str | None) -> str:
    """What a person said with a check-in: their note, and how sure they were."""
    sure = f"{confidence} confidence" if confidence else ""
    return " — ".join(part for part in (note or "", sure) if part)


class Confidence(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


def record(
    args: list[str] = typer.Argument(..., metavar="OUTCOME [INDICATOR] VALUE", help="What was observed."),
    note: str | None = typer.Option(None, "--note", help="What the number means this time."),
    confidence: Confidence | None = typer.Option(None, "--confidence", help="How sure you are."),
    at: str | None = typer.Option(None, "--at", help="When it was true (ISO 8601; default: now)."),
    by: str | None = typer.Option(
        None,
        "--by",
        help="Who checks in: a person of the workspace (default: the indicator's by:, else the outcome's owner, "
        "else your user name).",
    ),
    workspace: Path | None = cli_options.OPTION,
) -> None:
    """Check in a value for a manual indicator (type: manual): kept in the history with its author."""
    import getpass

    from guarantor.clock import utcnow
    from guarantor.errors import InputError
    from guarantor.guarantees import runner
    from guarantor.guarantees.service import checkin_target, outcome_states, record_checkin

    if len(args) not in (2, 3):
        raise InputError("record takes OUTCOME [INDICATOR] VALUE, such as: guarantor record csat score 4.6")
    outcome, indicator, value = (args[0], None, args[1]) if len(args) == 2 else (args[0], args[1], args[2])
    when = _time(at) if at else None
    ws, _marks, _name, _context = _load(workspace)
    people = [p.id for p in ws.people]
    if by is not None and people and by not in people:
        raise InputError(f"--by {by!r} is no person of the workspace: {', '.join(people)}.")
    o, ind = checkin_target(ws, outcome, indicator)
    author = by or ind.by or o.owner or getpass.getuser()  # the person expected to check in, as the file says
    db = _database(workspace, ws)
    try:
        with db.transaction() as session:
            m = record_checkin(
                session,
                ws,
                outcome,
                indicator,
                value,
                author=author,
                now=utcnow(),
                at=when,
                note=note,
                confidence=confidence.value if confidence else None,
            )
            states = outcome_states(session, ws, utcnow(), outcome)
        alerts = runner.notify(db, ws, states, utcnow)
    finally:
        db.close()
    indicators = [i for o in ws.outcomes if o.guarantee for i in o.guarantee.indicators]
    shown = display.number(m.value, m.unit, next(i.precision for i in indicators if i.id == m.indicator_id))
    out.print(
        f"{outcome} {m.indicator_id}: {shown} at {m.scheduled_at:%Y-%m-%d %H:%M} UTC by {m.author}: "
        f"[{_STYLE[m.status]}]{m.status}[/] ({m.reason})",
        highlight=False,
    )
    _print_alerts(alerts)


def _time(text: str) -> datetime:
    from guarantor.errors import InputError

    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--at {text!r} is not a time: write ISO 8601, such as 2026-11-20 or 2026-11-20T09:30"
        ) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InputError(f"--at {text!r} is outside the years {MIN_YEAR} to {MAX_YEAR}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


outcome_app = typer.Typer(help="Outcomes and their guarantees.", no_args_is_help=True)


@outcome_app.command("suggest-indicator")
def suggest_indicator(
    outcome: str = typer.Argument(..., help="The outcome id."),
    workspace: Path | None = cli_options.OPTION,
) -> None:
    """Draft a guarantee for an outcome: a query on one of the workspace's sources, or a check-in."""
    from guarantor.guarantees.suggest import suggest

    ws, *_ = _load(workspace)
    sys.stdout.write(suggest(ws, outcome).yaml)
