"""Fixtures for the fault tests: the in-process server with its adapter reachable, so a test
can wait until every background delivery has finished instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.server import SLACK, build_app
from bot.services import build_services
from bot.slack.adapter import SlackAdapter
from tests.conftest import DatabaseTarget, RunningServer, make_settings
from tests.faults.processes import Fleet
from tests.support.slack_standin import SlackStandIn


@dataclass
class ServedApp(RunningServer):
    app: web.Application | None = None

    @property
    def slack_adapter(self) -> SlackAdapter:
        assert self.app is not None
        adapter = self.app[SLACK]
        assert adapter is not None
        return adapter

    async def idle(self, within: float = 10.0) -> None:
        """Until the adapter's background deliveries are done (bounded)."""
        tasks = set(self.slack_adapter._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=within)
            assert not pending, f"{len(pending)} background deliveries still running"


@pytest.fixture
async def served(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> AsyncIterator[ServedApp]:
    """The real aiohttp app on a loopback port, wired to the Slack stand-in and a real DB."""
    settings = make_settings(database_target.url, SLACK_API_URL=slack_api.url)
    services = build_services(settings)
    app = build_app(services)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            yield ServedApp(f"http://127.0.0.1:{port}", services, slack_api, http, app)
    finally:
        await runner.cleanup()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    """Real `leerkring serve` processes, all stopped at the end (also on failure)."""
    servers = Fleet(tmp_path)
    try:
        yield servers
    finally:
        servers.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many generated examples each fuzz test ran (tests/faults/test_fuzz.py)."""
    lines = []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get(
        "failed", []
    ):
        if report.when != "call":
            continue
        for key, value in report.user_properties:
            if key == "fuzz":
                _, examples, statuses = value
                lines.append(f"{report.nodeid}: {examples} examples, answers {statuses}")
    if lines:
        terminalreporter.write_sep("-", f"fuzz: {len(lines)} runs")
        for line in sorted(lines):
            terminalreporter.write_line(line)
