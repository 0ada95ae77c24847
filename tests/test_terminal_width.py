"""What people read in a terminal of 80 and of 120 columns: no line longer than the terminal (a
line the terminal cut read "0." then "9 h"), and with --wide no word cut to "…". Below 100
columns, tables are stacked records; at 120, a table whose short columns fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from guarantor import console
from guarantor.settings import Settings
from tests.web_server import prepare

WIDE = {"role", "check", "history", "balance"}


def test_every_table_fits_80_and_120_columns(
    env: Settings,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace = str(prepare(tmp_path / "shop", env, cli))
    commands = [
        ["role", "registered nurse"],
        ["check", workspace],
        ["history", "fast-support", "-w", workspace],
        ["balance", workspace],
        ["systems", workspace],
        ["org", workspace],
    ]
    for width in (80, 120):
        monkeypatch.setattr(console.out, "_width", width)  # a terminal: this wide, and wrapping
        monkeypatch.setattr(console.out, "soft_wrap", False)
        for command in commands:
            for wide in [False, True] if command[0] in WIDE else [False]:
                r = cli(*command, *(["--wide"] if wide else []))
                assert r.code in (0, 10, 11, 12, 13), (command, r.err)
                lines = r.out.splitlines()
                assert len(lines) > 2, (command, r.out)
                over = [line for line in lines if len(line) > width]
                assert not over, (width, command, wide, over)
                if wide or width < console.STACK_BELOW:
                    assert "…" not in r.out, (width, command, wide, r.out)
