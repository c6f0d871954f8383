"""Sharing a good practice (``/praktijkvoorbeeld``) and translating it to one's own practice.

The form asks for the four parts of the NJi checklist ("Een lerend netwerk starten"): the aim
and the need it answers; the results (what changed, success factors, bottlenecks); the process;
tips for others. It is posted as a card in the channel. Anyone else answers from the card's
button: a score from 0 to 10 (how far their own practice is), what they take along and what
not and why, what the translation needs, and the step they can take tomorrow; shared in the
card's thread or kept for the facilitators. N weeks later each step gets a follow-up DM
(engine.py); its answer comes back through the follow-up form here.

Every text goes through the privacy guard (``check_submission``)."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from handlers.core.events import Actor, ButtonPressed, CommandInvoked, FormSubmitted, Place
from handlers.core.forms import FieldRule, clean_text
from handlers.core.replies import (
    Actions,
    Block,
    Button,
    Card,
    Context,
    Ephemeral,
    Form,
    FormErrors,
    FormField,
    Header,
    Mention,
    OpenForm,
    Option,
    PostMessage,
    Record,
    Reply,
    Section,
    Select,
    TextInput,
    UpdateMessage,
    rich,
)
from handlers.core.router import MessageRef, Router
from handlers.ids import parse_id
from handlers.praktijkvoorbeeld.queries import praktijk_repo
from handlers.privacy.flow import CHECK, PRIVACY_FIELD, check_submission, finds_names
from handlers.privacy.flow import privacy_choice_field as _privacy_field
from prompts import Texts
from storage.models import PraktijkVertaling, PraktijkVervolg, Praktijkvoorbeeld

COMMAND = "praktijkvoorbeeld"
PRACTICE_FORM = "praktijk_delen"
TRANSLATE_FORM = "praktijk_vertalen"
FOLLOWUP_FORM = "praktijk_vervolg"
ACTION_TRANSLATE = "praktijk_vertaal"
ACTION_FOLLOWUP = "praktijk_vervolg"
RECORD_PRACTICE = "praktijkvoorbeeld"
RECORD_TRANSLATION = "praktijk_vertaling"

TITLE_MAX = 100
PART_MAX = 1500
ANSWER_MAX = 1000
SCORES = tuple(str(n) for n in range(11))
SHARE_THREAD = "draad"
SHARE_PRIVATE = "prive"

# (field id, text key, required, multiline, max length)
PRACTICE_FIELDS = (
    ("titel", "praktijk.form.titel", True, False, TITLE_MAX),
    ("doel", "praktijk.form.doel", True, True, PART_MAX),
    ("veranderd", "praktijk.form.veranderd", True, True, PART_MAX),
    ("succesfactoren", "praktijk.form.succesfactoren", False, True, PART_MAX),
    ("knelpunten", "praktijk.form.knelpunten", False, True, PART_MAX),
    ("proces", "praktijk.form.proces", True, True, PART_MAX),
    ("tips", "praktijk.form.tips", True, True, PART_MAX),
)
TRANSLATE_FIELDS = (
    ("meenemen", "praktijk.answer_form.take_along"),
    ("niet_meenemen", "praktijk.answer_form.leave_out"),
    ("nodig", "praktijk.answer_form.needs"),
    ("stap", "praktijk.answer_form.step"),
)
FOLLOWUP_FIELDS = (
    ("hoe", "praktijk.followup.how", True),
    ("geleerd", "praktijk.followup.learned", False),
)


def _privacy(ctx: HandlerContext) -> tuple[FormField, ...]:
    return (_privacy_field(ctx.texts),) if finds_names(ctx.guard) else ()


def place_of(practice: Praktijkvoorbeeld) -> Place:
    channel = practice.channel
    return Place(channel.platform, channel.platform_channel_id, channel.team_id, channel.name)


def _practice_for(ctx: HandlerContext, value: object) -> Praktijkvoorbeeld | None:
    practice_id = parse_id(value)
    return None if practice_id is None else praktijk_repo(ctx.session).get(practice_id)


# --- sharing a practice ---------------------------------------------------------------------


def practice_form(texts: Texts, title: str = "", privacy: tuple[FormField, ...] = ()) -> Form:
    fields: list[FormField] = []
    for field_id, key, required, multiline, max_length in PRACTICE_FIELDS:
        initial = clean_text(title)[:max_length] if field_id == "titel" and title else None
        fields.append(
            TextInput(
                field_id,
                texts.get(key),
                required=required,
                multiline=multiline,
                max_length=max_length,
                initial=initial or None,
                placeholder=texts.get("praktijk.form.titel_placeholder")
                if field_id == "titel"
                else None,
            )
        )
    return Form(
        form_id=PRACTICE_FORM,
        title=texts.get("praktijk.form.title"),
        submit_label=texts.get("praktijk.form.submit"),
        cancel_label=texts.get("praktijk.form.cancel"),
        fields=(*fields, *privacy),
        intro=texts.rich("praktijk.form.intro"),
    )


def start(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    return [OpenForm(practice_form(ctx.texts, event.text, _privacy(ctx)))]


def submit_practice(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    values = {field_id: clean_text(event.text(field_id)) for field_id, *_ in PRACTICE_FIELDS}
    rules = [
        FieldRule(field_id, required, max_length)
        for field_id, _, required, _, max_length in PRACTICE_FIELDS
    ]
    checked = check_submission(values, rules, texts, ctx.guard, event.text(PRIVACY_FIELD) or CHECK)
    if checked.errors:
        return [FormErrors(checked.errors)]
    if event.place is None:
        return [Ephemeral(texts.rich("general.error_generic"))]
    place = event.place
    channel = ctx.repos.channels.ensure(place.platform, place.channel_id, place.team_id, place.name)
    author = ctx.member(event.actor)
    practice_id = praktijk_repo(ctx.session).add(channel, author, checked.values, ctx.now())
    practice = praktijk_repo(ctx.session).get(practice_id)
    assert practice is not None
    card = practice_card(practice, texts)
    return [PostMessage(place, card, record_as=Record(RECORD_PRACTICE, practice_id))]


def practice_card(practice: Praktijkvoorbeeld, texts: Texts, answered: int = 0) -> Card:
    """The card in the channel; ``answered``: how many translated it so far (shown, not who)."""
    author = Mention(practice.author.platform_user_id)
    blocks: list[Block] = [
        Header(texts.rich("praktijk.card.header", title=practice.title).plain()),
        Context(texts.rich("praktijk.card.shared_by", author=author)),
        _labelled(texts.get("praktijk.card.aim"), practice.aim),
        _labelled(texts.get("praktijk.card.changed"), practice.changed),
    ]
    if practice.success_factors:
        blocks.append(
            _labelled(texts.get("praktijk.card.success_factors"), practice.success_factors)
        )
    if practice.bottlenecks:
        blocks.append(_labelled(texts.get("praktijk.card.bottlenecks"), practice.bottlenecks))
    blocks.append(_labelled(texts.get("praktijk.card.process"), practice.process))
    blocks.append(_labelled(texts.get("praktijk.card.tips"), practice.tips))
    blocks.append(
        Actions(
            (
                Button(
                    ACTION_TRANSLATE,
                    texts.get("praktijk.card.translate"),
                    str(practice.id),
                    "primary",
                ),
            )
        )
    )
    blocks.append(Context(texts.rich("praktijk.card.footer", number=practice.id)))
    if answered:
        blocks.append(
            Context(texts.rich("praktijk.card.answered", count=texts.count("vertaalde", answered)))
        )
    return Card(
        tuple(blocks),
        fallback=texts.rich("praktijk.card.fallback", author=author, title=practice.title),
    )


def _labelled(label: str, text: str) -> Section:
    return Section(rich("**{label}**\n{text}", label=label, text=text))


def practice_posted(ctx: HandlerContext, practice_id: int, ref: MessageRef) -> list[Reply]:
    practice = praktijk_repo(ctx.session).get(practice_id)
    if practice is not None and practice.message_id is None:
        practice.message_id = ref.message_id
        ctx.repos.posted.record(
            ref.platform, ref.channel_id, ref.message_id, RECORD_PRACTICE, practice_id
        )
    return []


def practice_post_failed(ctx: HandlerContext, practice_id: int, reason: str) -> list[Reply]:
    """Not in the channel: not stored either."""
    practice = praktijk_repo(ctx.session).get(practice_id)
    if practice is not None and practice.message_id is None:
        ctx.session.delete(practice)
    key = (
        "general.not_in_channel"
        if reason in {"not_in_channel", "channel_not_found", "forbidden", "unknown_conversation"}
        else "general.error_generic"
    )
    return [Ephemeral(ctx.texts.rich(key))]


# --- translating it to one's own practice -----------------------------------------------------


def _refusal(ctx: HandlerContext, practice: Praktijkvoorbeeld | None, event_actor: Actor) -> str:
    """The text key that says why this person cannot answer, or "" when they can."""
    if practice is None:
        return "praktijk.not_found"
    author = practice.author
    if author.platform == event_actor.platform and author.platform_user_id == event_actor.user_id:
        return "praktijk.own"
    member = ctx.repos.members.find(event_actor.platform, event_actor.user_id)
    if member is not None and praktijk_repo(ctx.session).translation_of(practice.id, member.id):
        return "praktijk.already"
    if practice.message_id is None:
        return "praktijk.not_posted"
    return ""


def translate_form(
    texts: Texts, practice: Praktijkvoorbeeld, privacy: tuple[FormField, ...]
) -> Form:
    score_labels = {"0": texts.get("praktijk.answer_form.score_zero"),
                    "10": texts.get("praktijk.answer_form.score_ten")}  # fmt: skip
    fields: list[FormField] = [
        Select(
            "score",
            texts.get("praktijk.answer_form.score"),
            tuple(Option(value, score_labels.get(value, value)) for value in SCORES),
            required=True,
        ),
        *(
            TextInput(field_id, texts.get(key), multiline=True, max_length=ANSWER_MAX)
            for field_id, key in TRANSLATE_FIELDS
        ),
        Select(
            "delen",
            texts.get("praktijk.answer_form.share"),
            (
                Option(SHARE_THREAD, texts.get("praktijk.answer_form.share_thread")),
                Option(SHARE_PRIVATE, texts.get("praktijk.answer_form.share_private")),
            ),
            required=True,
            initial=SHARE_THREAD,
        ),
        *privacy,
    ]
    return Form(
        form_id=TRANSLATE_FORM,
        title=texts.get("praktijk.answer_form.title"),
        submit_label=texts.get("praktijk.answer_form.submit"),
        cancel_label=texts.get("praktijk.answer_form.cancel"),
        fields=tuple(fields),
        intro=rich("**{title}**", title=practice.title),
        metadata={"practice_id": practice.id},
    )


def start_translate(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    practice = _practice_for(ctx, event.value)
    refusal = _refusal(ctx, practice, event.actor)
    if refusal:
        return [Ephemeral(ctx.texts.rich(refusal))]
    assert practice is not None
    return [OpenForm(translate_form(ctx.texts, practice, _privacy(ctx)))]


def submit_translation(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    practice = _practice_for(ctx, event.metadata.get("practice_id"))
    refusal = _refusal(ctx, practice, event.actor)
    if refusal:
        return [Ephemeral(texts.rich(refusal))]
    assert practice is not None
    errors: dict[str, str] = {}
    score = event.text("score").strip()
    if score not in SCORES:
        errors["score"] = texts.get("praktijk.answer_form.bad_score")
    share = event.text("delen").strip() or SHARE_THREAD
    if share not in (SHARE_THREAD, SHARE_PRIVATE):
        errors["delen"] = texts.get("praktijk.answer_form.bad_share")
    values = {field_id: clean_text(event.text(field_id)) for field_id, _ in TRANSLATE_FIELDS}
    rules = [FieldRule(field_id, False, ANSWER_MAX) for field_id, _ in TRANSLATE_FIELDS]
    checked = check_submission(values, rules, texts, ctx.guard, event.text(PRIVACY_FIELD) or CHECK)
    if checked.errors or errors:
        return [FormErrors({**errors, **checked.errors})]
    member = ctx.member(event.actor)
    shared = share == SHARE_THREAD
    translation = praktijk_repo(ctx.session).add_translation(
        practice, member, int(score), checked.values, shared, ctx.now()
    )
    if translation is None:  # a second submission, or the same one delivered twice
        return [Ephemeral(texts.rich("praktijk.already"))]
    place = place_of(practice)
    assert practice.message_id is not None  # checked by _refusal
    count = praktijk_repo(ctx.session).translation_count(practice.id)
    update = UpdateMessage(place, practice.message_id, practice_card(practice, texts, count))
    if not shared:
        return [Ephemeral(texts.rich("praktijk.kept_private")), update]
    return [
        PostMessage(
            place,
            translation_card(translation, texts),
            thread_id=practice.message_id,
            record_as=Record(RECORD_TRANSLATION, translation.id),
        ),
        update,
    ]


def translation_card(translation: PraktijkVertaling, texts: Texts) -> Card:
    author = Mention(translation.member.platform_user_id)
    blocks: list[Block] = [
        Section(texts.rich("praktijk.answer.posted", author=author, score=translation.score))
    ]
    for key, text in (
        ("praktijk.answer.take_along", translation.take_along),
        ("praktijk.answer.leave_out", translation.leave_out),
        ("praktijk.answer.needs", translation.needs),
        ("praktijk.answer.step", translation.step),
    ):
        if text:
            blocks.append(_labelled(texts.get(key), text))
    return Card(
        tuple(blocks),
        fallback=texts.rich("praktijk.answer.fallback", author=author, score=translation.score),
    )


def translation_posted(ctx: HandlerContext, translation_id: int, ref: MessageRef) -> list[Reply]:
    translation = praktijk_repo(ctx.session).translation(translation_id)
    if translation is not None and translation.message_id is None:
        translation.message_id = ref.message_id
    return []


def translation_post_failed(ctx: HandlerContext, translation_id: int, reason: str) -> list[Reply]:
    """Not in the thread: not stored either, as the notice ("niets bewaard") says; the person
    can answer again."""
    translation = praktijk_repo(ctx.session).translation(translation_id)
    if translation is not None and translation.message_id is None:
        ctx.session.delete(translation)
    return [Ephemeral(ctx.texts.rich("general.error_generic"))]


# --- the follow-up of a step ----------------------------------------------------------------


def followup_card(texts: Texts, followup: PraktijkVervolg) -> Card:
    translation = followup.translation
    title = translation.practice.title
    return Card(
        (
            Header(texts.get("praktijk.followup.header")),
            Section(
                texts.rich("praktijk.followup.intro", title=title, step=translation.step or "")
            ),
            Section(texts.rich("praktijk.followup.question")),
            Actions(
                (
                    Button(
                        ACTION_FOLLOWUP,
                        texts.get("praktijk.followup.button"),
                        str(followup.id),
                        "primary",
                    ),
                )
            ),
        ),
        fallback=texts.rich("praktijk.followup.fallback", title=title),
    )


def _own_followup(ctx: HandlerContext, value: object, event_actor: Actor) -> PraktijkVervolg | str:
    followup_id = parse_id(value)
    followup = None if followup_id is None else praktijk_repo(ctx.session).followup(followup_id)
    if followup is None:
        return "praktijk.followup.gone"
    member = followup.translation.member
    if member.platform != event_actor.platform or member.platform_user_id != event_actor.user_id:
        return "praktijk.followup.not_yours"
    if followup.answered_at is not None:
        return "praktijk.followup.already"
    return followup


def start_followup(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    found = _own_followup(ctx, event.value, event.actor)
    if isinstance(found, str):
        return [Ephemeral(texts.rich(found))]
    translation = found.translation
    form = Form(
        form_id=FOLLOWUP_FORM,
        title=texts.get("praktijk.followup.form_title"),
        submit_label=texts.get("praktijk.followup.submit"),
        cancel_label=texts.get("praktijk.followup.cancel"),
        fields=(
            *(
                TextInput(
                    field_id,
                    texts.get(key),
                    required=required,
                    multiline=True,
                    max_length=ANSWER_MAX,
                )
                for field_id, key, required in FOLLOWUP_FIELDS
            ),
            *_privacy(ctx),
        ),
        intro=texts.rich(
            "praktijk.followup.intro",
            title=translation.practice.title,
            step=translation.step or "",
        ),
        metadata={"followup_id": found.id},
    )
    return [OpenForm(form)]


def submit_followup(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    found = _own_followup(ctx, event.metadata.get("followup_id"), event.actor)
    if isinstance(found, str):
        return [Ephemeral(texts.rich(found))]
    values = {field_id: clean_text(event.text(field_id)) for field_id, *_ in FOLLOWUP_FIELDS}
    rules = [FieldRule(field_id, required, ANSWER_MAX) for field_id, _, required in FOLLOWUP_FIELDS]
    checked = check_submission(values, rules, texts, ctx.guard, event.text(PRIVACY_FIELD) or CHECK)
    if checked.errors:
        return [FormErrors(checked.errors)]
    found.how_it_went = checked.values["hoe"]
    found.learned = checked.values.get("geleerd") or None
    found.answered_at = ctx.now()
    return [Ephemeral(texts.rich("praktijk.followup.thanks"))]


def register(router: Router) -> None:
    router.command(COMMAND, start)
    router.form(PRACTICE_FORM, submit_practice)
    router.action(ACTION_TRANSLATE, start_translate)
    router.form(TRANSLATE_FORM, submit_translation)
    router.action(ACTION_FOLLOWUP, start_followup)
    router.form(FOLLOWUP_FORM, submit_followup)
    router.on_posted(RECORD_PRACTICE, practice_posted, practice_post_failed)
    router.on_posted(RECORD_TRANSLATION, translation_posted, translation_post_failed)
