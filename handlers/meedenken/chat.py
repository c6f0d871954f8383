"""Wie kan meedenken: once a casus is in its channel, the inbrenger privately sees up to three
members of other organisations who know about the perspectives the casus seeks, each with a
button *Vraag om mee te denken*. The button stores one request (handlers/meedenken/queries.py);
the scheduler's tick sends its one DM (engine.py) through the outbox, on the member's working
day. The casus feature does not know this feature: it listens to the casus being posted
(``router.after_posted``)."""

from __future__ import annotations

from sqlalchemy import select

from handlers.core.context import HandlerContext
from handlers.core.events import Actor, ButtonPressed, MessageRef
from handlers.core.replies import (
    Actions,
    Button,
    Card,
    Context,
    DirectMessage,
    Ephemeral,
    Mention,
    Param,
    Reply,
    Section,
    UpdateMessage,
)
from handlers.core.router import Router
from handlers.ids import parse_id
from handlers.meedenken import queries
from handlers.meedenken.queries import Candidate
from handlers.privacy.anonymity import inbrenger_hash
from prompts import Texts
from storage.models import Casus, CasusStatus, Member

ACTION_ASK = "meedenken_vraag"
POSTED_KIND = "casus"  # the record kind of a casus post (handlers/casus)
LABEL_MAX = 75  # Slack's limit for a button's text


def _asker(ctx: HandlerContext, casus: Casus) -> Member | None:
    """The real inbrenger: the member row, or for an anonymous casus the member whose keyed
    hash it carries (None when it cannot be told; then no organisation is left out)."""
    if not casus.anonymous:
        return casus.inbrenger
    if ctx.hmac_secret is None or not casus.inbrenger_hash:
        return None
    platform = casus.channel.platform
    for member in ctx.session.scalars(select(Member).where(Member.platform == platform)):
        if inbrenger_hash(ctx.hmac_secret, platform, member.platform_user_id) == (
            casus.inbrenger_hash
        ):
            return member
    return None


def _is_inbrenger(ctx: HandlerContext, casus: Casus, actor: Actor) -> bool:
    if casus.anonymous:
        secret = ctx.hmac_secret
        return secret is not None and casus.inbrenger_hash == inbrenger_hash(
            secret, actor.platform, actor.user_id
        )
    inbrenger = casus.inbrenger
    return inbrenger.platform == actor.platform and inbrenger.platform_user_id == actor.user_id


def _person(candidate: Candidate) -> Param:
    return Mention(candidate.user_id)


def ask_label(texts: Texts, candidate: Candidate) -> str:
    """*Vraag … om mee te denken*, with the person's name: on Teams a card's buttons sit
    together under it, so each says whom it asks. Plain text (a label is never markup)."""
    name = candidate.name or candidate.organisation
    label = texts.get("meedenken.suggest.ask").replace("{name}", name)
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def _person_section(texts: Texts, candidate: Candidate) -> Section:
    expertise = ", ".join(texts.perspective_label(p) for p in candidate.matches)
    return Section(
        texts.rich(
            "meedenken.suggest.person",
            person=_person(candidate),
            organisation=candidate.organisation,
            expertise=expertise,
        )
    )


def suggestion_card(
    texts: Texts, casus: Casus, found: list[Candidate], asked: tuple[Candidate, ...] = ()
) -> Card:
    """The suggestion; ``asked``: those already asked for this casus, shown without a button."""
    count = len(found) + len(asked)
    intro = texts.rich("meedenken.suggest.intro", title=casus.title, count=count)
    blocks: list[Section | Actions | Context] = [Section(intro)]
    for candidate in asked:
        blocks.append(_person_section(texts, candidate))
        blocks.append(Context(texts.rich("meedenken.suggest.asked", person=_person(candidate))))
    for candidate in found:
        blocks.append(_person_section(texts, candidate))
        button = Button(
            ACTION_ASK, ask_label(texts, candidate), f"{casus.id}:{candidate.member_id}", "primary"
        )
        blocks.append(Actions((button,)))
    blocks.append(Context(texts.rich("meedenken.suggest.footer", max=queries.PER_CASUS)))
    fallback = texts.rich("meedenken.suggest.fallback", title=casus.title)
    return Card(tuple(blocks), fallback=fallback)


def casus_posted(ctx: HandlerContext, casus_id: int, ref: MessageRef) -> list[Reply]:
    """The casus is in its channel: a private suggestion for the inbrenger, when anyone fits.
    It is a direct message, not a notice in the channel: it stays where they can find it, with
    its buttons, on every platform (and a form's notices on Slack are for failed posts). It
    follows the post once; one lost with a crashed process is not sent again."""
    casus = ctx.session.get(Casus, casus_id)
    if casus is None or casus.status == CasusStatus.CLOSED:
        return []
    asker = _asker(ctx, casus)
    if asker is None:
        return []
    found = queries.candidates(ctx.session, casus, asker, ctx.now(), ctx.zone)
    if not found:
        return []
    card = suggestion_card(ctx.texts, casus, found)
    return [DirectMessage(asker.platform, asker.platform_user_id, card)]


def _parse(value: str) -> tuple[int, int] | None:
    casus_part, _, member_part = value.partition(":")
    casus_id, member_id = parse_id(casus_part), parse_id(member_part)
    if casus_id is None or member_id is None:
        return None
    return casus_id, member_id


def ask(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    """*Vraag om mee te denken*: one request, stored once, within the limits."""
    texts = ctx.texts
    parsed = _parse(event.value)
    if parsed is None:
        return [Ephemeral(texts.rich("general.unknown_action"))]
    casus = ctx.session.get(Casus, parsed[0])
    member = ctx.session.get(Member, parsed[1])
    if casus is None or member is None:
        return [Ephemeral(texts.rich("meedenken.ask.gone"))]
    if not _is_inbrenger(ctx, casus, event.actor):
        return [Ephemeral(texts.rich("meedenken.ask.only_inbrenger"))]
    if casus.status != CasusStatus.OPEN or casus.message_id is None:
        return [Ephemeral(texts.rich("meedenken.ask.closed", title=casus.title))]
    person = Mention(member.platform_user_id)
    session, now = ctx.session, ctx.now()
    asker = _asker(ctx, casus)
    queries.lock(session, casus, member)
    if queries.existing(session, casus.id, member.id) is not None:
        return [Ephemeral(texts.rich("meedenken.ask.already", person=person))]
    if not queries.eligible(session, casus, asker, member, now, ctx.zone):
        return [Ephemeral(texts.rich("meedenken.ask.unavailable", person=person))]
    if queries.count_for_casus(session, casus.id) >= queries.PER_CASUS:
        return [Ephemeral(texts.rich("meedenken.ask.casus_full", max=queries.PER_CASUS))]
    if queries.asked_since(session, member.id, now - queries.PER_MEMBER):
        return [Ephemeral(texts.rich("meedenken.ask.this_week", person=person))]
    # An anonymous casus keeps its placeholder as the one who asked: no row ties the real
    # inbrenger to it.
    asked_by = casus.inbrenger if casus.anonymous else asker
    if queries.add(session, casus, member, asked_by, now) is None:
        return [Ephemeral(texts.rich("meedenken.ask.already", person=person))]
    replies: list[Reply] = []
    if event.place is not None and event.message_id:
        # The suggestion shows who was asked (no second button for them), and who else could.
        refreshed = _refreshed(ctx, casus, asker)
        replies.append(UpdateMessage(event.place, event.message_id, refreshed))
    replies.append(Ephemeral(texts.rich("meedenken.ask.sent", person=person, title=casus.title)))
    return replies


def _refreshed(ctx: HandlerContext, casus: Casus, asker: Member | None) -> Card:
    asked = tuple(queries.asked_for(ctx.session, casus))
    room = queries.PER_CASUS - len(asked)
    represented = frozenset(
        org
        for candidate in asked
        if (member := ctx.session.get(Member, candidate.member_id)) is not None
        and (org := member.organisation_id) is not None
    )
    found = (
        queries.candidates(
            ctx.session,
            casus,
            asker,
            ctx.now(),
            ctx.zone,
            limit=min(room, queries.SUGGESTED),
            represented=represented,
        )
        if room > 0
        else []
    )
    return suggestion_card(ctx.texts, casus, found, asked)


def request_card(texts: Texts, title: str, inbrenger: Param | None, link: str | None) -> Card:
    who: Param = inbrenger if inbrenger is not None else texts.get("meedenken.dm.someone")
    text = texts.rich("meedenken.dm.text", inbrenger=who, title=title)
    blocks: list[Section | Context] = [Section(text)]
    if link:
        blocks.append(Section(texts.rich("meedenken.dm.link", link=link)))
    else:
        blocks.append(Context(texts.rich("meedenken.dm.no_link")))
    blocks.append(Context(texts.rich("meedenken.dm.footer")))
    return Card(tuple(blocks), fallback=texts.rich("meedenken.dm.fallback", title=title))


def register(router: Router) -> None:
    router.action(ACTION_ASK, ask)
    router.after_posted(POSTED_KIND, casus_posted)
