"""Alembic owns the schema: after `upgrade head` the database matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage import migrate
from storage.db import Database
from storage.models import Base


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert migrate.is_up_to_date(database.engine)


def test_upgrade_is_idempotent(database: Database) -> None:
    migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == migrate.head_revision()


def test_upgrading_an_existing_database_keeps_its_data(database_target: object) -> None:
    """Batch migrations recreate tables on SQLite; with foreign keys on, dropping the old
    `casussen` would cascade and empty `bijdragen`. An upgrade must never lose rows."""
    from sqlalchemy import create_engine, text

    from tests.conftest import DatabaseTarget

    assert isinstance(database_target, DatabaseTarget)
    engine = create_engine(database_target.url)
    migrate.downgrade(engine, "0001")  # an installation from the first release
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO channels (id, platform, platform_channel_id, created_at) "
            "VALUES (1, 'slack', 'C1', '2026-01-01 00:00:00')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO members (id, platform, platform_user_id, is_facilitator, created_at) "
            "VALUES (1, 'slack', 'U1', false, '2026-01-01 00:00:00')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO casussen (id, channel_id, inbrenger_id, title, situation, question, "
            "perspectives, status, created_at) VALUES (1, 1, 1, 't', 's', 'v', '[]', 'open', "
            "'2026-01-01 00:00:00')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO bijdragen (id, casus_id, author_id, text, created_at) "
            "VALUES (1, 1, 1, 'een bijdrage', '2026-01-01 00:00:00')"
        ))  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT text FROM bijdragen")).scalars().all() == ["een bijdrage"]
        assert conn.execute(text("SELECT title FROM casussen")).scalars().all() == ["t"]
    assert migrate.is_up_to_date(engine)
    engine.dispose()


def test_0008_keeps_speedspar_sessions_and_their_participants(database_target: object) -> None:
    """0008 rebuilds `speedspar_sessions` on SQLite; its participants (ON DELETE CASCADE) and
    the schedules it alters must come through untouched, with the new columns' defaults."""
    from sqlalchemy import create_engine, text

    from tests.conftest import DatabaseTarget

    assert isinstance(database_target, DatabaseTarget)
    engine = create_engine(database_target.url)
    migrate.downgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO channels (id, platform, platform_channel_id, created_at) "
            "VALUES (1, 'slack', 'C1', '2026-01-01 00:00:00')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO members (id, platform, platform_user_id, is_facilitator, created_at) "
            "VALUES (1, 'slack', 'U1', false, '2026-01-01 00:00:00')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO schedules (id, channel_id, kind, cron, timezone, delivery, private, "
            "skip_holidays, window_hours, paused, created_at) VALUES (1, 1, 'leervraag', "
            "'0 15 * * fri', 'Europe/Amsterdam', 'channel', false, true, 48, false, "
            "'2026-01-01 00:00:00')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO speedspar_sessions (id, channel_id, status, starts_at, rounds, minutes, "
            "deck, seed, facilitator_fills, current_round, created_at) VALUES (1, 1, 'closed', "
            "'2026-01-01 10:00:00', 3, 6, 'succesvragen', 7, false, 3, '2026-01-01 09:00:00')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO speedspar_participants (id, session_id, member_id, user_id, active, "
            "joined_at) VALUES (1, 1, 1, 'U1', true, '2026-01-01 09:30:00')"
        ))  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT user_id FROM speedspar_participants")).scalars().all() == [
            "U1"
        ]
        session = conn.execute(text("SELECT schedule_id, fire_key FROM speedspar_sessions")).one()
        assert tuple(session) == (None, None)
        schedule = conn.execute(text("SELECT kind, facilitator_fills, rounds FROM schedules")).one()
        assert (schedule[0], bool(schedule[1]), schedule[2]) == ("leervraag", False, None)
    assert migrate.is_up_to_date(engine)
    engine.dispose()


def test_0010_counts_reminders_and_welcomes_sent_before_as_sent(database_target: object) -> None:
    """Reminders and welcomes became outbox rows in 0010: what went out before must not be
    owed again, and what never was owed stays so."""
    from sqlalchemy import create_engine, text

    from tests.conftest import DatabaseTarget

    assert isinstance(database_target, DatabaseTarget)
    engine = create_engine(database_target.url)
    migrate.downgrade(engine, "0009")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO channels (id, platform, platform_channel_id, created_at) "
            "VALUES (1, 'slack', 'C1', '2026-01-01 00:00:00')"
        ))  # fmt: skip
        for member_id, welcomed in ((1, "'2026-01-02 00:00:00'"), (2, "NULL")):
            conn.execute(text(
                "INSERT INTO members (id, platform, platform_user_id, is_facilitator, created_at) "
                f"VALUES ({member_id}, 'slack', 'U{member_id}', false, '2026-01-01 00:00:00')"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO member_profiles (member_id, expertise, welcomed_at) "
                f"VALUES ({member_id}, '[]', {welcomed})"
            ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO prompt_runs (id, fire_key, channel_id, kind, delivery, private, fire_at, "
            "remind_at, closes_at, status, reminded, recipients_listed, created_at) VALUES (1, "
            "'k', 1, 'leervraag', 'channel', false, '2026-01-01 00:00:00', "
            "'2026-01-02 00:00:00', '2026-01-03 00:00:00', 'closed', true, true, "
            "'2026-01-01 00:00:00')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO prompt_deliveries (id, run_id, user_id, status, reminded_at) VALUES "
            "(1, 1, 'U1', 'channel', '2026-01-02 00:00:00'), (2, 1, 'U2', 'channel', NULL)"
        ))  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        welcomes = conn.execute(
            text("SELECT member_id, welcome_status FROM member_profiles ORDER BY member_id")
        ).all()
        assert [tuple(w) for w in welcomes] == [(1, "sent"), (2, None)]
        reminders = conn.execute(
            text("SELECT user_id, reminder_status FROM prompt_deliveries ORDER BY id")
        ).all()
        assert [tuple(r) for r in reminders] == [("U1", "sent"), ("U2", None)]
        assert conn.execute(text("SELECT summary_status FROM prompt_runs")).scalar() is None
    assert migrate.is_up_to_date(engine)
    engine.dispose()
