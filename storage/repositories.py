"""Repositories: queries and writes on a session they are given. They flush, never commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import (
    Channel,
    Member,
    PostedMessage,
    ProcessedEvent,
    Schedule,
    utcnow,
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


def thread_in() -> ColumnElement[bool]:
    """The posted message is one of the ``threads`` parameter's (platform, channel, id)."""
    return tuple_(PostedMessage.platform, PostedMessage.channel_ref, PostedMessage.message_id).in_(
        bindparam("threads", expanding=True)
    )


@cache
def _objects_by_thread() -> Select[str, str, str, int]:
    return select(
        PostedMessage.platform,
        PostedMessage.channel_ref,
        PostedMessage.message_id,
        PostedMessage.object_id,
    ).where(PostedMessage.kind == bindparam("kind"), thread_in())


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

    def find(self, platform: str, channel_id: str) -> Channel | None:
        """The channel, without creating it (for reading only)."""
        return self.session.scalars(
            select(Channel).where(
                Channel.platform == platform, Channel.platform_channel_id == channel_id
            )
        ).one_or_none()


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
