from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

from guarantor.guarantees import runner
from guarantor.guarantees.models import AlertRecord
from guarantor.guarantees.sources.base import Context
from guarantor.workspace.loader import parse
from tests.scoped import workspace_db


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[bytes]]]:
    from aiosmtpd.controller import Controller

    messages: list[bytes] = []

    class Keep:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            messages.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, messages
    controller.stop()


WORKSPACE = """\
name: Shop
sources:
  shop: {{type: sql, url: "sqlite:///shop.db"}}
alerts:
  hook: {{type: webhook, url: "{hook}/plain"}}
  slack: {{type: webhook, url: "{hook}/slack", format: slack}}
  mail: {{type: email, host: 127.0.0.1, port: {smtp}, sender: guarantor@example.com, to: [ops@example.com]}}
  dead: {{type: webhook, url: "{dead}"}}
outcomes:
  - id: paid
    title: Merchants are paid on time
    for_whom: Merchants
    guarantee:
      schedule: 1m
      alert: {{channels: [hook, slack, mail{extra}]}}
      indicators:
        - {{id: on-time, source: shop, query: "SELECT value FROM share", unit: "%", target: ">= 99"}}
"""


def _setup(tmp_path: Path, hook: str, smtp: int, extra: str = "") -> tuple[object, object, str]:
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE share (value REAL)")
        db.execute("INSERT INTO share VALUES (97.5)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    path = tmp_path / "guarantor.yaml"
    path.write_text(WORKSPACE.format(hook=hook, smtp=smtp, dead=dead, extra=extra))
    ws, marks = parse(path.read_text(), str(path))
    return ws, marks, str(path)


def test_breach_and_recovery_are_sent_once_to_every_channel(env, tmp_path: Path, hook, smtp) -> None:
    url, received = hook
    port, mails = smtp
    ws, marks, name = _setup(tmp_path, url, port)
    db = workspace_db(env.resolved_database_url, name)
    t0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    ctx = Context(tmp_path, allow_command=False)

    first = runner.check(db, ws, marks, name, ctx, lambda: t0)
    assert first.states[0].status == "BROKEN"
    assert sorted((a["channel"], a["event"], a["error"]) for a in first.alerts) == [
        ("hook", "breach", None),
        ("mail", "breach", None),
        ("slack", "breach", None),
    ]
    plain = next(r["body"] for r in received if r["path"] == "/plain")
    assert (
        plain["event"] == "breach"
        and plain["status"] == "BROKEN"
        and "97.5% misses the target >= 99%" in plain["reason"]
    )  # type: ignore[index, operator]
    slack = next(r["body"] for r in received if r["path"] == "/slack")
    assert set(slack) == {"text"} and "Merchants are paid on time: BROKEN" in slack["text"]  # type: ignore[arg-type, index]
    mail = message_from_bytes(mails[0])
    assert mail["Subject"] == "[Guarantor] BROKEN: Merchants are paid on time" and mail["To"] == "ops@example.com"

    again = runner.check(db, ws, marks, name, ctx, lambda: t0 + timedelta(minutes=1))
    assert again.evaluated == 1 and again.alerts == [], "still broken: nothing new to say"

    with sqlite3.connect(tmp_path / "shop.db") as sdb:
        sdb.execute("UPDATE share SET value = 99.9")
    recovered = runner.check(db, ws, marks, name, ctx, lambda: t0 + timedelta(minutes=2))
    assert recovered.states[0].status == "MET"
    assert sorted(a["event"] for a in recovered.alerts) == ["recovery"] * 3
    assert len(received) == 4 and len(mails) == 2
    with db.transaction() as s:
        assert s.query(AlertRecord).filter(AlertRecord.delivered_at.is_not(None)).count() == 6
    db.close()


def test_failed_delivery_is_recorded_and_retried(env, tmp_path: Path, hook, smtp) -> None:
    ws, marks, name = _setup(tmp_path, hook[0], smtp[0], extra=", dead")
    db = workspace_db(env.resolved_database_url, name)
    t0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    ctx = Context(tmp_path, allow_command=False)
    first = runner.check(db, ws, marks, name, ctx, lambda: t0)
    dead = [a for a in first.alerts if a["channel"] == "dead"]
    assert len(dead) == 1 and dead[0]["error"] and "refused" in str(dead[0]["error"]).lower()
    second = runner.check(db, ws, marks, name, ctx, lambda: t0 + timedelta(minutes=1))
    assert [a["channel"] for a in second.alerts] == ["dead"], "only the failed one is tried again"
    with db.transaction() as s:
        row = s.query(AlertRecord).filter(AlertRecord.channel == "dead").one()
        assert row.attempts == 2 and row.delivered_at is None and row.error
    db.close()


def test_two_runners_seeing_one_change_alert_once(env, tmp_path: Path, hook, smtp) -> None:
    ws, marks, name = _setup(tmp_path, hook[0], smtp[0])
    db = workspace_db(env.resolved_database_url, name)
    t0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    ctx = Context(tmp_path, allow_command=False)
    report = runner.check(db, ws, marks, name, ctx, lambda: t0)
    hook[1].clear()
    with db.transaction() as s:
        s.query(AlertRecord).delete()
        from guarantor.guarantees.models import OutcomeStateRecord

        s.query(OutcomeStateRecord).delete()
    results: list[list[dict[str, str | None]]] = []
    threads = [
        threading.Thread(target=lambda: results.append(runner.notify(db, ws, report.states, lambda: t0)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(r) for r in results) == 3 and len(hook[1]) == 2
    db.close()


def test_unknown_channel_is_a_spec_error(tmp_path: Path) -> None:
    from guarantor.errors import ValidationFailed

    text = WORKSPACE.format(hook="http://x", smtp=25, dead="http://y", extra=", pager")
    with pytest.raises(ValidationFailed) as info:
        parse(text, "a.yaml")
    assert any(
        "no alert channel named 'pager'" in str(p) and str(p).startswith("a.yaml:15:45:") for p in info.value.problems
    )


def test_a_fast_burn_alerts_as_at_risk(env, tmp_path: Path, hook, smtp) -> None:
    ws, marks, name = _setup(tmp_path, hook[0], smtp[0])
    text = Path(name).read_text().replace("      schedule: 1m\n", "      schedule: 1m\n      objective: 90%\n")
    Path(name).write_text(text)
    ws, marks = parse(text, name)
    db = workspace_db(env.resolved_database_url, name)
    ctx = Context(tmp_path, allow_command=False)
    t0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    with sqlite3.connect(tmp_path / "shop.db") as sdb:
        sdb.execute("UPDATE share SET value = 99.9")
    for k in range(30):  # a good day and more
        runner.check(db, ws, marks, name, ctx, lambda k=k: t0 + timedelta(hours=k))
    hook[1].clear()
    with sqlite3.connect(tmp_path / "shop.db") as sdb:
        sdb.execute("UPDATE share SET value = 97")
    report = runner.check(db, ws, marks, name, ctx, lambda: t0 + timedelta(hours=30))
    state = report.states[0]
    assert state.status == "AT_RISK" and "error budget left" in state.reason
    assert {(a["channel"], a["event"]) for a in report.alerts} >= {("hook", "at_risk")}
    db.close()
