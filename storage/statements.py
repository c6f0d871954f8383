"""Small helpers for bulk statements run inside a caller's unit of work."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def affected(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it touched.

    ``preserve_rowcount`` because SQLAlchemy 2.1 otherwise reports -1 on some drivers."""
    result = session.execute(statement, execution_options={"preserve_rowcount": True})
    return int(cast(CursorResult[Any], result).rowcount)
