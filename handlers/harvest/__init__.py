"""The harvest feature: /oogsten, the report and its sections (handlers/core/sections.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.core.router import Router


def register(router: Router) -> None:
    from handlers.harvest import chat, personal

    chat.register(router)
    router.personal_data(personal.HarvestData())
