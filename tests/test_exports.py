"""Exports as trackers write them: date forms, header variants, and what an import says it read.

The shapes below are written after real exports (Jira Cloud "all fields" and Jira Server CSVs,
Linear's CSV export, spreadsheets saved in Europe and in the US); values are invented.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from guarantor.errors import InputError
from guarantor.inputs.dates import DateOrder, parse
from guarantor.work import service
from guarantor.work.importers.base import Item
from tests.conftest import DATA_DIR, write_csv

AT = datetime(2022, 8, 23, 13, 54, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2022-08-23T13:54:00Z",
        "2022-08-23T13:54:00.000Z",
        "2022-08-23 13:54",
        "2022-08-23T15:54:00+02:00",
        "23/Aug/22 1:54 PM",  # Jira, English
        "23/août/22 13:54",  # Jira, French
        "23/Aug./22 1:54 PM",
        "23/ago/22 13:54",  # Spanish, Italian, Portuguese
        "23/sie/22 13:54",  # Polish
        "23.08.2022 13:54",  # German spreadsheets
        "23/08/2022 13:54",  # day first: 23 says so
        "08/23/2022 1:54 PM",  # month first: 23 says so
        "2022/08/23 13:54",
        "Tue Aug 23 2022 13:54:00 GMT+0000 (Coordinated Universal Time)",  # Linear: Date.toString()
        "Tue Aug 23 2022 15:54:00 GMT+0200 (Central European Summer Time)",
        "Tue, 23 Aug 2022 13:54:00 +0000",  # RFC 2822
        "Aug 23, 2022 1:54 PM",
        "23 Aug 2022 13:54 UTC",
        "1661262840",  # epoch seconds
        "1661262840000",  # epoch milliseconds
    ],
)
def test_every_form_trackers_write_is_the_same_moment(text: str) -> None:
    assert parse(text, DateOrder(), "x.csv:2: Created") == AT


def test_the_order_of_numeric_dates_comes_from_the_whole_column() -> None:
    order = DateOrder().learn(["03/04/2024 10:00", "", "16/02/2017 15:26", "01/12/2019"])
    assert order.day_first is True
    assert parse("03/04/2024 10:00", order, "w") == datetime(2024, 4, 3, 10, 0, tzinfo=UTC)
    order = DateOrder().learn(["03/04/2024", "12/31/2023"])
    assert parse("03/04/2024", order, "w") == datetime(2024, 3, 4, tzinfo=UTC)


def test_an_undecidable_date_asks_rather_than_guesses() -> None:
    order = DateOrder().learn(["03/04/2024", "05/06/2024"])
    with pytest.raises(
        InputError, match=r"x.csv:3: Created: '03/04/2024' can be read day first or month first.*--day-first"
    ):
        parse("03/04/2024", order, "x.csv:3: Created")
    assert parse("03/04/2024", DateOrder(day_first=False), "w") == datetime(2024, 3, 4, tzinfo=UTC)
    with pytest.raises(InputError, match=r"both day first .* and month first"):
        DateOrder().learn(["13/01/2024", "01/13/2024"])


def test_a_given_format_wins_and_a_mismatch_names_the_cell() -> None:
    order = DateOrder(fmt="%d.%m.%Y %H.%M")
    assert parse("23.08.2022 13.54", order, "w") == AT
    with pytest.raises(InputError, match=r"x.csv:9: Resolved: '2022-08-23' does not match --date-format"):
        parse("2022-08-23", order, "x.csv:9: Resolved")


@pytest.mark.parametrize("text", ["yesterday", "32/01/2024", "23/Foo/22 1:54 PM", "2022-13-01", "10:61"])
def test_what_is_no_date_is_refused_with_its_cell(text: str) -> None:
    with pytest.raises(InputError, match=r"x.csv:2: Created: .* --date-format"):
        parse(text, DateOrder(day_first=True), "x.csv:2: Created")


JIRA_CLOUD = [
    "Summary", "Issue key", "Issue id", "Parent", "Parent summary", "Issue Type", "Status", "Status Category",
    "Status Category Changed", "Priority", "Resolution", "Assignee", "Created", "Updated", "Resolved",
    "Components", "Components", "Labels", "Labels", "Sprint", "Custom field (Story point estimate)", "Description",
]  # fmt: skip


def test_jira_cloud_all_fields_reads_components_epic_names_and_done_by_category(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "cloud.csv",
        JIRA_CLOUD,
        [
            ["Pay out on time", "PAY-1", "10001", "10000", "Payouts", "Story", "Aborted", "Done",
             "22/Dec/25 2:38 PM", "High", "", "Ana", "01/Dec/25 9:00 AM", "22/Dec/25 2:38 PM", "",
             "payments", "ledger", "infra", "", "Sprint 4", "3", "Body"],
            ["Ledger export", "PAY-2", "10002", "10000", "Payouts", "Task", "In Review", "In Progress",
             "20/Dec/25 10:00 AM", "", "", "", "02/Dec/25 9:00 AM", "", "", "ledger", "", "", "", "", "", ""],
        ],
    )  # fmt: skip
    columns, items = service.read("jira", path)
    first, second = list(items)
    assert first == Item(
        source="jira",
        external_id="PAY-1",
        title="Pay out on time",
        kind="story",
        body="Body",
        state="Aborted",
        closed=True,  # done by category, whatever the status is called
        created_at=datetime(2025, 12, 1, 9, 0, tzinfo=UTC),
        closed_at=datetime(2025, 12, 22, 14, 38, tzinfo=UTC),  # no Resolved: when its category changed
        labels=["infra"],
        assignee="Ana",
        estimate=3,
        epic="Payouts",  # the parent's name, not its id
        sprint="Sprint 4",
        components=["payments", "ledger"],
        line=2,
    )
    assert not second.closed and second.closed_at is None and second.components == ["ledger"]
    assert columns is not None
    assert columns.read["components"] == ("Components",) and columns.read["epic"][0] == "Parent summary"
    assert columns.read["closed_at"] == ("Resolved", "Status Category Changed")
    assert first.sprint == "Sprint 4" and second.sprint is None
    assert columns.read["sprint"] == ("Sprint",) and "Priority" in columns.unread


def test_jira_server_day_first_dates_and_epic_link(tmp_path: Path) -> None:
    header = ["Summary", "Issue key", "Issue Type", "Status", "Assignee", "Created", "Resolved", "Description",
              "Labels", "Labels", "Component/s", "Sprint", "Sprint", "Custom field (Story Points)",
              "Custom field (Epic Link)", "Outward issue link (Blocks)"]  # fmt: skip
    path = write_csv(
        tmp_path / "server.csv",
        header,
        [
            ["Rotate keys", "OPS-7", "Task", "Closed", "Ben", "16/02/2017 15:26", "03/03/2017 09:00",
             "Yearly rotation", "security", "ops", "security", "OPS Sprint 1", "OPS Sprint 2", "2", "OPS-1", "OPS-9"],
            ["Audit", "OPS-8", "Task", "Open", "", "01/03/2017 10:00", "", "", "", "", "", "", "", "", "", ""],
        ],
    )  # fmt: skip
    columns, items = service.read("jira", path)
    first, second = list(items)
    assert first == Item(
        source="jira",
        external_id="OPS-7",
        title="Rotate keys",
        kind="task",
        body="Yearly rotation",
        state="Closed",
        closed=True,
        created_at=datetime(2017, 2, 16, 15, 26, tzinfo=UTC),
        closed_at=datetime(2017, 3, 3, 9, 0, tzinfo=UTC),
        labels=["security", "ops"],
        assignee="Ben",
        estimate=2,
        epic="OPS-1",  # Server's Epic Link: the key
        sprint="OPS Sprint 2",  # the latest of the repeated Sprint columns
        components=["security"],
        links=["OPS-9"],
        line=2,
    )
    assert second.created_at == datetime(2017, 3, 1, 10, 0, tzinfo=UTC), "01/03 read day first, as 16/02 says"
    assert columns is not None
    assert columns.missing() == ["done"]


def test_an_undecidable_export_names_its_line_and_the_option(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ["Issue key", "Summary", "Created"], [["A-1", "One", "03/04/2024 10:00"]])
    with pytest.raises(InputError, match=r"x.csv:2: Created: '03/04/2024 10:00' can be read.*--day-first"):
        list(service.read("jira", path)[1])
    _, items = service.read("jira", path, order=DateOrder(day_first=True))
    assert next(items).created_at == datetime(2024, 4, 3, 10, 0, tzinfo=UTC)


def test_linear_export_with_javascript_dates(tmp_path: Path) -> None:
    header = ["ID", "Team", "Title", "Description", "Status", "Estimate", "Priority", "Project", "Creator",
              "Assignee", "Labels", "Cycle Name", "Created", "Updated", "Started", "Completed", "Canceled",
              "Parent issue"]  # fmt: skip
    path = write_csv(
        tmp_path / "linear.csv",
        header,
        [
            ["ENG-12", "Platform", "Faster payouts", "", "Done", "2", "High", "Payouts", "Ana", "Ana",
             "backend, payments", "Cycle 3", "Tue Aug 23 2022 13:54:01 GMT+0000 (GMT)",
             "Wed Aug 24 2022 09:00:00 GMT+0000 (GMT)", "Tue Aug 23 2022 15:00:00 GMT+0200 (CEST)",
             "Wed Aug 24 2022 09:00:00 GMT+0000 (GMT)", "", "ENG-10"],
        ],
    )  # fmt: skip
    columns, items = service.read("linear", path)
    item = next(items)
    assert item == Item(
        source="linear",
        external_id="ENG-12",
        title="Faster payouts",
        state="Done",
        closed=True,
        created_at=datetime(2022, 8, 23, 13, 54, 1, tzinfo=UTC),
        started_at=datetime(2022, 8, 23, 13, 0, tzinfo=UTC),
        closed_at=datetime(2022, 8, 24, 9, 0, tzinfo=UTC),
        labels=["backend", "payments"],
        assignee="Ana",
        estimate=2,
        epic="Payouts",
        sprint="Cycle 3",
        components=["Platform"],
        links=["ENG-10"],
        line=2,
    )
    assert item.created_at == datetime(2022, 8, 23, 13, 54, 1, tzinfo=UTC)
    assert item.started_at == datetime(2022, 8, 23, 13, 0, tzinfo=UTC)
    assert item.closed and item.closed_at == datetime(2022, 8, 24, 9, 0, tzinfo=UTC)
    assert item.labels == ["backend", "payments"] and item.epic == "Payouts" and item.components == ["Platform"]
    assert item.sprint == "Cycle 3"
    assert columns is not None and "Creator" in columns.unread and "Priority" in columns.unread


def test_import_says_what_it_read_from_which_column(cli, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "cloud.csv",
        ["Issue key", "Summary", "Status", "Created", "Watchers", "Parent summary"],
        [["PAY-1", "Pay out on time", "Done", "2025-12-01T09:00:00Z", "ana", "Payouts"]],
    )
    r = cli("import", "jira", str(path), "--no-exposure")
    assert r.code == 0, r.err
    assert "epic ← Parent summary" in r.err and "title ← Summary" in r.err
    assert "Not in this export:" in r.err and "components" in r.err
    assert "Columns not read: Watchers." in r.err


def test_items_without_exposure_get_it_later(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(
        tmp_path / "items.csv",
        ["id", "title"],
        [["1", "Write the monthly payout report"], ["2", "Replace the rack fans in the server room"]],
    )
    missing = tmp_path / "no-data"
    monkeypatch.setenv("GUARANTOR_DATA_DIR", str(missing))
    from guarantor.settings import get_settings

    get_settings.cache_clear()
    r = cli("import", "csv", str(path))
    assert r.code == 0 and str(missing) in r.err and "guarantor work classify" in r.err, r.err
    assert cli("work", "classify").code == 6
    monkeypatch.setenv("GUARANTOR_DATA_DIR", str(DATA_DIR))
    get_settings.cache_clear()
    r = cli("import", "csv", str(path))
    assert "0 new" in r.out and "2 items imported earlier without an AI exposure now have one" in r.out, r.out
    assert cli("work", "classify").out.startswith("0 items given")
