"""The web app: pages for people, a JSON API for scripts, both on the database the CLI uses.

``create_app`` is also a factory uvicorn's worker processes call (``--factory``), reading the
workspace path from ``GUARANTOR_WEB_WORKSPACE`` set by ``guarantor serve``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from guarantor import __version__
from guarantor.settings import Settings, get_settings
from guarantor.web import api, errors, pages
from guarantor.web.security import SECURITY_HEADERS
from guarantor.web.service import Site

STATIC = Path(__file__).parent / "static"
WORKSPACE_ENV = "GUARANTOR_WEB_WORKSPACE"


def create_app(settings: Settings | None = None, workspace: Path | None = None) -> FastAPI:
    settings = settings or get_settings()
    path = workspace or Path(os.environ.get(WORKSPACE_ENV, "."))
    site = Site(settings, path)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        site.close()

    app = FastAPI(
        title="Guarantor",
        version=__version__,
        description="Outcomes, their guarantees, the work and tasks that serve them, and what AI frees.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served under /api/v1, behind login like everything else
    )
    app.state.site = site
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.public)
    app.include_router(pages.router)
    app.include_router(api.router)
    errors.install(app)

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            response.headers["cache-control"] = "no-store"
        return response

    return app
