"""The reflection feature. ``register(router)`` declares its handlers, its scheduler steps and
whatever else it adds (handlers/features.py lists it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.core.router import Router


def register(router: Router) -> None:
    from handlers.reflection import chat, engine, harvest, personal

    chat.register(router)
    engine.register(router)
    harvest.register(router)
    router.personal_data(personal.ReflectionData())
