"""What the parts of speedsparren share: its names, bounds and defaults, and the small
helpers and cards that the chat handlers, the planning and the rounds all use."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.core import language as babel_language
from handlers.core.context import HandlerContext
from handlers.core.events import Place
from handlers.core.replies import (
    Actions,
    Button,
    Card,
    Rich,
    Section,
)
from prompts import Texts
from storage.models import (
    Channel,
    Member,
    SpeedsparSession,
)

COMMAND = "speedsparren"
ACTION_JOIN = "speedspar_doe_mee"
ACTION_STOP = "speedspar_stop"
ACTION_TAKEAWAY = "speedspar_meenemen"
FORM_TAKEAWAY = "speedspar_meenemen"
RECORD_KIND = "speedspar"
SCHEDULE_KIND = "speedsparren"  # a schedule that starts a session (handlers/reflection.py)
ACTION_PLAN = "speedspar_plannen"
FORM_SCHEDULE = "speedspar_schema"
DEFAULT_ROUNDS = 3
DEFAULT_MINUTES = 6
DEFAULT_DECK = "succesvragen"
ROUNDS = (1, 8)
MINUTES = (2, 30)
SIGNUP_NOW = timedelta(minutes=2)  # "nu": a short moment to click "Doe mee"
DEFAULT_SIGNUP = 10  # a scheduled session: minutes from the announcement to the first round
SIGNUP = (2, 240)
HISTORY_SESSIONS = 5  # pairs from this many recent sessions are avoided
TAKEAWAY_MAX = 500


def is_facilitator(ctx: HandlerContext, member: Member) -> bool:
    return member.is_facilitator or member.platform_user_id in ctx.facilitators


def place_of(channel: Channel) -> Place:
    return Place(channel.platform, channel.platform_channel_id, channel.team_id, channel.name)


def clock_time(texts: Texts, moment: datetime, zone: str, now: datetime | None = None) -> str:
    """``15:00`` (today, or without ``now``), ``vrijdag 4 december om 15:00`` another day."""
    if now is None:
        return babel_language.moment(moment, texts.get("format.time"), texts.language, zone)
    return texts.moment(moment, zone, now)


def starts_at_text(ctx: HandlerContext, speedspar: SpeedsparSession) -> str:
    return clock_time(ctx.texts, speedspar.starts_at, ctx.zone, ctx.now())


def announcement(ctx: HandlerContext, speedspar: SpeedsparSession) -> Card:
    texts = ctx.texts
    at = starts_at_text(ctx, speedspar)
    text = texts.rich(
        "speedsparren.announcement",
        at=at,
        rounds=texts.count("ronde", speedspar.rounds),
        minutes=texts.count("minuut", speedspar.minutes),
    )
    return Card(
        (
            Section(text),
            Actions(
                (Button(ACTION_JOIN, texts.get("speedsparren.join"), str(speedspar.id), "primary"),)
            ),
        ),
        fallback=texts.rich("speedsparren.announcement_fallback", at=at),
    )


def notice_card(text: Rich) -> Card:
    return Card((Section(text),), fallback=text)
