"""The meedenken feature ("wie kan meedenken"): when a casus is posted, its inbrenger privately
sees up to three members of other organisations who could think along, and can ask them with
one friendly DM. ``register(router)`` declares its handlers, its scheduler step, its harvest
section and its personal data (handlers/features.py lists it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.core.router import Router


def register(router: Router) -> None:
    from handlers.meedenken import chat, engine, harvest, personal

    chat.register(router)
    engine.register(router)
    harvest.register(router)
    router.personal_data(personal.MeedenkenData())
