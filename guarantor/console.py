"""The consoles every command prints through: results to stdout, messages and progress to stderr.

Keeping progress on stderr keeps stdout clean for `--json` and for piping `classify` output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:  # imported where drawn: most commands print neither, and rich's modules cost
    from rich.progress import Progress, TaskID

# On a terminal, results wrap at whole words to its width: a line the terminal cut mid-number read
# as two wrong numbers. Into a pipe or a file, lines stay whole for the program reading them; JSON
# is never wrapped (rich's print_json). Messages are not wrapped: a path or a command in one must
# stay copyable.
out = Console(soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, soft_wrap=True)

STACK_BELOW = 100
"""Terminals narrower than this get tables as stacked records: at 80 columns a table of six
columns cut every text to a few letters ("Monitor all …", "guarant…")."""


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
    head: str | None = None,
) -> None:
    """Print a table that fits the terminal: the short columns whole, the ``long`` ones (texts,
    reasons) sharing what is left by their weights, cut with … so each row stays one line; ``wide``
    shows them whole, wrapped. Where even the short columns would not fit whole beside the long
    ones, or the terminal is narrow, each row is a record of its own instead, headed by ``head``
    (default: the first long column)."""
    from rich.table import Table
    from rich.text import Text

    widths = [
        max([Text.from_markup(name).cell_len, *(Text.from_markup(row[i]).cell_len for row in rows)])
        for i, (name, _) in enumerate(columns)
    ]
    fixed = sum(w for (name, _), w in zip(columns, widths, strict=True) if name not in long)
    spare = out.width - fixed - 3 * len(columns) - 1
    if out.width < STACK_BELOW or spare < 10 * len(long):
        _records(columns, rows, long, title, head)
        return
    t = Table(title=title)
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


def _records(
    columns: list[tuple[str, str]], rows: list[list[str]], long: dict[str, int], title: str | None, head: str | None
) -> None:
    """Each row as a record, wrapped at whole words: its first long text in bold, then its short
    fields on one indented line ("name value · name value"), then each other long field on a line
    of its own; empty fields left out."""
    from rich.text import Text

    if title:
        out.print(Text.from_markup(title, style="bold"))
    first = next((i for i, (name, _) in enumerate(columns) if name == head or (head is None and name in long)), 0)
    for row in rows:
        out.print(Text.from_markup(row[first], style="bold"))
        fields = [(name, Text.from_markup(row[i])) for i, (name, _) in enumerate(columns) if i != first]
        fields = [(name, value) for name, value in fields if value.plain.strip()]
        short = Text(" · ").join(Text(f"{name} ", style="dim") + value for name, value in fields if name not in long)
        lines = [short] if short.plain else []
        lines += [Text(f"{name}: ", style="dim") + value for name, value in fields if name in long]
        for line in lines:
            for part in line.wrap(out, max(out.width - 2, 20)):
                part.rstrip()
                out.print(Text("  ") + part)
