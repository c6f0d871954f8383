"""Slack redelivers an event it thinks we missed, with ``X-Slack-Retry-Num`` and
``X-Slack-Retry-Reason``; some of those deliveries race each other. The contribution must be
stored once and the person told once. Both databases, through the real server."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import Bijdrage, ProcessedEvent
from tests.bot.slack.test_casus_flow import bring_in, post_json
from tests.faults.conftest import ServedApp
from tests.support.signing import thread_reply_event

# A phone number in a thread reply: the bijdrage is stored without it and the author gets one
# ephemeral notice. That notice is the "reply" whose count proves the event ran once.
REPLY = "Bel de moeder even op 06-12345678, dan weet je meer."


async def test_four_deliveries_of_one_thread_reply_store_and_notify_once(
    served: ServedApp,
) -> None:
    server = served
    casus = await bring_in(server)
    posts_before = len(server.slack.calls_to("chat.postMessage"))
    event = thread_reply_event(
        REPLY, thread_ts=casus.message_id or "", ts="1700000070.000200", event_id="Ev0RETRY1"
    )

    def delivery(n: int) -> asyncio.Future[tuple[int, str]]:
        headers = {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"}
        return asyncio.ensure_future(post_json(server, event, **headers))

    # Retries 0 and 1 race each other; 2 and 3 race each other after those were answered.
    first = await asyncio.gather(delivery(0), delivery(1))
    later = await asyncio.gather(delivery(2), delivery(3))
    assert [status for status, _ in (*first, *later)] == [200, 200, 200, 200]

    notices = await server.slack.wait_for("chat.postEphemeral", 1)
    await server.idle()  # every delivery has been answered and its background work is done
    assert len(server.slack.calls_to("chat.postEphemeral")) == 1
    assert notices[0]["user"] == "U222" and notices[0]["channel"] == "C100"
    assert len(server.slack.calls_to("chat.postMessage")) == posts_before  # nothing in channel
    with server.database.session() as session:
        rows = list(session.scalars(select(Bijdrage)))
        assert len(rows) == 1
        assert rows[0].message_id == "1700000070.000200"
        assert "06-12345678" not in rows[0].text  # stored without the phone number
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
