"""`leerkring privacy export|erase --user`, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.models import Answer, Member
from tests.bot.test_privacy_rights import ANNA_TEXT, BOB_TEXT, seed
from tests.conftest import DatabaseTarget


def invoke(target: DatabaseTarget, *args: str, stdin: str | None = None) -> Result:
    env: dict[str, str | None] = {
        "DATABASE_URL": target.url,
        "LEERKRING_SCHEDULER": "false",
        "SLACK_BOT_TOKEN": None,
        "SLACK_APP_TOKEN": None,
        "MICROSOFT_APP_ID": None,
    }
    return CliRunner().invoke(main, ["privacy", *args], env=env, input=stdin)


def test_export_writes_the_persons_json(
    database_target: DatabaseTarget, database: Database, tmp_path: Path
) -> None:
    seed(database)
    out = tmp_path / "anna.json"
    result = invoke(database_target, "export", "--user", "slack:U111", "--out", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["casussen"][0]["situation"] == ANNA_TEXT
    assert BOB_TEXT not in out.read_text(encoding="utf-8")
    to_stdout = invoke(database_target, "export", "--user", "slack:U111")
    assert json.loads(to_stdout.stdout) == data


def test_erase_asks_first_and_then_removes_the_person(
    database_target: DatabaseTarget, database: Database
) -> None:
    seed(database)
    refused = invoke(database_target, "erase", "--user", "slack:U111", stdin="n\n")
    assert refused.exit_code != 0
    with database.session() as session:
        assert session.scalar(select(Member).where(Member.platform_user_id == "U111"))
    done = invoke(database_target, "erase", "--user", "slack:U111", "--yes")
    assert done.exit_code == 0, done.output
    assert "1 bijdragen" in done.output and "1 casussen kept anonymously" in done.output
    with database.session() as session:
        assert session.scalar(select(Member).where(Member.platform_user_id == "U111")) is None
        assert [a.text for a in session.scalars(select(Answer))] == ["Bobs antwoord"]
    again = invoke(database_target, "erase", "--user", "slack:U111", "--yes")
    assert "nothing is stored" in again.output


def test_a_malformed_user_is_refused(database_target: DatabaseTarget) -> None:
    result = invoke(database_target, "export", "--user", "U111")
    assert result.exit_code == 2 and "platform:user id" in result.output
