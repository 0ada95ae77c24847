"""The OpenAPI document, exercised by schemathesis against a real server on loopback.

Every check runs except ``positive_data_acceptance``: a request can match the schema and still
name a person or outcome that does not exist, which OpenAPI cannot express, so the API rightly
answers 422 with the problem.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from guarantor.settings import Settings
from tests.web_server import prepare, serving


def test_the_api_matches_its_openapi_document_and_never_fails(env: Settings, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = env.model_copy(update={"web_cache_s": 0.0})
    workspace = prepare(tmp_path / "shop", settings, cli)
    token = (workspace.parent / ".tokens").read_text().split("admin=")[1].split()[0]
    st = Path(sys.executable).with_name("st")
    with serving(settings, workspace) as url:
        done = subprocess.run(
            [
                str(st),
                "run",
                f"{url}/api/v1/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                os.environ.get("GUARANTOR_TEST_API_EXAMPLES", "10"),
                "--seed",
                "1",
                "--workers",
                "1",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "27/27" in done.stdout  # every operation was selected and tested


def test_every_response_is_typed(env: Settings, tmp_path: Path) -> None:
    """Each operation's success answers with a named shape (a $ref or a typed array), never an
    untyped object: the document is what a client is generated from."""
    from guarantor.web.app import create_app

    (tmp_path / "guarantor.yaml").write_text("name: Typed\nkey: typed\n")
    app = create_app(env, tmp_path / "guarantor.yaml")
    try:
        document = app.openapi()
    finally:
        app.state.server.close()
    untyped = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            status, answer = next((s, a) for s, a in operation["responses"].items() if s.startswith("2"))
            content = answer.get("content", {})
            if "text/html" in content:  # the report: a file to download
                continue
            schema = content.get("application/json", {}).get("schema", {})
            typed = "$ref" in schema or "$ref" in schema.get("items", {}) or schema.get("items", {}).get("type")
            if not typed:
                untyped.append(f"{method.upper()} {path} {status}: {schema}")
    assert not untyped, "\n".join(untyped)
    assert len([op for ops in document["paths"].values() for op in ops]) == 27
