"""Live sync from a tracker's API: only what changed since the last sync, page by page.

GitHub: ``GET /repos/OWNER/REPO/issues?state=all&sort=updated&direction=asc&since=…`` (issues and
pull requests), pages followed through the ``Link`` header. Oldest update first, so the cursor (the
newest ``updated_at`` stored) only moves forward: each page's items, their exposure and the cursor are
one transaction, so a sync killed on any page resumes from the last page it finished, and the pages
it reads again change nothing (items are keyed on source and id).

Rate limits are respected as GitHub documents them: a 403 or 429 with ``Retry-After`` (the secondary
limits) waits that long; one with ``x-ratelimit-remaining: 0`` waits until ``x-ratelimit-reset``; a
wait longer than ``GUARANTOR_SYNC_MAX_WAIT_S`` stops the sync with the time to come back (it resumes
from where it stopped).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from guarantor.clock import Clock
from guarantor.db.session import Database
from guarantor.errors import Forbidden, InputError, NetworkError, NotFound
from guarantor.work import repository
from guarantor.work.importers.github import item
from guarantor.work.service import Exposure, classify_missing, import_items

PAGE = 100
RETRIES = 5
"""Attempts at one page through server errors and rate limits before the sync stops."""
Sleep = Callable[[float], None]


@dataclass
class SyncResult:
    pages: int = 0
    items: int = 0
    inserted: int = 0
    updated: int = 0
    waited_s: float = 0.0
    since: str | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class GitHub:
    """Where and how to reach GitHub's REST API (or a GitHub Enterprise server)."""

    api_url: str
    token: str | None
    timeout_s: float
    max_wait_s: float


def sync_github(
    db: Database,
    repo: str,
    api: GitHub,
    exposure: Exposure | None,
    clock: Clock,
    sleep: Sleep = time.sleep,
    progress: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise InputError(f"{repo!r} is not a repository: write OWNER/REPO, such as acme/shop")
    with db.transaction() as session:
        since = repository.sync_cursor(session, "github", repo)
    result = SyncResult(since=since, cursor=since)
    params = {"state": "all", "sort": "updated", "direction": "asc", "per_page": str(PAGE)}
    if since:
        params["since"] = since
    url: str | None = f"{api.api_url.rstrip('/')}/repos/{repo}/issues"
    first: dict[str, str] | None = params
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if api.token:
        headers["Authorization"] = f"Bearer {api.token}"
    with httpx.Client(headers=headers, timeout=api.timeout_s, follow_redirects=True) as client:
        while url:
            response = _get(client, url, first, api, sleep, result)
            first = None  # the next page's link carries its own query
            page = _page(response, url)
            items = [item(obj, f"{url} item {i}") for i, obj in enumerate(page)]
            with db.transaction() as session:
                counts = import_items(session, items, clock(), exposure)
                newest = max((str(obj.get("updated_at") or "") for obj in page), default="")
                if newest and newest > (result.cursor or ""):
                    result.cursor = newest
                    repository.save_sync_cursor(session, "github", repo, newest, clock())
            result.pages += 1
            result.items += len(items)
            result.inserted += counts.inserted
            result.updated += counts.updated
            if progress:
                progress(result)
            url = response.links.get("next", {}).get("url")
    if exposure:
        with db.transaction() as session:
            classify_missing(session, exposure)
    return result


def _get(
    client: httpx.Client, url: str, params: dict[str, str] | None, api: GitHub, sleep: Sleep, result: SyncResult
) -> httpx.Response:
    for _ in range(RETRIES):
        try:
            response = client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise NetworkError(
                f"Could not reach {url}: {exc}", hint="Check the network and GUARANTOR_GITHUB_API_URL."
            ) from exc
        wait = _wait(response)
        if wait is None:
            if response.status_code >= 500:
                wait = 2.0
            else:
                _refused(response, url)
                return response
        if wait > api.max_wait_s:
            raise NetworkError(
                f"GitHub's rate limit asks to wait {wait:.0f} s before {url}.",
                hint="Run the sync again later: it resumes from the last page it stored.",
            )
        sleep(wait)
        result.waited_s += wait
    raise NetworkError(f"{url} still fails after {RETRIES} attempts (last: HTTP {response.status_code}).")


def _wait(response: httpx.Response) -> float | None:
    """Seconds GitHub asks to wait before asking again, or None when it does not."""
    if response.status_code not in (403, 429):
        return None
    retry = response.headers.get("retry-after")
    if retry is not None and retry.strip().isdigit():
        return float(retry)
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        if reset.isdigit():
            return max(0.0, float(reset) - datetime.now(UTC).timestamp()) + 1
    if "secondary rate limit" in response.text.lower():
        return 60.0  # GitHub's advice when a secondary limit gives no Retry-After: wait at least a minute
    return None


def _refused(response: httpx.Response, url: str) -> None:
    code = response.status_code
    if code == 401:
        raise Forbidden(f"GitHub refused the token for {url} (401).", hint="Set GITHUB_TOKEN to a valid token.")
    if code == 403:
        raise Forbidden(f"GitHub refused {url} (403): {_message(response)}", hint="Check the token's scopes.")
    if code == 404:
        raise NotFound(
            f"{url}: no such repository, or the token cannot see it (404).",
            hint="Write OWNER/REPO as on github.com; a private repository needs GITHUB_TOKEN.",
        )
    if code >= 400:
        raise NetworkError(f"{url} answered HTTP {code}: {_message(response)}")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message", ""))[:200] if isinstance(body, dict) else ""


def _page(response: httpx.Response, url: str) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError as exc:
        raise NetworkError(f"{url} did not answer JSON: {response.text[:120]!r}") from exc
    if not isinstance(body, list) or not all(isinstance(obj, dict) for obj in body):
        raise NetworkError(f"{url} did not answer a list of issues.")
    return body


def summary(result: SyncResult) -> list[str]:
    """What a person reads after a sync."""
    lines = [
        f"{result.items:,} items in {result.pages} page(s): {result.inserted:,} new, {result.updated:,} updated.",
        f"Changes since {result.since}." if result.since else "First sync: every issue and pull request.",
    ]
    if result.waited_s:
        lines.append(f"Waited {result.waited_s:.0f} s for GitHub's rate limit.")
    return lines
