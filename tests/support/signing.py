"""Requests shaped and signed exactly like Slack's (HMAC-SHA256 over ``v0:ts:body``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"


def signature(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: str, content_type: str, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, ts, secret),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


def command_body(
    command: str,
    text: str = "",
    *,
    user: str = "U111",
    channel: str = "C100",
    response_url: str = "",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "team_domain": "leerkring-test",
            "channel_id": channel,
            "channel_name": "casuïstiek",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def view_submission(
    view: dict[str, Any], values: dict[str, Any], *, user: str = "U111"
) -> dict[str, Any]:
    """A view_submission payload for a modal the bot opened, with the person's input."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        block_id = block["block_id"]
        element = block["element"]
        value = values.get(block_id)
        if element["type"] == "multi_static_select":
            selected = [o for o in element["options"] if o["value"] in (value or [])]
            state[block_id] = {
                element["action_id"]: {"type": element["type"], "selected_options": selected}
            }
        elif element["type"] == "static_select":
            chosen = next((o for o in element["options"] if o["value"] == value), None)
            if chosen is None and value is None:
                chosen = element.get("initial_option")
            state[block_id] = {
                element["action_id"]: {"type": element["type"], "selected_option": chosen}
            }
        else:
            state[block_id] = {element["action_id"]: {"type": element["type"], "value": value}}
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "leerkring-test"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": "12345.98765.abcd2358fdea",
        "view": {
            "id": "VMHU10V25",
            "team_id": "T1",
            "type": "modal",
            "blocks": view["blocks"],
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view["callback_id"],
            "state": {"values": state},
            "hash": "156772938.1827394",
            "title": view["title"],
            "app_id": "A1",
            "bot_id": "BBOT01",
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


def block_action(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str = "C100",
    message_ts: str = "1700000000.000001",
    response_url: str = "",
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "12466734323.1395872398.abc",
        "team": {"id": "T1", "domain": "leerkring-test"},
        "channel": {"id": channel, "name": "casuistiek"},
        "message": {
            "type": "message",
            "ts": message_ts,
            "user": "UBOT000001",
            "bot_id": "BBOT01",
            "text": "casus",
        },
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "knop", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": "1700000001.000000",
            }
        ],
    }


def thread_reply_event(
    text: str,
    *,
    thread_ts: str,
    ts: str,
    user: str = "U222",
    channel: str = "C100",
    event_id: str = "Ev0001",
) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": "T1",
        "api_app_id": "A1",
        "event": {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
            "parent_user_id": "UBOT000001",
            "channel": channel,
            "event_ts": ts,
            "channel_type": "channel",
            "team": "T1",
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000100,
        "authorizations": [{"team_id": "T1", "user_id": "UBOT000001", "is_bot": True}],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
    }
