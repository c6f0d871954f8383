"""With an app id every request to /api/messages needs a valid Bot Framework JWT. The SDK
checks it against signing keys that a loopback identity service publishes (the server's
MICROSOFT_OPENID_METADATA_URL points there), so both refusal and acceptance run offline."""

from __future__ import annotations

import logging
from typing import Any

import pytest
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
    assert "/v1/.well-known/keys" in identity.requests


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
