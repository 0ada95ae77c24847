"""Create the sample data this example's guarantees read: shop.db (SQLite) with a week of payouts
and support tickets. Deterministic: the same file every time. Run: python make_sample.py"""

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    rng = random.Random(7)
    path = HERE / "shop.db"
    path.unlink(missing_ok=True)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE payouts (id INTEGER PRIMARY KEY, merchant TEXT, due_at TEXT, settled_at TEXT)")
        db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, opened_at TEXT, first_reply_at TEXT)")
        for i in range(5000):
            due = now - timedelta(hours=rng.uniform(0, 24 * 7))
            late = rng.random() < 0.008
            settled = due + timedelta(hours=rng.uniform(1, 30) if late else -rng.uniform(0, 6))
            db.execute("INSERT INTO payouts (merchant, due_at, settled_at) VALUES (?, ?, ?)",
                       (f"m{rng.randrange(300)}", due.isoformat(), settled.isoformat()))
        for _ in range(800):
            opened = now - timedelta(hours=rng.uniform(0, 24 * 7))
            reply = opened + timedelta(minutes=rng.lognormvariate(3.2, 0.8))
            db.execute("INSERT INTO tickets (opened_at, first_reply_at) VALUES (?, ?)",
                       (opened.isoformat(), reply.isoformat()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
