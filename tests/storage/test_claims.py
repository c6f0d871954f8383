"""Claims on outbox rows (storage/claims.py), on both databases: exactly one of two claims of
a pending row wins; a row in flight is left alone until its claim expires; a row left
``sending`` with no claim (its answer was lost) is free at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.reflection import queries as reflection_queries
from storage import claims
from storage.db import Database
from storage.models import Channel, PromptDelivery, PromptRun

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=20)


def seed(database: Database) -> tuple[int, int]:
    with database.session() as session:
        channel = Channel(platform="slack", platform_channel_id="C1")
        session.add(channel)
        session.flush()
        run = PromptRun(
            fire_key="k", channel_id=channel.id, kind="succesvragen", delivery="dm",
            fire_at=NOW, remind_at=NOW, closes_at=NOW + timedelta(days=2),
        )  # fmt: skip
        session.add(run)
        session.flush()
        row = PromptDelivery(run_id=run.id, user_id="U1", status="pending")
        session.add(row)
        session.flush()
        return int(run.id), int(row.id)


def take(database: Database, row_id: int, seen: str, at: datetime) -> bool:
    with database.session() as session:
        return claims.claim(session, reflection_queries.PROMPT_DM, row_id, seen, at, LEASE)


def state(database: Database, row_id: int) -> tuple[str, datetime | None]:
    with database.session() as session:
        row = session.get(PromptDelivery, row_id)
        assert row is not None
        return row.status, row.claimed_at


def test_a_row_is_claimed_once_and_taken_over_only_when_its_claim_expired(
    database: Database,
) -> None:
    _, row_id = seed(database)
    assert take(database, row_id, "pending", NOW)
    assert not take(database, row_id, "pending", NOW)  # the other process saw it pending too
    assert state(database, row_id) == ("sending", NOW)
    # In flight: refreshed by its process, so nobody takes it over.
    assert not take(database, row_id, "sending", NOW + LEASE - timedelta(seconds=1))
    with database.session() as session:
        claims.renew(session, reflection_queries.PROMPT_DM, [row_id], NOW + LEASE)
    assert not take(database, row_id, "sending", NOW + LEASE + timedelta(seconds=5))
    # Its process died: the claim expires and one other process takes it over.
    later = NOW + 2 * LEASE + timedelta(seconds=1)
    assert take(database, row_id, "sending", later)
    assert not take(database, row_id, "sending", later)
    # The answer was lost: no claim any more, free at once.
    with database.session() as session:
        claims.release(session, reflection_queries.PROMPT_DM, row_id)
    assert state(database, row_id) == ("sending", None)
    assert take(database, row_id, "sending", later)
    assert not take(database, row_id, "pending", later)


def test_a_runs_post_is_claimed_once_until_its_recipients_are_listed(database: Database) -> None:
    run_id, _ = seed(database)
    with database.session() as session:
        assert reflection_queries.claim_run(session, run_id, NOW, LEASE)
    with database.session() as session:
        assert not reflection_queries.claim_run(session, run_id, NOW, LEASE)
        assert reflection_queries.claim_run(
            session, run_id, NOW + LEASE + timedelta(seconds=1), LEASE
        )
    with database.session() as session:
        run = session.get(PromptRun, run_id)
        assert run is not None
        run.recipients_listed = True
        claims.release(session, reflection_queries.RUN_POST, run_id)
    with database.session() as session:
        assert not reflection_queries.claim_run(session, run_id, NOW + 10 * LEASE, LEASE)
