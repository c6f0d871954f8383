"""The features that are on, in the order they register. Adding a feature is one line here."""

from __future__ import annotations

from handlers import (
    casus,
    harvest,
    meedenken,
    praktijkvoorbeeld,
    privacy,
    profiles,
    reflectieverslag,
    reflection,
    speedsparren,
    werksessie,
)
from handlers.core import help
from handlers.core.router import Router

FEATURES = (
    help,
    casus,
    reflection,
    profiles,
    speedsparren,
    werksessie,
    reflectieverslag,
    meedenken,
    praktijkvoorbeeld,
    harvest,
    privacy,
)


def build_router() -> Router:
    """The router with every feature registered."""
    router = Router()
    for feature in FEATURES:
        feature.register(router)
    return router
