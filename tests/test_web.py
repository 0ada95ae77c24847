"""The web app and the API over real HTTP on loopback: who may do what, CSRF, errors, and how
edits in the browser and changes to the file on disk stay one workspace."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import yaml
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from guarantor.web.app import create_app
from tests.web_server import PASSWORD, Server, api, browser, serving


def test_every_route_refuses_anonymous_requests(server: Server) -> None:
    app = create_app(server.settings, server.workspace)
    app.state.server.close()  # only its routes are needed here
    checked = 0
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        for route in iter_route_contexts(app.routes):
            if isinstance(route.original_route, Mount):
                assert route.path == "/static"
                continue
            assert route.path is not None and route.methods
            path = re.sub(r"\{[^}]+\}", "x", route.path)
            for method in route.methods:
                response = anon.request(method, path, follow_redirects=False)
                if route.path == "/login":
                    assert response.status_code in (200, 403), (method, path)  # a form, or a POST without its token
                    continue
                checked += 1
                if path.startswith("/api/"):
                    assert response.status_code == 401, (method, path)
                    assert response.json()["error"]["code"] == "unauthenticated"
                else:
                    assert response.status_code == 303, (method, path)
                    assert response.headers["location"].startswith("/login?next=")
        assert checked >= 25
        assert anon.get("/static/app.js").status_code == 200
        assert anon.get("/api/v1/openapi.json").status_code == 401


def test_a_viewer_reads_but_cannot_write(server: Server) -> None:
    with api(server, "viewer") as c:
        assert c.get("/api/v1/overview").status_code == 200
        refused = c.patch("/api/v1/outcomes/fast-support", json={"title": "Changed"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        assert (
            c.post(
                "/api/v1/links", json={"item": "jira:SHOP-5", "outcome": "fast-support", "decision": "accepted"}
            ).status_code
            == 403
        )
        assert c.post("/api/v1/checks", json={}).status_code == 403
    with browser(server, "viewer") as (client, csrf):
        page = client.post("/outcomes/fast-support", data={"csrf_token": csrf, "title": "Changed", "for_whom": "x"})
        assert page.status_code == 403
        assert "Edit" not in client.get("/outcomes/fast-support").text  # no form shown to a viewer
    assert "Changed" not in server.workspace.read_text()


def test_form_posts_without_the_csrf_token_are_refused(server: Server) -> None:
    with browser(server, "editor") as (client, csrf):
        form = {"title": "Payouts land on the promised day", "for_whom": "Merchants"}
        assert client.post("/outcomes/payouts-on-time", data=form).status_code == 403
        assert client.post("/outcomes/payouts-on-time", data={**form, "csrf_token": "forged"}).status_code == 403
        assert client.post("/logout").status_code == 403
        # The API with the session cookie (not a token) needs the token in a header.
        assert client.patch("/api/v1/outcomes/payouts-on-time", json={"title": "x y"}).status_code == 403
        assert "Payouts land" not in server.workspace.read_text()
        saved = client.post("/outcomes/payouts-on-time", data={**form, "csrf_token": csrf}, follow_redirects=False)
        assert saved.status_code == 303
        assert (
            client.patch(
                "/api/v1/outcomes/payouts-on-time", json={"need": "Cash on time"}, headers={"x-csrf-token": csrf}
            ).status_code
            == 200
        )
    data = yaml.safe_load(server.workspace.read_text())
    outcome = next(o for o in data["outcomes"] if o["id"] == "payouts-on-time")
    assert outcome["title"] == "Payouts land on the promised day" and outcome["need"] == "Cash on time"


def test_login_logout_and_revoked_tokens(server: Server, cli) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server.url, timeout=30) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token
        wrong = c.post("/login", data={"username": "editor", "password": "nope", "csrf_token": token[1]})
        assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
        assert "guarantor_session" not in c.cookies
        no_token = c.post("/login", data={"username": "editor", "password": PASSWORD})
        assert no_token.status_code == 403
    with browser(server, "editor") as (client, csrf):
        cookie = client.cookies["guarantor_session"]
        assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    with httpx.Client(base_url=server.url, cookies={"guarantor_session": cookie}, timeout=30) as replay:
        assert replay.get("/", follow_redirects=False).status_code == 303  # the session ended server-side
    assert cli("token", "revoke", "1").code == 0  # the viewer's token
    with api(server, "viewer") as c:
        assert c.get("/api/v1/me").status_code == 401


def _login_cookie(url: str, headers: dict[str, str] | None = None) -> str:
    with httpx.Client(base_url=url, timeout=30) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token
        done = c.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf_token": token[1]},
            headers=headers or {},
            follow_redirects=False,
        )
    return next(h for h in done.headers.get_list("set-cookie") if h.startswith("guarantor_session="))


def test_session_cookie_flags(server: Server) -> None:
    with browser(server, "viewer") as (client, _):
        page = client.get("/login")
        assert "content-security-policy" in page.headers
    cookie = _login_cookie(server.url)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain HTTP here
    # X-Forwarded-Proto counts only from a proxy the admin lists: here none is
    assert "Secure" not in _login_cookie(server.url, {"x-forwarded-proto": "https"})
    behind_tls = server.settings.model_copy(update={"web_trusted_proxies": "127.0.0.1"})
    with serving(behind_tls, server.workspace) as url:  # behind a TLS proxy on loopback, listed
        assert "Secure" in _login_cookie(url, {"x-forwarded-proto": "https"})


def test_api_errors_have_one_shape(server: Server) -> None:
    with api(server) as c:
        missing = c.get("/api/v1/outcomes/nope")
        assert missing.status_code == 404
        error = missing.json()["error"]
        assert error["code"] == "not_found" and error["message"] == "No outcome 'nope'." and error["problems"] == []
        assert error["hint"].startswith("Outcomes: payouts-on-time, fast-support")  # the ones there are
        bad = c.patch("/api/v1/outcomes/fast-support", json={"owner": "Not An Id"})
        assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "body.owner"
        dangling = c.patch("/api/v1/outcomes/fast-support", json={"owner": "nobody"})
        assert dangling.status_code == 422
        assert any("no person with id 'nobody'" in p["message"] for p in dangling.json()["error"]["problems"])
        assert c.post("/api/v1/outcomes", json={"id": "fast-support", "title": "x", "for_whom": "y"}).status_code == 409


def test_edits_write_the_file_and_file_changes_are_taken(server: Server) -> None:
    with api(server) as c:
        created = c.post(
            "/api/v1/outcomes",
            json={
                "id": "happy-merchants",
                "title": "Merchants recommend us",
                "for_whom": "Merchants",
                "target": "NPS >= 40",
            },
        )
        assert created.status_code == 201
        task = c.post(
            "/api/v1/tasks",
            json={
                "id": "call-merchants",
                "text": "Call five merchants a week",
                "owner": "ana",
                "serves": ["happy-merchants"],
            },
        )
        assert task.status_code == 201
        data = yaml.safe_load(server.workspace.read_text())
        assert any(o["id"] == "happy-merchants" for o in data["outcomes"])
        assert data["tasks"][-1]["serves"] == ["happy-merchants"]
        revisions = c.get("/api/v1/revisions").json()
        assert [r["origin"] for r in revisions[:2]] == ["api", "api"] and revisions[0]["author"] == "editor"
        served = c.get("/api/v1/outcomes/happy-merchants").json()
        assert [t["id"] for t in served["tasks"]] == ["call-merchants"]

        # Someone edits the file (a git pull, say): the next request serves it.
        text = server.workspace.read_text().replace("Merchants recommend us", "Merchants recommend us to peers")
        server.workspace.write_text(text)
        assert c.get("/api/v1/outcomes/happy-merchants").json()["outcome"]["title"] == "Merchants recommend us to peers"
        assert c.get("/api/v1/revisions").json()[0]["origin"] == "file"

        # A broken file is not taken: the last good revision is served, and edits wait.
        server.workspace.write_text(text + "\nbogus: [\n")
        overview = c.get("/api/v1/overview").json()
        assert overview["problems"] and "invalid YAML" in overview["problems"][0]
        assert c.patch("/api/v1/outcomes/happy-merchants", json={"need": "x y"}).status_code == 409
        server.workspace.write_text(text)


def test_a_stale_form_is_refused(server: Server) -> None:
    with browser(server, "editor") as (client, csrf):
        page = client.get("/outcomes/fast-support").text
        revision = re.search(r'name="revision" value="(\d+)"', page)
        assert revision
        with api(server) as c:
            assert c.patch("/api/v1/outcomes/fast-support", json={"need": "Answers"}).status_code == 200
        stale = client.post(
            "/outcomes/fast-support",
            data={"csrf_token": csrf, "revision": revision[1], "title": "Old title", "for_whom": "Customers"},
        )
        assert stale.status_code == 409 and "changed since" in stale.text
    assert "Old title" not in server.workspace.read_text()


def test_command_sources_cannot_come_through_the_web(server: Server) -> None:
    text = server.workspace.read_text() + "\n"
    text = text.replace("sources:\n", "sources:\n  shell:\n    type: command\n", 1)
    server.workspace.write_text(text)
    guarantee = {"indicators": [{"id": "disk", "source": "shell", "query": "df --output=pcent /", "target": "< 90"}]}
    with api(server, "admin") as c:
        refused = c.patch("/api/v1/outcomes/fast-support", json={"guarantee": guarantee})
        assert refused.status_code == 403 and "command source" in refused.json()["error"]["message"]
        fine = {
            "indicators": [
                {"id": "tickets", "source": "shop", "query": "SELECT count(*) FROM tickets", "target": ">= 0"}
            ]
        }
        assert c.patch("/api/v1/outcomes/fast-support", json={"guarantee": fine}).status_code == 200
    assert "df --output" not in server.workspace.read_text()


def test_pages_show_the_workspace(server: Server) -> None:
    with browser(server, "viewer") as (client, _):
        overview = client.get("/").text
        assert "Shop guarantees" in overview and "Needs attention now" in overview
        assert "Checkout answers fast" in overview  # its HTTP source is down: ERROR needs attention
        roles = client.get("/roles", params={"q": "registered nurse"}).text
        assert "/roles/29-1141.00" in roles
        role = client.get("/roles/29-1141.00").text
        assert "Registered Nurses" in role and role.count("<tr>") > 10
        developers = client.get("/roles/15-1252.00").text
        train = re.search(r"<tr><td>Train users to use new or modified equipment\.</td>.*?</tr>", developers, re.S)
        assert train and "human label" in train[0] and ">E2</span>" in train[0], train
        assert re.search(r'<td class="num">2\.1</td><td class="num">0\.5</td>', train[0]), "a quarter of E2 hours"
        assert "Train others to use equipment or products." in train[0]
        confer = re.search(r"<tr><td>Confer with data processing.*?</tr>", developers, re.S)
        assert confer and "human label; model E2" in confer[0] and ">E0</span>" in confer[0], confer
        assert re.search(r'<td class="num">2\.1</td><td class="num">0\.0</td>', confer[0]), "E0 frees nothing"
        assert "observed AI applicability, rank 133 of 785" in developers and "microsoft/working-with-ai" in developers
        outcome = client.get("/outcomes/payouts-on-time").text
        assert 'data-chart="ind-0"' in outcome and "<h2>Share of payouts settled by their due date " in outcome
        assert "Nightly payout batch" in client.get("/systems").text
        work_page = client.get("/work").text
        assert "Suggested links" in work_page and "<h3>By kind of work</h3>" in work_page
        assert "Ana Ruiz" in client.get("/people").text
        assert "Workspace revisions" in client.get("/analyses").text
        missing = client.get("/outcomes/nope")
        assert missing.status_code == 404 and "Not found" in missing.text


def test_serving_beyond_loopback_needs_accounts(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "guarantor.yaml").write_text("version: 1\nname: Empty\n")
    result = cli("serve", str(tmp_path), "--host", "0.0.0.0")
    assert result.code == 14
    assert "Refusing to serve on 0.0.0.0 with no accounts" in result.err


def test_a_web_edit_keeps_the_files_comments_and_layout(server: Server) -> None:
    before = server.workspace.read_text()
    assert "# Guarantees: outcomes measured from real data" in before and "# or {cron:" in before
    with api(server) as c:
        answer = c.patch("/api/v1/outcomes/fast-support", json={"title": "Customers hear back within the hour"})
        assert answer.status_code == 200, answer.text
    after = server.workspace.read_text()
    changed = [(old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=True) if old != new]
    assert changed == [
        ("    title: Customers get a first answer within the hour", "    title: Customers hear back within the hour")
    ]


def test_an_editor_edits_an_indicator_from_the_outcome_page(server: Server) -> None:
    before = server.workspace.read_text()
    with browser(server, "editor") as (client, csrf):
        page = client.get("/outcomes/quick-delivery").text
        assert 'action="/w/shop/outcomes/quick-delivery/indicators/delivery-days-avg"' in page
        form = {
            "csrf_token": csrf,
            "query": "SELECT avg(days) FROM 'deliveries.csv'",
            "target": "between 1 and 4",
            "warn": "",
            "unit": "days",
            "precision": "2",
            "fresh_within": "",
            "reduce": "",
        }
        saved = client.post("/outcomes/quick-delivery/indicators/delivery-days-avg", data=form)
        assert saved.status_code == 200 and saved.url.path == "/w/shop/outcomes/quick-delivery"
        after = server.workspace.read_text()
        assert 'target: "between 1 and 4"' in after or "target: between 1 and 4" in after
        assert "# or {cron:" in after, "comments stay"
        refused = client.post(
            "/outcomes/quick-delivery/indicators/delivery-days-avg",
            data={**form, "query": "COPY (SELECT 1) TO 'pwned.csv'"},
        )
        assert refused.status_code == 422 and "only a SELECT" in refused.text
        assert server.workspace.read_text() == after
    assert before != after


def test_roles_are_browsable_by_family_with_exposure_and_observed_use(server: Server) -> None:
    with browser(server, "viewer") as (client, _):
        families = client.get("/roles").text
        assert "Occupation families" in families and 'href="/w/shop/roles?family=15"' in families
        assert "Computer and mathematical" in families and "Working with AI" in families
        family = client.get("/roles?family=15").text
        row = re.search(r"Software Developers</a>.*?</tr>", family, re.S)
        assert row and re.search(r"\d+%</td><td class=\"num\">0\.\d\d</td>", row[0]), row
        assert client.get("/roles?family=99").status_code == 404


def test_the_report_and_the_pages_share_one_palette(server: Server, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    from guarantor import palette

    with browser(server, "viewer") as (client, _):
        page = client.get("/").text
    handed = re.search(r'<script type="application/json" id="palette">(.*?)</script>', page, re.S)
    assert handed and json.loads(handed[1])["colors"] == palette.COLORS
    report = tmp_path / "report.html"
    assert cli("analyze", str(server.workspace), "-o", str(report)).code == 0
    html = report.read_text()
    for meaning in ("E0", "E1", "E2", "freed", "kept", "T3"):
        assert palette.COLORS[meaning] in html, meaning
    app_js = (Path(__file__).parents[1] / "guarantor" / "web" / "static" / "app.js").read_text()
    assert not re.search(r"#[0-9a-fA-F]{6}", app_js), "no colour is written in app.js itself"


def test_the_indicator_form_offers_the_fields_its_source_kind_reads(server: Server) -> None:
    """The edit form follows the source registry: an http indicator's form has its path fields, a
    sql one's has none, and an indicator on a source that runs programs has no form at all."""
    text = server.workspace.read_text()
    shell = "  shell:\n    type: command\n"
    indicator = "        - {id: disk, source: shell, query: df --output=pcent /, target: '< 90'}\n"
    outcome = "  - id: disk-room\n    title: Disk has room\n    for_whom: Ops\n    guarantee:\n      indicators:\n"
    server.workspace.write_text(
        text.replace("sources:\n", "sources:\n" + shell, 1).replace(
            "outcomes:\n", "outcomes:\n" + outcome + indicator, 1
        )
    )
    with browser(server, "admin") as (client, _):
        http = client.get("/outcomes/fast-checkout").text
        assert "Edit this indicator" in http and 'name="jsonpath"' in http and 'name="jmespath"' in http
        sql = client.get("/outcomes/payouts-on-time").text
        assert "Edit this indicator" in sql and 'name="jsonpath"' not in sql
        command = client.get("/outcomes/disk-room").text
        assert "Disk has room" in command and "Edit this indicator" not in command


def test_no_login_lets_a_browser_on_this_machine_in_and_no_one_else(env, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """datasette's way for one person: `serve --no-login` on loopback, the browser is admin at once.
    A page of another site pointed at 127.0.0.1 (DNS rebinding: its own Host), or a request through
    a proxy (its forwarding headers), still gets the login form; beyond loopback it is refused."""
    from tests.web_server import prepare

    settings = env.model_copy(update={"web_cache_s": 0.0, "web_no_login": True})
    workspace = prepare(tmp_path / "shop", settings, cli)
    with serving(settings, workspace) as url:
        with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as client:
            page = client.get("/outcomes")
            assert page.status_code == 200 and page.url.path == "/w/shop/outcomes", page.url
            assert '<span class="who">admin · admin</span>' in page.text
        for headers in ({"host": "rebound.example:80"}, {"x-forwarded-for": "203.0.113.9"}):
            with httpx.Client(base_url=url, timeout=30, follow_redirects=True, headers=headers) as client:
                page = client.get("/outcomes")
                assert page.url.path == "/login" and 'name="password"' in page.text, headers
    refused = cli("serve", str(workspace), "--no-login", "--host", "0.0.0.0")
    assert refused.code == 2 and "only on loopback" in refused.err
