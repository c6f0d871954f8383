"""The Teams side of the running server: the real aiohttp app on a loopback port, a real
database, the loopback Bot Framework connector, and (for authentication) a loopback identity
service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botframework.connector.auth import MicrosoftAppCredentials
from sqlalchemy import func, select

from bot.server import build_app
from bot.services import Services, build_services
from bot.settings import load_settings
from tests.conftest import DatabaseTarget
from tests.support.operator import STATUS_TOKEN
from tests.support.teams_standin import (
    APP_ID,
    FLOOR,
    OUTBOUND_TOKEN,
    ConnectorStandIn,
    IdentityStandIn,
)


@dataclass
class TeamsServer:
    url: str
    services: Services
    connector: ConnectorStandIn
    http: aiohttp.ClientSession
    runner: web.AppRunner

    async def post(
        self, activity: dict[str, Any], token: str | None = None, **headers: str
    ) -> tuple[int, str]:
        all_headers = {"Content-Type": "application/json", **headers}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        async with self.http.post(
            f"{self.url}/api/messages", json=activity, headers=all_headers
        ) as resp:
            return resp.status, await resp.text()

    def count(self, model: type) -> int:
        with self.services.database.session() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def rows(self, model: type) -> list[Any]:
        with self.services.database.session() as session:
            rows = list(session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]
            session.expunge_all()
            return rows


@pytest.fixture
async def connector() -> AsyncIterator[ConnectorStandIn]:
    standin = ConnectorStandIn()
    await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
def identity() -> Iterator[IdentityStandIn]:
    standin = IdentityStandIn()
    standin.start()
    yield standin
    standin.stop()


async def start_server(
    env: dict[str, str], connector: ConnectorStandIn, http: aiohttp.ClientSession
) -> TeamsServer:
    services = build_services(load_settings(env))
    runner = web.AppRunner(build_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return TeamsServer(f"http://127.0.0.1:{port}", services, connector, http, runner)


def emulator_env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "LEERKRING_TEAMS_EMULATOR": "true",
        "LEERKRING_FACILITATORS": FLOOR.aad,
        # Tests drive the scheduler's ticks themselves; one in the server would race them for
        # the leader lock and could be cut off mid-tick when the server closes.
        "LEERKRING_SCHEDULER": "false",
        "LEERKRING_STATUS_TOKEN": STATUS_TOKEN,
    }


@pytest.fixture
async def teams(
    database_target: DatabaseTarget, connector: ConnectorStandIn
) -> AsyncIterator[TeamsServer]:
    """Emulator mode: no app id, so no authentication (the server binds to loopback only)."""
    async with aiohttp.ClientSession() as http:
        server = await start_server(emulator_env(database_target.url), connector, http)
        yield server
        await server.runner.cleanup()


@pytest.fixture
async def secured(
    database_target: DatabaseTarget, connector: ConnectorStandIn, identity: IdentityStandIn
) -> AsyncIterator[TeamsServer]:
    """With an app id: every request needs a Bot Framework JWT, checked against the keys of
    the loopback identity service."""
    env = {
        "DATABASE_URL": database_target.url,
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "test-password",
        "MICROSOFT_OPENID_METADATA_URL": identity.metadata_url,
        "LEERKRING_SCHEDULER": "false",
        "LEERKRING_STATUS_TOKEN": STATUS_TOKEN,
    }
    async with aiohttp.ClientSession() as http:
        server = await start_server(env, connector, http)
        yield server
        await server.runner.cleanup()


@pytest.fixture
def outbound_token(monkeypatch: pytest.MonkeyPatch) -> str:
    """Outgoing connector calls carry OUTBOUND_TOKEN instead of one fetched from Entra ID."""
    monkeypatch.setattr(
        MicrosoftAppCredentials,
        "get_access_token",
        lambda self, force_refresh=False: OUTBOUND_TOKEN,
    )
    return OUTBOUND_TOKEN
