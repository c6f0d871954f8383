"""Loopback stand-ins for Microsoft Teams: the Bot Framework connector the bot answers through,
and the identity service whose keys sign Bot Framework tokens.

``ConnectorStandIn`` records what the bot sends (``POST /v3/conversations/{id}/activities``,
replies under ``/activities/{replyToId}``, ``PUT`` updates, ``POST /v3/conversations`` for new
1:1 chats) and answers member look-ups. Tests make an operation fail with ``fail``. It also
plays the OneDrive upload session a file consent opens: ``PUT /upload/{name}`` is recorded in
``uploads`` (``fail["upload"]`` makes it fail).

``IdentityStandIn`` serves OpenID metadata and a JWKS from a thread, because the SDK fetches
them with blocking ``requests`` from inside the event loop, and mints tokens shaped like the
Bot Framework's (issuer ``https://api.botframework.com``, audience the app id, ``serviceurl``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "3f9a6c1e-2b4d-4e8f-9a1b-5c6d7e8f9a0b"
BOT_ID = f"28:{APP_ID}"
BOT_NAME = "Leerkring"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM = "19:team0a1b2c3d@thread.tacv2"
CHANNEL = "19:kanaal4e5f6a7b@thread.tacv2"
ISSUER = "https://api.botframework.com"


@dataclass(frozen=True)
class TeamsUser:
    aad: str  # the Entra object id: how Leerkring knows a person
    teams_id: str  # the 29:… id Teams uses in activities
    name: str

    @property
    def personal_chat(self) -> str:
        return f"a:1personal-{self.teams_id[3:]}"

    def account(self) -> dict[str, Any]:
        return {"id": self.teams_id, "name": self.name, "aadObjectId": self.aad}


ANNA = TeamsUser("a1a1a1a1-0000-4000-8000-00000000000a", "29:1anna", "Anna de Vries")
KARIM = TeamsUser("b2b2b2b2-0000-4000-8000-00000000000b", "29:1karim", "Karim El Amrani")
FLOOR = TeamsUser("c3c3c3c3-0000-4000-8000-00000000000c", "29:1floor", "Floor Jansen")


# --- the connector -------------------------------------------------------------------------


@dataclass
class Sent:
    method: str  # send, reply, update, create, members, member
    conversation_id: str
    activity_id: str | None  # the replyToId of a reply, the id of an updated activity
    body: dict[str, Any]
    authorization: str | None
    response_id: str | None = None

    @property
    def card(self) -> dict[str, Any]:
        attachments = self.body.get("attachments") or []
        assert attachments, f"no card in {self.method} to {self.conversation_id}: {self.body}"
        assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
        content: dict[str, Any] = attachments[0]["content"]
        return content


@dataclass
class Upload:
    name: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ConnectorStandIn:
    sent: list[Sent] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    # Members per conversation id, as Teams returns them (TeamsChannelAccount-shaped dicts).
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    url: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members", self._members)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_put("/upload/{name}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def upload_url(self, name: str) -> str:
        return f"{self.url}upload/{name}"

    # --- what tests read ---

    def calls(self, method: str | None = None) -> list[Sent]:
        return [s for s in self.sent if method is None or s.method == method]

    def messages(self) -> list[Sent]:
        """Everything that posted or replaced a message, in order."""
        return [s for s in self.sent if s.method in {"send", "reply", "update"}]

    def last(self, method: str) -> Sent:
        calls = self.calls(method)
        assert calls, f"no {method} call; got {[s.method for s in self.sent]}"
        return calls[-1]

    def everything(self) -> str:
        return json.dumps([s.body for s in self.sent], ensure_ascii=False)

    # --- handlers ---

    def _next_id(self) -> str:
        return str(1_700_000_000_000 + next(self._ids))

    async def _record(
        self, request: web.Request, method: str, activity_id: str | None = None
    ) -> Sent | web.Response:
        body = await request.json() if request.can_read_body else {}
        sent = Sent(
            method,
            request.match_info.get("conversation", ""),
            activity_id,
            body,
            request.headers.get("Authorization"),
        )
        self.sent.append(sent)
        if method in self.fail:
            status = self.fail[method]
            return web.json_response(
                {
                    "error": {
                        "code": "BadRequest" if status < 500 else "ServiceError",
                        "message": "x",
                    }
                },
                status=status,
            )
        return sent

    async def _send(self, request: web.Request) -> web.Response:
        sent = await self._record(request, "send")
        if isinstance(sent, web.Response):
            return sent
        sent.response_id = self._next_id()
        return web.json_response({"id": sent.response_id}, status=201)

    async def _reply(self, request: web.Request) -> web.Response:
        sent = await self._record(request, "reply", request.match_info["activity"])
        if isinstance(sent, web.Response):
            return sent
        sent.response_id = self._next_id()
        return web.json_response({"id": sent.response_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        sent = await self._record(request, "update", request.match_info["activity"])
        if isinstance(sent, web.Response):
            return sent
        sent.response_id = request.match_info["activity"]
        return web.json_response({"id": sent.response_id})

    async def _create(self, request: web.Request) -> web.Response:
        sent = await self._record(request, "create")
        if isinstance(sent, web.Response):
            return sent
        members = sent.body.get("members") or [{}]
        conversation = f"a:1created-{members[0].get('id', 'x')}"
        sent.response_id = conversation
        return web.json_response({"id": conversation, "serviceUrl": self.url}, status=201)

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.uploads.append(Upload(request.match_info["name"], dict(request.headers), body))
        if "upload" in self.fail:
            return web.json_response({"error": {"code": "x"}}, status=self.fail["upload"])
        return web.json_response({"id": "drive-item-1", "size": len(body)}, status=201)

    async def _members(self, request: web.Request) -> web.Response:
        sent = await self._record(request, "members")
        if isinstance(sent, web.Response):
            return sent
        return web.json_response(self.members.get(sent.conversation_id, []))

    async def _member(self, request: web.Request) -> web.Response:
        sent = await self._record(request, "member", request.match_info["member"])
        if isinstance(sent, web.Response):
            return sent
        wanted = request.match_info["member"]
        for member in self.members.get(sent.conversation_id, []):
            if wanted in (member.get("id"), member.get("aadObjectId")):
                return web.json_response(member)
        return web.json_response(
            {"error": {"code": "MemberNotFoundInConversation", "message": "not found"}},
            status=404,
        )


# --- the identity service ------------------------------------------------------------------


class IdentityStandIn:
    """OpenID metadata and signing keys on loopback, and tokens signed with them."""

    def __init__(self, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": list(endorsements)})
        self.jwks = {"keys": [jwk]}
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base = ""

    # The SDK caches an identity service's keys per metadata URL for the whole process: a later
    # stand-in on a reused loopback port would be served the keys of an earlier one. The path
    # carries this stand-in's own key id, so every stand-in has a URL of its own.
    @property
    def prefix(self) -> str:
        return f"/{self.kid}/v1/.well-known"

    @property
    def metadata_url(self) -> str:
        return f"{self.base}{self.prefix}/openidconfiguration"

    def start(self) -> None:
        identity = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                identity.requests.append(self.path)
                if self.path == f"{identity.prefix}/openidconfiguration":
                    body = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{identity.base}{identity.prefix}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == f"{identity.prefix}/keys":
                    body = identity.jwks
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def token(
        self,
        service_url: str,
        *,
        audience: str = APP_ID,
        issuer: str = ISSUER,
        expires_in: int = 3600,
        key: rsa.RSAPrivateKey | None = None,
        not_before_in: int = -10,
        drop: tuple[str, ...] = (),
        algorithm: str = "RS256",
        kid: str | None = None,
        secret: str | None = None,
    ) -> str:
        """A channel token; the keyword arguments spoil it one way at a time."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now + not_before_in,
            "iat": now - 10,
            "exp": now + expires_in,
        }
        for name in drop:
            del claims[name]
        headers = {"kid": kid or self.kid}
        if algorithm == "none":
            return jwt.encode(claims, None, algorithm="none", headers=headers)
        if algorithm.startswith("HS"):
            return jwt.encode(claims, secret, algorithm=algorithm, headers=headers)
        return jwt.encode(claims, key or self.key, algorithm=algorithm, headers=headers)

    def forged_token(self, service_url: str) -> str:
        """Looks right (same kid, issuer, audience) but is signed with another key."""
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.token(service_url, key=other)


# --- activities, shaped like Teams sends them ---------------------------------------------

_activity_ids = itertools.count(1)


def new_activity_id() -> str:
    return str(1_690_000_000_000 + next(_activity_ids))


def _channel_data(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {"tenant": {"id": TENANT}}
    if kind == "channel":
        data.update(
            {
                "teamsChannelId": CHANNEL,
                "teamsTeamId": TEAM,
                "channel": {"id": CHANNEL, "name": "Casuïstiek"},
                "team": {"id": TEAM, "name": "Wijkteam Oost"},
            }
        )
    return data


def message(
    service_url: str,
    text: str | None,
    *,
    user: TeamsUser = ANNA,
    kind: str = "channel",
    thread: str | None = None,
    activity_id: str | None = None,
    mention_bot: bool = False,
    mention: TeamsUser | None = None,
    value: dict[str, Any] | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    """A message activity. In a channel a new post's conversation id ends in its own id, a
    reply's in the id of the post it replies under (``thread``)."""
    activity_id = activity_id or new_activity_id()
    entities: list[dict[str, Any]] = [
        {"type": "clientInfo", "locale": "nl-NL", "country": "NL", "platform": "Web"}
    ]
    if mention_bot:
        tag = f"<at>{BOT_NAME}</at>"
        text = f"{tag} {text or ''}"
        entities.append(
            {"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
        )
    if mention is not None:
        tag = f"<at>{mention.name}</at>"
        text = f"{text or ''} {tag}"
        entities.append(
            {
                "type": "mention",
                "text": tag,
                "mentioned": {"id": mention.teams_id, "name": mention.name},
            }
        )
    if kind == "channel":
        conversation = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT,
            "id": f"{CHANNEL};messageid={thread or activity_id}",
        }
    elif kind == "groupChat":
        conversation = {
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "id": "19:groepschat01@thread.v2",
        }
    else:
        conversation = {
            "conversationType": "personal",
            "tenantId": TENANT,
            "id": user.personal_chat,
        }
    activity: dict[str, Any] = {
        "type": "message",
        "id": activity_id,
        "timestamp": "2025-03-14T09:30:00.000Z",
        "localTimestamp": "2025-03-14T10:30:00.000+01:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": user.account(),
        "conversation": conversation,
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "textFormat": "plain",
        "locale": "nl-NL",
        "entities": entities,
        "channelData": _channel_data(kind),
    }
    if text is not None:
        activity["text"] = text
    if value is not None:
        activity["value"] = value
    if reply_to is not None:
        activity["replyToId"] = reply_to
    return activity


def card_submit(
    service_url: str,
    card: dict[str, Any],
    card_message_id: str,
    inputs: dict[str, Any] | None = None,
    *,
    action: int = 0,
    user: TeamsUser = ANNA,
    kind: str = "channel",
    thread: str | None = None,
) -> dict[str, Any]:
    """What Teams sends when someone clicks an ``Action.Submit`` on a card: the action's data
    merged with the input values (a multi-select as "a,b"), replying to the card's message."""
    chosen = card["actions"][action]
    value = dict(chosen["data"])
    if chosen.get("associatedInputs") != "none":
        for key, given in (inputs or {}).items():
            value[key] = ",".join(given) if isinstance(given, list | tuple) else given
    return message(
        service_url,
        None,
        user=user,
        kind=kind,
        thread=thread,
        value=value,
        reply_to=card_message_id,
    )


def file_consent_invoke(
    service_url: str,
    context: dict[str, Any],
    action: str,
    *,
    upload_url: str,
    user: TeamsUser = ANNA,
) -> dict[str, Any]:
    """What Teams sends when someone answers a file consent card in their 1:1 chat: an invoke
    with the card's context and, on accept, the upload session in their OneDrive."""
    activity = message(service_url, None, user=user, kind="personal")
    activity["type"] = "invoke"
    activity["name"] = "fileConsent/invoke"
    activity.pop("entities", None)
    activity["value"] = {
        "type": "fileUpload",
        "action": action,
        "context": context,
        "uploadInfo": {
            "contentUrl": "https://contoso.sharepoint.com/personal/anna/Documents/file.json",
            "name": "leerkring-mijn-gegevens.json",
            "uploadUrl": upload_url,
            "fileType": "json",
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
        },
    }
    return activity


def conversation_update(
    service_url: str, added: list[dict[str, Any]], *, kind: str = "channel"
) -> dict[str, Any]:
    activity = message(service_url, None, kind=kind, user=ANNA)
    activity["type"] = "conversationUpdate"
    activity["membersAdded"] = added
    if kind == "channel":
        activity["conversation"]["id"] = CHANNEL
        activity["channelData"]["eventType"] = "teamMemberAdded"
    activity.pop("entities", None)
    return activity


def bot_account() -> dict[str, Any]:
    return {"id": BOT_ID, "name": BOT_NAME}


# --- what a valid Teams card looks like ----------------------------------------------------

ELEMENTS = {
    "TextBlock",
    "RichTextBlock",
    "Container",
    "ColumnSet",
    "Column",
    "FactSet",
    "ActionSet",
    "Input.Text",
    "Input.ChoiceSet",
}
ACTIONS = {"Action.Submit", "Action.OpenUrl"}
INPUTS = {"Input.Text", "Input.ChoiceSet"}


def assert_valid_teams_card(card: dict[str, Any]) -> None:
    """An Adaptive Card Teams renders: version ≤ 1.5, known elements only, every input with
    a unique id, actions of supported types, and a mention entity for every ``<at>``."""
    assert card["type"] == "AdaptiveCard"
    major, minor = (int(part) for part in card["version"].split("."))
    assert (major, minor) <= (1, 5), card["version"]
    input_ids: list[str] = []
    at_texts: list[str] = []

    def element(item: dict[str, Any]) -> None:
        kind = item.get("type")
        assert kind in ELEMENTS, f"unsupported element {kind}"
        if kind in INPUTS:
            assert isinstance(item.get("id"), str) and item["id"], item
            input_ids.append(item["id"])
        if kind == "TextBlock":
            assert isinstance(item.get("text"), str)
            at_texts.extend(_at_tags(item["text"]))
        if kind == "RichTextBlock":
            for inline in item["inlines"]:
                assert inline["type"] == "TextRun", inline
                assert isinstance(inline["text"], str)
        if kind == "Input.ChoiceSet":
            for choice in item["choices"]:
                assert set(choice) == {"title", "value"}
        for child in item.get("items", []) + item.get("columns", []):
            element(child)
        for action in item.get("actions", []):
            check_action(action)

    def check_action(action: dict[str, Any]) -> None:
        assert action["type"] in ACTIONS, action
        assert action.get("title")
        if action["type"] == "Action.Submit":
            assert isinstance(action.get("data"), dict)

    for item in card["body"]:
        element(item)
    for action in card.get("actions", []):
        check_action(action)
    assert len(input_ids) == len(set(input_ids)), input_ids
    entities = (card.get("msteams") or {}).get("entities", [])
    entity_texts = {e["text"] for e in entities}
    for entity in entities:
        assert entity["type"] == "mention" and entity["mentioned"]["id"], entity
    assert set(at_texts) <= entity_texts, (at_texts, entity_texts)
    json.dumps(card)  # serialisable as is


def _at_tags(text: str) -> list[str]:
    found = []
    start = text.find("<at>")
    while start != -1:
        end = text.find("</at>", start)
        assert end != -1, text
        found.append(text[start : end + len("</at>")])
        start = text.find("<at>", end)
    return found


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(item: dict[str, Any]) -> None:
        if item.get("type") in INPUTS:
            found[item["id"]] = item
        for child in item.get("items", []) + item.get("columns", []):
            walk(child)

    for item in card["body"]:
        walk(item)
    return found


def card_text(card: dict[str, Any]) -> str:
    """The visible text of a card, runs joined, for wording checks."""
    parts: list[str] = []

    def walk(item: dict[str, Any]) -> None:
        if item.get("type") == "TextBlock":
            parts.append(item["text"])
        if item.get("type") == "RichTextBlock":
            parts.append("".join(inline["text"] for inline in item["inlines"]))
        for child in item.get("items", []) + item.get("columns", []):
            walk(child)

    for item in card["body"]:
        walk(item)
    return "\n".join(parts)


FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
# The bot's own outbound token comes from Entra ID over https, which the tests cannot reach;
# the ``outbound_token`` fixture (tests/bot/teams/conftest.py) hands out this one instead.
OUTBOUND_TOKEN = "outbound-test-token"
