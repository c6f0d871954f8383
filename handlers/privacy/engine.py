"""The retention purge as a scheduler step: at most once an hour, when a retention period is
set (``LEERKRING_RETENTION_MONTHS``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from handlers.core.registry import Engine, EngineStep
from handlers.core.router import Router
from handlers.privacy import retention

PURGE_EVERY = timedelta(hours=1)
_LAST = "privacy.last_purge"


async def purge_step(engine: Engine) -> Mapping[str, int]:
    months = engine.option("retention_months", 0)
    if not months:
        return {}
    now = engine.now()
    last: datetime | None = engine.state.get(_LAST)
    if last is not None and now - last < PURGE_EVERY:
        return {"purged": 0}
    result = await engine.call(retention.purge_expired, months)
    engine.state[_LAST] = now
    return {"purged": result.total}


def register(router: Router) -> None:
    router.engine_step(EngineStep("privacy.purge", purge_step, order=90))
