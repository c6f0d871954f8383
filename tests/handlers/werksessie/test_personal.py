"""The next cycle planned for an inbrenger (ALACT) is theirs: it is in their export, and
erasure removes it, so the member row can go (no foreign key holds it), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from handlers.core.personal import Person
from handlers.werksessie.personal import WerksessieData
from storage import migrate
from storage.db import Database
from storage.models import (
    Casus,
    CasusStatus,
    Channel,
    Member,
    Werksessie,
    WerksessieFollowup,
    WerksessieStatus,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_follow_up_is_exported_and_erased_with_its_person(database: Database) -> None:
    migrate.upgrade(database.engine)
    with database.session() as session:
        channel = Channel(platform="slack", platform_channel_id="C1")
        owner = Member(platform="slack", platform_user_id="U1")
        other = Member(platform="slack", platform_user_id="U2")
        anonymous = Member(platform="slack", platform_user_id="anoniem")
        session.add_all([channel, owner, other, anonymous])
        session.flush()
        casus = Casus(
            channel_id=channel.id, inbrenger_id=other.id, title="t", situation="s",
            question="v", perspectives=[], status=CasusStatus.OPEN, created_at=AT,
        )  # fmt: skip
        session.add(casus)
        session.flush()
        werksessie = Werksessie(
            casus_id=casus.id, method="alact", mode="live", begeleider_id=other.id,
            started_by_id=other.id, anonymous=False, status=WerksessieStatus.FINISHED,
            phase=5, phases_done=5, created_at=AT,
        )  # fmt: skip
        session.add(werksessie)
        session.flush()
        session.add(
            WerksessieFollowup(
                session_id=werksessie.id,
                member_id=owner.id,
                due_at=AT + timedelta(days=7),
                status="pending",
                created_at=AT,
            )
        )
        session.flush()

        data = WerksessieData()
        exported = data.export(session, Person("slack", "U1", owner))["werksessies"]
        assert exported["followups"] == [
            {
                "session_id": werksessie.id,
                "due_at": (AT + timedelta(days=7)).isoformat(),
                "status": "pending",
                "sent_at": None,
            }
        ]
        assert data.export(session, Person("slack", "U2", other))["werksessies"]["followups"] == []

        data.erase(session, Person("slack", "U1", owner, anonymous=anonymous))
        assert session.scalars(select(WerksessieFollowup)).all() == []
        session.execute(delete(Member).where(Member.id == owner.id))  # nothing refers to it
        session.flush()
        assert session.get(Werksessie, werksessie.id) is not None
