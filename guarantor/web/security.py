"""Who is asking, and may they: sessions and tokens, roles per workspace, CSRF, and the response headers.

Browsers authenticate with a session cookie (HttpOnly, SameSite=Lax, Secure behind TLS), and every
form they post carries the session's CSRF token; API clients send ``Authorization: Bearer`` with a
token, which a browser never adds on its own, so token requests need no CSRF token. A JSON request
authenticated by the cookie must send the CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from fastapi import Depends, Request, Response
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from guarantor.accounts.models import Role
from guarantor.accounts.service import Principal, require
from guarantor.errors import Forbidden, Unauthenticated
from guarantor.web.service import Server, Site

SESSION_COOKIE = "guarantor_session"
LOGIN_COOKIE = "guarantor_login"  # the login form's CSRF token, before any session exists
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def server(request: Request) -> Server:
    value: Server = request.app.state.server
    return value


def credentials(connection: HTTPConnection) -> tuple[str | None, str | None]:
    """The session cookie and the bearer token a request sent, either possibly None."""
    auth = connection.headers.get("authorization", "")
    bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    return connection.cookies.get(SESSION_COOKIE), bearer


async def principal(request: Request) -> Principal:
    """Async, so that a request whose secret was seen a moment ago costs no thread hop or query."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        cookie, bearer = credentials(request)
        s = server(request)
        found = s.known(cookie, bearer) or await run_in_threadpool(s.principal, cookie, bearer)
        if found is None:
            raise Unauthenticated("Log in, or send an API token as Authorization: Bearer.")
        request.state.principal = found
    return found


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


async def _csrf(request: Request, who: Principal) -> None:
    if who.csrf_token is None:  # an API token: not sent by browsers on their own
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent_value = (await request.form()).get(CSRF_FIELD)
        sent = sent_value if isinstance(sent_value, str) else None
    if not _same(sent, who.csrf_token):
        raise Forbidden("The CSRF token is missing or wrong; reload the page and try again.")


async def site(
    request: Request,
    workspace: str = PathParam(description="The workspace's key.", max_length=64),
    who: Principal = Depends(principal),
) -> Site:
    """The workspace in the address (``/w/{workspace}/…``), which ``who`` must have a role in: any
    other is answered 404, exactly as one that does not exist."""
    found = server(request).site(workspace, who)
    request.state.site = found
    return found


async def viewer(who: Principal = Depends(principal), _: Site = Depends(site)) -> Principal:
    return who


async def editor(request: Request, who: Principal = Depends(principal), s: Site = Depends(site)) -> Principal:
    require(who, s.workspace_id, Role.EDITOR)
    await _csrf(request, who)
    return who


async def writer(request: Request, who: Principal = Depends(principal)) -> Principal:
    """Any logged-in user posting something of their own (logging out): CSRF only."""
    await _csrf(request, who)
    return who


def login_token(request: Request) -> str:
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=is_tls(request), path="/login")


def check_login_token(request: Request, sent: str | None) -> None:
    if not _same(sent, request.cookies.get(LOGIN_COOKIE)):
        raise Forbidden("The login form expired (CSRF token missing or wrong); reload it and try again.")


def is_tls(request: Request) -> bool:
    """Behind a TLS proxy, uvicorn's proxy headers support turns X-Forwarded-Proto into the scheme."""
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, value: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, value, max_age=max_age, httponly=True, samesite="lax", secure=is_tls(request), path="/"
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def on_this_machine(request: Request) -> bool:
    """Asked from loopback, by a loopback name, and not through a proxy: a page of another site
    whose name was pointed at 127.0.0.1 (DNS rebinding) asks by its own name, and a proxy in front
    (nginx sends ``Host: 127.0.0.1:PORT`` by default) adds its forwarding headers."""
    header = request.headers.get("host") or ""
    name = header.split("]", 1)[0] + "]" if header.startswith("[") else header.rsplit(":", 1)[0]
    forwarded = any(h in request.headers for h in ("forwarded", "x-forwarded-for", "x-real-ip"))
    client = request.client.host if request.client else ""
    return name in LOOPBACK_NAMES and is_loopback(client) and not forwarded


SECURITY_HEADERS = {
    # Every script and style is served from here; the JSON a chart reads is inert data.
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
