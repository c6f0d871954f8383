"""The harvest as one value: every registered feature's section (handlers/core/sections.py), the
shared parts composed from what the sources contribute (handlers/harvest/queries.py), and
recurring themes: the sections' own (such as the perspectives people sought) and Dutch
keywords from the sources' texts (YAKE, no AI).

``collect_harvest`` is what the chat command, the share button and ``leerkring oogst`` all
call, so every output shows the same report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from handlers.core.sections import DEFAULT_ZONE, Scope, SourceRegistry, SourceSection
from handlers.harvest import queries
from handlers.harvest.periods import Period
from handlers.harvest.queries import Activity, Link

# Keyword extraction reads the newest texts only: at most this many of each kind a source
# samples (casussen, bijdragen, answers, ...), every text cut at SAMPLE_CHARS characters
# (three kinds: ≤ 3 × 60 × 300 = 54,000 characters).
SAMPLE_PER_KIND = 60
SAMPLE_CHARS = 300
KEYWORDS = 12
TOP_ORGANISATIONS = 8  # the chart and the matrix show these; the rest is one "other" group

# Words that are everywhere in this network's texts and say nothing about a theme; YAKE's own
# Dutch list handles the grammar words.
_DOMAIN_WORDS = """
    casus casussen cliënt client cliënten clienten collega collega's collegas
    gesprek gesprekken week weken keer vraag vragen goed goede heel echt even gewoon
    wel niet nog erg veel beetje samen daarna ging gaat gaan kwam komen deed doen
    gedaan kon kunnen wilde willen zei zeggen moest moeten vond vinden hebben had
    mensen iemand iets dingen ding manier jaar dag vandaag morgen gisteren
"""
DOMAIN_STOPWORDS = frozenset(_DOMAIN_WORDS.split())
_MARKER = re.compile(r"\[[A-Z_ -]+\]")


@dataclass(frozen=True)
class Harvest:
    period: Period
    channel: str | None  # the channel's name (or id) when one channel was harvested
    generated_at: datetime
    sections: tuple[SourceSection, ...]  # what the features registered, in their order
    participants: tuple[tuple[str | None, int], ...]
    links: tuple[Link, ...]
    activity: tuple[Activity, ...]
    keywords: tuple[str, ...]
    summary: str | None = None  # from an optional summariser; None by default

    def __getattr__(self, name: str) -> Any:
        """A field of a section's payload, e.g. ``harvest.casussen`` (the first section whose
        payload has it): the harvest itself names no feature."""
        if not name.startswith("_"):
            for section in self.__dict__.get("sections", ()):
                if section.payload is not None and hasattr(section.payload, name):
                    return getattr(section.payload, name)
        raise AttributeError(name)

    @property
    def is_empty(self) -> bool:
        return all(section.is_empty for section in self.sections)

    def section(self, key: str) -> SourceSection | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def organisations(self) -> int:
        return len([org for org, _ in self.participants if org])

    @property
    def people(self) -> int:
        return sum(n for _, n in self.participants)

    @property
    def cross_contributions(self) -> int:
        return sum(link.contributions for link in self.links)


Summariser = Callable[[Harvest], str | None]
"""The seam for an optional summariser (e.g. a self-hosted model) that writes a short
narrative from a finished harvest. None is configured: Leerkring calls no AI or cloud service.
Whatever is plugged in here receives only the harvest, which holds only stored (already
privacy-checked) text."""


@dataclass(frozen=True)
class HarvestOptions:
    summariser: Summariser | None = None
    sample_per_kind: int = SAMPLE_PER_KIND
    # The features' sections (``ctx.registry.harvest_sections``); none by default.
    registry: SourceRegistry = field(default_factory=SourceRegistry)


def collect_harvest(
    session: Session,
    period: Period,
    *,
    channel_id: int | None,
    channel_label: str | None,
    now: datetime,
    options: HarvestOptions | None = None,
    zone: str = DEFAULT_ZONE,
) -> Harvest:
    """The harvest of ``period``; ``zone`` is the community's time zone, in which the weekly
    activity is grouped (a Monday 00:30 contribution belongs to that Monday's week)."""
    options = options or HarvestOptions()
    registry = options.registry
    scope = queries.prepare(session, Scope(period.start, period.end, channel_id, zone), registry)
    sections = registry.collect(session, scope)
    sample = registry.sample(session, scope, options.sample_per_kind, SAMPLE_CHARS)
    sample.extend(t[:SAMPLE_CHARS] for s in sections for t in s.texts[: options.sample_per_kind])
    weekly, participants = queries.activity(session, scope, registry)
    harvest = Harvest(
        period=period,
        channel=channel_label,
        generated_at=now,
        sections=tuple(sections),
        participants=tuple(participants),
        links=tuple(queries.cross_organisation_links(session, scope, registry)),
        activity=tuple(weekly),
        keywords=tuple(keywords(sample)),
    )
    if options.summariser is not None:
        from dataclasses import replace

        harvest = replace(harvest, summary=options.summariser(harvest))
    return harvest


@cache
def _stopwords() -> frozenset[str]:
    from pathlib import Path

    import yake

    # YAKE's own Dutch list; passing our own set replaces it, so it is read and merged here.
    words: set[str] = set()
    for path in Path(yake.__file__).parent.rglob("stopwords_nl.txt"):
        words |= set(path.read_text(encoding="utf-8", errors="replace").split())
    return frozenset(words | DOMAIN_STOPWORDS)


def keywords(texts: list[str], top: int = KEYWORDS) -> list[str]:
    """Recurring Dutch key phrases (one or two words) in the sampled texts."""
    cleaned = [_MARKER.sub(" ", t) for t in texts if t and t.strip()]
    if not cleaned:
        return []
    import yake

    stop = _stopwords()
    extractor = yake.KeywordExtractor(lan="nl", n=2, top=top * 3, stopwords=set(stop))
    document = ".\n".join(t.strip().rstrip(".") for t in cleaned)
    found: list[str] = []
    for phrase, _score in extractor.extract_keywords(document):
        words = phrase.lower().split()
        if any(w in stop or len(w) < 3 or not any(c.isalpha() for c in w) for w in words):
            continue
        if any(phrase.lower() in f or f in phrase.lower() for f in found):
            continue
        found.append(phrase.lower())
        if len(found) == top:
            break
    return found
