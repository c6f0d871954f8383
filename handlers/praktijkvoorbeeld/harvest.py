"""Praktijkvoorbeelden as a harvest source. Per practice shared or answered in the period: the
distribution of the 0-10 scores as a small text chart (one bar per score from the lowest to
the highest given), the elements people took along, and the steps for tomorrow with how many
were followed up and how many told how it went. Private answers count too: the harvest is for
the facilitators, whom they were kept for.

Figure and line labels are text keys; the lines are rendered as plain text in every format."""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from handlers.core.router import Router
from handlers.core.sections import Scope, SourceItem, SourceSection
from prompts import Texts, load_texts
from storage.models import PraktijkVertaling, PraktijkVervolg, Praktijkvoorbeeld

KEY = "praktijkvoorbeeld"
MAX_PRACTICES = 20
MAX_LINES = 12  # elements and steps shown per practice
BAR = "█"
BAR_WIDTH = 20  # the longest bar


def score_chart(scores: list[int]) -> list[str]:
    """One line per score from the lowest to the highest given: ``7 │███ 3``."""
    if not scores:
        return []
    counts = Counter(scores)
    top = max(counts.values())
    lines = []
    for score in range(min(scores), max(scores) + 1):
        n = counts.get(score, 0)
        bar = BAR * max(1, round(n * BAR_WIDTH / top)) if n else ""
        lines.append(f"{score:>2} │{bar} {n}")
    return lines


def _in(column: Any, scope: Scope) -> Any:
    return and_(column >= scope.start, column < scope.end)


class PraktijkSource:
    key = KEY

    def __init__(self, language: str = "nl") -> None:
        self.language = language

    def _texts(self) -> Texts:
        return load_texts(self.language)

    def collect(self, session: Session, scope: Scope) -> SourceSection:
        texts = self._texts()
        # Practices shared in the period, or answered, or whose steps were followed up in it.
        answered = select(PraktijkVertaling.practice_id).where(
            _in(PraktijkVertaling.created_at, scope)
        )
        followed = (
            select(PraktijkVertaling.practice_id)
            .join(PraktijkVervolg, PraktijkVervolg.translation_id == PraktijkVertaling.id)
            .where(
                or_(_in(PraktijkVervolg.sent_at, scope), _in(PraktijkVervolg.answered_at, scope))
            )
        )
        query = (
            select(Praktijkvoorbeeld)
            .where(
                Praktijkvoorbeeld.message_id.is_not(None),
                or_(
                    _in(Praktijkvoorbeeld.created_at, scope),
                    Praktijkvoorbeeld.id.in_(answered),
                    Praktijkvoorbeeld.id.in_(followed),
                ),
            )
            .order_by(Praktijkvoorbeeld.id)
        )
        if scope.channel_id is not None:
            query = query.where(Praktijkvoorbeeld.channel_id == scope.channel_id)
        practices = list(session.scalars(query))
        ids = [p.id for p in practices]
        translations: dict[int, list[PraktijkVertaling]] = {i: [] for i in ids}
        followups: dict[int, PraktijkVervolg] = {}
        if ids:
            for t in session.scalars(
                select(PraktijkVertaling)
                .where(PraktijkVertaling.practice_id.in_(ids))
                .order_by(PraktijkVertaling.id)
            ):
                translations[t.practice_id].append(t)
            for f in session.scalars(
                select(PraktijkVervolg)
                .join(PraktijkVertaling, PraktijkVertaling.id == PraktijkVervolg.translation_id)
                .where(PraktijkVertaling.practice_id.in_(ids))
            ):
                followups[f.translation_id] = f

        # The key figures count what happened in the period; each practice's item shows all
        # of its answers, also those given before or after it.
        def within(moment: Any) -> bool:
            return moment is not None and scope.start <= moment < scope.end

        all_answers = [t for group in translations.values() for t in group]
        answers = [t for t in all_answers if within(t.created_at)]
        steps = [t for t in answers if t.step]
        sent = [f for f in followups.values() if within(f.sent_at)]
        told = [f for f in followups.values() if within(f.answered_at)]
        items = [
            self._item(texts, practice, translations[practice.id], followups)
            for practice in practices[:MAX_PRACTICES]
        ]
        sample: list[str] = []
        for practice in practices:
            sample += [practice.title, practice.aim, practice.changed, practice.tips]
        for t in all_answers:
            sample += [text for text in (t.take_along, t.step) if text]
        return SourceSection(
            key=KEY,
            title="oogsten.report.praktijk",
            empty="oogsten.report.praktijk_empty",
            figures=(
                ("oogsten.report.praktijk_shared", sum(within(p.created_at) for p in practices)),
                ("oogsten.report.praktijk_answers", len(answers)),
                ("oogsten.report.praktijk_steps", len(steps)),
                ("oogsten.report.praktijk_followed", len(sent)),
                ("oogsten.report.praktijk_told", len(told)),
            ),
            items=tuple(items),
            texts=tuple(sample),
        )

    def _item(
        self,
        texts: Texts,
        practice: Praktijkvoorbeeld,
        answers: list[PraktijkVertaling],
        followups: dict[int, PraktijkVervolg],
    ) -> SourceItem:
        def line(key: str, **params: Any) -> str:
            return texts.rich(f"oogsten.report.{key}", **params).plain()

        scores = [t.score for t in answers]
        lines: list[str] = []
        if scores:
            mean = f"{sum(scores) / len(scores):.1f}"
            if self.language == "nl":
                mean = mean.replace(".", ",")
            lines.append(line("praktijk_scores", count=len(scores), mean=mean))
            lines += score_chart(scores)
        taken = [t.take_along for t in answers if t.take_along]
        lines += [line("praktijk_taken", text=text) for text in taken[:MAX_LINES]]
        steps = [t for t in answers if t.step]
        sent = [t for t in steps if t.id in followups and followups[t.id].sent_at is not None]
        told = [t for t in sent if followups[t.id].answered_at is not None]
        for t in steps[:MAX_LINES]:
            f = followups.get(t.id)
            if f is not None and f.how_it_went:
                lines.append(line("praktijk_step_told", text=t.step or "", how=f.how_it_went))
            else:
                lines.append(line("praktijk_step", text=t.step or ""))
        if steps:
            lines.append(
                line("praktijk_followups", steps=len(steps), followed=len(sent), told=len(told))
            )
        return SourceItem(practice.title, tuple(lines), practice.created_at)

    def actions(self, scope: Scope) -> Select[Any]:
        """Translating a practice to one's own practice counts as an action."""
        return cast(
            "Select[Any]",
            select(
                PraktijkVertaling.member_id.label("member_id"),
                PraktijkVertaling.created_at.label("at"),
            ).where(_in(PraktijkVertaling.created_at, scope)),
        )


def register(router: Router) -> None:
    router.harvest_section(PraktijkSource())
