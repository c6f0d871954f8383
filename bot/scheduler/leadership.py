"""Who runs the scheduler's steps. SQLite: this process. PostgreSQL: the replica that holds a
session-level advisory lock on a dedicated connection, checked at every tick. If the leader
dies, its connection closes, the lock is released and another replica takes over."""

from __future__ import annotations

import contextlib
import logging
import threading

from sqlalchemy import Connection, text

from bot.runtime import Runtime

log = logging.getLogger(__name__)

# The advisory lock that makes one replica the leader, scoped to database and schema so that
# separate installations sharing a PostgreSQL server do not block each other.
LOCK_SQL = "hashtext('leerkring-scheduler:' || current_database() || ':' || current_schema())"


class Leadership:
    """Who may run jobs. SQLite: this process. PostgreSQL: whoever holds the lock.

    `check` and `release` run in worker threads. A tick cancelled at shutdown leaves its
    `check` running in its thread, so both hold one thread lock, and after `release` no
    `check` keeps a connection: the lock is never left on a connection nobody closes."""

    def __init__(self, runtime: Runtime) -> None:
        self.engine = runtime.database.engine
        self.connection: Connection | None = None
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._guard = threading.Lock()
        self._released = False

    def check(self) -> bool:
        if not self.is_postgres:
            return True
        with self._guard:
            if self._released:
                return False
            if self.connection is not None:
                try:
                    self.connection.execute(text("SELECT 1"))
                    return True
                except Exception as exc:
                    log.warning("scheduler lost its leader connection: %s", type(exc).__name__)
                    self._drop()
            try:
                connection = self.engine.connect()
            except Exception as exc:
                log.warning("scheduler cannot reach the database: %s", type(exc).__name__)
                return False
            try:
                got = connection.execute(text(f"SELECT pg_try_advisory_lock({LOCK_SQL})")).scalar()
                connection.commit()
            except Exception as exc:
                log.warning("scheduler cannot reach the database: %s", type(exc).__name__)
                with contextlib.suppress(Exception):
                    connection.invalidate()
                with contextlib.suppress(Exception):
                    connection.close()
                return False
            if got:
                self.connection = connection
                log.info("this process is now the scheduler leader")
                return True
            connection.close()
            return False

    def release(self) -> None:
        """Give up the lock for good (at shutdown): later checks answer False."""
        with self._guard:
            self._released = True
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.execute(text(f"SELECT pg_advisory_unlock({LOCK_SQL})"))
                self.connection.commit()
            # This connection held session state (the lock): close it for real rather than
            # hand it back to the pool.
            with contextlib.suppress(Exception):
                self.connection.invalidate()
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None
