"""The scheduler's repair of casus posts that were never recorded (the database or the process
went away between posting and recording), on both databases, with the clock controlled: a
post found by its metadata key is recorded; one that never reached the channel is removed
after the give-up time; one still in flight is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from handlers.casus.engine import RECONCILE_AFTER, RECONCILE_GIVE_UP
from handlers.casus.queries import casus_repo
from handlers.core.messaging import outbox_key
from storage.models import Casus, CasusStatus, PostedMessage
from tests.faults.conftest import ServedApp
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401

NOW = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)


def casus_on_its_way(served: ServedApp, created_at: datetime) -> int:
    def add(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C100")
        member = ctx.repos.members.ensure("slack", "U111")
        casus = casus_repo(ctx).add(
            channel=channel,
            inbrenger=member,
            title="Onderweg",
            situation="Een casus die gepost werd terwijl de database wegviel.",
            obstacle=None,
            uncertainty=None,
            question="Komt hij aan?",
            perspectives=[],
        )
        casus.status = CasusStatus.POSTING
        casus.created_at = created_at
        return int(casus.id)

    return served.services.runtime.call_sync(add)


def slack_has(served: ServedApp, casus_id: int, ts: str) -> None:
    metadata = {
        "event_type": "leerkring_outbox",
        "event_payload": {"key": outbox_key("casus", casus_id)},
    }
    served.slack.history.setdefault("C100", []).append(
        {"type": "message", "ts": ts, "text": "casus", "metadata": metadata}
    )


async def test_unrecorded_posts_are_found_recorded_or_removed(served: ServedApp) -> None:
    clock = Clock(NOW)
    served.services.runtime.clock = clock
    posted = casus_on_its_way(served, NOW - RECONCILE_AFTER - timedelta(seconds=5))
    lost = casus_on_its_way(served, NOW - RECONCILE_GIVE_UP - timedelta(seconds=5))
    in_flight = casus_on_its_way(served, NOW - timedelta(seconds=10))
    slack_has(served, posted, "1778580000.000100")
    slack_has(served, in_flight, "1778580000.000200")  # its own request will record it

    stats = await scheduler_for(served.services).tick()

    assert stats["recovered"] == 1
    with served.database.session() as session:
        casussen = {c.id: c for c in session.scalars(select(Casus))}
        assert casussen[posted].status == CasusStatus.OPEN
        assert casussen[posted].message_id == "1778580000.000100"
        assert lost not in casussen  # never reached the channel: nothing half-done remains
        assert casussen[in_flight].status == CasusStatus.POSTING
        (record,) = session.scalars(select(PostedMessage))
        assert (record.kind, record.object_id, record.message_id) == (
            "casus",
            posted,
            "1778580000.000100",
        )
    assert served.slack.calls_to("chat.postMessage") == []  # nothing was posted again
