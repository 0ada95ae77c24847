"""The first minutes of a newcomer: `scripts/demo`, then every next step it prints, run as printed in
a new shell that has none of the demo's variables. They failed for want of GUARANTOR_DATA_DIR, which
the demo set for itself only; the data folder is now kept in the user's settings file."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx

from tests.conftest import DATA_DIR, ROOT
from tests.web_server import log_in, serve_process


def _shell_env(tmp_path: Path) -> dict[str, str]:
    """A new shell's environment: no Guarantor variable but the test session's model cache, and a
    settings file of this test's own (where the demo keeps the data folder)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARANTOR_")}
    env["GUARANTOR_CACHE_DIR"] = os.environ["GUARANTOR_CACHE_DIR"]
    env["GUARANTOR_CONFIG"] = str(tmp_path / "config" / "settings.env")
    return env


def test_every_next_step_the_demo_prints_runs_as_printed(tmp_path: Path, model_home: Path) -> None:
    shell = _shell_env(tmp_path)
    demo = subprocess.run(
        ["scripts/demo"],
        cwd=ROOT,
        env=shell | {"GUARANTOR_DATA_DIR": str(DATA_DIR), "GUARANTOR_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    steps = [line.strip() for line in demo.stdout.splitlines() if line.startswith("  ")]
    assert len(steps) >= 3 and any(" serve " in s for s in steps), demo.stdout
    for step in steps:
        if " serve " in step:
            _serve_runs(step, shell)
            continue
        done = subprocess.run(["bash", "-c", step], cwd=ROOT, env=shell, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{step}: {done.stderr}"
        assert done.stdout.strip(), step


def _serve_runs(step: str, shell: dict[str, str]) -> None:
    """The printed `serve` answers on its port and stops with Ctrl-C, exit 0 (bash runs the one
    command in its own place). The one-time password comes once the server listens, and logs in."""
    with serve_process(["bash", "-c", step], shell, ROOT) as (url, lines):
        password = re.search(r"password (\S+) \(shown once\)", "".join(lines))
        assert password, "".join(lines)
        with httpx.Client(base_url=url, timeout=30) as client:
            answer = log_in(client, "admin", password[1])
            assert answer.status_code == 303 and "login" not in answer.headers["location"], answer.text
