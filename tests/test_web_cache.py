"""Answers kept per data version, conditional requests, and the static files: two real servers on
loopback on one database (SQLite, or PostgreSQL with GUARANTOR_TEST_DATABASE_URL), each with its
own cache, as two processes or machines would be."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from guarantor.settings import Settings
from tests.web_server import Server, browser, prepare, serving

BOUND = 0.5
"""How soon a change made through one server shows on another (``Site.version``)."""


@pytest.fixture
def two(env: Settings, cli, tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client, Path, str, str]]:  # type: ignore[no-untyped-def]
    """Two servers on one database and workspace file, caching as deployed (2 s); an editor's API
    client on each."""
    settings = env.model_copy(update={"web_cache_s": 2.0})
    workspace = prepare(tmp_path / "shop", settings, cli)
    tokens = dict(line.split("=", 1) for line in (workspace.parent / ".tokens").read_text().splitlines())
    with ExitStack() as stack:
        a_url = stack.enter_context(serving(settings, workspace))
        b_url = stack.enter_context(serving(settings, workspace))
        clients = [
            stack.enter_context(
                httpx.Client(base_url=u, headers={"Authorization": f"Bearer {tokens['editor']}"}, timeout=30)
            )
            for u in (a_url, b_url)
        ]
        yield clients[0], clients[1], workspace, a_url, b_url


def _shows_within(get: Callable[[], bool], bound: float) -> float:
    """Seconds until ``get`` is true, polling; fails past ``bound`` plus a request's time."""
    start = time.monotonic()
    while not get():
        assert time.monotonic() - start < bound + 1.0, f"not shown within {bound} s"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_change_through_one_server_shows_on_the_other_within_the_bound(two) -> None:  # type: ignore[no-untyped-def]
    a, b, *_ = two
    path = "/api/v1/outcomes/onboarding-satisfaction"
    before = b.get(path).json()
    assert b.get(path).json() == before  # kept, and the same

    assert (
        a.post(path + "/checkins", json={"value": "3.1", "note": "kept answers must not hide this"}).status_code == 201
    )
    latest = lambda: b.get(path).json()["state"]["indicators"][0]["latest"]["value"] == "3.1"  # noqa: E731
    _shows_within(latest, BOUND)
    assert b.get("/outcomes/onboarding-satisfaction").text.count("3.1") >= 1

    # an edit rewrites the file, which every server checks at each request: at once
    assert a.patch(path, json={"title": "Merchants glad in month one"}).status_code == 200
    assert b.get(path).json()["outcome"]["title"] == "Merchants glad in month one"
    assert "Merchants glad in month one" in b.get("/outcomes").text

    # a link decision, on the work page and in the balance
    work = b.get("/api/v1/work").json()
    served = work["balance"]["by_outcome"].get("fast-support", {}).get("count", 0)
    decided = {"item": "jira:SHOP-105", "outcome": "fast-support", "decision": "accepted"}
    assert a.post("/api/v1/links", json=decided).status_code == 200
    counted = lambda: b.get("/api/v1/work").json()["balance"]["by_outcome"]["fast-support"]["count"]  # noqa: E731
    _shows_within(lambda: counted() != served, BOUND)


def test_conditional_requests_answer_304_until_the_data_changes(two) -> None:  # type: ignore[no-untyped-def]
    a, b, *_ = two
    for path in ("/api/v1/overview", "/", "/outcomes/payouts-on-time", "/api/v1/work", "/org", "/api/v1/org"):
        first = a.get(path)
        assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache", path
        again = a.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["etag"] == first.headers["etag"]
        assert a.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200
    etag = a.get("/api/v1/outcomes/onboarding-satisfaction").headers["etag"]
    b.post("/api/v1/outcomes/onboarding-satisfaction/checkins", json={"value": "4.9"})

    def changed() -> bool:
        sent = {"If-None-Match": etag}
        return a.get("/api/v1/outcomes/onboarding-satisfaction", headers=sent).status_code == 200

    _shows_within(changed, BOUND)


def test_answers_are_kept_per_person(two) -> None:  # type: ignore[no-untyped-def]
    """The page of one session is never given to another: each carries its own CSRF token and
    what its role may do."""
    *_, a_url, _ = two
    server = Server(a_url, Path(), {}, Settings())
    with browser(server, "viewer") as (viewer, viewer_csrf), browser(server, "editor") as (editor, editor_csrf):
        for _ in range(2):
            seen_by_viewer = viewer.get("/outcomes/payouts-on-time").text
            seen_by_editor = editor.get("/outcomes/payouts-on-time").text
            assert viewer_csrf in seen_by_viewer and editor_csrf not in seen_by_viewer
            assert editor_csrf in seen_by_editor and viewer_csrf not in seen_by_editor
            assert "<h2>Edit</h2>" in seen_by_editor and "<h2>Edit</h2>" not in seen_by_viewer
        # logging out ends the session at once on this server, its kept answers with it
        session = viewer.cookies["guarantor_session"]
        assert viewer.post("/logout", data={"csrf_token": viewer_csrf}).status_code == 200
        again = httpx.get(f"{a_url}/outcomes/payouts-on-time", cookies={"guarantor_session": session})
        assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_static_files_are_linked_by_content_kept_a_year_and_gzipped(two) -> None:  # type: ignore[no-untyped-def]
    a, *_ = two
    page = a.get("/").text
    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', page)
    script = re.search(r'src="(/static/vendor/chart\.umd\.min\.js\?v=[0-9a-f]{12})"', page)
    assert css and script
    asset = a.get(script[1], headers={"Accept-Encoding": "gzip"})
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-encoding"] == "gzip" and asset.headers["vary"] == "accept-encoding"
    raw = httpx.get(a.base_url.join(script[1]), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and raw.content.startswith(b"/*!")
    assert asset.content == raw.content  # httpx undid the gzip
    assert int(asset.headers["content-length"]) < len(raw.content) / 2

    unversioned = a.get("/static/app.css")  # a bookmark, or a page from before an upgrade
    assert unversioned.headers["cache-control"] == "no-cache" and unversioned.text.startswith(
        (":root", "/*", "*", "body", "html")
    )
    assert a.get("/static/app.css", headers={"If-None-Match": unversioned.headers["etag"]}).status_code == 304
    assert a.get("/static/%2e%2e/guarantor.yaml").status_code == 404
    assert a.get("/static/nothing.js").status_code == 404
    assert a.post("/static/app.css").status_code in (403, 405)
    assert "x-content-type-options" in unversioned.headers


def test_what_changes_through_this_server_or_in_the_file_shows_at_once(two) -> None:  # type: ignore[no-untyped-def]
    a, _b, workspace, *_ = two
    assert a.get("/api/v1/overview").json()["problems"] == []
    saved = [r["id"] for r in a.get("/api/v1/analyses").json()]
    made = a.post("/api/v1/analyses")
    assert made.status_code == 201
    assert made.json()["id"] not in saved
    assert made.json()["id"] in [r["id"] for r in a.get("/api/v1/analyses").json()]
    # a newer file that does not parse keeps the revision served, and says why beside it
    workspace.write_text(workspace.read_text() + "\noutcomes: [unclosed\n")
    assert a.get("/api/v1/overview").json()["problems"]


def test_an_address_naming_no_workspace_is_404_with_several_served(env, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = env.model_copy(update={"web_cache_s": 2.0})
    shop = prepare(tmp_path / "shop", settings, cli)
    other = tmp_path / "other" / "guarantor.yaml"
    other.parent.mkdir()
    other.write_text("name: Other\n")
    tokens = dict(line.split("=", 1) for line in (shop.parent / ".tokens").read_text().splitlines())
    with (
        serving(settings, [shop, other]) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['viewer']}"}) as client,
    ):
        for path in ("/w", "/w/", "/api/v1/w", "/api/v1/w/", "/w/nobody/", "/api/v1/w/nobody/overview"):
            assert client.get(path).status_code == 404, path
