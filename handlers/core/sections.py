"""The harvest's contract with the features: a feature that has something to harvest registers
a ``HarvestSource`` (``router.harvest_section(...)``). The harvest composes every registered
source, in registration order, without knowing the feature or its tables:

- ``collect`` returns the feature's ``SourceSection``: figures and items the harvest renders
  itself, or a typed ``payload`` (a ``SectionPayload``) that renders itself through hooks
  (Markdown, HTML, CSV, key figures, card, themes) where the feature needs its own layout;
- ``actions`` selects (member_id, at) rows: the weekly chart and participants per organisation;
- optionally ``links`` selects (member_id, owner_id) rows: one per contribution by a member to
  something another member owns, for who learned with whom across organisations;
- optionally ``sample`` returns the newest texts of the period for the themes (keywords), and
  ``dated`` the models whose ``created_at`` the period filters (SQLite's scan-or-index choice)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

if TYPE_CHECKING:
    from handlers.core.replies import Block, Rich
    from prompts import Texts

DEFAULT_ZONE = "Europe/Amsterdam"


@dataclass(frozen=True)
class Scope:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    channel_id: int | None = None  # our Channel.id; None: every channel
    zone: str = DEFAULT_ZONE  # the community's time zone: weeks are local calendar weeks
    # SQLite: tables whose created_at filter is kept away from its index (see harvest queries)
    scan: frozenset[str] = frozenset()


def in_period(column: Any, scope: Scope) -> ColumnElement[bool]:
    """``column`` within the scope's period; on SQLite a long period scans the table instead
    of reading through its created_at index (``Scope.scan``)."""
    if column.key == "created_at" and column.class_.__tablename__ in scope.scan:
        # SQLite's documented way to keep a term from using an index: the unary plus.
        column = UnaryExpression(column.expression, operator=custom_op("+"), type_=column.type)
    return and_(column >= scope.start, column < scope.end)


def in_channel(column: Any, scope: Scope) -> ColumnElement[bool]:
    return column == scope.channel_id if scope.channel_id is not None else literal(True)


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
    payload: Any = None  # a SectionPayload (frozen dataclass) that renders itself, or None

    @property
    def is_empty(self) -> bool:
        if self.payload is not None:
            return bool(self.payload.is_empty)
        return not self.items and not any(value for _, value in self.figures)


@dataclass(frozen=True)
class Themes:
    """A section's own themes: (id, label, count) entries under ``heading``, listed before the
    keywords; ``csv`` is their CSV section name."""

    heading: str
    csv: str
    entries: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class Highlight:
    """Card blocks of a section; the card shows every section's highlights by ``rank``."""

    rank: int
    blocks: tuple[Block, ...]


class SectionPayload(Protocol):
    """A section that renders itself. A frozen dataclass of plain values (it round-trips
    through the JSON export); ``lead`` puts its key figures and card fields before the shared
    ones (people, organisations, cross-organisation contributions)."""

    lead: bool

    @property
    def is_empty(self) -> bool: ...

    def figures(self, texts: Texts) -> list[tuple[str, str, int]]: ...

    def markdown(self, texts: Texts, zone: str) -> list[str]: ...

    def html(self, texts: Texts, zone: str) -> list[str]: ...

    def csv_rows(self, texts: Texts) -> list[dict[str, object]]: ...

    def themes(self, texts: Texts) -> Themes | None: ...

    def card_fields(self, texts: Texts) -> list[Rich]: ...

    def card_highlights(self, texts: Texts, zone: str) -> list[Highlight]: ...

    def card_values(self) -> dict[str, int]: ...


class HarvestSource(Protocol):
    """A feature's section of the harvest. ``actions`` selects (member_id, at) rows for the
    period (one select or several): they are added, in SQL, to the weekly chart and the
    participants per organisation.

    Optional, looked up by name (a source without them simply contributes nothing there):
    ``links(scope)`` selects (member_id, owner_id) rows, one per contribution to something
    another member owns; ``sample(session, scope, per_kind, max_chars)`` returns the period's
    newest texts for the keywords; ``dated()`` returns the models whose ``created_at`` the
    source filters by period."""

    key: str

    def collect(self, session: Session, scope: Scope) -> SourceSection: ...

    def actions(self, scope: Scope) -> Select[Any] | Sequence[Select[Any]] | None: ...


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
        return _flat(source.actions(scope) for source in self.sources.values())

    def links(self, scope: Scope) -> list[Select[Any]]:
        """(member_id, owner_id) rows of every source that has them."""
        return _flat(
            hook(scope)
            for source in self.sources.values()
            if (hook := getattr(source, "links", None)) is not None
        )

    def sample(self, session: Session, scope: Scope, per_kind: int, max_chars: int) -> list[str]:
        """The sources' newest texts for the themes, in registration order."""
        texts: list[str] = []
        for source in self.sources.values():
            hook = getattr(source, "sample", None)
            if hook is not None:
                texts.extend(hook(session, scope, per_kind, max_chars))
        return texts

    def dated(self) -> list[Any]:
        """The models (with ``created_at``) the sources filter by period."""
        return [
            model
            for source in self.sources.values()
            if (hook := getattr(source, "dated", None)) is not None
            for model in hook()
        ]


def _flat(found: Any) -> list[Select[Any]]:
    """A source returns one select, several, or None."""
    out: list[Select[Any]] = []
    for selects in found:
        if selects is None:
            continue
        out.extend(selects if isinstance(selects, list | tuple) else [selects])
    return out
