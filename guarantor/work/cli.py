"""`guarantor import`, `guarantor sync`, `guarantor link`, `guarantor work` and `guarantor balance`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from guarantor import cli_options, console
from guarantor.console import err, out, progress
from guarantor.errors import ExitCode, InputError
from guarantor.guarantees import display
from guarantor.work import importers

if TYPE_CHECKING:
    from guarantor.settings import Settings
    from guarantor.work.importers.base import Columns
    from guarantor.work.service import Balance, Exposure
    from guarantor.work.sync.driver import Tracker

Connect = Callable[["Settings", Mapping[str, str]], "tuple[Tracker, str]"]
NO_EXPOSURE = typer.Option(False, "--no-exposure", help="Do not classify item texts by AI exposure.")

link_app = typer.Typer(help="Link work items to the outcomes they serve.", no_args_is_help=True)


def import_(
    fmt: str = typer.Argument(..., metavar="FORMAT", help=f"One of: {', '.join(importers.names())}."),
    file: Path = typer.Argument(..., help="The export (- for standard input)."),
    mapping: list[str] = typer.Option([], "--map", help="csv: FIELD=COLUMN, such as id=Key or title=Name."),
    no_exposure: bool = NO_EXPOSURE,
    day_first: bool | None = typer.Option(
        None,
        "--day-first/--month-first",
        help="How to read numeric dates such as 03/04/2024 when no date in the file says (one over 12 does).",
        show_default=False,
    ),
    date_format: str | None = typer.Option(
        None, help="The dates' form as a strptime format, such as '%d.%m.%Y %H:%M', tried before any other."
    ),
    workspace: Path | None = cli_options.OPTION,
) -> None:
    """Import work items into the workspace; re-importing an export changes only what changed (by
    source and id). Items without an AI exposure yet are classified too, so data added later is
    never missed."""
    from guarantor.clock import utcnow
    from guarantor.inputs.dates import DateOrder
    from guarantor.work import reader, service

    pairs = dict(m.split("=", 1) for m in mapping if "=" in m)
    if len(pairs) != len(mapping):
        raise InputError("--map takes FIELD=COLUMN, such as --map id=Key")
    exposure = None if no_exposure else item_exposure()
    order, now = DateOrder(day_first, date_format), utcnow()
    columns, items = service.read(fmt, file, pairs, order)
    batches = reader.batches(fmt, file, pairs, order, now, exposure is not None) or service.batches_of(items, now)
    with (
        cli_options.opened(workspace, None) as (session, ws),
        progress(f"Importing {file.name}") as (bar, task),
        reader.few_collections(),
    ):
        counts = service.import_batches(
            session,
            batches,
            exposure,
            lambda n: bar.update(task, description=f"Importing {file.name}: {n:,} items"),
            ws,
        )
        late = service.classify_missing(session, exposure) if exposure else 0
        service.keep_counts(session)
    out.print(f"{file}: {counts.inserted:,} new, {counts.updated:,} updated, {counts.unchanged:,} unchanged.")
    if late:
        out.print(f"{display.count(late, 'item')} imported earlier without an AI exposure now have one.")
    if columns is not None:
        _columns(columns)


def item_exposure() -> Exposure | None:
    """The exposure of item texts, or None (said on stderr, with the folder tried) without O*NET data:
    what import, sync, work classify and watch --sync give each item."""
    from guarantor.errors import DataMissing

    try:
        model = cli_options.exposure_model()
    except DataMissing as exc:
        err.print(
            f"No AI exposure for items: {exc.message} They get one at the next import or with "
            "`guarantor work classify` once the data is there.",
            markup=False,
            highlight=False,
        )
        return None
    from guarantor.work.service import exposure_of

    return exposure_of(model)


def _columns(columns: Columns) -> None:
    """Which column each field was read from, the fields no column gave and the columns nothing read."""
    read = ", ".join(f"{name} ← {' / '.join(found)}" for name, found in columns.read.items() if found)
    err.print(f"[dim]Read: {escape(read)}.[/]")
    missing = columns.missing()
    if missing:
        err.print(f"[yellow]Not in this export: {escape(', '.join(missing))}[/] (these fields stay empty).")
    if columns.unread:
        shown = ", ".join(columns.unread[:20]) + (
            f" and {len(columns.unread) - 20} more" if len(columns.unread) > 20 else ""
        )
        err.print(f"[dim]Columns not read: {escape(shown)}.[/]")


sync_app = typer.Typer(
    help="Live sync from a tracker's API: only what changed since the last sync.", no_args_is_help=True
)


REPO = typer.Argument(..., help="OWNER/REPO; the token comes from GITHUB_TOKEN (or GH_TOKEN).")
TEAM = typer.Option(..., help="The team's key, such as ENG; the key comes from LINEAR_API_KEY.")


@sync_app.command("github")
def sync_github(repo: str = REPO, no_exposure: bool = NO_EXPOSURE, workspace: Path | None = cli_options.OPTION) -> None:
    """Issues and pull requests changed since the last sync; a sync stopped on any page resumes there."""
    from guarantor.work.sync import trackers

    _sync(lambda settings, env: trackers.github(settings, env, repo), no_exposure, workspace)


@sync_app.command("jira")
def sync_jira(
    site: str = typer.Option(..., help="The Jira site, such as https://acme.atlassian.net."),
    jql: str = typer.Option("", help='Which issues, such as "project = PAY" (default: all the token can see).'),
    server: bool = typer.Option(False, "--server", help="Jira Server or Data Center (REST API 2, JIRA_TOKEN)."),
    no_exposure: bool = NO_EXPOSURE,
    workspace: Path | None = cli_options.OPTION,
) -> None:
    """Issues a JQL query selects, updated since the last sync. Cloud: JIRA_EMAIL and JIRA_API_TOKEN;
    Server and Data Center: a personal access token in JIRA_TOKEN."""
    from guarantor.work.sync import trackers

    _sync(lambda settings, env: trackers.jira(settings, env, site, jql, server), no_exposure, workspace)


@sync_app.command("linear")
def sync_linear(team: str = TEAM, no_exposure: bool = NO_EXPOSURE, workspace: Path | None = cli_options.OPTION) -> None:
    """A team's issues updated since the last sync: its cycles read as sprints, its projects as epics."""
    from guarantor.work.sync import trackers

    _sync(lambda settings, env: trackers.linear(settings, env, team), no_exposure, workspace)


def _sync(connect: Connect, no_exposure: bool, workspace: Path | None) -> None:
    """Sync what ``connect`` reaches (a tracker and its scope, from the settings and the environment,
    where the tokens are) into the workspace."""
    import os

    from guarantor.clock import utcnow
    from guarantor.work.sync.driver import sync
    from guarantor.workspace import loader
    from guarantor.workspace.session import workspace_database

    settings = cli_options.settings()
    tracker, scope = connect(settings, os.environ)
    path = loader.resolve(workspace)
    ws = loader.load(path)
    exposure = None if no_exposure else item_exposure()
    db = workspace_database(settings.resolved_database_url, path, ws)
    try:
        with progress(f"Syncing {scope}") as (bar, task):
            result = sync(
                db,
                tracker,
                scope,
                exposure,
                utcnow,
                settings.download_timeout_s,
                settings.sync_max_wait_s,
                progress=lambda r: bar.update(task, description=f"Syncing {scope}: {r.items:,} items"),
            )
    finally:
        db.close()
    for line in result.summary():
        out.print(line, markup=False, highlight=False)


work_app = typer.Typer(help="Work items beyond import: classify the ones without an AI exposure.", no_args_is_help=True)


@work_app.command("classify")
def classify_items(workspace: Path | None = cli_options.OPTION) -> None:
    """Give every item of the workspace without an AI exposure its exposure (the data was missing at
    import)."""
    from guarantor.work import service

    exposure = item_exposure()
    if exposure is None:
        raise typer.Exit(int(ExitCode.DATA_MISSING))
    with (
        cli_options.opened(workspace, None) as (session, _),
        progress("Classifying items") as (bar, task),
    ):
        done = service.classify_missing(session, exposure, lambda n: bar.update(task, description=f"{n:,} items"))
        service.keep_counts(session)
    out.print(f"{display.count(done, 'item')} given an AI exposure.")


@link_app.command("suggest")
def suggest(
    workspace: Path | None = cli_options.ARGUMENT,
    workspace_option: Path | None = cli_options.OPTION,
    limit: int = typer.Option(20, help="Items to show."),
    as_json: bool = cli_options.JSON,
    wide: bool = cli_options.wide("texts"),
) -> None:
    """Suggest outcomes for items that serve none yet, with the words that matched."""
    from guarantor.work import service

    with cli_options.opened(workspace, workspace_option) as (session, ws):
        rows = service.suggestions(session, ws, limit)
    if as_json:
        return cli_options.print_json(rows)
    lines = []
    for r in rows:
        best = r.suggestions[0]
        lines.append([r.item, escape(r.title), best.outcome, f"{best.score:.2f}", ", ".join(best.matched)])
    columns = [(c, "left") for c in ("item", "title", "outcome", "score", "matched words")]
    title = "Suggested links (accept with `guarantor link accept ITEM OUTCOME`)"
    console.print_table(columns, lines, {"title": 3, "outcome": 1, "matched words": 1}, wide, escape(title))


ITEM = typer.Argument(..., help="SOURCE:ID, such as jira:PAY-12.")
OUTCOME = typer.Argument(..., help="The outcome id.")


def _decide(decision: str, item: str, outcome: str, workspace: Path | None) -> None:
    from guarantor.clock import utcnow
    from guarantor.work import service

    with cli_options.opened(workspace, None) as (session, ws):
        service.decide(session, ws, item, outcome, decision, utcnow())
    out.print(f"{item} → {outcome}: {decision}.")


@link_app.command("accept")
def accept(item: str = ITEM, outcome: str = OUTCOME, workspace: Path | None = cli_options.OPTION) -> None:
    """Record that an item serves an outcome (kept across re-imports)."""
    _decide("accepted", item, outcome, workspace)


@link_app.command("reject")
def reject(item: str = ITEM, outcome: str = OUTCOME, workspace: Path | None = cli_options.OPTION) -> None:
    """Record that an item does not serve an outcome: never suggested or linked again."""
    _decide("rejected", item, outcome, workspace)


def balance(
    workspace: Path | None = cli_options.ARGUMENT,
    workspace_option: Path | None = cli_options.OPTION,
    as_json: bool = cli_options.JSON,
    wide: bool = cli_options.wide("texts"),
    by_month: bool = typer.Option(
        False,
        "--by-month",
        help="A row per month the items were made: how much of each month's work served an outcome.",
    ),
) -> None:
    """Where the effort goes: per outcome, per AI-exposure level, over time, and the orphan work."""
    from guarantor.work import service

    with cli_options.opened(workspace, workspace_option) as (session, ws):
        b = service.balance(session, ws)
    if as_json:
        return cli_options.print_json(b, exclude={"closed_by_outcome"})
    if not b.items:  # the web's words: empty headings would read as zero effort
        out.print("No work imported yet: `guarantor import jira export.csv` (or github, linear, azure, csv).")
        return None
    titles = {o.id: o.title for o in ws.outcomes}
    if by_month:
        return _months(b, titles, wide)
    total = sum(x.count for x in b.by_outcome.values()) or 1
    rows = [
        [
            escape(titles.get(oid, oid)),
            f"{bucket.count:,}",
            f"{bucket.count / total:.0%}",
            display.number(bucket.points),
            display.number(bucket.days, precision=0),
            display.number(b.task_hours.get(oid, 0)),
        ]
        for oid, bucket in sorted(b.by_outcome.items(), key=lambda kv: -kv[1].count)
    ]
    columns = [("outcome", "left")] + [(c, "right") for c in ("items", "share", "points", "days", "task h/week")]
    console.print_table(
        columns, rows, {"outcome": 1}, wide, f"Investment balance over {display.count(b.items, 'work item')}"
    )
    levels = ", ".join(f"{k} {v.count:,}" for k, v in sorted(b.by_exposure.items()))
    out.print(f"By AI exposure of the item text: {levels}")
    kinds = ", ".join(f"{k} {v.count:,} ({v.count / (b.items or 1):.0%})" for k, v in b.by_category.items())
    out.print(f"By kind of work: {kinds}", highlight=False)
    if b.unserved:
        out.print(f"[yellow]No work serves:[/] {', '.join(titles[o] for o in b.unserved)}")
    for o in b.orphans[:10]:
        out.print(f"  orphan: {o.item} {o.title}" + (f" ({display.count(o.points, 'point')})" if o.points else ""))


def _months(b: Balance, titles: dict[str, str], wide: bool) -> None:
    """Swarmia's investment view, month by month: the items made, and the share that serves an
    outcome, with the outcome that took most of them."""
    from guarantor.work.service import NO_OUTCOME

    rows = []
    for month, outcomes in b.by_month.items():
        items = sum(x.count for x in outcomes.values())
        served = items - (outcomes[NO_OUTCOME].count if NO_OUTCOME in outcomes else 0)
        top = max((kv for kv in outcomes.items() if kv[0] != NO_OUTCOME), key=lambda kv: kv[1].count, default=None)
        rows.append(
            [
                month,
                f"{items:,}",
                display.number(sum(x.points for x in outcomes.values())),
                f"{served / items:.0%}" if items else "—",
                escape(f"{titles.get(top[0], top[0])} ({top[1].count:,})") if top else "—",
            ]
        )
    columns = [("month", "left"), *[(c, "right") for c in ("items", "points", "serve an outcome")]]
    columns.append(("most items went to", "left"))
    console.print_table(columns, rows, {"most items went to": 1}, wide, "Per month", head="month")
