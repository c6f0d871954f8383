"""Repositories: queries and writes on a session they are given. They flush, never commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import (
    Answer,
    Bijdrage,
    Casus,
    CasusStatus,
    Channel,
    Member,
    MemberProfile,
    Organisation,
    PostedMessage,
    ProcessedEvent,
    PromptDelivery,
    PromptRun,
    RunStatus,
    Schedule,
    SpeedsparMessage,
    SpeedsparParticipant,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparStatus,
    SpeedsparTakeaway,
    utcnow,
    waiting,
)


def insert_ignoring_conflict(session: Session, model: type, values: dict[str, object]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when a row was inserted.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction and then
    does nothing, so exactly one of two racing deliveries wins.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(model).values(**values).on_conflict_do_nothing()
    # Without preserve_rowcount SQLAlchemy 2.1 reports -1 for an INSERT on psycopg, which
    # would read as "inserted" and let every redelivery through.
    result = session.execute(stmt, execution_options={"preserve_rowcount": True})
    return result.rowcount > 0  # type: ignore[attr-defined]


def insert_many_ignoring_conflict(
    session: Session, model: type, rows: Sequence[dict[str, object]], *returning: str
) -> list[tuple[object, ...]]:
    """One INSERT ... ON CONFLICT DO NOTHING for many rows (an executemany, batched into
    multi-row VALUES where the driver needs it); with ``returning``, those columns of the rows
    that were inserted. A row that conflicts with an earlier one in ``rows`` is skipped too."""
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt: Any = insert(table).on_conflict_do_nothing()
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning))
        return [tuple(row) for row in session.connection().execute(stmt, list(rows))]
    session.connection().execute(stmt, list(rows))
    return []


# Statements the thread-reply writer runs for every batch, built once: building a select
# costs more than running it on SQLite. The key lists are expanding parameters.


@cache
def _members_by_key() -> Select[str, str, int, str | None, bool]:
    return select(
        Member.platform,
        Member.platform_user_id,
        Member.id,
        Member.display_name,
        Member.is_facilitator,
    ).where(tuple_(Member.platform, Member.platform_user_id).in_(bindparam("keys", expanding=True)))


def _thread_in() -> ColumnElement[bool]:
    """The posted message is one of the ``threads`` parameter's (platform, channel, id)."""
    return tuple_(PostedMessage.platform, PostedMessage.channel_ref, PostedMessage.message_id).in_(
        bindparam("threads", expanding=True)
    )


@cache
def _casus_ids_by_thread() -> Select[str, str, str, int]:
    return (
        select(
            PostedMessage.platform, PostedMessage.channel_ref, PostedMessage.message_id, Casus.id
        )
        .join(Casus, Casus.id == PostedMessage.object_id)
        .where(PostedMessage.kind == "casus", _thread_in())
    )


@cache
def _objects_by_thread() -> Select[str, str, str, int]:
    return select(
        PostedMessage.platform,
        PostedMessage.channel_ref,
        PostedMessage.message_id,
        PostedMessage.object_id,
    ).where(PostedMessage.kind == bindparam("kind"), _thread_in())


class EventLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, platform: str, event_id: str) -> bool:
        """Record a delivery id; False when it was handled before (a redelivery)."""
        return insert_ignoring_conflict(
            self.session,
            ProcessedEvent,
            {"platform": platform, "event_id": event_id, "received_at": utcnow()},
        )

    def claim_many(self, deliveries: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Record (platform, event_id) pairs in one statement; the pairs that were new."""
        if not deliveries:
            return set()
        now = utcnow()
        rows = [{"platform": p, "event_id": e, "received_at": now} for p, e in deliveries]
        inserted = insert_many_ignoring_conflict(
            self.session, ProcessedEvent, rows, "platform", "event_id"
        )
        return {(str(platform), str(event_id)) for platform, event_id in inserted}


class MemberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, member_id: int) -> Member | None:
        return self.session.get(Member, member_id)

    def find(self, platform: str, user_id: str) -> Member | None:
        return self.session.scalars(
            select(Member).where(Member.platform == platform, Member.platform_user_id == user_id)
        ).one_or_none()

    def ensure(
        self,
        platform: str,
        user_id: str,
        display_name: str | None = None,
        facilitator: bool = False,
    ) -> Member:
        insert_ignoring_conflict(
            self.session,
            Member,
            {
                "platform": platform,
                "platform_user_id": user_id,
                "display_name": display_name,
                "is_facilitator": facilitator,
                "created_at": utcnow(),
            },
        )
        member = self.find(platform, user_id)
        assert member is not None
        if display_name and member.display_name != display_name:
            member.display_name = display_name
        if facilitator and not member.is_facilitator:
            member.is_facilitator = True
        return member

    def ensure_ids(
        self, people: Sequence[tuple[str, str, str | None, bool]]
    ) -> dict[tuple[str, str], int]:
        """``ensure`` for many (platform, user_id, display_name, facilitator) at once, in as
        few statements as possible: member ids by (platform, user_id)."""
        wanted = {(p, u): (name, facilitator) for p, u, name, facilitator in people}
        if not wanted:
            return {}
        found = self._rows(list(wanted))
        missing = [key for key in wanted if key not in found]
        if missing:
            now = utcnow()
            insert_many_ignoring_conflict(
                self.session,
                Member,
                [
                    {
                        "platform": platform,
                        "platform_user_id": user_id,
                        "display_name": wanted[(platform, user_id)][0],
                        "is_facilitator": wanted[(platform, user_id)][1],
                        "created_at": now,
                    }
                    for platform, user_id in missing
                ],
            )
            found.update(self._rows(missing))
        for key, (member_id, stored_name, is_facilitator) in found.items():
            name, facilitator = wanted[key]
            values: dict[str, object] = {}
            if name and name != stored_name:
                values["display_name"] = name
            if facilitator and not is_facilitator:
                values["is_facilitator"] = True
            if values:
                self.session.execute(update(Member).where(Member.id == member_id).values(**values))
        return {key: row[0] for key, row in found.items()}

    def _rows(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, str | None, bool]]:
        rows = self.session.connection().execute(_members_by_key(), {"keys": list(keys)})
        return {(p, u): (member_id, name, bool(f)) for p, u, member_id, name, f in rows}


class ChannelRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure(
        self, platform: str, channel_id: str, team_id: str | None = None, name: str | None = None
    ) -> Channel:
        insert_ignoring_conflict(
            self.session,
            Channel,
            {
                "platform": platform,
                "platform_channel_id": channel_id,
                "team_id": team_id,
                "name": name,
                "created_at": utcnow(),
            },
        )
        channel = self.session.scalars(
            select(Channel).where(
                Channel.platform == platform, Channel.platform_channel_id == channel_id
            )
        ).one()
        if name and channel.name != name:
            channel.name = name
        return channel


class CasusRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        channel: Channel,
        inbrenger: Member,
        title: str,
        situation: str,
        obstacle: str | None,
        uncertainty: str | None,
        question: str,
        perspectives: Sequence[str],
    ) -> Casus:
        casus = Casus(
            channel_id=channel.id,
            inbrenger_id=inbrenger.id,
            title=title,
            situation=situation,
            obstacle=obstacle or None,
            uncertainty=uncertainty or None,
            question=question,
            perspectives=list(perspectives),
            status=CasusStatus.PENDING,
            created_at=utcnow(),
        )
        self.session.add(casus)
        self.session.flush()
        return casus

    def get(self, casus_id: int) -> Casus | None:
        return self.session.get(Casus, casus_id)

    def ids_by_thread(
        self, threads: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], int]:
        """Casus ids by the (platform, channel, message id) of their posted message, for those
        of ``threads`` that hang under a casus."""
        keys = list(set(threads))
        if not keys:
            return {}
        rows = self.session.connection().execute(_casus_ids_by_thread(), {"threads": keys})
        return {(p, c, m): casus_id for p, c, m, casus_id in rows}

    def delete(self, casus: Casus) -> None:
        self.session.delete(casus)
        self.session.flush()

    def mark_posted(self, casus: Casus, message_id: str) -> None:
        casus.message_id = message_id
        if casus.status in (CasusStatus.PENDING, CasusStatus.POSTING):
            casus.status = CasusStatus.OPEN
        self.session.flush()

    def unrecorded(self, created_before: datetime) -> list[Casus]:
        """Posting started before ``created_before`` and its message id never recorded."""
        return list(
            self.session.scalars(
                select(Casus)
                .where(
                    Casus.status == CasusStatus.POSTING,
                    Casus.message_id.is_(None),
                    Casus.created_at < created_before,
                )
                .order_by(Casus.id)
                .limit(50)
            )
        )

    def claim_draft(self, casus: Casus) -> bool:
        """Move a draft from pending to posting; False when another request did it first
        (a double click on "post"), so only one of them posts."""
        result = self.session.execute(
            update(Casus)
            .where(Casus.id == casus.id, Casus.status == CasusStatus.PENDING)
            .values(status=CasusStatus.POSTING),
            execution_options={"preserve_rowcount": True, "synchronize_session": False},
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.session.refresh(casus)
        return True

    def close(self, casus: Casus, insight: str, next_step: str, at: datetime | None = None) -> None:
        casus.insight = insight
        casus.next_step = next_step
        casus.status = CasusStatus.CLOSED
        casus.closed_at = at or utcnow()
        self.session.flush()

    def in_channel(
        self, channel: Channel, statuses: Iterable[CasusStatus] = (CasusStatus.OPEN,)
    ) -> list[Casus]:
        return list(
            self.session.scalars(
                select(Casus)
                .where(Casus.channel_id == channel.id, Casus.status.in_(list(statuses)))
                .order_by(Casus.id)
            )
        )

    def bijdrage_count(self, casus: Casus) -> int:
        return int(
            self.session.scalar(
                select(func.count()).select_from(Bijdrage).where(Bijdrage.casus_id == casus.id)
            )
            or 0
        )


class BijdrageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, casus: Casus, author: Member, text: str, message_id: str | None
    ) -> Bijdrage | None:
        """Store a contribution; None when this message was stored before."""
        if message_id is not None:
            inserted = insert_ignoring_conflict(
                self.session,
                Bijdrage,
                {
                    "casus_id": casus.id,
                    "author_id": author.id,
                    "text": text,
                    "message_id": message_id,
                    "created_at": utcnow(),
                },
            )
            if not inserted:
                return None
            return self.session.scalars(
                select(Bijdrage).where(
                    Bijdrage.casus_id == casus.id, Bijdrage.message_id == message_id
                )
            ).one()
        bijdrage = Bijdrage(casus_id=casus.id, author_id=author.id, text=text, created_at=utcnow())
        self.session.add(bijdrage)
        self.session.flush()
        return bijdrage

    def delete_unposted(self, bijdrage_id: int) -> None:
        """Remove a contribution from the form that never reached the thread."""
        bijdrage = self.session.get(Bijdrage, bijdrage_id)
        if bijdrage is not None and bijdrage.message_id is None:
            self.session.delete(bijdrage)
            self.session.flush()

    def add_many(self, contributions: Sequence[tuple[int, int, str, str]]) -> None:
        """Store (casus_id, author_id, text, message_id) contributions in one statement; a
        message stored before is left as it is."""
        if not contributions:
            return
        now = utcnow()
        insert_many_ignoring_conflict(
            self.session,
            Bijdrage,
            [
                {
                    "casus_id": casus_id,
                    "author_id": author_id,
                    "text": text,
                    "message_id": message_id,
                    "created_at": now,
                }
                for casus_id, author_id, text, message_id in contributions
            ],
        )

    def for_casus(self, casus: Casus) -> list[Bijdrage]:
        return list(
            self.session.scalars(
                select(Bijdrage).where(Bijdrage.casus_id == casus.id).order_by(Bijdrage.id)
            )
        )

    def set_message_id(self, bijdrage_id: int, message_id: str) -> None:
        bijdrage = self.session.get(Bijdrage, bijdrage_id)
        if bijdrage is not None and bijdrage.message_id is None:
            bijdrage.message_id = message_id
            self.session.flush()


class PostedMessageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self, platform: str, channel_ref: str, message_id: str, kind: str, object_id: int
    ) -> None:
        insert_ignoring_conflict(
            self.session,
            PostedMessage,
            {
                "platform": platform,
                "channel_ref": channel_ref,
                "message_id": message_id,
                "kind": kind,
                "object_id": object_id,
                "created_at": utcnow(),
            },
        )

    def lookup(self, platform: str, channel_ref: str, message_id: str) -> PostedMessage | None:
        return self.session.scalars(
            select(PostedMessage).where(
                PostedMessage.platform == platform,
                PostedMessage.channel_ref == channel_ref,
                PostedMessage.message_id == message_id,
            )
        ).one_or_none()

    def objects_by_thread(
        self, kind: str, threads: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], int]:
        """Object ids of ``kind`` by the (platform, channel, message id) of their posted
        message, for those of ``threads`` that are such a post: one query for a batch."""
        keys = list(set(threads))
        if not keys:
            return {}
        rows = self.session.connection().execute(
            _objects_by_thread(), {"kind": kind, "threads": keys}
        )
        return {(p, c, m): object_id for p, c, m, object_id in rows}

    def find_object(self, platform: str, kind: str, object_id: int) -> PostedMessage | None:
        return self.session.scalars(
            select(PostedMessage)
            .where(
                PostedMessage.platform == platform,
                PostedMessage.kind == kind,
                PostedMessage.object_id == object_id,
            )
            .order_by(PostedMessage.id)
            .limit(1)
        ).one_or_none()


class ScheduleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, schedule: Schedule) -> Schedule:
        self.session.add(schedule)
        self.session.flush()
        return schedule

    def get(self, schedule_id: int) -> Schedule | None:
        return self.session.get(Schedule, schedule_id)

    def all(self) -> list[Schedule]:
        return list(self.session.scalars(select(Schedule).order_by(Schedule.id)))

    def in_channel(self, channel: Channel) -> list[Schedule]:
        return list(
            self.session.scalars(
                select(Schedule).where(Schedule.channel_id == channel.id).order_by(Schedule.id)
            )
        )

    def due(self, now: datetime, *, lock: bool = False) -> list[Schedule]:
        query = (
            select(Schedule)
            .where(
                Schedule.paused.is_(False),
                Schedule.next_fire_at.is_not(None),
                Schedule.next_fire_at <= now,
            )
            .order_by(Schedule.next_fire_at)
        )
        if lock and self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(self.session.scalars(query))

    def delete(self, schedule: Schedule) -> None:
        self.session.delete(schedule)
        self.session.flush()


class RunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, values: dict[str, object]) -> PromptRun | None:
        """Insert a run under its unique fire key; None when that key exists already."""
        inserted = insert_ignoring_conflict(
            self.session, PromptRun, {"created_at": utcnow(), **values}
        )
        if not inserted:
            return None
        return self.session.scalars(
            select(PromptRun).where(PromptRun.fire_key == values["fire_key"])
        ).one()

    def get(self, run_id: int) -> PromptRun | None:
        return self.session.get(PromptRun, run_id)

    def by_key(self, fire_key: str) -> PromptRun | None:
        return self.session.scalars(
            select(PromptRun).where(PromptRun.fire_key == fire_key)
        ).one_or_none()

    def needing_delivery(self) -> list[PromptRun]:
        """Open runs whose prompt is not out yet or whose fan-out was interrupted."""
        pending = select(PromptDelivery.run_id).where(waiting(PromptDelivery.status))
        return list(
            self.session.scalars(
                select(PromptRun)
                .where(
                    PromptRun.status == RunStatus.OPEN,
                    (PromptRun.recipients_listed.is_(False)) | PromptRun.id.in_(pending),
                )
                .order_by(PromptRun.id)
            )
        )

    def due_for_reminder(self, now: datetime) -> list[PromptRun]:
        return list(
            self.session.scalars(
                select(PromptRun).where(
                    PromptRun.status == RunStatus.OPEN,
                    PromptRun.reminded.is_(False),
                    PromptRun.recipients_listed.is_(True),
                    PromptRun.remind_at <= now,
                    PromptRun.closes_at > now,
                )
            )
        )

    def due_for_closing(self, now: datetime) -> list[PromptRun]:
        return list(
            self.session.scalars(
                select(PromptRun).where(
                    PromptRun.status == RunStatus.OPEN, PromptRun.closes_at <= now
                )
            )
        )

    def for_channel(self, channel_id: int, limit: int = 20) -> list[PromptRun]:
        return list(
            self.session.scalars(
                select(PromptRun)
                .where(PromptRun.channel_id == channel_id)
                .order_by(PromptRun.id.desc())
                .limit(limit)
            )
        )

    # --- deliveries ---

    def add_recipients(self, run: PromptRun, user_ids: Iterable[str], status: str) -> None:
        for user_id in user_ids:
            insert_ignoring_conflict(
                self.session,
                PromptDelivery,
                {"run_id": run.id, "user_id": user_id, "status": status},
            )
        run.recipients_listed = True
        self.session.flush()

    def deliveries(self, run: PromptRun, status: str | None = None) -> list[PromptDelivery]:
        query = select(PromptDelivery).where(PromptDelivery.run_id == run.id)
        if status is not None:
            query = query.where(PromptDelivery.status == status)
        return list(self.session.scalars(query.order_by(PromptDelivery.id)))

    def delivery(self, delivery_id: int) -> PromptDelivery | None:
        return self.session.get(PromptDelivery, delivery_id)

    # --- answers ---

    def save_answer(
        self, run: PromptRun, member: Member, question_id: str, text: str, late: bool
    ) -> None:
        existing = self.session.scalars(
            select(Answer).where(
                Answer.run_id == run.id,
                Answer.member_id == member.id,
                Answer.question_id == question_id,
            )
        ).one_or_none()
        if existing is not None:
            existing.text = text
            existing.late = late
        else:
            self.session.add(
                Answer(
                    run_id=run.id,
                    member_id=member.id,
                    question_id=question_id,
                    text=text,
                    late=late,
                    created_at=utcnow(),
                )
            )
        self.session.flush()

    def add_to_answer(
        self, run: PromptRun, member: Member, question_id: str, text: str, late: bool
    ) -> None:
        """A further reply in the prompt's thread: added below what the person already
        answered to that question, so nothing they wrote is lost."""
        existing = self.session.scalars(
            select(Answer).where(
                Answer.run_id == run.id,
                Answer.member_id == member.id,
                Answer.question_id == question_id,
            )
        ).one_or_none()
        if existing is None:
            self.save_answer(run, member, question_id, text, late)
        else:
            self.save_answer(run, member, question_id, f"{existing.text}\n\n{text}", existing.late)

    def answers(self, run: PromptRun) -> list[Answer]:
        return list(
            self.session.scalars(select(Answer).where(Answer.run_id == run.id).order_by(Answer.id))
        )

    def answered_user_ids(self, run: PromptRun) -> set[str]:
        rows = self.session.scalars(
            select(Member.platform_user_id)
            .join(Answer, Answer.member_id == Member.id)
            .where(Answer.run_id == run.id)
        )
        return set(rows)


class ProfileRepository:
    """Member profiles and organisations (for onboarding, /profiel and the CSV import)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, member: Member) -> MemberProfile | None:
        return self.session.get(MemberProfile, member.id)

    def ensure(self, member: Member) -> MemberProfile:
        insert_ignoring_conflict(
            self.session, MemberProfile, {"member_id": member.id, "expertise": []}
        )
        profile = self.session.get(MemberProfile, member.id)
        assert profile is not None
        return profile

    def welcome_once(self, member: Member, at: datetime) -> bool:
        """Mark the person welcomed; True only for the one call that did it (race-safe)."""
        self.ensure(member)
        result = self.session.execute(
            update(MemberProfile)
            .where(MemberProfile.member_id == member.id, MemberProfile.welcomed_at.is_(None))
            .values(welcomed_at=at),
            execution_options={"preserve_rowcount": True, "synchronize_session": False},
        )
        self.session.expire_all()
        return result.rowcount > 0  # type: ignore[attr-defined]

    def organisation(self, name: str) -> Organisation:
        """The organisation with this name (case-insensitive), created when new."""
        found = self.find_organisation(name)
        if found is not None:
            return found
        insert_ignoring_conflict(self.session, Organisation, {"name": name, "created_at": utcnow()})
        found = self.find_organisation(name)
        assert found is not None
        return found

    def find_organisation(self, name: str) -> Organisation | None:
        return self.session.scalars(
            select(Organisation)
            .where(func.lower(Organisation.name) == name.lower())
            .order_by(Organisation.id)
            .limit(1)
        ).one_or_none()


class SpeedsparRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, speedspar: SpeedsparSession) -> SpeedsparSession:
        self.session.add(speedspar)
        self.session.flush()
        return speedspar

    def get(self, session_id: int, *, lock: bool = False) -> SpeedsparSession | None:
        query = select(SpeedsparSession).where(SpeedsparSession.id == session_id)
        if lock and self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def by_fire_key(self, fire_key: str) -> SpeedsparSession | None:
        return self.session.scalars(
            select(SpeedsparSession).where(SpeedsparSession.fire_key == fire_key)
        ).one_or_none()

    def active_in_channel(self, channel_id: int) -> SpeedsparSession | None:
        return self.session.scalars(
            select(SpeedsparSession)
            .where(
                SpeedsparSession.channel_id == channel_id,
                SpeedsparSession.status.in_(
                    [SpeedsparStatus.OPEN, SpeedsparStatus.RUNNING, SpeedsparStatus.CLOSING]
                ),
            )
            .order_by(SpeedsparSession.id.desc())
            .limit(1)
        ).one_or_none()

    def unfinished(self) -> list[SpeedsparSession]:
        """Sessions the scheduler still has work for, soon or now."""
        pending = select(SpeedsparMessage.session_id).where(
            SpeedsparMessage.status.in_(("pending", "sending"))
        )
        return list(
            self.session.scalars(
                select(SpeedsparSession)
                .where(
                    SpeedsparSession.status.in_(
                        [SpeedsparStatus.OPEN, SpeedsparStatus.RUNNING, SpeedsparStatus.CLOSING]
                    )
                    | SpeedsparSession.post_pending.is_not(None)
                    | SpeedsparSession.id.in_(pending)
                )
                .order_by(SpeedsparSession.id)
            )
        )

    # --- participants ---

    def join(self, speedspar: SpeedsparSession, member: Member) -> bool:
        """Sign up (or come back after stopping); False when already active."""
        existing = self.participant(speedspar, member)
        if existing is None:
            inserted = insert_ignoring_conflict(
                self.session,
                SpeedsparParticipant,
                {
                    "session_id": speedspar.id,
                    "member_id": member.id,
                    "user_id": member.platform_user_id,
                    "active": True,
                    "joined_at": utcnow(),
                },
            )
            return inserted
        if existing.active:
            return False
        existing.active = True
        existing.left_at = None
        self.session.flush()
        return True

    def participant(
        self, speedspar: SpeedsparSession, member: Member
    ) -> SpeedsparParticipant | None:
        return self.session.scalars(
            select(SpeedsparParticipant).where(
                SpeedsparParticipant.session_id == speedspar.id,
                SpeedsparParticipant.member_id == member.id,
            )
        ).one_or_none()

    def participants(
        self, speedspar: SpeedsparSession, *, active_only: bool = True
    ) -> list[SpeedsparParticipant]:
        query = select(SpeedsparParticipant).where(SpeedsparParticipant.session_id == speedspar.id)
        if active_only:
            query = query.where(SpeedsparParticipant.active.is_(True))
        return list(self.session.scalars(query.order_by(SpeedsparParticipant.id)))

    # --- seats (pairing history) ---

    def seat(self, values: dict[str, object]) -> None:
        insert_ignoring_conflict(self.session, SpeedsparSeat, values)

    def seats(self, speedspar: SpeedsparSession, round_: int | None = None) -> list[SpeedsparSeat]:
        query = select(SpeedsparSeat).where(SpeedsparSeat.session_id == speedspar.id)
        if round_ is not None:
            query = query.where(SpeedsparSeat.round == round_)
        return list(
            self.session.scalars(
                query.order_by(SpeedsparSeat.round, SpeedsparSeat.group_no, SpeedsparSeat.position)
            )
        )

    def recent_session_ids(self, before: SpeedsparSession, count: int) -> list[int]:
        with_seats = select(SpeedsparSeat.session_id).distinct()
        return list(
            self.session.scalars(
                select(SpeedsparSession.id)
                .where(SpeedsparSession.id != before.id, SpeedsparSession.id.in_(with_seats))
                .order_by(SpeedsparSession.id.desc())
                .limit(count)
            )
        )

    def seats_of_sessions(self, session_ids: Sequence[int]) -> list[SpeedsparSeat]:
        if not session_ids:
            return []
        return list(
            self.session.scalars(
                select(SpeedsparSeat).where(SpeedsparSeat.session_id.in_(list(session_ids)))
            )
        )

    # --- direct messages ---

    def add_messages(
        self, speedspar: SpeedsparSession, kind: str, round_: int, user_ids: Iterable[str]
    ) -> None:
        for user_id in user_ids:
            insert_ignoring_conflict(
                self.session,
                SpeedsparMessage,
                {
                    "session_id": speedspar.id,
                    "kind": kind,
                    "round": round_,
                    "user_id": user_id,
                    "status": "pending",
                },
            )

    def messages(
        self, speedspar: SpeedsparSession, status: str | None = None
    ) -> list[SpeedsparMessage]:
        query = select(SpeedsparMessage).where(SpeedsparMessage.session_id == speedspar.id)
        if status is not None:
            query = query.where(SpeedsparMessage.status == status)
        return list(self.session.scalars(query.order_by(SpeedsparMessage.id)))

    def unsent(self, speedspar: SpeedsparSession) -> list[SpeedsparMessage]:
        """Not sent yet, or being sent when a process died (it may have arrived)."""
        query = select(SpeedsparMessage).where(
            SpeedsparMessage.session_id == speedspar.id,
            SpeedsparMessage.status.in_(("pending", "sending")),
        )
        return list(self.session.scalars(query.order_by(SpeedsparMessage.id)))

    def message(self, message_id: int) -> SpeedsparMessage | None:
        return self.session.get(SpeedsparMessage, message_id)

    # --- takeaways ---

    def save_takeaway(self, speedspar: SpeedsparSession, member: Member, text: str) -> None:
        existing = self.session.scalars(
            select(SpeedsparTakeaway).where(
                SpeedsparTakeaway.session_id == speedspar.id,
                SpeedsparTakeaway.member_id == member.id,
            )
        ).one_or_none()
        if existing is not None:
            existing.text = text
        else:
            self.session.add(
                SpeedsparTakeaway(
                    session_id=speedspar.id, member_id=member.id, text=text, created_at=utcnow()
                )
            )
        self.session.flush()

    def takeaways(self, speedspar: SpeedsparSession) -> list[SpeedsparTakeaway]:
        return list(
            self.session.scalars(
                select(SpeedsparTakeaway)
                .where(SpeedsparTakeaway.session_id == speedspar.id)
                .order_by(SpeedsparTakeaway.id)
            )
        )
