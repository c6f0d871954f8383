"""Werksessies as a harvest source: sessions held per method, phases completed, the insights
and steps for tomorrow of their casussen, and per organisation who took part in whose casus.

Figure labels are text keys, so the report shows them in its own language: a method's figure
is ``oogsten.report.werksessie_methode.<method>`` (the shipped methods have one in every
language); a method a facilitator added has its name from the method file as a plain label."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from handlers.core.router import Router
from handlers.core.sections import Scope, SourceItem, SourceSection
from handlers.werksessie.methods import load_methods
from prompts import load_texts
from storage.models import (
    Casus,
    Member,
    Organisation,
    Werksessie,
    WerksessieParticipant,
    WerksessieStatus,
)

KEY = "werksessie"
HELD = (
    WerksessieStatus.RUNNING,
    WerksessieStatus.PAUSED,
    WerksessieStatus.FINISHED,
    WerksessieStatus.STOPPED,
)
MAX_ITEMS = 30
METHOD_LABEL = "oogsten.report.werksessie_methode."


@cache
def _labelled() -> frozenset[str]:
    """The methods with a label in the texts (every language has the same keys)."""
    known: set[str] = load_texts("nl").keys()
    return frozenset(
        key.removeprefix(METHOD_LABEL) for key in known if key.startswith(METHOD_LABEL)
    )


def method_label(method: str, names: dict[str, str]) -> str:
    if method in _labelled():
        return METHOD_LABEL + method
    return names.get(method, method)


def _held(scope: Scope) -> Any:
    conditions = [
        Werksessie.status.in_(HELD),
        Werksessie.created_at >= scope.start,
        Werksessie.created_at < scope.end,
    ]
    if scope.channel_id is not None:
        conditions.append(Casus.channel_id == scope.channel_id)
    return and_(*conditions)


class WerksessieSource:
    key = KEY

    def __init__(self, language: str = "nl") -> None:
        self.language = language

    def collect(self, session: Session, scope: Scope) -> SourceSection:
        held = _held(scope)
        per_method = session.execute(
            select(
                Werksessie.method, func.count(), func.coalesce(func.sum(Werksessie.phases_done), 0)
            )
            .join(Casus, Casus.id == Werksessie.casus_id)
            .where(held)
            .group_by(Werksessie.method)
            .order_by(Werksessie.method)
        ).all()
        names = {key: method.name for key, method in load_methods(self.language).items()}
        sessions = sum(int(n) for _, n, _ in per_method)
        phases = sum(int(done) for _, _, done in per_method)
        closed = session.execute(
            select(Casus.title, Casus.insight, Casus.next_step, Casus.closed_at)
            .where(
                Casus.id.in_(
                    select(Werksessie.casus_id)
                    .join(Casus, Casus.id == Werksessie.casus_id)
                    .where(held)
                ),
                Casus.insight.is_not(None),
            )
            .order_by(Casus.id)
            .limit(MAX_ITEMS)
        ).all()
        participant_org = aliased(Organisation)
        inbrenger_org = aliased(Organisation)
        participant = aliased(Member)
        inbrenger = aliased(Member)
        crossings = session.execute(
            select(
                participant_org.name,
                inbrenger_org.name,
                func.count(func.distinct(WerksessieParticipant.member_id)),
            )
            .select_from(WerksessieParticipant)
            .join(Werksessie, Werksessie.id == WerksessieParticipant.session_id)
            .join(Casus, Casus.id == Werksessie.casus_id)
            .join(participant, participant.id == WerksessieParticipant.member_id)
            .join(inbrenger, inbrenger.id == Casus.inbrenger_id)
            .outerjoin(participant_org, participant_org.id == participant.organisation_id)
            .outerjoin(inbrenger_org, inbrenger_org.id == inbrenger.organisation_id)
            .where(held, WerksessieParticipant.member_id != Casus.inbrenger_id)
            .group_by(participant_org.name, inbrenger_org.name)
            .order_by(participant_org.name, inbrenger_org.name)
        ).all()
        items = [
            SourceItem(title, (insight or "", step or ""), at)
            for title, insight, step, at in closed
        ]
        items += [
            SourceItem(f"{theirs or '?'} → {owner or '?'}", (str(count),))
            for theirs, owner, count in crossings
        ]
        return SourceSection(
            key=KEY,
            title="oogsten.report.werksessies",
            empty="oogsten.report.werksessies_empty",
            figures=(
                ("oogsten.report.werksessie_sessions", sessions),
                ("oogsten.report.werksessie_phases", phases),
                ("oogsten.report.werksessie_closed", len(closed)),
                *((method_label(method, names), int(n)) for method, n, _ in per_method),
            ),
            items=tuple(items[:MAX_ITEMS]),
            texts=tuple(t for _, insight, step, _ in closed for t in (insight, step) if t),
        )

    def actions(self, scope: Scope) -> Select[Any]:
        """Taking part in a session counts as one action, when one signed up."""
        return cast(
            "Select[Any]",
            select(
                WerksessieParticipant.member_id.label("member_id"),
                WerksessieParticipant.joined_at.label("at"),
            )
            .join(Werksessie, Werksessie.id == WerksessieParticipant.session_id)
            .join(Casus, Casus.id == Werksessie.casus_id)
            .where(_held(scope)),
        )


def register(router: Router) -> None:
    router.harvest_section(WerksessieSource())
