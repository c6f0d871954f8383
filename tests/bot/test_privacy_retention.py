"""The retention purge with the clock under control, through the scheduler's tick, on both
databases: old texts are replaced, counts stay, recent texts are untouched, and it is logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.scheduler import Scheduler
from bot.services import Services, build_services
from handlers.core.context import HandlerContext
from handlers.privacy.retention import months_before, purge_expired
from storage.models import Answer, Bijdrage, Casus, CasusStatus, PurgeLog
from tests.bot.test_privacy_rights import ANNA_TEXT, BOB_TEXT, seed
from tests.conftest import DatabaseTarget, make_settings
from tests.support.scheduling import Clock
from tests.support.slack_standin import SlackStandIn

REMOVED = "[verwijderd na de bewaartermijn]"


def test_months_before_counts_calendar_months() -> None:
    assert months_before(datetime(2027, 3, 31, 12, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, 12, tzinfo=UTC
    )
    assert months_before(datetime(2027, 1, 15, tzinfo=UTC), 12) == datetime(2026, 1, 15, tzinfo=UTC)
    assert months_before(datetime(2027, 1, 15, tzinfo=UTC), 13) == datetime(
        2025, 12, 15, tzinfo=UTC
    )


async def test_the_tick_purges_expired_texts_once_and_keeps_the_counts(
    database_target: DatabaseTarget, slack_api: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    services = build_services(make_settings(database_target.url, SLACK_API_URL=slack_api.url))
    scheduler = Scheduler(services.runtime, services.messengers, retention_months=12)
    try:
        ids = seed(services.database)
        seeded_at = datetime.now(UTC)
        with services.database.session() as session:
            annas = session.get(Casus, ids["annas"])
            assert annas is not None
            annas.status, annas.closed_at = CasusStatus.CLOSED, seeded_at
            annas.insight, annas.next_step = "Annas inzicht", "Annas stap"
        clock = Clock(seeded_at + timedelta(days=360))
        services.runtime.clock = clock
        # Within the period: nothing changes.
        assert (await scheduler.tick())["purged"] == 0
        with services.database.session() as session:
            assert session.get(Casus, ids["annas"]).situation == ANNA_TEXT  # type: ignore[union-attr]

        # A year and a bit later: the texts are replaced.
        clock.now = seeded_at + timedelta(days=370)
        stats = await scheduler.tick()
        assert stats["purged"] == 2 + 2 + 2  # two casussen, two bijdragen, two answers
        with services.database.session() as session:
            casussen = list(session.scalars(select(Casus).order_by(Casus.id)))
            assert [c.situation for c in casussen] == [REMOVED, REMOVED]
            assert casussen[0].insight is None and casussen[0].next_step is None
            assert casussen[0].status == CasusStatus.CLOSED  # counts and dates stay
            assert casussen[0].perspectives == ["jeugd"]
            texts = [b.text for b in session.scalars(select(Bijdrage))]
            assert texts == [REMOVED, REMOVED] and BOB_TEXT not in texts
            assert {a.text for a in session.scalars(select(Answer))} == {REMOVED}
            assert session.scalar(select(func.count()).select_from(Bijdrage)) == 2
        purge_lines = [
            r.getMessage() for r in caplog.records if "retention purge" in r.getMessage()
        ]
        assert len(purge_lines) == 1 and "2 casussen, 2 bijdragen, 2 answers" in purge_lines[0]
        assert ANNA_TEXT not in caplog.text

        # Nothing left to do: a later purge changes nothing and logs nothing new.
        clock.now += timedelta(hours=2)
        assert (await scheduler.tick())["purged"] == 0
        assert sum("retention purge" in r.getMessage() for r in caplog.records) == 1
    finally:
        await scheduler.stop()
        services.close()


async def test_retention_zero_keeps_everything(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    services = build_services(make_settings(database_target.url, SLACK_API_URL=slack_api.url))
    scheduler = Scheduler(services.runtime, services.messengers, retention_months=0)
    try:
        seed(services.database)
        services.runtime.clock = Clock(datetime.now(UTC) + timedelta(days=5000))
        assert "purged" not in await scheduler.tick()
        with services.database.session() as session:
            assert ANNA_TEXT in [c.situation for c in session.scalars(select(Casus))]
    finally:
        await scheduler.stop()
        services.close()


def purge_log(services: Services) -> list[PurgeLog]:
    with services.database.session() as session:
        rows = list(session.scalars(select(PurgeLog).order_by(PurgeLog.id)))
        session.expunge_all()
        return rows


async def test_each_purge_that_replaced_texts_is_recorded_with_counts_and_no_text(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    services = build_services(make_settings(database_target.url, SLACK_API_URL=slack_api.url))
    scheduler = Scheduler(services.runtime, services.messengers, retention_months=12)
    try:
        seed(services.database)
        clock = Clock(datetime.now(UTC) + timedelta(days=360))
        services.runtime.clock = clock
        assert (await scheduler.tick())["purged"] == 0
        assert purge_log(services) == []  # a purge that changed nothing leaves no row

        clock.now += timedelta(days=10)
        assert (await scheduler.tick())["purged"] == 6
        (row,) = purge_log(services)
        assert row.purged_at == clock.now
        assert row.cutoff == months_before(clock.now, 12) and row.months == 12
        assert (row.casussen, row.bijdragen, row.answers, row.takeaways) == (2, 2, 2, 0)
        # Only dates and numbers: no text, no person.
        assert set(PurgeLog.__table__.columns.keys()) == {
            "id", "purged_at", "cutoff", "months", "casussen", "bijdragen", "answers", "takeaways"
        }  # fmt: skip

        clock.now += timedelta(hours=2)
        assert (await scheduler.tick())["purged"] == 0
        assert len(purge_log(services)) == 1
    finally:
        await scheduler.stop()
        services.close()


def test_the_purge_and_its_record_are_one_transaction(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    services = build_services(make_settings(database_target.url, SLACK_API_URL=slack_api.url))
    try:
        seed(services.database)
        services.runtime.clock = Clock(datetime.now(UTC) + timedelta(days=400))

        def purge_then_fail(ctx: HandlerContext) -> None:
            assert purge_expired(ctx, 12).total == 6
            raise RuntimeError("the transaction fails after the purge")

        with pytest.raises(RuntimeError):
            services.runtime.call_sync(purge_then_fail)
        assert purge_log(services) == []
        with services.database.session() as session:
            assert ANNA_TEXT in [c.situation for c in session.scalars(select(Casus))]
    finally:
        services.close()
