"""``leerkring serve`` as a real process with LEERKRING_LOG_FORMAT=json at DEBUG: every line it
writes is one JSON object, and none holds what people typed. The same process answers
``GET /metrics`` on its own loopback port, read with prometheus-client's parser."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.logs import JSON_FIELDS
from storage.db import Database
from storage.models import Casus
from tests.bot.slack.test_casus_flow import CLEAN
from tests.support.signing import (
    SIGNING_SECRET,
    command_body,
    interactive_body,
    signed_headers,
    thread_reply_event,
    view_submission,
)
from tests.support.slack_standin import TOKEN, SlackStandIn

pytestmark = pytest.mark.slow

MARK = "Zwaluwstaart"
FORM = "application/x-www-form-urlencoded"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(**extra: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "LEERKRING_", "MICROSOFT_", "PORT"))
    }
    return {**base, "LEERKRING_PRIVACY_GUARD": "basic", "LEERKRING_SCHEDULER": "false", **extra}


async def wait_healthy(
    http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process
) -> None:
    for _ in range(150):
        if process.returncode is not None:
            raise AssertionError(f"serve exited with {process.returncode}")
        try:
            async with http.get(f"{url}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("server did not become healthy")


async def test_json_lines_without_typed_text_and_metrics_from_the_process(
    tmp_path: Path, slack_api: SlackStandIn
) -> None:
    port, metrics_port = free_port(), free_port()
    database_url = f"sqlite:///{tmp_path / 'leerkring.db'}"
    env = serve_env(
        PORT=str(port),
        LEERKRING_HOST="127.0.0.1",
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_api.url,
        LEERKRING_LOG_FORMAT="json",
        LEERKRING_LOG_LEVEL="DEBUG",
        LEERKRING_METRICS_PORT=str(metrics_port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output = asyncio.create_task(process.communicate())  # drains both pipes while it runs
    url = f"http://127.0.0.1:{port}"
    typed = {
        "titel": f"{MARK}titel",
        "situatie": f"{MARK}situatie met een moeder en drie kinderen.",
        "knelpunt": f"{MARK}knelpunt",
        "onzeker": f"{MARK}onzeker",
        "vraag": f"{MARK}vraag?",
        "perspectieven": CLEAN["perspectieven"],
    }

    async def post(http: aiohttp.ClientSession, body: str, content_type: str) -> int:
        headers = signed_headers(body, content_type)
        async with http.post(f"{url}/slack/events", data=body.encode(), headers=headers) as resp:
            return resp.status

    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, url, process)
            assert await post(http, command_body("/casus", f"{MARK}opdracht"), FORM) == 200
            view = (await slack_api.wait_for("views.open", 1))[-1]["view"]
            blocked = {**typed, "vraag": "BSN 111222333"}
            assert await post(http, interactive_body(view_submission(view, blocked)), FORM) == 200
            assert await post(http, interactive_body(view_submission(view, typed)), FORM) == 200
            await slack_api.wait_for("chat.postMessage", 1)
            database = Database.from_url(database_url)
            try:
                for _ in range(100):
                    with database.session() as session:
                        casus = session.scalars(select(Casus)).one()
                        thread = casus.message_id
                    if thread:
                        break
                    await asyncio.sleep(0.05)
            finally:
                database.dispose()
            assert thread
            reply = thread_reply_event(f"{MARK}draad", thread_ts=thread, ts="1700000200.000001")
            assert await post(http, json.dumps(reply), "application/json") == 200
            async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
                assert resp.status == 200
                metrics = await resp.read()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(output, 30)
    stdout, stderr = out.decode(), err.decode()

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(metrics.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    stored = (("kind", "ThreadMessage"), ("outcome", "stored"))
    assert samples[("leerkring_events_total", stored)] == 1
    ok = (("method", "POST"), ("route", "/slack/events"), ("status", "200"))
    assert samples[("leerkring_http_requests_total", ok)] == 4
    assert MARK not in metrics.decode()

    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert len(lines) >= 5, stderr
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]  # every line parses
    for record in records:
        assert set(record) <= set(JSON_FIELDS), record
        assert {"time", "level", "logger", "message"} <= set(record)
    messages = [r["message"] for r in records]
    assert any(m.startswith("listening on 127.0.0.1:") for m in messages)
    assert any(m.startswith("metrics at http://127.0.0.1:") for m in messages)
    assert any(r["level"] == "DEBUG" for r in records)  # DEBUG was on, and still nothing typed
    for secret in (MARK, "111222333", "moeder"):
        assert secret not in stdout + stderr, secret
