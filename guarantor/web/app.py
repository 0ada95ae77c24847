"""The web app: pages for people, a JSON API for scripts, both on the database the CLI uses.

``create_app`` is also a factory uvicorn's worker processes call (``--factory``), reading the
workspace paths from ``GUARANTOR_WEB_WORKSPACE`` (joined by ``os.pathsep``) set by ``guarantor serve``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guarantor import __version__
from guarantor.errors import GuarantorError, TooLarge
from guarantor.settings import Settings, get_settings
from guarantor.web import api, errors, pages
from guarantor.web.cache import Responses
from guarantor.web.security import SECURITY_HEADERS
from guarantor.web.service import Server

WORKSPACE_ENV = "GUARANTOR_WEB_WORKSPACE"


class SecurityHeaders:
    """Adds the security headers to every response, and no-store to every one that does not say how
    long it keeps (the static files, and answers with an ETag, do). Plain ASGI rather than
    Starlette's BaseHTTPMiddleware, which costs a task per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class OneWorkspace:
    """With a single workspace served, its addresses from before workspaces (``/outcomes/x``,
    ``/api/v1/overview``) keep working: they are the same pages under ``/w/{key}/``. With several,
    there is no one to mean, and such an address is 404."""

    ACROSS = ("/static/", "/login", "/logout", "/org", "/w/", "/api/v1/w/", "/api/v1/workspaces", "/api/v1/org")

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app, self.key = app, key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not path.startswith(self.ACROSS) and path != "/api/v1/openapi.json":
            if path.startswith("/api/v1/"):
                path = f"/api/v1/w/{self.key}/" + path.removeprefix("/api/v1/")
            elif not path.startswith("/api/"):
                path = f"/w/{self.key}" + path
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413 before the app reads any of it: by its
    Content-Length when it has one, else by reading at most ``limit`` bytes of it and then replaying
    them to the app. Plain ASGI, so nothing downstream (form parsing, JSON decoding) sees more."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                await self._refuse(scope, send)
                return
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        message = f"The request body is larger than {self.limit:,} bytes (GUARANTOR_WEB_MAX_BODY_BYTES)."
        if scope["path"].startswith("/api/"):
            response: Response = JSONResponse(errors.body(TooLarge.code, message), status_code=TooLarge.http_status)
        else:
            response = PlainTextResponse(message, status_code=TooLarge.http_status)
        await response(scope, self._no_body, send)

    @staticmethod
    async def _no_body() -> Message:
        return {"type": "http.disconnect"}


STOP_WITHIN_S = 3.0


def _exit_soon() -> None:
    """End the server's process ``STOP_WITHIN_S`` after it was told to stop, if it is still there:
    a check waiting on a source that hangs holds a thread until the measurement's deadline (a
    minute by default), and Python waits for such threads at exit. What those checks had claimed
    is measured by the next run, as after any process that died."""
    timer = threading.Timer(STOP_WITHIN_S, os._exit, [0])
    timer.daemon = True  # a process that ends by itself ends it too
    timer.start()


def create_app(settings: Settings | None = None, workspaces: Sequence[Path] | Path | None = None) -> FastAPI:
    settings = settings or get_settings()
    served = workspaces is None  # by `guarantor serve` (its processes name the workspaces in the environment)
    if workspaces is None:
        workspaces = [Path(p) for p in os.environ.get(WORKSPACE_ENV, ".").split(os.pathsep)]
    server = Server(settings, [workspaces] if isinstance(workspaces, Path) else workspaces)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Load the model and assess the tasks before the first request rather than during it,
        # where every request arriving meanwhile would wait. A failure shows on the pages instead.
        to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        for site in server.sites.values():
            with contextlib.suppress(GuarantorError):
                await run_in_threadpool(site.overview)
        # What is loaded by now (the model, the reference data, the first assessments) lives as
        # long as the process: out of the collector's sight, a full collection no longer walks it,
        # which took 40 to 90 ms of every request waiting at the time (p99 under load).
        gc.freeze()
        yield
        gc.unfreeze()  # frozen objects outlive the interpreter: DuckDB's bindings would list each as leaked
        server.close()
        if served:
            _exit_soon()

    app = FastAPI(
        title="Guarantor",
        version=__version__,
        description="Outcomes, their guarantees, the work and tasks that serve them, and what AI frees.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served under /api/v1, behind login like everything else
    )
    app.state.server = server
    app.mount("/static", pages.ASSETS, name="static")
    app.include_router(pages.public)
    app.include_router(pages.account)
    app.include_router(pages.router)
    app.include_router(api.account)
    app.include_router(api.router)
    errors.install(app)

    app.add_middleware(Responses, server=server)
    if len(server.sites) == 1:
        app.add_middleware(OneWorkspace, key=next(iter(server.sites)))
    app.add_middleware(BodyLimit, limit=settings.web_max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
