"""Member profiles: organisation, role and expertise areas, working days, and whether others
may ask one to think along on their casus (meedenken).

A person who joins a channel where Leerkring is active gets one friendly direct message with
a button to the profile form, once per person (not on every channel join). ``/profiel`` shows
and edits one's own profile. Speedsparren uses the organisation to pair across organisations;
a person without one still takes part, as an organisation of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from handlers.core import workdays
from handlers.core.context import HandlerContext
from handlers.core.events import ButtonPressed, CommandInvoked, FormSubmitted, MemberJoined
from handlers.core.forms import FieldRule, clean_text, validate
from handlers.core.replies import (
    Actions,
    Button,
    Card,
    Ephemeral,
    Form,
    FormErrors,
    Header,
    Mention,
    MultiSelect,
    OpenForm,
    Option,
    Reply,
    Rich,
    Section,
    Select,
    TextInput,
)
from handlers.core.router import Router
from handlers.profiles.queries import profile_repo
from prompts import Texts
from storage.models import Member, MemberProfile, waiting
from storage.statements import affected

COMMAND = "profiel"
ACTION_EDIT = "profiel_bewerken"
FORM_PROFILE = "profiel"
MAX_NAME = 200
FIELD_DAYS = "werkdagen"
FIELD_REQUESTS = "meedenken"
YES, NO = "ja", "nee"


def profile_form(ctx: HandlerContext, member: Member) -> Form:
    texts = ctx.texts
    profile = profile_repo(ctx).get(member)
    known = {p.id for p in texts.perspectives}
    return Form(
        form_id=FORM_PROFILE,
        title=texts.get("profiel.form.title"),
        submit_label=texts.get("profiel.form.submit"),
        cancel_label=texts.get("profiel.form.cancel"),
        fields=(
            TextInput(
                "organisatie",
                texts.get("profiel.form.organisation"),
                max_length=MAX_NAME,
                initial=member.organisation.name if member.organisation else None,
                hint=texts.get("profiel.form.organisation_hint"),
            ),
            TextInput(
                "rol",
                texts.get("profiel.form.role"),
                max_length=MAX_NAME,
                initial=member.role,
                placeholder=texts.get("profiel.form.role_placeholder"),
            ),
            MultiSelect(
                "expertise",
                texts.get("profiel.form.expertise"),
                tuple(Option(p.id, p.label) for p in texts.perspectives),
                initial=tuple(e for e in (profile.expertise if profile else []) if e in known),
            ),
            MultiSelect(
                FIELD_DAYS,
                texts.get("profiel.form.work_days"),
                tuple(Option(str(d), day_name(texts, d)) for d in workdays.WEEKDAYS),
                initial=tuple(str(d) for d in sorted(_days(profile))),
                hint=texts.get("profiel.form.work_days_hint"),
            ),
            Select(
                FIELD_REQUESTS,
                texts.get("profiel.form.requests"),
                (
                    Option(YES, texts.get("profiel.form.requests_yes")),
                    Option(NO, texts.get("profiel.form.requests_no")),
                ),
                initial=YES if profile is None or profile.open_to_requests else NO,
                hint=texts.get("profiel.form.requests_hint"),
            ),
        ),
    )


def day_name(texts: Texts, day: int) -> str:
    return texts.get(f"profiel.day.{day}")


def _days(profile: MemberProfile | None) -> frozenset[int]:
    return workdays.parse(profile.work_days if profile else None)


def describe_days(texts: Texts, days: frozenset[int]) -> str:
    return ", ".join(day_name(texts, d) for d in sorted(days))


def describe(ctx: HandlerContext, member: Member) -> Rich:
    texts = ctx.texts
    unknown = texts.get("profiel.unknown")
    profile = profile_repo(ctx).get(member)
    expertise = [texts.perspective_label(e) for e in (profile.expertise if profile else [])]
    return texts.rich(
        "profiel.shown",
        organisation=member.organisation.name if member.organisation else unknown,
        role=member.role or unknown,
        expertise=", ".join(expertise) or unknown,
        work_days=describe_days(texts, _days(profile)),
        requests=texts.get(
            "profiel.requests_on"
            if profile is None or profile.open_to_requests
            else "profiel.requests_off"
        ),
    )


def welcome_card(texts: Texts, user_id: str) -> Card:
    text = texts.rich("profiel.welcome", person=Mention(user_id))
    return Card(
        (
            Section(text),
            Actions((Button(ACTION_EDIT, texts.get("profiel.fill"), "welkom", "primary"),)),
        ),
        fallback=texts.rich("profiel.welcome_fallback"),
    )


def member_joined(event: MemberJoined, ctx: HandlerContext) -> list[Reply]:
    """The welcome is owed from this transaction on; the scheduler's tick sends it (and sends
    it again later when it failed), so a DM the platform refused for a moment is not lost."""
    owe_welcome(ctx, ctx.member(event.actor))
    return []


def owe_welcome(ctx: HandlerContext, member: Member) -> bool:
    """A pending welcome for someone never welcomed; True only for the one call that wrote it
    (two joins at once, or a redelivered event, owe one welcome)."""
    profile_repo(ctx).ensure(member)
    written = affected(
        ctx.session,
        update(MemberProfile)
        .where(
            MemberProfile.member_id == member.id,
            MemberProfile.welcomed_at.is_(None),
            MemberProfile.welcome_status.is_(None),
        )
        .values(welcome_status="pending")
        .execution_options(synchronize_session=False),
    )
    ctx.session.expire_all()
    return written > 0


@dataclass(frozen=True)
class Welcome:
    member_id: int
    platform: str
    user_id: str
    status: str  # pending | sending
    card: Card


def pending_welcomes(ctx: HandlerContext, limit: int = 200) -> list[Welcome]:
    session = ctx.session
    found = session.execute(
        select(MemberProfile.member_id, MemberProfile.welcome_status, Member.platform,
               Member.platform_user_id)
        .join(Member, Member.id == MemberProfile.member_id)
        .where(
            waiting(MemberProfile.welcome_status),
            MemberProfile.welcomed_at.is_(None),  # not since imported as welcomed
        )
        .order_by(MemberProfile.member_id)
        .limit(limit)
    )  # fmt: skip
    return [
        Welcome(member_id, platform, user_id, str(status), welcome_card(ctx.texts, user_id))
        for member_id, status, platform, user_id in found
    ]


def _profile(ctx: HandlerContext, member_id: int) -> MemberProfile | None:
    return ctx.session.get(MemberProfile, member_id)


def mark_welcomed(ctx: HandlerContext, member_id: int, error: str | None = None) -> None:
    profile = _profile(ctx, member_id)
    if profile is None:
        return
    if error is None:
        profile.welcome_status = "sent"
        profile.welcomed_at = ctx.now()
    else:
        profile.welcome_status = "failed"


def profiel_command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    text = describe(ctx, member)
    card = Card(
        (
            Header(texts.get("profiel.header")),
            Section(text),
            Actions((Button(ACTION_EDIT, texts.get("profiel.edit"), "profiel", "primary"),)),
        ),
        fallback=text,
    )
    return [Ephemeral(text, card)]


def edit_profile(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    return [OpenForm(profile_form(ctx, ctx.member(event.actor)))]


def submit_profile(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    values = {
        "organisatie": clean_text(event.text("organisatie")),
        "rol": clean_text(event.text("rol")),
    }
    errors = validate(
        values,
        [FieldRule("organisatie", False, MAX_NAME), FieldRule("rol", False, MAX_NAME)],
        texts,
        ctx.guard,
    )
    if errors:
        return [FormErrors(errors)]
    member = ctx.member(event.actor)
    known = [p.id for p in texts.perspectives]
    chosen = set(event.choices("expertise"))
    save_profile(
        ctx, member, values["organisatie"], values["rol"], [p for p in known if p in chosen]
    )
    profile = profile_repo(ctx).ensure(member)
    days = [int(d) for d in event.choices(FIELD_DAYS) if d.isdigit()]
    profile.work_days = workdays.stored(days)  # none chosen: Monday to Friday
    answer = event.text(FIELD_REQUESTS)
    if answer in (YES, NO):
        profile.open_to_requests = answer == YES
    return [Ephemeral(texts.rich("profiel.saved"))]


def save_profile(
    ctx: HandlerContext, member: Member, organisation: str, role: str, expertise: list[str]
) -> None:
    """Also used by the CSV import. Empty values clear the field."""
    member.organisation_id = (
        profile_repo(ctx).organisation(organisation).id if organisation else None
    )
    member.role = role or None
    profile = profile_repo(ctx).ensure(member)
    profile.expertise = list(expertise)
    profile.updated_at = ctx.now()
    ctx.session.flush()
    ctx.session.refresh(member)


def register(router: Router) -> None:
    router.command(COMMAND, profiel_command)
    router.action(ACTION_EDIT, edit_profile)
    router.form(FORM_PROFILE, submit_profile)
    router.member_joined(member_joined)
