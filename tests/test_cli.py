from __future__ import annotations

import re

import pytest

from guarantor.errors import ExitCode
from tests.conftest import ROOT
from tests.web_server import free_port


def test_exit_code_table_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for code in ExitCode:
        assert re.search(rf"^\| {code.value} \| `{code.name}` \|", readme, re.M), code


def test_usage_error_is_exit_2_without_traceback(cli) -> None:
    r = cli("classify")
    assert r.code == 2 and "Traceback" not in r.err + r.out


def test_a_setting_that_is_not_valid_is_a_usage_error_naming_its_variable(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Not an internal error (exit 1, "a bug in Guarantor"), as pydantic's report of it was."""
    from guarantor.settings import get_settings

    monkeypatch.setenv("GUARANTOR_CHECK_WORKERS", "eight")
    monkeypatch.setenv("guarantor_classify_workers", "0")  # names are read in any case
    get_settings.cache_clear()
    r = cli("classify", "-")
    assert r.code == ExitCode.USAGE, r
    assert "GUARANTOR_CHECK_WORKERS='eight': Input should be a valid integer" in r.err
    assert "GUARANTOR_CLASSIFY_WORKERS='0': Input should be greater than or equal to 1" in r.err
    assert "bug" not in r.err


def test_a_setting_set_empty_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    from guarantor.settings import Settings

    monkeypatch.setenv("GUARANTOR_DATA_DIR", "")
    monkeypatch.setenv("GUARANTOR_CHECK_WORKERS", "")
    settings = Settings()
    assert settings.data_dir is None and settings.check_workers == 8
    assert settings.resolved_data_dir == settings.home / "data"  # not the current folder


def test_libpq_spellings_of_a_postgresql_url_name_the_driver_guarantor_installs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from guarantor.settings import Settings

    for given in ("postgres://me:pw@db:5433/g?sslmode=require", "postgresql://me:pw@db:5433/g?sslmode=require"):
        assert (
            Settings(database_url=given).resolved_database_url == "postgresql+psycopg://me:pw@db:5433/g?sslmode=require"
        )
    for kept in ("postgresql+psycopg://me@db/g", "sqlite:///x.db"):
        assert Settings(database_url=kept).resolved_database_url == kept
    assert Settings(home=tmp_path).resolved_database_url == f"sqlite:///{tmp_path / 'guarantor.db'}"


def test_version(cli) -> None:
    r = cli("version")
    assert r.code == 0 and re.match(r"\d+\.\d+\.\d+", r.out)


def test_every_setting_is_documented_in_the_readme() -> None:
    from guarantor.settings import Settings

    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert re.search(rf"^\| `GUARANTOR_{name.upper()}` \|", readme, re.M), name
        assert field.description, name


def test_version_option(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--version")
    assert r.code == 0 and re.fullmatch(r"\d+\.\d+\.\d+\n", r.out)


def test_init_over_an_existing_file_is_a_conflict(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "guarantor.yaml"
    path.write_text("name: Mine\n")
    r = cli("init", str(path), "--from-role", "accountant")
    assert r.code == 15 and "exists already" in r.err and r.out == ""
    assert path.read_text() == "name: Mine\n"


def test_a_port_whose_last_server_just_stopped_is_free() -> None:
    """Its connections linger in TIME_WAIT; uvicorn binds over them, so the check before must too."""
    import socket

    from guarantor.web.cli import _listen

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server side closes first: its end stays in TIME_WAIT
    client.close()
    listener.close()
    _listen("127.0.0.1", port).close()


def test_serve_without_the_data_creates_no_account(cli, env, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The one-time password was shown, and used up, by a server that then failed for want of data."""
    from guarantor.accounts import repository
    from guarantor.db.session import Database
    from guarantor.settings import get_settings

    monkeypatch.setenv("GUARANTOR_DATA_DIR", str(tmp_path))  # holds no O*NET file
    monkeypatch.setenv("GUARANTOR_CACHE_DIR", str(tmp_path / "cache"))  # no model built yet either
    get_settings.cache_clear()
    r = cli("serve", str(ROOT / "examples" / "guarantees"), "--port", str(free_port()))
    assert r.code == 6 and "password" not in r.err, r.err
    db = Database(env.resolved_database_url)
    with db.transaction() as session:
        assert repository.count_users(session) == 0
    db.close()


def test_serve_on_a_busy_port_creates_no_account(cli, env) -> None:  # type: ignore[no-untyped-def]
    import socket

    from guarantor.accounts import repository
    from guarantor.db.session import Database

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("serve", str(ROOT / "examples" / "guarantees"), "--port", str(port))
    assert r.code == 15 and "Cannot listen" in r.err and "password" not in r.err
    db = Database(env.resolved_database_url)
    with db.transaction() as session:
        assert repository.count_users(session) == 0
    db.close()


def test_a_new_password_ends_the_users_sessions_and_revokes_their_tokens(cli, env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io
    from datetime import timedelta

    from guarantor.accounts import service
    from guarantor.clock import utcnow
    from guarantor.db.session import Database

    db = Database(env.resolved_database_url)
    with db.transaction() as session:
        user = service.add_user(session, "maria", "first password", utcnow())
        secret, _ = service.start_session(session, user, utcnow(), timedelta(hours=1))
        tokens = [service.create_token(session, "maria", f"t{n}", utcnow())[0] for n in range(2)]
    monkeypatch.setattr("sys.stdin", io.StringIO("second password\n"))
    changed = cli("user", "passwd", "maria", "--password-stdin")
    assert changed.code == 0 and "2 API tokens of theirs revoked" in changed.out, changed.out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli("user", "passwd", "maria", "--password-stdin").code == 3
    assert cli("user", "passwd", "nobody", "--password-stdin").code == 4
    with db.transaction() as session:
        assert service.from_session(session, secret, utcnow()) is None
        assert all(service.from_token(session, token, utcnow()) is None for token in tokens)
        assert service.authenticate(session, "maria", "second password").username == "maria"
    db.close()


def test_tables_fit_120_columns_one_row_a_line(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Wide enough for a table: texts cut with … so each row is one line; --wide wraps them."""
    from guarantor.console import out

    assert out.width == 80, "captured output renders at 80 columns"
    monkeypatch.setattr(out, "_width", 120)
    r = cli("role", "registered nurse")
    table = [line for line in r.out.splitlines() if line.startswith("│")]
    assert len(table) == 27 and all(len(line) <= 120 for line in r.out.splitlines() if line[:1] in "│┃┏┡└")
    assert any("…" in line for line in table), "long texts are cut, not wrapped"
    wide = cli("role", "registered nurse", "--wide")
    assert len([line for line in wide.out.splitlines() if line.startswith("│")]) > 27


def test_every_failure_has_its_code_and_prints_nothing_on_stdout(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One failure of each kind, command by command: the documented exit code, the message on
    stderr, and stdout left empty so a script reading it gets nothing half-made."""
    import io
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(ROOT / "examples" / "software-engineer", ws)
    (tmp_path / "bad.yaml").write_text("name: [\n")
    (tmp_path / "tasks.csv").write_text('id,text\n1,"unclosed\n')
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    cases = [
        (("validate", str(tmp_path / "missing")), 4),
        (("validate", str(tmp_path / "bad.yaml")), 3),
        (("check", str(ws), "-w", str(tmp_path)), 2),
        (("analyze", str(tmp_path / "bad.yaml")), 3),
        (("history", "nowhere", "-w", str(ws)), 4),
        (("record", "nowhere", "4", "-w", str(ws)), 4),
        (("outcome", "suggest-indicator", "nowhere", "-w", str(ws)), 4),
        (("role", "no such occupation at all xq"), 4),
        (("role", "nurse specialist"), 5),
        (("classify", str(tmp_path / "missing.csv")), 4),
        (("classify", str(tmp_path / "tasks.csv")), 3),
        (("import", "jira", str(tmp_path / "missing.csv")), 4),
        (("import", "trello", str(tmp_path / "tasks.csv")), 3),
        (("link", "accept", "not-an-item", "payouts-on-time", "-w", str(ws)), 3),
        (("init", str(ws / "guarantor.yaml")), 15),
        (("serve", str(ws), "--host", "0.0.0.0"), 14),
        (("user", "add", "maria", "--password-stdin"), 3),
        (("token", "revoke", "999"), 4),
        (("classify",), 2),
    ]
    for args, code in cases:
        r = cli(*args)
        assert r.code == code, (args, r.code, r.err)
        assert r.out == "", (args, r.out)
        assert r.err.strip() and "Traceback" not in r.err and "internal error" not in r.err, (args, r.err)


def test_every_importer_and_source_type_is_documented_in_the_readme() -> None:
    """The registries are the list: a format or a source added as one module shows up here until the
    README names it (CONTRIBUTING.md says where)."""
    from guarantor.guarantees.sources import REGISTRY
    from guarantor.work import importers

    readme = (ROOT / "README.md").read_text()
    for name in importers.registry():
        assert re.search(rf"^guarantor import {name} ", readme, re.M), name
    for name in REGISTRY:
        assert f"type: {name}" in readme, name
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    for path in re.findall(r"`((?:guarantor|tests)/[\w/.]+\.(?:py|md|json))`", contributing):
        assert "NAME" in path or (ROOT / path).exists(), path


def test_an_untranslated_os_error_gets_the_exit_code_of_what_it_is() -> None:
    import errno
    import socket

    from guarantor.errors import from_os_error

    missing = from_os_error(FileNotFoundError(errno.ENOENT, "No such file or directory", "ws/tasks.csv"))
    assert missing.exit_code == ExitCode.NOT_FOUND and missing.message.endswith("ws/tasks.csv")
    assert from_os_error(ConnectionRefusedError(errno.ECONNREFUSED, "refused")).exit_code == ExitCode.NETWORK
    assert from_os_error(socket.gaierror(-2, "Name or service not known")).exit_code == ExitCode.NETWORK
    assert from_os_error(PermissionError(errno.EACCES, "Permission denied", "/root/x")).exit_code == ExitCode.INPUT
    assert from_os_error(OSError(errno.ENOSPC, "No space left on device")).http_status == 422


def test_the_readme_performance_table_is_the_published_figures() -> None:
    """Written by bench/publish.py from bench/published.jsonl: a figure typed into the README by hand,
    or published without rewriting the table, fails here."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import publish
    finally:
        sys.path.remove(str(ROOT / "bench"))
    readme = (ROOT / "README.md").read_text()
    written = readme[readme.index(publish.BEGIN) + len(publish.BEGIN) : readme.index(publish.END)]
    assert written.strip() == publish.table().strip(), "run `python bench/publish.py`"
    assert "not measured" not in written, "every row's benchmark has a published run with its figures"


def test_the_command_list_says_what_each_command_says_of_itself() -> None:
    """`guarantor --help` lists the commands from a table, without importing them: each line must
    be the first paragraph of the command's own help, and every command must be listed once."""
    import typer

    from guarantor.cli import ENTRIES, PANELS, load

    assert len(ENTRIES) == sum(len(entries) for _, entries in PANELS)
    for name, (_, entry) in ENTRIES.items():
        command = load(name)
        assert command.name == name
        first = (command.help or "").split("\n\n")[0]
        assert " ".join(entry.summary.split()) == " ".join(first.split()), name
        assert isinstance(command, typer.core.TyperGroup) == entry.target.endswith("app"), name


def test_help_lists_every_command_and_imports_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    probe = (
        "import sys\nfrom guarantor.cli import run\ncode = run(['--help'])\n"
        "print(code, sorted(m for m in sys.modules if m.startswith('guarantor.') and m.count('.') > 1))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
    *shown, last = done.stdout.strip().splitlines()
    assert last == "0 []", last  # no command's module: guarantor.work.cli, guarantor.web.cli, …
    from guarantor.cli import ENTRIES

    listed = {line.split()[0] for line in shown if line.startswith("  ") and not line.startswith("   ")}
    assert set(ENTRIES) <= listed


def test_a_command_runs_and_helps_as_before(cli) -> None:  # type: ignore[no-untyped-def]
    listed = cli("link", "--help")
    assert listed.code == 0 and "accept" in listed.out and "suggest" in listed.out
    assert cli("nosuch").code == ExitCode.USAGE
    assert "Usage: guarantor" in cli().out


def test_every_kind_of_error_survives_pickling_with_what_a_person_is_shown() -> None:
    """An error met in the process that reads a large export is raised again in the one that
    writes it, so it crosses between them pickled: its class (hence exit code), message, hint and
    details must come out as they went in, whatever arguments its class's ``__init__`` takes."""
    import pickle

    from guarantor import errors

    made = [
        errors.InputError("items.csv:7: created_at: '31/31/2025' is not a date", hint="give --date-format"),
        errors.ValidationFailed([errors.Problem("guarantor.yaml", 3, 5, "outcomes", "is required")]),
        errors.Ambiguous("2 roles match 'nurse'", ["Registered Nurses", "Nurse Practitioners"]),
        errors.TooManyAttempts("too many logins", retry_after=30),
        errors.TooLarge("the body is over 1 MiB"),
    ]
    for error in made:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and back.exit_code == error.exit_code
        assert (str(back), back.message, back.hint, back.__dict__) == (
            str(error),
            error.message,
            error.hint,
            error.__dict__,
        )
