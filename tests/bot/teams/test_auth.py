"""With an app id every request to /api/messages needs a valid Bot Framework JWT. The SDK
checks it against signing keys that a loopback identity service publishes (the server's
MICROSOFT_OPENID_METADATA_URL points there), so both refusal and acceptance run offline."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from handlers.casus.queries import CasusRepository
from handlers.core.context import Repositories
from storage.models import Bijdrage, ConversationReference, Member, ProcessedEvent
from tests.bot.teams.conftest import TeamsServer
from tests.support.teams_standin import (
    ANNA,
    CHANNEL,
    KARIM,
    TEAM,
    TENANT,
    IdentityStandIn,
    bot_account,
    conversation_update,
    message,
)

CASUS_POST = "1700000000555"


def nothing_stored(server: TeamsServer) -> None:
    for model in (ConversationReference, Member, Bijdrage, ProcessedEvent):
        assert server.count(model) == 0, model.__name__
    assert server.connector.sent == []


def seed_posted_casus(server: TeamsServer) -> int:
    with server.services.database.session() as session:
        repos = Repositories(session)
        channel = repos.channels.ensure("teams", CHANNEL, TEAM, "Casuïstiek")
        inbrenger = repos.members.ensure("teams", ANNA.aad, ANNA.name)
        casus = CasusRepository(repos.session).add(
            channel=channel,
            inbrenger=inbrenger,
            title="Gezin met schulden",
            situation="Huurachterstand.",
            obstacle=None,
            uncertainty=None,
            question="Hoe nu verder?",
            perspectives=[],
        )
        CasusRepository(repos.session).mark_posted(casus, CASUS_POST)
        repos.posted.record("teams", CHANNEL, CASUS_POST, "casus", casus.id)
        return casus.id


async def test_no_authorization_header_is_refused_and_nothing_is_handled(
    secured: TeamsServer,
) -> None:
    status, text = await secured.post(message(secured.connector.url, "casus", mention_bot=True))
    assert status == 401
    assert "Traceback" not in text
    nothing_stored(secured)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda identity, url: "not-a-jwt", id="garbage"),
        pytest.param(lambda identity, url: "a.b.c", id="garbage-segments"),
        pytest.param(lambda identity, url: identity.forged_token(url), id="forged-signature"),
        pytest.param(
            lambda identity, url: identity.token(url, audience="0000-another-bot"),
            id="another-app",
        ),
        pytest.param(lambda identity, url: identity.token(url, expires_in=-3600), id="expired"),
        pytest.param(
            lambda identity, url: identity.token(url, issuer="https://evil.example"),
            id="wrong-issuer",
        ),
        pytest.param(
            lambda identity, url: identity.token("https://smba.trafficmanager.net/emea/"),
            id="other-service-url",
        ),
    ],
)
async def test_an_invalid_token_is_refused_and_nothing_is_handled(
    secured: TeamsServer,
    identity: IdentityStandIn,
    make_token: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    url = secured.connector.url
    activity = message(url, "casus", mention_bot=True)
    status, _ = await secured.post(activity, token=make_token(identity, url))
    assert status == 401
    nothing_stored(secured)
    assert "Teams request refused: not authenticated" in caplog.text


async def test_a_token_without_bearer_scheme_is_refused(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    url = secured.connector.url
    token = identity.token(url)
    status, _ = await secured.post(message(url, "casus"), Authorization=token)
    assert status == 401
    nothing_stored(secured)


async def test_a_valid_token_is_accepted_and_the_install_is_remembered(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    url = secured.connector.url
    install = conversation_update(url, [bot_account()])
    status, text = await secured.post(install, token=identity.token(url))
    assert status == 200, text
    with secured.services.database.session() as session:
        stored = session.scalars(select(ConversationReference)).one()
        assert (stored.conversation_id, stored.kind) == (CHANNEL, "channel")
        assert (stored.team_id, stored.tenant_id, stored.service_url) == (TEAM, TENANT, url)
        assert stored.reference["bot"]["id"].startswith("28:")
    # The keys really were fetched from the loopback identity service.
    assert f"{identity.prefix}/keys" in identity.requests


async def test_a_valid_token_lets_a_thread_reply_through(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed_posted_casus(secured)
    url = secured.connector.url
    reply = message(url, "Misschien eerst de school bellen?", user=KARIM, thread=CASUS_POST)
    status, text = await secured.post(reply, token=identity.token(url))
    assert status == 200, text
    rows = secured.rows(Bijdrage)
    assert [(r.text, r.message_id) for r in rows] == [
        ("Misschien eerst de school bellen?", reply["id"])
    ]
    assert secured.connector.sent == []  # a clean reply needs no answer


async def test_emulator_mode_needs_no_token(teams: TeamsServer) -> None:
    url = teams.connector.url
    status, _ = await teams.post(conversation_update(url, [bot_account()]))
    assert status == 200
    assert teams.count(ConversationReference) == 1


# --- issue #12, items 1 and 3: every way a token can be wrong, checked before the body -----

HS_SECRET = "a-shared-secret-someone-guessed-0123456789abcdef"


def _foreign_key_token(identity: IdentityStandIn, url: str) -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return identity.token(url, key=other, kid="someone-elses-key")


REFUSED_TOKENS: list[Any] = [
    pytest.param(None, id="no-token"),
    pytest.param(lambda identity, url: identity.token(url, algorithm="none"), id="alg-none"),
    pytest.param(
        lambda identity, url: identity.token(url, algorithm="HS256", secret=HS_SECRET),
        id="hs256",
    ),
    pytest.param(lambda identity, url: identity.forged_token(url), id="foreign-key-same-kid"),
    pytest.param(_foreign_key_token, id="foreign-key-unknown-kid"),
    pytest.param(lambda identity, url: identity.token(url, kid="no-such-kid"), id="unknown-kid"),
    pytest.param(
        lambda identity, url: identity.token(url, audience="0000-another-bot"), id="wrong-aud"
    ),
    pytest.param(lambda identity, url: identity.token(url, audience=""), id="empty-aud"),
    pytest.param(lambda identity, url: identity.token(url, drop=("aud",)), id="no-aud"),
    pytest.param(
        lambda identity, url: identity.token(url, issuer="https://evil.example"),
        id="wrong-issuer",
    ),
    pytest.param(lambda identity, url: identity.token(url, expires_in=-3600), id="expired"),
    pytest.param(lambda identity, url: identity.token(url, not_before_in=3600), id="future-nbf"),
    pytest.param(lambda identity, url: identity.token(url, drop=("exp",)), id="no-exp"),
    pytest.param(
        lambda identity, url: identity.token("https://smba.trafficmanager.net/emea/"),
        id="service-url-mismatch",
    ),
]


@pytest.mark.parametrize("make_token", REFUSED_TOKENS)
async def test_every_kind_of_bad_token_is_a_401_with_no_call_and_nothing_stored(
    secured: TeamsServer,
    identity: IdentityStandIn,
    make_token: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    url = secured.connector.url
    token = None if make_token is None else make_token(identity, url)
    # Sent three times: a token without exp used to be accepted every time.
    for activity in (
        message(url, "casus", mention_bot=True),
        message(url, "Misschien eerst de school bellen?", user=KARIM, thread=CASUS_POST),
        conversation_update(url, [bot_account()]),
    ):
        status, text = await secured.post(activity, token=token)
        assert (status, text) == (401, '{"error": "unauthorized"}')
    nothing_stored(secured)
    refused = [r for r in caplog.records if "Teams request refused" in r.getMessage()]
    assert len(refused) == 3
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)


async def test_a_deeply_nested_body_without_a_token_is_a_401_and_never_parsed(
    secured: TeamsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with secured.http.post(
        f"{secured.url}/api/messages",
        data=b"[" * 50_000,
        headers={"Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 401
        assert await resp.text() == '{"error": "unauthorized"}'
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    nothing_stored(secured)


@pytest.mark.parametrize("body", [b"[" * 50_000, b'{"type":"message","value":' * 5000])
async def test_a_deeply_nested_body_with_a_valid_token_is_a_short_400(
    secured: TeamsServer, identity: IdentityStandIn, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = identity.token(secured.connector.url)
    async with secured.http.post(
        f"{secured.url}/api/messages",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    ) as resp:
        assert resp.status == 400
        assert await resp.text() == '{"error": "JSON nested too deep"}'
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot")]
    assert lines == ["Teams activity refused: JSON nested too deep"]
    assert "Traceback" not in caplog.text
    nothing_stored(secured)


async def test_a_deeply_nested_body_in_emulator_mode_is_a_short_400(
    teams: TeamsServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with teams.http.post(
        f"{teams.url}/api/messages",
        data=b"[" * 50_000,
        headers={"Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert teams.count(ConversationReference) == 0
