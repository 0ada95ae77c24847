"""`prometheus`: an instant query over the Prometheus HTTP API (``/api/v1/query``)."""

from __future__ import annotations

import urllib.parse
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from guarantor.guarantees.sources import base
from guarantor.guarantees.sources.base import Context, Reading, SourceError, register
from guarantor.guarantees.sources.http import HttpClientSpec, get_json
from guarantor.guarantees.spec import Indicator


class PrometheusSpec(HttpClientSpec):
    type: Literal["prometheus"]
    url: str


class PrometheusSource:
    def __init__(self, spec: PrometheusSpec, context: Context) -> None:
        self.spec = spec
        self.headers = {k: base.reveal(v) for k, v in spec.headers.items()}

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        query = urllib.parse.urlencode({"query": indicator.query_text, "timeout": f"{timeout:g}s"})
        url = f"{self.spec.url.rstrip('/')}/api/v1/query?{query}"
        return parse_response(get_json(url, self.headers, timeout, self.spec.verify_tls), indicator.reduce)

    def close(self) -> None:
        pass


def parse_response(doc: Any, reduce: str | None = None) -> Reading:
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error", "unknown error") if isinstance(doc, dict) else "not a Prometheus response"
        raise SourceError(f"Prometheus answered: {error}")
    data = doc.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string"):
        sample = result
    elif kind == "vector":
        if not result:
            return Reading(None, no_data="the query returned an empty vector")
        if len(result) > 1 or reduce is not None:
            if len(result) > 1 and reduce is None:
                raise SourceError(
                    f"the query returned {len(result)} series; aggregate it to one (sum, avg, max) or declare "
                    f"reduce: {base.REDUCERS}"
                )
            pairs = [_sample(series.get("value") if isinstance(series, dict) else None) for series in result]
            return base.reduce_values(pairs, reduce, "the query", "series")
        sample = result[0].get("value")
    else:
        raise SourceError(f"the query returned a {kind}; an instant query must return a scalar or one series")
    value, at = _sample(sample)
    return Reading(value, at, no_data="" if value is not None else "the sample is NaN")


def _sample(sample: Any) -> tuple[Decimal | None, datetime | None]:
    if not isinstance(sample, list) or len(sample) != 2:
        raise SourceError("the sample is not [timestamp, value]")
    return base.to_decimal(sample[1], "the sample"), base.to_time(sample[0])


def _example(share: bool) -> dict[str, str]:
    if share:
        return {"query": "sum(rate(GOOD_TOTAL[5m])) / sum(rate(ALL_TOTAL[5m])) * 100"}
    return {"query": "histogram_quantile(0.95, sum(rate(METRIC_BUCKET[5m])) by (le))"}


register("prometheus", PrometheusSpec, reaches_network=True, example=_example)(PrometheusSource)
