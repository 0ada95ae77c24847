"""GitHub: ``GET /repos/OWNER/REPO/issues?state=all&sort=updated&direction=asc&since=…`` (issues and
pull requests), pages followed through the ``Link`` header; the token from ``GITHUB_TOKEN``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guarantor.errors import InputError, NetworkError
from guarantor.work.importers.github import item
from guarantor.work.sync.driver import Page, Request

PAGE = 100
TOKEN_ENV = ("GITHUB_TOKEN", "GH_TOKEN")


@dataclass(frozen=True)
class GitHub:
    api_url: str
    token: str | None
    source: str = "github"

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def first(self, scope: str, since: str | None) -> Request:
        if scope.count("/") != 1 or not all(scope.split("/")):
            raise InputError(f"{scope!r} is not a repository: write OWNER/REPO, such as acme/shop")
        params = {"state": "all", "sort": "updated", "direction": "asc", "per_page": str(PAGE)}
        if since:
            params["since"] = since
        return Request("GET", f"{self.api_url.rstrip('/')}/repos/{scope}/issues", params)

    def read(self, body: Any, request: Request, links: dict[str, str]) -> Page:
        if not isinstance(body, list) or not all(isinstance(obj, dict) for obj in body):
            raise NetworkError(f"{request.url} did not answer a list of issues.")
        items = [item(obj, f"{request.url} item {i}") for i, obj in enumerate(body)]
        newest = max((str(obj.get("updated_at") or "") for obj in body), default="") or None
        following = links.get("next")
        return Page(items, newest, Request("GET", following) if following else None)
