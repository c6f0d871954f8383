"""/help from one source: every command the router knows, in both languages, on every
platform, grouped for members and facilitators; the Slack manifest and the Teams menu list the
same commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.teams.package import manifest as teams_manifest
from handlers.core.help import HELP_COMMANDS, help_entries, help_text
from handlers.features import build_router
from prompts import LANGUAGES, load_texts

ROOT = Path(__file__).resolve().parents[3]
WRITTEN = {"slack": "/{word}", "terminal": "/{word}", "teams": "{word}"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("platform", sorted(WRITTEN))
def test_every_registered_command_is_in_help(language: str, platform: str) -> None:
    texts = load_texts(language)
    shown = help_text(texts, platform).plain()
    commands = [c for c in build_router().commands if c not in HELP_COMMANDS]
    assert set(commands) == set(help_entries(texts)), "one help entry per command"
    for command in commands:
        assert f"{WRITTEN[platform].format(word=command)} " in shown, (language, command)
    help_word = {"slack": "/leerkring", "terminal": "/help", "teams": "help"}[platform]
    assert help_word in shown
    assert "{" not in shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_is_grouped_for_members_and_for_facilitators(language: str) -> None:
    texts = load_texts(language)
    shown = help_text(texts, "slack").plain()
    members_title = texts.get("help.members").strip("*")
    facilitators_title = texts.get("help.facilitators").strip("*")
    members, _, facilitators = shown.partition(facilitators_title)
    assert members_title in members
    for word, entry in help_entries(texts).items():
        if entry["audience"] == "facilitators":
            assert f"/{word} " in facilitators and f"/{word} " not in members, word
        else:
            assert entry["audience"] == "members"
            assert f"/{word} " in members, word
            if "facilitators" in entry:  # a part for facilitators too (starting, planning)
                assert f"/{word} " in facilitators, word


def test_the_slack_manifest_lists_the_commands_of_help() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    listed = {c["command"].lstrip("/") for c in manifest["features"]["slash_commands"]}
    assert listed == set(help_entries(load_texts("nl"))) | {"leerkring"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_teams_menu_lists_the_commands_of_help(language: str) -> None:
    texts = load_texts(language)
    app = teams_manifest("00000000-0000-0000-0000-000000000000", language=language)
    (command_list,) = app["bots"][0]["commandLists"]
    menu = {c["title"]: c["description"] for c in command_list["commands"]}
    assert len(menu) <= 10  # Teams shows at most ten commands in a list
    entries = help_entries(texts)
    assert set(menu) == set(entries) | {"help"}
    for word, entry in entries.items():
        assert menu[word] == entry["menu"]
