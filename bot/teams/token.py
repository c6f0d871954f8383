"""The Bot Framework token of a Teams request, checked before its body is read.

The SDK checks the token only after the body has been parsed into an activity (it compares the
token's ``serviceurl`` with the activity's), so on its own it lets anyone make the server parse
whatever they send. It also accepts a token without ``exp``: PyJWT checks ``exp`` only when it
is there. This check runs first and is strict: a Bot Framework channel token (issuer
``https://api.botframework.com``), signed with RS256 by a key the channel publishes, for this
app, with ``exp`` required and ``nbf`` honoured. The SDK's own check still follows (serviceUrl,
endorsements). Emulator and skill tokens are not accepted with an app id: the emulator runs
without one (``LEERKRING_TEAMS_EMULATOR``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
from botframework.connector.auth import AuthenticationConstants, JwtTokenExtractor

ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
# The SDK's clock tolerance for channel tokens.
LEEWAY_SECONDS = 5 * 60


class TokenRefused(Exception):
    """The request does not carry a token this bot accepts; the message names why, briefly."""


class ChannelTokenCheck:
    def __init__(self, app_id: str, metadata_url: str | None) -> None:
        self.app_id = app_id
        self.metadata_url = (
            metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        )

    def check(self, auth_header: str | None) -> dict[str, Any]:
        """The token's claims, or ``TokenRefused``. Blocking: it may fetch the signing keys."""
        scheme, _, token = (auth_header or "").partition(" ")
        if scheme != "Bearer" or not token.strip():
            raise TokenRefused("no bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("not a JWT") from None
        if header.get("alg") != "RS256":
            raise TokenRefused("algorithm is not RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("no key id")
        # The SDK's own cache of the channel's keys (refreshed daily, and for an unknown key
        # id at most hourly), so both checks use the same keys and fetch them once.
        metadata = JwtTokenExtractor.get_open_id_metadata(self.metadata_url)
        try:
            key = asyncio.run(metadata.get(kid))
        except IndexError:  # the SDK's way of saying the kid is not among the keys
            raise TokenRefused("unknown key id") from None
        if key is None:
            raise TokenRefused("no signing keys")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"], "verify_nbf": True},
            )
        except jwt.PyJWTError as exc:
            raise TokenRefused(type(exc).__name__) from None
        return claims
