"""Answers to GET requests kept per data version, and conditional requests (ETag, 304).

A page or an API answer of a workspace derives from who asks (the page carries their CSRF token,
their role and the workspaces they may open), its address, and the workspace's version
(``Site.version``: the revision served, what was measured, the work, the saved analyses). So the
answer of a route marked ``versioned`` is kept with the version it was computed from, and given
again from memory, without a thread, a query or a template, while that version holds: for at most
``STATES_MAX_AGE`` seconds (the statuses' windows move with time), and for the organisation view,
which adds up facts other processes write, for at most ``GUARANTOR_WEB_CACHE_S``. A change made
through this process shows at once; through another, within half a second (``Site.version``).
Nothing is kept when ``GUARANTOR_WEB_CACHE_S`` is 0. Requests arriving while a page is being made
for the same person wait for that one instead of each making it again: under load, fifty renders
of one page at once would stall everything behind them. While a version or who a secret belongs
to is being asked again, the one request that asks waits; the others take the last answer.

Every answer of 200 to a GET carries an ETag (a hash of its body); a request that sends it back in
If-None-Match gets 304 without the body. Those answers are ``private, no-cache``: a browser may
keep them, but asks each time, so no logout or change is hidden by its cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from cachetools import LRUCache
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guarantor.accounts.service import Principal
from guarantor.errors import GuarantorError
from guarantor.web.assets import sent_back
from guarantor.web.security import credentials
from guarantor.web.service import STATES_MAX_AGE, Server, Site, Version, secret_key

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
VERSIONED: set[Callable[..., object]] = set()
KEPT_BYTES = 64 << 20
"""At most this much of kept answers per server process; the least recently used go first."""
REVALIDATE = b"private, no-cache"


def versioned(endpoint: Callable[P, R]) -> Callable[P, R]:
    """Marks a GET route whose answer derives from the workspace's version, who asks and the
    address alone, so it may be kept per version. A route reading anything else (the clock beyond
    a minute, another table) must not be marked."""
    VERSIONED.add(endpoint)
    return endpoint


@dataclass(frozen=True)
class Kept:
    who: Principal
    versions: tuple[Version, ...]
    expires: float
    start: Message
    body: bytes
    etag: bytes


def _etag(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


class Responses:
    """The ASGI middleware that keeps versioned answers and answers conditional requests; it sits
    inside the one that maps a single workspace's short addresses, so it sees ``/w/{key}/…``."""

    def __init__(self, app: ASGIApp, server: Server) -> None:
        self.app, self.server = app, server
        self.kept: LRUCache[tuple[str, bytes, str], Kept] = LRUCache(KEPT_BYTES, getsizeof=lambda k: len(k.body) + 512)
        self._rendering: dict[tuple[str, bytes, str], asyncio.Future[Kept | None]] = {}
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

    def _sites(self, path: str, who: Principal) -> tuple[Sequence[Site], float] | None:
        """The workspaces an answer at ``path`` derives from, and how long it may be kept."""
        if path in ("/org", "/api/v1/org"):
            return self.server.visible(who), self.server.settings.web_cache_s
        within = path.removeprefix("/api/v1")  # /w/{key}/… for pages and the API alike
        key = within.split("/", 3)[2] if within.startswith("/w/") else ""
        found = self.server.sites.get(key)
        if found is None or who.role_in(found.workspace_id) is None:
            return None
        return [found], STATES_MAX_AGE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        cookie, bearer = credentials(HTTPConnection(scope))
        secret = secret_key(cookie, bearer)
        who = self.server.known(cookie, bearer)
        if who is None and secret is not None:
            stale = self.server.known(cookie, bearer, stale=True)
            try:
                who = await self._once(secret, lambda: run_in_threadpool(self.server.principal, cookie, bearer), stale)
            except GuarantorError:  # a busy database: the app asks again, and answers an error in its shape
                who = None
        found = self._sites(scope["path"], who) if who and secret and self.server.settings.web_cache_s > 0 else None
        key = (scope["path"], scope.get("query_string", b""), secret or "")
        versions: tuple[Version, ...] | None = None
        max_age = 0.0
        rendering: asyncio.Future[Kept | None] | None = None
        if found is not None:
            sites, max_age = found
            versions = await self._versions(sites)
            kept = self.kept.get(key)
            pending = self._rendering.get(key)
            if (kept is None or not self._holds(kept, who, versions)) and pending is not None:
                kept = await asyncio.shield(pending)  # the same page being made for the same person: wait for it
            if kept is not None and self._holds(kept, who, versions):
                await self._send(scope, send, kept.start, kept.body, kept.etag)
                return
            if pending is None and versions is not None:
                rendering = self._rendering[key] = asyncio.get_running_loop().create_future()
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(scope=start)
            if start["status"] != 200 or "set-cookie" in headers or scope["method"] != "GET":
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            etag = _etag(body)
            headers["etag"] = etag.decode()
            headers["cache-control"] = REVALIDATE.decode()
            if versions is not None and who is not None and scope.get("endpoint") in VERSIONED:
                kept = self.kept[key] = Kept(who, versions, time.monotonic() + max_age, start, body, etag)
                if rendering is not None:
                    rendering.set_result(kept)
            await self._send(scope, send, start, body, etag)

        try:
            await self.app(scope, receive, capture)
        finally:
            if rendering is not None:
                if not rendering.done():
                    rendering.set_result(None)  # not kept: those waiting make their own
                del self._rendering[key]

    @staticmethod
    def _holds(kept: Kept, who: Principal | None, versions: tuple[Version, ...] | None) -> bool:
        return kept.who == who and kept.versions == versions and kept.expires > time.monotonic()

    async def _versions(self, sites: Sequence[Site]) -> tuple[Version, ...] | None:
        known = tuple(s.known_version() for s in sites)
        if all(v is not None for v in known):
            return known  # type: ignore[return-value]
        stale = tuple(s.known_version(stale=True) for s in sites)
        return await self._once(
            tuple(s.key for s in sites),
            lambda: self._ask(sites),
            None if None in stale else stale,  # type: ignore[arg-type]
        )

    async def _once(self, key: Hashable, make: Callable[[], Awaitable[T]], stale: T | None = None) -> T:
        """``make()``, run once for every request that asks for ``key`` while it runs: the one that
        starts it waits for it, the others take ``stale`` (what it gave last time) where there is
        one, or wait too. So a slow database stalls one request, not every one behind it."""
        pending = self._pending.get(key)
        if pending is not None and stale is not None:
            return stale
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(make())
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        found: T = await asyncio.shield(pending)
        return found

    @staticmethod
    async def _ask(sites: Sequence[Site]) -> tuple[Version, ...] | None:
        try:
            return await run_in_threadpool(lambda: tuple(s.version() for s in sites))
        except GuarantorError:
            return None  # the page says what is wrong; nothing is kept

    @staticmethod
    async def _send(scope: Scope, send: Send, start: Message, body: bytes, etag: bytes) -> None:
        if sent_back(scope, etag):
            headers = [(k, v) for k, v in start["headers"] if k in (b"etag", b"cache-control", b"vary")]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": list(start["headers"])})  # the next middleware adds to its copy
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
