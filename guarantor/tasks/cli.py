"""`guarantor model`, `guarantor classify` and `guarantor role`."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from guarantor import cli_options
from guarantor.atomic import atomic_writer
from guarantor.data.files import data_dir, observed_dir
from guarantor.guarantees import display
from guarantor.tasks.catalogue import EXPOSURE_LEVELS
from guarantor.tasks.classify import InputFormat, OutputFormat, classify_stream, read_records
from guarantor.tasks.schemas import Reading

if TYPE_CHECKING:
    from guarantor.tasks import evaluation

model_app = typer.Typer(help="Build and evaluate the exposure model.", no_args_is_help=True)


@model_app.command()
def build(
    folds: int = typer.Option(5, help="Folds of the grouped cross-validation whose metrics are stored."),
    skip_eval: bool = typer.Option(False, "--skip-eval", help="Do not cross-validate."),
) -> None:
    """Train the model on the labelled tasks and cache it with its version, data hash and metrics."""
    from guarantor.console import out, progress
    from guarantor.tasks import store

    settings = cli_options.settings()
    folder = data_dir(settings)
    digest = store.data_hash(settings)
    metrics = None
    if not skip_eval:
        metrics = _evaluate(folder, folds).as_dict()
    with progress("Training on all labelled tasks"):
        model = store.build(settings, folder, digest, metrics)
    out.print(
        f"Model {model.meta['version']} built on {model.meta['rows']:,} tasks; data {digest[:12]}; "
        f"saved to {store.model_path(settings, digest)}"
    )


def _evaluate(folder: Path, folds: int) -> evaluation.Evaluation:
    from guarantor.console import progress
    from guarantor.tasks import catalogue, evaluation

    rows = catalogue.read_labelled(folder)
    applicability = catalogue.read_applicability(observed_dir(cli_options.settings()))
    with progress(f"Cross-validating ({folds} folds grouped by occupation)", total=folds) as (bar, task):
        return evaluation.cross_validate(rows, folds, lambda k: bar.update(task, completed=k), applicability)


@model_app.command("eval")
def eval_(
    folds: int = typer.Option(5, min=2, help="Number of folds."),
    as_json: bool = cli_options.JSON,
) -> None:
    """Cross-validate grouped by occupation, next to GPT-4's labels on the same rows."""
    from rich.table import Table

    from guarantor.console import out

    result = _evaluate(data_dir(cli_options.settings()), folds)
    if as_json:
        out.print_json(json.dumps(result.as_dict()))
        return
    table = Table(
        title=f"Human E0/E1/E2 labels, {result.folds}-fold CV grouped by occupation "
        f"({result.rows:,} tasks, {result.occupations} occupations)"
    )
    for col in ("", "accuracy", "Cohen's kappa", "macro-F1", "occupation r"):
        table.add_column(col, justify="right" if col else "left")
    for name, s, r in (
        ("this model (role: the default)", result.model, result.model_r),
        ("each task alone (text: classify)", result.text_only, result.text_only_r),
    ):
        table.add_row(name, f"{s.accuracy:.3f}", f"{s.kappa:.3f}", f"{s.macro_f1:.3f}", f"{r.expected:.3f}")
    g = result.gpt4
    table.add_row("GPT-4's labels", f"{g.accuracy:.3f}", f"{g.kappa:.3f}", f"{g.macro_f1:.3f}", f"{result.gpt4_r:.3f}")
    out.print(table)
    out.print(
        "[dim]occupation r: Pearson r across occupations of beta (E1 share + E2 share / 2) against the human "
        f"labels' beta; the model's from its probabilities (from its labels: {result.model_r.labels:.3f}), "
        "GPT-4's from its labels.[/]"
    )
    for name, s, levels in (
        ("this model", result.model, EXPOSURE_LEVELS),
        ("GPT-4", result.gpt4, EXPOSURE_LEVELS),
    ):
        _confusion(f"Confusion matrix, {name} (rows: human label)", s.confusion, levels)
    a = result.automation_vs_gpt4
    out.print(
        f"Automation T0-T4 against GPT-4's labels (no human T labels exist): accuracy {a.accuracy:.3f}, "
        f"kappa {a.kappa:.3f}, macro-F1 {a.macro_f1:.3f}"
    )


def _confusion(title: str, matrix: list[list[int]], levels: tuple[str, ...]) -> None:
    from rich.table import Table

    from guarantor.console import out

    table = Table(title=title)
    table.add_column("")
    for level in levels:
        table.add_column(level, justify="right")
    for level, row in zip(levels, matrix, strict=True):
        table.add_row(level, *(f"{v:,}" for v in row))
    out.print(table)


def classify(
    file: str = typer.Argument(..., help="CSV, TSV, JSONL or plain text (one task a line); - for stdin."),
    text_column: str | None = typer.Option(None, help="Column (or JSON key) with the task text."),
    id_column: str | None = typer.Option(None, help="Column (or JSON key) with the id."),
    input_format: InputFormat = typer.Option(InputFormat.auto, help="Input format (auto: by extension)."),
    fmt: OutputFormat = typer.Option(OutputFormat.csv, "--format", help="Output format."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
) -> None:
    """Predict exposure, automation level and evidence for every task statement in a file."""
    model = cli_options.exposure_model()
    records = read_records(file, input_format, text_column, id_column)
    workers = cli_options.settings().classify_workers
    if output is None:
        count = classify_stream(model, records, sys.stdout, fmt, workers)
    else:
        with atomic_writer(output) as handle:
            count = classify_stream(model, records, handle, fmt, workers)
    # Plain, not through rich's console: importing rich would take a tenth of a short file's run.
    sys.stderr.write(f"{display.count(count, 'task')} classified.\n")


def role(
    query: str = typer.Argument(..., help="An occupation title (any wording) or an O*NET-SOC code."),
    hours: float = cli_options.hours("Hours in the person's week."),
    as_json: bool = cli_options.JSON,
    wide: bool = cli_options.wide("task texts"),
    reading: Reading = typer.Option(
        Reading.role,
        "--model",
        help="role: each task read among the role's other tasks (the default); text: each statement alone.",
    ),
) -> None:
    """Show an occupation's tasks with predicted exposure, and the hours a week AI frees."""
    from guarantor import console
    from guarantor.console import err, out
    from guarantor.tasks import service as svc

    p = svc.profile(cli_options.settings(), cli_options.exposure_model(), query, hours, reading)
    if as_json:
        out.print_json(json.dumps(asdict(p)))
        return
    out.print(f"[bold]{p.title}[/] ({p.code}) — {display.count(len(p.tasks), 'task')}")
    if p.match.confidence < 1.0 or p.match.via.lower() != p.title.lower():
        err.print(
            f"{p.match.query!r} read as {p.title}: matched {p.match.via!r}, confidence {p.match.confidence:.2f}.",
            highlight=False,
            markup=False,
        )
    short = {"often": "often", "sometimes": "some", "rarely": "rare"}
    columns = [("type", "left"), ("task", "left"), ("exp.", "left"), ("by", "left"), ("model", "left")]
    columns += [("auto.", "left"), ("AI use", "left"), ("conf.", "right"), ("h/wk", "right"), ("freed", "right")]
    columns += [("nearest labelled task", "left")]
    rows = []
    colors = {"E0": "green", "E1": "yellow", "E2": "red"}
    for t in sorted(p.tasks, key=lambda t: -t.hours_freed):
        ev = t.evidence[0] if t.evidence else None
        rows.append(
            [
                (t.task_type or "—")[:5],
                t.text,
                f"[{colors[t.exposure]}]{t.exposure}[/]" + ("?" if t.unfamiliar else ""),
                t.label_source,
                t.predicted,
                t.automation,
                short[t.observed.level] if t.observed else "—",
                f"{t.confidence:.0%}",
                f"{t.hours:.1f}",
                f"{t.hours_freed:.1f}",
                ("the same statement" if ev.text == t.text else f"{ev.label} {ev.text}")
                if ev
                else "no close labelled task",
            ]
        )
    if not wide:  # type, automation and confidence only where there is room: --wide, --json, the web
        keep = [i for i, (name, _) in enumerate(columns) if name not in ("type", "auto.", "conf.")]
        columns, rows = [columns[i] for i in keep], [[row[i] for i in keep] for row in rows]
    console.print_table(columns, rows, long={"task": 1, "nearest labelled task": 1}, wide=wide)
    out.print(
        f"Exposure of the labels shown: alpha (E1 share) {p.alpha:.2f}, beta (E1+E2/2) {p.beta:.2f}, "
        f"gamma (E1+E2) {p.gamma:.2f}"
    )
    if p.published:
        h, g = p.published.human, p.published.gpt4
        out.print(
            f"Published (paper): human alpha/beta/gamma {h[0]:.2f}/{h[1]:.2f}/{h[2]:.2f}; "
            f"GPT-4 {g[0]:.2f}/{g[1]:.2f}/{g[2]:.2f}"
        )
    if p.work_context:
        w = p.work_context
        out.print(
            f"Work context (O*NET, 0-1): degree of automation {w.degree_of_automation:.2f}, repeating the same "
            f"tasks {w.repeating_same_tasks:.2f}, structured work {w.structured_work:.2f}, being exact "
            f"{w.being_exact:.2f}"
        )
    if p.observed:
        o = p.observed
        out.print(
            f"Observed AI use (Working with AI): applicability {o.score:.2f}, rank {o.rank} of {o.of} occupations "
            "(1: the most use)." + (f" {o.note}" if o.note else "")
        )
        differ = [t for t in p.tasks if t.observed and t.observed.note]
        if differ:
            out.print(
                f"Exposure and observed use point different ways on {display.count(len(differ), 'task')} "
                "(the note of each is in --json)."
            )
    out.print(
        "[dim]exp.: the human label where the task is a labelled O*NET task (by: human), else the model's "
        "prediction (by: model); model: the model's prediction either way; conf.: its probability of exp.; "
        f"AI use: how often people ask AI for the task's closest work activity (often, some, rare: terciles); "
        f"?: {svc.UNFAMILIAR_NOTE}; "
        "--wide adds the task type, automation level and confidence[/]"
    )
    out.print(f"[bold]AI frees about {p.hours_freed:.1f} h of a {p.hours_week:g}-hour week[/] ({svc.HOW_FREED}).")
    for note in p.notes:
        out.print(f"[dim]{note}[/]")
