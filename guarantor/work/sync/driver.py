"""The sync loop every tracker shares: only what changed since the last sync, page by page.

A tracker asks for items oldest update first, so the cursor (the newest update stored) only moves
forward. Each page's items, their exposure and the cursor are one transaction: a sync killed on any
page resumes from the last page it finished, and what it reads again changes nothing (items are
keyed on source and id).

Rate limits are waited out as the trackers document them: ``Retry-After`` (GitHub's secondary
limits, Jira Cloud, Linear), a spent budget with its reset time (``x-ratelimit-remaining: 0`` and
``x-ratelimit-reset`` in epoch seconds, Linear's ``x-ratelimit-requests-reset`` in milliseconds),
GitHub's secondary limit without a header (a minute). A wait longer than
``GUARANTOR_SYNC_MAX_WAIT_S`` stops the sync with the time to come back; it resumes from there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from guarantor.clock import Clock
from guarantor.db.session import Database
from guarantor.errors import Forbidden, NetworkError, NotFound
from guarantor.work import repository
from guarantor.work.importers.base import Item
from guarantor.work.service import Exposure, classify_missing, import_items, keep_counts

RETRIES = 5
"""Attempts at one page through server errors and rate limits before the sync stops."""
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None


@dataclass
class Page:
    items: list[Item]
    newest: str | None  # the newest update on the page, in the tracker's own form (ISO 8601)
    next: Request | None


class Tracker(Protocol):
    """One tracker's API: how to ask for what changed in a scope, and how to read a page."""

    @property
    def source(self) -> str: ...

    def headers(self) -> dict[str, str]: ...

    def first(self, scope: str, since: str | None) -> Request: ...

    def read(self, body: Any, request: Request, links: dict[str, str]) -> Page:
        """A page from the answer's JSON ``body`` and the ``Link`` header's URLs by rel."""
        ...


@dataclass
class SyncResult:
    source: str
    scope: str
    pages: int = 0
    items: int = 0
    inserted: int = 0
    updated: int = 0
    waited_s: float = 0.0
    since: str | None = None
    cursor: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """What a person reads after a sync."""
        lines = [
            f"{self.items:,} items in {self.pages} page(s): {self.inserted:,} new, {self.updated:,} updated.",
            f"Changes since {self.since}." if self.since else "First sync: everything in scope.",
        ]
        if self.waited_s:
            lines.append(f"Waited {self.waited_s:.0f} s for the tracker's rate limit.")
        return lines


def sync(
    db: Database,
    tracker: Tracker,
    scope: str,
    exposure: Exposure | None,
    clock: Clock,
    timeout_s: float,
    max_wait_s: float,
    sleep: Sleep = time.sleep,
    progress: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    with db.transaction() as session:
        since = repository.sync_cursor(session, tracker.source, scope)
    result = SyncResult(tracker.source, scope, since=since, cursor=since)
    request: Request | None = tracker.first(scope, since)
    with (
        _counted(db),
        httpx.Client(headers=tracker.headers(), timeout=timeout_s, follow_redirects=True) as client,
    ):
        while request is not None:
            response = _send(client, request, max_wait_s, sleep, result)
            links = {str(rel): str(link.get("url")) for rel, link in response.links.items()}
            page = tracker.read(_json(response, request.url), request, links)
            with db.transaction() as session:
                counts = import_items(session, page.items, clock(), exposure)
                if page.newest and page.newest > (result.cursor or ""):
                    result.cursor = page.newest
                    repository.save_sync_cursor(session, tracker.source, scope, page.newest, clock())
            result.pages += 1
            result.items += len(page.items)
            result.inserted += counts.inserted
            result.updated += counts.updated
            if progress:
                progress(result)
            request = page.next
        if exposure:
            with db.transaction() as session:
                classify_missing(session, exposure)
    return result


@contextmanager
def _counted(db: Database) -> Iterator[None]:
    """The workspace's item counts kept once the sync ends, also when it stops on a page (a rate limit,
    a server down): the pages stored so far are counted."""
    try:
        yield
    finally:
        with db.transaction() as session:
            keep_counts(session)


def _send(
    client: httpx.Client, request: Request, max_wait_s: float, sleep: Sleep, result: SyncResult
) -> httpx.Response:
    for _ in range(RETRIES):
        try:
            response = client.request(request.method, request.url, params=request.params, json=request.json)
        except httpx.HTTPError as exc:
            raise NetworkError(
                f"Could not reach {request.url}: {exc}", hint="Check the network and the API URL."
            ) from exc
        wait = _wait(response)
        if wait is None:
            if response.status_code < 500:
                _refused(response, request.url)
                return response
            wait = 2.0
        if wait > max_wait_s:
            raise NetworkError(
                f"The tracker's rate limit asks to wait {wait:.0f} s before {request.url}.",
                hint="Run the sync again later: it resumes from the last page it stored.",
            )
        sleep(wait)
        result.waited_s += wait
    raise NetworkError(f"{request.url} still fails after {RETRIES} attempts (last: HTTP {response.status_code}).")


def _wait(response: httpx.Response) -> float | None:
    """Seconds the tracker asks to wait before asking again, or None when it does not."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    retry = headers.get("retry-after", "").strip()
    if retry.isdigit():
        return float(retry)
    now = datetime.now(UTC).timestamp()
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
        return max(0.0, float(headers["x-ratelimit-reset"]) - now) + 1
    if headers.get("x-ratelimit-requests-reset", "").isdigit():
        return max(0.0, float(headers["x-ratelimit-requests-reset"]) / 1000 - now) + 1
    if "secondary rate limit" in response.text.lower():
        return 60.0  # GitHub's advice when a secondary limit gives no Retry-After: wait at least a minute
    return None if response.status_code == 403 else 60.0


def _refused(response: httpx.Response, url: str) -> None:
    code = response.status_code
    if code == 401:
        raise Forbidden(f"The tracker refused the token for {url} (401).", hint="Check the token in the environment.")
    if code == 403:
        raise Forbidden(f"The tracker refused {url} (403): {_message(response)}", hint="Check the token's scopes.")
    if code == 404:
        raise NotFound(f"{url}: not found, or the token cannot see it (404): {_message(response)}")
    if code >= 400:
        raise NetworkError(f"{url} answered HTTP {code}: {_message(response)}")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        messages = body.get("errorMessages") or [body.get("message", "")]
        return "; ".join(str(m) for m in messages)[:200]
    return ""


def _json(response: httpx.Response, url: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise NetworkError(f"{url} did not answer JSON: {response.text[:120]!r}") from exc
