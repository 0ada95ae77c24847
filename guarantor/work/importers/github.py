"""GitHub issues and pull requests as the REST API returns them, or as `gh api --paginate` writes
them: one JSON array a page, the arrays back to back. Read page by page, never the whole file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from guarantor.errors import InputError
from guarantor.work.importers.base import Item, open_text, parse_time

_REPO = re.compile(r"/repos/([^/]+/[^/]+)")
_REF = re.compile(r"(?:^|[\s(])(?:([\w.-]+/[\w.-]+))?#(\d+)\b")


def _values(path: Path) -> Iterator[tuple[int, Any]]:
    """Top-level JSON values of a file (back to back, as gh writes pages), with their line."""
    decoder = json.JSONDecoder()
    buffer, line, eof = "", 1, False
    with open_text(path) as handle:
        while True:
            stripped = buffer.lstrip()
            line += buffer[: len(buffer) - len(stripped)].count("\n")
            buffer = stripped
            if not buffer and eof:
                return
            try:
                value, end = decoder.raw_decode(buffer)
            except json.JSONDecodeError as exc:
                if not eof:
                    chunk = handle.read(1 << 20)
                    eof = not chunk
                    buffer += chunk
                    continue
                where = line + buffer[: exc.pos].count("\n")
                raise InputError(f"{path}:{where}: invalid JSON: {exc.msg}") from exc
            yield line, value
            line += buffer[:end].count("\n")
            buffer = buffer[end:]


def read(path: Path) -> Iterator[Item]:
    for line, value in _values(path):
        objects = value if isinstance(value, list) else [value]
        for i, obj in enumerate(objects):
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{line}: item {i}: expected an issue object, found {type(obj).__name__}")
            yield _item(obj, path, line, i)


def _item(obj: dict[str, Any], path: Path, line: int, index: int) -> Item:
    where = f"{path}:{line}: item {index}"
    number = obj.get("number")
    if not isinstance(number, int):
        raise InputError(f"{where}: number: missing or not a whole number")
    title = obj.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InputError(f"{where} (#{number}): title: missing")
    match = _REPO.search(str(obj.get("repository_url") or obj.get("url") or ""))
    repo = match.group(1) if match else "github"
    body = obj.get("body") or ""
    is_pr = "pull_request" in obj or "merged_at" in obj
    assignee = (obj.get("assignee") or {}).get("login") if isinstance(obj.get("assignee"), dict) else None
    labels = [lab["name"] if isinstance(lab, dict) else str(lab) for lab in obj.get("labels") or []]
    links = sorted({f"{r or repo}#{n}" for r, n in _REF.findall(body) if f"{r or repo}#{n}" != f"{repo}#{number}"})
    state = str(obj.get("state") or "")
    milestone = obj.get("milestone")
    return Item(
        source="github",
        external_id=f"{repo}#{number}",
        title=title.strip(),
        kind="pull_request" if is_pr else "issue",
        body=body,
        state=state,
        closed=state == "closed",
        created_at=parse_time(obj.get("created_at"), f"{where}: created_at"),
        closed_at=parse_time(obj.get("closed_at"), f"{where}: closed_at"),
        labels=labels,
        assignee=assignee,
        epic=milestone.get("title") if isinstance(milestone, dict) else None,
        url=obj.get("html_url"),
        links=links,
        line=line,
    )
