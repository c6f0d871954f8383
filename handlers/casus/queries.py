"""The casus feature's queries: casussen and their bijdragen."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Bijdrage,
    Casus,
    CasusStatus,
    Channel,
    Member,
    PostedMessage,
    utcnow,
)
from storage.repositories import insert_ignoring_conflict, insert_many_ignoring_conflict, thread_in

if TYPE_CHECKING:
    from handlers.core.context import HandlerContext


@cache
def _casus_ids_by_thread() -> Select[str, str, str, int]:
    return (
        select(
            PostedMessage.platform, PostedMessage.channel_ref, PostedMessage.message_id, Casus.id
        )
        .join(Casus, Casus.id == PostedMessage.object_id)
        .where(PostedMessage.kind == "casus", thread_in())
    )


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


def casus_repo(ctx: HandlerContext) -> CasusRepository:
    return CasusRepository(ctx.session)


def bijdrage_repo(ctx: HandlerContext) -> BijdrageRepository:
    return BijdrageRepository(ctx.session)
