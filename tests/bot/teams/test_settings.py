"""Teams settings: off by default, emulator mode only on loopback, app types checked at start."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

APP_ID = "6f1c2b3a-1111-4222-8333-944455556666"
TENANT = "0a1b2c3d-aaaa-4bbb-8ccc-ddddeeeeffff"


def test_teams_is_off_by_default_and_the_host_is_kept() -> None:
    settings = load_settings({"LEERKRING_HOST": "0.0.0.0"})
    assert not settings.teams_enabled
    assert settings.bind_host == "0.0.0.0"


def test_an_app_id_with_a_password_turns_teams_on_multi_tenant() -> None:
    settings = load_settings({"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "s3cret"})
    assert settings.teams_enabled
    assert settings.microsoft_app_type == "MultiTenant"
    assert settings.bind_host == "0.0.0.0"
    assert "s3cret" not in repr(settings)


def test_emulator_mode_forces_loopback_whatever_the_host_says() -> None:
    settings = load_settings({"LEERKRING_TEAMS_EMULATOR": "true", "LEERKRING_HOST": "0.0.0.0"})
    assert settings.teams_enabled and settings.microsoft_app_id is None
    assert settings.bind_host == "127.0.0.1"


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"MICROSOFT_APP_ID": APP_ID}, "MICROSOFT_APP_PASSWORD"),
        (
            {
                "MICROSOFT_APP_ID": APP_ID,
                "MICROSOFT_APP_TYPE": "SingleTenant",
                "MICROSOFT_APP_PASSWORD": "x",
            },
            "MICROSOFT_APP_TENANT_ID",
        ),
        (
            {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_TYPE": "UserAssignedMSI"},
            "MICROSOFT_APP_TENANT_ID",
        ),
        ({"MICROSOFT_APP_ID": "not-a-guid", "MICROSOFT_APP_PASSWORD": "x"}, "MICROSOFT_APP_ID"),
        ({"MICROSOFT_APP_PASSWORD": "x"}, "MICROSOFT_APP_ID"),
        (
            {
                "MICROSOFT_APP_ID": APP_ID,
                "MICROSOFT_APP_TYPE": "Tenantless",
                "MICROSOFT_APP_PASSWORD": "x",
            },
            "MICROSOFT_APP_TYPE",
        ),
        (
            {
                "MICROSOFT_APP_ID": APP_ID,
                "MICROSOFT_APP_PASSWORD": "x",
                "LEERKRING_TEAMS_EMULATOR": "1",
            },
            "LEERKRING_TEAMS_EMULATOR",
        ),
        (
            {"MICROSOFT_OPENID_METADATA_URL": "http://keys.example.org/meta"},
            "MICROSOFT_OPENID_METADATA_URL",
        ),
    ],
)
def test_inconsistent_teams_settings_fail_with_one_line_naming_the_variable(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    message = str(error.value)
    assert message.startswith(f"{variable}:")
    assert "\n" not in message


def test_single_tenant_and_managed_identity_are_accepted_when_complete() -> None:
    single = load_settings(
        {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_PASSWORD": "x",
            "MICROSOFT_APP_TYPE": "singletenant",
            "MICROSOFT_APP_TENANT_ID": TENANT,
        }
    )
    assert single.microsoft_app_type == "SingleTenant"
    msi = load_settings(
        {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_TYPE": "UserAssignedMSI",
            "MICROSOFT_APP_TENANT_ID": TENANT,
        }
    )
    assert msi.microsoft_app_password is None and msi.teams_enabled


def test_metadata_url_may_be_loopback_http_for_tests() -> None:
    settings = load_settings({"MICROSOFT_OPENID_METADATA_URL": "http://127.0.0.1:5000/meta"})
    assert settings.microsoft_openid_metadata_url == "http://127.0.0.1:5000/meta"
