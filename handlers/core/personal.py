"""The rights of the person (AVG art. 15 and 17) and retention, as a contract with the features.

Every feature that stores something about a person registers a ``PersonalData`` part
(``router.personal_data(...)``): what it exports for the person, how it erases them, and which
of its texts it replaces once they are older than the retention period. The privacy feature
walks the registered parts, in registration order, and removes the member row itself last;
it never names another feature's tables.

Counts are reported in four buckets, the ones people are told about and the purge log keeps:
``casussen`` (anonymised or replaced), ``bijdragen``, ``answers`` and ``takeaways``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from storage.models import Member

BUCKETS = ("casussen", "bijdragen", "answers", "takeaways")


def when(value: datetime | date | None) -> str | None:
    """A stored moment as ISO text for the export."""
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Person:
    """Whom a request is about. ``member`` is None when only traces remain (a prompt delivery,
    an anonymous casus); ``hashes`` are the keyed hashes that mark their anonymous casussen;
    ``anonymous`` is the platform's anonymous member that keeps what stays (erasure only)."""

    platform: str
    user_id: str
    member: Member | None
    hashes: tuple[str, ...] = ()
    anonymous: Member | None = None

    @property
    def requested_by(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Expired:
    """A retention purge: texts created before ``cutoff`` are replaced by ``removed``
    (``title`` for titles). ``now`` is the purge's moment, for a part that keeps some texts
    for a period of its own (None: the wall clock)."""

    cutoff: datetime
    removed: str
    title: str
    now: datetime | None = None


class PersonalData(Protocol):
    key: str

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        """Top-level keys of the person's export, with only their own data."""
        ...

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        """Remove the person's data and every reference to their member row; counts per bucket."""
        ...

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        """Replace the texts older than the cut-off; counts per bucket."""
        ...


@dataclass
class PersonalRegistry:
    parts: dict[str, PersonalData] = field(default_factory=dict)

    def register(self, part: PersonalData) -> None:
        if part.key in self.parts:
            raise ValueError(f"personal data part {part.key!r} is registered twice")
        self.parts[part.key] = part

    def export(
        self, session: Session, person: Person, into: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Every part's export merged into ``into``; a part may add fields to an object another
        part (or the caller) already exported, such as the member's profile."""
        data: dict[str, Any] = into if into is not None else {}
        for part in self.parts.values():
            for key, value in part.export(session, person).items():
                if isinstance(value, dict) and isinstance(data.get(key), dict):
                    data[key].update(value)
                else:
                    data[key] = value
        return data

    def erase(self, session: Session, person: Person) -> Counter[str]:
        counts: Counter[str] = Counter()
        for part in self.parts.values():
            counts.update(part.erase(session, person))
        return counts

    def purge(self, session: Session, expired: Expired) -> Counter[str]:
        counts: Counter[str] = Counter()
        for part in self.parts.values():
            counts.update(part.purge(session, expired))
        return counts
