"""A contribution (the "Denk mee" form) that cannot be posted in the casus thread: the person
is told in the form that nothing was stored, so nothing may be stored. Both databases."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.models import Bijdrage
from tests.bot.slack.test_casus_flow import bring_in, post
from tests.faults.conftest import ServedApp
from tests.support.signing import block_action, interactive_body, view_submission


async def test_a_contribution_that_cannot_be_posted_is_not_stored(served: ServedApp) -> None:
    casus = await bring_in(served)
    action = block_action(
        "casus_denk_mee", str(casus.id), user="U333", message_ts=casus.message_id or ""
    )
    status, _ = await post(served, interactive_body(action))
    assert status == 200
    reply_view = (await served.slack.wait_for("views.open", 2))[-1]["view"]
    served.slack.fail["chat.postMessage"] = "is_archived"  # the channel was archived meanwhile
    submission = view_submission(reply_view, {"bijdrage": "Betrek de school later."}, user="U333")
    status, text = await post(served, interactive_body(submission))
    assert status == 200
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    assert "Er is niets bewaard" in answer["errors"]["bijdrage"]
    await served.idle()
    with served.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Bijdrage)) == 0


async def test_a_contribution_whose_answer_was_lost_is_found_in_the_thread(
    served: ServedApp,
) -> None:
    """Posted in the thread, but Slack's answer was a proxy's 504: the adapter finds the reply
    in the thread by its key, records it, and the person sees no error."""
    casus = await bring_in(served)
    action = block_action(
        "casus_denk_mee", str(casus.id), user="U333", message_ts=casus.message_id or ""
    )
    await post(served, interactive_body(action))
    reply_view = (await served.slack.wait_for("views.open", 2))[-1]["view"]
    served.slack.lose_answers["chat.postMessage"] = 1
    submission = view_submission(reply_view, {"bijdrage": "Betrek de school later."}, user="U333")
    status, text = await post(served, interactive_body(submission))
    assert status == 200 and "errors" not in text, text
    await served.idle()
    replies = [m for m in served.slack.history["C100"] if m.get("thread_ts")]
    assert len(replies) == 1 and replies[0]["thread_ts"] == casus.message_id
    assert served.slack.calls_to("conversations.replies")
    with served.database.session() as session:
        (bijdrage,) = session.scalars(select(Bijdrage))
        assert bijdrage.message_id == replies[0]["ts"]
    assert served.slack.calls_to("chat.postEphemeral") == []
