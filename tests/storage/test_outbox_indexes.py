"""The scheduler's tick looks for outbox rows still waiting (prompt DMs, reminders, closing
summaries, welcomes) in tables where nearly every row is sent. Migration 0011 indexes only the
waiting rows; these tests run the tick's own queries on a long history and read the plan each
database makes for them, with and without the statistics of ANALYZE."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert

from bot.services import Services, build_services
from handlers.profiles import chat as profiles
from handlers.reflection import steps as reflection_steps
from handlers.reflection.queries import run_repo
from storage.models import (
    UNPOSTED,
    UNSENT,
    Channel,
    Member,
    MemberProfile,
    PromptDelivery,
    PromptRun,
    RunStatus,
)
from tests.conftest import DatabaseTarget, make_settings
from tests.support.scheduling import Clock

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
RUNS = 400  # about eight years of a weekly prompt in a channel
PEOPLE = 25  # on each run
MEMBERS = 2000
# What is still waiting in that history, and what the tick must find.
OPEN_RUN = RUNS + 1  # its DMs half sent when a process stopped, reminders owed
UNSUMMARISED = 17  # closed; its summary was being posted when a process stopped
WAITING_WELCOMES = {1999: "pending", 2000: "sending"}


def seed_history(services: Services) -> None:
    start = NOW - timedelta(weeks=RUNS)
    with services.database.session() as session:
        session.add(Channel(id=1, platform="slack", platform_channel_id="C1", created_at=start))
        session.flush()
        session.execute(
            insert(Member),
            [
                {"id": m, "platform": "slack", "platform_user_id": f"U{m}", "created_at": start}
                for m in range(1, MEMBERS + 1)
            ],
        )
        session.execute(
            insert(MemberProfile),
            [
                {
                    "member_id": m,
                    "expertise": [],
                    "welcome_status": WAITING_WELCOMES.get(m, "sent"),
                    "welcomed_at": None if m in WAITING_WELCOMES else start,
                }
                for m in range(1, MEMBERS + 1)
            ],
        )
        runs = []
        for run_id in range(1, OPEN_RUN + 1):
            fired = start + timedelta(weeks=run_id - 1)
            is_open = run_id == OPEN_RUN
            runs.append(
                {
                    "id": run_id,
                    "fire_key": f"s1:{run_id}",
                    "channel_id": 1,
                    "kind": "leervraag",
                    "delivery": "dm",
                    "private": False,
                    "fire_at": fired,
                    "remind_at": fired + timedelta(hours=24),
                    "closes_at": NOW + timedelta(hours=12) if is_open else fired + timedelta(2),
                    "status": RunStatus.OPEN if is_open else RunStatus.CLOSED,
                    "reminded": not is_open,
                    "recipients_listed": True,
                    "summary_status": (
                        None if is_open else "posting" if run_id == UNSUMMARISED else "posted"
                    ),
                    "created_at": fired,
                }
            )
        session.execute(insert(PromptRun), runs)
        deliveries = []
        for run_id in range(1, OPEN_RUN + 1):
            for person in range(PEOPLE):
                waiting = run_id == OPEN_RUN and person < 3
                deliveries.append(
                    {
                        "run_id": run_id,
                        "user_id": f"U{person + 1}",
                        "status": ("sending" if person == 0 else "pending") if waiting else "sent",
                        "reminder_status": (
                            "pending"
                            if run_id == OPEN_RUN and person in (5, 6)
                            else "sent"
                            if person % 3 == 0
                            else None
                        ),
                    }
                )
        session.execute(insert(PromptDelivery), deliveries)


@pytest.fixture
def services(database_target: DatabaseTarget) -> Iterator[Services]:
    services = build_services(make_settings(database_target.url))
    services.runtime.clock = Clock(NOW)
    seed_history(services)
    yield services
    services.close()


def run_capturing(services: Services, step: Callable[[Any], Any]) -> tuple[Any, list[Any]]:
    """``step``'s result, and the SELECTs it ran with their parameters."""
    statements: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    engine = services.database.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        result = services.runtime.call_sync(step)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return result, statements


def plan(engine: Engine, statement: str, parameters: Any) -> str:
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
    # SQLite: (id, parent, notused, detail); PostgreSQL: one line of text per row.
    return "\n".join(str(row[-1]) for row in rows)


def analyze(engine: Engine) -> None:
    """Statistics for this test's tables only: a bare ANALYZE on PostgreSQL would also lock
    the tables of tests running beside it, in their own schemas."""
    with engine.begin() as connection:
        for table in ("members", "member_profiles", "prompt_runs", "prompt_deliveries"):
            connection.exec_driver_sql(f"ANALYZE {table}")


# Each tick query: what it returns on the history above, the status column it filters on, and
# the index that must serve it.
QUERIES: dict[str, tuple[Callable[[Any], Any], Any, str, str]] = {
    "prompt DMs": (
        lambda ctx: [run.id for run in run_repo(ctx).needing_delivery()],
        [OPEN_RUN],
        "prompt_deliveries.status",
        "ix_prompt_deliveries_status",
    ),
    "reminders": (
        lambda ctx: [
            (r.run_id, [(user, status) for _, user, status in r.deliveries])
            for r in reflection_steps.pending_reminders(ctx)
        ],
        [(OPEN_RUN, [("U6", "pending"), ("U7", "pending")])],
        "prompt_deliveries.reminder_status",
        "ix_prompt_deliveries_reminder_status",
    ),
    "summaries": (
        lambda ctx: [(c.run_id, c.status) for c in reflection_steps.pending_summaries(ctx)],
        [(UNSUMMARISED, "posting")],
        "prompt_runs.summary_status",
        "ix_prompt_runs_summary_status",
    ),
    "welcomes": (
        lambda ctx: [(w.member_id, w.user_id, w.status) for w in profiles.pending_welcomes(ctx)],
        [(1999, "U1999", "pending"), (2000, "U2000", "sending")],
        "member_profiles.welcome_status",
        "ix_member_profiles_welcome_status",
    ),
}


def test_the_tick_finds_waiting_rows_through_their_partial_index(services: Services) -> None:
    """Without statistics (Leerkring never runs ANALYZE; SQLite then takes any index as
    selective) and with them (PostgreSQL's autovacuum; SQLite after an ANALYZE by hand, which
    would steer it away from a plain index on a column of a few values)."""
    engine = services.database.engine
    not_used: dict[tuple[str, str], str] = {}
    for statistics in ("none", "analyzed"):
        if statistics == "analyzed":
            analyze(engine)
        for query, (step, expected, column, index) in QUERIES.items():
            found, statements = run_capturing(services, step)
            assert found == expected, query
            (statement, parameters), *_ = [(s, p) for s, p in statements if f"{column} IN (" in s]
            shown = plan(engine, statement, parameters)
            if index not in shown:
                not_used[(query, statistics)] = shown
    assert not_used == {}


def test_the_indexes_are_partial_on_both_databases(services: Services) -> None:
    """Only the waiting rows are indexed: a row leaves its index when it is sent."""
    engine = services.database.engine
    names = ", ".join(f"'{index}'" for *_, index in QUERIES.values())
    if engine.dialect.name == "sqlite":
        sql = f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({names})"
    else:
        sql = (
            f"SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ({names}) "
            "AND schemaname = current_schema()"
        )
    with engine.connect() as connection:
        found = {name: definition for name, definition in connection.exec_driver_sql(sql)}
    assert len(found) == len(QUERIES)
    for _, _, column, index in QUERIES.values():
        states = UNPOSTED if column.endswith("summary_status") else UNSENT
        where = found[index].split(" WHERE ", 1)[1]
        assert column.split(".")[1] in where, found[index]
        assert all(f"'{state}'" in where for state in states), found[index]
