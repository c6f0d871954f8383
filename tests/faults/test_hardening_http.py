"""The HTTP layer of the real server (issue #12, items 2 and 9), over raw sockets: the app from
``build_app`` in ``LeerkringRunner``, as ``leerkring serve`` runs it, with short timeouts.

- Slow clients are cut off by the server itself: one header byte every 0.5 s, and a POST
  that declares ``Content-Length: 100000`` and sends one byte (item 2).
- No ``Server: Python/… aiohttp/…``; ``/healthz`` says up or not and no more; the details
  are at ``/status`` behind the operator's token; a 400 for an over-long URL or header does
  not quote it, and logs one line without a traceback (item 9).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.http_server import LeerkringRunner
from bot.server import build_app
from bot.services import Services, build_services
from bot.settings import SettingsError, load_settings
from storage import migrate
from tests.conftest import DatabaseTarget, make_settings
from tests.support.operator import STATUS_HEADERS
from tests.support.signing import signed_headers, thread_reply_event
from tests.support.slack_standin import SlackStandIn

TIMEOUT = 1.0
pytestmark = pytest.mark.parametrize("database_target", ["sqlite"], indirect=True)


@dataclass
class Served:
    host: str
    port: int
    services: Services

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture
async def served(database_target: DatabaseTarget, slack_api: SlackStandIn) -> AsyncIterator[Served]:
    settings = make_settings(
        database_target.url,
        SLACK_API_URL=slack_api.url,
        LEERKRING_HEADER_TIMEOUT_SECONDS=str(TIMEOUT),
        LEERKRING_BODY_TIMEOUT_SECONDS=str(TIMEOUT),
    )
    services = build_services(settings)
    runner = LeerkringRunner(build_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Served("127.0.0.1", port, services)
    await runner.cleanup()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sent until it closed the connection; fails if it stays open."""
    return await asyncio.wait_for(reader.read(), seconds)


# --- item 2: slow clients -------------------------------------------------------------------


async def test_headers_sent_a_byte_at_a_time_are_cut_off(served: Served) -> None:
    request = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    connections = [await asyncio.open_connection(served.host, served.port) for _ in range(8)]
    started = time.monotonic()
    open_ones = set(range(len(connections)))
    sent = 0
    while open_ones and time.monotonic() - started < 10:
        for index in list(open_ones):
            reader, writer = connections[index]
            if reader.at_eof():
                open_ones.discard(index)
                continue
            try:
                writer.write(request[sent % len(request) : sent % len(request) + 1])
                await writer.drain()
            except ConnectionError:
                open_ones.discard(index)
        sent += 1
        await asyncio.sleep(0.5)
        for index in list(open_ones):
            reader = connections[index][0]
            try:
                await asyncio.wait_for(reader.read(1024), 0.01)
            except TimeoutError:
                continue
            except ConnectionError:
                pass
            if reader.at_eof():
                open_ones.discard(index)
    elapsed = time.monotonic() - started
    for _, writer in connections:
        writer.close()
    assert not open_ones, f"{len(open_ones)} connections still open after {elapsed:.1f} s"
    assert elapsed < TIMEOUT + 2.5, elapsed
    # The server still answers others.
    async with aiohttp.ClientSession() as http, http.get(f"{served.url}/healthz") as resp:
        assert resp.status == 200


async def test_a_body_that_never_arrives_gets_a_408_and_the_connection_closes(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await asyncio.open_connection(served.host, served.port)
    started = time.monotonic()
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n{"
    )
    await writer.drain()
    answer = await closed_within(reader, TIMEOUT + 12)
    elapsed = time.monotonic() - started
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert elapsed < TIMEOUT + 12, elapsed
    assert "request body not received within" in caplog.text
    assert "Traceback" not in caplog.text


async def test_an_idle_connection_is_closed_and_a_prompt_request_is_answered(
    served: Served,
) -> None:
    reader, writer = await asyncio.open_connection(served.host, served.port)
    assert await closed_within(reader, TIMEOUT + 3) == b""
    writer.close()
    body = json.dumps(thread_reply_event("Goed idee", thread_ts="1.1", ts="1.2"))
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{served.url}/slack/events",
            data=body.encode(),
            headers=signed_headers(body, "application/json"),
        ) as resp,
    ):
        assert resp.status == 200


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LEERKRING_HEADER_TIMEOUT_SECONDS", "0"),
        ("LEERKRING_BODY_TIMEOUT_SECONDS", "-1"),
        ("LEERKRING_BODY_TIMEOUT_SECONDS", "soon"),
        ("LEERKRING_HEADER_TIMEOUT_SECONDS", "3600"),
    ],
)
def test_timeouts_are_validated_settings(
    database_target: DatabaseTarget, variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({"DATABASE_URL": database_target.url, variable: value})


def test_timeouts_have_sane_defaults(database_target: DatabaseTarget) -> None:
    settings = load_settings({"DATABASE_URL": database_target.url})
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds) == (10, 15)


# --- item 9: information exposure -----------------------------------------------------------


async def test_healthz_says_up_and_nothing_more_and_names_no_software(served: Served) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{served.url}/healthz") as resp:
            assert resp.status == 200
            assert await resp.text() == '{"status": "ok"}'
            assert resp.headers["Server"] == "Leerkring"
        for path, method in (("/nope", "GET"), ("/healthz", "POST"), ("/status", "GET")):
            async with http.request(method, f"{served.url}{path}") as resp:
                assert resp.status in (401, 404, 405)
                assert resp.headers["Server"] == "Leerkring"
                assert "aiohttp" not in await resp.text()


async def test_the_details_are_for_the_operator_only(served: Served) -> None:
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}):
            async with http.get(f"{served.url}/status", headers=headers) as resp:
                assert resp.status == 401
                assert await resp.json() == {"error": "unauthorized"}
        async with http.get(f"{served.url}/status", headers=STATUS_HEADERS) as resp:
            assert resp.status == 200
            details = await resp.json()
    assert details["database"]["schema"] == migrate.head_revision()
    assert (details["slack"], details["teams"], details["privacy_guard"]) == (
        "http",
        "off",
        "basic",
    )


async def test_without_a_status_token_there_is_no_status_page(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    settings = make_settings(database_target.url, SLACK_API_URL=slack_api.url)
    settings = settings.model_copy(update={"status_token": None})
    runner = LeerkringRunner(build_app(build_services(settings)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/status", headers=STATUS_HEADERS) as resp,
        ):
            assert resp.status == 404
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    "request_head",
    [
        b"GET /" + b"SECRETXYZ" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: " + b"SECRETXYZ" * 2000 + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nSECRETXYZ\r\n\r\n",
        b"SECRETXYZ / HTTP/1.1\r\n\r\n",
    ],
    ids=["long-url", "long-header", "bad-header", "bad-method"],
)
async def test_a_request_that_cannot_be_parsed_is_not_quoted_back(
    served: Served, request_head: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection(served.host, served.port)
    writer.write(request_head)
    await writer.drain()
    answer = await closed_within(reader, 5)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0], answer[:300]
    assert b"SECRETXYZ" not in answer
    assert b"aiohttp" not in answer and b"Python" not in answer
    assert b"Server: Leerkring" in head
    assert body == b"400 Bad Request\n"
    assert "SECRETXYZ" not in caplog.text
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
