from __future__ import annotations

import re

from guarantor.errors import ExitCode
from tests.conftest import ROOT


def test_exit_code_table_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for code in ExitCode:
        assert re.search(rf"^\| {code.value} \| `{code.name}` \|", readme, re.M), code


def test_usage_error_is_exit_2_without_traceback(cli) -> None:
    r = cli("classify")
    assert r.code == 2 and "Traceback" not in r.err + r.out


def test_version(cli) -> None:
    r = cli("version")
    assert r.code == 0 and re.match(r"\d+\.\d+\.\d+", r.out)


def test_every_setting_is_documented_in_the_readme() -> None:
    from guarantor.settings import Settings

    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert re.search(rf"^\| `GUARANTOR_{name.upper()}` \|", readme, re.M), name
        assert field.description, name
