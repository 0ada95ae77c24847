"""The static files (styles, scripts, the bundled Chart.js and Swagger UI), served from memory.

Pages link each file by its content (``/static/app.css?v=1a2b3c4d5e6f``): such an address never
changes meaning, so a browser keeps it for a year without asking again (``immutable``), and a new
release links new addresses. An address without the current ``v`` (a bookmark, a page from before
an upgrade) is still answered, with ``no-cache`` and an ETag, so it is checked rather than kept
stale. Text files are gzipped once at start and sent so to clients that accept it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None  # None where gzip does not make it smaller (an SVG of 200 bytes)
    media_type: str
    digest: str


def _media_type(path: Path) -> str:
    found = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{found}; charset=utf-8" if found.startswith("text/") or found.endswith(("javascript", "json")) else found


def _read(path: Path) -> Asset:
    body = path.read_bytes()
    packed = gzip.compress(body, 9, mtime=0)
    media = _media_type(path)
    textual = "charset" in media or media == "image/svg+xml"
    return Asset(
        body, packed if textual and len(packed) < len(body) else None, media, hashlib.sha256(body).hexdigest()[:12]
    )


class Assets:
    """The files of ``folder``, as an ASGI app mounted at ``/static``."""

    def __init__(self, folder: Path, prefix: str = "/static/") -> None:
        self.prefix = prefix
        self.files = {p.relative_to(folder).as_posix(): _read(p) for p in sorted(folder.rglob("*")) if p.is_file()}

    def url(self, name: str) -> str:
        """The address a page links ``name`` by; a name that is not there is a bug, so KeyError."""
        return f"{self.prefix}{name}?v={self.files[name].digest}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asset = self.files.get(scope["path"].removeprefix(self.prefix))
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, [(b"allow", b"GET, HEAD")])
            return
        if asset is None:
            await _answer(send, 404, [(b"content-type", b"text/plain; charset=utf-8")], b"Not found.")
            return
        etag = f'"{asset.digest}"'.encode()
        current = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v") == [asset.digest]
        common = [
            (b"etag", etag),
            (b"cache-control", (FOREVER if current else REVALIDATE).encode()),
            (b"vary", b"accept-encoding"),
        ]
        if sent_back(scope, etag):
            await _answer(send, 304, common)
            return
        body, encoding = asset.body, []
        if asset.gzipped is not None and _accepts_gzip(dict(scope["headers"]).get(b"accept-encoding", b"")):
            body, encoding = asset.gzipped, [(b"content-encoding", b"gzip")]
        await _answer(
            send,
            200,
            [*common, *encoding, (b"content-type", asset.media_type.encode())],
            body,
            head=scope["method"] == "HEAD",
        )


def sent_back(scope: Scope, etag: bytes) -> bool:
    """Whether the request's If-None-Match names ``etag`` (or any, ``*``): the client has it."""
    sent = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
    return sent is not None and (sent.strip() == b"*" or etag in (t.strip() for t in sent.split(b",")))


def _accepts_gzip(header: bytes) -> bool:
    for part in header.decode("latin-1").lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


async def _answer(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"", head: bool = False
) -> None:
    if status != 304:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
