"""The JSON API under /api/v1: everything the pages show, and edits of outcomes, tasks and links.

A workspace's routes carry it: /api/v1/w/{workspace}/…; a workspace the caller has no role in is
404, as one that does not exist. Reads need the viewer role there, writes the editor role. Across
workspaces: /api/v1/workspaces (the caller's) and /api/v1/org (the organisation view over them).
Errors come in one shape (``web.errors``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from guarantor.accounts.service import Principal
from guarantor.analysis import org as org_svc
from guarantor.analysis.schemas import Org, SavedAnalysis, TaskResult
from guarantor.guarantees.schemas import CheckOut, MeasurementOut
from guarantor.systems.service import Readiness
from guarantor.tasks.service import RoleProfile
from guarantor.web import schemas
from guarantor.web.cache import versioned
from guarantor.web.security import editor, principal, site, viewer
from guarantor.web.security import server as server_of
from guarantor.web.service import Server, Site
from guarantor.workspace import service as ws_svc

router = APIRouter(prefix="/api/v1/w/{workspace}", dependencies=[Depends(viewer)], tags=["workspace"])
account = APIRouter(prefix="/api/v1", tags=["account"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not valid JSON."},
    401: {"description": "Not logged in and no valid token."},
    403: {"description": "A role too low, or a CSRF token missing."},
    404: {"description": "No such thing."},
    409: {"description": "The workspace changed, or the thing exists already."},
    422: {"description": "The request or the edited workspace is not valid; problems name the fields."},
    429: {"description": "Too many attempts, or checks of the workspace running already: see Retry-After."},
}


@account.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, _: Principal = Depends(principal)) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@account.get("/workspaces", responses=ERRORS)
def workspaces(
    who: Principal = Depends(principal), server: Server = Depends(server_of)
) -> list[schemas.WorkspaceEntry]:
    """The workspaces the caller has a role in (a token limited to one: that one)."""
    return [
        schemas.WorkspaceEntry.model_validate(
            {"key": s.key, "name": s.snapshot().workspace.name, "role": str(who.role_in(s.workspace_id))}
        )
        for s in server.visible(who)
    ]


@account.get("/org", responses=ERRORS)
@versioned
def org(who: Principal = Depends(principal), server: Server = Depends(server_of)) -> Org:
    """The organisation view over the caller's workspaces: per team and in total."""
    return org_svc.as_schema(server.org(who))


@router.get("/me", responses=ERRORS)
@versioned
def me(who: Principal = Depends(viewer), s: Site = Depends(site)) -> schemas.Me:
    return schemas.Me.model_validate(
        {"username": who.username, "role": str(who.role_in(s.workspace_id)), "workspace": s.key}
    )


@router.get("/overview", responses=ERRORS)
@versioned
def overview(s: Site = Depends(site)) -> schemas.Overview:
    return s.overview()


@router.get("/outcomes", responses=ERRORS)
@versioned
def outcomes(s: Site = Depends(site)) -> list[schemas.OutcomeRow]:
    return s.outcomes()


@router.get("/outcomes/{outcome_id}", responses=ERRORS)
@versioned
def outcome(outcome_id: str, s: Site = Depends(site)) -> schemas.OutcomeDetail:
    return s.outcome(outcome_id)


@router.get("/outcomes/{outcome_id}/history", responses=ERRORS)
@versioned
def history(outcome_id: str, limit: int = Query(500, ge=1, le=10_000), s: Site = Depends(site)) -> list[MeasurementOut]:
    return s.history(outcome_id, limit)


def _edited(s: Site, who: Principal, change: ws_svc.Change) -> schemas.Edited:
    """An edit through the API, made as the caller: the workspace revision it wrote."""
    return schemas.Edited(revision=s.edit(who, change, "api"))


@router.post("/outcomes", status_code=201, responses=ERRORS)
def create_outcome(
    body: schemas.OutcomeCreate, who: Principal = Depends(editor), s: Site = Depends(site)
) -> schemas.Edited:
    return _edited(s, who, ws_svc.add_outcome(body.model_dump()))


@router.patch("/outcomes/{outcome_id}", responses=ERRORS)
def update_outcome(
    outcome_id: str, body: schemas.OutcomeUpdate, who: Principal = Depends(editor), s: Site = Depends(site)
) -> schemas.Edited:
    return _edited(s, who, ws_svc.update_outcome(outcome_id, body.model_dump(exclude_unset=True)))


@router.post("/outcomes/{outcome_id}/checkins", status_code=201, responses=ERRORS)
def checkin(
    outcome_id: str, body: schemas.CheckIn, who: Principal = Depends(editor), s: Site = Depends(site)
) -> MeasurementOut:
    """Check in a value for a manual indicator: a measurement with you as its author."""
    return s.checkin(who, outcome_id, body.indicator, str(body.value), body.note, body.confidence, body.at)


@router.get("/tasks", responses=ERRORS)
@versioned
def tasks(s: Site = Depends(site)) -> list[TaskResult]:
    return s.tasks()


@router.post("/tasks", status_code=201, responses=ERRORS)
def create_task(body: schemas.TaskCreate, who: Principal = Depends(editor), s: Site = Depends(site)) -> schemas.Edited:
    return _edited(s, who, ws_svc.add_task(body.model_dump(exclude_defaults=True)))


@router.patch("/tasks/{task_id}", responses=ERRORS)
def update_task(
    task_id: str, body: schemas.TaskUpdate, who: Principal = Depends(editor), s: Site = Depends(site)
) -> schemas.Edited:
    return _edited(s, who, ws_svc.update_task(task_id, body.model_dump(exclude_unset=True)))


@router.patch("/people/{person_id}", responses=ERRORS)
def update_person(
    person_id: str, body: schemas.PersonUpdate, who: Principal = Depends(editor), s: Site = Depends(site)
) -> schemas.Edited:
    """Change a person's value proposition (the answers they would give their manager)."""
    return _edited(s, who, ws_svc.update_person(person_id, body.model_dump(exclude_unset=True)))


@router.get("/people", responses=ERRORS)
@versioned
def people(s: Site = Depends(site)) -> list[schemas.PersonTasks]:
    return s.people()


@router.get("/plan", responses=ERRORS)
@versioned
def plan(s: Site = Depends(site)) -> schemas.Plan:
    return s.plan()


@router.get("/roles", responses=ERRORS)
@versioned
def roles(q: str = Query(..., min_length=1, max_length=200), s: Site = Depends(site)) -> list[schemas.OccupationRef]:
    return s.search_roles(q)


@router.get("/roles/{code}", responses=ERRORS)
@versioned
def role(code: str, hours: float = Query(40.0, gt=0, le=168), s: Site = Depends(site)) -> RoleProfile:
    return s.role(code, hours)


@router.get("/work", responses=ERRORS)
@versioned
def work(limit: int = Query(20, ge=0, le=500), s: Site = Depends(site)) -> schemas.Work:
    return s.work(limit)


@router.post("/links", responses=ERRORS)
def decide(body: schemas.LinkDecision, _: Principal = Depends(editor), s: Site = Depends(site)) -> schemas.LinkDecision:
    s.decide(body.item, body.outcome, body.decision)
    return body


@router.get("/systems", responses=ERRORS)
@versioned
def systems(s: Site = Depends(site)) -> list[Readiness]:
    """Each legacy system and whether it may be retired: every outcome it serves must be guaranteed
    through another system, and met (``blocking``: outcome id -> why it blocks)."""
    return s.systems()


@router.get("/analyses", responses=ERRORS)
@versioned
def analyses(s: Site = Depends(site)) -> list[SavedAnalysis]:
    return s.analyses()


@router.post("/analyses", status_code=201, responses=ERRORS)
def analyse_now(_: Principal = Depends(editor), s: Site = Depends(site)) -> schemas.AnalysedNow:
    """Analyse the workspace now and save the analysis (as `guarantor analyze` does)."""
    return s.analyse_now()


@router.get("/analyses/{analysis_id}/report", responses=ERRORS, response_class=HTMLResponse)
@versioned
def report(analysis_id: int = Path(ge=1, le=2**31 - 1), s: Site = Depends(site)) -> HTMLResponse:
    """A saved analysis as its self-contained HTML report, to download and forward."""
    name, html = s.report(analysis_id)
    return HTMLResponse(html, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/people/{person_id}", responses=ERRORS)
@versioned
def person(person_id: str, s: Site = Depends(site)) -> schemas.PersonDetail:
    """One person: their tasks, where their freed hours go and the skills to build."""
    return s.person(person_id)


@router.get("/revisions", responses=ERRORS)
@versioned
def revisions(s: Site = Depends(site)) -> list[schemas.Revision]:
    return s.revisions()


@router.post("/checks", responses=ERRORS)
async def check(body: schemas.CheckRequest, _: Principal = Depends(editor), s: Site = Depends(site)) -> CheckOut:
    return await s.check_apart(body.outcome)
