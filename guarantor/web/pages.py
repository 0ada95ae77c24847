"""The HTML pages. Each reads what it shows from the ``Site`` (as the API does) and renders a
template; charts are specs in JSON that /static/app.js draws with the bundled Chart.js."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from guarantor import __version__, palette
from guarantor.accounts import service as accounts
from guarantor.accounts.service import Principal
from guarantor.analysis import org as org_svc
from guarantor.analysis.org import Team
from guarantor.analysis.schemas import PersonResult, week
from guarantor.data.files import ATTRIBUTION, OBSERVED_ATTRIBUTION
from guarantor.errors import InputError, TooManyAttempts
from guarantor.guarantees import display, sources
from guarantor.guarantees.schemas import SeriesOut
from guarantor.guarantees.spec import parse_target
from guarantor.tasks.catalogue import AUTOMATION_WORDS, EXPOSURE_LEVELS, EXPOSURE_WORDS
from guarantor.tasks.service import HOW_FREED, UNFAMILIAR_NOTE
from guarantor.web import schemas, security
from guarantor.web.assets import Assets
from guarantor.web.cache import versioned
from guarantor.web.security import SESSION_COOKIE, editor, principal, server, site, viewer, writer
from guarantor.web.service import Server, Site
from guarantor.workspace import service as ws_svc
from guarantor.workspace.schema import VALUE_LABELS, VALUE_QUESTIONS, value_answers

_env = Environment(
    loader=ChoiceLoader(  # the report's templates too: labels.j2, the macros both show
        [FileSystemLoader(Path(__file__).parent / "templates"), PackageLoader("guarantor.report", "templates")]
    ),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ASSETS = Assets(Path(__file__).parent / "static")
_env.globals["asset"] = ASSETS.url
_env.filters["with_unit"] = display.with_unit
_env.filters["value_answers"] = value_answers
_env.filters["status_word"] = display.status_word
_env.filters["count"] = display.count
_env.filters["num"] = lambda v: f"{float(v):,.4g}" if abs(float(v)) < 1e4 else f"{float(v):,.0f}"
public = APIRouter(include_in_schema=False)
account = APIRouter(include_in_schema=False)  # a logged-in user's own pages: their workspaces, the organisation
router = APIRouter(prefix="/w/{workspace}", include_in_schema=False, dependencies=[Depends(viewer)])
OUTCOME_FIELDS = ("title", "for_whom", "need", "indicator", "target", "owner")
NAV = [
    ("/", "Overview"),
    ("/roles", "Roles"),
    ("/people", "People"),
    ("/outcomes", "Outcomes"),
    ("/work", "Work"),
    ("/systems", "Systems"),
    ("/analyses", "History"),
    ("/api", "API"),
]


def render(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    """A page; inside a workspace, its links start at the workspace's root, and the header offers
    the other workspaces its user has a role in."""
    who: Principal | None = getattr(request.state, "principal", None)
    here: Site | None = getattr(request.state, "site", None)
    server: Server | None = getattr(request.app.state, "server", None)
    html = _env.get_template(template).render(
        who=who,
        csrf=who.csrf_token if who else None,
        nav=NAV,
        root=here.root if here else "",
        here=here,
        role=who.role_in(here.workspace_id) if who and here else None,
        can=lambda role: bool(who and here and who.can(here.workspace_id, role)),
        workspaces=server.visible(who) if who and server else [],
        # the files this server refused, with their errors: for whoever administers what it serves
        refused=server.refused if who and server and any(who.can(w, "admin") for w in who.workspaces) else [],
        path=request.url.path.removeprefix(here.root) if here else request.url.path,
        version=__version__,
        attribution=ATTRIBUTION.split("\n"),
        palette={"colors": palette.COLORS, "series": palette.SERIES, "other": palette.OTHER},
        exposure_words=EXPOSURE_WORDS,
        automation_words=AUTOMATION_WORDS,
        unfamiliar_note=UNFAMILIAR_NOTE,
        **context,
    )
    return HTMLResponse(html, status_code=code)


def error_page(request: Request, status: int, message: str, hint: str | None, problems: list[Any]) -> HTMLResponse:
    return render(request, "error.html.j2", status, http_status=status, message=message, hint=hint, problems=problems)


def _back(target: str, s: Site | None = None) -> RedirectResponse:
    """See other: ``target`` within the workspace ``s`` when given."""
    return RedirectResponse((s.root if s else "") + target, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would turn the login page into a phishing aid."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


# -- charts ------------------------------------------------------------------------------------


def bar(
    labels: list[str],
    datasets: list[dict[str, Any]],
    *,
    stacked: bool = False,
    unit: str = "",
    horizontal: bool = False,
) -> dict[str, Any]:
    return {
        "type": "bar",
        "labels": labels,
        "datasets": datasets,
        "stacked": stacked,
        "unit": unit,
        "horizontal": horizontal,
    }


def hours_by_person(
    people: Sequence[schemas.PersonHours | PersonResult | Team], horizontal: bool = False
) -> dict[str, Any]:
    """Each person's (or team's) week split into what AI frees and what is kept."""
    weeks = [week(p.hours_week, p.hours_freed) for p in people]
    parts = [label for label, _ in week(0, 0)]
    return bar(
        [p.name for p in people],
        [{"label": label, "data": [w[i][1] for w in weeks]} for i, label in enumerate(parts)],
        stacked=True,
        unit="h/week",
        horizontal=horizontal,
    )


def doughnut(labels: list[str], values: list[float], unit: str = "") -> dict[str, Any]:
    return {"type": "doughnut", "labels": labels, "datasets": [{"label": unit, "data": values}], "unit": unit}


def timeseries(s: SeriesOut, marks: list[schemas.ClosedItem]) -> dict[str, Any]:
    return {
        "type": "time",
        "label": s.name,
        "unit": s.unit,
        "precision": s.precision,
        "points": s.points,
        "targets": parse_target(s.target).lines(),
        "marks": [[m.closed_at, m.item] for m in marks],
    }


# -- login -------------------------------------------------------------------------------------


@public.get("/login")
def login_form(request: Request, next: str = "/", s: Server = Depends(server)) -> Response:
    if s.settings.web_no_login and security.on_this_machine(request):
        return _logged_in(request, s, "admin", next)
    return _login_page(request, next)


def _login_page(request: Request, next: str) -> HTMLResponse:
    token = security.login_token(request)
    response = render(request, "login.html.j2", next=_safe_next(next), error=None, token=token)
    security.set_login_cookie(request, response, token)
    return response


@public.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/"),
    s: Server = Depends(server),
) -> Response:
    security.check_login_token(request, csrf_token)
    backoff = accounts.Backoff(s.settings.login_free_failures, s.settings.login_max_wait_s)
    client = request.client.host if request.client else "unknown"
    lifetime = timedelta(hours=s.settings.web_session_hours)
    try:
        with s.db.transaction() as session:
            user = accounts.login(session, username, password, client, s.clock(), backoff)
            secret = accounts.start_session(session, user, s.clock(), lifetime)[0] if user else None
    except TooManyAttempts as exc:
        refused = render(request, "login.html.j2", 429, next=_safe_next(next), error=exc.message, token=csrf_token)
        refused.headers["retry-after"] = str(exc.retry_after)
        return refused
    if secret is None:
        failed: Response = render(
            request, "login.html.j2", 401, next=_safe_next(next), error="Wrong username or password.", token=csrf_token
        )
        return failed
    return _session(request, secret, lifetime, next)


def _logged_in(request: Request, s: Server, username: str, next: str) -> Response:
    """``GUARANTOR_WEB_NO_LOGIN``: a session for ``username`` without a password; the login form
    when there is no such user."""
    lifetime = timedelta(hours=s.settings.web_session_hours)
    with s.db.transaction() as session:
        secret = accounts.session_without_password(session, username, s.clock(), lifetime)
    return _login_page(request, next) if secret is None else _session(request, secret, lifetime, next)


def _session(request: Request, secret: str, lifetime: timedelta, next: str) -> Response:
    response = _back(_safe_next(next))
    security.set_session_cookie(request, response, secret, int(lifetime.total_seconds()))
    response.delete_cookie(security.LOGIN_COOKIE, path="/login")
    return response


@account.post("/logout")
def logout(request: Request, _: Principal = Depends(writer), s: Server = Depends(server)) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with s.db.transaction() as session:
            accounts.end_session(session, cookie)
        s.forget(cookie)
    response = _back("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- across workspaces ---------------------------------------------------------------------------


@account.get("/")
def home(request: Request, who: Principal = Depends(principal), s: Server = Depends(server)) -> Response:
    """The workspaces this user has a role in; straight to it when there is one."""
    mine = s.visible(who)
    if len(mine) == 1:
        return _back(mine[0].root + "/")
    return render(request, "home.html.j2", sites=mine)


@account.get("/org")
@versioned
def org(request: Request, who: Principal = Depends(principal), s: Server = Depends(server)) -> HTMLResponse:
    view = s.org(who)
    teams = view.teams
    charts = {
        "hours": hours_by_person(teams, horizontal=True),
        "outcomes": bar(
            [t.name for t in teams],
            [
                {"label": "guaranteed", "data": [t.guaranteed for t in teams]},
                {"label": "aspirational", "data": [t.aspirational for t in teams]},
            ],
            stacked=True,
            unit="outcomes",
            horizontal=True,
        ),
    }
    return render(request, "org.html.j2", view=view, charts=charts, statuses=org_svc.STATUSES)


# -- pages -------------------------------------------------------------------------------------


@router.get("/")
@versioned
def overview(request: Request, s: Site = Depends(site)) -> HTMLResponse:
    o = s.overview()
    statuses = [k for k, v in o.outcomes_by_status.items() if v]
    charts = {
        "status": doughnut(
            [display.status_word(k) for k in statuses], [o.outcomes_by_status[k] for k in statuses], "outcomes"
        ),
        "people": hours_by_person(o.people),
    }
    return render(request, "overview.html.j2", o=o, charts=charts)


@router.get("/roles")
@versioned
def roles(request: Request, q: str = "", family: str = "", s: Site = Depends(site)) -> HTMLResponse:
    """Search by title, or browse the occupation families, with exposure beside observed AI use."""
    return render(
        request,
        "roles.html.j2",
        q=q,
        results=s.search_roles(q) if q else [],
        family=s.family(family) if family else None,
        families=[] if q or family else s.families(),
        observed_attribution=OBSERVED_ATTRIBUTION,
    )


@router.get("/roles/{code}")
@versioned
def role(
    request: Request, code: str, hours: float = Query(40.0, gt=0, le=168), s: Site = Depends(site)
) -> HTMLResponse:
    p = s.role(code, hours)
    levels = EXPOSURE_LEVELS
    charts = {
        "exposure": doughnut(
            ["E0 not exposed", "E1 LLM alone", "E2 LLM + tools"],
            [round(sum(t.hours for t in p.tasks if t.exposure == k), 2) for k in levels],
            "h/week",
        ),
        "automation": bar(
            ["T0", "T1", "T2", "T3", "T4"],
            [
                {
                    "label": "tasks",
                    "data": [sum(t.automation == k for t in p.tasks) for k in ("T0", "T1", "T2", "T3", "T4")],
                }
            ],
            unit="tasks",
        ),
    }
    tasks = sorted(p.tasks, key=lambda t: -t.hours_freed)
    return render(request, "role.html.j2", p=p, tasks=tasks, charts=charts, how_freed=HOW_FREED)


@router.get("/people")
@versioned
def people(request: Request, s: Site = Depends(site)) -> HTMLResponse:
    rows = s.people()
    titles = {o.id: o.title for o in s.snapshot().workspace.outcomes}
    names = {p.id: p.name for p in rows}
    charts = {"people": hours_by_person(rows)}
    return render(request, "people.html.j2", people=rows, charts=charts, plan=s.plan(), titles=titles, names=names)


@router.get("/api")
@versioned
def api_reference(request: Request) -> HTMLResponse:
    return render(request, "api.html.j2")


@router.get("/people/{person_id}")
@versioned
def person(request: Request, person_id: str, s: Site = Depends(site)) -> HTMLResponse:
    p = s.person(person_id)
    revision = s.snapshot().revision.id
    return render(request, "person.html.j2", p=p, questions=VALUE_QUESTIONS, vp_labels=VALUE_LABELS, revision=revision)


@router.post("/people/{person_id}/value-proposition")
async def update_value_proposition(
    request: Request, person_id: str, who: Principal = Depends(editor), s: Site = Depends(site)
) -> Response:
    form = dict(await request.form())
    answers = {k: str(form.get(k) or "").strip() or None for k in VALUE_QUESTIONS}
    s.edit(who, ws_svc.update_person(person_id, {"value_proposition": answers}), "web", _revision(form))
    return _back(f"/people/{person_id}", s)


@router.post("/tasks/{task_id}/serves")
async def link_task(
    request: Request, task_id: str, who: Principal = Depends(editor), s: Site = Depends(site)
) -> Response:
    """The outcomes a task serves, as ticked on a person's page (none ticked: it serves none)."""
    form = await request.form()
    serves = [str(v) for v in form.getlist("serves")]
    s.edit(who, ws_svc.update_task(task_id, {"serves": serves}), "web", _revision(dict(form)))
    person = str(form.get("person") or "")
    known = any(p.id == person for p in s.snapshot().workspace.people)
    return _back(f"/people/{person}" if known else "/people", s)


@router.get("/outcomes")
@versioned
def outcomes(request: Request, s: Site = Depends(site)) -> HTMLResponse:
    rows = s.outcomes()
    return render(request, "outcomes.html.j2", outcomes=rows, revision=s.snapshot().revision.id)


@router.get("/outcomes/{outcome_id}")
@versioned
def outcome(request: Request, outcome_id: str, s: Site = Depends(site)) -> HTMLResponse:
    return _outcome_page(request, s, outcome_id)


def _outcome_page(request: Request, s: Site, outcome_id: str, code: int = 200, **typed: str) -> HTMLResponse:
    """The outcome's page; ``typed``: a check-in refused, shown again as typed with why (a value
    mistyped loses nothing of the note written with it)."""
    d = s.outcome(outcome_id)
    charts = {f"ind-{i}": timeseries(series, d.work_closed) for i, series in enumerate(d.series)}
    people = {p.id: p.name for p in s.snapshot().workspace.people}
    context = {"d": d, "charts": charts, "kinds": sources.REGISTRY, "editable": INDICATOR_FIELDS, "people": people}
    return render(request, "outcome.html.j2", code, typed=typed, **context)


def _outcome_fields(form: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(form.get(k) or "").strip() or None) for k in OUTCOME_FIELDS}


@router.post("/outcomes")
async def create_outcome(request: Request, who: Principal = Depends(editor), s: Site = Depends(site)) -> Response:
    form = dict(await request.form())
    fields = {"id": str(form.get("id") or "").strip(), **_outcome_fields(form)}
    s.edit(who, ws_svc.add_outcome(fields), "web", _revision(form))
    return _back(f"/outcomes/{fields['id']}", s)


@router.post("/outcomes/{outcome_id}")
async def update_outcome(
    request: Request, outcome_id: str, who: Principal = Depends(editor), s: Site = Depends(site)
) -> Response:
    form = dict(await request.form())
    s.edit(who, ws_svc.update_outcome(outcome_id, _outcome_fields(form)), "web", _revision(form))
    return _back(f"/outcomes/{outcome_id}", s)


INDICATOR_FIELDS = ("query", "jsonpath", "jmespath", "unit", "precision", "target", "warn", "fresh_within", "reduce")


@router.post("/outcomes/{outcome_id}/indicators/{indicator_id}")
async def update_indicator(
    request: Request, outcome_id: str, indicator_id: str, who: Principal = Depends(editor), s: Site = Depends(site)
) -> Response:
    """An editor changes an indicator on a source the file defines; the source's confinement and the
    loader's checks apply as to any edit (a command source's indicator is refused)."""
    form = dict(await request.form())
    fields: dict[str, Any] = {}
    for key in INDICATOR_FIELDS:
        if key in form:
            value = str(form[key]).strip()
            fields[key] = (int(value) if key == "precision" and value.isdigit() else value) or None
    s.edit(who, ws_svc.update_indicator(outcome_id, indicator_id, fields), "web", _revision(form))
    return _back(f"/outcomes/{outcome_id}", s)


@router.post("/outcomes/{outcome_id}/check")
async def check_outcome(outcome_id: str, _: Principal = Depends(editor), s: Site = Depends(site)) -> Response:
    await s.check_apart(outcome_id)
    return _back(f"/outcomes/{outcome_id}", s)


@router.post("/outcomes/{outcome_id}/checkins")
def checkin_outcome(
    request: Request,
    outcome_id: str,
    indicator: str = Form(...),
    value: str = Form(...),
    note: str = Form(""),
    confidence: str = Form(""),
    who: Principal = Depends(editor),
    s: Site = Depends(site),
) -> Response:
    try:
        s.checkin(who, outcome_id, indicator, value, note.strip() or None, confidence or None)
    except InputError as exc:
        typed = {"indicator": indicator, "value": value, "note": note, "confidence": confidence}
        return _outcome_page(request, s, outcome_id, exc.http_status, error=exc.message, **typed)
    return _back(f"/outcomes/{outcome_id}", s)


def _revision(form: dict[str, Any]) -> int | None:
    raw = str(form.get("revision") or "")
    return int(raw) if raw.isdigit() else None


@router.get("/work")
@versioned
def work(request: Request, s: Site = Depends(site)) -> HTMLResponse:
    w = s.work()
    charts = {}
    b = w.balance
    if b:
        rows = sorted(b.by_outcome.items(), key=lambda kv: -kv[1].count)
        charts["balance"] = bar(
            [w.titles.get(k, k) for k, _ in rows],
            [{"label": "items", "data": [v.count for _, v in rows]}],
            unit="items",
            horizontal=True,
        )
        months = list(b.by_month)
        keys = sorted({k for m in b.by_month.values() for k in m})
        counts = {(m, k): bucket.count for m, per in b.by_month.items() for k, bucket in per.items()}
        charts["months"] = bar(
            months,
            [{"label": w.titles.get(k, k), "data": [counts.get((m, k), 0) for m in months]} for k in keys],
            stacked=True,
            unit="items",
        )
    return render(request, "work.html.j2", w=w, charts=charts)


@router.post("/work/links")
def decide_link(
    item: str = Form(...),
    outcome: str = Form(...),
    decision: str = Form(...),
    _: Principal = Depends(editor),
    s: Site = Depends(site),
) -> Response:
    s.decide(item, outcome, decision)
    return _back("/work", s)


@router.get("/systems")
@versioned
def systems(request: Request, s: Site = Depends(site)) -> HTMLResponse:
    titles = {o.id: o.title for o in s.snapshot().workspace.outcomes}
    return render(request, "systems.html.j2", systems=s.systems(), titles=titles)


@router.post("/analyses")
def analyse_now(_: Principal = Depends(editor), s: Site = Depends(site)) -> Response:
    s.analyse_now()
    return _back("/analyses", s)


@router.get("/analyses/{analysis_id}/report")
@versioned
def download_report(analysis_id: int = PathParam(ge=1, le=2**31 - 1), s: Site = Depends(site)) -> Response:
    name, html = s.report(analysis_id)
    return HTMLResponse(html, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/analyses")
@versioned
def analyses(request: Request, s: Site = Depends(site)) -> HTMLResponse:
    rows = s.analyses()
    oldest_first = list(reversed(rows))
    chart = bar(
        [r.created_at[:16].replace("T", " ") for r in oldest_first],
        [{"label": "hours freed a week", "data": [r.hours_freed for r in oldest_first]}],
        unit="h/week",
    )
    return render(request, "analyses.html.j2", analyses=rows, revisions=s.revisions(), charts={"trend": chart})
