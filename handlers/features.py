"""The features that are on, in the order they register. Adding a feature is one line here."""

from __future__ import annotations

from handlers.casus import chat as casus
from handlers.core import help
from handlers.core.router import Router
from handlers.harvest import chat as harvest
from handlers.privacy import rights as privacy_rights
from handlers.profiles import chat as profiles
from handlers.reflection import chat as reflection
from handlers.speedsparren import chat as speedsparren

FEATURES = (help, casus, reflection, profiles, speedsparren, harvest, privacy_rights)


def build_router() -> Router:
    """The router with every feature registered."""
    router = Router()
    for feature in FEATURES:
        feature.register(router)
    return router
