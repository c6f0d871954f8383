"""The casus flow: intake, posting, bijdragen in the thread, and closing by the inbrenger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.casus.anonymous import (
    ANONYMOUS,
    ANONYMOUS_FIELD,
    ANONYMOUS_USER_ID,
    anonymous_field,
    inbrenger_hash,
    inbrenger_label,
    is_inbrenger,
)
from handlers.casus.queries import bijdrage_repo, casus_repo
from handlers.core.context import HandlerContext
from handlers.core.events import ButtonPressed, CommandInvoked, FormSubmitted, Place, ThreadMessage
from handlers.core.forms import FieldRule, clean_text, group_findings
from handlers.core.replies import (
    Actions,
    Button,
    Card,
    Context,
    Ephemeral,
    Form,
    FormErrors,
    FormField,
    Header,
    Mention,
    MultiSelect,
    OpenForm,
    Option,
    Param,
    PostMessage,
    Record,
    Reply,
    Section,
    TextInput,
    UpdateMessage,
    rich,
)
from handlers.core.router import MessageRef, Router
from handlers.ids import parse_id
from handlers.privacy.flow import (
    CHECK,
    PRIVACY_FIELD,
    check_posted,
    check_submission,
    finds_names,
    privacy_choice_field,
    pseudonymise,
    thread_notice,
)
from prompts import Texts
from storage.models import Casus, CasusStatus

INTAKE_FORM = "casus_intake"
REPLY_FORM = "casus_bijdrage"
CLOSE_FORM = "casus_afronden"
ACTION_THINK_ALONG = "casus_denk_mee"
ACTION_CLOSE = "casus_afronden"
ACTION_APPROVE = "casus_anoniem_plaatsen"
ACTION_DISCARD = "casus_anoniem_annuleren"

REPLY_MAX = 3000
CLOSE_MAX = 1500
# Thread replies stored together are checked this many per guard call (see _check).


# --- intake ---------------------------------------------------------------------------------


def intake_form(
    texts: Texts, title: str = "", names: bool = False, anonymous: bool = False
) -> Form:
    """``names``: the guard also finds names and places, so the form asks what to do with
    them (handlers/privacy_flow.py). ``anonymous``: offer to bring the casus in anonymously
    (handlers/anonymous.py)."""
    fields: list[FormField] = []
    for q in texts.casus_questions:
        if q.kind == "choices":
            fields.append(
                MultiSelect(
                    field_id=q.id,
                    label=q.label,
                    options=tuple(Option(p.id, p.label) for p in texts.perspectives),
                    required=q.required,
                    placeholder=q.placeholder,
                    hint=q.hint,
                )
            )
        else:
            initial = clean_text(title)[: q.max_length] if q.id == "titel" and title else None
            fields.append(
                TextInput(
                    field_id=q.id,
                    label=q.label,
                    required=q.required,
                    multiline=q.multiline,
                    max_length=q.max_length,
                    initial=initial or None,
                    placeholder=q.placeholder,
                    hint=q.hint,
                )
            )
    if anonymous:
        fields.append(anonymous_field(texts))
    if names:
        fields.append(privacy_choice_field(texts, approval=True))
    return Form(
        form_id=INTAKE_FORM,
        title=texts.get("casus.form.title"),
        submit_label=texts.get("casus.form.submit"),
        cancel_label=texts.get("casus.form.cancel"),
        fields=tuple(fields),
        intro=texts.rich("casus.form.intro"),
    )


def start_intake(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    form = intake_form(
        ctx.texts,
        event.text,
        names=finds_names(ctx.guard),
        anonymous=ctx.hmac_secret is not None,
    )
    return [OpenForm(form)]


def submit_intake(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    values = {q.id: clean_text(event.text(q.id)) for q in texts.casus_questions if q.kind == "text"}
    rules = [
        FieldRule(q.id, q.required, q.max_length) for q in texts.casus_questions if q.kind == "text"
    ]
    checked = check_submission(values, rules, texts, ctx.guard, event.text(PRIVACY_FIELD) or CHECK)
    if checked.errors:
        return [FormErrors(checked.errors)]
    if event.place is None:
        return [Ephemeral(texts.rich("general.error_generic"))]
    values = checked.values
    known = {p.id for p in texts.perspectives}
    perspectives = [p for p in event.choices("perspectieven") if p in known]

    anonymous = ctx.hmac_secret is not None and event.text(ANONYMOUS_FIELD) == ANONYMOUS
    if anonymous:
        anonymous_name = texts.get("privacy.anonymous.name")
        member = ctx.repos.members.ensure(
            event.actor.platform, ANONYMOUS_USER_ID, display_name=anonymous_name
        )
    else:
        member = ctx.member(event.actor)
    place = event.place
    channel = ctx.repos.channels.ensure(place.platform, place.channel_id, place.team_id, place.name)
    casus = casus_repo(ctx).add(
        channel=channel,
        inbrenger=member,
        title=values["titel"],
        situation=values["situatie"],
        obstacle=values.get("knelpunt"),
        uncertainty=values.get("onzeker"),
        question=values["vraag"],
        perspectives=perspectives,
    )
    if anonymous:
        assert ctx.hmac_secret is not None
        casus.anonymous = True
        casus.inbrenger_hash = inbrenger_hash(
            ctx.hmac_secret, event.actor.platform, event.actor.user_id
        )
    card = casus_card(casus, texts, event.actor.user_id)
    if checked.pseudonymised:
        # Stored as a draft (pending, not posted): the person approves the result first.
        return [approval_notice(casus, card, texts)]
    casus.status = CasusStatus.POSTING  # until the post is recorded; see unrecorded_posts
    return [PostMessage(place, card, record_as=Record("casus", casus.id))]


def casus_card(casus: Casus, texts: Texts, inbrenger_user_id: str) -> Card:
    if casus.channel is not None:
        texts = texts.on(casus.channel.platform)  # the hints in the adapter's own words
    inbrenger: Param = Mention(inbrenger_user_id)
    if casus.anonymous:
        inbrenger = inbrenger_label(casus, texts)
    blocks: list[Header | Section | Context | Actions] = [
        Header(casus.title),
        Context(texts.rich("casus.card.brought_in_by", inbrenger=inbrenger)),
        _labelled(texts.get("casus.card.situation"), casus.situation),
    ]
    if casus.obstacle:
        blocks.append(_labelled(texts.get("casus.card.obstacle"), casus.obstacle))
    if casus.uncertainty:
        blocks.append(_labelled(texts.get("casus.card.uncertainty"), casus.uncertainty))
    blocks.append(_labelled(texts.get("casus.card.question"), casus.question))
    if casus.perspectives:
        labels = ", ".join(texts.perspective_label(p) for p in casus.perspectives)
        blocks.append(_labelled(texts.get("casus.card.perspectives"), labels))
    if casus.status == CasusStatus.CLOSED:
        blocks.append(Context(texts.rich("casus.card.closed_badge", inbrenger=inbrenger)))
    else:
        blocks.append(
            Actions(
                (
                    Button(
                        ACTION_THINK_ALONG,
                        texts.get("casus.card.think_along"),
                        str(casus.id),
                        style="primary",
                    ),
                    Button(ACTION_CLOSE, texts.get("casus.card.close"), str(casus.id)),
                )
            )
        )
        blocks.append(Context(texts.rich("casus.card.footer", number=casus.id)))
    return Card(
        tuple(blocks),
        fallback=texts.rich("casus.card.fallback", inbrenger=inbrenger, title=casus.title),
    )


def _labelled(label: str, text: str) -> Section:
    return Section(rich("**{label}**\n{text}", label=label, text=text))


def casus_posted(ctx: HandlerContext, casus_id: int, ref: MessageRef) -> list[Reply]:
    casus = casus_repo(ctx).get(casus_id)
    if casus is not None:
        casus_repo(ctx).mark_posted(casus, ref.message_id)
    return []


@dataclass(frozen=True)
class Unrecorded:
    casus_id: int
    place: Place
    created_at: datetime


def unrecorded_posts(ctx: HandlerContext, settle: timedelta) -> list[Unrecorded]:
    """Casussen on their way to the channel for longer than ``settle``: the process or the
    database went away between posting and recording the post. The scheduler looks for the
    post on the platform and records it, or removes the casus when it never arrived."""
    return [
        Unrecorded(
            casus.id,
            Place(casus.channel.platform, casus.channel.platform_channel_id),
            casus.created_at,
        )
        for casus in casus_repo(ctx).unrecorded(ctx.now() - settle)
    ]


def drop_unposted(ctx: HandlerContext, casus_id: int) -> None:
    casus = casus_repo(ctx).get(casus_id)
    if casus is not None and casus.status == CasusStatus.POSTING and casus.message_id is None:
        casus_repo(ctx).delete(casus)


def casus_post_failed(ctx: HandlerContext, casus_id: int, reason: str) -> list[Reply]:
    """Posting failed: remove the stored casus so nothing half-done remains."""
    casus = casus_repo(ctx).get(casus_id)
    if casus is not None and casus.status in (CasusStatus.PENDING, CasusStatus.POSTING):
        casus_repo(ctx).delete(casus)
    key = (
        "general.not_in_channel"
        if reason in {"not_in_channel", "channel_not_found", "forbidden", "unknown_conversation"}
        else ("general.error_generic")
    )
    return [Ephemeral(ctx.texts.rich(key))]


def approval_notice(casus: Casus, card: Card, texts: Texts) -> Ephemeral:
    """The pseudonymised casus as it would be posted, with buttons to post or drop it."""
    value = str(casus.id)
    blocks = (
        Section(texts.rich("privacy.preview.intro")),
        *(b for b in card.blocks if not isinstance(b, Actions | Context)),
        Actions(
            (
                Button(ACTION_APPROVE, texts.get("privacy.preview.approve"), value, "primary"),
                Button(ACTION_DISCARD, texts.get("privacy.preview.discard"), value),
            )
        ),
    )
    fallback = texts.rich("privacy.preview.fallback", title=casus.title)
    return Ephemeral(fallback, Card(blocks, fallback=fallback))


def _draft_of(event: ButtonPressed, ctx: HandlerContext) -> Casus | None:
    """The actor's own casus that still waits for approval."""
    casus = _casus_for(ctx, event.value)
    if casus is None or casus.status != CasusStatus.PENDING or casus.message_id is not None:
        return None
    return casus if is_inbrenger(casus, event.actor, ctx.hmac_secret) else None


def approve_pseudonymised(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    casus = _draft_of(event, ctx)
    if casus is None or not casus_repo(ctx).claim_draft(casus):
        return [Ephemeral(ctx.texts.rich("privacy.preview.gone"))]
    card = casus_card(casus, ctx.texts, event.actor.user_id)
    return [PostMessage(_casus_place(casus), card, record_as=Record("casus", casus.id))]


def discard_pseudonymised(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    casus = _draft_of(event, ctx)
    if casus is None:
        return [Ephemeral(ctx.texts.rich("privacy.preview.gone"))]
    casus_repo(ctx).delete(casus)
    return [Ephemeral(ctx.texts.rich("privacy.preview.discarded"))]


# --- bijdragen --------------------------------------------------------------------------------


def _casus_for(ctx: HandlerContext, value: object) -> Casus | None:
    casus_id = parse_id(value)
    return None if casus_id is None else casus_repo(ctx).get(casus_id)


def think_along(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    casus = _casus_for(ctx, event.value)
    if casus is None:
        return [Ephemeral(ctx.texts.rich("casus.close_form.not_found"))]
    texts = ctx.texts
    form = Form(
        form_id=REPLY_FORM,
        title=texts.get("casus.reply_form.title"),
        submit_label=texts.get("casus.reply_form.submit"),
        cancel_label=texts.get("casus.reply_form.cancel"),
        fields=(
            TextInput(
                "bijdrage",
                texts.get("casus.reply_form.label"),
                required=True,
                multiline=True,
                max_length=REPLY_MAX,
                placeholder=texts.get("casus.reply_form.placeholder"),
            ),
            *((privacy_choice_field(texts),) if finds_names(ctx.guard) else ()),
        ),
        intro=rich("**{title}**", title=casus.title),
        metadata={"casus_id": casus.id},
    )
    return [OpenForm(form)]


def submit_bijdrage(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    casus = _casus_for(ctx, event.metadata.get("casus_id"))
    if casus is None or casus.message_id is None:
        return [Ephemeral(ctx.texts.rich("casus.close_form.not_found"))]
    # A bijdrage is short and goes straight into the thread: with "pseudonymise" the
    # placeholders are posted as chosen, without the casus intake's approval step.
    checked = check_submission(
        {"bijdrage": clean_text(event.text("bijdrage"))},
        [FieldRule("bijdrage", True, REPLY_MAX)],
        ctx.texts,
        ctx.guard,
        event.text(PRIVACY_FIELD) or CHECK,
    )
    if checked.errors:
        return [FormErrors(checked.errors)]
    text = checked.values["bijdrage"]
    member = ctx.member(event.actor)
    bijdrage = bijdrage_repo(ctx).add(casus, member, text, message_id=None)
    assert bijdrage is not None
    author = Mention(event.actor.user_id)
    card = Card(
        (Section(ctx.texts.rich("casus.reply_form.posted", author=author, text=text)),),
        fallback=ctx.texts.rich("casus.reply_form.fallback", author=author),
    )
    return [
        PostMessage(
            _casus_place(casus),
            card,
            thread_id=casus.message_id,
            record_as=Record("bijdrage", bijdrage.id),
        )
    ]


def _casus_place(casus: Casus) -> Place:
    channel = casus.channel
    return Place(channel.platform, channel.platform_channel_id, channel.team_id, channel.name)


def bijdrage_posted(ctx: HandlerContext, bijdrage_id: int, ref: MessageRef) -> list[Reply]:
    bijdrage_repo(ctx).set_message_id(bijdrage_id, ref.message_id)
    return []


def bijdrage_post_failed(ctx: HandlerContext, bijdrage_id: int, reason: str) -> list[Reply]:
    """Not in the thread: not stored either, as the notice ("niets bewaard") says."""
    bijdrage_repo(ctx).delete_unposted(bijdrage_id)
    return [Ephemeral(ctx.texts.rich("general.error_generic"))]


def thread_replies(events: Sequence[ThreadMessage], ctx: HandlerContext) -> list[list[Reply]]:
    """Replies under a casus become bijdragen. The runtime hands over the replies that arrived
    together, so the batch costs one lookup, one guard call and one insert; the answer is one
    list of replies per event, in order."""
    replies: list[list[Reply]] = [[] for _ in events]
    casus_ids = casus_repo(ctx).ids_by_thread(_thread_key(event) for event in events)
    # Field ids are positions in the batch: the guard checks every field on its own.
    texts: dict[str, str] = {}
    for position, event in enumerate(events):
        if _thread_key(event) in casus_ids and (text := clean_text(event.text)):
            texts[str(position)] = text
    if not texts:
        return replies
    findings = group_findings(check_posted(ctx.guard, texts))
    authors = ctx.repos.members.ensure_ids(
        [
            (actor.platform, actor.user_id, actor.display_name, actor.user_id in ctx.facilitators)
            for actor in (events[int(field_id)].actor for field_id in texts)
        ]
    )
    contributions: list[tuple[int, int, str, str]] = []
    for field_id, text in texts.items():
        event, found = events[int(field_id)], findings.get(field_id, [])
        # The message is already in the channel; we can at least keep identifiers out of our
        # store, and tell the author privately.
        if found:
            text = pseudonymise({field_id: text}, found, ctx.texts)[field_id]
            replies[int(field_id)] = [
                Ephemeral(thread_notice(found, ctx.texts.on(event.actor.platform)))
            ]
        author = authors[(event.actor.platform, event.actor.user_id)]
        contributions.append((casus_ids[_thread_key(event)], author, text, event.message_id))
    bijdrage_repo(ctx).add_many(contributions)
    return replies


def _thread_key(event: ThreadMessage) -> tuple[str, str, str]:
    return (event.place.platform, event.place.channel_id, event.thread_id)


# --- closing --------------------------------------------------------------------------------


def start_close(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    casus = _casus_for(ctx, event.value)
    if casus is None:
        return [Ephemeral(texts.rich("casus.close_form.not_found"))]
    if not is_inbrenger(casus, event.actor, ctx.hmac_secret):
        return [
            Ephemeral(
                texts.rich(
                    "casus.close_form.only_inbrenger", inbrenger=inbrenger_label(casus, texts)
                )
            )
        ]
    if casus.status == CasusStatus.CLOSED:
        return [Ephemeral(texts.rich("casus.close_form.already_closed"))]
    form = Form(
        form_id=CLOSE_FORM,
        title=texts.get("casus.close_form.title"),
        submit_label=texts.get("casus.close_form.submit"),
        cancel_label=texts.get("casus.close_form.cancel"),
        fields=(
            TextInput(
                "inzicht",
                texts.get("casus.close_form.insight"),
                required=True,
                multiline=True,
                max_length=CLOSE_MAX,
                placeholder=texts.get("casus.close_form.insight_placeholder"),
            ),
            TextInput(
                "stap",
                texts.get("casus.close_form.next_step"),
                required=True,
                multiline=True,
                max_length=CLOSE_MAX,
                placeholder=texts.get("casus.close_form.next_step_placeholder"),
            ),
            *((privacy_choice_field(texts),) if finds_names(ctx.guard) else ()),
        ),
        intro=rich("**{title}**", title=casus.title),
        metadata={"casus_id": casus.id},
    )
    return [OpenForm(form)]


def submit_close(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    casus = _casus_for(ctx, event.metadata.get("casus_id"))
    if casus is None:
        return [Ephemeral(texts.rich("casus.close_form.not_found"))]
    inbrenger = casus.inbrenger
    if not is_inbrenger(casus, event.actor, ctx.hmac_secret):
        return [
            Ephemeral(
                texts.rich(
                    "casus.close_form.only_inbrenger", inbrenger=inbrenger_label(casus, texts)
                )
            )
        ]
    if casus.status == CasusStatus.CLOSED:
        return [Ephemeral(texts.rich("casus.close_form.already_closed"))]
    values = {"inzicht": clean_text(event.text("inzicht")), "stap": clean_text(event.text("stap"))}
    checked = check_submission(
        values,
        [FieldRule("inzicht", True, CLOSE_MAX), FieldRule("stap", True, CLOSE_MAX)],
        texts,
        ctx.guard,
        event.text(PRIVACY_FIELD) or CHECK,
    )
    if checked.errors:
        return [FormErrors(checked.errors)]
    values = checked.values
    casus_repo(ctx).close(casus, values["inzicht"], values["stap"], at=ctx.now())
    count = casus_repo(ctx).bijdrage_count(casus)
    who = inbrenger_label(casus, texts)
    note = Card(
        (
            Section(
                texts.rich(
                    "casus.close_form.closed_note",
                    inbrenger=who,
                    insight=values["inzicht"],
                    next_step=values["stap"],
                    contributions=texts.count("bijdrage", count),
                )
            ),
        ),
        fallback=texts.rich("casus.close_form.fallback", title=casus.title),
    )
    replies: list[Reply] = []
    place = _casus_place(casus)
    if casus.message_id is not None:
        replies.append(PostMessage(place, note, thread_id=casus.message_id))
        replies.append(
            UpdateMessage(
                place, casus.message_id, casus_card(casus, texts, inbrenger.platform_user_id)
            )
        )
    else:
        replies.append(PostMessage(place, note))
    return replies


def register(router: Router) -> None:
    router.action(ACTION_APPROVE, approve_pseudonymised)
    router.action(ACTION_DISCARD, discard_pseudonymised)
    router.command("casus", start_intake)
    router.form(INTAKE_FORM, submit_intake)
    router.form(REPLY_FORM, submit_bijdrage)
    router.form(CLOSE_FORM, submit_close)
    router.action(ACTION_THINK_ALONG, think_along)
    router.action(ACTION_CLOSE, start_close)
    router.thread_messages(thread_replies)
    router.on_posted("casus", casus_posted, casus_post_failed)
    router.on_posted("bijdrage", bijdrage_posted, bijdrage_post_failed)
