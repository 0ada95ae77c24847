"""Jira: issues a JQL query selects, updated since the last sync, oldest update first.

Jira Cloud: ``GET /rest/api/3/search/jql`` paged by ``nextPageToken``, basic auth with
``JIRA_EMAIL`` and ``JIRA_API_TOKEN``. Jira Server and Data Center (``--server``):
``GET /rest/api/2/search`` paged by ``startAt``, a personal access token in ``JIRA_TOKEN``. JQL
compares ``updated`` at the minute, in the user's time zone, which the API does not tell: a sync
asks for a day before its cursor, and what it reads again changes nothing.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from guarantor.errors import NetworkError
from guarantor.work.importers.base import Item, parse_number, parse_time
from guarantor.work.sync.driver import Page, Request

PAGE = 100
MARGIN = timedelta(days=1)
FIELDS = (
    "summary,issuetype,description,status,created,updated,resolutiondate,statuscategorychangedate,labels,"
    "assignee,components,parent,issuelinks,customfield_10016,customfield_10026,"  # the usual story-point ids
    "customfield_10020"  # Jira Cloud's sprint field
)
_POINTS = ("customfield_10016", "customfield_10026")


@dataclass(frozen=True)
class Jira:
    site: str
    jql: str
    email: str | None
    token: str | None
    server: bool = False
    source: str = "jira"

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.email and self.token:
            pair = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        elif self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def first(self, scope: str, since: str | None) -> Request:
        own = re.sub(r"\s*\border\s+by\b.*$", "", self.jql, flags=re.I | re.S).strip()  # the sync orders by update
        jql = f"({own})" if own else ""
        if since:
            start = parse_time(since, "sync cursor")
            assert start is not None
            after = f'updated >= "{(start - MARGIN):%Y/%m/%d %H:%M}"'
            jql = f"{jql} AND {after}" if jql else after
        params = {"jql": f"{jql} ORDER BY updated ASC".strip(), "fields": FIELDS, "maxResults": str(PAGE)}
        path = "/rest/api/2/search" if self.server else "/rest/api/3/search/jql"
        if self.server:
            params["startAt"] = "0"
        return Request("GET", self.site.rstrip("/") + path, params)

    def read(self, body: Any, request: Request, links: dict[str, str]) -> Page:
        if not isinstance(body, dict) or not isinstance(body.get("issues"), list):
            raise NetworkError(f"{request.url} did not answer Jira's search result (no issues list).")
        issues = [i for i in body["issues"] if isinstance(i, dict)]
        items = [_item(issue, f"{request.url} issue {n}") for n, issue in enumerate(issues)]
        newest = max((_updated(i) for i in issues), default="") or None
        params = dict(request.params or {})
        if self.server:
            start = int(params.get("startAt", "0")) + len(issues)
            more = issues and start < int(body.get("total", 0))
            params["startAt"] = str(start)
        else:
            token = body.get("nextPageToken")
            more = bool(token) and not body.get("isLast", False)
            params["nextPageToken"] = str(token)
        return Page(items, newest, Request("GET", request.url, params) if more else None)


def _updated(issue: dict[str, Any]) -> str:
    """An issue's update time in UTC ISO form, so that cursors compare as text."""
    when = parse_time(str((issue.get("fields") or {}).get("updated") or ""), "updated")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""


def _text(node: Any) -> str:
    """A description as text: Jira Cloud sends a document (ADF), Server a string."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        return str(node.get("text", "")) + " ".join(_text(c) for c in node.get("content", []) or [])
    if isinstance(node, list):
        return " ".join(_text(c) for c in node)
    return ""


def _name(value: Any, key: str = "name") -> str:
    return str(value.get(key) or "") if isinstance(value, dict) else ""


def _item(issue: dict[str, Any], where: str) -> Item:
    fields = issue.get("fields") or {}
    status = fields.get("status") or {}
    closed = _name(status.get("statusCategory"), "key") == "done" or bool(fields.get("resolutiondate"))
    ended = fields.get("resolutiondate") or (fields.get("statuscategorychangedate") if closed else None)
    parent = fields.get("parent") or {}
    points = next((fields[k] for k in _POINTS if fields.get(k) is not None), None)
    links = []
    for link in fields.get("issuelinks") or []:
        other = (link or {}).get("outwardIssue") or (link or {}).get("inwardIssue") or {}
        if other.get("key"):
            links.append(str(other["key"]))
    return Item(
        source="jira",
        external_id=str(issue.get("key") or ""),
        title=str(fields.get("summary") or ""),
        kind=(_name(fields.get("issuetype")) or "issue").lower(),
        body=_text(fields.get("description")).strip(),
        state=_name(status),
        closed=closed,
        created_at=parse_time(fields.get("created"), f"{where}: created"),
        closed_at=parse_time(ended, f"{where}: closed"),
        labels=[str(label) for label in fields.get("labels") or []],
        assignee=_name(fields.get("assignee"), "displayName") or None,
        estimate=parse_number(None if points is None else str(points), f"{where}: story points"),
        epic=_name(parent.get("fields"), "summary") or parent.get("key") or None,
        components=[_name(c) for c in fields.get("components") or [] if _name(c)],
        sprint=next((_name(s) for s in reversed(fields.get("customfield_10020") or []) if _name(s)), None),
        url=None,
        links=sorted(set(links)),
    )
