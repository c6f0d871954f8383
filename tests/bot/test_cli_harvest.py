"""`leerkring oogst`: the same report as /oogsten, in every format, logged as "cli"."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from handlers.features import build_router
from handlers.harvest.periods import parse_period
from handlers.harvest.render import harvest_from_json
from handlers.harvest.report import HarvestOptions, collect_harvest
from storage.db import Database
from storage.models import HarvestLog
from tests.conftest import DatabaseTarget
from tests.support.harvest_seed import seed_story

RANGE = ["--since", "2026-09-04", "--until", "2026-10-15"]


def invoke(target: DatabaseTarget, *args: str) -> object:
    env: dict[str, str | None] = {
        "DATABASE_URL": target.url,
        "LEERKRING_SCHEDULER": "false",
        "SLACK_BOT_TOKEN": None,  # unset: no platform is needed for a report
        "SLACK_APP_TOKEN": None,
        "MICROSOFT_APP_ID": None,
    }
    return CliRunner().invoke(main, ["oogst", *args], env=env, catch_exceptions=False)


def test_cli_writes_the_same_harvest_in_every_format(
    database_target: DatabaseTarget, database: Database, tmp_path: Path
) -> None:
    seed_story(database)
    out = tmp_path / "oogst.html"
    result = invoke(database_target, *RANGE, "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    page = out.read_text(encoding="utf-8")
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    assert any(
        (img.get("src") or "").startswith("data:image/png;base64,") for img in root.iter("img")
    )
    assert "Moeder met huurachterstand wil geen hulp" in page

    result = invoke(database_target, *RANGE, "--format", "json")
    from_cli = harvest_from_json(result.output)  # type: ignore[attr-defined]
    with database.session() as session:
        direct = collect_harvest(
            session,
            parse_period("2026-09-04..2026-10-15", datetime.now(UTC)),
            channel_id=None,
            channel_label=None,
            now=from_cli.generated_at,
            options=HarvestOptions(registry=build_router().registry.harvest_sections),
        )
    assert from_cli == replace(direct, generated_at=from_cli.generated_at)
    assert from_cli.casus.brought_in == 4

    result = invoke(database_target, *RANGE, "--channel", "jeugd", "--format", "md")
    assert "Kanaal #jeugd" in result.output  # type: ignore[attr-defined]
    result = invoke(database_target, "--period", "dit kwartaal", "--format", "csv")
    assert result.output.startswith("section,id,date,title")  # type: ignore[attr-defined]
    with database.session() as session:
        logs = session.scalars(select(HarvestLog).order_by(HarvestLog.id)).all()
        assert [(lg.requested_by, lg.output, lg.channel_ref) for lg in logs] == [
            ("cli", "html", None),
            ("cli", "json", None),
            ("cli", "md", "slack:C2"),
            ("cli", "csv", None),
        ]


def test_cli_explains_a_bad_period_and_an_unknown_channel(
    database_target: DatabaseTarget, database: Database
) -> None:
    result = invoke(database_target, "--period", "ooit")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "afgelopen 6 weken" in result.output  # type: ignore[attr-defined]
    result = invoke(database_target, "--channel", "nergens")
    assert result.exit_code == 2 and "nergens" in result.output  # type: ignore[attr-defined]
    with database.session() as session:
        assert session.scalars(select(HarvestLog)).all() == []
