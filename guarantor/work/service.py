"""Import work items, link them to outcomes, and say where the effort goes.

Links come from four places, strongest first: a person's decision (accepted or rejected, kept
across re-imports), the workspace's ``work.links``, labels ``outcome:ID`` and the workspace's label,
epic and component maps; suggestions from text similarity come last and are never counted until
a person accepts them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from guarantor.clock import utcnow
from guarantor.db import scope
from guarantor.errors import InputError, NotFound
from guarantor.inputs.dates import DateOrder
from guarantor.tasks.catalogue import EXPOSURE_LEVELS
from guarantor.work import importers, repository
from guarantor.work.categories import CATEGORIES
from guarantor.work.importers.base import Columns, Item
from guarantor.workspace import repository as workspaces
from guarantor.workspace.schema import Outcome, Workspace

if TYPE_CHECKING:
    from guarantor.tasks.model import ExposureModel

BATCH = 5000
Exposure = Callable[[Sequence[str]], list[str]]


def exposure_of(model: ExposureModel) -> Exposure:
    """Each item text's AI exposure level: the text stage alone, without evidence, since an import
    classifies items by the hundred thousand."""
    return lambda texts: [EXPOSURE_LEVELS[i] for i in model.predict(texts, with_evidence=False).exposure.argmax(1)]


def read(
    fmt: str, path: Path, mapping: dict[str, str] | None = None, order: DateOrder | None = None
) -> tuple[Columns | None, Iterator[Item]]:
    """The items of an export, and for a CSV which column each field is read from (None for JSON)."""
    return importers.read(fmt, path, mapping or {}, order or DateOrder())


@dataclass
class Prepared:
    """A batch of items made ready to write where they were read (here, or in the process that
    reads a large export): each one's row (``repository.row``), the text its exposure is read
    from, with a workspace the outcomes it serves, and the exposures where the reading side
    found them already. Plain values, cheap to send."""

    rows: list[tuple[Any, ...]]
    texts: list[str]
    links: list[list[str]] | None
    levels: list[str] | None = None

    def classify(self, exposure: Exposure) -> None:
        self.levels, self.texts = exposure(self.texts), []

    def written(self, exposure: Exposure | None) -> list[tuple[Any, ...]]:
        """The rows as written: each with its exposure (None without a model) last."""
        if self.levels is None and exposure is not None:
            self.classify(exposure)
        levels: Sequence[str | None] = self.levels or [None] * len(self.rows)
        return [(*row, level) for row, level in zip(self.rows, levels, strict=True)]


def prepare(items: Sequence[Item], now: datetime, workspace: int, linker: Linker | None) -> Prepared:
    return Prepared(
        [repository.row(item, now, workspace) for item in items],
        [exposure_text(item.title, item.body) for item in items],
        None if linker is None else [sorted(linker.links(item)) for item in items],
    )


Batches = Callable[[int, "Linker | None"], Generator[Prepared, None, None]]
"""Given the workspace's id and the linker (made once the import has begun), an import's batches."""


def batches_of(items: Iterable[Item], now: datetime) -> Batches:
    """The batches of items read in this process."""

    def made(workspace: int, linker: Linker | None) -> Generator[Prepared, None, None]:
        stream = iter(items)
        while batch := list(itertools.islice(stream, BATCH)):
            yield prepare(batch, now, workspace, linker)

    return made


def import_items(
    session: Session,
    items: Iterable[Item],
    now: datetime,
    exposure: Exposure | None,
    progress: Callable[[int], None] | None = None,
    ws: Workspace | None = None,
) -> repository.UpsertCounts:
    """Stream items into the database in batches (``import_batches``)."""
    return import_batches(session, batches_of(items, now), exposure, progress, ws)


def import_batches(
    session: Session,
    batches: Batches,
    exposure: Exposure | None,
    progress: Callable[[int], None] | None = None,
    ws: Workspace | None = None,
) -> repository.UpsertCounts:
    """Write an import's batches. The caller's transaction makes the import whole or nothing: a
    malformed row stops it before anything is committed. With the workspace, the outcomes each
    new or changed item serves are kept as it goes; without (a sync), the kept links are marked
    out of date, for the next balance to make again."""
    counts = repository.UpsertCounts()
    repository.room_to_write(session)
    seen = 0
    linker = None
    if ws is not None:  # links made again first, once after the rules changed (at once with no items yet)
        linker = Linker(ws, repository.decisions(session)) if _links_current(session, ws) else link_all(session, ws)
    # Closed as soon as the writing stops, failed or not: a second process reading ends with it.
    with closing(batches(scope.current(session), linker)) as stream:
        for batch in stream:
            rows = batch.written(exposure)
            updated, inserted = repository.upsert(session, rows, counts)
            if batch.links is not None:
                links = batch.links
                for stored, new in ((updated, False), (inserted, True)):
                    repository.replace_links(session, [(i, links[at]) for i, at in stored], new)
            elif updated or inserted:
                workspaces.save_links_rules(session, None)
            seen += len(rows)
            if progress:
                progress(seen)
    return counts


def exposure_text(title: str, body: str) -> str:
    """What the exposure of an item is read from: its title and the start of its description."""
    return f"{title}. {body[:300]}"


def classify_missing(session: Session, exposure: Exposure, progress: Callable[[int], None] | None = None) -> int:
    """Give every item imported without an exposure (no data then, or --no-exposure) its exposure;
    returns how many. Run after every import, and by `guarantor work classify`."""
    done = 0
    while rows := repository.unclassified(session, BATCH):
        levels = exposure([exposure_text(title, body) for _, title, body in rows])
        repository.set_exposure(session, [(i, level) for (i, _, _), level in zip(rows, levels, strict=True)])
        done += len(rows)
        if progress:
            progress(done)
    return done


def keep_counts(session: Session) -> None:
    """Count the workspace's items per AI exposure in the database, so the organisation view reads
    one row per team instead of every team's items. Called once when an import, a sync or a
    classification ends, not per batch or page: it groups all of the workspace's items."""
    workspaces.save_work_counts(session, *repository.exposure_counts(session))


def item_key(text: str) -> tuple[str, str]:
    """'jira:PAY-12' -> ('jira', 'PAY-12')."""
    source, sep, ext = text.partition(":")
    if not sep or source not in importers.names() or not ext:
        raise InputError(f"{text!r} is not an item: write SOURCE:ID, such as jira:PAY-12 or github:acme/shop#42")
    return source, ext


class Linker:
    """The outcomes an item serves, from decisions, the workspace's maps and its labels."""

    def __init__(self, ws: Workspace, decisions: dict[tuple[str, str], dict[str, str]]) -> None:
        self.outcomes = {o.id for o in ws.outcomes}
        self.decisions = decisions
        self.explicit: dict[tuple[str, str], set[str]] = defaultdict(set)
        for link in ws.work.links:
            self.explicit[item_key(link.item)].add(link.outcome)
        self.epics, self.components, self.labels = ws.work.epics, ws.work.components, ws.work.labels

    @staticmethod
    def rules(ws: Workspace) -> str:
        """What the links follow from besides the items and decisions, as one hash: the outcomes,
        ``work.links`` and the label, epic and component maps."""
        work = ws.work
        stated = [
            sorted(o.id for o in ws.outcomes),
            sorted((link.item, link.outcome) for link in work.links),
            work.epics,
            work.components,
            work.labels,
        ]
        return hashlib.sha256(json.dumps(stated, sort_keys=True).encode()).hexdigest()

    def links(self, item: Item) -> set[str]:
        return self.outcomes_of(item.source, item.external_id, item.labels, item.epic, item.components)

    def stored(self, source: str, external_id: str, labels: str, epic: str | None, components: str) -> set[str]:
        """The outcomes of an item as stored: its labels and components are JSON lists there."""
        return self.outcomes_of(source, external_id, json.loads(labels), epic, json.loads(components))

    def outcomes_of(
        self, source: str, external_id: str, labels: list[str], epic: str | None, components: list[str]
    ) -> set[str]:
        found = set(self.explicit.get((source, external_id), ()))
        for label in labels:
            if label.lower().startswith("outcome:") and label[8:].strip() in self.outcomes:
                found.add(label[8:].strip())
            elif label in self.labels:
                found.add(self.labels[label])
        if epic and epic in self.epics:
            found.add(self.epics[epic])
        found.update(self.components[c] for c in components if c in self.components)
        for outcome, decision in self.decisions.get((source, external_id), {}).items():
            if decision == "accepted":
                found.add(outcome)
            else:
                found.discard(outcome)
        return found & self.outcomes


_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "we",
        "when",
        "with",
        "will",
        "without",
        "within",
        "who",
        "what",
        "where",
        "which",
        "while",
        "not",
        "no",
        "your",
        "you",
        "new",
        "get",
        "got",
        "make",
        "made",
        "use",
        "used",
        "using",
        "add",
        "added",
        "fix",
        "fixed",
        "update",
    }
)


def _terms(text: str) -> list[str]:
    return [w[:-1] if w.endswith("s") and len(w) > 4 else w for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass
class Suggestion:
    outcome: str
    score: float
    matched: list[str]


@dataclass
class Unlinked:
    """An item that serves no outcome yet (``item``: SOURCE:ID), with the outcomes it most resembles."""

    item: str
    title: str
    suggestions: list[Suggestion]


SHARED = 0.25
"""Cosine similarity from which an outcome is suggested when item and outcome share two words or more."""
SINGLE = 0.45
"""Cosine similarity from which one shared word is enough: "refund" alone, not "one", "first" or "fail".
Both were chosen on bench/data/links (213 items of three projects; bench/link_accuracy.py): precision
0.97, recall 0.54, and 1.6% of items get a suggestion when the outcomes are another project's."""
CORPUS_SAMPLE = 20_000
_CODE = re.compile(r"`[^`]*`|\b\w+(?:[._/]\w+)+\b|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+[A-Z]\w*\b|\w+\(\)")
"""Code in a ticket: anything in backticks, dotted, underscored or slashed names, camelCase, calls."""


class Suggester:
    """Similarity between an item's text and each outcome's title, need and beneficiary (TF-IDF
    cosine over words), with the words that matched, so a person can see why. Code identifiers are
    left out, and words the tracker uses in many items (its boilerplate: "expected", "steps",
    "acceptance criteria") weigh less, as learned from ``corpus``, the tracker's own item texts."""

    def __init__(self, outcomes: Sequence[Outcome], corpus: Iterable[str] = ()) -> None:
        docs = {
            o.id: _terms(" ".join(filter(None, (o.title, o.title, o.need, o.for_whom, o.indicator)))) for o in outcomes
        }
        df = Counter(t for terms in docs.values() for t in set(terms))
        n = len(docs) or 1
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
        self.vectors = {oid: self._vector(terms) for oid, terms in docs.items()}
        used: Counter[str] = Counter()
        m = 0
        for text in corpus:
            used.update(set(_terms(_CODE.sub(" ", text))) & self.idf.keys())
            m += 1
        # A word in more than a quarter of the tracker's items is its boilerplate ("user", "expected",
        # "criteria") and weighs less, nothing from three quarters on; under 50 items, counts say nothing.
        self.common = {t: max(0.0, min(1.0, 1.5 - 2 * c / m)) for t, c in used.items()} if m >= 50 else {}

    def _vector(self, terms: list[str], common: dict[str, float] | None = None) -> dict[str, float]:
        counts = Counter(t for t in terms if t in self.idf)
        vec = {t: (1 + math.log(c)) * self.idf[t] * (common or {}).get(t, 1.0) for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def suggest(self, text: str, k: int = 3) -> list[Suggestion]:
        """The outcomes above the thresholds (``SHARED``, ``SINGLE``), best first."""
        vec = self._vector(_terms(_CODE.sub(" ", text)), self.common)
        scored = []
        for oid, ov in self.vectors.items():
            shared = vec.keys() & ov.keys()
            score = sum(vec[t] * ov[t] for t in shared)
            if score >= SINGLE or (len(shared) >= 2 and score >= SHARED):
                matched = sorted(shared, key=lambda t: -vec[t] * ov[t])[:5]
                scored.append(Suggestion(oid, round(score, 3), matched))
        return sorted(scored, key=lambda s: (-s.score, s.outcome))[:k]


def suggestions(session: Session, ws: Workspace, limit: int = 20) -> list[Unlinked]:
    """Items that serve no outcome yet, each with the outcomes it most resembles (rejected ones left out)."""
    texts = repository.iterate(session, ("title", "body"))
    with closing(texts) as sample:
        suggester = Suggester(ws.outcomes, (f"{t} {b[:500]}" for t, b in itertools.islice(sample, CORPUS_SAMPLE)))
    linker = Linker(ws, repository.decisions(session))
    rows: list[Unlinked] = []
    items = repository.iterate(session, ("source", "external_id", "title", "body", "labels", "epic", "components"))
    with closing(items) as stream:
        for source, ext, title, body, labels, epic, components in stream:
            if linker.stored(source, ext, labels, epic, components):
                continue
            rejected = {o for o, d in linker.decisions.get((source, ext), {}).items() if d == "rejected"}
            found = [s for s in suggester.suggest(f"{title} {body[:500]}") if s.outcome not in rejected]
            if found:
                rows.append(Unlinked(f"{source}:{ext}", title, found))
            if len(rows) >= limit:
                break
    return rows


def decide(session: Session, ws: Workspace, item: str, outcome: str, decision: str, now: datetime) -> None:
    """Record that an item does (accepted) or does not (rejected) serve an outcome."""
    if decision not in ("accepted", "rejected"):
        raise InputError(f"Unknown decision {decision!r}: accepted or rejected.")
    if outcome not in {o.id for o in ws.outcomes}:
        raise NotFound(f"No outcome {outcome!r} in the workspace.")
    source, ext = item_key(item)
    found = repository.find(session, source, ext)
    if found is None:
        raise NotFound(f"No imported item {item}.", hint="Import it first with `guarantor import`.")
    repository.decide(session, source, ext, outcome, decision, now)
    if _links_current(session, ws):
        linker = Linker(ws, repository.decisions(session))
        served = linker.stored(source, ext, found.labels, found.epic, found.components)
        repository.replace_links(session, [(found.id, sorted(served))])


@dataclass
class Bucket:
    """An item counts once in each bucket it falls in; its points and days are split between the
    outcomes it serves."""

    count: int = 0
    points: float = 0.0
    days: float = 0.0  # from start (or creation) to close, of closed items


@dataclass
class Orphan:
    """A work item serving no outcome: ``item`` is SOURCE:ID."""

    item: str
    title: str
    points: float | None
    days: float | None


@dataclass
class Balance:
    items: int
    by_outcome: dict[str, Bucket]
    by_exposure: dict[str, Bucket]
    by_month: dict[str, dict[str, Bucket]]  # month -> outcome (or "no outcome") -> bucket
    orphans: list[Orphan]  # the largest items serving no outcome
    unserved: list[str]  # outcomes no work item serves
    task_hours: dict[str, float]  # hours a week of the workspace's recurring tasks, per outcome
    closed_by_outcome: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # outcome -> (closed, id)
    by_category: dict[str, Bucket] = field(default_factory=dict)  # new work, maintenance, bugs, chores


NO_OUTCOME = "no outcome"


def _links_current(session: Session, ws: Workspace) -> bool:
    return workspaces.links_rules(session) == Linker.rules(ws)


def link_all(session: Session, ws: Workspace, batch: int = BATCH) -> Linker:
    """Make the kept links of every item again, after the workspace's link rules changed; returns
    the linker that made them, for what follows in the same transaction."""
    repository.forget_links(session)
    linker = Linker(ws, repository.decisions(session))
    rows = repository.iterate(session, ("id", "source", "external_id", "labels", "epic", "components"))
    with closing(rows) as stream:
        while chunk := list(itertools.islice(stream, batch)):
            links = [(i, sorted(linker.stored(*item))) for i, *item in chunk]
            repository.replace_links(session, [(i, o) for i, o in links if o], new=True)  # all forgotten above
    workspaces.save_links_rules(session, Linker.rules(ws))
    return linker


def balance(session: Session, ws: Workspace, orphan_limit: int = 25, closed_per_outcome: int = 200) -> Balance:
    """Where the effort goes, added up in the database from the kept links (made again first if
    the workspace's link rules changed since they were)."""
    if not _links_current(session, ws):
        link_all(session, ws)
    by_outcome: dict[str, Bucket] = defaultdict(Bucket)
    by_month: dict[str, dict[str, Bucket]] = defaultdict(lambda: defaultdict(Bucket))
    exposed: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for t in repository.totals(session, NO_OUTCOME):
        for bucket in (by_outcome[t.outcome], by_month[t.month][t.outcome]):
            bucket.count, bucket.points, bucket.days = (
                bucket.count + t.count,
                bucket.points + t.points,
                bucket.days + t.days,
            )
        sums = exposed[t.exposure]
        sums[0], sums[1], sums[2] = sums[0] + t.items, sums[1] + t.points, sums[2] + t.days
    by_exposure = {e: Bucket(round(n), points, days) for e, (n, points, days) in exposed.items()}
    n = sum(b.count for b in by_exposure.values())
    orphans = [
        Orphan(f"{source}:{ext}", title, estimate, days)
        for source, ext, title, estimate, days in repository.largest_unlinked(session, orphan_limit)
    ]
    closed_by_outcome: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for outcome, closed_at, source, ext in repository.last_closed(
        session, (o for o in by_outcome if o != NO_OUTCOME), closed_per_outcome
    ):
        closed_by_outcome[outcome].append((closed_at.isoformat(), f"{source}:{ext}"))
    task_hours: dict[str, float] = defaultdict(float)
    for task in ws.tasks:
        for outcome in task.serves or [NO_OUTCOME]:
            task_hours[outcome] += (task.hours_week or 0.0) / max(len(task.serves), 1)
    served = set(by_outcome) | {o for o, h in task_hours.items() if h > 0}
    orphaned = by_outcome.get(NO_OUTCOME)
    workspaces.save_balance(session, n, orphaned.count if orphaned else 0, utcnow())
    return Balance(
        n,
        dict(by_outcome),
        by_exposure,
        {m: dict(by_month[m]) for m in sorted(by_month)},
        orphans,
        [o.id for o in ws.outcomes if o.id not in served],
        dict(task_hours),
        {k: sorted(v) for k, v in closed_by_outcome.items()},
        {c: Bucket(n, points, days) for c, n, points, days in sorted(repository.by_category(session), key=_order)},
    )


def _order(row: tuple[str, int, float, float]) -> int:
    return CATEGORIES.index(row[0]) if row[0] in CATEGORIES else len(CATEGORIES)
