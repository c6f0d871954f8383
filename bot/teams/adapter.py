"""Teams: ``POST /api/messages`` to our handlers and back, with the Bot Framework SDK.

Every request is authenticated before anything else (with an app id: a Bot Framework JWT).
Then the conversation reference is stored and the activity becomes one of our events:

- a message that @mentions the bot (or any message in a 1:1 chat) is a command word;
- an ``Action.Submit`` from one of our cards (a message with ``value``) is a form submission
  or a button press;
- any other message in the thread of a post is a ``ThreadMessage`` (the manifest's RSC
  permission ChannelMessage.Read.Group delivers those without a mention).

Replies are sent within the turn, so Teams' request ends when they are out. Teams has no
ephemeral messages: notices about a form appear on the form card itself, answers to a command
in the command's thread, and notices about something a person wrote in a thread go to them in
a 1:1 chat.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ChannelAccount
from botbuilder.schema.teams import FileConsentCardResponse

from bot import bounded_json
from bot.delivery import AsyncReplies, form_errors_outside_a_form
from bot.form_seal import FormSeal, form_key
from bot.runtime import Outcome, Runtime
from bot.services import Services
from bot.teams import files, render
from bot.teams.connection import TeamsConnection, connector, delivery_failed
from bot.teams.messenger import TeamsMessenger, card_activity
from bot.teams.store import (
    PLATFORM,
    TeamsStore,
    base_conversation_id,
    channel_data,
    conversation_kind,
    team_of,
    tenant_of,
    thread_root,
    user_id_of,
)
from bot.teams.token import TokenRefused
from handlers.core.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    FormSubmitted,
    MemberJoined,
    Place,
    ThreadMessage,
)
from handlers.core.help import help_text
from handlers.core.messaging import DeliveryFailed
from handlers.core.replies import (
    Card,
    DirectMessage,
    Ephemeral,
    Form,
    FormErrors,
    OpenForm,
    PostMessage,
    Reply,
    Rich,
    UpdateMessage,
    UploadFile,
    rich,
)
from handlers.core.router import FileRefused
from handlers.privacy.flow import without_hard_identifiers
from handlers.privacy.guard import PrivacyGuard
from prompts import Texts

log = logging.getLogger(__name__)

HELP_WORDS = {"", "help", "leerkring"}
FORM_CACHE_SIZE = 500
_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)


class RetryLater(Exception):
    """Answer Teams with a 503 so the activity is delivered again."""


@dataclass(frozen=True)
class Delivery:
    """Who acted, where, and how notices reach them."""

    turn: TurnContext
    actor: Actor
    place: Place
    notices: Literal["reply", "direct"] = "reply"


def make_teams_adapter(services: Services) -> TeamsAdapter:
    messenger = services.teams_messenger
    assert messenger is not None, "build_services adds the Teams messenger when Teams is on"
    return TeamsAdapter(
        messenger.connection,
        services.runtime,
        services.texts,
        services.guard,
        messenger,
        messenger.store,
        FormSeal(form_key(services.settings)),
    )


@dataclass(frozen=True)
class _Opened:
    """A form card we sent, and for whom."""

    form: Form
    user_id: str


class TeamsAdapter(AsyncReplies[Delivery]):
    platform = "Teams"

    def __init__(
        self,
        connection: TeamsConnection,
        runtime: Runtime,
        texts: Texts,
        guard: PrivacyGuard,
        messenger: TeamsMessenger,
        store: TeamsStore,
        seal: FormSeal,
    ) -> None:
        self.connection = connection
        self.seal = seal
        self.runtime = runtime
        self.texts = texts
        self.guard = guard
        self.messenger = messenger
        self.store = store
        self.bot = _LeerkringBot(self)
        # Form cards we sent, by message id: a submission with errors shows the same form
        # again. After a restart this is empty and errors come back as a reply instead.
        self._forms: OrderedDict[tuple[str, str], _Opened] = OrderedDict()

    # --- HTTP -----------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.Response:
        try:
            await self.connection.check_token(request.headers.get("Authorization"))
        except Exception as exc:
            log.warning("Teams request refused: not authenticated (%s)", _reason(exc))
            return _error(401, "unauthorized")
        if request.content_type != "application/json":
            return _error(415, "expected an application/json activity")
        try:
            body = bounded_json.loads((await request.read()).decode("utf-8"))
        except bounded_json.TooDeep:
            log.warning("Teams activity refused: JSON nested too deep")
            return _error(400, "JSON nested too deep")
        except ValueError:  # UnicodeDecodeError is one too
            return _error(400, "body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return _error(400, "JSON body must be an activity with a 'type'")
        try:
            activity = Activity.deserialize(body)
        except Exception:
            return _error(400, "body is not a Bot Framework activity")
        try:
            authenticated = await self.connection.authenticate(
                activity, request.headers.get("Authorization") or None
            )
        except Exception as exc:
            log.warning("Teams request refused: not authenticated (%s)", type(exc).__name__)
            return _error(401, "unauthorized")
        problem = activity_problem(activity) or invoke_problem(activity)
        if problem is not None:
            log.warning("Teams activity refused: %s", problem)
            return _error(400, problem)
        try:
            invoke = await self.connection.process(authenticated, activity, self.bot.on_turn)
        except RetryLater as exc:
            log.warning("Teams activity not handled now, it will be redelivered: %s", exc)
            return _error(503, "try again later")
        except Exception:
            log.exception("Teams turn failed for a %s activity", activity.type)
            return _error(500, "internal error")
        if invoke is not None:
            status = int(invoke.status)
            if status == 501:  # the SDK's answer to an invoke no handler is written for
                return _error(400, "this invoke is not supported")
            return web.json_response(invoke.body, status=status, dumps=_dumps)
        return web.Response(status=200)

    # --- turns ----------------------------------------------------------------------------

    async def on_message(self, turn: TurnContext) -> None:
        activity = turn.activity
        actor = _actor(activity)
        if actor is None:
            log.info("Teams message without a sender ignored")
            return
        place = _place(activity)
        if activity.value is not None:
            await self._on_submission(turn, actor, place)
            return
        kind = conversation_kind(activity)
        if kind == "personal" or _mentions_bot(activity):
            await self._on_command(turn, actor, place)
            return
        thread_id = _thread_id(activity)
        if thread_id is not None:
            await self._on_thread_message(turn, actor, place, thread_id)

    async def on_members_added(self, turn: TurnContext, members: list[ChannelAccount]) -> None:
        activity = turn.activity
        bot_id = getattr(activity.recipient, "id", None)
        place = _place(activity)
        for member in members:
            if member is None:  # a malformed activity (seen in fuzzing): nobody to welcome
                continue
            if member.id == bot_id:
                log.info("Teams: added to a %s conversation", conversation_kind(activity))
                continue
            user_id = user_id_of(member)
            if not user_id:
                continue
            self.messenger.know(member)
            actor = Actor(PLATFORM, user_id, member.name, tenant_of(activity))
            joined = MemberJoined(actor, place, f"{activity.id or ''}:{user_id}")
            outcome = await self.runtime.handle(joined)
            if outcome.failure == "database":
                raise RetryLater("database unavailable")
            if outcome.replies:
                await self.deliver(outcome.replies, Delivery(turn, actor, place, "direct"))

    async def _on_command(self, turn: TurnContext, actor: Actor, place: Place) -> None:
        activity = turn.activity
        if activity.id and not await self.store.claim(f"activity:{activity.id}"):
            return
        word, text = command_words(_command_text(activity))
        delivery = Delivery(turn, actor, place)
        if word in HELP_WORDS:
            await self._notice(help_text(self.texts, PLATFORM), delivery)
            return
        if word not in self.runtime.router.commands:
            await self._notice(self.texts.rich("teams.unknown_command", command=word), delivery)
            return
        outcome = await self.runtime.handle(CommandInvoked(actor, place, word, text))
        if _has_private_file(outcome.replies):
            # A private file (such as /mijn-gegevens): what comes with it is private too, in
            # the 1:1 chat next to the file, not in the channel where the command was typed.
            delivery = Delivery(turn, actor, place, "direct")
        await self.deliver(outcome.replies, delivery)

    async def _on_thread_message(
        self, turn: TurnContext, actor: Actor, place: Place, thread_id: str
    ) -> None:
        activity = turn.activity
        if not activity.id:
            return
        message = ThreadMessage(
            actor,
            place,
            thread_id=thread_id,
            message_id=str(activity.id),
            text=_AT_TAG.sub("", activity.text or ""),
            event_id=str(activity.id),
        )
        outcome = await self.runtime.handle(message)
        if outcome.failure == "database":
            raise RetryLater("database unavailable")
        if outcome.replies:
            await self.deliver(outcome.replies, Delivery(turn, actor, place, "direct"))

    async def _on_submission(self, turn: TurnContext, actor: Actor, place: Place) -> None:
        activity = turn.activity
        submission = render.parse_submission(activity.value)
        delivery = Delivery(turn, actor, place)
        if submission is None:
            await self._notice(self.texts.rich("teams.form.empty"), delivery)
            return
        if activity.id and not await self.store.claim(f"activity:{activity.id}"):
            return
        card_id = activity.reply_to_id or None
        if isinstance(submission, render.ButtonSubmission):
            event = ButtonPressed(
                actor, place, submission.action_id, submission.value, card_id or None
            )
            outcome = await self.runtime.handle(event)
            await self.deliver(outcome.replies, Delivery(turn, actor, place, "direct"))
        elif isinstance(submission, render.CancelSubmission):
            self._forms.pop((place.channel_id, card_id or ""), None)
            await self._replace_card(turn, card_id, self.texts.rich("teams.form.cancelled"))
        else:
            await self._on_form(turn, delivery, submission, card_id)

    async def _on_form(
        self,
        turn: TurnContext,
        delivery: Delivery,
        submission: render.FormSubmission,
        card_id: str | None,
    ) -> None:
        # The card's data can be forged like any request: its metadata counts only when it is
        # exactly what the bot put there (the place comes from the activity itself).
        if not self.seal.valid(submission.seal, submission.form_id, submission.metadata, None):
            log.warning("form %.40r refused: its metadata is not as opened", submission.form_id)
            await self._notice(self.texts.rich("general.form_tampered"), delivery)
            return
        key = (delivery.place.channel_id, card_id or "")
        opened = self._forms.get(key)
        if opened is not None and opened.form.form_id != submission.form_id:
            opened = None
        form = opened.form if opened is not None else None
        # A form card in a channel can be submitted by anyone who sees it; only the person it
        # was opened for changes the card. (After a restart nobody is known: the card is theirs.)
        mine = opened is None or opened.user_id == delivery.actor.user_id
        # What the form was opened with comes from our own copy when we still have it.
        metadata = form.metadata if form is not None else submission.metadata
        event = FormSubmitted(
            delivery.actor, delivery.place, submission.form_id, submission.values, metadata
        )
        outcome = await self.runtime.handle(event)
        privately = Delivery(turn, delivery.actor, delivery.place, "direct")
        if outcome.failure is not None:
            # Nothing was written (the database was down, or a bug): keep what was typed.
            notice = next(
                (r.text for r in outcome.replies if isinstance(r, Ephemeral)),
                self.texts.rich("general.error_generic"),
            )
            if mine:
                await self._form_again(turn, delivery, form, submission, card_id, notice=notice)
            else:
                await self._notice(notice, privately)
            return
        errors = _field_errors(outcome)
        if errors:
            if mine:
                await self._form_again(turn, delivery, form, submission, card_id, errors=errors)
            else:
                await self._notice(_errors_named(self.texts, submission, errors), privately)
            return
        # Posts first, while the form can still show what went wrong with them.
        posts = [r for r in outcome.replies if isinstance(r, PostMessage)]
        rest = [r for r in outcome.replies if not isinstance(r, PostMessage)]
        failed: list[Ephemeral] = []
        await self.deliver(posts, delivery, collect=failed)
        if failed:
            if mine:
                await self._form_again(
                    turn, delivery, form, submission, card_id, notice=failed[0].text
                )
            else:
                await self.deliver(failed, privately)
            return
        notices = [r for r in rest if isinstance(r, Ephemeral)]
        if mine:
            # The form is done: its card now says what happened, so it cannot be sent twice.
            self._forms.pop(key, None)
            done = self.texts.rich("teams.form.sent", title=submission.title)
            if notices:
                await self._replace_card(turn, card_id, notices[0].text, notices[0].card)
            else:
                await self._replace_card(turn, card_id, done)
            rest = [r for r in rest if not (notices and r is notices[0])]
        await self.deliver(rest, privately)

    async def _form_again(
        self,
        turn: TurnContext,
        delivery: Delivery,
        form: Form | None,
        submission: render.FormSubmission,
        card_id: str | None,
        *,
        errors: Mapping[str, str] | None = None,
        notice: Rich | None = None,
    ) -> None:
        """Show the form again with the errors, keeping what was typed (identifiers removed:
        the card is stored by Teams and, in a channel, seen by everyone)."""
        errors = dict(errors or {})
        if form is not None and card_id:
            unknown = [message for key, message in errors.items() if key not in submission.labels]
            summary = notice or self.texts.rich("teams.form.has_errors")
            if notice is None and unknown:
                summary = rich("{text}", text=unknown[0])
            values = without_hard_identifiers(self.guard, submission.values)
            if values != submission.values:
                summary = Rich(
                    f"{summary.template}\n{self.texts.get('teams.form.blocked_value_removed')}",
                    summary.params,
                )
            rendered = render.render_form(
                form,
                {},
                self.texts.get("teams.someone"),
                values=values,
                errors=errors,
                notice=summary,
                required_text=self.texts.get("general.field_required"),
                seal=self._seal_of(form),
            )
            try:
                await self._update(turn, card_id, card_activity(rendered))
                return
            except DeliveryFailed:
                pass  # the card could not be updated: say it in a reply instead
        if notice is not None and not errors:
            await self._notice(notice, delivery)
            return
        await self._notice(_errors_named(self.texts, submission, errors), delivery)

    # --- delivery: replies -> connector ---------------------------------------------------

    # The reply methods of the adapter contract (bot/delivery.py).

    async def send_notice(self, reply: Ephemeral, delivery: Delivery) -> None:
        await self._notice(reply.text, delivery, reply.card)

    async def send_post(self, reply: PostMessage, delivery: Delivery) -> list[Reply]:
        return await self._post(reply)

    async def send_update(self, reply: UpdateMessage, delivery: Delivery) -> None:
        # A failed update is logged with its context by the messenger.
        with contextlib.suppress(DeliveryFailed):
            await self.messenger.update(reply.place, reply.message_id, reply.content)

    async def send_direct(self, reply: DirectMessage, delivery: Delivery) -> None:
        await self._direct_message(reply)

    async def send_form(self, reply: OpenForm, delivery: Delivery) -> None:
        await self._open_form(reply.form, delivery)

    send_form_errors = staticmethod(form_errors_outside_a_form)

    async def send_file(self, reply: UploadFile, delivery: Delivery) -> None:
        await self._offer_file(reply, delivery)

    def after_deferred(self, later: Sequence[Reply], delivery: Delivery) -> Delivery:
        # Teams waits for the whole turn (about 15 s), so slow work runs within it. As for a
        # command: what comes with a private file (such as the harvest's summary next to its
        # report) is private too, in the 1:1 chat.
        if _has_private_file(later):
            return Delivery(delivery.turn, delivery.actor, delivery.place, "direct")
        return delivery

    async def _offer_file(self, reply: UploadFile, delivery: Delivery) -> None:
        """A private file goes through Teams' file consent (bot/teams/files.py). Only files
        that can be made again on accept are offered: their content is not held meanwhile."""
        if reply.source is None or reply.user_id is None:
            # Not dropped silently: logged, and the person is told.
            log.error("Teams cannot deliver the file %s (no file source)", reply.filename)
            await self._notice(
                self.texts.rich("teams.file_unsupported", title=reply.title), delivery
            )
            return
        context = files.ConsentContext(
            reply.source, reply.user_id, reply.filename, reply.title, reply.source_args
        )
        description = self.texts.rich("teams.file.consent", title=reply.title).plain()
        activity = files.consent_activity(context, description, len(reply.content))
        try:
            await self.messenger.send_direct(reply.user_id, activity)
        except DeliveryFailed:
            await self._notice(self.texts.rich("teams.file.failed"), delivery)

    async def on_file_consent(self, turn: TurnContext, answer: FileConsentCardResponse) -> None:
        """The person answered a file consent card: upload on accept, say so on decline."""
        activity = turn.activity
        actor = _actor(activity)
        context = files.ConsentContext.parse(answer.context)
        if actor is None or context is None:
            log.warning("Teams file consent answer without a sender or our context; ignored")
            return
        delivery = Delivery(turn, actor, _place(activity))
        if activity.id and not await self.store.claim(f"activity:{activity.id}"):
            return
        if context.user_id != actor.user_id:
            log.warning("Teams file consent answered by someone it was not for; refused")
            await self._notice(self.texts.rich("teams.file.not_yours"), delivery)
            return
        if answer.action != "accept":
            await self._declined(context, delivery)
            return
        try:
            content = await self.runtime.make_file(
                context.source, PLATFORM, actor.user_id, context.args
            )
        except FileRefused as refused:
            log.info("Teams file %s refused by its source", context.filename)
            await self._notice(refused.notice, delivery)
            return
        except Exception:
            log.exception("making the file %s again failed", context.filename)
            content = None
        if content is None:
            await self._notice(self.texts.rich("teams.file.failed"), delivery)
            return
        try:
            await files.upload(getattr(answer.upload_info, "upload_url", None), content)
        except DeliveryFailed:
            await self._notice(self.texts.rich("teams.file.failed"), delivery)
            return
        try:
            await self.runtime.file_delivered(context.source, PLATFORM, actor.user_id, context.args)
        except Exception:
            log.exception("recording the delivery of %s failed", context.filename)
        with contextlib.suppress(DeliveryFailed):  # logged by delivery_failed
            await self._reply(turn, files.info_activity(answer, context.filename))

    async def _declined(self, context: files.ConsentContext, delivery: Delivery) -> None:
        """Nothing is made or uploaded. Logged by file source and type only (no title, name or
        person); the person is told the file was not sent and how to ask for it again."""
        kind = context.filename.rsplit(".", 1)[-1] if "." in context.filename else "?"
        log.info("Teams file consent declined (source %r, type %r)", context.source[:40], kind[:8])
        try:
            text = self.texts.rich(f"teams.file.declined.{context.source}", title=context.title)
        except KeyError:  # a file source without a text of its own
            text = self.texts.rich("teams.file.declined.other", title=context.title)
        await self._notice(text, delivery)

    async def _post(self, reply: PostMessage) -> list[Reply]:
        try:
            ref = await self.messenger.post(reply.place, reply.content, reply.thread_id)
        except DeliveryFailed as exc:
            if reply.record_as is not None:
                return await self.runtime.post_failed(reply.record_as, exc.reason)
            return []
        if reply.record_as is not None:
            return await self.runtime.posted(reply.record_as, ref)
        return []

    def _seal_of(self, form: Form) -> str:
        return self.seal.sign(form.form_id, form.metadata, None)

    async def _open_form(self, form: Form, delivery: Delivery) -> None:
        rendered = render.render_form(
            form,
            {},
            self.texts.get("teams.someone"),
            required_text=self.texts.get("general.field_required"),
            seal=self._seal_of(form),
        )
        try:
            card_id = await self._reply(delivery.turn, card_activity(rendered))
        except DeliveryFailed:
            return
        if card_id:
            self._forms[(delivery.place.channel_id, card_id)] = _Opened(
                form, delivery.actor.user_id
            )
            while len(self._forms) > FORM_CACHE_SIZE:
                self._forms.popitem(last=False)

    async def _direct_message(self, reply: DirectMessage) -> None:
        if reply.platform != PLATFORM:
            log.error("a %s direct message reached the Teams adapter; dropped", reply.platform)
            return
        # A failure is logged with its context by the messenger.
        with contextlib.suppress(DeliveryFailed):
            await self.messenger.direct(reply.user_id, reply.content)

    async def _notice(self, text: Rich, delivery: Delivery, card: Card | None = None) -> None:
        if card is not None:
            rendered = await self.messenger.render(card)
        else:
            names = await self.store.names(render.mention_ids([text]))
            rendered = render.render_notice(text, names, self.texts.get("teams.someone"))
        if delivery.notices == "direct" and conversation_kind(delivery.turn.activity) != "personal":
            try:
                await self.messenger.send_direct(delivery.actor.user_id, card_activity(rendered))
                return
            except DeliveryFailed:
                log.info("Teams notice could not go 1:1; answering in the conversation instead")
        with contextlib.suppress(DeliveryFailed):  # logged by delivery_failed
            await self._reply(delivery.turn, card_activity(rendered))

    async def _reply(self, turn: TurnContext, activity: Activity) -> str | None:
        try:
            response = await turn.send_activity(activity)
        except Exception as exc:
            raise delivery_failed(exc, "reply", str(turn.activity.conversation.id)) from None
        return str(response.id) if response is not None and response.id else None

    async def _update(self, turn: TurnContext, card_id: str, activity: Activity) -> None:
        activity.id = card_id
        try:
            await turn.update_activity(activity)
        except Exception as exc:
            raise delivery_failed(exc, "card update", str(turn.activity.conversation.id)) from None

    async def _replace_card(
        self, turn: TurnContext, card_id: str | None, text: Rich, card: Card | None = None
    ) -> None:
        if card is not None:
            rendered = await self.messenger.render(card)
        else:
            names = await self.store.names(render.mention_ids([text]))
            rendered = render.render_notice(text, names, self.texts.get("teams.someone"))
        if card_id:
            try:
                await self._update(turn, card_id, card_activity(rendered))
                return
            except DeliveryFailed:
                pass
        with contextlib.suppress(DeliveryFailed):
            await self._reply(turn, card_activity(rendered))


class _LeerkringBot(TeamsActivityHandler):
    """The SDK's activity routing; everything it sees goes to the adapter."""

    def __init__(self, adapter: TeamsAdapter) -> None:
        self.adapter = adapter

    async def on_turn(self, turn_context: TurnContext) -> None:
        # Every conversation the bot is in, remembered on every activity: proactive messages
        # then work after a restart and without anyone speaking first.
        await self.adapter.store.remember(turn_context.activity)
        connector(turn_context)  # sets a timeout fit for a chat turn
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.adapter.on_message(turn_context)

    # The SDK answers the fileConsent/invoke with 200 once these return.
    async def on_teams_file_consent_accept(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        await self.adapter.on_file_consent(turn_context, file_consent_card_response)

    async def on_teams_file_consent_decline(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        await self.adapter.on_file_consent(turn_context, file_consent_card_response)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        # The SDK would look up every added member through the connector first; Teams already
        # sends their object ids, which is all we need.
        members = turn_context.activity.members_added or []
        if members:
            await self.adapter.on_members_added(turn_context, members)


# --- activity -> event parts ------------------------------------------------------------------


def activity_problem(activity: Activity) -> str | None:
    """Why an authenticated activity cannot be handled, or None."""
    conversation = activity.conversation
    if conversation is None or not getattr(conversation, "id", None):
        return "activity has no conversation"
    if not activity.service_url:
        return "activity has no serviceUrl"
    return None


# Invokes Leerkring answers; the SDK would answer any other with a 501.
SUPPORTED_INVOKES = frozenset({"fileConsent/invoke"})


def invoke_problem(activity: Activity) -> str | None:
    """Why an invoke cannot be handled, or None (also for activities that are no invoke).
    The SDK deserialises an invoke's value into its own classes and fails with a traceback on
    a value of another shape, so the shape is checked first."""
    if activity.type != "invoke":
        return None
    if activity.name not in SUPPORTED_INVOKES:
        return "this invoke is not supported"
    value = activity.value
    if not isinstance(value, dict) or value.get("action") not in ("accept", "decline"):
        return "file consent answer without an action"
    for key in ("context", "uploadInfo"):
        if value.get(key) is not None and not isinstance(value.get(key), dict):
            return f"file consent answer whose {key} is not an object"
    upload = value.get("uploadInfo") or {}
    for key in ("name", "uploadUrl", "contentUrl", "uniqueId", "fileType"):
        if not isinstance(upload.get(key), str | None):
            return f"file consent answer whose uploadInfo.{key} is not text"
    return None


def command_words(text: str) -> tuple[str, str]:
    """``casus Gezin zoekt hulp`` -> ("casus", "Gezin zoekt hulp"); a leading slash is fine."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    word = parts[0].lstrip("/").lower()
    return word, parts[1].strip() if len(parts) > 1 else ""


def _command_text(activity: Activity) -> str:
    """The text without the bot's own ``<at>Leerkring</at>``; other mentions keep their name."""
    text = activity.text or ""
    for tag in _bot_mention_tags(activity):
        text = text.replace(tag, " ")
    return _AT_TAG.sub("", text).replace("&nbsp;", " ")


def _bot_mention_tags(activity: Activity) -> list[str]:
    bot_id = getattr(activity.recipient, "id", None)
    tags = []
    for entity in activity.entities or []:
        if (getattr(entity, "type", "") or "").lower() != "mention":
            continue
        properties = getattr(entity, "additional_properties", None) or {}
        mentioned = properties.get("mentioned") or {}
        if isinstance(mentioned, dict) and bot_id and mentioned.get("id") == bot_id:
            tag = properties.get("text")
            tags.append(
                tag if isinstance(tag, str) and tag else f"<at>{mentioned.get('name')}</at>"
            )
    return tags


def _mentions_bot(activity: Activity) -> bool:
    return bool(_bot_mention_tags(activity))


def _thread_id(activity: Activity) -> str | None:
    root = thread_root(str(activity.conversation.id))
    if root and root != activity.id:
        return root
    reply_to = activity.reply_to_id
    return str(reply_to) if reply_to and reply_to != activity.id else None


def _actor(activity: Activity) -> Actor | None:
    user_id = user_id_of(activity.from_property)
    if not user_id:
        return None
    name = getattr(activity.from_property, "name", None)
    return Actor(PLATFORM, user_id, name if isinstance(name, str) else None, tenant_of(activity))


def _place(activity: Activity) -> Place:
    channel = channel_data(activity).get("channel")
    name = channel.get("name") if isinstance(channel, dict) else None
    return Place(
        PLATFORM,
        base_conversation_id(str(activity.conversation.id)),
        team_of(activity),
        name if isinstance(name, str) else None,
    )


def _errors_named(
    texts: Texts, submission: render.FormSubmission, errors: Mapping[str, str]
) -> Rich:
    named = "; ".join(
        f"{submission.labels.get(field_id, field_id)} ({message})"
        for field_id, message in errors.items()
    )
    return texts.rich("teams.form.errors_reply", fields=named)


def _field_errors(outcome: Outcome) -> dict[str, str]:
    for reply in outcome.replies:
        if isinstance(reply, FormErrors):
            return dict(reply.errors)
    return {}


def _has_private_file(replies: Sequence[Reply]) -> bool:
    return any(isinstance(r, UploadFile) and r.user_id for r in replies)


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, TokenRefused) else type(exc).__name__


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)
