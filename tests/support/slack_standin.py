"""A loopback stand-in for Slack's Web API that records every call the bot makes.

It answers like Slack: ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``, accepts form
and JSON bodies, and checks the bearer token. Tests can make a method fail (``fail``), and
``response_url`` posts land at ``/respond/<key>``.

Two ways to answer 429 with Retry-After: ``rate_limits`` (a sliding window per method, for
tests) and ``slack_limits`` (token buckets shaped like Slack's documented limits, for
bench/fanout.py): a bucket per method for the whole workspace and, for methods listed in
``per_channel``, one per channel too. A call must find a token in each bucket that applies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER_ID = "UBOT000001"
TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test-app-token"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Tier:
    """A token bucket: ``per_minute`` on average, at most ``burst`` at once."""

    per_minute: float
    burst: int


# Slack's published tiers (docs.slack.dev/apis/web-api/rate-limits): Tier 3 is "50+ per
# minute", and chat.postMessage is "1 per second per channel, short bursts allowed" plus an
# unpublished workspace-wide limit. The bursts and the workspace figure are our choice.
TIER_3 = Tier(50, 10)
POST_PER_CHANNEL = Tier(60, 3)


@dataclass
class _Bucket:
    tier: Tier
    tokens: float
    updated: float

    def wait(self, now: float) -> float:
        """Seconds until a token is free (0: one is free now). Refills as time passes."""
        rate = self.tier.per_minute / 60
        self.tokens = min(self.tier.burst, self.tokens + (now - self.updated) * rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / rate


@dataclass
class SlackStandIn:
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, str] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    url: str = ""
    _runner: web.AppRunner | None = None
    # Socket Mode: envelopes to push to the connected bot, and what it answered.
    socket_outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    socket_connections: int = 0
    members: dict[str, list[str]] = field(default_factory=dict)
    # Optional rate limit per method: (calls allowed per window, window seconds).
    rate_limits: dict[str, tuple[int, float]] = field(default_factory=dict)
    _windows: dict[str, list[float]] = field(default_factory=dict)
    rate_limited: int = 0
    # Token buckets: method -> workspace-wide tier; method -> tier per channel.
    slack_limits: dict[str, Tier] = field(default_factory=dict)
    per_channel: dict[str, Tier] = field(default_factory=dict)
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    # method -> (successful calls allowed, error afterwards): to break a fan-out half-way.
    fail_after: dict[str, tuple[int, str]] = field(default_factory=dict)
    # files_upload_v2: file id -> bytes posted to the upload URL (step 2 of 3).
    uploads: dict[str, bytes] = field(default_factory=dict)
    _file_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    # Called with every call that got through the rate limit, before it is answered (a fault
    # test kills the bot's process here, so Slack has the message but the bot never hears).
    on_call: Callable[[Call], None] | None = None
    # method -> how many of its next calls succeed at Slack but lose their answer (a proxy's
    # 504): the bot cannot know the message was posted.
    lose_answers: dict[str, int] = field(default_factory=dict)
    # method -> how many of its next calls succeed at Slack, then the connection breaks.
    drop_connections: dict[str, int] = field(default_factory=dict)
    # user -> the DM channel conversations.open answers (default "D" + user id), and DM
    # channels Slack no longer knows: posting, reading or sharing a file there answers
    # channel_not_found.
    dm_channels: dict[str, str] = field(default_factory=dict)
    gone_channels: set[str] = field(default_factory=set)
    # channel -> messages posted there, newest last, as conversations.history returns them.
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    async def wait_for(
        self, method: str, count: int = 1, within: float = 15.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` calls of ``method`` arrived (delivery after the ack is async)."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.calls_to(method)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"expected {count} call(s) to {method}, got {len(self.calls_to(method))}: "
                    f"{[c.method for c in self.calls]}"
                )
            await asyncio.sleep(0.01)
        return self.calls_to(method)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/"

    @property
    def response_base(self) -> str:
        return self.url.replace("/api/", "/respond/")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _unrecord(self, call: Call) -> None:
        """Take back this call (not simply the last one: after the delay other calls may have
        been recorded since)."""
        for index in range(len(self.calls) - 1, -1, -1):
            if self.calls[index] is call:
                del self.calls[index]
                return

    async def _args(self, request: web.Request) -> dict[str, Any]:
        query = dict(request.query)  # Slack accepts arguments in the query string too
        if request.method == "GET":
            return query
        raw = await request.text()
        if request.content_type == "application/json":
            args = json.loads(raw) if raw else {}
        else:
            args = dict(parse_qsl(raw))
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        return {**query, **args}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        expected = APP_TOKEN if method == "apps.connections.open" else TOKEN
        if request.headers.get("Authorization") != f"Bearer {expected}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        args = await self._args(request)
        if (retry := self._bucket_wait(method, str(args.get("channel", "")))) is not None:
            self.rate_limited += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(retry)},
            )
        call = Call(method, args)
        self.calls.append(call)
        if method == "apps.connections.open":
            ws_url = self.url.replace("http://", "ws://").replace("/api/", "/socket")
            return web.json_response({"ok": True, "url": ws_url})
        if method in self.rate_limits:
            allowed, window = self.rate_limits[method]
            now = asyncio.get_running_loop().time()
            recent = [t for t in self._windows.get(method, []) if now - t < window]
            if len(recent) >= allowed:
                self.rate_limited += 1
                self._unrecord(call)  # a refused call is not a call that happened
                retry = max(1, int(window - (now - recent[0])) + 1)
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(retry)},
                )
            recent.append(now)
            self._windows[method] = recent
        if self.on_call is not None:
            self.on_call(call)
        if method in self.delay:
            await asyncio.sleep(self.delay[method])
        if method in self.fail:
            return web.json_response({"ok": False, "error": self.fail[method]})
        # files.completeUploadExternal names its conversation channel_id.
        if str(args.get("channel") or args.get("channel_id") or "") in self.gone_channels:
            self._unrecord(call)
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if method in self.fail_after:
            allowed, error = self.fail_after[method]
            if len(self.calls_to(method)) > allowed:
                self._unrecord(call)
                return web.json_response({"ok": False, "error": error})
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "user_id": BOT_USER_ID,
                    "bot_id": "BBOT01",
                    "team_id": "T1",
                    "user": "leerkring",
                }
            )
        if method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            if method == "chat.postMessage":
                self._remember(args, ts)
            if self.lose_answers.get(method, 0) > 0:
                self.lose_answers[method] -= 1
                return web.Response(status=504, text="<html>504 Gateway Time-out</html>")
            if self.drop_connections.get(method, 0) > 0:
                self.drop_connections[method] -= 1
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)  # never reaches the bot
            return web.json_response({"ok": True, "channel": args.get("channel"), "ts": ts})
        if method in ("conversations.history", "conversations.replies"):
            return self._history(args, thread=args.get("ts") if "replies" in method else None)
        if method in ("views.open", "views.push", "views.update"):
            return web.json_response({"ok": True, "view": {"id": "V1", **(args.get("view") or {})}})
        if method == "conversations.open":
            user = str(args.get("users"))
            channel = self.dm_channels.get(user, "D" + user)
            return web.json_response({"ok": True, "channel": {"id": channel}})
        if method == "conversations.members":
            members = self.members.get(str(args.get("channel")), [])
            return web.json_response(
                {
                    "ok": True,
                    "members": [*members, BOT_USER_ID],
                    "response_metadata": {"next_cursor": ""},
                }
            )
        if method == "chat.getPermalink":
            channel, ts = str(args.get("channel")), str(args.get("message_ts"))
            link = f"https://leerkring-test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return web.json_response({"ok": True, "channel": channel, "permalink": link})
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": "1700000000.999999"})
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids):08d}"
            upload_url = self.url.replace("/api/", f"/upload/{file_id}")
            return web.json_response({"ok": True, "upload_url": upload_url, "file_id": file_id})
        if method == "files.completeUploadExternal":
            files = json.loads(args.get("files") or "[]")
            for item in files:
                if item.get("id") not in self.uploads:
                    return web.json_response({"ok": False, "error": "file_not_found"})
            return web.json_response(
                {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
            )
        return web.json_response({"ok": True})

    def _bucket_wait(self, method: str, channel: str) -> int | None:
        """None when the call may go ahead (its tokens are taken); else Retry-After seconds,
        whole seconds as Slack sends them."""
        now = asyncio.get_running_loop().time()
        buckets = []
        if method in self.slack_limits:
            buckets.append(self._bucket((method, ""), self.slack_limits[method], now))
        if method in self.per_channel:
            buckets.append(self._bucket((method, channel), self.per_channel[method], now))
        wait = max((bucket.wait(now) for bucket in buckets), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return None

    def _bucket(self, key: tuple[str, str], tier: Tier, now: float) -> _Bucket:
        if key not in self._buckets:
            self._buckets[key] = _Bucket(tier, float(tier.burst), now)
        return self._buckets[key]

    def reset_limits(self) -> None:
        """Full buckets and no counted 429s, as after a quiet minute."""
        self._buckets.clear()
        self.rate_limited = 0

    def _remember(self, args: dict[str, Any], ts: str) -> None:
        message: dict[str, Any] = {"type": "message", "user": BOT_USER_ID, "ts": ts}
        message["text"] = args.get("text", "")
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        self.history.setdefault(str(args.get("channel")), []).append(message)

    def _history(self, args: dict[str, Any], thread: str | None = None) -> web.Response:
        # conversations.history: top-level messages, newest first. conversations.replies: a
        # thread, oldest first. Metadata only when asked for with include_all_metadata.
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(args.get("limit") or 100)
        everything = self.history.get(str(args.get("channel")), [])
        if thread is None:
            messages = [m for m in reversed(everything) if "thread_ts" not in m][:limit]
        else:
            messages = [m for m in everything if m["ts"] == thread or m.get("thread_ts") == thread][
                :limit
            ]
        if not with_metadata:
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        return web.json_response(
            {"ok": True, "messages": messages, "has_more": False, "response_metadata": {}}
        )

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK - " + str(len(self.uploads)))

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.socket_connections += 1
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})

        async def pump() -> None:
            while not ws.closed:
                envelope = await self.socket_outbox.get()
                await ws.send_json(envelope)

        sender = asyncio.ensure_future(pump())
        try:
            async for message in ws:
                if message.type.name == "TEXT":
                    self.socket_acks.append(json.loads(message.data))
        finally:
            sender.cancel()
        return ws

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append((request.match_info["key"], await request.json()))
        return web.Response(text="ok")

    def posted_texts(self) -> str:
        """Everything the bot posted, as one string (for privacy and escaping checks)."""
        return json.dumps([c.args for c in self.calls], ensure_ascii=False)
