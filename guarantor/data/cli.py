"""`guarantor data`: where the O*NET data is, whether it is whole, and how to get it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from guarantor import cli_options, console
from guarantor.console import err, out, progress
from guarantor.data import files

app = typer.Typer(help="The O*NET data Guarantor learns from.", no_args_is_help=True)


@app.command()
def status(
    as_json: bool = cli_options.JSON,
    wide: bool = cli_options.wide("texts"),
) -> None:
    """Show which data files are present, their row counts, and the attribution to keep."""
    from guarantor.settings import remembered, settings_file

    settings = cli_options.settings()
    folder = settings.resolved_data_dir
    kept = settings_file() if "data_dir" in remembered() else None
    rows = []
    for spec, where in [(f, folder) for f in files.ALL_FILES] + [
        (f, files.observed_dir(settings)) for f in files.OBSERVED_FILES
    ]:
        path = where / spec.name
        rows.append(
            {
                "file": str(path.relative_to(folder.parent)) if where != folder else spec.name,
                "present": path.is_file(),
                "rows": files.count_rows(path) if path.is_file() else None,
                "required": spec.required,
                "what": spec.what,
            }
        )
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "data_dir": str(folder),
                    "settings_file": str(settings_file()),
                    "data_dir_from_settings_file": kept is not None,
                    "observed_dir": str(files.observed_dir(settings)),
                    "files": rows,
                    "attribution": files.ATTRIBUTION,
                    "observed_attribution": files.OBSERVED_ATTRIBUTION,
                }
            )
        )
    else:
        lines = [
            [
                str(r["file"]),
                "[green]yes[/]" if r["present"] else ("[red]MISSING[/]" if r["required"] else "[yellow]no[/]"),
                f"{r['rows']:,}" if r["rows"] is not None else "—",
                str(r["what"]),
            ]
            for r in rows
        ]
        columns = [("file", "left"), ("present", "left"), ("rows", "right"), ("what", "left")]
        console.print_table(columns, lines, {"what": 1}, wide, f"O*NET data in {folder}")
        origin = f"kept in {kept}" if kept else f"settings file: {settings_file()}"
        out.print(f"Data folder {folder} ({origin})", markup=False, highlight=False)
        out.print("\n[bold]Attribution[/]\n" + files.ATTRIBUTION + "\n" + files.OBSERVED_ATTRIBUTION)
    files.data_dir(cli_options.settings())  # a missing required file fails with how to get it


@app.command()
def download(
    target: Path | None = typer.Option(None, help="Folder to write into (default: GUARANTOR_HOME/data)."),
) -> None:
    """Fetch the upstream files and derive the data layout Guarantor reads."""
    from guarantor.data import download as dl  # httpx: only when downloading, not at every start
    from guarantor.settings import remember

    settings = cli_options.settings()
    folder = target or settings.home / "data"
    with progress("Downloading", total=len(dl.UPSTREAM) + len(files.OBSERVED_FILES)) as (bar, task):

        def step(name: str) -> None:
            bar.update(task, description=f"Downloading {name}", advance=1)

        hashes, note = dl.download(settings, folder, step)
    for name, digest in hashes.items():
        err.print(f"{name}  sha256 {digest[:16]}…")
    if note:
        err.print(note, markup=False, highlight=False)
    kept = remember("data_dir", str(folder.resolve()))
    out.print(f"Data written to {folder}; every later command uses it (kept in {kept}).")


@app.command()
def use(folder: Path = typer.Argument(..., help="A folder holding tasks.tsv and exposure_labels.tsv.")) -> None:
    """Use this data folder from now on, in every shell: kept in the user's settings file
    (GUARANTOR_DATA_DIR still wins for the shell that sets it)."""
    from guarantor.settings import remember

    files.checked(folder)
    kept = remember("data_dir", str(folder.resolve()))
    out.print(f"Data folder {folder.resolve()} kept in {kept}.", markup=False, highlight=False)
