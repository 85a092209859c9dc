"""`dossier keys create|list|revoke`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(
    session_factory: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The CLI on the same (emptied) database as `client`."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_keys_lifecycle(cli_env: None, client: TestClient) -> None:
    created = runner.invoke(
        cli,
        [
            "keys",
            "create",
            "--name",
            "newsroom",
            "--scope",
            "content:write",
            "--scope",
            "content:preview",
        ],
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("dsk_")
    auth = {"Authorization": f"Bearer {secret}"}
    assert (
        client.post("/api/v1/topics", json={"name": "Kidnapping"}, headers=auth).status_code == 201
    )

    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith("newsroom"))
    assert "content:write content:preview" in line
    assert secret not in listed.output  # never the secret, only its prefix
    assert secret.split("_")[1] in line
    assert line.rstrip().endswith("-")  # not revoked
    assert "UTC" in line.split("content:preview", 1)[1]  # created and last used

    revoked = runner.invoke(cli, ["keys", "revoke", "newsroom"])
    assert revoked.exit_code == 0, revoked.output
    assert client.post("/api/v1/topics", json={"name": "Israel"}, headers=auth).status_code == 401
    line = next(
        line
        for line in runner.invoke(cli, ["keys", "list"]).output.splitlines()
        if line.startswith("newsroom")
    )
    assert not line.rstrip().endswith("-")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--name", "x", "--scope", "superuser"], "Scopes must be among"),
        (["keys", "revoke", "nobody"], "No key named 'nobody'"),
        (["keys", "create", "--name", "tab\there", "--scope", "admin"], "printable characters"),
    ],
)
def test_keys_errors(cli_env: None, args: list[str], message: str) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.output


def test_duplicate_key_name(cli_env: None) -> None:
    args = ["keys", "create", "--name", "dup", "--scope", "admin"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_a_key_is_revoked_by_the_name_it_was_created_with(cli_env: None) -> None:
    """`create` trims the name; `revoke` trims it the same way. A second revocation says
    since when the key has been revoked."""
    assert (
        runner.invoke(cli, ["keys", "create", "--name", " spaced ", "--scope", "admin"]).exit_code
        == 0
    )
    first = runner.invoke(cli, ["keys", "revoke", " spaced "])
    assert first.exit_code == 0, first.output
    assert "Revoked key 'spaced' (since " in first.output
    again = runner.invoke(cli, ["keys", "revoke", "spaced"])
    assert again.exit_code == 0
    assert again.output.split("since ")[1] == first.output.split("since ")[1]
