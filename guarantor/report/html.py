"""Render an analysis to one self-contained HTML file."""

from __future__ import annotations

from collections import defaultdict

from jinja2 import Environment, PackageLoader

from guarantor import palette
from guarantor.analysis.org import STATUSES, OrgView
from guarantor.analysis.schemas import Analysis, week
from guarantor.data.files import ATTRIBUTION, OBSERVED_ATTRIBUTION
from guarantor.guarantees import display
from guarantor.guarantees.spec import parse_target
from guarantor.report import charts
from guarantor.tasks.catalogue import AUTOMATION_WORDS, EXPOSURE_LEVELS, EXPOSURE_WORDS
from guarantor.tasks.service import UNFAMILIAR_NOTE
from guarantor.workspace.schema import value_answers

# Every value is escaped: titles, names and task texts come from files anyone can hand a user, and
# a report is what people forward. (select_autoescape would skip the template's .j2 extension.)
# The charts are SVG strings built by ``charts``, which escapes each label it writes.
_env = Environment(
    loader=PackageLoader("guarantor.report", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["count"] = display.count
_env.filters["with_unit"] = display.with_unit
_env.filters["value_answers"] = value_answers
_env.filters["status_word"] = display.status_word


def render(analysis: Analysis, history: list[tuple[str, float]]) -> str:
    """``history``: (date, hours freed) of this workspace's saved analyses, oldest first."""
    tasks = analysis.tasks
    people_rows = [(p.name, week(p.hours_week, p.hours_freed)) for p in analysis.people]
    by_level: dict[str, float] = defaultdict(float)
    by_auto: dict[str, float] = defaultdict(float)
    for t in tasks:
        by_level[t.assessment.exposure] += t.assessment.hours
        by_auto[t.assessment.automation] += t.assessment.hours
    total = sum(by_level.values()) or 1.0
    exposed_share = (by_level["E1"] + by_level["E2"]) / total
    outcome_rows = [
        (o.title, [("human-led", o.hours_human_led), ("exposed", o.hours_week - o.hours_human_led)])
        for o in analysis.outcomes
    ]
    names = {p.id: p.name for p in analysis.people}
    titles = {o.id: o.title for o in analysis.outcomes}
    task_by_id = {t.id: t for t in tasks}
    orphans = sorted((task_by_id[i] for i in analysis.orphan_tasks), key=lambda t: -t.assessment.hours)
    work = analysis.work
    closed = work.closed_by_outcome if work else {}
    guarantee_charts = {
        (o.id, s.indicator): charts.indicator(
            s.points, parse_target(s.target).lines(), s.unit, closed.get(o.id, []), precision=s.precision
        )
        for o in analysis.outcomes
        for s in (o.guarantee.series if o.guarantee else [])
    }
    balance_rows = sorted(work.by_outcome.items(), key=lambda kv: -kv[1].count) if work else []
    balance_chart = ""
    if work and work.items:
        balance_chart = charts.stacked_bars(
            [(titles.get(k, k), [("orphan work" if k == "no outcome" else "items", v.count)]) for k, v in balance_rows],
            unit="items",
        )
    return _env.get_template("report.html.j2").render(
        guarantee_charts=guarantee_charts,
        balance_chart=balance_chart,
        balance_rows=balance_rows,
        work=work,
        systems=analysis.systems or [],
        a=analysis,
        names=names,
        titles=titles,
        orphans=orphans,
        attribution=ATTRIBUTION.split("\n"),
        observed_attribution=OBSERVED_ATTRIBUTION,
        exposed_share=exposed_share,
        people_chart=charts.stacked_bars(people_rows) if people_rows else "",
        exposure_chart=charts.donut(
            [(k + _LEVEL_NAMES[k], by_level[k]) for k in EXPOSURE_LEVELS],
            f"{100 * exposed_share:.0f}% exposed",
        ),
        automation_chart=charts.stacked_bars([(k, [(k, by_auto[k])]) for k in ("T0", "T1", "T2", "T3", "T4")]),
        # no bars when no task serves an outcome: the table says so, and a chart of zeros says nothing
        outcome_chart=charts.stacked_bars(outcome_rows) if any(o.hours_week for o in analysis.outcomes) else "",
        trend_chart=charts.trend(history),
        exposure_words=EXPOSURE_WORDS,
        unfamiliar_note=UNFAMILIAR_NOTE,
        palette=palette.COLORS,
        automation_words=AUTOMATION_WORDS,
        task_texts={t.id: t.assessment.text for t in tasks},
    )


_LEVEL_NAMES = {"E0": " not exposed", "E1": " LLM alone", "E2": " LLM + tools"}


def render_org(view: OrgView) -> str:
    """The organisation view as one self-contained HTML file, team by team and in total."""
    return _env.get_template("org_report.html.j2").render(view=view, statuses=STATUSES)
