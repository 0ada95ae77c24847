"""The consoles every command prints through: results to stdout, messages and progress to stderr.

Keeping progress on stderr keeps stdout clean for `--json` and for piping `classify` output.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:  # imported where drawn: most commands print neither, and rich's modules cost
    from rich.progress import Progress, TaskID

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[tuple[Progress, TaskID]]:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        yield bar, bar.add_task(description, total=total)


def print_table(
    columns: list[tuple[str, str]],
    rows: list[list[str]],
    long: dict[str, int],
    wide: bool = False,
    title: str | None = None,
) -> None:
    """Print a table that fits the terminal: the short columns whole, the ``long`` ones (texts,
    reasons) sharing what is left by their weights, cut with … so each row stays one line; ``wide``
    shows them whole, wrapped."""
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title)
    widths = [
        max([Text.from_markup(name).cell_len, *(Text.from_markup(row[i]).cell_len for row in rows)])
        for i, (name, _) in enumerate(columns)
    ]
    fixed = sum(w for (name, _), w in zip(columns, widths, strict=True) if name not in long)
    spare = out.width - fixed - 3 * len(columns) - 1
    weights = sum(long.values()) or 1
    for (name, justify), width in zip(columns, widths, strict=True):
        if name in long and not wide:
            share = max(10, spare * long[name] // weights)
            t.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis", width=min(width, share))  # type: ignore[arg-type]
        else:
            t.add_column(name, justify=justify, no_wrap=name not in long)  # type: ignore[arg-type]
    for row in rows:
        t.add_row(*row)
    out.print(t)
