"""Stored direct-message channels (``DirectChannel``). Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import DirectChannel, utcnow
from storage.repositories import insert_ignoring_conflict


class DirectChannelRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self, platform: str) -> dict[str, str]:
        rows = self.session.execute(
            select(DirectChannel.user_id, DirectChannel.channel_id).where(
                DirectChannel.platform == platform
            )
        )
        return {user_id: channel_id for user_id, channel_id in rows}

    def save(self, platform: str, user_id: str, channel_id: str) -> None:
        values = {"platform": platform, "user_id": user_id, "channel_id": channel_id}
        if not insert_ignoring_conflict(
            self.session, DirectChannel, {**values, "updated_at": utcnow()}
        ):
            self.session.execute(
                update(DirectChannel)
                .where(DirectChannel.platform == platform, DirectChannel.user_id == user_id)
                .values(channel_id=channel_id, updated_at=utcnow()),
                execution_options={"synchronize_session": False},
            )

    def forget(self, platform: str, user_id: str, channel_id: str) -> None:
        """Only this id: another process may have stored a fresh one meanwhile."""
        self.session.execute(
            delete(DirectChannel).where(
                DirectChannel.platform == platform,
                DirectChannel.user_id == user_id,
                DirectChannel.channel_id == channel_id,
            ),
            execution_options={"synchronize_session": False},
        )
