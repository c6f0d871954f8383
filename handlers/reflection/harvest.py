"""Reflection answers as a harvest source (handlers/core/sections.py): how many people answered
which prompts, the successes they shared (wat ging goed, succesvragen) and their leervragen,
open or worked on. Counts are computed in SQL; only bounded lists come back as rows.

The section renders itself (``ReflectionHarvest``): successes and leervragen have their own
layout in the report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from handlers.core.replies import Rich, Section
from handlers.core.reporting import (
    deck_name,
    joined,
    local_day,
    md_escape,
    org_label,
    question_label,
    report_text,
    respondents,
    short,
)
from handlers.core.reporting import html_escape as _h
from handlers.core.router import Router
from handlers.core.sections import Highlight, Scope, SourceSection, Themes, in_channel, in_period
from prompts import Texts
from storage.models import Answer, Casus, CasusStatus, Channel, Member, Organisation, PromptRun

KEY = "reflection"
SUCCESS_KINDS = ("wat-ging-goed", "succesvragen")
LEERVRAAG_KIND = "leervraag"
LEERVRAAG_QUESTION = "leervraag"
MAX_SUCCESS_GROUPS = 12
MAX_RESPONSES_PER_GROUP = 15
MAX_LEERVRAGEN = 100
SUCCESSES_SHOWN = 3
RANK_SUCCESSES = 20  # on the card: after the inzichten, before the waiting casussen


@dataclass(frozen=True)
class AnswerLine:
    question_id: str
    text: str


@dataclass(frozen=True)
class Response:
    """One person's answers to one prompt."""

    member: str
    organisation: str | None
    at: datetime
    lines: tuple[AnswerLine, ...]


@dataclass(frozen=True)
class SuccessGroup:
    run_id: int
    kind: str
    channel: str | None
    fired_at: datetime
    private: bool
    respondents: int
    responses: tuple[Response, ...]


@dataclass(frozen=True)
class ReflectionCounts:
    responses_by_kind: tuple[tuple[str, int], ...] = ()  # (kind, people × prompts answered)
    respondents: int = 0
    success_responses: int = 0
    leervragen: int = 0
    leervragen_addressed: int = 0


@dataclass(frozen=True)
class Leervraag:
    answer_id: int
    member: str
    organisation: str | None
    at: datetime
    text: str
    addressed: bool
    private: bool


def _t(texts: Texts, key: str, **params: str | int) -> str:
    return report_text(texts, key, **params)


@dataclass(frozen=True)
class ReflectionHarvest:
    """The reflection section of a harvest; its fields are also read as
    ``harvest.reflection``, ``harvest.successes`` and ``harvest.leervragen``."""

    reflection: ReflectionCounts
    successes: tuple[SuccessGroup, ...]
    leervragen: tuple[Leervraag, ...]
    lead: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.reflection.responses_by_kind

    def figures(self, texts: Texts) -> list[tuple[str, str, int]]:
        r = self.reflection
        rows = [
            ("answers", sum(n for _, n in r.responses_by_kind)),
            ("successes", r.success_responses),
            ("leervragen", r.leervragen),
            ("addressed", r.leervragen_addressed),
        ]
        return [(key, texts.get(f"oogsten.report.fig_{key}"), value) for key, value in rows]

    def markdown(self, texts: Texts, zone: str) -> list[str]:
        out: list[str] = []
        add = out.append
        add(f"## {_t(texts, 'successen')}\n")
        add(_t(texts, "successen_intro") + "\n")
        for group in self.successes:
            private = f" · _{_t(texts, 'private_run')}_" if group.private else ""
            add(
                f"### {md_escape(deck_name(texts, group.kind))} · "
                f"{local_day(group.fired_at, zone)}"
                f" · {respondents(texts, group.respondents)}{private}\n"
            )
            for response in group.responses:
                org = md_escape(org_label(texts, response.organisation))
                who = f"{md_escape(response.member)} ({org})"
                add(f"- **{who}**")
                for line in response.lines:
                    label = question_label(texts, group.kind, line.question_id)
                    add(f"  - _{md_escape(label)}_ {md_escape(line.text)}")
            add("")
        if not self.successes:
            add(_t(texts, "none") + "\n")

        add(f"## {_t(texts, 'leervragen')}\n")
        add(_t(texts, "leervragen_intro") + "\n")
        for vraag in self.leervragen:
            state = _t(texts, "addressed" if vraag.addressed else "open")
            add(
                f"- [{state}] {md_escape(vraag.text)} — {md_escape(vraag.member)}"
                f" ({md_escape(org_label(texts, vraag.organisation))}),"
                f" {local_day(vraag.at, zone)}"
            )
        if not self.leervragen:
            add(_t(texts, "none"))
        add("")
        return out

    def html(self, texts: Texts, zone: str) -> list[str]:
        out: list[str] = []
        add = out.append
        add(
            f"<section><h2>{_h(_t(texts, 'successen'))}</h2>"
            f"<p>{_h(_t(texts, 'successen_intro'))}</p>"
        )
        for group in self.successes:
            private = (
                f' <span class="badge">{_h(_t(texts, "private_run"))}</span>'
                if group.private
                else ""
            )
            add(
                f"<h3>{_h(deck_name(texts, group.kind))} · {local_day(group.fired_at, zone)} · "
                f"{_h(respondents(texts, group.respondents))}{private}</h3>"
            )
            for response in group.responses:
                add(
                    f"<p><strong>{_h(response.member)}</strong> "
                    f'<span class="meta">{_h(org_label(texts, response.organisation))}</span></p>'
                )
                for line in response.lines:
                    label = question_label(texts, group.kind, line.question_id)
                    add(
                        f'<blockquote><span class="meta">{_h(label)}</span><br />'
                        f"{_h(line.text)}</blockquote>"
                    )
        if not self.successes:
            add(f"<p>{_h(_t(texts, 'none'))}</p>")
        add("</section>")

        add(
            f"<section><h2>{_h(_t(texts, 'leervragen'))}</h2>"
            f"<p>{_h(_t(texts, 'leervragen_intro'))}</p><ul>"
        )
        for vraag in self.leervragen:
            state = _t(texts, "addressed" if vraag.addressed else "open")
            add(
                f'<li><span class="badge{"" if vraag.addressed else " open"}">{_h(state)}</span> '
                f'{_h(vraag.text)} <span class="meta">— {_h(vraag.member)}, '
                f"{_h(org_label(texts, vraag.organisation))}, "
                f"{local_day(vraag.at, zone)}</span></li>"
            )
        add("</ul>")
        if not self.leervragen:
            add(f"<p>{_h(_t(texts, 'none'))}</p>")
        add("</section>")
        return out

    def csv_rows(self, texts: Texts) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = [
            {
                "section": "success",
                "id": group.run_id,
                "date": response.at.isoformat(),
                "title": group.kind,
                "organisation": response.organisation,
                "count": group.respondents,
                "text": line.text,
                "detail": line.question_id,
            }
            for group in self.successes
            for response in group.responses
            for line in response.lines
        ]
        rows += [
            {
                "section": "leervraag",
                "id": vraag.answer_id,
                "date": vraag.at.isoformat(),
                "status": "addressed" if vraag.addressed else "open",
                "organisation": vraag.organisation,
                "text": vraag.text,
            }
            for vraag in self.leervragen
        ]
        return rows

    def themes(self, texts: Texts) -> Themes | None:
        return None

    def card_fields(self, texts: Texts) -> list[Rich]:
        r = self.reflection
        return [
            texts.rich(
                "oogsten.card.successen", count=texts.count("antwoord", r.success_responses)
            ),
            texts.rich(
                "oogsten.card.leervragen", count=r.leervragen, addressed=r.leervragen_addressed
            ),
        ]

    def card_highlights(self, texts: Texts, zone: str) -> list[Highlight]:
        """Quotes of shared successes; answers to private prompts are never quoted here."""
        quotes = [
            group.responses[0].lines[0].text
            for group in self.successes
            if not group.private and group.responses and group.responses[0].lines
        ]
        if not quotes:
            return []
        lines = [
            texts.rich("oogsten.card.success_item", text=short(q)) for q in quotes[:SUCCESSES_SHOWN]
        ]
        section = Section(joined(texts.rich("oogsten.card.successes"), lines))
        return [Highlight(RANK_SUCCESSES, (section,))]

    def card_values(self) -> dict[str, int]:
        return {"answers": sum(n for _, n in self.reflection.responses_by_kind)}


# --- queries -------------------------------------------------------------------------------------


def _answers_in(scope: Scope) -> ColumnElement[bool]:
    return and_(in_period(Answer.created_at, scope), in_channel(PromptRun.channel_id, scope))


def _last_closed_casus() -> Any:
    """Per person, when they brought in their newest casus that is now closed."""
    return (
        select(Casus.inbrenger_id.label("member_id"), func.max(Casus.created_at).label("last"))
        .where(Casus.status == CasusStatus.CLOSED)
        .group_by(Casus.inbrenger_id)
        .subquery()
    )


def _addressed(last: Any) -> ColumnElement[bool]:
    """Our definition of a leervraag that was worked on: after asking it, the same person
    brought in a casus and closed it with an inzicht (the method's way through a question).
    Written as a comparison with the newest such casus, so it needs no index on inbrenger."""
    return and_(last.c.last.is_not(None), last.c.last > Answer.created_at)


def reflection_counts(session: Session, scope: Scope) -> ReflectionCounts:
    responses = (
        select(PromptRun.kind, Answer.run_id, Answer.member_id)
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .where(_answers_in(scope))
        .distinct()
        .subquery()
    )
    by_kind: Sequence[Any] = session.execute(
        select(responses.c.kind, func.count()).group_by(responses.c.kind).order_by(responses.c.kind)
    ).all()
    people = session.scalar(
        select(func.count(func.distinct(Answer.member_id)))
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .where(_answers_in(scope))
    )
    last = _last_closed_casus()
    leer: Any = session.execute(
        select(func.count(), func.count().filter(_addressed(last)))
        .select_from(Answer)
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .outerjoin(last, last.c.member_id == Answer.member_id)
        .where(
            _answers_in(scope),
            PromptRun.kind == LEERVRAAG_KIND,
            Answer.question_id == LEERVRAAG_QUESTION,
        )
    ).one()
    counts = {k: int(n) for k, n in by_kind}
    return ReflectionCounts(
        responses_by_kind=tuple(counts.items()),
        respondents=int(people or 0),
        success_responses=sum(counts.get(k, 0) for k in SUCCESS_KINDS),
        leervragen=int(leer[0]),
        leervragen_addressed=int(leer[1]),
    )


def success_groups(
    session: Session, scope: Scope, max_groups: int, max_responses: int
) -> list[SuccessGroup]:
    """Success prompts with answers in the period, the most-answered first."""
    people = func.count(func.distinct(Answer.member_id))
    runs = session.execute(
        select(
            PromptRun.id,
            PromptRun.kind,
            Channel.name,
            PromptRun.fire_at,
            PromptRun.private,
            people,
        )
        .join(Answer, Answer.run_id == PromptRun.id)
        .join(Channel, Channel.id == PromptRun.channel_id)
        .where(_answers_in(scope), PromptRun.kind.in_(SUCCESS_KINDS))
        .group_by(PromptRun.id, PromptRun.kind, Channel.name, PromptRun.fire_at, PromptRun.private)
        .order_by(people.desc(), PromptRun.fire_at.desc())
        .limit(max_groups)
    ).all()
    if not runs:
        return []
    rows = session.execute(
        select(
            Answer.run_id,
            Answer.member_id,
            Member.display_name,
            Member.platform_user_id,
            Organisation.name,
            Answer.question_id,
            Answer.text,
            Answer.created_at,
        )
        .join(Member, Member.id == Answer.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(Answer.run_id.in_([r[0] for r in runs]), in_period(Answer.created_at, scope))
        .order_by(Answer.run_id, Answer.created_at, Answer.member_id, Answer.id)
    ).all()
    by_run: dict[int, dict[int, tuple[str, str | None, datetime, list[AnswerLine]]]] = {}
    for run_id, member_id, name, user_id, org, question, body, at in rows:
        members = by_run.setdefault(run_id, {})
        if member_id not in members:
            if len(members) >= max_responses:
                continue
            members[member_id] = (name or user_id, org, at, [])
        members[member_id][3].append(AnswerLine(question, body))
    return [
        SuccessGroup(
            run_id=r[0],
            kind=r[1],
            channel=r[2],
            fired_at=r[3],
            private=bool(r[4]),
            respondents=int(r[5]),
            responses=tuple(
                Response(name, org, at, tuple(lines))
                for name, org, at, lines in by_run.get(r[0], {}).values()
            ),
        )
        for r in runs
    ]


def leervragen(session: Session, scope: Scope, limit: int) -> list[Leervraag]:
    """Leervragen of the period: open ones first, then the addressed ones; newest first."""
    last = _last_closed_casus()
    addressed = _addressed(last)
    rows = session.execute(
        select(
            Answer.id,
            Member.display_name,
            Member.platform_user_id,
            Organisation.name,
            Answer.created_at,
            Answer.text,
            addressed,
            PromptRun.private,
        )
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .join(Member, Member.id == Answer.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .outerjoin(last, last.c.member_id == Answer.member_id)
        .where(
            _answers_in(scope),
            PromptRun.kind == LEERVRAAG_KIND,
            Answer.question_id == LEERVRAAG_QUESTION,
        )
        .order_by(case((addressed, 1), else_=0), Answer.created_at.desc(), Answer.id)
        .limit(limit)
    ).all()
    return [Leervraag(r[0], r[1] or r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7])) for r in rows]


class ReflectionSource:
    key = KEY

    def collect(self, session: Session, scope: Scope) -> SourceSection:
        payload = ReflectionHarvest(
            reflection=reflection_counts(session, scope),
            successes=tuple(
                success_groups(session, scope, MAX_SUCCESS_GROUPS, MAX_RESPONSES_PER_GROUP)
            ),
            leervragen=tuple(leervragen(session, scope, MAX_LEERVRAGEN)),
        )
        return SourceSection(key=KEY, title="oogsten.report.successen", payload=payload)

    def actions(self, scope: Scope) -> Select[Any]:
        """One action per person per prompt, not per question answered."""
        return cast(
            "Select[Any]",
            select(Answer.member_id.label("member_id"), func.min(Answer.created_at).label("at"))
            .join(PromptRun, PromptRun.id == Answer.run_id)
            .where(_answers_in(scope))
            .group_by(Answer.run_id, Answer.member_id),
        )

    def sample(self, session: Session, scope: Scope, per_kind: int, max_chars: int) -> list[str]:
        """The newest answers of the period, at most ``per_kind``, cut at ``max_chars``."""
        answers: Sequence[str] = session.scalars(
            select(func.substr(Answer.text, 1, max_chars))
            .join(PromptRun, PromptRun.id == Answer.run_id)
            .where(_answers_in(scope))
            .order_by(Answer.id.desc())
            .limit(per_kind)
        ).all()
        return list(answers)

    def dated(self) -> tuple[Any, ...]:
        return (Answer,)


def register(router: Router) -> None:
    router.harvest_section(ReflectionSource())
