"""GET /metrics: scraped from the running server on its own loopback port, after signed Slack
requests, and read with prometheus-client's own parser. Counters move, the outbox rows are
counted in the database, and no label carries a path, an id or a text someone typed."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.scheduler import Scheduler
from bot.server import build_app
from bot.services import build_services
from bot.settings import SettingsError, load_settings
from tests.bot.slack.test_casus_flow import CLEAN, bring_in, post_json
from tests.conftest import DatabaseTarget, RunningServer, make_settings
from tests.support.signing import signed_headers, thread_reply_event
from tests.support.slack_standin import SlackStandIn

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
TYPED = "Ik zou eerst vragen wat de moeder zelf wil."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def metered(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> AsyncIterator[tuple[RunningServer, str]]:
    """The real app on a loopback port, with its metrics on a second one."""
    metrics_port = free_port()
    settings = make_settings(
        database_target.url, SLACK_API_URL=slack_api.url, LEERKRING_METRICS_PORT=str(metrics_port)
    )
    services = build_services(settings)
    runner = web.AppRunner(build_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        server = RunningServer(f"http://127.0.0.1:{port}", services, slack_api, http)
        yield server, f"http://127.0.0.1:{metrics_port}/metrics"
    await runner.cleanup()


async def scrape(server: RunningServer, url: str) -> tuple[Samples, str]:
    async with server.http.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        text = await resp.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def joined(user: str, event_id: str) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": "T1",
        "api_app_id": "A1",
        "event": {
            "type": "member_joined_channel",
            "user": user,
            "channel": "C100",
            "channel_type": "C",
            "team": "T1",
            "event_ts": "1700000100.000100",
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000100,
        "authorizations": [{"team_id": "T1", "user_id": "UBOT000001", "is_bot": True}],
    }


async def test_metrics_move_with_signed_slack_requests(
    metered: tuple[RunningServer, str],
) -> None:
    server, url = metered
    before, _ = await scrape(server, url)
    assert value(before, "leerkring_privacy_guard_state", state="basic") == 1
    assert value(before, "leerkring_privacy_guard_state", state="ready") == 0
    for outbox in ("welcome", "prompt DM", "reminder", "speedspar DM"):
        assert ("leerkring_outbox_rows", (("outbox", outbox), ("state", "pending"))) in before

    casus = await bring_in(server, CLEAN)  # /casus and the form: two signed requests
    reply = thread_reply_event(
        TYPED, thread_ts=casus.message_id or "", ts="1700000200.000001", event_id="EvMETRIC1"
    )
    for _ in range(2):  # Slack redelivers: stored once, counted as a duplicate once
        status, _ = await post_json(server, reply)
        assert status == 200
    status, _ = await post_json(server, joined("U777", "EvJOIN1"))
    assert status == 200
    async with server.http.get(f"{server.url}/slack/events/U777/geheim") as resp:
        assert resp.status == 404  # counted under no path of its own
    async with server.http.request("PROPFIND", f"{server.url}/healthz") as resp:
        assert resp.status == 405  # nor under a method of its own
    async with server.http.post(
        f"{server.url}/slack/events",
        data=b"{}",
        headers=signed_headers("{}", "application/json", secret="wrong-secret"),
    ) as resp:
        assert resp.status == 401

    middle, _ = await scrape(server, url)
    assert value(middle, "leerkring_outbox_rows", outbox="welcome", state="pending") == 1
    scheduler = Scheduler(
        server.services.runtime, server.services.messengers, metrics=server.services.metrics
    )
    try:
        assert (await scheduler.tick())["welcomed"] == 1
    finally:
        await scheduler.stop()
    after, text = await scrape(server, url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "leerkring_http_requests_total"
    assert moved(requests, route="/slack/events", method="POST", status="200") == 5
    assert moved(requests, route="/slack/events", method="POST", status="401") == 1
    assert moved(requests, route="unmatched", method="GET", status="404") == 1
    assert moved(requests, route="unmatched", method="other", status="405") == 1
    assert moved("leerkring_ack_seconds_count", platform="slack") == 6
    assert moved("leerkring_ack_seconds_bucket", platform="slack", le="+Inf") == 6
    events = "leerkring_events_total"
    assert moved(events, kind="ThreadMessage", outcome="stored") == 1
    assert moved(events, kind="ThreadMessage", outcome="duplicate") == 1
    assert moved(events, kind="MemberJoined", outcome="stored") == 1
    assert moved(events, kind="CommandInvoked", outcome="stored") == 1
    assert moved(events, kind="FormSubmitted", outcome="stored") == 1
    # The intake's fields and the reply went through the guard, timed.
    assert moved("leerkring_privacy_guard_check_seconds_count", result="checked") >= 2
    # The tick sent the welcome: the row moved from pending to sent, and this process led.
    assert value(after, "leerkring_outbox_rows", outbox="welcome", state="pending") == 0
    assert value(after, "leerkring_outbox_rows", outbox="welcome", state="sent") == 1
    assert value(after, "leerkring_scheduler_tick_seconds_count") == 1
    assert value(after, "leerkring_scheduler_leader") == 0  # stopped: it no longer leads
    assert value(middle, "leerkring_scheduler_leader") == 0
    assert value(after, "process_resident_memory_bytes") > 0

    # No personal data in a label: no path asked for, no id, nothing typed.
    labels = {v for (_, pairs) in after for _, v in pairs}
    for personal in ("U777", "U111", "C100", "GEHEIM", "moeder", CLEAN["titel"], "EvMETRIC1"):
        assert not any(personal in label for label in labels), personal
    assert "moeder" not in text and "U777" not in text


async def test_the_leader_is_reported_while_it_leads(metered: tuple[RunningServer, str]) -> None:
    server, url = metered
    scheduler = Scheduler(
        server.services.runtime, server.services.messengers, metrics=server.services.metrics
    )
    try:
        await scheduler.tick()
        samples, _ = await scrape(server, url)
        assert value(samples, "leerkring_scheduler_leader") == 1
        assert value(samples, "leerkring_scheduler_tick_seconds_count") == 1
    finally:
        await scheduler.stop()


async def test_metrics_are_not_on_the_public_port(metered: tuple[RunningServer, str]) -> None:
    server, _ = metered
    async with server.http.get(f"{server.url}/metrics") as resp:
        assert resp.status == 404


def test_metrics_default_to_loopback_and_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEERKRING_METRICS_PORT", raising=False)  # the tests' own default: 0
    monkeypatch.delenv("LEERKRING_METRICS_HOST", raising=False)
    settings = load_settings({})
    assert (settings.metrics_host, settings.metrics_port) == ("127.0.0.1", 9464)
    assert not load_settings({"LEERKRING_METRICS_PORT": "0"}).metrics_enabled
    with pytest.raises(SettingsError, match="LEERKRING_METRICS_PORT: must differ from PORT"):
        load_settings({"PORT": "3000", "LEERKRING_METRICS_PORT": "3000"})
    with pytest.raises(SettingsError, match="LEERKRING_METRICS_PORT"):
        load_settings({"LEERKRING_METRICS_PORT": "70000"})


async def test_a_taken_metrics_port_is_logged_and_the_server_runs_on(
    database_target: DatabaseTarget, slack_api: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(
            database_target.url, SLACK_API_URL=slack_api.url, LEERKRING_METRICS_PORT=str(port)
        )
        runner = web.AppRunner(build_app(build_services(settings)), access_log=None)
        with caplog.at_level(logging.INFO, logger="bot.metrics"):
            await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            main_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{main_port}/healthz") as resp,
            ):
                assert resp.status == 200
                assert json.loads(await resp.text()) == {"status": "ok"}
        finally:
            await runner.cleanup()
    assert any(
        "metrics NOT served" in r.getMessage() and "LEERKRING_METRICS_PORT" in r.getMessage()
        for r in caplog.records
    )


def test_the_strict_guard_says_it_loads_and_when_it_is_ready(
    strict_guard: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.metrics import Metrics
    from bot.services import start_guard

    metrics = Metrics()
    with caplog.at_level(logging.INFO, logger="bot.services"):
        start_guard(strict_guard, metrics)  # already loading or loaded: start() is idempotent
        for _ in range(200):
            if any("ready after" in r.getMessage() for r in caplog.records):
                break
            time.sleep(0.05)
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.services"]
    assert any(
        m.startswith("privacy guard (strict) loading") and "LEERKRING_PRIVACY_GUARD=basic" in m
        for m in messages
    ), messages
    assert any(re.fullmatch(r"privacy guard \(strict\) ready after \d+\.\d s", m) for m in messages)
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
    }
    assert samples["leerkring_privacy_guard_load_seconds"] > 0


def leader_of(metrics: Any) -> float:
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            if sample.name == "leerkring_scheduler_leader":
                return float(sample.value)
    raise AssertionError("no leerkring_scheduler_leader")


async def test_each_replica_reports_whether_it_leads(
    metered: tuple[RunningServer, str], database_target: DatabaseTarget
) -> None:
    """Two processes on one database, each with its own metrics: on PostgreSQL one leads and
    the other says it does not, until the leader stops; on SQLite there is one process."""
    if database_target.backend != "postgresql":
        pytest.skip("several replicas need PostgreSQL")
    server, _ = metered
    other = build_services(make_settings(database_target.url, SLACK_API_URL=server.slack.url))
    first = Scheduler(
        server.services.runtime, server.services.messengers, metrics=server.services.metrics
    )
    second = Scheduler(other.runtime, other.messengers, metrics=other.metrics)
    try:
        assert (await first.tick())["leader"] == 1
        assert (await second.tick())["leader"] == 0
        assert (leader_of(server.services.metrics), leader_of(other.metrics)) == (1, 0)
        await first.stop()
        assert (await second.tick())["leader"] == 1
        assert (leader_of(server.services.metrics), leader_of(other.metrics)) == (0, 1)
    finally:
        await first.stop()
        await second.stop()
        other.close()
