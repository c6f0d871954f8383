"""One validated settings object, loaded from the environment once at start.

Everything else receives the parts it needs through its constructor; no other module reads
``os.environ``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    port: int = Field(default=3000, ge=1, le=65535, alias="PORT")
    host: str = Field(default="0.0.0.0", alias="LEERKRING_HOST")
    database_url: str = Field(default="sqlite:///leerkring.db", alias="DATABASE_URL")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, alias="SLACK_API_URL")

    facilitators: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="LEERKRING_FACILITATORS"
    )
    timezone: str = Field(default="Europe/Amsterdam", alias="LEERKRING_TIMEZONE")
    language: Literal["nl", "en"] = Field(default="nl", alias="LEERKRING_LANGUAGE")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="LEERKRING_LOG_LEVEL"
    )

    @field_validator("facilitators", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Amsterdam") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "sqlite+pysqlite:", "postgresql")):
            raise ValueError("use sqlite:///file.db or postgresql+psycopg://user@host/db")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver we ship; the bare scheme would pick psycopg2.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL, e.g. https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def slack_socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check_slack(self) -> None:
        """Slack is either off entirely or configured consistently."""
        if self.slack_bot_token is None:
            if self.slack_signing_secret or self.slack_app_token:
                raise SettingsError(
                    "SLACK_BOT_TOKEN: missing (SLACK_SIGNING_SECRET/SLACK_APP_TOKEN are set)"
                )
            return
        if not self.slack_bot_token.get_secret_value().startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN: must be a bot token starting with xoxb-")
        if self.slack_app_token is not None:
            if not self.slack_app_token.get_secret_value().startswith("xapp-"):
                raise SettingsError("SLACK_APP_TOKEN: must be an app-level token (xapp-...)")
        elif self.slack_signing_secret is None:
            raise SettingsError(
                "SLACK_SIGNING_SECRET: missing (needed for HTTP mode without SLACK_APP_TOKEN)"
            )


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Load and validate; raise SettingsError with one line naming the variable."""
    try:
        settings = Settings(**environ) if environ is not None else Settings()  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        field = Settings.model_fields.get(name)
        variable = field.alias if field is not None and field.alias else name
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message}") from None
    settings.check_slack()
    return settings
