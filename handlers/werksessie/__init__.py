"""The werksessie feature: a guided casus consultation with a method's phases, roles and
timers. ``register(router)`` declares its handlers, its scheduler step and its harvest
section (handlers/features.py lists it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.core.router import Router


def register(router: Router) -> None:
    from handlers.werksessie import chat, engine, harvest, personal

    chat.register(router)
    engine.register(router)
    harvest.register(router)
    router.personal_data(personal.WerksessieData())
