from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
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
            if not seen_when_first_written and "\n0,Prepare reports" in s:
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


FORKS = "import os; os.register_at_fork(after_in_child=lambda: os.write(2, b'forked %d\\n' % os.getpid())); "
MAIN = "from guarantor.cli import main; main()"


def _statements(n: int) -> list[str]:
    verbs = ["Prepare", "Review", "Schedule", "Inspect", "Negotiate", "Teach", "Repair", "Analyze", "Drive", "Write"]
    things = ["tax returns", "pull requests", "patient visits", "welds", "contracts", "lessons", "engines", "sales"]
    return [f"{verbs[i % 10]} {things[i // 10 % 8]} for client {i}" for i in range(n)]


def _classify(
    tmp_path: Path, source: str, *args: str, workers: int, probe: str = ""
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GUARANTOR_CLASSIFY_WORKERS": str(workers)}
    return subprocess.run(
        [sys.executable, "-c", FORKS + probe + MAIN, "classify", str(tmp_path / source), *args],
        capture_output=True,
        env=env,
    )


def _forks(done: subprocess.CompletedProcess[bytes]) -> int:
    return sum(line.startswith("forked") for line in done.stderr.decode().splitlines())


def test_a_long_input_predicted_by_forked_processes_comes_out_as_one_process_writes_it(env, tmp_path: Path) -> None:
    """Over one chunk, `classify` predicts in forked processes (GUARANTOR_CLASSIFY_WORKERS) while it
    reads and writes: the same bytes, in the input's order, as predicted by itself, CSV or JSONL.
    One chunk, or a process running another thread (a fork would copy a lock that thread holds),
    forks nothing."""
    (tmp_path / "long.txt").write_text("\n".join(_statements(5000)) + "\n")
    (tmp_path / "short.txt").write_text("\n".join(_statements(2000)) + "\n")
    for fmt in ("csv", "jsonl"):
        alone = _classify(tmp_path, "long.txt", "--format", fmt, workers=1)
        apart = _classify(tmp_path, "long.txt", "--format", fmt, workers=2)
        assert alone.returncode == 0 and apart.returncode == 0, apart.stderr
        assert (_forks(alone), _forks(apart)) == (0, 2)
        assert apart.stdout == alone.stdout
        assert b"5,000 tasks classified." in apart.stderr
    rows = [json.loads(line) for line in apart.stdout.splitlines()]
    assert [r["text"] for r in rows] == _statements(5000)
    short = _classify(tmp_path, "short.txt", workers=2)
    assert short.returncode == 0 and _forks(short) == 0 and len(_rows(short.stdout.decode())) == 2000
    threaded = "import threading, time; threading.Thread(target=time.sleep, args=(30,), daemon=True).start(); "
    beside = _classify(tmp_path, "long.txt", workers=2, probe=threaded)
    assert beside.returncode == 0 and _forks(beside) == 0
    assert beside.stdout == _classify(tmp_path, "long.txt", workers=1).stdout


def test_a_bad_record_stops_the_output_after_the_chunks_before_it_whoever_predicts(env, tmp_path: Path) -> None:
    texts = _statements(6000)
    texts[4500] = " "
    (tmp_path / "t.csv").write_text("id,text\n" + "".join(f"{i},{t}\n" for i, t in enumerate(texts)))
    alone = _classify(tmp_path, "t.csv", workers=1)
    apart = _classify(tmp_path, "t.csv", workers=2)
    for done in (alone, apart):
        assert done.returncode == 3 and b"t.csv:4502: text: empty" in done.stderr and b"Traceback" not in done.stderr
    assert _forks(apart) == 2
    assert apart.stdout == alone.stdout
    assert [r["id"] for r in _rows(apart.stdout.decode())] == [str(i) for i in range(4096)]  # two whole chunks


def test_a_forked_process_killed_midway_is_an_internal_error_not_a_wait(env, tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("\n".join(_statements(5000)) + "\n")
    killed = (
        "import guarantor.tasks.classify as c; parent = os.getpid(); real = c._render; "
        "c._render = lambda *a: os._exit(9) if os.getpid() != parent else real(*a); "
    )
    done = _classify(tmp_path, "t.txt", workers=2, probe=killed)
    assert done.returncode == 1, done.stderr
    assert b"a process predicting the tasks stopped (exit code 9) before its end" in done.stderr
    assert b"Traceback" not in done.stderr


def test_forked_processes_end_when_the_one_that_forked_them_is_killed(env, tmp_path: Path) -> None:
    """Killed with SIGKILL (the OOM killer, kill -9), `classify` cannot end what it forked: each
    copy sees it is gone within seconds and ends, instead of waiting on its queue for ever."""
    env_ = {**os.environ, "GUARANTOR_CLASSIFY_WORKERS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-c", FORKS + MAIN, "classify", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env_,
    )
    assert proc.stdin is not None and proc.stderr is not None
    with proc.stdin, proc.stderr:
        proc.stdin.write(("\n".join(_statements(5000)) + "\n").encode())  # and kept open: more may come
        proc.stdin.flush()
        forked = [int(proc.stderr.readline().split()[1]) for _ in range(2)]
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(_ended(pid) for pid in forked):
        time.sleep(0.2)
    assert all(_ended(pid) for pid in forked)


def test_a_reader_that_stops_reading_ends_classify_with_141_and_no_message(env, tmp_path: Path) -> None:
    """`classify big.csv | head`: exit 128 + SIGPIPE as a Unix tool, not Typer's exit 1 ("a bug in
    Guarantor" in our table), with nothing on stderr and the forked processes ended."""
    (tmp_path / "t.txt").write_text("\n".join(_statements(20_000)) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", FORKS + MAIN, "classify", str(tmp_path / "t.txt")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "GUARANTOR_CLASSIFY_WORKERS": "2"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"id,text,exposure")
    proc.stdout.close()  # as `head -1` does once it has its line
    with proc.stderr:
        said = proc.stderr.read().decode().splitlines()
    assert proc.wait(timeout=60) == 141
    forked = [int(line.split()[1]) for line in said if line.startswith("forked")]
    assert len(forked) == 2 and len(said) == 2, said  # nothing but the forks' own lines
    assert all(_ended(pid) for pid in forked)


def _ended(pid: int) -> bool:
    """Gone, or a zombie nobody reaps (in a container, orphans go to a PID 1 that may not reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_a_short_file_is_classified_without_what_only_a_long_one_or_a_terminal_needs(env, tmp_path: Path) -> None:
    """Start time is most of a short `classify`: it imports no rich (30 ms: its count is plain text),
    no multiprocessing (15 ms: one chunk forks nothing), and looks for no pydantic plugin."""
    (tmp_path / "t.txt").write_text("Review pull requests and write unit tests\n")
    probe = (
        "import atexit, os, sys\n"
        "os._exit = lambda code: sys.stderr.write(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('rich', 'multiprocessing'))) + ' plugins:' + os.environ.get('PYDANTIC_DISABLE_PLUGINS', '') + '\\n')\n"
        "from guarantor.cli import main\nmain()"
    )
    done = subprocess.run([sys.executable, "-c", probe, "classify", str(tmp_path / "t.txt")], capture_output=True)
    assert _rows(done.stdout.decode())[0]["text"] == "Review pull requests and write unit tests"
    assert done.stderr.decode().splitlines() == ["1 task classified.", " plugins:__all__"]
