"""What a signed Slack request is, decided before bolt sees it.

bolt reads ids out of a payload and trusts their types, and answers 404 for anything no
listener matches; Slack counts a 404 as a failed delivery and retries it. So every signed
request is judged here first: handed to bolt (the kinds Leerkring listens for, in a shape bolt
can read), acknowledged and ignored (every other event or interaction type), a revocation, or
refused with a 400 (a kind we handle in a shape no Slack sends).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from bot import bounded_json

# Event types bolt has listeners for (SlackAdapter._register).
HANDLED_EVENTS = frozenset({"message", "member_joined_channel"})
REVOCATIONS = frozenset({"app_uninstalled", "tokens_revoked"})
# Interaction payload types bolt has listeners for.
HANDLED_INTERACTIONS = frozenset({"block_actions", "view_submission"})
# Outer JSON types bolt answers itself (the URL check when the Request URL is saved).
BOLT_ANSWERS = frozenset({"url_verification", "ssl_check"})


@dataclass(frozen=True)
class Verdict:
    action: Literal["dispatch", "ignore", "refuse", "revoked"]
    reason: str = ""
    team_id: str | None = None


def judge(body: str, content_type: str) -> Verdict:
    if not body:
        return Verdict("refuse", "empty body")
    if content_type == "application/json":
        try:
            data = bounded_json.loads(body)
        except bounded_json.TooDeep:
            return Verdict("refuse", "JSON nested too deep")
        except ValueError:
            return Verdict("refuse", "body is not valid JSON")
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            return Verdict("refuse", "JSON body must be an object with a 'type'")
        return _outer(data)
    if content_type != "application/x-www-form-urlencoded":
        return Verdict("refuse", f"unsupported content type {content_type!r}")
    form = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in form:
        try:
            payload = bounded_json.loads(form["payload"])
        except bounded_json.TooDeep:
            return Verdict("refuse", "payload nested too deep")
        except ValueError:
            return Verdict("refuse", "payload is not valid JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return Verdict("refuse", "payload must be an object with a 'type'")
        return _interaction(payload)
    if "ssl_check" in form:
        return Verdict("dispatch")
    if "command" in form:
        if not form["command"].startswith("/"):
            return Verdict("refuse", "a command starts with '/'")
        return Verdict("dispatch")
    return Verdict("refuse", "form body has neither 'command' nor 'payload'")


def _outer(data: Mapping[str, Any]) -> Verdict:
    kind = data["type"]
    if kind in BOLT_ANSWERS:
        return Verdict("dispatch")
    if kind != "event_callback":
        return Verdict("ignore", f"{_short(kind)} requests are not used")
    event = data.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return Verdict("refuse", "event_callback without an event object with a 'type'")
    event_type = event["type"]
    team_id = data.get("team_id")
    if event_type in REVOCATIONS:
        if not isinstance(team_id, str) or not team_id:
            return Verdict("refuse", f"{event_type} without a team_id")
        if event_type == "tokens_revoked" and not _bot_token_revoked(event):
            return Verdict("ignore", "only user tokens were revoked; the bot token works")
        return Verdict("revoked", event_type, team_id)
    if event_type not in HANDLED_EVENTS:
        return Verdict("ignore", f"{_short(event_type)} events are not used")
    if not isinstance(team_id, str | None) or not _optional_str(data, "event_id"):
        return Verdict("refuse", "event_callback with ids of the wrong type")
    return Verdict("dispatch")


def _interaction(payload: Mapping[str, Any]) -> Verdict:
    kind = payload["type"]
    if kind not in HANDLED_INTERACTIONS:
        return Verdict("ignore", f"{_short(kind)} interactions are not used")
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return Verdict("refuse", f"{kind} without a user")
    for key in ("team", "channel", "container", "message"):
        if payload.get(key) is not None and not isinstance(payload.get(key), dict):
            return Verdict("refuse", f"{kind} with a '{key}' that is not an object")
    if kind == "view_submission":
        view = payload.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("type"), str):
            return Verdict("refuse", "view_submission without a view that has a 'type'")
        for key in ("callback_id", "private_metadata", "id", "hash"):
            if not _optional_str(view, key):
                return Verdict("refuse", f"view_submission whose view.{key} is not text")
        if view.get("state") is not None and not isinstance(view.get("state"), dict):
            return Verdict("refuse", "view_submission whose view.state is not an object")
        return Verdict("dispatch")
    actions = payload.get("actions")
    if (
        not isinstance(actions, list)
        or not actions
        or not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    ):
        return Verdict("refuse", "block_actions without actions that have an 'action_id'")
    for action in actions:
        if not _optional_str(action, "block_id"):
            return Verdict("refuse", "block_actions whose block_id is not text")
    return Verdict("dispatch")


def _bot_token_revoked(event: Mapping[str, Any]) -> bool:
    tokens = event.get("tokens")
    if not isinstance(tokens, dict):
        return True  # no detail: assume the worst, the next start-up checks the token
    return bool(tokens.get("bot"))


def _optional_str(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) is None or isinstance(data.get(key), str)


def _short(kind: str) -> str:
    """A type named in a log line or answer: printable and short, never a whole payload."""
    printable = "".join(c for c in kind[:40] if c.isprintable())
    return repr(printable)
