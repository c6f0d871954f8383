"""The praktijkvoorbeeld feature: a good practice shared in the four parts of the NJi
checklist, translated by the others to their own practice (a 0-10 score, what they take along,
a step for tomorrow), the follow-up of those steps after N weeks, its harvest section and what
it stores about a person. ``register(router)`` declares it all (handlers/features.py lists it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.core.router import Router


def register(router: Router) -> None:
    from handlers.praktijkvoorbeeld import chat, engine, harvest, personal

    chat.register(router)
    engine.register(router)
    harvest.register(router)
    router.personal_data(personal.PraktijkData())
