"""Engine and session lifecycle. Repositories never open, commit or close sessions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database could not be reached or failed mid-transaction; nothing was written."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 15}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            if path and path != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Units of work still open, in any thread: a step whose awaiting task was cancelled at
        # shutdown goes on in its worker thread, and disposing the pool under it would leave
        # its connection open for the garbage collector.
        self._open = 0
        self._idle = threading.Condition()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        session = self._sessions()
        with self._idle:
            self._open += 1
        try:
            with session.begin():
                yield session
        except SQLAlchemyError as exc:
            if _is_connectivity_error(exc):
                log.warning("database unavailable: %s", type(exc).__name__)
                raise DatabaseUnavailable(str(type(exc).__name__)) from exc
            raise
        finally:
            session.close()
            with self._idle:
                self._open -= 1
                self._idle.notify_all()

    def ping(self) -> tuple[bool, str]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True, "ok"
        except SQLAlchemyError as exc:
            return False, type(exc).__name__

    def dispose(self, wait_seconds: float = 10.0) -> None:
        """Close the pool, after the units of work still running in other threads (bounded)."""
        with self._idle:
            self._idle.wait_for(lambda: self._open == 0, timeout=wait_seconds)
        self.engine.dispose()


def _is_connectivity_error(exc: SQLAlchemyError) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError

    if isinstance(exc, OperationalError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
