"""The files around the code: the Slack manifest matches the handlers, the README's two
commands are the ones CI and the Dockerfile use."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from bot.settings import Settings
from handlers.features import build_router

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- commands -->\s*```(?:bash|sh)\n(.*?)```", readme, re.DOTALL)
    assert block, "README needs a ```bash block right after <!-- commands -->"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    run, test = commands
    assert run.endswith("leerkring serve")
    assert "pytest" in test
    assert ".venv/bin/hadolint Dockerfile" in test  # the Dockerfile is linted wherever tests run
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()


def test_dockerfile_installs_like_the_readme_and_runs_safely() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    run = readme_commands()[0]
    assert "python3 -m venv" in run and "pip install ." in run
    assert re.search(
        r"python3 -m venv /opt/leerkring && /opt/leerkring/bin/pip install .*\.", dockerfile
    )
    assert dockerfile.count("FROM ") >= 2  # multi-stage
    # Numeric, so that "not root" holds without the image's /etc/passwd (runAsNonRoot).
    user = re.findall(r"^USER (\d+)(?::(\d+))?$", dockerfile, re.MULTILINE)
    assert user and all(int(part) != 0 for part in user[-1] if part)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    for package in packages:
        name = package.rstrip("*")
        assert f"COPY {name} ./{name}" in dockerfile, f"Dockerfile does not copy {name}/"


def test_manifest_matches_what_the_code_handles() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    router = build_router()
    commands = [c["command"].lstrip("/") for c in manifest["features"]["slash_commands"]]
    assert set(commands) <= set(router.commands)
    assert "casus" in commands
    for command in manifest["features"]["slash_commands"]:
        assert command["url"].endswith("/slack/events")
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups", "member_joined_channel"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "channels:history", "groups:history", "im:write"} <= scopes
    assert "socket_mode_enabled" in settings


def test_dockerignore_keeps_environments_databases_exports_and_secrets_out() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".git", ".venv", "**/__pycache__", "**/*.db", "**/*.db-wal", "**/oogst"):
        assert pattern in ignored, pattern
    assert "**/.env" in ignored  # secrets never reach a build context or an image layer
    for needed in ("bot", "handlers", "prompts", "storage", "pyproject.toml", "README.md"):
        assert not any(needed == p or needed.startswith(p + "/") for p in ignored), needed


def test_compose_gives_the_strict_guard_room_and_keeps_metrics_on_loopback() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    leerkring = compose["services"]["leerkring"]
    limit = leerkring["mem_limit"]
    # The server (~105 MB) and the strict guard's worker (~180 MB) with room to spare.
    assert limit.endswith("g") and float(limit[:-1]) >= 1
    published = [str(p) for p in leerkring["ports"]]
    metrics = [p for p in published if p.endswith(":9464")]
    assert metrics == ["127.0.0.1:9464:9464"]


def operations_settings_table() -> dict[str, list[str]]:
    """The rows of the one settings table in docs/operations.md, by variable."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        match = re.match(r"\| `([A-Z_]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_every_setting_is_in_the_operations_table_with_its_default() -> None:
    rows = operations_settings_table()
    variables = {field.alias or name: field for name, field in Settings.model_fields.items()}
    assert set(rows) == set(variables), set(rows) ^ set(variables)
    for variable, field in variables.items():
        default, limits, meaning = rows[variable]
        assert limits and meaning, variable
        if field.default is None:
            assert default in {"–", "Microsoft's"}, variable
        elif isinstance(field.default, bool):
            assert default == f"`{str(field.default).lower()}`", variable
        elif isinstance(field.default, tuple):
            assert default == "–", variable
        else:
            value = field.default
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            assert default == f"`{shown}`", (variable, default, shown)
        # Every bound the settings enforce is stated.
        for bound in field.metadata:
            for attribute in ("ge", "gt", "le", "lt"):
                limit = getattr(bound, attribute, None)
                if limit is not None and attribute in ("le", "lt"):
                    assert f"{limit:g}" in limits or f"{limit:,}" in limits, (variable, limit)
