"""Slack: bolt for signatures, parsing and Socket Mode; our handlers for everything else.

``process_before_response=True`` puts the moment of the ack in our hands: a listener acks when
it has what the ack must carry (form errors, an ephemeral answer) and hands slow work to
background tasks. An event whose handling fails before the ack gets a 500, so Slack redelivers
it, and the stored ``event_id`` makes the redelivery count once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from aiohttp import ClientConnectorError, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot import revocation
from bot.delivery import AsyncReplies, form_errors_outside_a_form
from bot.form_seal import FormSeal, form_key
from bot.group_commit import WriterStopped
from bot.runtime import Outcome, Runtime
from bot.settings import Settings
from bot.slack import render, shapes
from bot.slack.messenger import DirectChannelStore, SlackMessenger
from handlers.core.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    MemberJoined,
    Place,
    ThreadMessage,
)
from handlers.core.messaging import DeliveryFailed, outbox_key
from handlers.core.replies import (
    DirectMessage,
    Ephemeral,
    FormErrors,
    OpenForm,
    PostMessage,
    Reply,
    UpdateMessage,
    UploadFile,
)
from prompts import Texts

log = logging.getLogger(__name__)

PLATFORM = "slack"
# Message subtypes that are people writing; edits, deletions, joins and bots are not.
_PERSON_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}
# Budget for posting before the modal closes; Slack waits 3 s for a view_submission ack.
FORM_DELIVERY_BUDGET = 2.0


class RetryLater(Exception):
    """Answer Slack with a 500 so it redelivers the event later."""


@dataclass(frozen=True)
class Delivery:
    """Who and where a set of replies is for."""

    actor: Actor
    place: Place | None
    trigger_id: str | None = None
    response_url: str | None = None


class SlackAdapter(AsyncReplies[Delivery]):
    platform = "Slack"

    def __init__(
        self, settings: Settings, runtime: Runtime, texts: Texts, client: AsyncWebClient
    ) -> None:
        self.runtime = runtime
        self.texts = texts
        self.client = client
        secret = settings.slack_signing_secret
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret.get_secret_value() if secret else None,
            process_before_response=True,
            # handle_http checks the signature before bolt sees a request (and answers 401
            # itself); Socket Mode has no signatures. Checking again in bolt is work done twice.
            request_verification_enabled=False,
            raise_error_for_unhandled_request=False,
        )
        self.messenger = SlackMessenger(self.client, texts, DirectChannelStore(runtime.database))
        self.verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
        self.seal = FormSeal(form_key(settings))
        self._tasks: set[asyncio.Task[None]] = set()
        self._register()

    # --- wiring ---

    def _register(self) -> None:
        app = self.app
        # bolt tries the listeners in this order until one matches: thread replies are the
        # busiest kind of request, so their listener goes first.
        app.event("message")(self._on_message)
        app.command(re.compile(r"^/"))(self._on_command)
        app.view(re.compile(r".*"))(self._on_view_submission)
        app.action(re.compile(r".*"))(self._on_action)
        app.event("member_joined_channel")(self._on_member_joined)
        # Over HTTP handle_http settles these before bolt (bot/slack/shapes.py); in Socket Mode
        # they arrive here, and an envelope bolt does not answer with a 200 is never acked.
        app.event(re.compile(r"^(app_uninstalled|tokens_revoked)$"))(self._on_revoked)
        app.event(re.compile(r".*"))(self._on_other_event)
        app.error(self._on_error)

    async def handle_http(self, request: web.Request) -> web.Response:
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:  # Slack always sends UTF-8; aiohttp's text() would raise
            return web.json_response({"error": "body is not UTF-8 text"}, status=400)
        if self.verifier is not None and not _signed(self.verifier, body, request):
            return web.json_response({"error": "invalid signature or stale timestamp"}, status=401)
        verdict = shapes.judge(body, request.content_type)
        if verdict.action == "refuse":
            log.warning("slack payload refused: %s", verdict.reason)
            return web.json_response({"error": verdict.reason}, status=400)
        if verdict.action == "ignore":
            log.debug("slack request acknowledged and ignored: %s", verdict.reason)
            return web.Response(status=200)
        if verdict.action == "revoked":
            assert verdict.team_id is not None
            await asyncio.to_thread(
                revocation.mark_revoked,
                self.runtime.database,
                PLATFORM,
                verdict.team_id,
                verdict.reason,
            )
            return web.Response(status=200)
        try:
            bolt_request = AsyncBoltRequest(
                body=body, query=request.query_string, headers=dict(request.headers)
            )
        except Exception as exc:  # bolt reads ids out of the payload and trusts their types
            log.warning("slack payload refused: %s", type(exc).__name__)
            return web.json_response({"error": "payload has an unexpected shape"}, status=400)
        try:
            bolt_response: BoltResponse = await self.app.async_dispatch(bolt_request)
        except Exception as exc:
            log.error("slack request failed: %s", type(exc).__name__)
            return web.json_response({"error": "internal error"}, status=500)
        return await to_aiohttp_response(bolt_response)

    async def resume_if_reinstalled(self) -> None:
        """A workspace marked revoked is back when the (new) bot token works."""
        database = self.runtime.database
        try:
            if not await asyncio.to_thread(revocation.is_revoked, database, PLATFORM):
                return
        except Exception as exc:  # the database may still be starting; the mark stays
            log.warning("cannot check for a revoked Slack workspace: %s", type(exc).__name__)
            return
        try:
            await self.client.auth_test()
        except Exception as exc:
            log.warning("Slack still refuses the bot token (%s): sends stay stopped", _why(exc))
            return
        await asyncio.to_thread(revocation.clear, database, PLATFORM)

    async def close(self) -> None:
        """Let background deliveries finish (bounded), then stop."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background delivery failed: %r", task.exception())

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        if isinstance(error, RetryLater):
            log.warning("event not handled now, Slack will redeliver: %s", error)
            return None  # bolt answers 500: Slack redelivers
        # A payload whose fields have unexpected types; a retry would fail the same way.
        log.error("slack listener failed: %s", type(error).__name__)  # its text may quote input
        return BoltResponse(
            status=400,
            body=json.dumps({"error": "payload could not be handled"}),
            headers={"content-type": "application/json"},
        )

    # --- listeners: payload -> event -> replies ---

    async def _on_command(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        actor = _actor(body.get("user_id"), body.get("user_name"), body.get("team_id"))
        place = _place(body.get("channel_id"), body.get("team_id"), body.get("channel_name"))
        if actor is None or place is None:
            await ack(text=self.texts.rich("general.error_generic").plain())
            return
        event = CommandInvoked(
            actor, place, str(body.get("command", "")).lstrip("/").lower(), body.get("text") or ""
        )
        outcome = await self.runtime.handle(event)
        delivery = Delivery(actor, place, body.get("trigger_id"), body.get("response_url"))
        notices = [r for r in outcome.replies if isinstance(r, Ephemeral)]
        if notices:
            rendered = self._render_notice(notices[0])
            await ack(response_type="ephemeral", text=rendered.text, blocks=rendered.blocks)
        else:
            await ack()
        rest = [r for r in outcome.replies if not (notices and r is notices[0])]
        if rest:
            self._spawn(self.deliver(rest, delivery))

    async def _on_view_submission(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]
    ) -> None:
        view = body.get("view") or {}
        user = body.get("user") or {}
        actor = _actor(
            user.get("id"), user.get("username") or user.get("name"), user.get("team_id")
        )
        field_ids = render.input_block_ids(view)
        first_field = field_ids[0] if field_ids else None
        if actor is None:
            await ack()
            return
        form_id = str(view.get("callback_id", ""))
        opened = render.sealed_metadata(view.get("private_metadata"), form_id, self.seal)
        if opened is None:
            log.warning("form %.40r refused: its metadata is not as opened", form_id)
            notice = self.texts.get("general.form_tampered")
            if first_field:
                await ack(response_action="errors", errors={first_field: notice})
            else:
                await ack()
            return
        metadata, place = opened
        event = FormSubmitted(actor, place, form_id, render.form_values(view), metadata)
        outcome = await self.runtime.handle(event)
        delivery = Delivery(actor, place)

        errors = _form_errors(outcome, field_ids)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        forms = [r for r in outcome.replies if isinstance(r, OpenForm)]
        if forms:
            view_json = render.render_form(forms[0].form, place, self.seal)
            await ack(response_action="push", view=view_json)
            return
        # Post while the modal is still open, so a failure keeps the person's text in the form;
        # notices from a failed post are collected and shown on the form instead.
        posts = [r for r in outcome.replies if isinstance(r, PostMessage)]
        rest = [r for r in outcome.replies if not isinstance(r, PostMessage)]
        notices: list[Ephemeral] = []
        acked = asyncio.Event()

        async def post_then_notify() -> None:
            await self.deliver(posts, delivery, collect=notices)
            if acked.is_set():  # too slow for the modal: tell them in chat instead
                for notice in notices:
                    await self._send_ephemeral(notice, delivery)

        work = asyncio.ensure_future(post_then_notify())
        done, _ = await asyncio.wait({work}, timeout=FORM_DELIVERY_BUDGET)
        if not done:
            acked.set()
            self._tasks.add(work)
            work.add_done_callback(self._task_done)
            await ack()
        elif notices and first_field:
            await ack(response_action="errors", errors={first_field: notices[0].text.plain()})
            return
        else:
            await ack()
        if rest:
            self._spawn(self.deliver(rest, delivery))

    async def _on_action(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        user = body.get("user") or {}
        actor = _actor(
            user.get("id"), user.get("username") or user.get("name"), user.get("team_id")
        )
        actions = body.get("actions") or []
        if actor is None or not actions or not isinstance(actions[0], dict):
            return
        action = actions[0]
        channel = body.get("channel") or {}
        place = _place(channel.get("id"), (body.get("team") or {}).get("id"), channel.get("name"))
        message = body.get("message") or {}
        event = ButtonPressed(
            actor,
            place,
            str(action.get("action_id", "")),
            str(action.get("value", "")),
            message.get("ts"),
        )
        delivery = Delivery(actor, place, body.get("trigger_id"), body.get("response_url"))
        self._spawn(self._handle_and_deliver(event, delivery))

    async def _on_message(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], event: dict[str, Any]
    ) -> None:
        thread_ts = event.get("thread_ts")
        if (
            event.get("subtype") not in _PERSON_SUBTYPES
            or event.get("bot_id")
            or not _is_id(thread_ts)
            or not _is_id(event.get("ts"))
            or thread_ts == event.get("ts")
            or not event.get("user")
            or (body.get("event_id") is not None and not _is_id(body.get("event_id")))
        ):
            await ack()
            return
        actor = _actor(event.get("user"), None, body.get("team_id"))
        place = _place(event.get("channel"), body.get("team_id"), None)
        if actor is None or place is None:
            await ack()
            return
        message = ThreadMessage(
            actor,
            place,
            thread_id=str(thread_ts),
            message_id=str(event.get("ts", "")),
            text=str(event.get("text") or ""),
            event_id=str(body.get("event_id") or f"{place.channel_id}:{event.get('ts')}"),
        )
        try:
            outcome = await self.runtime.handle(message)
        except WriterStopped as exc:
            raise RetryLater("shutting down") from exc
        if outcome.failure is not None:
            # Not stored: the reply is in the channel but not yet a bijdrage. Slack's
            # redelivery is its way in; the stored event_id makes that count once.
            raise RetryLater(f"thread reply not stored ({outcome.failure})")
        await ack()
        if outcome.replies:
            self._spawn(self.deliver(outcome.replies, Delivery(actor, place)))

    async def _on_member_joined(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], event: dict[str, Any]
    ) -> None:
        actor = _actor(event.get("user"), None, event.get("team") or body.get("team_id"))
        place = _place(event.get("channel"), body.get("team_id"), None)
        if actor is None or place is None or actor.user_id == await self.messenger.bot_user_id():
            await ack()  # the bot joining a channel is not a member to welcome
            return
        joined = MemberJoined(actor, place, str(body.get("event_id") or ""))
        outcome = await self.runtime.handle(joined)
        if outcome.failure == "database":
            raise RetryLater("database unavailable")
        await ack()
        if outcome.replies:
            self._spawn(self.deliver(outcome.replies, Delivery(actor, place)))

    async def _on_revoked(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        verdict = shapes.judge(json.dumps(body), "application/json")
        if verdict.action == "revoked" and verdict.team_id is not None:
            await asyncio.to_thread(
                revocation.mark_revoked,
                self.runtime.database,
                PLATFORM,
                verdict.team_id,
                verdict.reason,
            )
        await ack()

    async def _on_other_event(self, ack: Callable[..., Awaitable[None]]) -> None:
        await ack()

    async def _handle_and_deliver(self, event: Event, delivery: Delivery) -> None:
        outcome = await self.runtime.handle(event)
        await self.deliver(outcome.replies, delivery)

    # --- delivery: replies -> Web API ---

    # The reply methods of the adapter contract (bot/delivery.py).

    async def send_notice(self, reply: Ephemeral, delivery: Delivery) -> None:
        await self._send_ephemeral(reply, delivery)

    async def send_post(self, reply: PostMessage, delivery: Delivery) -> list[Reply]:
        return await self._post(reply)

    async def send_update(self, reply: UpdateMessage, delivery: Delivery) -> None:
        await self._update(reply)

    async def send_direct(self, reply: DirectMessage, delivery: Delivery) -> None:
        try:
            await self.messenger.direct(reply.user_id, reply.content)
        except DeliveryFailed as exc:
            log.warning("direct message failed: %s", exc.reason)

    async def send_form(self, reply: OpenForm, delivery: Delivery) -> None:
        await self._open_form(reply, delivery)

    send_form_errors = staticmethod(form_errors_outside_a_form)

    async def send_file(self, reply: UploadFile, delivery: Delivery) -> None:
        await self._upload(reply)

    async def _upload(self, reply: UploadFile) -> None:
        """A file for a conversation, or for one person in their direct message with the bot
        (the stored DM channel, as for every other DM: ``SlackMessenger.upload``)."""
        try:
            await self.messenger.upload(reply)
        except DeliveryFailed as exc:
            log.warning("file upload failed: %s", exc.reason)

    async def _post(self, reply: PostMessage) -> list[Reply]:
        record = reply.record_as
        key = outbox_key(record.kind, record.object_id) if record is not None else None
        try:
            ref = await self.messenger.post(reply.place, reply.content, reply.thread_id, key=key)
        except DeliveryFailed as exc:
            if record is None:
                return []
            found = None
            if key is not None and unknown_outcome(exc.reason):  # it may have arrived
                with contextlib.suppress(DeliveryFailed):
                    found = await self.messenger.find_posted(
                        reply.place, key, _minute_ago(), reply.thread_id
                    )
            if found is None:
                return await self.runtime.post_failed(record, exc.reason)
            ref = found
        if reply.record_as is not None:
            return await self.runtime.posted(reply.record_as, ref)
        return []

    async def _update(self, reply: UpdateMessage) -> None:
        rendered = render.render_card(
            reply.content, read_more=self.texts.rich("casus.card.read_more")
        )
        await self._safe_call(
            self.client.chat_update(
                channel=reply.place.channel_id,
                ts=reply.message_id,
                text=rendered.text,
                blocks=rendered.blocks,
            )
        )

    async def _open_form(self, reply: OpenForm, delivery: Delivery) -> None:
        if not delivery.trigger_id:
            log.error("cannot open form %s without a trigger_id", reply.form.form_id)
            return
        view = render.render_form(reply.form, delivery.place, self.seal)
        await self._safe_call(self.client.views_open(trigger_id=delivery.trigger_id, view=view))

    def _render_notice(self, reply: Ephemeral) -> render.RenderedMessage:
        if reply.card is not None:
            rendered = render.render_card(reply.card)
            rendered.text = render.truncate(render.mrkdwn(reply.text), 3000)
            return rendered
        return render.render_plain_notice(reply.text)

    async def _send_ephemeral(self, reply: Ephemeral, delivery: Delivery) -> None:
        rendered = self._render_notice(reply)
        if delivery.response_url:
            try:
                from slack_sdk.webhook.async_client import AsyncWebhookClient

                hook = AsyncWebhookClient(delivery.response_url)
                result = await hook.send(
                    text=rendered.text,
                    blocks=rendered.blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
                if result.status_code == 200:
                    return
            except Exception as exc:
                log.warning("response_url failed: %r", exc)
        if delivery.place is not None:
            try:
                await self.client.chat_postEphemeral(
                    channel=delivery.place.channel_id,
                    user=delivery.actor.user_id,
                    text=rendered.text,
                    blocks=rendered.blocks,
                )
                return
            except SlackApiError as exc:
                log.info("chat.postEphemeral failed (%s); sending a DM", exc.response.get("error"))
        # Not in the channel (or no channel at all): a direct message always reaches them.
        await self._safe_call(
            self.client.chat_postMessage(
                channel=delivery.actor.user_id, text=rendered.text, blocks=rendered.blocks
            )
        )

    async def _safe_call(self, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except SlackApiError as exc:
            log.warning("slack call failed: %s", exc.response.get("error"))
        except Exception as exc:
            log.warning("slack call failed: %r", exc)
        return None


def _why(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__


def _minute_ago() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)


def _is_id(value: object) -> TypeGuard[str]:
    """Slack's ids and timestamps are short and printable; NUL in one would be stored as is
    on SQLite and refused by PostgreSQL, so such a payload is not ours to handle."""
    return isinstance(value, str) and 0 < len(value) <= 100 and value.isprintable()


def _actor(user_id: object, name: object, team_id: object) -> Actor | None:
    if not _is_id(user_id):
        return None
    return Actor(
        PLATFORM,
        user_id,
        name if isinstance(name, str) else None,
        team_id if isinstance(team_id, str) else None,
    )


def _place(channel_id: object, team_id: object, name: object) -> Place | None:
    if not _is_id(channel_id):
        return None
    return Place(
        PLATFORM,
        channel_id,
        team_id if isinstance(team_id, str) else None,
        name if isinstance(name, str) else None,
    )


def _form_errors(outcome: Outcome, field_ids: list[str]) -> dict[str, str]:
    """Errors to show in the modal: field errors, or a failure pinned to the first field."""
    first = field_ids[0] if field_ids else None
    for reply in outcome.replies:
        if isinstance(reply, FormErrors):
            shown = {k: v for k, v in reply.errors.items() if k in field_ids}
            missing = [v for k, v in reply.errors.items() if k not in field_ids]
            if missing and first:
                shown.setdefault(first, missing[0])
            return shown
    if outcome.failure and first:
        notices = [r for r in outcome.replies if isinstance(r, Ephemeral)]
        if notices:
            return {first: notices[0].text.plain()}
    return {}


def _signed(verifier: SignatureVerifier, body: str, request: web.Request) -> bool:
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    # isdigit() alone lets "²" through, which the verifier's int() then raises on.
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
        return False
    return verifier.is_valid(body, timestamp, signature)


# Methods that create something each time they are called: Slack does not deduplicate them.
NOT_IDEMPOTENT = {
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.scheduleMessage",
    "files.completeUploadExternal",
}


def unknown_outcome(reason: str) -> bool:
    """A failure that says nothing about whether the post arrived: no answer, or a proxy's
    5xx page instead of Slack's answer."""
    return reason in ("unreachable", "unknown") or reason.startswith("http_5")


class PostSafeConnectionRetry(AsyncConnectionErrorRetryHandler):
    """Retries connection errors, except where a post may already have arrived: a connection
    that broke after the request was sent (reset, disconnected) is not retried for methods in
    ``NOT_IDEMPOTENT``, or one post could appear three times. Failing to connect at all is."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.split("?", 1)[0].rsplit("/", 1)[-1]
        if method in NOT_IDEMPOTENT and not isinstance(error, ClientConnectorError):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def make_slack_client(settings: Settings) -> AsyncWebClient:
    """One Web API client: rate-limited calls (429) wait out Retry-After and try again."""
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            PostSafeConnectionRetry(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=6),
        ],
    )
