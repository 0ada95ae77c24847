"""What the pages and the API show, assembled once from the domain services.

A ``Server`` is one server process: the database, who asks, and a ``Site`` per workspace it
serves. A ``Site`` is that process's view of one workspace; every query it makes is scoped to the
workspace (``guarantor.db.scope``), so no page or API answer of one workspace can show another's
data. Pages and the JSON API both call it, so a number on a page and in the API always comes
from the same code. It caches what is costly to recompute (the parsed workspace per revision, the
task assessments, guarantee states and the work balance) for ``GUARANTOR_WEB_CACHE_S`` seconds,
and drops the cache on any edit made through it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from anyio import CapacityLimiter, to_thread

from guarantor.accounts import service as accounts
from guarantor.accounts.service import Principal
from guarantor.analysis import org as org_svc
from guarantor.analysis import repository as analyses_repo
from guarantor.analysis import service as analysis_svc
from guarantor.analysis.org import OrgView
from guarantor.analysis.schemas import Analysis, SavedAnalysis, TaskResult
from guarantor.clock import Clock, utcnow
from guarantor.data.files import data_dir, observed_dir
from guarantor.db.session import Database
from guarantor.errors import Busy, GuarantorError, NotFound
from guarantor.guarantees import repository as measurements
from guarantor.guarantees import runner
from guarantor.guarantees.models import BY_SEVERITY
from guarantor.guarantees.schemas import CheckOut, MeasurementOut
from guarantor.guarantees.service import (
    OutcomeState,
    due_checkins,
    measurement_out,
    outcome_states,
    progress,
    record_checkin,
    series,
    state_out,
)
from guarantor.guarantees.sources.base import Context
from guarantor.settings import Settings
from guarantor.systems.service import Readiness, readiness, recorded
from guarantor.tasks import catalogue, observed, search
from guarantor.tasks import service as tasks_svc
from guarantor.tasks import store as tasks_store
from guarantor.tasks.model import ExposureModel
from guarantor.web import schemas
from guarantor.work import repository as work_repo
from guarantor.work import service as work_svc
from guarantor.workspace import loader
from guarantor.workspace import service as ws_svc
from guarantor.workspace.models import WorkspaceRevision
from guarantor.workspace.schema import Outcome, Workspace

T = TypeVar("T")
WORST_FIRST = BY_SEVERITY[::-1]
CHART_POINTS = 400
STATES_MAX_AGE = 60.0

log = logging.getLogger(__name__)


def secret_key(session_cookie: str | None, bearer: str | None) -> str | None:
    if bearer:
        return "token:" + accounts.digest(bearer)
    return "session:" + accounts.digest(session_cookie) if session_cookie else None


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def thin(points: list[tuple[str, float]], limit: int = CHART_POINTS) -> list[tuple[str, float]]:
    """At most about ``limit`` points for a chart: each bucket's lowest and highest, in time order,
    so a spike or a dip survives (the full series is at /api/v1/outcomes/{id}/history)."""
    if len(points) <= limit:
        return points
    size = math.ceil(len(points) / (limit // 2))
    out: list[tuple[str, float]] = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        low = min(range(len(bucket)), key=lambda i: bucket[i][1])
        high = max(range(len(bucket)), key=lambda i: bucket[i][1])
        out.extend(bucket[i] for i in sorted({low, high}))
    return out


class DataVersion(NamedTuple):
    measured: int  # the newest measurement's id
    work: tuple[int, datetime | None, datetime | None, str]  # guarantor.work.repository.version
    analysed: int  # the newest saved analysis's id


class Version(NamedTuple):
    revision: int
    file: tuple[int, int, int]  # the file as read: a newer one not taken is shown as a problem beside the revision
    changes: int  # made through this process
    data: DataVersion

    def of(self, part: str) -> tuple[int, int, object]:
        """The version of what derives from one part of the data (``measured``, ``work``) alone."""
        return self.revision, self.changes, getattr(self.data, part)


@dataclass(frozen=True)
class Snapshot:
    """The workspace as the server currently serves it."""

    revision: WorkspaceRevision
    workspace: Workspace
    marks: loader.Marks  # where each value stands in the revision's text, for error messages
    problems: list[str]  # why a newer file on disk was not taken
    file: tuple[int, int, int]  # the file's identity when read (Site._file_key)


class Server:
    """One server process: the database, who asks, the model, and a ``Site`` per workspace served.

    Each workspace file is its own source of truth, with its own revisions. A file that does not
    validate at start, or claims a key another one claims, is ``refused`` alone; with none left,
    the server does not start."""

    def __init__(self, settings: Settings, workspaces: Sequence[Path], clock: Clock = utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.resolved_database_url)
        self._lock = threading.Lock()
        self._principals: dict[str, tuple[float, Principal]] = {}
        self._model: ExposureModel | None = None
        self.sites: dict[str, Site] = {}
        try:
            given = list(dict.fromkeys(loader.resolve(w).resolve() for w in workspaces))
            entered, self.refused = ws_svc.enter_all(self.db, given, clock())
            for e in entered:
                self.sites[e.key] = Site(self, e.path, e.id, e.key)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def site(self, key: str, who: Principal) -> Site:
        """The workspace by its key, if ``who`` has a role in it: one they have none in does not exist
        for them (404, as for a key nobody serves)."""
        found = self.sites.get(key)
        if found is None or who.role_in(found.workspace_id) is None:
            raise NotFound(f"No workspace {key!r}.")
        return found

    def visible(self, who: Principal) -> list[Site]:
        return [s for s in self.sites.values() if who.role_in(s.workspace_id) is not None]

    def model(self) -> ExposureModel:
        with self._lock:
            if self._model is None:
                self._model = tasks_store.load_or_build(self.settings)
            return self._model

    # -- who asks ---------------------------------------------------------------------------------

    def known(self, session_cookie: str | None, bearer: str | None, stale: bool = False) -> Principal | None:
        """Who a recent request with the same secret was, without a query; None when not cached
        (``stale``: also when cached longer ago than the limit, for a request answered while the
        database is being asked again).

        A logout or revocation through this process takes effect at once; through another
        process, within ``GUARANTOR_WEB_CACHE_S`` seconds (at most 5), and the time to ask."""
        key = secret_key(session_cookie, bearer)
        hit = self._principals.get(key) if key else None
        return hit[1] if hit is not None and (stale or hit[0] > time.monotonic()) else None

    def principal(self, session_cookie: str | None, bearer: str | None) -> Principal | None:
        key = secret_key(session_cookie, bearer)
        if key is None:
            return None
        touch = None
        with self.db.transaction() as session:
            if bearer:
                known = accounts.from_token(session, bearer, self.clock())
                found, touch = known if known is not None else (None, None)
            else:
                assert session_cookie is not None
                found = accounts.from_session(session, session_cookie, self.clock())
        if touch is not None:  # on a thread of its own: a locked database delays when a use shows, not the request
            threading.Thread(target=self._touch, args=(touch,), name="token-touch", daemon=True).start()
        ttl = min(self.settings.web_cache_s, 5.0)
        if found is not None and ttl > 0:
            if len(self._principals) > 10_000:
                self._principals.clear()
            self._principals[key] = (time.monotonic() + ttl, found)
        return found

    def _touch(self, token_id: int) -> None:
        """Write a token's last use, apart from the request that used it."""
        try:
            with self.db.transaction() as session:
                accounts.touch_token(session, token_id, self.clock())
        except GuarantorError as exc:  # busy, or gone: the next use, a minute on, writes it
            log.info("token %s: last use not written: %s", token_id, exc.message)

    def forget(self, session_cookie: str) -> None:
        self._principals.pop(secret_key(session_cookie, None) or "", None)

    def org(self, who: Principal) -> OrgView:
        """The organisation view over the workspaces ``who`` may see, added up in the database."""
        with self.db.transaction() as session:
            return org_svc.view(session, [s.workspace_id for s in self.visible(who)], self.clock())


class Site:
    """One workspace as this process serves it; ``root`` is where its pages live."""

    def __init__(self, server: Server, path: Path, workspace_id: int, key: str) -> None:
        self.server = server
        self.settings = server.settings
        self.path = path
        self.clock = server.clock
        self.workspace_id = workspace_id
        self.key = key
        self.root = f"/w/{key}"
        self.db = server.db.for_workspace(workspace_id)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._cache: dict[str, tuple[float, Hashable, Any]] = {}
        self._changes = 0
        self._key_locks: dict[str, threading.Lock] = {}
        self._checks = threading.BoundedSemaphore(self.settings.web_checks_at_once)
        self._check_threads: CapacityLimiter | None = None

    # -- the workspace --------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current revision. Every edit rewrites the file, so the file's identity (inode, size,
        mtime) tells when anything changed, in this process or another, without a query."""
        key = self._file_key()
        current = self._snapshot
        if current is not None and key == current.file:
            return current
        with self._lock, ws_svc.lock(self.settings.home, self.path), self.db.transaction() as session:
            found = ws_svc.sync(session, self.path, self.clock())
            if current is None or current.revision.id != found.revision.id:
                current = Snapshot(found.revision, *found.parse(), found.problems, key)
                ws_svc.enter(session, self.path, current.workspace, self.clock())  # the facts the org view adds up
                self._cache.clear()
            else:
                current = Snapshot(current.revision, current.workspace, current.marks, found.problems, key)
            self._snapshot = current
        return current

    def edit(self, principal: Principal, change: ws_svc.Change, origin: str, base_revision: int | None = None) -> int:
        with self._lock, ws_svc.lock(self.settings.home, self.path), self.db.transaction() as session:
            revision = ws_svc.edit(
                session,
                self.path,
                change,
                author=principal.username,
                origin=origin,
                now=self.clock(),
                limits=ws_svc.EditLimits.of(self.settings),
                base_revision=base_revision,
            )
            self._snapshot = None  # read again at the next request, whatever the file's identity says
            self._cache.clear()
            return revision.id

    def revisions(self) -> list[schemas.Revision]:
        from guarantor.workspace import repository

        with self.db.transaction() as session:
            return [
                schemas.Revision(
                    id=r.id,
                    created_at=r.created_at.isoformat(),
                    origin=r.origin,  # file | web | api, as written
                    author=r.author,
                )
                for r in repository.history(session)
            ]

    # -- cached computations --------------------------------------------------------------------

    def _changed_here(self) -> None:
        """After a check, a check-in, a link decision or an analysis made through this process:
        the task assessments still hold (they depend on the revision alone); what was derived from
        measurements, work and analyses does not, even where the data version reads the same
        (a frozen clock), so this process's own count of changes is part of the version."""
        self._changes += 1
        self._cache = {k: v for k, v in self._cache.items() if k in ("analysis", "families")}

    def _cached(self, kind: str, compute: Callable[[], T], ttl: float, version: Hashable = None) -> T:
        """The value of ``kind`` computed for ``version``, kept for ``ttl`` seconds (infinite: until
        the version changes, whatever GUARANTOR_WEB_CACHE_S says).
        One value per kind, so a new version replaces the old one instead of piling up. One
        computation at a time per kind; while it runs, other requests for the same version get the
        previous value instead of piling up behind it or computing it again."""
        if ttl != math.inf and self.settings.web_cache_s <= 0:
            return compute()
        hit = self._cache.get(kind)
        if hit is not None and hit[1] != version:
            hit = None
        if hit is not None and hit[0] > time.monotonic():
            value: T = hit[2]
            return value
        lock = self._key_locks.setdefault(kind, threading.Lock())
        if hit is not None and not lock.acquire(blocking=False):
            stale: T = hit[2]
            return stale
        if hit is None:
            lock.acquire()
        try:
            again = self._cache.get(kind)
            if again is not None and again is not hit and again[1] == version and again[0] > time.monotonic():
                fresh: T = again[2]
                return fresh
            value = compute()
            self._cache[kind] = (time.monotonic() + ttl, version, value)
            return value
        finally:
            lock.release()

    def version(self, snap: Snapshot | None = None) -> Version:
        """What every page of the workspace is derived from, as one value that changes when any of
        it does: the revision served, what was measured, the work, the saved analyses, and the
        changes made through this process. Asked of the database at most every half second (or
        every request when caching is off): a change made through another process shows within
        that. The file is checked at every call (a stat), so an edit shows at once."""
        snap = snap or self.snapshot()

        def ask() -> DataVersion:
            with self.db.transaction() as session:
                return DataVersion(
                    measurements.last_id(session), work_repo.version(session), analyses_repo.last_id(session)
                )

        data = self._cached("version", ask, min(self.settings.web_cache_s, 0.5))
        return Version(snap.revision.id, snap.file, self._changes, data)

    def known_version(self, stale: bool = False) -> Version | None:
        """The version, when telling it costs no query and no parse (the file unchanged since last
        read, the data version asked less than half a second ago, or longer with ``stale``, for a
        request answered while the database is being asked again); None otherwise."""
        hit, snap = self._cache.get("version"), self._snapshot
        if snap is None or hit is None or (hit[0] <= time.monotonic() and not stale):
            return None
        if self._file_key() != snap.file:
            return None
        return Version(snap.revision.id, snap.file, self._changes, hit[2])

    def _file_key(self) -> tuple[int, int, int]:
        """The workspace file's identity: every edit rewrites the file, so it changes with any."""
        st = os.stat(self.path)
        return st.st_ino, st.st_size, st.st_mtime_ns

    def model(self) -> ExposureModel:
        return self.server.model()

    def occupations(self) -> dict[str, catalogue.Occupation]:
        return catalogue.read_occupations(data_dir(self.settings))

    def _states(self, snap: Snapshot) -> list[OutcomeState]:
        """Kept until something is measured (a cheap check per request) or a minute passes (windows
        move with time)."""

        def compute() -> list[OutcomeState]:
            with self.db.transaction() as session:
                return outcome_states(session, snap.workspace, self.clock())

        return self._cached("states", compute, STATES_MAX_AGE, self.version(snap).of("measured"))

    def _inputs(self, snap: Snapshot) -> analysis_svc.Inputs:
        """The revision served, with the model and reference data this process keeps."""
        ws, rev = snap.workspace, snap.revision
        return analysis_svc.Inputs(
            ws, rev.path, rev.text, self.model(), self.occupations(), observed.load(self.settings)
        )

    def _analysis(self, snap: Snapshot) -> Analysis:
        """Every task assessed, hours freed and the value plan, for this revision (not saved: saving
        an analysis stays the job of `guarantor analyze`, which keeps the history)."""

        def compute() -> Analysis:
            return analysis_svc.analyze(self._inputs(snap), self.clock(), None)

        return self._cached("analysis", compute, math.inf, snap.revision.id)

    def _balance(self, snap: Snapshot) -> work_svc.Balance | None:
        def compute() -> work_svc.Balance | None:
            with self.db.transaction() as session:
                return work_svc.balance(session, snap.workspace) if work_repo.count(session) else None

        return self._cached("balance", compute, math.inf, self.version(snap).of("work"))

    # -- what the pages show --------------------------------------------------------------------

    def overview(self) -> schemas.Overview:
        snap = self.snapshot()
        ws = snap.workspace
        states = {s.id: s for s in self._states(snap)}
        analysis = self._analysis(snap)
        balance = self._balance(snap)
        by_status: dict[str, int] = {k: 0 for k in (*WORST_FIRST, "UNGUARANTEED")}
        for o in ws.outcomes:
            by_status[states[o.id].status.value if o.id in states else "UNGUARANTEED"] += 1
        attention = [
            schemas.Attention(kind="outcome", id=s.id, title=s.title, status=s.status.value, reason=s.reason)
            for s in sorted(states.values(), key=lambda s: WORST_FIRST.index(s.status.value))
            if s.status.value != "MET"
        ]
        titles = {o.id: o.title for o in ws.outcomes}
        unserved = balance.unserved if balance is not None else analysis.unserved_outcomes
        attention += [
            schemas.Attention(kind="unserved", id=o, title=titles[o], status=None, reason="no work or task serves it")
            for o in unserved
        ]
        undefined = "no indicator or target: it is only an intention"
        attention += [
            schemas.Attention(kind="undefined", id=o, title=titles[o], status=None, reason=undefined)
            for o in analysis.outcomes_without_indicator
        ]
        orphan = None
        if balance is not None:
            bucket = balance.by_outcome.get(work_svc.NO_OUTCOME)
            orphan = schemas.OrphanWork(
                items=bucket.count if bucket else 0, of=balance.items, largest=balance.orphans[:5]
            )
        return schemas.Overview(
            workspace=ws.name,
            revision=snap.revision.id,
            problems=snap.problems,
            checkins_due=self._due(snap),
            hours_week=analysis.hours_week,
            hours_freed=analysis.hours_freed,
            people=[schemas.PersonHours.model_validate(p, from_attributes=True) for p in analysis.people],
            outcomes_by_status=by_status,
            attention=attention,
            orphan_work=orphan,
            orphan_tasks=len(analysis.orphan_tasks),
        )

    def _due(self, snap: Snapshot) -> list[schemas.CheckinDue]:
        """Check-ins due within a week (or late), per person, as the overview lists them."""
        now = self.clock()
        names = {p.id: p.name for p in snap.workspace.people}
        return [
            schemas.CheckinDue(
                person=d.person,
                name=names.get(d.person or "", d.person or "no one named"),
                outcome=d.outcome,
                title=d.title,
                indicator=d.indicator,
                indicator_name=d.indicator_name,
                due=d.due.isoformat(),
                overdue=d.overdue(now),
                last=d.last.isoformat() if d.last else None,
            )
            for d in due_checkins(snap.workspace, self._states(snap), now, timedelta(days=7))
        ]

    def outcomes(self) -> list[schemas.OutcomeRow]:
        snap = self.snapshot()
        states = {s.id: s for s in self._states(snap)}
        analysis = {o.id: o for o in self._analysis(snap).outcomes}
        rows = []
        for o in snap.workspace.outcomes:
            state = states.get(o.id)
            rows.append(
                schemas.OutcomeRow(
                    **dict(o.fields()),
                    status=state.status.value if state else None,
                    reason=state.reason if state else None,
                    guaranteed=o.guarantee is not None,
                    served_by_tasks=analysis[o.id].served_by,
                    hours_week=analysis[o.id].hours_week,
                )
            )
        return rows

    def outcome(self, outcome_id: str) -> schemas.OutcomeDetail:
        snap = self.snapshot()
        o = snap.workspace.outcome(outcome_id)
        return self._cached(f"outcome:{outcome_id}", lambda: self._outcome(snap, o), STATES_MAX_AGE, self.version(snap))

    def _outcome(self, snap: Snapshot, o: Outcome) -> schemas.OutcomeDetail:
        ws, outcome_id = snap.workspace, o.id
        with self.db.transaction() as session:  # with its history, for the charts
            state = next(iter(outcome_states(session, ws, self.clock(), outcome_id, history=True)), None)
        balance = self._balance(snap)
        closed = balance.closed_by_outcome.get(outcome_id, []) if balance else []
        bucket = balance.by_outcome.get(outcome_id) if balance else None
        return schemas.OutcomeDetail(
            outcome=o.fields(),
            guarantee=o.guarantee,
            state=state_out(state) if state else None,
            series=[s.model_copy(update={"points": thin(s.points)}) for s in series(state)] if state else [],
            checkins=[measurement_out(m) for m in reversed(state.history) if m.trigger == "checkin"] if state else [],
            progress=[
                p for ind in (o.guarantee.indicators if o.guarantee else []) if state and (p := progress(state, ind))
            ],
            tasks=[t for t in self._analysis(snap).tasks if outcome_id in t.serves],
            work=schemas.WorkServing(items=bucket.count if bucket else 0, points=bucket.points if bucket else 0.0),
            work_closed=[schemas.ClosedItem(closed_at=when, item=item) for when, item in closed],
            systems=[s.id for s in ws.systems if outcome_id in s.serves],
            source_types={name: spec.type for name, spec in ws.sources.items()},
            revision=snap.revision.id,
        )

    def history(self, outcome_id: str, limit: int = 500) -> list[MeasurementOut]:
        o = self.snapshot().workspace.outcome(outcome_id)
        if o.guarantee is None:
            return []
        with self.db.transaction() as session:
            rows = measurements.history(session, [i.id for i in o.guarantee.indicators], limit=limit)
            return [measurement_out(m) for m in rows]

    def people(self) -> list[schemas.PersonTasks]:
        analysis = self._analysis(self.snapshot())
        tasks_by_owner: dict[str | None, list[TaskResult]] = {}
        for t in analysis.tasks:
            tasks_by_owner.setdefault(t.owner, []).append(t)
        return [schemas.PersonTasks(**dict(p), tasks=tasks_by_owner.get(p.id, [])) for p in analysis.people]

    def tasks(self) -> list[TaskResult]:
        return list(self._analysis(self.snapshot()).tasks)

    def plan(self) -> schemas.Plan:
        analysis = self._analysis(self.snapshot())
        return schemas.Plan(plan=analysis.plan, notes=analysis.notes)

    def search_roles(self, query: str) -> list[schemas.OccupationRef]:
        return [
            schemas.OccupationRef(code=o.code, title=o.title)
            for o in search.search_occupations(self.occupations(), query)
        ]

    def families(self) -> list[schemas.Family]:
        """Occupation families with how many occupations each has, their mean exposure (human beta,
        where labelled) and their mean observed AI applicability (where measured)."""

        def compute() -> list[schemas.Family]:
            rows = self._occupation_rows()
            out = []
            for code, title in catalogue.FAMILIES.items():
                members = [r for r in rows if r.code.startswith(code + "-")]
                if members:
                    out.append(
                        schemas.Family(
                            code=code,
                            title=title,
                            occupations=len(members),
                            exposure_beta=_mean([r.exposure_beta for r in members]),
                            observed_applicability=_mean([r.observed_applicability for r in members]),
                        )
                    )
            return out

        return self._cached("families", compute, math.inf)

    def family(self, code: str) -> schemas.FamilyDetail:
        if code not in catalogue.FAMILIES:
            raise NotFound(f"No occupation family {code!r}.")
        rows = [r for r in self._occupation_rows() if r.code.startswith(code + "-")]
        return schemas.FamilyDetail(
            code=code, title=catalogue.FAMILIES[code], occupations=sorted(rows, key=lambda r: r.title)
        )

    def _occupation_rows(self) -> list[schemas.OccupationRow]:
        scores = catalogue.read_scores(data_dir(self.settings))
        observed = catalogue.read_applicability(observed_dir(self.settings))
        return [
            schemas.OccupationRow(
                code=o.code,
                title=o.title,
                tasks=len(o.tasks),
                exposure_beta=scores[o.code].human[1] if o.code in scores else None,
                observed_applicability=observed.get(o.code[:7]),
            )
            for o in self.occupations().values()
        ]

    def role(self, code: str, hours: float = tasks_svc.WEEK_HOURS) -> tasks_svc.RoleProfile:
        if code not in self.occupations():
            raise NotFound(f"No occupation has code {code}.")
        return tasks_svc.profile(self.settings, self.model(), code, hours)

    def work(self, limit: int = 20) -> schemas.Work:
        snap = self.snapshot()
        balance = self._balance(snap)

        def suggest() -> list[work_svc.Unlinked]:
            with self.db.transaction() as session:
                return work_svc.suggestions(session, snap.workspace, limit)

        suggestions = self._cached(f"suggestions:{limit}", suggest, math.inf, self.version(snap).of("work"))
        return schemas.Work(
            balance=balance, suggestions=suggestions, titles={o.id: o.title for o in snap.workspace.outcomes}
        )

    def decide(self, item: str, outcome: str, decision: str) -> None:
        snap = self.snapshot()
        with self.db.transaction() as session:
            work_svc.decide(session, snap.workspace, item, outcome, decision, self.clock())
        self._changed_here()

    def systems(self) -> list[Readiness]:
        snap = self.snapshot()
        return readiness(snap.workspace, self._states(snap))

    def analyses(self) -> list[SavedAnalysis]:
        with self.db.transaction() as session:
            return [analysis_svc.listed(r) for r in analyses_repo.history(session)]

    def checkin(
        self,
        principal: Principal,
        outcome_id: str,
        indicator: str | None,
        value: str,
        note: str | None = None,
        confidence: str | None = None,
        at: datetime | None = None,
    ) -> MeasurementOut:
        """A check-in by the person logged in, as `guarantor record` makes it; alerts follow."""
        snap = self.snapshot()
        with self.db.transaction() as session:
            m = record_checkin(
                session,
                snap.workspace,
                outcome_id,
                indicator,
                value,
                author=snap.workspace.person_for(principal.username),
                now=self.clock(),
                at=at,
                note=note,
                confidence=confidence if confidence in ("low", "medium", "high") else None,  # type: ignore[arg-type]
            )
            states = outcome_states(session, snap.workspace, self.clock(), outcome_id)
            precision = next(i.precision for s in states for i in s.indicators if i.id == m.indicator_id)
            recorded = measurement_out(m, precision)
        runner.notify(self.db, snap.workspace, states, self.clock)
        self._changed_here()
        return recorded

    def person(self, person_id: str) -> schemas.PersonDetail:
        """One person: their tasks, where their freed hours go and the skills that get them there."""
        analysis = self._analysis(self.snapshot())
        found = next((p for p in analysis.people if p.id == person_id), None)
        if found is None:
            raise NotFound(f"No person {person_id!r}.")
        titles = {o.id: o.title for o in analysis.outcomes}
        return schemas.PersonDetail(
            **dict(found),
            tasks=[t for t in analysis.tasks if t.owner == person_id],
            freed_hours_go_to=[
                schemas.AllocationTo(**dict(g), title=titles.get(g.outcome or ""))
                for g in analysis.plan.freed_hours_go_to
                if g.person == person_id
            ],
            skills=[s for s in analysis.plan.skills if s.startswith(f"{found.name}:")],
            titles=titles,
            outcomes=[o for o in analysis.outcomes if o.owner == person_id],
        )

    def analyse_now(self) -> schemas.AnalysedNow:
        """Analyse the workspace as it is served and save the analysis, as `guarantor analyze` does."""
        snap = self.snapshot()
        with self.db.transaction() as session:
            saved = analysis_svc.run(session, self._inputs(snap), self.clock())
        self._changed_here()
        a = saved.analysis
        return schemas.AnalysedNow(
            id=saved.record_id, created_at=a.created_at, hours_week=a.hours_week, hours_freed=a.hours_freed
        )

    def report(self, analysis_id: int) -> tuple[str, str]:
        """A saved analysis as its HTML report (a file name, the text): the one a manager forwards."""
        from guarantor.report.html import render

        with self.db.transaction() as session:
            record = analyses_repo.get(session, analysis_id)
            if record is None:
                raise NotFound(f"No analysis {analysis_id}.")
            trend = [
                (r.created_at.strftime("%m-%d %H:%M"), r.hours_freed)
                for r in reversed(analyses_repo.history(session, limit=20))
                if r.id <= analysis_id
            ]
            analysis = analysis_svc.read_saved(record.result)
            if analysis is None:
                raise NotFound(
                    f"Analysis {analysis_id} was saved by an earlier version in a shape this one cannot read.",
                    hint="Run the analysis again (`guarantor analyze`) for a report.",
                )
            name = f"guarantor-report-{record.created_at:%Y-%m-%d-%H%M}.html"
            return name, render(analysis, trend)

    async def check_apart(self, outcome: str | None = None) -> CheckOut:
        """``check`` on threads of the workspace's own, at most ``web_checks_at_once`` at a time
        (one more is answered 429 at once): checks wait on sources for up to a measurement's
        deadline, and on the threads that answer pages they left every page unanswered."""
        if not self._checks.acquire(blocking=False):
            raise Busy(
                f"{self.settings.web_checks_at_once} checks of this workspace are running already.",
                retry_after=max(1, int(self.settings.measure_timeout_max_s)),
            )
        try:
            if self._check_threads is None:
                self._check_threads = CapacityLimiter(self.settings.web_checks_at_once)
            return await to_thread.run_sync(self.check, outcome, limiter=self._check_threads)
        finally:
            self._checks.release()

    def check(self, outcome: str | None = None) -> CheckOut:
        """Measure the due indicators now, as `guarantor check` does. Command sources run: they come
        only from the file on disk, since no edit through the web may add or change one."""
        snap = self.snapshot()
        ws = snap.workspace
        report = runner.check(
            self.db,
            ws,
            snap.marks,
            snap.revision.path,
            Context.of(
                self.path.parent,
                True,
                self.settings.home,
                self.settings.resolved_database_url,
                self.settings.measure_timeout_max_s,
            ),
            self.clock,
            outcome=outcome,
            workers=self.settings.check_workers,
            retries=self.settings.check_retries,
        )
        if outcome is None:  # every outcome's state: what blocks each system's retirement now
            with self.db.transaction() as session:
                recorded(session, ws, report.states)
        self._changed_here()
        return report.out()
