"""SQLAlchemy 2 typed models. Alembic owns the schema (storage/migrations)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    column,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Outbox rows the scheduler looks for at every tick: not sent yet, or being sent when a process
# stopped (handlers/outbox.py). A closing summary is ``posting`` rather than ``sending``.
UNSENT = ("pending", "sending")
UNPOSTED = ("pending", "posting")


def waiting(status: Any, states: tuple[str, ...] = UNSENT) -> ColumnElement[bool]:
    """``status IN ('pending', 'sending')`` with the states written as literals, as the partial
    indexes below (``outbox_index``) are: SQLite uses a partial index only when the query's term
    matches its WHERE, which a bound parameter list never does (a single ``= ?`` would)."""
    result: ColumnElement[bool] = status.in_(
        bindparam(None, list(states), expanding=True, literal_execute=True)
    )
    return result


def outbox_index(name: str, status: str, *columns: str, states: tuple[str, ...] = UNSENT) -> Index:
    """An index of the rows still waiting in an outbox status column (migration 0011), on both
    databases only over those rows: nearly every row is sent, so it stays small."""
    where = column(status).in_(states)
    return Index(name, status, *columns, sqlite_where=where, postgresql_where=where)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Base):
    """A person on one platform. Only what the network needs: an id, a name, an employer."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    platform_user_id: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str | None] = mapped_column(String(200))
    is_facilitator: Mapped[bool] = mapped_column(Boolean, default=False)
    # A person's own pause of reflection prompts, up to and including this date.
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()


class Channel(Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "platform_channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    platform_channel_id: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    # A facilitator's pause of all schedules here (school holidays), up to and including.
    paused_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CasusStatus(enum.StrEnum):
    PENDING = "pending"  # stored, not yet confirmed posted
    POSTING = "posting"  # an approved draft on its way to the channel
    OPEN = "open"
    CLOSED = "closed"


class Casus(Base):
    __tablename__ = "casussen"
    __table_args__ = (Index("ix_casussen_channel_status", "channel_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    inbrenger_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    title: Mapped[str] = mapped_column(String(150))
    situation: Mapped[str] = mapped_column(Text)
    obstacle: Mapped[str | None] = mapped_column(Text)
    uncertainty: Mapped[str | None] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    perspectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[CasusStatus] = mapped_column(
        Enum(
            CasusStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=CasusStatus.PENDING,
    )
    message_id: Mapped[str | None] = mapped_column(String(100))
    insight: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column()
    # An anonymous casus points at the platform's placeholder member (ANONYMOUS_USER_ID) and
    # keeps only HMAC-SHA256(LEERKRING_HMAC_SECRET, "platform:user id") of the real inbrenger,
    # which is what closing it needs (handlers/anonymous.py).
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=false())
    inbrenger_hash: Mapped[str | None] = mapped_column(String(64))

    channel: Mapped[Channel] = relationship()
    inbrenger: Mapped[Member] = relationship()


class Bijdrage(Base):
    """A contribution in the thread of a casus."""

    __tablename__ = "bijdragen"
    __table_args__ = (UniqueConstraint("casus_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    casus_id: Mapped[int] = mapped_column(ForeignKey("casussen.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    author: Mapped[Member] = relationship()


class PostedMessage(Base):
    """Where a message of ours landed, so replies in its thread find their object."""

    __tablename__ = "posted_messages"
    __table_args__ = (UniqueConstraint("platform", "channel_ref", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    channel_ref: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedEvent(Base):
    """Delivery ids we have handled: a redelivered event is recognised and skipped."""

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationReference(Base):
    """Enough to message a conversation later without anyone speaking first (Teams
    proactive messages; Slack needs only the channel id). Stored on install and on every
    inbound activity, so it survives restarts."""

    __tablename__ = "conversation_references"
    __table_args__ = (
        UniqueConstraint("platform", "conversation_id"),
        Index("ix_conversation_references_user", "platform", "user_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(20))  # channel, personal, groupChat
    # For a personal (1:1) conversation: whose it is (Teams aadObjectId).
    user_id: Mapped[str | None] = mapped_column(String(100))
    team_id: Mapped[str | None] = mapped_column(String(200))
    tenant_id: Mapped[str | None] = mapped_column(String(100))
    service_url: Mapped[str] = mapped_column(String(500))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DirectChannel(Base):
    """A person's direct-message channel with the bot (Slack: the ``D…`` id that
    conversations.open returns). conversations.open is Tier 3 (about 50 a minute), so the id is
    kept here rather than opened again by every process; it is replaced when Slack answers
    ``channel_not_found`` for it. Teams keeps its 1:1 chats in ``conversation_references``."""

    __tablename__ = "direct_channels"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Schedule(Base):
    """A recurring reflection prompt in one channel."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # a deck in prompts/<lang>/reflectie.toml
    cron: Mapped[str] = mapped_column(String(100))  # five fields, in `timezone`
    timezone: Mapped[str] = mapped_column(String(60))
    delivery: Mapped[str] = mapped_column(String(20), default="channel")  # channel | dm
    private: Mapped[bool] = mapped_column(Boolean, default=False)  # answers only for facilitators
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    window_hours: Mapped[int] = mapped_column(Integer, default=48)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # The next time this schedule is due (UTC); advanced when a run is created or skipped.
    next_fire_at: Mapped[datetime | None] = mapped_column(index=True)
    # Only for kind "speedsparren": the session it starts. The announcement goes out at the
    # fire time and the first round starts ``signup_minutes`` later; with ``facilitator_fills``
    # the schedule's creator takes an odd seat.
    rounds: Mapped[int | None] = mapped_column(Integer)
    minutes: Mapped[int | None] = mapped_column(Integer)
    deck: Mapped[str | None] = mapped_column(String(40))
    signup_minutes: Mapped[int | None] = mapped_column(Integer)
    facilitator_fills: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    channel: Mapped[Channel] = relationship()


class RunStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PromptRun(Base):
    """One firing of a schedule (or one casus follow-up). ``fire_key`` is unique, and the
    row is written before anything is sent, so no failover or restart can post it twice."""

    __tablename__ = "prompt_runs"
    __table_args__ = (
        outbox_index("ix_prompt_runs_summary_status", "summary_status", states=UNPOSTED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fire_key: Mapped[str] = mapped_column(String(120), unique=True)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), index=True
    )
    casus_id: Mapped[int | None] = mapped_column(ForeignKey("casussen.id", ondelete="SET NULL"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    kind: Mapped[str] = mapped_column(String(40))
    delivery: Mapped[str] = mapped_column(String(20))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    fire_at: Mapped[datetime] = mapped_column()
    remind_at: Mapped[datetime] = mapped_column(index=True)
    closes_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[RunStatus] = mapped_column(
        Enum(
            RunStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        ),
        default=RunStatus.OPEN,
    )
    message_id: Mapped[str | None] = mapped_column(String(100))  # the channel post
    # True once the reminder rows are written (``PromptDelivery.reminder_status``).
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients_listed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The closing summary, written with the CLOSED status and marked after posting:
    # pending | posting (may have arrived: looked for by its key first) | posted | failed.
    summary_status: Mapped[str | None] = mapped_column(String(20))
    # While a process posts the prompt and lists recipients, or posts the summary: when it
    # claimed the work (kept fresh while in flight; bot/outbox.py). None: nobody is at it.
    claimed_at: Mapped[datetime | None] = mapped_column()
    summary_claimed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    channel: Mapped[Channel] = relationship()
    schedule: Mapped[Schedule | None] = relationship()


class PromptDelivery(Base):
    """One person a run is for: who got the prompt, and who got a reminder."""

    __tablename__ = "prompt_deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "user_id"),
        outbox_index("ix_prompt_deliveries_status", "status", "run_id"),
        outbox_index("ix_prompt_deliveries_reminder_status", "reminder_status", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("prompt_runs.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(100))  # platform user id
    status: Mapped[str] = mapped_column(
        String(20), default="pending"
    )  # pending|sending|sent|failed|skipped
    error: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column()
    # The reminder DM, an outbox row of its own: pending | sending | sent | failed | expired
    # (the run closed before it went out). None: no reminder for this person.
    reminder_status: Mapped[str | None] = mapped_column(String(20))
    reminded_at: Mapped[datetime | None] = mapped_column()
    # When a process claimed the DM (the reminder) and is sending it; None when nobody is.
    claimed_at: Mapped[datetime | None] = mapped_column()
    reminder_claimed_at: Mapped[datetime | None] = mapped_column()


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("run_id", "member_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("prompt_runs.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    member: Mapped[Member] = relationship()


class HarvestLog(Base):
    """Every harvest (oogst) is logged: who, when, which period and channel."""

    __tablename__ = "harvest_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(200))  # platform:user id, or "cli"
    channel_ref: Mapped[str | None] = mapped_column(String(200))
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    output: Mapped[str] = mapped_column(String(40))  # chat, md, html, csv, json
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurgeLog(Base):
    """Every retention purge that replaced texts: when, the cut-off and how many per kind.
    Written in the purge's own transaction; it holds no text and no person."""

    __tablename__ = "purge_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    purged_at: Mapped[datetime] = mapped_column(index=True)
    cutoff: Mapped[datetime] = mapped_column()
    months: Mapped[int] = mapped_column(Integer)
    casussen: Mapped[int] = mapped_column(Integer, default=0)
    bijdragen: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    takeaways: Mapped[int] = mapped_column(Integer, default=0)


class MemberProfile(Base):
    """What a person tells about themselves beyond ``Member`` (organisation and role live
    there): expertise areas, and their welcome (the onboarding DM goes out once)."""

    __tablename__ = "member_profiles"
    __table_args__ = (outbox_index("ix_member_profiles_welcome_status", "welcome_status"),)

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    expertise: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The welcome DM, an outbox row sent by the scheduler's tick: pending | sending (may have
    # arrived: looked for by its key first) | sent | failed. ``welcomed_at`` is set once it is
    # sent (or, for an imported member, instead of sending one).
    welcome_status: Mapped[str | None] = mapped_column(String(20))
    welcomed_at: Mapped[datetime | None] = mapped_column()
    welcome_claimed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime | None] = mapped_column()
    # The ISO weekdays this person works ("1234" = Monday to Thursday); None is Monday to
    # Friday. DMs due on another day wait (handlers/core/workdays.py).
    work_days: Mapped[str | None] = mapped_column(String(7))
    # False: never suggested to an inbrenger as someone who could think along (meedenken).
    open_to_requests: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    member: Mapped[Member] = relationship()


class SpeedsparStatus(enum.StrEnum):
    OPEN = "open"  # announced, sign-up open until the start
    RUNNING = "running"
    CLOSING = "closing"  # rounds done; takeaways are being collected
    CLOSED = "closed"
    CANCELLED = "cancelled"


class SpeedsparSession(Base):
    """One speedspar session in a channel. Rounds are timed from ``round_started_at``; the
    scheduler advances the session when a boundary has passed, also after a restart."""

    __tablename__ = "speedspar_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    status: Mapped[SpeedsparStatus] = mapped_column(
        Enum(
            SpeedsparStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=SpeedsparStatus.OPEN,
        index=True,
    )
    starts_at: Mapped[datetime] = mapped_column()
    rounds: Mapped[int] = mapped_column(Integer, default=3)
    minutes: Mapped[int] = mapped_column(Integer, default=6)
    deck: Mapped[str] = mapped_column(String(40))
    seed: Mapped[int] = mapped_column(Integer)
    facilitator_fills: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    message_id: Mapped[str | None] = mapped_column(String(100))  # the announcement
    current_round: Mapped[int] = mapped_column(Integer, default=0)
    round_ends_at: Mapped[datetime | None] = mapped_column()
    closing_until: Mapped[datetime | None] = mapped_column()
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    # A channel post still owed: "announcement" (a scheduled session), "summary" or
    # "cancelled"; cleared when posted.
    post_pending: Mapped[str | None] = mapped_column(String(20))
    # When a process claimed the pending channel post (bot/outbox.py); None: nobody is at it.
    post_claimed_at: Mapped[datetime | None] = mapped_column()
    # A session a schedule started: which one, and the firing's unique key, written before
    # the announcement is sent so that no restart or second replica starts it twice.
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    fire_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    channel: Mapped[Channel] = relationship()


class SpeedsparParticipant(Base):
    __tablename__ = "speedspar_participants"
    __table_args__ = (UniqueConstraint("session_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("speedspar_sessions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(100))  # platform user id
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    left_at: Mapped[datetime | None] = mapped_column()
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()


class SpeedsparSeat(Base):
    """Who sat with whom: one row per person per round. This is the pairing history."""

    __tablename__ = "speedspar_seats"
    __table_args__ = (UniqueConstraint("session_id", "round", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("speedspar_sessions.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    group_no: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # 0 tells first
    cross_org: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)  # met this partner before


class SpeedsparMessage(Base):
    """One direct message of a session to one person, written before it is sent and marked
    after: a restart resumes the fan-out without sending anything twice."""

    __tablename__ = "speedspar_messages"
    __table_args__ = (UniqueConstraint("session_id", "kind", "round", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("speedspar_sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # round | closing | cancelled | alone
    round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    error: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()


class SpeedsparTakeaway(Base):
    """``Wat neem je mee?`` at the end of a session (for /oogsten)."""

    __tablename__ = "speedspar_takeaways"
    __table_args__ = (UniqueConstraint("session_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("speedspar_sessions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()


class RevokedWorkspace(Base):
    """A workspace that uninstalled the app or revoked its token: nothing is sent there until
    a working token proves it is back (``bot/revocation.py``)."""

    __tablename__ = "revoked_workspaces"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)


class WerksessieStatus(enum.StrEnum):
    OPEN = "open"  # sign-up; no phase yet
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # every phase done
    STOPPED = "stopped"  # stopped early by the procesbegeleider


class Werksessie(Base):
    """A guided consultation on a casus (``/werksessie``), following one method's phases.
    ``phase`` is the index of the current phase (-1 before the start); ``phase_ends_at`` when
    it is over; a paused session keeps the time it had left in ``paused_left_seconds``."""

    __tablename__ = "werksessies"
    __table_args__ = (Index("ix_werksessies_status_phase_ends_at", "status", "phase_ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    casus_id: Mapped[int] = mapped_column(ForeignKey("casussen.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(50))
    mode: Mapped[str] = mapped_column(String(10))  # live | async
    begeleider_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    started_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    anonymous: Mapped[bool] = mapped_column(default=False)  # write-first answers without names
    status: Mapped[WerksessieStatus] = mapped_column(
        Enum(
            WerksessieStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=WerksessieStatus.OPEN,
    )
    phase: Mapped[int] = mapped_column(Integer, default=-1)
    phase_started_at: Mapped[datetime | None] = mapped_column()
    phase_ends_at: Mapped[datetime | None] = mapped_column()
    paused_left_seconds: Mapped[int | None] = mapped_column(Integer)
    phases_done: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column()

    casus: Mapped[Casus] = relationship()
    begeleider: Mapped[Member] = relationship(foreign_keys=[begeleider_id])


class WerksessieParticipant(Base):
    """Signed up with *Doe mee*."""

    __tablename__ = "werksessie_participants"
    __table_args__ = (UniqueConstraint("session_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("werksessies.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class WerksessiePost(Base):
    """A post the session owes the casus thread: a phase's card (``fase``), the write-first
    answers revealed together (``onthulling``), the closing word (``einde``). The row is
    written with the state change that makes it due, so each is posted once; it is claimed
    while it is posted (``claimed_at``) and done once ``message_id`` is set."""

    __tablename__ = "werksessie_posts"
    __table_args__ = (UniqueConstraint("session_id", "phase", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("werksessies.id", ondelete="CASCADE"))
    phase: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column()


class WerksessieBijdrage(Base):
    """What someone wrote in a phase: a reply in the thread (``message_id``), or a private
    write-first answer (``private``), shown to nobody until the phase ends."""

    __tablename__ = "werksessie_bijdragen"
    __table_args__ = (UniqueConstraint("session_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("werksessies.id", ondelete="CASCADE"), index=True
    )
    phase: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(default=False)
    message_id: Mapped[str | None] = mapped_column(String(100))
    nudged: Mapped[str | None] = mapped_column(String(20))  # geen_vraag | inbrenger_luistert
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[Member] = relationship()


class WerksessieReminder(Base):
    """One reminder per phase of an async session to a participant who has not taken part;
    an outbox row (handlers/core/outbox.py)."""

    __tablename__ = "werksessie_reminders"
    __table_args__ = (
        UniqueConstraint("session_id", "phase", "member_id"),
        outbox_index("ix_werksessie_reminders_unsent", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("werksessies.id", ondelete="CASCADE"))
    phase: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WerksessieFollowup(Base):
    """The next cycle of a method that asks for one (ALACT's *uitproberen*): when the phase
    with ``vervolg_dagen`` begins, one row for the inbrenger, sent once at ``due_at`` by the
    werksessie scheduler step; an outbox row (handlers/core/outbox.py)."""

    __tablename__ = "werksessie_followups"
    __table_args__ = (
        UniqueConstraint("session_id"),
        outbox_index("ix_werksessie_followups_unsent", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("werksessies.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WerksessieReflectie(Base):
    """One person's reflection on a werksessie they took part in, on the three dimensions of
    the SKJ (technisch-instrumenteel, normatief, persoonlijk). The row is written when the
    session is over and is also the outbox row of the private question (``status``), so each
    person is asked once; the texts stay empty until they answer. Private to the person."""

    __tablename__ = "werksessie_reflecties"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id"),
        outbox_index("ix_werksessie_reflecties_unsent", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("werksessies.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # inbrenger | deelnemer | procesbegeleider
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    technisch: Mapped[str | None] = mapped_column(Text)
    normatief: Mapped[str | None] = mapped_column(Text)
    persoonlijk: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReflectieBewaring(Base):
    """How many years a person keeps their own reflection record (``/reflectieverslag
    bewaar``); without a row, the default (five years, the SKJ registration period)."""

    __tablename__ = "reflectie_bewaring"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    years: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MeedenkRequest(Base):
    """An inbrenger asked a member from another organisation to think along on their casus:
    one row per casus and member (a pressed-again or redelivered button adds none), and an
    outbox row for the one DM (handlers/core/outbox.py)."""

    __tablename__ = "meedenk_requests"
    __table_args__ = (
        UniqueConstraint("casus_id", "member_id"),
        Index("ix_meedenk_requests_member_created", "member_id", "created_at"),
        outbox_index("ix_meedenk_requests_unsent", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    casus_id: Mapped[int] = mapped_column(ForeignKey("casussen.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # Who asked (the inbrenger; for an anonymous casus the placeholder member).
    asked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    casus: Mapped[Casus] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])


class Praktijkvoorbeeld(Base):
    """A good practice shared with ``/praktijkvoorbeeld``, in the four parts of the NJi
    checklist: the aim and the need it answers, the results (what changed, success factors,
    bottlenecks), the process and tips for others. Posted as a card; ``message_id`` is set
    once the post is recorded (the thread of the answers)."""

    __tablename__ = "praktijkvoorbeelden"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    aim: Mapped[str] = mapped_column(Text)
    changed: Mapped[str] = mapped_column(Text)
    success_factors: Mapped[str | None] = mapped_column(Text)
    bottlenecks: Mapped[str | None] = mapped_column(Text)
    process: Mapped[str] = mapped_column(Text)
    tips: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    channel: Mapped[Channel] = relationship()
    author: Mapped[Member] = relationship()


class PraktijkVertaling(Base):
    """One member's translation of a praktijkvoorbeeld to their own practice: a score from 0
    to 10, what they take along and what not, what the translation needs and a step for
    tomorrow. ``shared``: posted in the card's thread (``message_id``); otherwise only the
    facilitators see it (the harvest). One per member and practice."""

    __tablename__ = "praktijk_vertalingen"
    __table_args__ = (UniqueConstraint("practice_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        ForeignKey("praktijkvoorbeelden.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    take_along: Mapped[str | None] = mapped_column(Text)
    leave_out: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[str | None] = mapped_column(Text)
    step: Mapped[str | None] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(default=False)
    message_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    practice: Mapped[Praktijkvoorbeeld] = relationship()
    member: Mapped[Member] = relationship()


class PraktijkVervolg(Base):
    """The follow-up of a step for tomorrow, N weeks after it was named ("hoe ging je stap?"):
    an outbox DM (handlers/core/outbox.py), one per translation, and what the person answered."""

    __tablename__ = "praktijk_vervolgen"
    __table_args__ = (
        UniqueConstraint("translation_id"),
        outbox_index("ix_praktijk_vervolgen_unsent", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(
        ForeignKey("praktijk_vertalingen.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    how_it_went: Mapped[str | None] = mapped_column(Text)
    learned: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column()

    translation: Mapped[PraktijkVertaling] = relationship()
