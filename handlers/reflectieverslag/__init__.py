"""The reflectieverslag feature: after a werksessie everyone who took part is asked privately
to reflect on the three SKJ dimensions, and ``/reflectieverslag`` sends a person their own
record of sessions and reflections (and a facilitator a statement of participation).
``register(router)`` declares its command, form, files, scheduler step and personal data
(handlers/features.py lists it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.core.router import Router


def register(router: Router) -> None:
    from handlers.reflectieverslag import chat, engine, personal

    chat.register(router)
    engine.register(router)
    router.personal_data(personal.ReflectieverslagData())
