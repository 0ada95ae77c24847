"""The trackers a sync can read, by name: each builds its API client from the settings and the
environment (tokens never come from a file or a form) and says what scope a sync covers.

``guarantor sync KIND …`` and ``guarantor watch --sync "KIND SCOPE"`` both build trackers here, so a
tracker added to ``TRACKERS`` is one both can use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from guarantor.clock import Clock
from guarantor.db.session import Database
from guarantor.errors import UsageError
from guarantor.settings import Settings
from guarantor.work.service import Exposure
from guarantor.work.sync.driver import SyncResult, Tracker, sync
from guarantor.work.sync.github import GitHub
from guarantor.work.sync.jira import Jira
from guarantor.work.sync.linear import Linear


def github(settings: Settings, env: Mapping[str, str], repo: str) -> tuple[Tracker, str]:
    return GitHub(settings.github_api_url, env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")), repo


def jira(settings: Settings, env: Mapping[str, str], site: str, jql: str, server: bool) -> tuple[Tracker, str]:
    """Cloud: JIRA_EMAIL and JIRA_API_TOKEN; Server and Data Center: a personal access token in JIRA_TOKEN."""
    email = None if server else env.get("JIRA_EMAIL")
    token = env.get("JIRA_TOKEN" if server else "JIRA_API_TOKEN")
    return Jira(site, jql, email, token, server), f"{site.rstrip('/')} {jql}".strip()


def linear(settings: Settings, env: Mapping[str, str], team: str) -> tuple[Tracker, str]:
    return Linear(settings.linear_api_url, env.get("LINEAR_API_KEY")), team


def _site_and_jql(server: bool) -> Callable[[Settings, Mapping[str, str], str], tuple[Tracker, str]]:
    def build(settings: Settings, env: Mapping[str, str], rest: str) -> tuple[Tracker, str]:
        site, _, jql = rest.partition(" ")
        return jira(settings, env, site, jql.strip(), server)

    return build


TRACKERS: dict[str, tuple[str, Callable[[Settings, Mapping[str, str], str], tuple[Tracker, str]]]] = {
    "github": ("OWNER/REPO", github),
    "jira": ("SITE [JQL]", _site_and_jql(server=False)),
    "jira-server": ("SITE [JQL]", _site_and_jql(server=True)),
    "linear": ("TEAM", linear),
}


@dataclass
class Scheduled:
    """A sync ``watch`` runs every ``every``, the first at once."""

    spec: str
    tracker: Tracker
    scope: str
    every: timedelta
    due: datetime | None = None


def scheduled(spec: str, every: timedelta, settings: Settings, env: Mapping[str, str]) -> Scheduled:
    """``spec`` is "KIND SCOPE", such as "github acme/shop" or "jira https://acme.atlassian.net project = PAY"."""
    kind, _, rest = spec.strip().partition(" ")
    if kind not in TRACKERS or not rest.strip():
        forms = "; ".join(f'"{name} {scope}"' for name, (scope, _) in TRACKERS.items())
        raise UsageError(f"--sync {spec!r}: write one of {forms}.")
    tracker, scope = TRACKERS[kind][1](settings, env, rest.strip())
    return Scheduled(spec, tracker, scope, every)


def run_due(
    db: Database,
    schedule: list[Scheduled],
    clock: Clock,
    exposure: Exposure | None,
    settings: Settings,
    report: Callable[[Scheduled, SyncResult], None],
    on_error: Callable[[Scheduled, Exception], None],
) -> None:
    """Run each sync that is due; a failing one is reported and tried again at its next turn (it
    resumes where it stopped), and never stops the others or the watch."""
    for entry in schedule:
        now = clock()
        if entry.due is not None and now < entry.due:
            continue
        entry.due = now + entry.every
        try:
            result = sync(
                db, entry.tracker, entry.scope, exposure, clock, settings.download_timeout_s, settings.sync_max_wait_s
            )
        except Exception as exc:  # a tracker down or a token revoked must not end the watch
            on_error(entry, exc)
        else:
            report(entry, result)
