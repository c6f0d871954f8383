"""The harvest's contract with the features: a feature that has something to harvest registers
a ``HarvestSection`` (``router.harvest_section(...)``). The harvest renders every registered
section, in registration order, without knowing the feature."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.orm import Session

DEFAULT_ZONE = "Europe/Amsterdam"


@dataclass(frozen=True)
class Scope:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    channel_id: int | None = None  # our Channel.id; None: every channel
    zone: str = DEFAULT_ZONE  # the community's time zone: weeks are local calendar weeks
    # SQLite: tables whose created_at filter is kept away from its index (see harvest queries)
    scan: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SourceItem:
    title: str
    lines: tuple[str, ...] = ()
    at: datetime | None = None


@dataclass(frozen=True)
class SourceSection:
    """What one section shows: ``figures`` are (label, number) pairs shown as key figures,
    ``items`` its highlights; ``texts`` join the keyword sample for the themes. ``title`` and
    ``empty`` (what the section says when it has nothing) are text keys or plain labels."""

    key: str
    title: str
    figures: tuple[tuple[str, int], ...] = ()
    items: tuple[SourceItem, ...] = ()
    texts: tuple[str, ...] = ()
    empty: str = "oogsten.report.none"

    @property
    def is_empty(self) -> bool:
        return not self.items and not any(value for _, value in self.figures)


class HarvestSource(Protocol):
    """A feature's section of the harvest. ``actions`` selects (member_id, at) rows for the
    period: they are added, in SQL, to the weekly chart and the participants per organisation."""

    key: str

    def collect(self, session: Session, scope: Scope) -> SourceSection: ...

    def actions(self, scope: Scope) -> Select[Any] | None: ...


@dataclass
class SourceRegistry:
    sources: dict[str, HarvestSource] = field(default_factory=dict)

    def register(self, source: HarvestSource) -> None:
        if source.key in self.sources:
            raise ValueError(f"harvest source {source.key!r} is registered twice")
        self.sources[source.key] = source

    def unregister(self, key: str) -> None:
        self.sources.pop(key, None)

    def collect(self, session: Session, scope: Scope) -> list[SourceSection]:
        return [source.collect(session, scope) for source in self.sources.values()]

    def actions(self, scope: Scope) -> list[Select[Any]]:
        selects = [source.actions(scope) for source in self.sources.values()]
        return [s for s in selects if s is not None]
