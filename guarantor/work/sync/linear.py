"""Linear: a team's issues updated since the last sync, through the GraphQL API
(``POST https://api.linear.app/graphql``), paged by ``after``; the key from ``LINEAR_API_KEY``.

Linear pages with an opaque cursor that does not outlive a run, so the sync's cursor (the newest
``updatedAt``) is stored with the last page: a sync stopped midway starts again from the previous
cursor, and what it reads again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guarantor.errors import NetworkError
from guarantor.work.importers.base import Item, parse_number, parse_time
from guarantor.work.sync.driver import Page, Request

PAGE = 100
QUERY = """
query Issues($first: Int!, $after: String, $filter: IssueFilter) {
  issues(first: $first, after: $after, filter: $filter, orderBy: updatedAt) {
    nodes {
      identifier title description url createdAt updatedAt startedAt completedAt canceledAt estimate
      state { name type } labels { nodes { name } } assignee { name } project { name } team { key name }
      parent { identifier } cycle { name number }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass
class Linear:
    api_url: str
    key: str | None
    source: str = "linear"
    newest: str = field(default="", init=False)

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", **({"Authorization": self.key} if self.key else {})}

    def first(self, scope: str, since: str | None) -> Request:
        self.newest = since or ""
        issue_filter: dict[str, Any] = {"team": {"key": {"eq": scope}}}
        if since:
            issue_filter["updatedAt"] = {"gt": since}
        return Request(
            "POST", self.api_url, json={"query": QUERY, "variables": {"first": PAGE, "filter": issue_filter}}
        )

    def read(self, body: Any, request: Request, links: dict[str, str]) -> Page:
        if isinstance(body, dict) and body.get("errors"):
            messages = "; ".join(str(e.get("message", e)) for e in body["errors"] if isinstance(e, dict))
            raise NetworkError(f"{request.url} answered errors: {messages[:300]}")
        issues = ((body or {}).get("data") or {}).get("issues") if isinstance(body, dict) else None
        if not isinstance(issues, dict) or not isinstance(issues.get("nodes"), list):
            raise NetworkError(f"{request.url} did not answer Linear's issues connection.")
        nodes = [n for n in issues["nodes"] if isinstance(n, dict)]
        self.newest = max([self.newest, *(str(n.get("updatedAt") or "") for n in nodes)])
        info = issues.get("pageInfo") or {}
        if info.get("hasNextPage") and info.get("endCursor"):
            variables = {**(request.json or {}).get("variables", {}), "after": info["endCursor"]}
            following = Request("POST", request.url, json={"query": QUERY, "variables": variables})
            return Page([_item(n, f"{request.url} {n.get('identifier')}") for n in nodes], None, following)
        return Page([_item(n, f"{request.url} {n.get('identifier')}") for n in nodes], self.newest or None, None)


def _item(node: dict[str, Any], where: str) -> Item:
    state = node.get("state") or {}
    ended = node.get("completedAt") or node.get("canceledAt")
    team = node.get("team") or {}
    return Item(
        source="linear",
        external_id=str(node.get("identifier") or ""),
        title=str(node.get("title") or ""),
        body=str(node.get("description") or ""),
        state=str(state.get("name") or ""),
        closed=bool(ended) or state.get("type") in ("completed", "canceled"),
        created_at=parse_time(node.get("createdAt"), f"{where}: createdAt"),
        started_at=parse_time(node.get("startedAt"), f"{where}: startedAt"),
        closed_at=parse_time(ended, f"{where}: completedAt"),
        labels=[str(n.get("name")) for n in ((node.get("labels") or {}).get("nodes") or []) if n.get("name")],
        assignee=str((node.get("assignee") or {}).get("name") or "") or None,
        estimate=parse_number(None if node.get("estimate") is None else str(node["estimate"]), f"{where}: estimate"),
        epic=str((node.get("project") or {}).get("name") or "") or None,
        components=[str(team.get("name"))] if team.get("name") else [],
        sprint=str((node.get("cycle") or {}).get("name") or (node.get("cycle") or {}).get("number") or "") or None,
        url=node.get("url") or None,
        links=[str(node["parent"]["identifier"])] if (node.get("parent") or {}).get("identifier") else [],
    )
