from __future__ import annotations

import pytest

from bot.settings import DEFAULT_SLACK_API_URL, SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.port == 3000
    assert settings.database_url == "sqlite:///leerkring.db"
    assert settings.timezone == "Europe/Amsterdam"
    assert settings.language == "nl"
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert not settings.slack_enabled


def test_facilitators_are_comma_separated_ids() -> None:
    settings = load_settings({"LEERKRING_FACILITATORS": " U1, U2 ,,U3 "})
    assert settings.facilitators == ("U1", "U2", "U3")


def test_plain_postgres_url_uses_psycopg3() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_socket_mode_needs_an_app_token() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert settings.slack_socket_mode
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-wrong"})


def test_secrets_are_not_shown_in_repr() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-secret-1", "SLACK_SIGNING_SECRET": "shh"})
    assert "xoxb-secret-1" not in repr(settings) and "shh" not in repr(settings)
