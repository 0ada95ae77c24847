from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from guarantor.guarantees.models import Claim, Measurement
from tests.scoped import workspace_db

WORKSPACE = """\
name: Watched
sources:
  files: {{type: file}}
  local: {{type: command, timeout: 5s}}
outcomes:
  - id: fresh
    title: Numbers stay fresh
    for_whom: Readers
    guarantee:
      schedule: 1s
      indicators:
        - {{id: rows, source: files, query: "SELECT count(*) FROM 'data.csv'", target: "> 0"}}
        - {{id: flaky, source: local, query: "{python} flaky.py", target: "> 0"}}
"""


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "guarantor", *args], env=env, stdout=subprocess.DEVNULL, stderr=err
        )


def test_watchers_and_a_check_beside_them_store_each_slot_once(env, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("x\n1\n2\n")
    # fails every other second: the watch must survive a failing source
    (tmp_path / "flaky.py").write_text("import sys, time\nif int(time.time()) % 2: sys.exit('down')\nprint(1)\n")
    (tmp_path / "guarantor.yaml").write_text(WORKSPACE.format(python=sys.executable))
    environ = {**os.environ, "GUARANTOR_DATABASE_URL": env.resolved_database_url, "GUARANTOR_CHECK_RETRIES": "0"}
    a = _start(["watch", str(tmp_path)], environ, tmp_path / "a.log")
    b = _start(["watch", str(tmp_path)], environ, tmp_path / "b.log")
    time.sleep(2.0)
    subprocess.run(
        [sys.executable, "-m", "guarantor", "check", str(tmp_path)], env=environ, capture_output=True, timeout=60
    )
    time.sleep(2.0)
    os.kill(a.pid, signal.SIGKILL)  # killed: whatever it was doing is taken over
    a.wait()
    time.sleep(1.5)
    b.send_signal(signal.SIGTERM)  # stops cleanly at the end of its cycle
    assert b.wait(timeout=30) == 0, (tmp_path / "b.log").read_text()
    assert "measured" in (tmp_path / "b.log").read_text()
    c = _start(["watch", str(tmp_path)], environ, tmp_path / "c.log")  # a restart completes the next slots
    time.sleep(2.5)
    c.send_signal(signal.SIGTERM)
    assert c.wait(timeout=30) == 0
    db = workspace_db(env.resolved_database_url, tmp_path)
    with db.transaction() as s:
        rows = s.query(Measurement).all()
        keys = [(m.indicator_id, m.scheduled_at) for m in rows]
        assert len(keys) == len(set(keys)), "no slot stored twice"
        slots = sorted({m.scheduled_at for m in rows if m.indicator_id == "rows"})
        assert len(slots) >= 5
        assert {m.status for m in rows if m.indicator_id == "flaky"} >= {"MET", "ERROR"}
        assert all(m.status == "MET" for m in rows if m.indicator_id == "rows")
        assert s.query(Claim).count() <= 2, "only slots in flight when the last watcher stopped may be claimed"
    db.close()


ONE_FILE_INDICATOR = """\
name: Claimed
sources:
  files: {type: file}
outcomes:
  - id: fresh
    title: Numbers stay fresh
    for_whom: Readers
    guarantee:
      schedule: 1h
      indicators:
        - {id: rows, source: files, query: "SELECT count(*) FROM 'data.csv'", target: "> 0"}
"""


def test_slots_claimed_by_a_killed_runner_are_measured_by_the_next_run_or_dropped(cli, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A watch killed between claiming and measuring leaves claims held by a process that is gone:
    exited and reaped, a zombie not yet reaped, or a pid since reused by another process. The next
    run on this host measures those slots at once, though a later slot is due by then."""
    from datetime import timedelta

    from guarantor.clock import utcnow
    from guarantor.guarantees.service import plan
    from guarantor.workspace import loader

    (tmp_path / "data.csv").write_text("x\n1\n")
    (tmp_path / "guarantor.yaml").write_text(ONE_FILE_INDICATOR)
    ws = loader.load(tmp_path / "guarantor.yaml")
    item = plan(ws, utcnow())[0]
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # never waited for until the end
    time.sleep(0.5)
    host = os.uname().nodename
    owners = {
        item.scheduled_at - timedelta(hours=1): f"{host}:{exited.pid}.1:dead",
        item.scheduled_at - timedelta(hours=2): f"{host}:{zombie.pid}.1:zombie",
        item.scheduled_at - timedelta(hours=3): f"{host}:{os.getppid()}.1:reused",  # alive, started at another time
    }
    db = workspace_db(env.resolved_database_url, tmp_path)
    far = utcnow() + timedelta(days=1)  # not expired: only the owner's death frees them
    with db.transaction() as s:
        for at, owner in owners.items():
            s.add(Claim(indicator_id="rows", spec_hash=item.spec_hash, scheduled_at=at, owner=owner, expires_at=far))
        # an indicator since removed, and one whose query changed: no run will measure them; dropped
        dead = owners[item.scheduled_at - timedelta(hours=1)]
        s.add(Claim(indicator_id="gone", spec_hash="x", scheduled_at=item.scheduled_at, owner=dead, expires_at=far))
        s.add(Claim(indicator_id="rows", spec_hash="old", scheduled_at=item.scheduled_at, owner=dead, expires_at=far))
    r = cli("check", str(tmp_path))
    assert r.code == 0, r.err
    with db.transaction() as s:
        measured = {m.scheduled_at for m in s.query(Measurement).all()}
        assert set(owners) | {item.scheduled_at} <= measured
        assert s.query(Claim).count() == 0
    db.close()
    zombie.wait()


def test_after_a_failed_run_watch_wakes_at_the_next_slot(tmp_path: Path) -> None:
    """A run that fails (a database outage, here) is retried at the schedule's next slot, not after
    a fixed 30 s: the clock, injected, moves a second per reading."""
    from datetime import UTC, datetime, timedelta

    from guarantor.guarantees import runner
    from guarantor.guarantees.sources.base import Context
    from guarantor.workspace import loader

    (tmp_path / "guarantor.yaml").write_text(ONE_FILE_INDICATOR.replace("schedule: 1h", "schedule: 5s"))
    ws, marks = loader.parse((tmp_path / "guarantor.yaml").read_text(), "guarantor.yaml")
    now = [datetime(2026, 1, 1, tzinfo=UTC)]

    def clock() -> datetime:
        now[0] += timedelta(seconds=1)
        return now[0]

    class Down:
        def transaction(self) -> None:
            raise RuntimeError("the database is down")

    loads: list[datetime] = []

    def load() -> tuple[object, ...]:
        loads.append(now[0])
        return ws, marks, "guarantor.yaml", Context(tmp_path, False)

    runner.watch(
        Down(),  # type: ignore[arg-type]
        load,  # type: ignore[arg-type]
        clock,
        lambda _: None,
        lambda _: None,
        stop=lambda: len(loads) >= 4,
    )
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(loads)]
    assert gaps and max(gaps) <= 7, gaps
