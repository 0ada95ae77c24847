"""Screenshots of every page (``scripts/screenshots``): python -m tests.screenshots OUTPUT_DIR."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from guarantor.cli import run
from guarantor.settings import Settings
from tests.test_browser import CHROMIUM, FLAGS
from tests.web_server import PASSWORD, prepare, seed_history, serving

PAGES = {
    "login": "/login",
    "overview": "/",
    "roles": "/roles?q=nurse",
    "families": "/roles",
    "family": "/roles?family=29",
    "role": "/roles/29-1141.00",
    "people": "/people",
    "person": "/people/ana",
    "outcomes": "/outcomes",
    "outcome": "/outcomes/payouts-on-time",
    "checkin": "/outcomes/onboarding-satisfaction",
    "work": "/work",
    "systems": "/systems",
    "history": "/analyses",
    "api": "/api",
}


@dataclass
class Result:
    code: int


def main(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["GUARANTOR_DATABASE_URL"] = f"sqlite:///{tmp}/guarantor.db"
        settings = Settings(web_cache_s=0)
        workspace = prepare(Path(tmp) / "shop", settings, lambda *args: Result(int(run(list(args)))))
        seed_history(settings.resolved_database_url)
        with serving(settings, workspace) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url + "/login")
            page.screenshot(path=output / "login.png", full_page=True)
            page.get_by_label("Username").fill("editor")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(url + "/")
            for name, path in PAGES.items():
                if name == "login":
                    continue
                page.goto(url + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=output / f"{name}.png", full_page=True)
                print(output / f"{name}.png")
            report = Path(tmp) / "report.html"
            run(["analyze", str(workspace), "-o", str(report)])
            page.goto(report.as_uri())
            page.screenshot(path=output / "report.png", full_page=True)
            print(output / "report.png")
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"))
