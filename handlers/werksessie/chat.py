"""/werksessie: a guided consultation on a casus, phase by phase, in the casus thread.

The inbrenger or a facilitator starts it on a casus (method, mode), people sign up with
*Doe mee*, the procesbegeleider starts it and may move on, extend, pause or stop. Every phase
card, every reveal of write-first answers and the closing word is a ``WerksessiePost`` row
written together with the state change that makes it due, so it is posted once whoever moves
the session (a button here, the scheduler in engine.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from handlers.core.context import HandlerContext
from handlers.core.events import ButtonPressed, CommandInvoked, FormSubmitted, Place, ThreadMessage
from handlers.core.forms import FieldRule, clean_text, group_findings
from handlers.core.messaging import MessageRef
from handlers.core.replies import (
    Actions,
    Block,
    Button,
    Card,
    Context,
    Deferred,
    Ephemeral,
    Form,
    FormErrors,
    Header,
    Mention,
    OpenForm,
    Option,
    Param,
    PostMessage,
    Record,
    Reply,
    Rich,
    Section,
    Select,
    TextInput,
    UpdateMessage,
    rich,
)
from handlers.core.router import Router
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
from handlers.werksessie.methods import Method, Phase, load_methods
from handlers.werksessie.queries import WerksessieRepository
from prompts import Texts
from storage.models import (
    Casus,
    CasusStatus,
    Channel,
    Member,
    Werksessie,
    WerksessiePost,
    WerksessieStatus,
)

START_FORM = "werksessie_start"
WRITE_FORM = "werksessie_schrijf"
LEADER_FORM = "werksessie_begeleider"
ACTION_JOIN = "werksessie_doe_mee"
ACTION_BEGIN = "werksessie_begin"
ACTION_NEXT = "werksessie_volgende"
ACTION_EXTEND = "werksessie_verleng"
ACTION_PAUSE = "werksessie_pauze"
ACTION_STOP = "werksessie_stop"
ACTION_WRITE = "werksessie_schrijf"
ACTION_LEADER = "werksessie_begeleider"
# The casus feature's own closing button (handlers/casus/chat.py, ACTION_CLOSE): the phase
# card of the inbrenger's closing opens the existing closing form of the casus.
CASUS_CLOSE_ACTION = "casus_afronden"
POST_RECORD = "werksessie_post"
# The session's own card: where it landed is kept (posted_messages) so it can be edited when
# the lead changes hands.
CARD_RECORD = "werksessie_kaart"

LIVE, ASYNC = "live", "async"
EXTEND_MINUTES = 5
EXTEND_DAYS = 1
ANSWER_MAX = 2000
REVEAL_MAX = 40  # answers in one reveal post (Slack: at most 50 blocks)
LEADER_CHOICES = 100  # a Slack static select holds at most 100 options
CHAIN_SHOWN = 20  # links of a waarom chain in its card (Slack: at most 50 blocks)
CHAIN_TEXT = 500  # characters of one question or answer in the chain


def repo(ctx: HandlerContext) -> WerksessieRepository:
    return WerksessieRepository(ctx.session)


def methods(ctx: HandlerContext) -> dict[str, Method]:
    return load_methods(ctx.texts.language)


def method_of(ctx: HandlerContext, werksessie: Werksessie) -> Method:
    return methods(ctx)[werksessie.method]


def phase_length(phase: Phase, mode: str) -> timedelta:
    return timedelta(days=phase.days) if mode == ASYNC else timedelta(minutes=phase.minutes)


def _place(casus: Casus) -> Place:
    channel = casus.channel
    return Place(channel.platform, channel.platform_channel_id, channel.team_id, channel.name)


def _is_inbrenger(casus: Casus, member: Member) -> bool:
    return not casus.anonymous and casus.inbrenger_id == member.id


def _may_lead(ctx: HandlerContext, werksessie: Werksessie, member: Member) -> bool:
    return member.is_facilitator or werksessie.begeleider_id == member.id


def _until(ctx: HandlerContext, moment: datetime) -> str:
    """``15:00`` today, ``vrijdag 4 december om 15:00`` on another day."""
    return ctx.texts.moment(moment, ctx.zone, ctx.now())


# --- /werksessie ----------------------------------------------------------------------------


def start_command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    channel = ctx.session.scalars(
        select(Channel).where(
            Channel.platform == event.place.platform,
            Channel.platform_channel_id == event.place.channel_id,
        )
    ).one_or_none()
    argument = event.text.strip().lstrip("#")
    casus: Casus | None = None
    if argument:
        casus_id = parse_id(argument)
        casus = ctx.session.get(Casus, casus_id) if casus_id is not None else None
        if casus is None or channel is None or casus.channel_id != channel.id:
            return [Ephemeral(texts.rich("werksessie.no_such_casus", id=argument))]
    elif channel is not None:
        own = [
            c
            for c in _open_casussen(ctx, channel.id)
            if _is_inbrenger(c, member) or member.is_facilitator
        ]
        if len(own) == 1:
            casus = own[0]
        elif own:
            listing = ", ".join(f"#{c.id} {c.title}" for c in own[:10])
            return [Ephemeral(texts.rich("werksessie.which_casus", casussen=listing))]
    if casus is None:
        return [Ephemeral(texts.rich("werksessie.usage"))]
    if not (_is_inbrenger(casus, member) or member.is_facilitator):
        return [Ephemeral(texts.rich("werksessie.only_inbrenger"))]
    if casus.status != CasusStatus.OPEN or casus.message_id is None:
        return [Ephemeral(texts.rich("werksessie.casus_not_open"))]
    if (active := repo(ctx).active_for_casus(casus.id)) is not None:
        return [Ephemeral(texts.rich("werksessie.already", id=active.id))]
    return [OpenForm(start_form(ctx, casus))]


def _open_casussen(ctx: HandlerContext, channel_id: int) -> list[Casus]:
    return list(
        ctx.session.scalars(
            select(Casus)
            .where(Casus.channel_id == channel_id, Casus.status == CasusStatus.OPEN)
            .order_by(Casus.id)
        )
    )


def start_form(ctx: HandlerContext, casus: Casus) -> Form:
    texts = ctx.texts
    return Form(
        form_id=START_FORM,
        title=texts.get("werksessie.form.title"),
        submit_label=texts.get("werksessie.form.submit"),
        cancel_label=texts.get("werksessie.form.cancel"),
        fields=(
            Select(
                "methode",
                texts.get("werksessie.form.method"),
                tuple(Option(key, method.name[:75]) for key, method in methods(ctx).items()),
                initial="incidentmethode",
                hint=texts.get("werksessie.form.method_hint"),
            ),
            Select(
                "vorm",
                texts.get("werksessie.form.mode"),
                (
                    Option(LIVE, texts.get("werksessie.form.live")),
                    Option(ASYNC, texts.get("werksessie.form.async")),
                ),
                initial=LIVE,
            ),
            Select(
                "namen",
                texts.get("werksessie.form.names"),
                (
                    Option("met", texts.get("werksessie.form.with_names")),
                    Option("zonder", texts.get("werksessie.form.without_names")),
                ),
                initial="met",
            ),
        ),
        intro=rich("**{title}**", title=casus.title),
        metadata={"casus_id": casus.id},
    )


def submit_start(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    casus_id = event.metadata.get("casus_id")
    casus = ctx.session.get(Casus, casus_id) if isinstance(casus_id, int) else None
    if casus is None or casus.message_id is None:
        return [Ephemeral(texts.rich("werksessie.casus_not_open"))]
    member = ctx.member(event.actor)
    if not (_is_inbrenger(casus, member) or member.is_facilitator):
        return [Ephemeral(texts.rich("werksessie.only_inbrenger"))]
    method_key, mode = event.text("methode"), event.text("vorm")
    errors: dict[str, str] = {}
    if method_key not in methods(ctx):
        errors["methode"] = texts.get("werksessie.form.bad_method")
    if mode not in (LIVE, ASYNC):
        errors["vorm"] = texts.get("werksessie.form.bad_mode")
    if errors:
        return [FormErrors(errors)]
    if (active := repo(ctx).active_for_casus(casus.id)) is not None:
        return [Ephemeral(texts.rich("werksessie.already", id=active.id))]
    werksessie = Werksessie(
        casus_id=casus.id,
        method=method_key,
        mode=mode,
        begeleider_id=member.id,
        started_by_id=member.id,
        anonymous=event.text("namen") == "zonder",
        status=WerksessieStatus.OPEN,
        phase=-1,
        phases_done=0,
        created_at=ctx.now(),
    )
    ctx.session.add(werksessie)
    ctx.session.flush()
    repo(ctx).join(werksessie, member.id, ctx.now())
    return [
        PostMessage(
            _place(casus),
            session_card(ctx, werksessie),
            thread_id=casus.message_id,
            record_as=Record(CARD_RECORD, werksessie.id),
        ),
    ]


def session_card(ctx: HandlerContext, werksessie: Werksessie) -> Card:
    texts = ctx.texts
    method = method_of(ctx, werksessie)
    steps = "\n".join(
        f"{number}. {phase.title} ({_duration(texts, phase, werksessie.mode)})"
        for number, phase in enumerate(method.phases, start=1)
    )
    sid = str(werksessie.id)
    return Card(
        (
            Header(texts.rich("werksessie.card.header", method=method.name).plain()[:150]),
            Section(
                texts.rich(
                    "werksessie.card.body",
                    when=method.when,
                    begeleider=Mention(werksessie.begeleider.platform_user_id),
                    mode=texts.get(f"werksessie.mode.{werksessie.mode}"),
                    steps=steps,
                )
            ),
            Actions(
                (
                    Button(ACTION_JOIN, texts.get("werksessie.card.join"), sid, "primary"),
                    Button(ACTION_BEGIN, texts.get("werksessie.card.begin"), sid),
                    Button(ACTION_PAUSE, texts.get("werksessie.card.pause"), sid),
                    Button(ACTION_LEADER, texts.get("werksessie.card.leader"), sid),
                    Button(ACTION_STOP, texts.get("werksessie.card.stop"), sid, "danger"),
                )
            ),
        ),
        fallback=texts.rich("werksessie.card.fallback", method=method.name),
    )


def _duration(texts: Texts, phase: Phase, mode: str) -> str:
    if mode == ASYNC:
        return texts.rich("werksessie.days", days=texts.count("dag", phase.days)).plain()
    return texts.rich("werksessie.minutes", n=phase.minutes).plain()


# --- sign-up and the procesbegeleider's controls --------------------------------------------


def _session(ctx: HandlerContext, value: str) -> Werksessie | None:
    session_id = parse_id(value.split(":", 1)[0])
    return repo(ctx).get(session_id) if session_id is not None else None


def _led(ctx: HandlerContext, event: ButtonPressed) -> Werksessie | list[Reply]:
    """The session a control button is for, when the one who pressed it may lead it."""
    werksessie = _session(ctx, event.value)
    if werksessie is None:
        return [Ephemeral(ctx.texts.rich("werksessie.over"))]
    if not _may_lead(ctx, werksessie, ctx.member(event.actor)):
        return [Ephemeral(ctx.texts.rich("werksessie.only_begeleider"))]
    return werksessie


def join(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    werksessie = _session(ctx, event.value)
    if werksessie is None or werksessie.status not in (
        WerksessieStatus.OPEN,
        WerksessieStatus.RUNNING,
        WerksessieStatus.PAUSED,
    ):
        return [Ephemeral(texts.rich("werksessie.over"))]
    member = ctx.member(event.actor)
    if repo(ctx).join(werksessie, member.id, ctx.now()):
        return [Ephemeral(texts.rich("werksessie.joined"))]
    return [Ephemeral(texts.rich("werksessie.joined_already"))]


def begin(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    werksessie = _led(ctx, event)
    if isinstance(werksessie, list):
        return werksessie
    if werksessie.status != WerksessieStatus.OPEN:
        return [Ephemeral(texts.rich("werksessie.started_already"))]
    return _posts_now(ctx, advance(ctx, werksessie, -1, claim=True))


def next_phase(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    werksessie = _led(ctx, event)
    if isinstance(werksessie, list):
        return werksessie
    expected = _phase_in(event.value, werksessie.phase)
    if werksessie.status not in (WerksessieStatus.RUNNING, WerksessieStatus.PAUSED) or (
        expected != werksessie.phase
    ):
        return [Ephemeral(texts.rich("werksessie.moved_already"))]
    posts = advance(ctx, werksessie, expected, claim=True)
    if not posts:
        return [Ephemeral(texts.rich("werksessie.moved_already"))]
    return _posts_now(ctx, posts)


def _phase_in(value: str, default: int) -> int:
    """The phase a button was made for (``"<session>:<phase>"``); ``default`` without one,
    -2 (no phase) for a value that is not a small number."""
    _, sep, phase = value.partition(":")
    if not sep:
        return default
    return int(phase) if phase.isascii() and phase.isdigit() and len(phase) <= 3 else -2


def extend(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    werksessie = _led(ctx, event)
    if isinstance(werksessie, list):
        return werksessie
    if werksessie.status != WerksessieStatus.RUNNING or werksessie.phase_ends_at is None:
        return [Ephemeral(texts.rich("werksessie.not_running"))]
    if _phase_in(event.value, werksessie.phase) != werksessie.phase:
        return [Ephemeral(texts.rich("werksessie.moved_already"))]
    more = (
        timedelta(days=EXTEND_DAYS)
        if werksessie.mode == ASYNC
        else timedelta(minutes=EXTEND_MINUTES)
    )
    werksessie.phase_ends_at = max(werksessie.phase_ends_at, ctx.now()) + more
    ctx.session.flush()
    return [
        Ephemeral(texts.rich("werksessie.extended", until=_until(ctx, werksessie.phase_ends_at)))
    ]


def pause(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    werksessie = _led(ctx, event)
    if isinstance(werksessie, list):
        return werksessie
    now = ctx.now()
    if werksessie.status == WerksessieStatus.RUNNING and werksessie.phase_ends_at is not None:
        left = max(0, int((werksessie.phase_ends_at - now).total_seconds()))
        werksessie.status = WerksessieStatus.PAUSED
        werksessie.paused_left_seconds = left
        werksessie.phase_ends_at = None
        ctx.session.flush()
        return [Ephemeral(texts.rich("werksessie.paused"))]
    if werksessie.status == WerksessieStatus.PAUSED:
        werksessie.status = WerksessieStatus.RUNNING
        werksessie.phase_ends_at = now + timedelta(seconds=werksessie.paused_left_seconds or 0)
        werksessie.paused_left_seconds = None
        ctx.session.flush()
        return [
            Ephemeral(texts.rich("werksessie.resumed", until=_until(ctx, werksessie.phase_ends_at)))
        ]
    return [Ephemeral(texts.rich("werksessie.not_running"))]


def stop(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    werksessie = _led(ctx, event)
    if isinstance(werksessie, list):
        return werksessie
    if werksessie.status not in (
        WerksessieStatus.OPEN,
        WerksessieStatus.RUNNING,
        WerksessieStatus.PAUSED,
    ):
        return [Ephemeral(texts.rich("werksessie.over"))]
    werksessie.status = WerksessieStatus.STOPPED
    werksessie.phase_ends_at = None
    werksessie.finished_at = ctx.now()
    ctx.session.flush()
    post_id = repo(ctx).add_post(werksessie, max(werksessie.phase, 0), "gestopt", ctx.now())
    return _posts_now(ctx, [post_id] if post_id is not None else [])


# --- the procesbegeleider: the facilitator or a member they choose --------------------------


def _member_label(member: Member) -> str:
    name = member.display_name or f"@{member.platform_user_id}"
    if member.organisation is not None:
        name = f"{name} ({member.organisation.name})"
    return name[:75]


def choose_leader(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    """The procesbegeleider (or a facilitator) hands the lead to someone who signed up."""
    texts = ctx.texts
    werksessie = _led(ctx, event)
    if isinstance(werksessie, list):
        return werksessie
    if werksessie.status not in (
        WerksessieStatus.OPEN,
        WerksessieStatus.RUNNING,
        WerksessieStatus.PAUSED,
    ):
        return [Ephemeral(texts.rich("werksessie.over"))]
    members = [
        member
        for member_id in repo(ctx).participant_ids(werksessie)[:LEADER_CHOICES]
        if (member := ctx.repos.members.get(member_id)) is not None
    ]
    if not members:
        return [Ephemeral(texts.rich("werksessie.leader.nobody"))]
    return [
        OpenForm(
            Form(
                form_id=LEADER_FORM,
                title=texts.get("werksessie.leader.title"),
                submit_label=texts.get("werksessie.leader.submit"),
                cancel_label=texts.get("werksessie.leader.cancel"),
                fields=(
                    Select(
                        "begeleider",
                        texts.get("werksessie.leader.label"),
                        tuple(Option(str(m.id), _member_label(m)) for m in members),
                        initial=(
                            str(werksessie.begeleider_id)
                            if any(m.id == werksessie.begeleider_id for m in members)
                            else None
                        ),
                        hint=texts.get("werksessie.leader.hint"),
                    ),
                ),
                intro=texts.rich("werksessie.leader.intro"),
                metadata={"session_id": werksessie.id},
            )
        )
    ]


def submit_leader(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    session_id = event.metadata.get("session_id")
    werksessie = repo(ctx).get(session_id) if isinstance(session_id, int) else None
    if werksessie is None or werksessie.status not in (
        WerksessieStatus.OPEN,
        WerksessieStatus.RUNNING,
        WerksessieStatus.PAUSED,
    ):
        return [Ephemeral(texts.rich("werksessie.over"))]
    if not _may_lead(ctx, werksessie, ctx.member(event.actor)):
        return [Ephemeral(texts.rich("werksessie.only_begeleider"))]
    chosen_id = parse_id(event.text("begeleider"))
    if chosen_id is None or chosen_id not in repo(ctx).participant_ids(werksessie):
        return [FormErrors({"begeleider": texts.get("werksessie.leader.not_signed_up")})]
    if chosen_id == werksessie.begeleider_id:
        return [Ephemeral(texts.rich("werksessie.leader.unchanged"))]
    werksessie.begeleider_id = chosen_id
    ctx.session.flush()
    ctx.session.refresh(werksessie)
    casus = werksessie.casus
    if casus.message_id is None:
        return []
    announcement = texts.rich(
        "werksessie.leader.announced", begeleider=Mention(werksessie.begeleider.platform_user_id)
    )
    replies: list[Reply] = [
        PostMessage(
            _place(casus),
            Card((Section(announcement),), fallback=announcement),
            thread_id=casus.message_id,
        )
    ]
    card_id = repo(ctx).message_of(CARD_RECORD, werksessie.id)
    if card_id is not None:  # the session's card names the new procesbegeleider too
        replies.append(UpdateMessage(_place(casus), card_id, session_card(ctx, werksessie)))
    return replies


# --- moving on ------------------------------------------------------------------------------


def advance(
    ctx: HandlerContext, werksessie: Werksessie, expected: int, *, claim: bool
) -> list[int]:
    """Phase ``expected`` is over (or the session starts, ``expected == -1``): the next phase
    begins, and the posts it owes are written in the same transaction. Returns their ids;
    empty when someone else moved the session first. ``claim``: the caller posts them itself
    (a button's reply), so the scheduler leaves them alone while that is in flight."""
    method = method_of(ctx, werksessie)
    now = ctx.now()
    nxt = expected + 1
    done = werksessie.phases_done + (1 if expected >= 0 else 0)
    finished = nxt >= len(method.phases)
    moved = repo(ctx).move_phase(
        werksessie,
        expected,
        phase=nxt,
        status=WerksessieStatus.FINISHED if finished else WerksessieStatus.RUNNING,
        started_at=now,
        ends_at=None if finished else now + phase_length(method.phases[nxt], werksessie.mode),
        done=done,
    )
    if not moved:
        return []
    follow = None if finished else method.phases[nxt].followup_days
    if follow is not None:
        # The next cycle, for the inbrenger alone (privately, so an anonymous casus stays so).
        repo(ctx).add_followup(
            werksessie, werksessie.casus.inbrenger_id, now + timedelta(days=follow)
        )
    claimed = now if claim else None
    posts: list[int | None] = []
    if expected >= 0 and method.phases[expected].kind == "schrijf_eerst":
        posts.append(repo(ctx).add_post(werksessie, expected, "onthulling", claimed))
    posts.append(repo(ctx).add_post(werksessie, nxt, "einde" if finished else "fase", claimed))
    return [post_id for post_id in posts if post_id is not None]


def _posts_now(ctx: HandlerContext, post_ids: Sequence[int]) -> list[Reply]:
    replies: list[Reply] = []
    for post_id in post_ids:
        item = post_content(ctx, post_id)
        if item is not None:
            replies.append(
                PostMessage(
                    item.place,
                    item.card,
                    thread_id=item.thread_id,
                    record_as=Record(POST_RECORD, post_id),
                )
            )
    return replies


@dataclass(frozen=True)
class PendingPost:
    post_id: int
    session_id: int
    place: Place
    thread_id: str
    card: Card
    since: datetime


def post_content(ctx: HandlerContext, post_id: int) -> PendingPost | None:
    post = repo(ctx).post(post_id)
    if post is None:
        return None
    werksessie = repo(ctx).get(post.session_id)
    if werksessie is None or werksessie.casus.message_id is None:
        return None
    card = post_card(ctx, werksessie, post)
    return PendingPost(
        post.id,
        werksessie.id,
        _place(werksessie.casus),
        werksessie.casus.message_id,
        card,
        post.created_at,
    )


def post_card(ctx: HandlerContext, werksessie: Werksessie, post: WerksessiePost) -> Card:
    if post.kind == "fase":
        return phase_card(ctx, werksessie, post.phase)
    if post.kind == "onthulling":
        return reveal_card(ctx, werksessie, post.phase)
    return closing_card(ctx, werksessie, stopped=post.kind == "gestopt")


def phase_card(ctx: HandlerContext, werksessie: Werksessie, index: int) -> Card:
    texts = ctx.texts
    method = method_of(ctx, werksessie)
    phase = method.phases[index]
    casus = werksessie.casus
    inbrenger: Param = (
        texts.get("werksessie.anonymous_inbrenger")
        if casus.anonymous
        else Mention(casus.inbrenger.platform_user_id)
    )
    value = f"{werksessie.id}:{index}"
    buttons: list[Button] = []
    if phase.kind == "schrijf_eerst":
        buttons.append(Button(ACTION_WRITE, texts.get("werksessie.phase.write"), value, "primary"))
    if phase.kind == "afsluiting" and casus.status != CasusStatus.CLOSED:
        buttons.append(
            Button(
                CASUS_CLOSE_ACTION,
                texts.get("werksessie.phase.close_casus"),
                str(casus.id),
                "primary",
            )
        )
    buttons.append(Button(ACTION_NEXT, texts.get("werksessie.phase.next"), value))
    buttons.append(Button(ACTION_EXTEND, texts.get("werksessie.phase.extend"), value))
    ends = werksessie.phase_ends_at
    blocks: list[Block] = [
        Header(
            texts.rich(
                "werksessie.phase.header",
                number=index + 1,
                total=len(method.phases),
                title=phase.title,
            ).plain()[:150]
        ),
        # The facilitator's own text from methoden.toml, with our markup (no placeholders:
        # the loader refuses braces).
        Section(Rich(phase.instructions)),
        Context(
            texts.rich(
                f"werksessie.speaks.{phase.speaks}",
                inbrenger=inbrenger,
            )
        ),
    ]
    if phase.questions_only:
        blocks.append(Context(texts.rich("werksessie.phase.questions_only")))
    if phase.kind == "keten":
        blocks.extend(chain_blocks(ctx, werksessie, index))
    if ends is not None and index == werksessie.phase:
        blocks.append(Context(texts.rich("werksessie.phase.until", until=_until(ctx, ends))))
    blocks.append(Actions(tuple(buttons)))
    return Card(
        tuple(blocks),
        fallback=texts.rich(
            "werksessie.phase.fallback",
            number=index + 1,
            total=len(method.phases),
            title=phase.title,
        ),
    )


@dataclass
class Link:
    """One *waarom?* of the chain and the inbrenger's answer to it (``question`` None: the
    inbrenger's own starting point)."""

    question: str | None
    answer: str | None = None


def chain(ctx: HandlerContext, werksessie: Werksessie, index: int) -> list[Link]:
    """The chain so far, from the phase's bijdragen in order: a question of one of the others
    opens a link, the inbrenger's next reply answers it (a second reply adds to the answer).
    A reply that is not a question (it got a nudge) is kept, but is no link."""
    links: list[Link] = []
    casus = werksessie.casus
    for bijdrage in repo(ctx).public_bijdragen(werksessie.id, index):
        if _is_inbrenger(casus, bijdrage.author):
            if links and (links[-1].answer is None):
                links[-1].answer = bijdrage.text
            elif links:
                links[-1].answer = f"{links[-1].answer} {bijdrage.text}"
            else:
                links.append(Link(None, bijdrage.text))
        elif bijdrage.nudged is None and is_question(bijdrage.text):
            links.append(Link(bijdrage.text))
    return links


def _short(text: str) -> str:
    return text if len(text) <= CHAIN_TEXT else text[: CHAIN_TEXT - 1] + "…"


def chain_blocks(ctx: HandlerContext, werksessie: Werksessie, index: int) -> list[Block]:
    texts = ctx.texts
    links = chain(ctx, werksessie, index)
    asked = sum(1 for link in links if link.question is not None)
    blocks: list[Block] = [Section(texts.rich("werksessie.chain.header", n=asked))]
    if not links:
        blocks.append(Context(texts.rich("werksessie.chain.empty")))
        return blocks
    shown = links[-CHAIN_SHOWN:]
    if len(links) > len(shown):
        blocks.append(Context(texts.rich("werksessie.chain.earlier", n=len(links) - len(shown))))
    number = asked - sum(1 for link in shown if link.question is not None)
    for link in shown:
        if link.question is None:
            text = texts.rich("werksessie.chain.start", start=_short(link.answer or ""))
        else:
            number += 1
            text = (
                texts.rich("werksessie.chain.waiting", n=number, question=_short(link.question))
                if link.answer is None
                else texts.rich(
                    "werksessie.chain.link",
                    n=number,
                    question=_short(link.question),
                    answer=_short(link.answer),
                )
            )
        blocks.append(Section(text))
    return blocks


def refresh_chain(ctx: HandlerContext, session_id: int, index: int) -> list[Reply]:
    """The chain's card, edited to show every link stored so far. Run after the replies were
    committed (``Deferred``), so it shows them; each edit shows the whole chain, so a later
    edit is never a step back."""
    werksessie = repo(ctx).get(session_id)
    post = repo(ctx).phase_post(session_id, index)
    if werksessie is None or post is None or post.message_id is None:
        return []  # the card is not posted yet: it shows the chain when it is
    casus = werksessie.casus
    return [UpdateMessage(_place(casus), post.message_id, phase_card(ctx, werksessie, index))]


def reveal_card(ctx: HandlerContext, werksessie: Werksessie, index: int) -> Card:
    texts = ctx.texts
    phase = method_of(ctx, werksessie).phases[index]
    answers = repo(ctx).private_answers(werksessie.id, index)
    blocks: list[Block] = [
        Header(texts.rich("werksessie.reveal.header", title=phase.title).plain()[:150])
    ]
    if not answers:
        blocks.append(Section(texts.rich("werksessie.reveal.none")))
    for answer in answers[:REVEAL_MAX]:
        if werksessie.anonymous:
            blocks.append(Section(rich("{text}", text=answer.text)))
        else:
            blocks.append(
                Section(
                    rich(
                        "**{who}**: {text}",
                        who=Mention(answer.author.platform_user_id),
                        text=answer.text,
                    )
                )
            )
    if len(answers) > REVEAL_MAX:
        blocks.append(
            Context(
                texts.rich(
                    "werksessie.reveal.more",
                    answers=texts.count("antwoord", len(answers) - REVEAL_MAX),
                )
            )
        )
    return Card(
        tuple(blocks),
        fallback=texts.rich(
            "werksessie.reveal.fallback",
            title=phase.title,
            answers=texts.count("antwoord", len(answers)),
        ),
    )


def closing_card(ctx: HandlerContext, werksessie: Werksessie, *, stopped: bool) -> Card:
    texts = ctx.texts
    method = method_of(ctx, werksessie)
    casus = werksessie.casus
    key = "werksessie.end.stopped" if stopped else "werksessie.end.finished"
    blocks: list[Block] = [
        Section(
            texts.rich(
                key, method=method.name, done=werksessie.phases_done, total=len(method.phases)
            )
        )
    ]
    if casus.status != CasusStatus.CLOSED:
        blocks.append(Context(texts.rich("werksessie.end.close_hint")))
        blocks.append(
            Actions(
                (
                    Button(
                        CASUS_CLOSE_ACTION,
                        texts.get("werksessie.phase.close_casus"),
                        str(casus.id),
                        "primary",
                    ),
                )
            )
        )
    return Card(
        tuple(blocks),
        fallback=texts.rich(
            key, method=method.name, done=werksessie.phases_done, total=len(method.phases)
        ),
    )


def post_recorded(ctx: HandlerContext, post_id: int, ref: MessageRef) -> list[Reply]:
    post = repo(ctx).post(post_id)
    if post is not None and post.message_id is None:
        post.message_id = ref.message_id
        post.claimed_at = None
        ctx.session.flush()
    return []


def post_failed(ctx: HandlerContext, post_id: int, reason: str) -> list[Reply]:
    """The scheduler tries again (engine.py) once the claim is let go."""
    post = repo(ctx).post(post_id)
    if post is not None and post.message_id is None:
        post.claimed_at = None
        ctx.session.flush()
    return []


# --- the thread: bijdragen per phase and gentle nudges --------------------------------------


def is_question(text: str) -> bool:
    return "?" in text


def thread_replies(events: Sequence[ThreadMessage], ctx: HandlerContext) -> list[list[Reply]]:
    """A reply under a casus with a running session is stored with its phase (the casus
    feature stores it as a bijdrage of the casus too). Nothing is removed; a reply that does
    not fit the phase gets a private nudge."""
    replies: list[list[Reply]] = [[] for _ in events]
    sessions = repo(ctx).in_phase_by_thread(
        (e.place.platform, e.place.channel_id, e.thread_id) for e in events
    )
    if not sessions:
        return replies
    texts: dict[str, str] = {}
    for position, event in enumerate(events):
        key = (event.place.platform, event.place.channel_id, event.thread_id)
        if key in sessions and sessions[key].phase >= 0 and (text := clean_text(event.text)):
            texts[str(position)] = text
    if not texts:
        return replies
    findings = group_findings(check_posted(ctx.guard, texts))
    rows: list[dict[str, object]] = []
    chains: dict[tuple[int, int], int] = {}  # a chain's card to edit: its last reply here
    for field_id, text in texts.items():
        position = int(field_id)
        event = events[position]
        werksessie = sessions[(event.place.platform, event.place.channel_id, event.thread_id)]
        found = findings.get(field_id, [])
        if found:
            text = pseudonymise({field_id: text}, found, ctx.texts)[field_id]
            replies[position].append(
                Ephemeral(thread_notice(found, ctx.texts.on(event.actor.platform)))
            )
        author = ctx.member(event.actor)
        phase = method_of(ctx, werksessie).phases[werksessie.phase]
        inbrenger = _is_inbrenger(werksessie.casus, author)
        if phase.kind == "keten":
            chains[(werksessie.id, werksessie.phase)] = position
        nudge: str | None = None
        if phase.questions_only and not inbrenger and not is_question(text):
            nudge = "geen_vraag"
        elif phase.speaks == "niet_inbrenger" and inbrenger:
            nudge = "inbrenger_luistert"
        if nudge is not None:
            replies[position].append(
                Ephemeral(ctx.texts.rich(f"werksessie.nudge.{nudge}", phase=phase.title))
            )
        rows.append(
            {
                "session_id": werksessie.id,
                "phase": werksessie.phase,
                "author_id": author.id,
                "text": text,
                "private": False,
                "message_id": event.message_id,
                "nudged": nudge,
                "created_at": ctx.now(),
            }
        )
    repo(ctx).add_bijdragen(rows)
    for (session_id, phase_index), position in chains.items():
        # One edit of the chain's card per session and batch, after the commit.
        replies[position].append(Deferred(refresh_chain, (session_id, phase_index)))
    return replies


# --- write first ----------------------------------------------------------------------------


def open_write(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    werksessie = _session(ctx, event.value)
    problem = _write_problem(ctx, werksessie, _phase_in(event.value, -2), ctx.member(event.actor))
    if problem is not None or werksessie is None:
        return [Ephemeral(texts.rich(problem or "werksessie.over"))]
    phase = method_of(ctx, werksessie).phases[werksessie.phase]
    form = Form(
        form_id=WRITE_FORM,
        title=texts.get("werksessie.write.title"),
        submit_label=texts.get("werksessie.write.submit"),
        cancel_label=texts.get("werksessie.write.cancel"),
        fields=(
            TextInput(
                "antwoord",
                texts.get("werksessie.write.label"),
                required=True,
                multiline=True,
                max_length=ANSWER_MAX,
                hint=texts.get("werksessie.write.hint"),
            ),
            *((privacy_choice_field(texts),) if finds_names(ctx.guard) else ()),
        ),
        intro=Rich(f"**{phase.title}**\n{phase.instructions}"),  # the facilitator's text
        metadata={"session_id": werksessie.id, "phase": werksessie.phase},
    )
    return [OpenForm(form)]


def _write_problem(
    ctx: HandlerContext, werksessie: Werksessie | None, phase: int, member: Member
) -> str | None:
    if werksessie is None or werksessie.status not in (
        WerksessieStatus.RUNNING,
        WerksessieStatus.PAUSED,
    ):
        return "werksessie.over"
    current = method_of(ctx, werksessie).phases[werksessie.phase]
    if phase != werksessie.phase or current.kind != "schrijf_eerst":
        return "werksessie.write.phase_over"
    if current.speaks == "niet_inbrenger" and _is_inbrenger(werksessie.casus, member):
        return "werksessie.write.inbrenger_listens"
    return None


def submit_write(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    session_id, phase = event.metadata.get("session_id"), event.metadata.get("phase")
    werksessie = repo(ctx).get(session_id) if isinstance(session_id, int) else None
    member = ctx.member(event.actor)
    problem = _write_problem(ctx, werksessie, phase if isinstance(phase, int) else -2, member)
    if problem is not None or werksessie is None:
        # The form stays open with what was typed: nothing is lost.
        return [FormErrors({"antwoord": texts.get(problem or "werksessie.over")})]
    checked = check_submission(
        {"antwoord": clean_text(event.text("antwoord"))},
        [FieldRule("antwoord", True, ANSWER_MAX)],
        texts,
        ctx.guard,
        event.text(PRIVACY_FIELD) or CHECK,
    )
    if checked.errors:
        return [FormErrors(checked.errors)]
    repo(ctx).join(werksessie, member.id, ctx.now())
    repo(ctx).add_private(werksessie, werksessie.phase, member.id, checked.values["antwoord"])
    return [Ephemeral(texts.rich("werksessie.write.saved"))]


def register(router: Router) -> None:
    router.command("werksessie", start_command)
    router.form(START_FORM, submit_start)
    router.form(WRITE_FORM, submit_write)
    router.form(LEADER_FORM, submit_leader)
    router.action(ACTION_LEADER, choose_leader)
    router.action(ACTION_JOIN, join)
    router.action(ACTION_BEGIN, begin)
    router.action(ACTION_NEXT, next_phase)
    router.action(ACTION_EXTEND, extend)
    router.action(ACTION_PAUSE, pause)
    router.action(ACTION_STOP, stop)
    router.action(ACTION_WRITE, open_write)
    router.thread_messages(thread_replies)
    router.on_posted(POST_RECORD, post_recorded, post_failed)
