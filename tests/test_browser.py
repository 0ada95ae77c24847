"""The journey in a real browser: Debian's Chromium, headless, driven by Playwright.

Set GUARANTOR_TEST_CHROMIUM to use another Chromium binary; .ci/run installs /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from guarantor.guarantees.models import Status
from guarantor.settings import Settings
from guarantor.workspace import loader
from tests.web_server import PASSWORD, Server, prepare, seed_history, serving

CHROMIUM = os.environ.get("GUARANTOR_TEST_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium tries to reach Google's services at start, and this machine has no network.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def drawn(page: Page, selector: str) -> None:
    """A chart is on the page and Chart.js drew it."""
    expect(page.locator(selector)).to_have_attribute("data-drawn", "true")


def _watched(chromium: Browser, errors: list[str], **options: bool) -> Page:
    """A new page whose script errors and console errors are collected in ``errors``."""
    page = chromium.new_page(**options)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page


def _log_in(page: Page, role: str) -> None:
    page.get_by_label("Username").fill(role)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_log_in_explore_a_role_read_an_outcome_accept_a_link_log_out(
    chromium: Browser,
    env: Settings,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    settings = env.model_copy(update={"web_cache_s": 0.0})
    workspace = prepare(tmp_path / "shop", settings, cli)
    errors: list[str] = []
    with serving(settings, workspace) as url:
        page = _watched(chromium, errors)

        page.goto(url + "/roles")
        expect(page).to_have_url(url + "/login?next=%2Fw%2Fshop%2Froles")
        _log_in(page, "editor")
        expect(page).to_have_url(url + "/w/shop/roles")

        page.get_by_label("Occupation").fill("registered nurse")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Registered Nurses").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Registered Nurses")
        assert page.locator("table.tasks tbody tr").count() > 10
        drawn(page, "canvas[data-chart=exposure]")
        drawn(page, "canvas[data-chart=automation]")

        page.get_by_role("link", name="Outcomes", exact=True).click()
        page.get_by_role("link", name="Merchants receive payouts on the promised day").click()
        expect(page.get_by_role("heading", name="Share of payouts settled by their due date")).to_be_visible()
        drawn(page, "canvas[data-chart=ind-0]")

        page.get_by_role("link", name="Work", exact=True).click()
        row = page.locator("table.suggestions tbody tr").first
        item = row.get_attribute("data-item")
        assert item
        row.get_by_role("button", name="Accept").click()
        expect(page.locator(f'table.suggestions tr[data-item="{item}"]')).to_have_count(0)

        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(url + "/login")
        page.goto(url + "/")
        expect(page).to_have_url(url + "/login?next=%2Fw%2Fshop%2F")

        token = (workspace.parent / ".tokens").read_text().split("viewer=")[1].split()[0]
        links = httpx.get(url + "/api/v1/work", headers={"Authorization": f"Bearer {token}"}).json()
        assert item not in {s["item"] for s in links["suggestions"]}
    assert errors == []


def test_check_ins_from_the_cli_the_api_and_the_page_land_in_one_history(
    chromium: Browser, server: Server, cli
) -> None:  # type: ignore[no-untyped-def]
    workspace, tokens = server.workspace, server.tokens
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    recorded = cli("record", "onboarding-satisfaction", "4.1", "--by", "ben", "--at", yesterday, "-w", str(workspace))
    assert recorded.code == 0, recorded.err
    errors: list[str] = []
    url = server.url
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    posted = httpx.post(
        url + "/api/v1/outcomes/onboarding-satisfaction/checkins",
        json={"value": 4.35, "note": "from the API", "at": an_hour_ago},
        headers={"Authorization": f"Bearer {tokens['admin']}"},
    )
    assert posted.status_code == 201, posted.text
    page = _watched(chromium, errors)
    page.goto(url + "/outcomes/onboarding-satisfaction")
    _log_in(page, "editor")
    form = page.locator("form.checkin")
    form.get_by_label("Value (/5)").fill("4.62")
    form.get_by_label("Note").fill("called three merchants")
    form.get_by_label("Confidence").select_option("high")
    form.get_by_role("button", name="Check in").click()
    expect(page).to_have_url(url + "/w/shop/outcomes/onboarding-satisfaction")
    expect(page.get_by_text("4.6/5", exact=False).first).to_be_visible()
    expect(page.get_by_text("called three merchants", exact=False).first).to_be_visible()  # latest, and the log
    history = httpx.get(
        url + "/api/v1/outcomes/onboarding-satisfaction/history",
        headers={"Authorization": f"Bearer {tokens['viewer']}"},
    ).json()
    assert [(m["author"], m["value"], m["trigger"]) for m in history] == [
        ("ben", "4.1", "checkin"),
        ("admin", "4.35", "checkin"),
        ("editor", "4.62", "checkin"),
    ]
    assert history[-1]["note"] == "called three merchants" and history[-1]["confidence"] == "high"
    assert errors == []


def test_a_persons_page_analyse_now_and_download_the_report(chromium: Browser, server: Server, cli) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    url = server.url
    page = _watched(chromium, errors, accept_downloads=True)
    page.goto(url + "/people")
    _log_in(page, "editor")
    page.get_by_role("link", name="Ana Ruiz").click()
    expect(page).to_have_url(url + "/w/shop/people/ana")
    expect(page.get_by_role("heading", name="The value plan")).to_be_visible()
    expect(page.get_by_text("Where the freed hours go")).to_be_visible()
    skills = page.locator("h3", has_text="Skills to build").locator("xpath=following-sibling::ul[1]/li")
    expect(skills.first).to_contain_text("Write and modify code for the payout service")

    page.get_by_role("link", name="History").click()
    before = page.locator("table").first.locator("tbody tr").count()
    page.get_by_role("button", name="Analyse now").click()
    expect(page).to_have_url(url + "/w/shop/analyses")
    expect(page.locator("table").first.locator("tbody tr")).to_have_count(before + 1)

    with page.expect_download() as download:
        page.locator("table").first.get_by_role("link", name="download").first.click()
    saved = server.workspace.parent / "downloaded-report.html"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("guarantor-report-")
    html = saved.read_text()
    assert "The value plan" in html and "Shop guarantees" in html
    assert '<meta http-equiv="Content-Security-Policy"' in html
    assert errors == []


def test_the_api_reference_is_served_offline_behind_login(chromium: Browser, server: Server, cli) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    url = server.url
    page = _watched(chromium, errors)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:")) else None)
    page.goto(url + "/api")
    expect(page).to_have_url(url + "/login?next=%2Fw%2Fshop%2Fapi")
    _log_in(page, "viewer")
    expect(page.get_by_text("/api/v1/w/{workspace}/outcomes/{outcome_id}/checkins").first).to_be_visible(timeout=15000)
    expect(page.get_by_text("/api/v1/org").first).to_be_visible()
    assert outside == [], "nothing is loaded from the internet"
    assert errors == []


def test_a_member_of_two_teams_switches_between_them_and_opens_the_organisation(
    chromium: Browser,
    env: Settings,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from tests.test_teams import _team, _users

    a, b = _team(tmp_path / "org" / "ward-a", "Ward A"), _team(tmp_path / "org" / "ward-b", "Ward B")
    assert cli("record", "happy", "4.5", "-w", str(a)).code == 0
    assert cli("record", "happy", "3", "-w", str(b)).code == 0
    _users(env.resolved_database_url, a, b)  # ana: viewer of A; bob: editor of A, viewer of B
    settings = env.model_copy(update={"web_cache_s": 0.0})
    errors: list[str] = []
    with serving(settings, [a / "guarantor.yaml", b / "guarantor.yaml"]) as url:
        page = _watched(chromium, errors)
        page.goto(url + "/")
        _log_in(page, "bob")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your workspaces")
        page.get_by_role("main").get_by_role("link", name="Ward B").click()
        expect(page).to_have_url(url + "/w/ward-b/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Ward B")
        expect(page.locator(".who")).to_have_text("bob · viewer")
        page.get_by_role("navigation", name="Workspaces").get_by_role("link", name="Ward A").click()
        expect(page).to_have_url(url + "/w/ward-a/")
        expect(page.locator(".who")).to_have_text("bob · editor")
        page.get_by_role("link", name="Outcomes", exact=True).click()
        expect(page).to_have_url(url + "/w/ward-a/outcomes")
        page.get_by_role("link", name="Organisation").click()
        expect(page).to_have_url(url + "/org")
        table = page.locator("table.org")
        expect(table.locator("tbody tr")).to_have_count(2)
        expect(table.locator("tbody tr").nth(0)).to_contain_text("Ward A")
        expect(table.locator("tbody tr").nth(1)).to_contain_text("broken 1")
        expect(table.locator("tfoot")).to_contain_text("2 / 4")
        drawn(page, "canvas[data-chart='hours']")
        page.get_by_role("button", name="Log out").click()

        page.goto(url + "/")
        _log_in(page, "ana")
        expect(page).to_have_url(url + "/w/ward-a/")  # her only workspace: straight there
        expect(page.get_by_role("navigation", name="Workspaces")).to_have_count(0)
        assert "Ward B" not in page.content()
        assert errors == []
        response = page.goto(url + "/w/ward-b/outcomes")
        assert response is not None and response.status == 404
        errors.clear()  # the browser logs the 404 it was asked to fetch
        page.goto(url + "/org")
        expect(page.locator("table.org tbody tr")).to_have_count(1)
        assert "Ward B" not in page.content()
    assert errors == []


# Each SVG's text boxes as the browser lays them out: a text outside its chart (clipped), two
# texts that cross (e.g. a target written over an axis value), a text drawn under 10 px.
TEXT_PROBLEMS = """() => {
  const problems = [];
  document.querySelectorAll('svg').forEach((svg, n) => {
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    const texts = [...svg.querySelectorAll('text')].map(t => ({
      text: t.textContent, r: t.getBoundingClientRect(), px: parseFloat(getComputedStyle(t).fontSize) * scale}));
    for (const a of texts) {
      if (a.r.left < box.left - 0.5 || a.r.right > box.right + 0.5 || a.r.top < box.top - 0.5
          || a.r.bottom > box.bottom + 0.5) problems.push(`chart ${n}: "${a.text}" is clipped`);
      if (a.px < 10) problems.push(`chart ${n}: "${a.text}" is ${a.px.toFixed(1)} px`);
    }
    texts.forEach((a, i) => texts.slice(i + 1).forEach(b => {
      const across = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const down = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (across > 0.5 && down > 0.5) problems.push(`chart ${n}: "${a.text}" overlaps "${b.text}"`);
    }));
  });
  return problems;
}"""


def test_the_report_reads_at_two_widths_with_names_never_ids(
    chromium: Browser,
    env: Settings,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """The report a manager forwards, with four weeks of measurements and a second analysis (a
    trend): its charts measured in Chromium at 800 and 1280 px, and its text read for the handles
    the workspace file uses (ids of people, outcomes, indicators, systems), status codes, O*NET
    codes and the model's id."""
    workspace = prepare(tmp_path / "shop", env, cli)
    seed_history(env.resolved_database_url)
    long_name = "Amara Nwosu-Featherstonehaugh"  # wide capitals: clipped once, in a real team's report
    workspace.write_text(workspace.read_text().replace("name: Ben Okoro", f"name: {long_name}"))
    report = tmp_path / "report.html"
    assert cli("analyze", str(workspace), "-o", str(report)).code == 0
    ws = loader.load(workspace)
    handles = {p.id for p in ws.people} | {s.id for s in ws.systems}
    for o in ws.outcomes:
        handles |= {o.id} | {i.id for i in (o.guarantee.indicators if o.guarantee else [])}
    handles |= {s.value for s in Status}
    for width in (800, 1280):
        page = chromium.new_page(viewport={"width": width, "height": 900})
        page.goto(report.as_uri())
        assert page.locator("svg").count() >= 8  # exposure, people, trend, automation, outcomes, indicators, work
        assert page.evaluate(TEXT_PROBLEMS) == [], width
        text = page.inner_text("body")
        model = (page.get_attribute("meta[name=generator]", "content") or "").rsplit(" ", 1)[-1]
        assert model and model not in text
        assert {h for h in handles if re.search(rf"(?<![\w-]){re.escape(h)}(?![\w-])", text)} == set()
        assert not re.search(r"\b\d\d-\d{4}\.\d\d\b", text), "an O*NET code: occupations are named by title"
        assert "Share of payouts settled by their due date" in text and long_name in text
        page.close()


def test_an_editor_links_a_task_and_writes_a_value_proposition_from_the_pages(
    chromium: Browser,
    env: Settings,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """What the API could do and the pages could not: tick the outcomes a task serves, and answer
    the value proposition's three questions; both are written to the workspace file."""
    settings = env.model_copy(update={"web_cache_s": 0.0})
    workspace = prepare(tmp_path / "shop", settings, cli)
    errors: list[str] = []
    with serving(settings, workspace) as url:
        page = _watched(chromium, errors)
        page.goto(url + "/people/ana")
        _log_in(page, "editor")
        expect(page).to_have_url(url + "/w/shop/people/ana")
        row = page.get_by_role("row").filter(has_text="Investigate failed payouts")
        row.get_by_text("Link").click()
        row.get_by_label("Merchants receive payouts on the promised day").uncheck()
        row.get_by_label("Orders arrive within five days").check()
        row.get_by_role("button", name="Save").click()
        expect(page).to_have_url(url + "/w/shop/people/ana")
        row = page.get_by_role("row").filter(has_text="Investigate failed payouts")
        expect(row.get_by_role("link", name="Orders arrive within five days")).to_be_visible()
        expect(row.get_by_role("link", name="Merchants receive payouts on the promised day")).to_have_count(0)

        page.get_by_label("Problems I am obsessed with").fill("Why a payout <b>fails</b> silently")
        page.get_by_role("button", name="Save").last.click()
        expect(page.locator("dl.vp")).to_contain_text("Why a payout <b>fails</b> silently")
        headers = {
            "authorization": f"Bearer {(workspace.parent / '.tokens').read_text().split('editor=')[1].split()[0]}"
        }
        answer = httpx.patch(
            url + "/api/v1/people/ben",
            json={"value_proposition": {"perspective": "Ten years on the support desk"}},
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    ws = loader.load(workspace)
    task = next(t for t in ws.tasks if t.text.startswith("Investigate failed payouts"))
    assert task.serves == ["quick-delivery"]
    people = {p.id: p for p in ws.people}
    assert people["ana"].value_proposition is not None
    assert people["ana"].value_proposition.problems_obsessed_with == "Why a payout <b>fails</b> silently"
    assert people["ben"].value_proposition is not None
    assert people["ben"].value_proposition.perspective == "Ten years on the support desk"
    assert errors == []
