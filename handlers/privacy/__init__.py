"""The privacy feature: the guard, the privacy flow, /mijn-gegevens and retention.
``register(router)`` declares its handlers and its scheduler step (the purge)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.core.router import Router


def register(router: Router) -> None:
    from handlers.privacy import engine, rights

    rights.register(router)
    engine.register(router)
