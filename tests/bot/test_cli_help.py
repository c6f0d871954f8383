"""The command line explains itself: every option of every subcommand has a description,
``--version`` answers, and ``serve --help`` says where Slack and Teams connect and where the
settings are documented."""

from __future__ import annotations

from importlib.metadata import version

import click
from click.testing import CliRunner

from bot.cli import main


def walk(command: click.Command, path: tuple[str, ...] = ("leerkring",)) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += walk(sub, (*path, name))
    return found


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_every_option_of_every_command_has_a_description() -> None:
    missing = []
    paths = walk(main)
    assert len(paths) > 10  # the subcommands are registered, schedule's and oogst's too
    for path in paths:
        command = command_at(path)
        assert command.help, f"{' '.join(path)} has no description"
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert not missing, f"options without help: {missing}"


def test_every_help_page_renders() -> None:
    runner = CliRunner()
    for path in walk(main):
        result = runner.invoke(main, [*path[1:], "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"leerkring {version('leerkring')}"


def test_serve_help_names_both_endpoints_the_port_and_the_settings() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for expected in (
        "POST /slack/events",
        "POST /api/messages",
        "GET /healthz",
        "PORT",
        "3000",
        "LEERKRING_METRICS_PORT",
        "docs/operations.md",
    ):
        assert expected in text, expected
