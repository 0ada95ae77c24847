from __future__ import annotations

import csv
import json
import shutil
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from guarantor.data import files
from guarantor.data.download import derive
from guarantor.errors import InputError
from tests.conftest import DATA_DIR
from tests.http_peer import peer


def test_status_counts_rows_and_shows_attribution(cli) -> None:
    r = cli("data", "status")
    assert r.code == 0
    assert "19,265" in r.out and "15,352" in r.out
    assert "CC BY 4.0" in r.out and "Copyright (c) 2024 OpenAI" in r.out


def test_missing_data_dir_says_how_to_get_it(cli, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GUARANTOR_DATA_DIR", str(tmp_path / "nowhere"))
    from guarantor.settings import get_settings

    get_settings.cache_clear()
    r = cli("role", "accountant")
    assert r.code == 6
    assert "GUARANTOR_DATA_DIR" in r.err and "guarantor data download" in r.err


def test_short_row_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "tasks.tsv"
    path.write_text("\t".join(files.TASKS.columns) + "\n11-1011.00\tChief\t1\tDo things\tCore\n11-1011.00\tChief\t2\n")
    with pytest.raises(InputError, match=r"tasks\.tsv:3: expected 5 fields, found 3 \(missing task\)"):
        list(files.read_rows(path, files.TASKS))


def _upstream(folder: Path) -> None:
    """Write the three upstream files in their published shapes, from the shared data."""
    folder.mkdir()
    labels = {
        (r["onet_soc_code"], r["task_id"]): r
        for _, r in files.read_rows(DATA_DIR / "exposure_labels.tsv", files.LABELS)
    }
    with (folder / "full_labelset.tsv").open("w", newline="") as out:
        w = csv.writer(out, delimiter="\t", lineterminator="\n")
        w.writerow(
            [
                "O*NET-SOC Code",
                "Task ID",
                "Task",
                "Task Type",
                "Title",
                "gpt4_exposure",
                "human_exposure_agg",
                "gpt4_automation",
            ]
        )
        for _, t in files.read_rows(DATA_DIR / "tasks.tsv", files.TASKS):
            lab = labels.get((t["onet_soc_code"], t["task_id"]))
            w.writerow(
                [
                    t["onet_soc_code"],
                    t["task_id"],
                    t["task"],
                    t["task_type"],
                    t["occupation"],
                    lab["gpt4_exposure"] if lab else "",
                    lab["human_exposure"] if lab else "",
                    lab["gpt4_automation"] if lab else "",
                ]
            )
    shutil.copy(DATA_DIR / "occupation_exposure.csv", folder / "occ_level.csv")
    shutil.copy(DATA_DIR / "work_contexts.csv", folder / "occupations_onet_work_contexts.csv")


@pytest.fixture
def upstream_server(tmp_path: Path) -> Iterator[str]:
    _upstream(tmp_path / "upstream")
    shutil.copytree(DATA_DIR.parent / "observed", tmp_path / "upstream" / "observed")
    with peer(partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "upstream"))) as port:
        yield f"http://127.0.0.1:{port}/"


def test_download_over_http_derives_the_same_layout(cli, monkeypatch, tmp_path: Path, upstream_server: str) -> None:
    monkeypatch.setenv("GUARANTOR_DOWNLOAD_BASE_URL", upstream_server)
    monkeypatch.setenv("GUARANTOR_OBSERVED_BASE_URL", upstream_server + "elsewhere/")  # 404: optional files
    from guarantor.settings import get_settings

    get_settings.cache_clear()
    target = tmp_path / "data"
    r = cli("data", "download", "--target", str(target))
    assert r.code == 0, r.err
    assert (target / "tasks.tsv").read_text() == (DATA_DIR / "tasks.tsv").read_text()
    assert (target / "exposure_labels.tsv").read_text() == (DATA_DIR / "exposure_labels.tsv").read_text()
    assert (target / "occupation_exposure.csv").read_text() == (DATA_DIR / "occupation_exposure.csv").read_text()
    assert not list(target.glob(".*")), "no temporary file left behind"
    assert "Observed AI use was not downloaded" in r.err and str(tmp_path / "observed") in r.err, r.err
    assert not list((tmp_path / "observed").iterdir()), "nothing half-fetched left behind"


def test_download_fetches_observed_use_beside_the_data(cli, monkeypatch, tmp_path: Path, upstream_server: str) -> None:
    monkeypatch.setenv("GUARANTOR_DOWNLOAD_BASE_URL", upstream_server)
    monkeypatch.setenv("GUARANTOR_OBSERVED_BASE_URL", upstream_server + "observed/")
    from guarantor.settings import get_settings

    get_settings.cache_clear()
    r = cli("data", "download", "--target", str(tmp_path / "data"))
    assert r.code == 0 and "not downloaded" not in r.err, r.err
    for spec in files.OBSERVED_FILES:
        assert (tmp_path / "observed" / spec.name).read_bytes() == (
            DATA_DIR.parent / "observed" / spec.name
        ).read_bytes()
    monkeypatch.setenv("GUARANTOR_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    status = json.loads(cli("data", "status", "--json").out)
    observed = [f for f in status["files"] if f["file"].startswith("observed/")]
    assert len(observed) == len(files.OBSERVED_FILES) and all(f["present"] for f in observed), status


def test_download_offline_fails_at_once_with_what_to_do(cli, monkeypatch, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port with nothing listening: connection refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GUARANTOR_DOWNLOAD_BASE_URL", f"http://127.0.0.1:{port}/")
    from guarantor.settings import get_settings

    get_settings.cache_clear()
    start = time.monotonic()
    r = cli("data", "download", "--target", str(tmp_path / "data"))
    assert r.code == 7
    assert time.monotonic() - start < 10
    assert "Could not download" in r.err and "GUARANTOR_DATA_DIR" in r.err
    assert not (tmp_path / "data" / "tasks.tsv").exists()


def test_derive_names_a_missing_upstream_column(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "full_labelset.tsv").write_text("O*NET-SOC Code\tTask ID\tTask\n11-1011.00\t1\tDo\n")
    with pytest.raises(
        InputError, match=r"full_labelset\.tsv:1: no column for occupation \(looked for Title, occupation\)"
    ):
        derive(raw, tmp_path / "out")
