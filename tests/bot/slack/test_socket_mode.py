"""Socket Mode: with SLACK_APP_TOKEN the server connects out over a WebSocket instead of
listening on /slack/events; the same handlers answer."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.server import build_app
from bot.services import build_services
from storage.models import RevokedWorkspace
from tests.conftest import DatabaseTarget, make_settings
from tests.support.operator import STATUS_HEADERS
from tests.support.signing import command_body
from tests.support.slack_standin import APP_TOKEN, SlackStandIn


async def test_socket_mode_receives_a_command_and_acks_the_envelope(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    settings = make_settings(
        database_target.url, SLACK_API_URL=slack_api.url, SLACK_APP_TOKEN=APP_TOKEN
    )
    services = build_services(settings)
    runner = web.AppRunner(build_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        for _ in range(300):
            if slack_api.socket_connections:
                break
            await asyncio.sleep(0.01)
        assert slack_api.socket_connections == 1
        assert slack_api.calls_to("apps.connections.open")

        payload = dict(parse_qsl(command_body("/casus", ""), keep_blank_values=True))
        await slack_api.socket_outbox.put(
            {
                "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
                "type": "slash_commands",
                "payload": payload,
                "accepts_response_payload": True,
            }
        )
        views = await slack_api.wait_for("views.open")
        assert views[0]["view"]["callback_id"] == "casus_intake"
        for _ in range(300):
            if slack_api.socket_acks:
                break
            await asyncio.sleep(0.01)
        assert slack_api.socket_acks[0]["envelope_id"] == "57d6a792-4d35-4d0b-b6aa-3361493e1caf"

        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data="x") as resp:
                assert resp.status == 404  # no HTTP endpoint in Socket Mode
            status_url = f"http://127.0.0.1:{port}/status"
            async with http.get(status_url, headers=STATUS_HEADERS) as resp:
                assert json.loads(await resp.text())["slack"] == "socket"
    finally:
        await runner.cleanup()


async def test_socket_mode_acks_every_event_type_and_records_an_uninstall(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    settings = make_settings(
        database_target.url, SLACK_API_URL=slack_api.url, SLACK_APP_TOKEN=APP_TOKEN
    )
    services = build_services(settings)
    runner = web.AppRunner(build_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        for _ in range(300):
            if slack_api.socket_connections:
                break
            await asyncio.sleep(0.01)
        envelopes = {}
        for number, event in enumerate(
            [{"type": "reaction_added", "user": "U1"}, {"type": "app_uninstalled"}]
        ):
            envelope_id = f"0000000{number}-4d35-4d0b-b6aa-3361493e1caf"
            envelopes[envelope_id] = event["type"]
            await slack_api.socket_outbox.put(
                {
                    "envelope_id": envelope_id,
                    "type": "events_api",
                    "payload": {
                        "type": "event_callback",
                        "team_id": "T1",
                        "api_app_id": "A1",
                        "event": event,
                        "event_id": f"Ev{number}",
                        "event_time": 1700000100,
                    },
                    "accepts_response_payload": False,
                }
            )
        for _ in range(300):
            if len(slack_api.socket_acks) >= 2:
                break
            await asyncio.sleep(0.01)
        assert {ack["envelope_id"] for ack in slack_api.socket_acks} == set(envelopes)
        with services.database.session() as session:
            (mark,) = session.scalars(select(RevokedWorkspace)).all()
        assert (mark.platform, mark.team_id, mark.reason) == ("slack", "T1", "app_uninstalled")
    finally:
        await runner.cleanup()
