"""Privacy settings: the guard level, the wait, and the HMAC secret."""

from __future__ import annotations

import pytest

from bot.services import make_guard
from bot.settings import Settings, SettingsError, load_settings
from handlers.privacy.deduce import DeduceGuard
from handlers.privacy.guard import StructuredGuard


def test_strict_is_the_default_and_basic_is_the_structured_guard_alone() -> None:
    strict = load_settings({"LEERKRING_PRIVACY_GUARD": "strict"})
    # (tests/conftest.py sets basic in the environment, so read the declared default)
    assert Settings.model_fields["privacy_guard"].default == "strict"
    guard = make_guard(strict)
    assert isinstance(guard, DeduceGuard) and not guard.ready  # loads only when started
    assert type(make_guard(load_settings({"LEERKRING_PRIVACY_GUARD": "basic"}))) is StructuredGuard


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LEERKRING_PRIVACY_GUARD", "paranoid"),
        ("LEERKRING_PRIVACY_WAIT_SECONDS", "-1"),
        ("LEERKRING_HMAC_SECRET", "short"),
    ],
)
def test_malformed_privacy_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({variable: value})
    assert str(error.value).startswith(f"{variable}:")


def test_the_hmac_secret_is_never_shown() -> None:
    settings = load_settings({"LEERKRING_HMAC_SECRET": "a-long-enough-secret-value"})
    assert settings.hmac_secret is not None
    assert "a-long-enough" not in repr(settings)
