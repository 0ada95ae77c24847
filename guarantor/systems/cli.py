"""`guarantor systems`: the legacy systems and whether each may be retired."""

from __future__ import annotations

from pathlib import Path

from guarantor import cli_options
from guarantor.console import out


def systems(
    workspace: Path | None = cli_options.ARGUMENT,
    workspace_option: Path | None = cli_options.OPTION,
    as_json: bool = cli_options.JSON,
) -> None:
    """The legacy systems, who they serve, and whether each may be retired (and what blocks it)."""
    from guarantor.clock import utcnow
    from guarantor.guarantees.service import outcome_states
    from guarantor.systems.service import recorded

    with cli_options.opened(workspace, workspace_option) as (session, ws):
        rows = recorded(session, ws, outcome_states(session, ws, utcnow()))
    if as_json:
        return cli_options.print_json(rows)
    for r in rows:
        verdict = "[green]ready to retire[/]" if r.ready else "[red]not ready[/]"
        users = f", {r.users:,} users" if r.users else ""
        out.print(f"[bold]{r.name}[/] ({r.id}) — {r.does}; for {r.for_whom}{users}: {verdict}")
        for outcome, why in r.blocking.items():
            out.print(f"  blocked by {outcome}: {why}")
