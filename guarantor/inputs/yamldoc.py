"""YAML from people and from strangers: one document of plain data, with where each value stood.

PyYAML's composer and constructors recurse once per level of nesting and expand every alias into
a copy, so a 343-byte file of nested aliases takes minutes and gigabytes, and 5,000 levels of
brackets end in a RecursionError. This reader builds the data from libyaml's event stream in one
pass with an explicit stack instead: nesting deeper than ``MAX_DEPTH`` and alias expansion beyond
``MAX_ALIAS_NODES`` (or the document's own size, whichever is larger) are refused at the event
that crosses the limit, with its line and column; a recursive alias is refused where it is used.
An alias shares the anchored value instead of copying it, so a refused bomb costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import yaml
from yaml import events
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from guarantor.errors import Problem, TooLarge, ValidationFailed
from guarantor.inputs.lines import LONE_SURROGATE, SURROGATE

Path_ = tuple[str | int, ...]
Marks = dict[Path_, tuple[int, int]]

MAX_DEPTH = 64
"""Levels of nesting: a workspace needs about 8."""
MAX_ALIAS_NODES = 10_000
"""Values that aliases may add beyond the document's own, when the document is smaller than that."""
MAX_BYTES = 64 << 20
"""The largest YAML text read (64 MiB, about 600,000 tasks)."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = SafeConstructor()
_resolver = Resolver()
_STR = "tag:yaml.org,2002:str"
_DEFAULT_TAGS = {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_PLAIN_SCALARS = {f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "timestamp")}
"""The scalars a workspace is written in; ``!!binary`` bytes, for one, were read as a name."""


@dataclass(slots=True)
class _Open:
    """A mapping or sequence whose end event has not come yet."""

    value: dict[str, Any] | list[Any]
    is_list: bool
    path: Path_
    anchor: str | None
    size: int = 1  # values inside it, itself included, aliases expanded
    key: str | None = None  # a mapping's key waiting for its value
    key_mark: tuple[int, int] = (0, 0)
    keys_seen: set[str] = field(default_factory=set)


class _Refused(Exception):
    def __init__(self, problem: Problem, too_large: bool = False) -> None:
        self.problem, self.too_large = problem, too_large


def load(text: str, name: str) -> tuple[Any, Marks, list[Problem]]:
    """The document's data, the (line, column) of each value's path, and the problems that do not
    stop reading (duplicate keys). Anything that does stop it raises ValidationFailed (or TooLarge)."""
    if len(text) > MAX_BYTES:
        raise TooLarge(f"{name}: larger than {MAX_BYTES >> 20} MiB; a workspace file is far smaller.")
    problems: list[Problem] = []
    marks: Marks = {}
    try:
        root = _build(text, name, marks, problems)
    except _Refused as exc:
        if exc.too_large:
            raise TooLarge(str(exc.problem)) from None
        raise ValidationFailed([exc.problem]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ValidationFailed([Problem(name, line, col, "", f"invalid YAML: {exc.problem or exc}")]) from exc
    except yaml.YAMLError as exc:  # the reader's complaint about a character, with its offset
        position = getattr(exc, "position", None)
        line, col = _line_col(text, position) if isinstance(position, int) else (None, None)
        reason = getattr(exc, "reason", None) or str(exc)
        raise ValidationFailed([Problem(name, line, col, "", f"invalid YAML: {reason}")]) from exc
    return root, marks, problems


def _line_col(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def _mark(event: events.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


def _build(text: str, name: str, marks: Marks, problems: list[Problem]) -> Any:
    stack: list[_Open] = []
    anchors: dict[str, tuple[Any, int]] = {}
    open_anchors: set[str] = set()
    documents = 0
    own = expanded = 0
    root: Any = None

    def refuse(event: events.Event, message: str, path: Path_ = (), too_large: bool = False) -> _Refused:
        return _Refused(Problem(name, *_mark(event), ".".join(map(str, path)), message), too_large)

    def child_path(event: events.Event) -> Path_ | None:
        """Where the event's value goes; None when it is a mapping's key."""
        if not stack:
            return ()
        parent = stack[-1]
        if parent.is_list:
            return (*parent.path, len(parent.value))
        return None if parent.key is None else (*parent.path, parent.key)

    def value_path(event: events.Event) -> Path_:
        path = child_path(event)
        if path is None:
            raise refuse(event, "a key must be plain text, not a mapping, a list or an alias", stack[-1].path)
        return path

    def place(event: events.Event, value: Any, size: int) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        parent = stack[-1]
        parent.size += size
        if parent.is_list:
            parent.value.append(value)  # type: ignore[union-attr]
            return
        if parent.key is None:  # this value is a key
            key = str(value)
            mark = _mark(event)
            if key in parent.keys_seen:
                problems.append(Problem(name, *mark, ".".join(map(str, (*parent.path, key))), "duplicate key"))
            parent.keys_seen.add(key)
            parent.key, parent.key_mark = key, mark
            return
        parent.value[parent.key] = value  # type: ignore[call-overload]
        # A field's problem is reported where its key is written, not where its value starts.
        marks[(*parent.path, parent.key)] = parent.key_mark
        parent.key = None

    for event in yaml.parse(text, Loader=_Loader):
        kind = type(event)  # compared by identity: this loop runs once per value of the file
        anchor: str | None = getattr(event, "anchor", None)
        if kind is events.ScalarEvent:
            path = child_path(event)
            if path is not None:
                marks[path] = _mark(event)
            value = _scalar(cast(events.ScalarEvent, event), name, path if path is not None else stack[-1].path)
            own += 1
            if anchor:
                anchors[anchor] = (value, 1)
            place(event, value, 1)
        elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
            path = value_path(event)
            if len(stack) >= MAX_DEPTH:
                raise refuse(event, f"nested deeper than {MAX_DEPTH} levels", path, too_large=True)
            tag = getattr(event, "tag", None)
            if tag not in _DEFAULT_TAGS:
                raise refuse(event, f"the tag {tag} is not supported: write plain data", path)
            marks[path] = _mark(event)
            own += 1
            if anchor:
                open_anchors.add(anchor)
            is_list = kind is events.SequenceStartEvent
            stack.append(_Open([] if is_list else {}, is_list, path, anchor))
        elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
            done = stack.pop()
            if done.anchor:
                open_anchors.discard(done.anchor)
                anchors[done.anchor] = (done.value, done.size)
            place(event, done.value, done.size)
        elif kind is events.AliasEvent:
            path = value_path(event)
            if anchor in open_anchors or anchor is None:
                raise refuse(event, f"the alias *{anchor} refers to a value that contains it", path)
            if anchor not in anchors:
                raise refuse(event, f"the alias *{anchor} has no anchor &{anchor} before it", path)
            value, size = anchors[anchor]
            expanded += size
            if expanded > max(MAX_ALIAS_NODES, own):
                raise refuse(
                    event,
                    f"aliases expand to more than {max(MAX_ALIAS_NODES, own):,} values (a YAML bomb?); "
                    "write the values out",
                    path,
                    too_large=True,
                )
            if isinstance(value, dict | list) and len(stack) + _depth(value) > MAX_DEPTH:
                raise refuse(event, f"nested deeper than {MAX_DEPTH} levels through the alias", path, too_large=True)
            marks[path] = _mark(event)
            place(event, value, size)
        elif kind is events.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise refuse(event, "a second document (---): a workspace file holds one")
    return root


def _depth(value: Any) -> int:
    """How deep an already built value goes; bounded by MAX_DEPTH, as everything built here is."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _scalar(event: events.ScalarEvent, name: str, path: Path_) -> Any:
    """A scalar with YAML's safe typing (ints, floats, booleans, dates, null); a value Python cannot
    hold (a 5,000-digit number, a date past 9999, a lone surrogate) is a problem at its place."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = _resolver.resolve(ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
    if tag == _STR:  # most values: no construction needed
        if SURROGATE.search(event.value):
            raise _Refused(Problem(name, *_mark(event), ".".join(map(str, path)), LONE_SURROGATE))
        return event.value
    construct = SafeConstructor.yaml_constructors.get(tag)
    where = Problem(name, *_mark(event), ".".join(map(str, path)), "")
    if tag not in _PLAIN_SCALARS or construct is None:
        raise _Refused(_with(where, f"the tag {tag} is not supported: write plain data"))
    node = ScalarNode(tag, event.value, style=event.style)
    try:
        value = construct(_constructor, node)
    except (
        ValueError,
        OverflowError,
        yaml.YAMLError,
        AttributeError,
        TypeError,
    ) as exc:  # a bad !!timestamp: AttributeError
        shown = event.value if len(event.value) <= 40 else event.value[:40] + "…"
        reason = str(exc).split(";")[0][:120]
        raise _Refused(_with(where, f"{shown!r} is not a valid {tag.rsplit(':', 1)[-1]}: {reason}")) from exc
    return value


def _with(problem: Problem, message: str) -> Problem:
    return Problem(problem.file, problem.line, problem.column, problem.field, message)


def round_trip(text: str) -> Any:
    """A round-trip YAML document that writes lists indented the way this file indents them."""
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, sequence, offset = load_yaml_guess_indent(text)
    document = YAML(typ="rt")
    document.preserve_quotes = True
    document.width = 1 << 16  # never re-wrap a line the author wrote
    document.indent(mapping=offset or 2, sequence=sequence or 2, offset=offset or 0)
    return document
