"""The Bot Framework SDK objects, built once from settings: authentication and the CloudAdapter.

This module and its siblings are the only place that imports botbuilder. The SDK is archived;
a move to the Microsoft 365 Agents SDK replaces this folder and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, ConversationParameters, ConversationReference
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ServiceClientCredentialsFactory,
)
from msrest.authentication import Authentication
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.settings import Settings
from bot.teams.token import ChannelTokenCheck
from handlers.core.messaging import DeliveryFailed

log = logging.getLogger(__name__)

CHANNEL_ID = "msteams"
# The SDK's connector waits 100 s by default; a Teams turn should not hang that long.
CONNECTOR_TIMEOUT = 20

Logic = Callable[[TurnContext], Awaitable[None]]


class _SdkConfiguration:
    """The attribute names ``ConfigurationBotFrameworkAuthentication`` reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id or ""
        password = settings.microsoft_app_password
        self.APP_PASSWORD = password.get_secret_value() if password else ""
        self.APP_TENANTID = settings.microsoft_app_tenant_id or ""
        self.APP_TYPE = settings.microsoft_app_type
        if settings.microsoft_openid_metadata_url:
            # Setting any of these switches the SDK to its parameterized authentication; every
            # value except the metadata URL is the public cloud's own.
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.microsoft_openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            )
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            )
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
                + (
                    settings.microsoft_app_tenant_id
                    or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
                )
            )
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL


class _ReusedCredentials(ServiceClientCredentialsFactory):
    """The SDK builds new credentials, and so a new token cache, for every connector client;
    keeping them per audience lets MSAL reuse a token instead of fetching one per turn."""

    def __init__(self, inner: ServiceClientCredentialsFactory) -> None:
        self._inner = inner
        self._cache: dict[tuple[str, str, str, bool], Authentication] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self._inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self._inner.is_authentication_disabled()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        key = (app_id or "", oauth_scope or "", login_endpoint or "", bool(validate_authority))
        if key not in self._cache:
            self._cache[key] = await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
        return self._cache[key]


class TeamsConnection:
    """Authentication of inbound requests, turns, and outbound connector calls."""

    def __init__(self, settings: Settings) -> None:
        self.app_id = settings.microsoft_app_id or ""
        self.authenticated = settings.microsoft_app_id is not None
        configuration = _SdkConfiguration(settings)
        credentials = _ReusedCredentials(ConfigurationServiceClientCredentialFactory(configuration))
        self.auth = ConfigurationBotFrameworkAuthentication(
            configuration, credentials_factory=credentials
        )
        self.cloud = CloudAdapter(self.auth)
        self.token_check = ChannelTokenCheck(self.app_id, settings.microsoft_openid_metadata_url)

    async def check_token(self, auth_header: str | None) -> None:
        """Raises ``TokenRefused`` unless the request carries a valid channel token; with no
        app id (the emulator) there is nothing to check. Runs before the body is read."""
        if self.authenticated:
            await asyncio.to_thread(self.token_check.check, auth_header)

    async def authenticate(
        self, activity: Activity, auth_header: str | None
    ) -> AuthenticateRequestResult:
        """Raises when the request does not carry a valid Bot Framework token (with an app id)."""
        # Without an app id authentication is off by design; a token sent anyway is not checked.
        header = auth_header if self.authenticated else None

        def check() -> AuthenticateRequestResult:
            # The SDK fetches signing keys with blocking requests (daily, and for an unknown
            # key id); on a loop of its own in a worker thread that never stalls the server.
            return asyncio.run(self.auth.authenticate_request(activity, header))  # type: ignore[arg-type]

        return await asyncio.to_thread(check)

    async def process(
        self, authenticated: AuthenticateRequestResult, activity: Activity, logic: Logic
    ) -> Any:
        return await self.cloud.process_activity(authenticated, activity, logic)

    async def continue_conversation(self, reference: ConversationReference, logic: Logic) -> None:
        await self.cloud.continue_conversation(reference, logic, bot_app_id=self.app_id)

    async def create_conversation(
        self, service_url: str, parameters: ConversationParameters, logic: Logic
    ) -> None:
        await self.cloud.create_conversation(
            self.app_id, logic, parameters, channel_id=CHANNEL_ID, service_url=service_url
        )


def connector(turn_context: TurnContext) -> ConnectorClient:
    """The connector client of a turn, with a timeout fit for a chat reply."""
    client: ConnectorClient = turn_context.turn_state[turn_context.adapter.BOT_CONNECTOR_CLIENT_KEY]
    client.config.connection.timeout = CONNECTOR_TIMEOUT
    return client


def delivery_failed(exc: BaseException, what: str, conversation_id: str) -> DeliveryFailed:
    """Log a failed connector call with its context and turn it into ``DeliveryFailed``."""
    target = _short(conversation_id)
    if isinstance(exc, HttpOperationError):
        status = exc.response.status_code if exc.response is not None else None
        reason = {
            401: "unauthorized",
            403: "forbidden",
            404: "conversation_not_found",
            429: "rate_limited",
        }.get(status or 0, f"http_{status}")
        log.warning("Teams %s in %s failed: HTTP %s (%s)", what, target, status, reason)
        return DeliveryFailed(reason)
    if isinstance(exc, ClientRequestError | OSError | TimeoutError):
        log.warning("Teams %s in %s failed: connector unreachable (%r)", what, target, exc)
        return DeliveryFailed("unreachable")
    if isinstance(exc, PermissionError):
        log.warning("Teams %s in %s failed: no token for the connector (%s)", what, target, exc)
        return DeliveryFailed("unauthorized")
    log.warning("Teams %s in %s failed: %r", what, target, exc)
    return DeliveryFailed("unreachable")


def _short(conversation_id: str) -> str:
    """Conversation ids are long; the start and end are enough to find one in the logs."""
    return (
        conversation_id
        if len(conversation_id) <= 40
        else f"{conversation_id[:20]}…{conversation_id[-12:]}"
    )
