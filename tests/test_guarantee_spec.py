from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from guarantor.errors import ValidationFailed
from guarantor.guarantees.spec import Guarantee, parse_duration, parse_ratio, parse_target
from guarantor.workspace.loader import parse

BASE = """\
name: Shop
sources:
  shop:
    type: sql
    url: sqlite:///shop.db
  api:
    type: http
    base_url: http://127.0.0.1:1/
outcomes:
  - id: paid
    title: Merchants are paid
    for_whom: Merchants
    guarantee:
      schedule: 15m
      window: 28d
      objective: 95%
      indicators:
        - id: paid-share
          source: shop
          query: SELECT 1
          unit: "%"
          target: ">= 99.5"
"""


def _problems(text: str, **kw) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        parse(text, "g.yaml", **kw)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "value", "holds"),
    [
        (">= 99.5", "99.5", True),
        ("> 99.5", "99.5", False),
        ("< 4", "3.99", True),
        ("== 0", "0.0", True),
        ("!= 0", "0", False),
        ("between 1 and 5", "5", True),
        ("between 1 and 5", "5.0001", False),
        ("= 0.3", "0.3", True),
    ],
)
def test_targets_compare_exact_decimals(text: str, value: str, holds: bool) -> None:
    assert parse_target(text).holds(Decimal(value)) is holds


def test_decimal_thresholds_have_no_float_error() -> None:
    assert parse_target("== 0.3").holds(Decimal("0.1") + Decimal("0.2"))
    assert parse_target({"between": ["0.1", 0.3]}).holds(Decimal("0.3"))


@pytest.mark.parametrize("bad", ["=> 5", ">= five", "between 5 and 1", "99.5 <=", {"between": [1]}])
def test_bad_targets_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_target(bad)


def test_durations_ratios_windows_schedules() -> None:
    assert parse_duration("15m") == timedelta(minutes=15) and parse_duration("28d") == timedelta(days=28)
    assert parse_ratio("99.9%") == Decimal("0.999") and parse_ratio(0.95) == Decimal("0.95")
    g = TypeAdapter(Guarantee).validate_python(
        {
            "indicators": [{"id": "a", "source": "s", "query": "q", "target": "> 1"}],
            "schedule": {"cron": "*/5 * * * *", "timezone": "Europe/Paris"},
            "window": {"calendar": "month", "timezone": "America/New_York"},
        }
    )
    assert g.schedule.cron == "*/5 * * * *" and g.window.calendar == "month"  # type: ignore[union-attr]
    for bad in ({"every": "15m", "cron": "* * * * *"}, {"cron": "every minute"}):
        with pytest.raises(ValidationError):
            TypeAdapter(Guarantee).validate_python(
                {"indicators": [{"id": "a", "source": "s", "query": "q", "target": "> 1"}], "schedule": bad}
            )


def test_valid_guarantee_parses() -> None:
    ws, _ = parse(BASE, "g.yaml")
    g = ws.outcomes[0].guarantee
    assert g is not None and g.objective == Decimal("0.95") and g.indicators[0].target.threshold == Decimal("99.5")


def test_bad_comparator_names_line_and_field() -> None:
    problems = _problems(BASE.replace('">= 99.5"', '"=> 99.5"'))
    assert any(
        p.startswith("g.yaml:22:11: outcomes.0.guarantee.indicators.0.target:") and "not a target" in p
        for p in problems
    )


def test_unknown_source_type_and_unknown_source_name() -> None:
    problems = _problems(BASE.replace("type: sql", "type: oracle"))
    assert any(p.startswith("g.yaml:4:5: sources.shop.type:") for p in problems)
    problems = _problems(BASE.replace("source: shop", "source: warehouse"))
    assert (
        "g.yaml:19:11: outcomes.0.guarantee.indicators.0.source: no source named 'warehouse' under sources: "
        "(shop, api)" in problems
    )


def test_duplicate_indicator_ids_across_outcomes() -> None:
    twice = BASE + BASE[BASE.index("  - id: paid") :].replace("id: paid\n", "id: paid-again\n", 1)
    problems = _problems(twice)
    assert any(
        "duplicate indicator id 'paid-share'" in p
        and p.startswith("g.yaml:31:11: outcomes.1.guarantee.indicators.0.id:")
        for p in problems
    )


def test_http_indicators_need_a_path_that_compiles() -> None:
    http = BASE.replace("source: shop", "source: api").replace(
        "query: SELECT 1", "query: /status\n          jsonpath: $.["
    )
    problems = _problems(http)
    assert any(
        p.startswith("g.yaml:21:11: outcomes.0.guarantee.indicators.0.jsonpath: malformed JSONPath") for p in problems
    )
    problems = _problems(BASE.replace("source: shop", "source: api"))
    assert any("needs one of jsonpath or jmespath" in p for p in problems)
    problems = _problems(BASE.replace("query: SELECT 1", "query: SELECT 1\n          jmespath: a.b"))
    assert any("only http indicators take jmespath" in p for p in problems)


def test_command_sources_only_from_files_on_disk() -> None:
    text = BASE.replace("    type: sql\n    url: sqlite:///shop.db", "    type: command")
    parse(text, "g.yaml")
    problems = _problems(text, allow_command=False)
    assert any(p.startswith("g.yaml:4:5: sources.shop.type: command sources are allowed only") for p in problems)
