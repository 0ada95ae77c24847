from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from guarantor.tasks.classify import OutputFormat, Record, classify_stream
from guarantor.tasks.model import EVIDENCE_FLOOR

COLUMNS = ["id", "text", "exposure", "p_E0", "p_E1", "p_E2", "automation", "confidence", "evidence"]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_in_csv_out_with_named_columns(cli, tmp_path: Path) -> None:
    src = tmp_path / "tasks.csv"
    src.write_text('key,description\nA-1,"Prepare tax returns, for clients"\nA-2,Drive a forklift in a warehouse\n')
    r = cli("classify", str(src), "--text-column", "description", "--id-column", "key")
    assert r.code == 0, r.err
    rows = _rows(r.out)
    assert list(rows[0]) == COLUMNS
    assert [x["id"] for x in rows] == ["A-1", "A-2"]
    assert rows[1]["exposure"] == "E0"
    assert all(abs(sum(float(x[k]) for k in ("p_E0", "p_E1", "p_E2")) - 1) < 1e-3 for x in rows)
    assert rows[0]["evidence"].startswith(("E0 (", "E1 (", "E2 ("))


def test_tsv_jsonl_and_plain_lines(cli, tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("task_id\ttask\n7\tAnalyze sales data\n")
    (tmp_path / "t.jsonl").write_text('{"id": "x", "text": "Analyze sales data"}\n\n{"id": 2, "text": "Mop floors"}\n')
    (tmp_path / "t.txt").write_text("Analyze sales data\n\nMop floors\n")
    assert _rows(cli("classify", str(tmp_path / "t.tsv")).out)[0]["id"] == "7"
    assert [x["id"] for x in _rows(cli("classify", str(tmp_path / "t.jsonl")).out)] == ["x", "2"]
    assert [x["id"] for x in _rows(cli("classify", str(tmp_path / "t.txt")).out)] == ["1", "3"]


def test_jsonl_output_to_a_file(cli, tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("Schedule appointments for patients\n")
    out = tmp_path / "out.jsonl"
    r = cli("classify", str(tmp_path / "t.txt"), "--format", "jsonl", "-o", str(out))
    assert r.code == 0 and r.out == ""
    obj = json.loads(out.read_text())
    assert set(COLUMNS) <= set(obj) and isinstance(obj["evidence"], list)
    assert obj["automation"] in ("T0", "T1", "T2", "T3", "T4")


def test_stdin(cli, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"Answer customer questions by e-mail\n")))
    rows = _rows(cli("classify", "-").out)
    assert rows[0]["text"] == "Answer customer questions by e-mail"


def test_bad_input_names_file_line_and_field(cli, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\n1,x\n")
    r = cli("classify", str(tmp_path / "a.csv"))
    assert r.code == 3 and "a.csv:1:" in r.err and "--text-column" in r.err
    (tmp_path / "b.csv").write_text('id,text\n1,"ok"\n2,\n')
    r = cli("classify", str(tmp_path / "b.csv"))
    assert r.code == 3 and "b.csv:3: text: empty" in r.err
    (tmp_path / "c.jsonl").write_text('{"text": "ok"}\n{"text": "broken\n')
    r = cli("classify", str(tmp_path / "c.jsonl"))
    assert r.code == 3 and "c.jsonl:2:" in r.err and "invalid JSON" in r.err
    (tmp_path / "d.jsonl").write_text('{"title": "no text key"}\n')
    r = cli("classify", str(tmp_path / "d.jsonl"))
    assert r.code == 3 and "d.jsonl:1: text: missing" in r.err
    r = cli("classify", str(tmp_path / "missing.csv"))
    assert r.code == 4 and "Traceback" not in r.err


def test_output_is_written_in_chunks_while_input_is_read(model) -> None:
    """Streaming: the first chunk is written before the reader is past the second chunk."""
    pulled = 0
    seen_when_first_written: list[int] = []

    def records() -> Iterator[Record]:
        nonlocal pulled
        for i in range(5000):
            pulled += 1
            yield Record(str(i), "Prepare reports on sales")

    class Sink(io.StringIO):
        def write(self, s: str) -> int:
            if not seen_when_first_written and s.startswith("0,"):
                seen_when_first_written.append(pulled)
            return super().write(s)

    count = classify_stream(model, records(), Sink(), OutputFormat.csv)
    assert count == 5000
    assert seen_when_first_written and seen_when_first_written[0] <= 2048


def test_output_to_a_device_is_written_not_replaced(cli, tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("Mop floors\n")
    r = cli("classify", str(tmp_path / "t.txt"), "-o", "/dev/null")
    assert r.code == 0
    assert Path("/dev/null").is_char_device(), "/dev/null is still the device"


def test_evidence_under_the_floor_is_not_shown(cli, tmp_path: Path) -> None:
    """Bulk output shows what the role page shows: "Review pull requests" shares a word with
    "Pull knuckles to open them for coupling" (cosine 0.23), which is no evidence."""
    (tmp_path / "t.txt").write_text("Review pull requests\nSchedule appointments for patients\n")
    rows = _rows(cli("classify", str(tmp_path / "t.txt")).out)
    assert rows[0]["evidence"] == ""
    shown = [float(part.split("(")[1].split(")")[0]) for part in rows[1]["evidence"].split(" | ")]
    assert shown and all(s >= EVIDENCE_FLOOR for s in shown)


def test_the_process_ends_at_once_with_every_row_out(env, tmp_path: Path) -> None:
    """`classify` skips the interpreter's teardown (``Entry.ends_at_once``): what it wrote to a pipe,
    to a file and to stderr is all there, and a failure keeps its exit code."""
    import subprocess
    import sys

    lines = [f"Reconcile invoice batch {i} against the ledger" for i in range(3000)]
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n")
    probe = "import atexit, sys; atexit.register(print, 'torn down'); from guarantor.cli import main; main()"
    piped = subprocess.run([sys.executable, "-c", probe, "classify", str(tmp_path / "t.txt")], capture_output=True)
    assert piped.returncode == 0, piped.stderr
    rows = _rows(piped.stdout.decode())
    assert [r["text"] for r in rows] == lines  # and no "torn down" after them
    assert piped.stderr.decode().strip() == "3,000 tasks classified."
    out = tmp_path / "out.jsonl"
    written = subprocess.run(
        [sys.executable, "-m", "guarantor", "classify", str(tmp_path / "t.txt"), "--format", "jsonl", "-o", str(out)],
        capture_output=True,
    )
    assert written.returncode == 0 and written.stdout == b""
    assert [json.loads(line)["text"] for line in out.read_text().splitlines()] == lines
    (tmp_path / "bad.csv").write_text("id,name\n1,x\n")
    bad = subprocess.run([sys.executable, "-c", probe, "classify", str(tmp_path / "bad.csv")], capture_output=True)
    assert bad.returncode == 3 and b"bad.csv:1:" in bad.stderr
