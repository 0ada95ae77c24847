"""GitHub issues and pull requests as the REST API returns them, or as `gh api --paginate` writes
them: one JSON array a page, the arrays back to back. Read page by page, never the whole file.

Also as `gh issue list --json …` and `gh pr list --json …` write them: GitHub's GraphQL names
(``createdAt``, ``closedAt``, ``mergedAt``), states in capitals (``OPEN``, ``CLOSED``, ``MERGED``),
and the repository only in the page's ``url``. Read as REST names, such a file imported every
item open, undated and in no repository."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from guarantor.errors import InputError
from guarantor.inputs import lines as lines_json
from guarantor.inputs.dates import DateOrder
from guarantor.inputs.lines import TextLines, text_field
from guarantor.work.importers import Importer
from guarantor.work.importers.base import Item, parse_time

_REPO = re.compile(r"/repos/([^/]+/[^/]+)")
_PAGE = re.compile(r"^https?://[^/]+/([^/]+/[^/]+)/(issues|pull)/\d+")
"""An issue's or pull request's page (github.com or an Enterprise host): its repository and kind."""
_CLOSED = {"closed", "merged"}
_REF = re.compile(r"(?:^|[\s(])(?:([\w.-]+/[\w.-]+))?#(\d+)\b")


LONGEST_LINE = 1 << 30
"""JSON written without line breaks (Python's ``json.dump``, ``jq -c``) holds a whole export on
one line, past the 1 MiB a line of text may take elsewhere. A line here is as long as the JSON
value it holds, read whole either way."""
_FIRST_LINES = 4096
"""Lines read before a value is first tried; twice as many each time it is not whole yet, so a
value is parsed again a few times, not once every 4,096 lines: a 17 MB export written as one
indented array took 21.9 s, where ``json.load`` takes 0.3 s."""


def _values(path: Path) -> Iterator[tuple[int, Any]]:
    """Top-level JSON values of a file (back to back, as gh writes pages), with their line."""
    decoder = lines_json.decoder()
    buffer, line, eof, more = "", 1, False, _FIRST_LINES
    with TextLines(path, longest=LONGEST_LINE) as lines:
        source = iter(lines)
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
                    chunk = "".join(itertools.islice(source, more))
                    eof, more = not chunk, more * 2
                    buffer += chunk
                    continue
                where = line + buffer[: exc.pos].count("\n")
                raise InputError(f"{lines.name}:{where}: invalid JSON: {exc.msg}") from exc
            except RecursionError as exc:
                raise InputError(f"{lines.name}:{line}: JSON nested too deeply") from exc
            except ValueError as exc:  # a number too large for a float
                raise InputError(f"{lines.name}:{line}: {exc}") from exc
            yield line, value
            line += buffer[:end].count("\n")
            buffer, more = buffer[end:], _FIRST_LINES


def read(path: Path, _mapping: Mapping[str, str], _order: DateOrder) -> tuple[None, Iterator[Item]]:
    """JSON has its own names and ISO dates: no column to report, no order to learn."""
    return None, _items(path)


def _items(path: Path) -> Iterator[Item]:
    for line, value in _values(path):
        objects = value if isinstance(value, list) else [value]
        for i, obj in enumerate(objects):
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{line}: item {i}: expected an issue object, found {type(obj).__name__}")
            yield item(obj, f"{path}:{line}: item {i}", line)


def item(obj: dict[str, Any], where: str, line: int = 0) -> Item:
    """An issue or pull request as the REST API returns it; ``where`` names it in errors."""
    number = obj.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise InputError(f"{where}: number: missing or not a positive whole number")
    where = f"{where} (#{number})"
    title = text_field(obj.get("title"), where, "title").strip()
    body = text_field(obj.get("body"), where, "body", required=False)
    page = _PAGE.match(_optional(obj, "html_url", where) or _optional(obj, "url", where))
    match = _REPO.search(_optional(obj, "repository_url", where) or _optional(obj, "url", where))
    repo = match.group(1) if match else page.group(1) if page else "github"
    is_pr = "pull_request" in obj or "merged_at" in obj or "mergedAt" in obj or bool(page and page.group(2) == "pull")
    assignees = obj.get("assignees") or []
    if not isinstance(assignees, list):
        raise InputError(f"{where}: assignees: expected a list, found {type(assignees).__name__}")
    assignee = _named(obj.get("assignee") or (assignees[0] if assignees else None), "login", where, "assignee")
    raw_labels = obj.get("labels") or []
    if not isinstance(raw_labels, list):
        raise InputError(f"{where}: labels: expected a list, found {type(raw_labels).__name__}")
    labels = [
        text_field(lab, where, f"labels.{k}") if isinstance(lab, str) else _named(lab, "name", where, f"labels.{k}")
        for k, lab in enumerate(raw_labels)
    ]
    links = sorted({f"{r or repo}#{n}" for r, n in _REF.findall(body) if f"{r or repo}#{n}" != f"{repo}#{number}"})
    state = _optional(obj, "state", where).lower()
    return Item(
        source="github",
        external_id=f"{repo}#{number}",
        title=title,
        kind="pull_request" if is_pr else "issue",
        body=body,
        state=state,
        closed=state in _CLOSED,
        created_at=_time(obj, ("created_at", "createdAt"), where),
        closed_at=_time(obj, ("closed_at", "closedAt"), where),
        labels=[label for label in labels if label],
        assignee=assignee,
        epic=_named(obj.get("milestone"), "title", where, "milestone"),
        url=_optional(obj, "html_url", where) or (page.group(0) if page else None),
        links=links,
        line=line,
    )


def _time(obj: dict[str, Any], keys: tuple[str, str], where: str) -> datetime | None:
    """A time under its REST name or its GraphQL one (gh's ``--json``)."""
    key = next((k for k in keys if obj.get(k) is not None), keys[0])
    return parse_time(_optional(obj, key, where), f"{where}: {key}")


def _optional(obj: dict[str, Any], key: str, where: str) -> str:
    return text_field(obj.get(key), where, key, required=False)


def _named(value: Any, key: str, where: str, field: str) -> str | None:
    """The name inside an object such as a label ({"name": …}) or a user ({"login": …}); None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError(f"{where}: {field}: expected an object with {key}, found {type(value).__name__}")
    return text_field(value.get(key), where, f"{field}.{key}")


IMPORTER = Importer(
    "GitHub: gh api --paginate 'repos/OWNER/REPO/issues?state=all' > issues.json, or gh issue list / gh pr list --json",
    read,
)
