"""The casus feature's scheduler step: casussen that were posted while the database went away
(or the process died) before the post was recorded are found by their metadata key."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from handlers.casus import chat as casus
from handlers.core.messaging import DeliveryFailed, outbox_key
from handlers.core.registry import Engine, EngineStep
from handlers.core.replies import Record
from handlers.core.router import Router

log = logging.getLogger(__name__)
# A casus post not recorded after this long is looked for on the platform (a post in flight
# is recorded by its own request well within it: Slack's client gives up after minutes).
RECONCILE_AFTER = timedelta(minutes=1)
# Not found on the platform after this long: the post never arrived, the casus is removed.
RECONCILE_GIVE_UP = timedelta(minutes=15)


async def reconcile_step(engine: Engine) -> Mapping[str, int]:
    recovered = await reconcile_posts(engine)
    return {"recovered": recovered} if recovered else {}


async def reconcile_posts(engine: Engine) -> int:
    """Casussen that were posted while the database went away (or the process died) before
    the post was recorded: find the post by its metadata key and record it."""
    recovered = 0
    for item in await engine.call(casus.unrecorded_posts, RECONCILE_AFTER):
        key = outbox_key("casus", item.casus_id)
        try:
            messenger = engine.messengers.get(item.place.platform)
            ref = await messenger.find_posted(item.place, key, item.created_at)
        except DeliveryFailed as exc:
            log.info("casus %s: cannot check its post yet: %s", item.casus_id, exc.reason)
            continue
        if ref is not None:
            await engine.posted(Record("casus", item.casus_id), ref)
            log.info("casus %s: its unrecorded post was found and recorded", item.casus_id)
            recovered += 1
        elif engine.now() - item.created_at > RECONCILE_GIVE_UP:
            await engine.call(casus.drop_unposted, item.casus_id)
            log.warning("casus %s: never reached the channel; removed", item.casus_id)
    return recovered


def register(router: Router) -> None:
    router.engine_step(EngineStep("casus.reconcile", reconcile_step, order=30))
