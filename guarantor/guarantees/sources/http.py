"""`http`: GET a JSON document and pick the number with JSONPath or JMESPath; TLS verified.

An indicator's ``query`` is a path under the source's ``base_url``, never a URL of its own: an
absolute URL, another scheme, host or port, ``..`` segments and control characters are refused when
the workspace is validated and again before each request. Redirects are followed by hand, so the
source's headers (its credentials) go only to its own origin and are dropped on a redirect
elsewhere; only http and https are spoken, and a body over ``MAX_BODY_BYTES`` is refused.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field

from guarantor.guarantees.sources import base
from guarantor.guarantees.sources.base import Context, Reading, SourceError, SourceSpec, register
from guarantor.guarantees.spec import Duration, Indicator, Secret

MAX_BODY_BYTES = 16 << 20
MAX_REDIRECTS = 5
_UNSAFE_PATH = re.compile(r"[\x00-\x20\x7f\\]")
_UNSAFE_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class HttpClientSpec(SourceSpec):
    """What every source that GETs JSON over HTTP takes (``get_json``'s settings)."""

    headers: dict[str, Secret] = Field(default={})
    timeout: Duration = timedelta(seconds=10)
    verify_tls: bool = True


class HttpSpec(HttpClientSpec):
    type: Literal["http"]
    base_url: str


def path_problem(query: str) -> str | None:
    """Why ``query`` is not a path under a base URL, or None when it is one."""
    parts = urlsplit(query)
    if parts.scheme or parts.netloc or query.startswith("//"):
        return "must be a path under the source's base_url (such as /status), not a URL"
    path = parts.path
    for _ in range(3):  # as a server would read it: %2e%2e is .., %252e%252e is %2e%2e
        path = unquote(path)
    if _UNSAFE_PATH.search(query) or _UNSAFE_PATH.search(path):
        return "may not hold spaces, control characters or backslashes"
    if "%" in path or any(segment in (".", "..") for segment in path.split("/")):
        return "may not hold . or .. segments, encoded or not"
    return None


def join(base_url: str, query: str) -> str:
    problem = path_problem(query)
    if problem is not None:
        raise SourceError(f"the query {query[:80]!r} {problem}")
    return base_url.rstrip("/") + "/" + query.lstrip("/")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def get_json(url: str, headers: dict[str, str], timeout: float, verify: bool) -> Any:
    """GET a JSON document within ``timeout`` seconds of wall-clock time, whatever the server
    does (connects slowly, trickles its headers or body a byte at a time); every failure becomes a
    SourceError that says what happened, without the URL's credentials or query string.

    httpx's timeout bounds each read, not the whole: a watchdog closes the client's connections at
    the deadline, which ends a read in progress."""
    import httpx

    origin = _origin(url)
    if origin[0] not in ("http", "https"):
        raise SourceError(f"only http and https URLs are fetched, not {origin[0] or 'a relative URL'}")
    bad = [name for name, value in headers.items() if _UNSAFE_HEADER.search(name + value)]
    if bad:
        raise SourceError(f"the header {bad[0]} holds a line break or control character; it was not sent")
    sent = {"Accept": "application/json", **headers}
    client = httpx.Client(verify=verify, timeout=timeout, follow_redirects=False)
    watchdog = threading.Timer(timeout, client.close)
    watchdog.daemon = True
    deadline = time.monotonic() + timeout
    try:
        watchdog.start()
        body = _fetch(client, url, sent, origin, deadline)
    except httpx.HTTPError as exc:
        if time.monotonic() >= deadline:
            raise SourceError(f"GET {_safe(url)} timed out after {timeout:g} s") from exc
        raise SourceError(f"GET {_safe(url)} failed: {exc or type(exc).__name__}") from exc
    except RuntimeError as exc:  # the watchdog closed the client between two requests (a redirect)
        raise SourceError(f"GET {_safe(url)} timed out after {timeout:g} s") from exc
    finally:
        watchdog.cancel()
        client.close()
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "not valid JSON"
        raise SourceError(f"GET {_safe(url)} did not return JSON: {reason}") from exc


def _fetch(client: Any, url: str, sent: dict[str, str], origin: tuple[str, str, int | None], deadline: float) -> bytes:
    """The body of ``url``, following redirects by hand (the source's headers stay with its origin)."""
    for _ in range(MAX_REDIRECTS + 1):
        with client.stream("GET", url, headers=sent) as response:
            if response.is_redirect and "location" in response.headers:
                url = str(response.url.join(response.headers["location"]))
                if _origin(url)[0] not in ("http", "https"):
                    raise SourceError(f"GET {_safe(str(response.url))} redirected to a non-HTTP URL")
                if _origin(url) != origin:  # the source's credentials stay with its origin
                    sent = {"Accept": "application/json"}
                continue
            if response.status_code >= 400:
                raise SourceError(f"GET {_safe(url)} answered HTTP {response.status_code} {response.reason_phrase}")
            return _read(response, url, deadline)
    raise SourceError(f"GET {_safe(url)}: more than {MAX_REDIRECTS} redirects")


def _read(response: Any, url: str, deadline: float) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        if time.monotonic() >= deadline:  # a body trickled in small chunks ends at the deadline too
            raise SourceError(f"GET {_safe(url)} took longer than its timeout")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise SourceError(f"GET {_safe(url)} returned more than {MAX_BODY_BYTES >> 20} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _safe(url: str) -> str:
    """The URL without its query string, which may carry a token (its password is masked with the
    rest of the message, as every GuarantorError's is)."""
    return url.split("?", 1)[0]


def compile_path(indicator: Indicator, path: str | None = None) -> Any:
    """The compiled expression (the value's, or ``path`` in the same language, such as time_path);
    a malformed one raises ValueError."""
    if indicator.jsonpath is not None:
        from jsonpath_ng.ext.parser import parse

        text = path or indicator.jsonpath
        try:
            return parse(text)
        except Exception as exc:  # jsonpath-ng raises lexer, parser and plain exceptions alike
            raise ValueError(f"malformed JSONPath {text!r}{' (time_path)' if path else ''}: {exc}") from exc
    if indicator.jmespath is not None:
        import jmespath
        from jmespath.exceptions import JMESPathError

        text = path or indicator.jmespath
        try:
            return jmespath.compile(text)
        except (JMESPathError, RecursionError) as exc:
            raise ValueError(f"malformed JMESPath {text!r}{' (time_path)' if path else ''}: {exc}") from exc
    raise ValueError("an http indicator needs jsonpath or jmespath")


def _select(document: Any, indicator: Indicator, path: str | None = None) -> list[Any]:
    """What an expression selects, as a list: JSONPath's matches, or a JMESPath result (a list
    result is its items; null is nothing)."""
    expression = compile_path(indicator, path)
    if indicator.jsonpath is not None:
        return [m.value for m in expression.find(document)]
    found = expression.search(document)
    return [] if found is None else found if isinstance(found, list) else [found]


def pick(document: Any, indicator: Indicator) -> Reading:
    expression = indicator.jsonpath or indicator.jmespath
    values = _select(document, indicator)
    at = None
    if indicator.time_path is not None:
        times = _select(document, indicator, indicator.time_path)
        at = max((t for t in (base.to_time(v) for v in times) if t is not None), default=None)
    if not values:
        return Reading(None, at, no_data=f"{expression} matched nothing")
    pairs = [(base.to_decimal(v, "the selected value"), at) for v in values]
    return base.reduce_values(pairs, indicator.reduce, str(expression), "values")


class HttpSource:
    def __init__(self, spec: HttpSpec, context: Context) -> None:
        self.spec = spec
        self.headers = {k: base.reveal(v) for k, v in spec.headers.items()}

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        url = join(self.spec.base_url, indicator.query_text)
        return pick(get_json(url, self.headers, timeout, self.spec.verify_tls), indicator)

    def close(self) -> None:
        pass


def _check_indicator(ind: Indicator) -> list[tuple[str | None, str]]:
    """One of jsonpath or jmespath, and paths that compile."""
    if (ind.jsonpath is None) == (ind.jmespath is None):
        return [(None, "an http indicator needs one of jsonpath or jmespath")]
    try:
        compile_path(ind)
        if ind.time_path is not None:
            compile_path(ind, ind.time_path)
    except ValueError as exc:
        field = "jsonpath" if ind.jsonpath is not None else "jmespath"
        return [(field if "time_path" not in str(exc) else "time_path", str(exc))]
    return []


register(
    "http",
    HttpSpec,
    lambda _spec, query: path_problem(query),
    check_indicator=_check_indicator,
    reaches_network=True,
    example=lambda _share: {"query": "/PATH", "jsonpath": "$.VALUE", "fresh_within": "1d"},
    fields=("jsonpath", "jmespath", "time_path"),
)(HttpSource)
