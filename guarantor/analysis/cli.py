"""`guarantor analyze` (the main job) and `guarantor analyses` (what was saved).

The database, the analysis service and the report are imported when these commands run, so
commands that need none of them (`classify` above all, where start-up is most of the time) do
not pay for importing SQLAlchemy, Alembic and Jinja.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from guarantor import cli_options, console
from guarantor.console import err, out
from guarantor.errors import UsageError
from guarantor.guarantees import display

if TYPE_CHECKING:
    from guarantor.analysis.org import Team
    from guarantor.analysis.schemas import Analysis


def analyze(
    workspace: Path | None = cli_options.ARGUMENT,
    workspace_option: Path | None = cli_options.OPTION,
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
    org_folder: Path | None = typer.Option(
        None,
        "--org",
        help="Analyse every workspace in this folder (one per folder inside it) and report on the organisation.",
        show_default=False,
    ),
) -> None:
    """Assess every task, find orphan work and outcome gaps, and write the value plan."""
    if org_folder is not None:
        if workspace is not None or workspace_option is not None:
            raise UsageError("--org analyses every workspace in its folder: name no other workspace.")
        _analyze_org(org_folder, output, as_json)
        return
    from guarantor.analysis import service as svc
    from guarantor.atomic import write_text
    from guarantor.clock import utcnow
    from guarantor.data.files import data_dir
    from guarantor.db.session import open_session
    from guarantor.report.html import render
    from guarantor.tasks import observed
    from guarantor.tasks.catalogue import read_occupations
    from guarantor.workspace import loader
    from guarantor.workspace.service import enter

    workspace = cli_options.workspace(workspace, workspace_option)
    settings = cli_options.settings()
    path = loader.resolve(workspace)
    text = loader.read_text(path)
    ws = loader.parse(text, str(path))[0]
    occupations = read_occupations(data_dir(settings))
    model = cli_options.exposure_model()
    with open_session(settings) as session:
        enter(session, path, ws, utcnow())
        inputs = svc.Inputs(ws, str(path), text, model, occupations, observed.load(settings))
        saved = svc.run(session, inputs, utcnow())
    analysis, trend = saved.analysis, saved.trend
    if output:
        write_text(output, render(analysis, trend))
        err.print(f"Report written to {output}")
    if as_json:
        sys.stdout.write(analysis.model_dump_json(indent=2) + "\n")
    elif not output or sys.stdout.isatty():
        _summary(analysis)


def _analyze_org(folder: Path, output: Path | None, as_json: bool) -> None:
    """Each team's analysis saved as `analyze` saves it, then the organisation view over them."""
    from guarantor.workspace import loader

    for path in loader.resolve_many([folder]):
        analyze(path, None, None, False, None)
    org([folder], output, as_json)


def org(
    workspaces: list[Path] | None = typer.Argument(
        None,
        help="Workspaces: a folder of workspace folders, or several workspaces (default: every one in the database).",
        show_default=False,
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the organisation report (HTML) here."),
    as_json: bool = cli_options.JSON,
) -> None:
    """The organisation view: hours AI frees, exposure, outcomes by status, guaranteed and aspirational
    outcomes, orphan work and systems blocking retirement, per team and in total."""
    from guarantor.analysis import org as org_svc
    from guarantor.atomic import write_text
    from guarantor.clock import utcnow
    from guarantor.db.session import Database
    from guarantor.report.html import render_org
    from guarantor.workspace import loader
    from guarantor.workspace.repository import records
    from guarantor.workspace.service import enter

    db = Database(cli_options.settings().resolved_database_url)
    try:
        ids = []
        for path in loader.resolve_many(workspaces) if workspaces else []:
            with db.transaction() as session:  # each file read now: its key, and the facts kept from it
                ids.append(enter(session, path, loader.load(path), utcnow()).id)
        with db.transaction() as session:
            view = org_svc.view(session, ids or [r.id for r in records(session)], utcnow())
    finally:
        db.close()
    if output:
        write_text(output, render_org(view))
        err.print(f"Organisation report written to {output}")
    if as_json:
        sys.stdout.write(org_svc.as_schema(view).model_dump_json(indent=2) + "\n")
        return
    if output and not sys.stdout.isatty():
        return
    rows = [_team_row(t) for t in view.teams] + [_team_row(view.total)]
    columns = [("team", "left")] + [
        (c, "right")
        for c in ("AI frees h/wk", "E0/E1/E2 work", "guaranteed", "met/at risk/broken", "orphan", "blocked")
    ]
    console.print_table(columns, rows, {"team": 1}, False, f"{display.count(len(view.teams), 'team')}")


def _team_row(t: Team) -> list[str]:
    from guarantor.tasks.catalogue import EXPOSURE_LEVELS

    mix = "/".join(f"{t.exposure[k] / t.work_items:.0%}" for k in EXPOSURE_LEVELS) if t.work_items else "—"
    status = "/".join(str(t.by_status.get(k, 0)) for k in ("MET", "AT_RISK", "BROKEN"))
    orphan = f"{t.orphan_share:.0%}" + (" (stale)" if t.orphans_stale else "") if t.orphan_share is not None else "—"
    return [
        escape(t.name),
        f"{t.hours_freed:.1f} of {t.hours_week:g}" if t.hours_freed is not None else "—",
        mix,
        f"{t.guaranteed}/{t.outcomes}",
        status,
        orphan,
        f"{t.systems_blocked}/{t.systems}" if t.systems_blocked is not None else "—",
    ]


def _summary(a: Analysis) -> None:
    out.print(f"[bold]{a.workspace}[/]: AI frees [bold]{a.hours_freed:.1f} h[/] of {a.hours_week:g} h a week.")
    rows = [
        [
            escape(p.name),
            escape(p.occupation_title or p.role),
            f"{p.hours_week:g}",
            f"{p.hours_freed:.1f}",
            f"{p.hours_exposed:.1f}",
        ]
        for p in a.people
    ]
    columns = [("person", "left"), ("role", "left"), ("h/week", "right"), ("freed", "right"), ("exposed h", "right")]
    console.print_table(columns, rows, {"person": 1, "role": 2})
    gaps = [
        f"{display.count(n, noun)} {what}"
        for n, noun, what in (
            (len(a.orphan_tasks), "task", "serving no outcome"),
            (len(a.unserved_outcomes), "outcome", "with no work"),
            (len(a.outcomes_without_indicator), "outcome", "lacking an indicator or target"),
        )
        if n
    ]
    out.print(
        "; ".join(gaps) + "." if gaps else "Every task serves an outcome; every outcome has work and an indicator."
    )
    names, titles = {p.id: p.name for p in a.people}, {o.id: o.title for o in a.outcomes}
    for g in a.plan.freed_hours_go_to:
        where = titles.get(g.outcome, g.outcome) if g.outcome else "define outcomes"
        out.print(f"  {escape(names.get(g.person, g.person))}: {g.hours:.1f} h → {escape(where)} ({g.why})")


def analyses(
    workspace: Path | None = cli_options.ARGUMENT,
    workspace_option: Path | None = cli_options.OPTION,
    limit: int = typer.Option(50, min=1, help="The newest analyses to list."),
    as_json: bool = cli_options.JSON,
) -> None:
    """List the workspace's saved analyses, newest first, to see a role shift over time."""
    from guarantor.analysis import repository, service

    with cli_options.opened(workspace, workspace_option) as (session, _):
        rows = [service.listed(r) for r in repository.history(session, limit)]
    if as_json:
        return cli_options.print_json(rows)
    table = Table(title="Saved analyses")
    for col in ("id", "when (UTC)", "workspace", "h/week", "freed", "per person"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r.id),
            r.created_at[:16],
            r.workspace,
            f"{r.hours_week:g}",
            f"{r.hours_freed:.1f}",
            ", ".join(f"{k} {v:.1f}" for k, v in r.people.items()),
        )
    out.print(table)
