"""`leerkring privacy export|erase --user` and `leerkring privacy purges`, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.runtime import Runtime
from handlers.features import build_router
from handlers.privacy.guard import StructuredGuard
from handlers.privacy.retention import months_before, purge_expired
from prompts import load_texts
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


def test_purges_lists_the_latest_purges_with_counts(
    database_target: DatabaseTarget, database: Database
) -> None:
    empty = invoke(database_target, "purges")
    assert empty.exit_code == 0, empty.output
    assert "12 months" in empty.output and "no purge has replaced any texts yet" in empty.output
    seed(database)
    later = datetime.now(UTC) + timedelta(days=400)
    texts = load_texts("nl")
    runtime = Runtime(database, build_router(), texts, StructuredGuard(), clock=lambda: later)
    runtime.call_sync(purge_expired, 12)
    listed = invoke(database_target, "purges")
    assert listed.exit_code == 0, listed.output
    cutoff = months_before(later, 12)
    line = next(x for x in listed.output.splitlines() if x.startswith(f"{later:%Y-%m-%d %H:%M}"))
    assert line.split() == [
        f"{later:%Y-%m-%d}",
        f"{later:%H:%M}",
        f"{cutoff:%Y-%m-%d}",
        "2",
        "2",
        "2",
        "0",
    ]
    assert ANNA_TEXT not in listed.output


def test_prepare_guard_builds_the_name_cache_before_any_server_starts() -> None:
    from handlers.privacy.deduce import cache_file, cache_ready

    before = cache_file().stat().st_mtime if cache_ready() else 0.0
    result = CliRunner().invoke(main, ["privacy", "prepare-guard"])
    assert result.exit_code == 0, result.output
    assert "name cache ready" in result.output
    assert cache_ready() and cache_file().stat().st_mtime >= before
