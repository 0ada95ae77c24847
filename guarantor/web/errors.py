"""Errors as HTTP: each error class carries its status and code (``guarantor.errors``); one JSON shape.

API clients get ``{"error": {"code", "message", "hint", "problems"}}``; browsers get the same
facts on an HTML page, or the login page when they are not logged in.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import Match

from guarantor.errors import GuarantorError, ValidationFailed

log = logging.getLogger("guarantor.web")


def body(code: str, message: str, hint: str | None = None, problems: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "hint": hint, "problems": problems or []}}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _allowed(app: FastAPI, request: Request) -> str:
    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE and route.methods:
            methods |= route.methods
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    from guarantor.web.pages import error_page

    def respond(
        request: Request,
        status: int,
        code: str,
        message: str,
        hint: str | None,
        problems: list[Any],
        headers: dict[str, str] | None = None,
    ) -> Response:
        headers = dict(headers or {})
        if _wants_json(request):
            if status == 401:
                headers["www-authenticate"] = "Bearer"
            return JSONResponse(body(code, message, hint, problems), status_code=status, headers=headers)
        if status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
        page = error_page(request, status, message, hint, problems)
        page.headers.update(headers)
        return page

    @app.exception_handler(GuarantorError)
    async def guarantor_error(request: Request, exc: GuarantorError) -> Response:
        retry_after = getattr(exc, "retry_after", None)  # a refusal that may pass later says when
        headers = {"retry-after": str(retry_after)} if retry_after is not None else None
        problems = (
            [
                {"file": p.file, "line": p.line, "column": p.column, "field": p.field, "message": p.message}
                for p in exc.problems
            ]
            if isinstance(exc, ValidationFailed)
            else []
        )
        return respond(request, exc.http_status, exc.code, exc.message, exc.hint, problems, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {
                "file": "request",
                "line": None,
                "column": None,
                "field": ".".join(str(p) for p in e["loc"]),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        return respond(request, 422, "invalid", "The request is not valid.", None, problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the first matching route's methods; list them all
            headers["allow"] = _allowed(app, request)
        return respond(request, exc.status_code, code, str(exc.detail), None, [], headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return respond(
            request, 500, "internal", f"Internal error ({type(exc).__name__}); this is a bug in Guarantor.", None, []
        )
