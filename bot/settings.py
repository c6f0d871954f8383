"""One validated settings object, loaded from the environment once at start.

Everything else receives the parts it needs through its constructor; no other module reads
``os.environ``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LOOPBACK_HTTP = re.compile(r"http://(127\.0\.0\.1|localhost)(:\d+)?/")


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

    microsoft_app_id: str | None = Field(default=None, alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(default=None, alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(default=None, alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        default="MultiTenant", alias="MICROSOFT_APP_TYPE"
    )
    teams_emulator: bool = Field(default=False, alias="LEERKRING_TEAMS_EMULATOR")
    # Where Bot Framework publishes its token signing keys; only for sovereign clouds and tests.
    microsoft_openid_metadata_url: str | None = Field(
        default=None, alias="MICROSOFT_OPENID_METADATA_URL"
    )

    # Slow clients hold sockets: a request's headers must arrive within this many seconds of
    # the connection opening (or of the previous response), and its body within the other.
    header_timeout_seconds: float = Field(
        default=10, ge=0.1, le=300, alias="LEERKRING_HEADER_TIMEOUT_SECONDS"
    )
    body_timeout_seconds: float = Field(
        default=15, ge=0.1, le=300, alias="LEERKRING_BODY_TIMEOUT_SECONDS"
    )

    facilitators: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="LEERKRING_FACILITATORS"
    )
    timezone: str = Field(default="Europe/Amsterdam", alias="LEERKRING_TIMEZONE")
    language: Literal["nl", "en"] = Field(default="nl", alias="LEERKRING_LANGUAGE")
    scheduler: bool = Field(default=True, alias="LEERKRING_SCHEDULER")
    schedule_grace_minutes: int = Field(
        default=60, ge=0, le=7 * 24 * 60, alias="LEERKRING_SCHEDULE_GRACE_MINUTES"
    )
    casus_followup_weeks: int = Field(
        default=4, ge=0, le=52, alias="LEERKRING_CASUS_FOLLOWUP_WEEKS"
    )
    # A step for tomorrow named under a praktijkvoorbeeld is followed up after this (0: never).
    praktijk_followup_weeks: int = Field(
        default=4, ge=0, le=52, alias="LEERKRING_PRAKTIJK_FOLLOWUP_WEEKS"
    )
    tick_seconds: float = Field(default=15, gt=0, le=300, alias="LEERKRING_TICK_SECONDS")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="LEERKRING_LOG_LEVEL"
    )
    # text: one readable line per record; json: one JSON object per line, for log shippers.
    log_format: Literal["text", "json"] = Field(default="text", alias="LEERKRING_LOG_FORMAT")
    # Prometheus metrics at GET /metrics on a port of their own (0: off), loopback by default.
    metrics_port: int = Field(default=9464, ge=0, le=65535, alias="LEERKRING_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", alias="LEERKRING_METRICS_HOST")
    # strict: names, places and institutions too (deduce, about 1.1 GB in a worker process);
    # basic: the structured guard alone, for small machines.
    privacy_guard: Literal["strict", "basic"] = Field(
        default="strict", alias="LEERKRING_PRIVACY_GUARD"
    )
    # Texts older than this are replaced by the scheduled purge (0: keep them).
    retention_months: int = Field(default=12, ge=0, le=120, alias="LEERKRING_RETENTION_MONTHS")
    # Key for the HMAC that links an anonymous casus to its inbrenger (docs/privacy.md).
    hmac_secret: SecretStr | None = Field(default=None, alias="LEERKRING_HMAC_SECRET")
    # Bearer token for GET /status (schema revision, modes, guard state); unset: no /status.
    status_token: SecretStr | None = Field(default=None, alias="LEERKRING_STATUS_TOKEN")
    # How long a submission waits for a guard that is still loading before it is refused.
    privacy_wait_seconds: float = Field(
        default=2.0, ge=0, le=60, alias="LEERKRING_PRIVACY_WAIT_SECONDS"
    )

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("facilitators", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("hmac_secret", "status_token")
    @classmethod
    def _long_enough_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters, e.g. `openssl rand -hex 32`")
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

    @field_validator("microsoft_app_id", "microsoft_app_tenant_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("microsoft_app_id")
    @classmethod
    def _app_id_is_a_guid(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.fullmatch(value.strip()):
            raise ValueError("must be the app registration's id (a GUID)")
        return value.strip() if value else value

    @field_validator("microsoft_app_type", mode="before")
    @classmethod
    def _app_type_any_case(cls, value: object) -> object:
        if isinstance(value, str):
            for known in ("MultiTenant", "SingleTenant", "UserAssignedMSI"):
                if value.strip().lower() == known.lower():
                    return known
        return value

    @field_validator("microsoft_openid_metadata_url")
    @classmethod
    def _metadata_over_https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Signing keys fetched over plain HTTP could be swapped; only loopback may skip TLS.
        if not (value.startswith("https://") or _LOOPBACK_HTTP.match(value)):
            raise ValueError("must be an https URL (http only for 127.0.0.1 or localhost)")
        return value

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
    def teams_enabled(self) -> bool:
        return self.microsoft_app_id is not None or self.teams_emulator

    @property
    def bind_host(self) -> str:
        """Without an app id Teams requests are not authenticated: never listen publicly then."""
        return "127.0.0.1" if self.teams_emulator else self.host

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def metrics_enabled(self) -> bool:
        return self.metrics_port != 0

    def check_metrics(self) -> None:
        """The metrics port is a port of its own: never the one Slack and Teams reach."""
        if self.metrics_enabled and self.metrics_port == self.port:
            raise SettingsError(
                f"LEERKRING_METRICS_PORT: must differ from PORT ({self.port}); 0 turns metrics off"
            )

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

    def check_teams(self) -> None:
        """Teams is off, in emulator mode (no app id, no authentication), or fully configured."""
        if self.microsoft_app_id is None:
            for variable, value in (
                ("MICROSOFT_APP_PASSWORD", self.microsoft_app_password),
                ("MICROSOFT_APP_TENANT_ID", self.microsoft_app_tenant_id),
            ):
                if value is not None:
                    raise SettingsError(f"MICROSOFT_APP_ID: missing ({variable} is set)")
            return
        if self.teams_emulator:
            raise SettingsError(
                "LEERKRING_TEAMS_EMULATOR: emulator mode turns authentication off; "
                "unset it when MICROSOFT_APP_ID is set"
            )
        needs_tenant = self.microsoft_app_type in ("SingleTenant", "UserAssignedMSI")
        if needs_tenant and self.microsoft_app_tenant_id is None:
            raise SettingsError(
                f"MICROSOFT_APP_TENANT_ID: missing (needed for {self.microsoft_app_type})"
            )
        if self.microsoft_app_type != "UserAssignedMSI" and self.microsoft_app_password is None:
            raise SettingsError(
                f"MICROSOFT_APP_PASSWORD: missing (needed for {self.microsoft_app_type})"
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
    settings.check_teams()
    settings.check_metrics()
    return settings
