"""Azure DevOps work-item CSV exports (Boards > Queries > Export to CSV), as the two kinds of query
write them: a flat query (one ``Title`` column) and a tree query (``Title 1``, ``Title 2``, ``Title 3``,
each row's title at its level). Column names, people, tags, paths and dates are as Azure DevOps
writes them (US and European locales); the values are invented."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from guarantor.errors import InputError
from guarantor.inputs.dates import DateOrder
from guarantor.work import importers, service
from guarantor.work.importers.base import Item
from tests.conftest import write_csv

FLAT = ["ID", "Work Item Type", "Title", "Assigned To", "State", "Tags", "Area Path", "Iteration Path",
        "Created Date", "Activated Date", "Closed Date", "Story Points", "Description", "Parent",
        "Priority"]  # fmt: skip


def test_a_flat_query_export_reads_every_field(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "flat.csv",
        FLAT,
        [
            ["4127", "User Story", "Pay merchants on the promised day", "Ana Silva <ana@contoso.com>", "Closed",
             "payments; outcome:payouts-on-time", "Shop\\Payments", "Shop\\Sprint 14", "11/3/2025 4:12:09 PM",
             "11/4/2025 9:00:00 AM", "11/20/2025 5:30:00 PM", "5",
             "<div>Merchants&nbsp;get paid <b>on time</b>.</div><div>Every day.</div>", "4100", "2"],
            ["4128", "Bug", "Refund fails for cards issued abroad", "", "Active", "", "Shop", "Shop\\Sprint 15",
             "11/21/2025 10:00:00 AM", "", "", "", "", "", "1"],
        ],
    )  # fmt: skip
    columns, items = service.read("azure", path)
    first, second = list(items)
    assert first == Item(
        source="azure",
        external_id="4127",
        title="Pay merchants on the promised day",
        kind="user story",
        body="Merchants get paid on time.\nEvery day.",
        state="Closed",
        closed=True,
        created_at=datetime(2025, 11, 3, 16, 12, 9, tzinfo=UTC),
        started_at=datetime(2025, 11, 4, 9, 0, tzinfo=UTC),
        closed_at=datetime(2025, 11, 20, 17, 30, tzinfo=UTC),
        labels=["payments", "outcome:payouts-on-time"],
        assignee="Ana Silva",
        estimate=5,
        components=["Payments"],
        sprint="Sprint 14",
        links=["4100"],
        line=2,
    )
    assert not second.closed and second.closed_at is None and second.assignee is None and second.kind == "bug"
    assert second.components == ["Shop"] and second.sprint == "Sprint 15" and second.estimate is None
    assert columns is not None and columns.unread == ("Priority",) and "epic" in columns.missing()


def test_a_tree_query_export_gives_each_item_its_parent_as_epic(tmp_path: Path) -> None:
    header = ["ID", "Work Item Type", "Title 1", "Title 2", "Title 3", "State", "Effort", "Created Date"]
    rows = [
        ["10", "Epic", "Payouts on time", "", "", "Active", "", "03/11/2025 16:12"],
        ["11", "Feature", "", "Bank holiday calendar", "", "Active", "", "04/11/2025 09:00"],
        ["12", "Product Backlog Item", "", "", "Skip bank holidays when scheduling", "Done", "3", "05/11/2025 09:00"],
        ["13", "Feature", "", "Retries", "", "New", "", "25/11/2025 09:00"],
        ["20", "Epic", "Fraud", "", "", "New", "", "26/11/2025 09:00"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "tree.csv", header, rows)
    items = {i.external_id: i for i in service.read("azure", path)[1]}
    assert [items[k].title for k in ("10", "11", "12")] == [
        "Payouts on time",
        "Bank holiday calendar",
        "Skip bank holidays when scheduling",
    ]
    assert items["10"].epic is None and items["11"].epic == "Payouts on time"
    assert items["12"].epic == "Bank holiday calendar", "the nearest row one level up"
    assert items["13"].epic == "Payouts on time" and items["20"].epic is None
    assert items["12"].closed and items["12"].estimate == 3 and items["12"].kind == "product backlog item"
    assert items["12"].created_at == datetime(2025, 11, 5, 9, 0, tzinfo=UTC), "day first: 25/11 in the column says"


def test_an_export_that_is_not_azure_devops_says_so_with_its_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "jira.csv", ["Issue key", "Summary"], [["PAY-1", "x"]])
    with pytest.raises(InputError, match=r"jira\.csv:1: no 'ID', 'Title' column: is this an Azure DevOps"):
        list(service.read("azure", path)[1])
    bad = write_csv(tmp_path / "bad.csv", [*FLAT[:3], "Story Points"], [["7", "Task", "Write it", "many"]])
    with pytest.raises(InputError, match=r"bad\.csv:2: Story Points: 'many' is not a number"):
        list(service.read("azure", bad)[1])
    with pytest.raises(InputError, match="is not a date"):
        list(
            service.read("azure", write_csv(tmp_path / "d.csv", ["ID", "Title", "Created Date"], [["1", "t", "soon"]]))[
                1
            ]
        )


def test_the_format_is_registered_by_its_module_alone() -> None:
    assert "azure" in importers.names() and set(importers.names()) == set(importers.registry())
    assert importers.get("azure").read is not None
    with pytest.raises(InputError, match=r"unknown format 'trello'; one of .*azure"):
        importers.get("trello")
    assert service.item_key("azure:4127") == ("azure", "4127")


def test_import_azure_through_the_cli_and_link_by_tag(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "guarantor.yaml").write_text(
        "name: Shop\noutcomes:\n  - {id: payouts-on-time, title: Payouts on time, for_whom: Merchants}\n"
    )
    path = write_csv(
        tmp_path / "flat.csv",
        ["ID", "Title", "State", "Tags", "Created Date"],
        [
            ["1", "Pay merchants", "Closed", "outcome:payouts-on-time", "11/3/2025"],
            ["2", "Tidy", "New", "", "11/14/2025"],
        ],
    )
    r = cli("import", "azure", str(path), "--no-exposure", "-w", str(tmp_path))
    assert r.code == 0 and "2 new" in r.out, r.err
    assert "title ← Title" in r.err
    import json

    balance = json.loads(cli("balance", str(tmp_path), "--json").out)
    assert balance["by_outcome"]["payouts-on-time"]["count"] == 1 and balance["orphans"][0]["item"] == "azure:2"
    assert cli("import", "azure", str(path), "--map", "id=ID", "-w", str(tmp_path)).code == 2, "--map is for csv"


def test_dates_the_export_cannot_order_are_asked_about(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ambiguous.csv", ["ID", "Title", "Created Date"], [["1", "t", "03/04/2025"]])
    with pytest.raises(InputError, match="--day-first"):
        list(service.read("azure", path)[1])
    _, items = service.read("azure", path, order=DateOrder(day_first=True))
    assert next(items).created_at == datetime(2025, 4, 3, tzinfo=UTC)
