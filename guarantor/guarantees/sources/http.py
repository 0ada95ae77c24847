"""`http`: GET a JSON document and pick the number with JSONPath or JMESPath; TLS verified."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from guarantor.guarantees.sources.base import Context, Reading, SourceError, register, reveal, to_decimal
from guarantor.guarantees.spec import Duration, Indicator, Secret


class HttpClientSpec(BaseModel):
    """What every source that GETs JSON over HTTP takes (``get_json``'s settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    headers: dict[str, Secret] = {}
    timeout: Duration = timedelta(seconds=10)
    verify_tls: bool = True


class HttpSpec(HttpClientSpec):
    type: Literal["http"]
    base_url: str


def get_json(url: str, headers: dict[str, str], timeout: float, verify: bool) -> Any:
    """GET a JSON document; every failure becomes a SourceError that says what happened."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
    context = ssl.create_default_context() if verify else ssl._create_unverified_context()
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise SourceError(f"GET {_safe(url)} answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SourceError(f"GET {_safe(url)} failed: {getattr(exc, 'reason', exc)}") from exc
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"GET {_safe(url)} did not return JSON: {exc}") from exc


def _safe(url: str) -> str:
    """The URL without its query string, which may carry a token."""
    return url.split("?", 1)[0]


def compile_path(indicator: Indicator) -> Any:
    """The compiled JSONPath or JMESPath expression; a malformed one raises ValueError."""
    if indicator.jsonpath is not None:
        from jsonpath_ng.ext.parser import parse

        try:
            return parse(indicator.jsonpath)
        except Exception as exc:  # jsonpath-ng raises lexer, parser and plain exceptions alike
            raise ValueError(f"malformed JSONPath {indicator.jsonpath!r}: {exc}") from exc
    if indicator.jmespath is not None:
        import jmespath
        from jmespath.exceptions import JMESPathError

        try:
            return jmespath.compile(indicator.jmespath)
        except JMESPathError as exc:
            raise ValueError(f"malformed JMESPath {indicator.jmespath!r}: {exc}") from exc
    raise ValueError("an http indicator needs jsonpath or jmespath")


def pick(document: Any, indicator: Indicator) -> Reading:
    expression = compile_path(indicator)
    if indicator.jsonpath is not None:
        matches = [m.value for m in expression.find(document)]
        if not matches:
            return Reading(None, no_data=f"{indicator.jsonpath} matched nothing")
        found = matches[0]
    else:
        found = expression.search(document)
        if found is None:
            return Reading(None, no_data=f"{indicator.jmespath} matched nothing")
    value = to_decimal(found, "the selected value")
    return Reading(value, no_data="" if value is not None else "the selected value is null")


class HttpSource:
    def __init__(self, spec: HttpSpec, context: Context) -> None:
        self.spec = spec
        self.headers = {k: reveal(v) for k, v in spec.headers.items()}

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        url = urllib.parse.urljoin(self.spec.base_url.rstrip("/") + "/", indicator.query.lstrip("/"))
        return pick(get_json(url, self.headers, timeout, self.spec.verify_tls), indicator)

    def close(self) -> None:
        pass


register("http", HttpSpec)(lambda spec, context: HttpSource(spec, context))
