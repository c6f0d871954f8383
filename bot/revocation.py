"""Workspaces that uninstalled the app or revoked its token.

Slack tells every app with ``app_uninstalled`` and ``tokens_revoked``. From then on every call
with the bot token fails, so the scheduler stops sending on that platform instead of trying a
dead token at every tick. A Slack bot token belongs to one workspace, so a revoked workspace
means the platform is stopped for this deployment. Reinstalling gives a new token and so a
restart; at start-up a token that works (``auth.test``) clears the mark.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from storage.db import Database
from storage.models import RevokedWorkspace
from storage.repositories import insert_ignoring_conflict

log = logging.getLogger(__name__)


def mark_revoked(database: Database, platform: str, team_id: str, reason: str) -> bool:
    """Store the mark; True the first time (then it is logged, once)."""
    with database.session() as session:
        values: dict[str, object] = {"platform": platform, "team_id": team_id, "reason": reason}
        first = insert_ignoring_conflict(session, RevokedWorkspace, values)
    if first:
        log.warning(
            "%s workspace %s: %s; scheduled sends there stop until it is installed again",
            platform,
            team_id,
            reason,
        )
    return first


def revoked_platforms(database: Database) -> frozenset[str]:
    with database.session() as session:
        return frozenset(session.scalars(select(RevokedWorkspace.platform).distinct()))


def clear(database: Database, platform: str) -> int:
    with database.session() as session:
        result = session.execute(
            delete(RevokedWorkspace).where(RevokedWorkspace.platform == platform),
            execution_options={"preserve_rowcount": True},
        )
        cleared = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if cleared:
        log.info("%s: the token works again; scheduled sends resume", platform)
    return cleared


def is_revoked(database: Database, platform: str) -> bool:
    with database.session() as session:
        found = session.scalar(
            select(RevokedWorkspace.team_id).where(RevokedWorkspace.platform == platform).limit(1)
        )
    return found is not None
