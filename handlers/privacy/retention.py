"""Retention: texts are kept for LEERKRING_RETENTION_MONTHS (default 12), then replaced.

A scheduled purge (``purge_expired``, called from the scheduler's tick at most once an hour)
replaces the texts that are older than the period by a marker: each feature says which of its
texts (``purge`` of its personal-data part, handlers/core/personal.py), e.g. casussen (counted
from closing, or from bringing in while still open), bijdragen, reflection answers, speedspar
takeaways and what was written in werksessies. The rows stay, with their dates, channels,
perspectives and authors' organisations, so the harvest's counts for old periods do not change.
Each purge that changed anything is recorded in ``purge_log`` (in the purge's own transaction:
both happen or neither) and logged, with its counts and cut-off date, never with text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from handlers.core.context import HandlerContext
from handlers.core.personal import Expired
from storage.models import PurgeLog

log = logging.getLogger(__name__)


def months_before(moment: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the 31st becomes the month's last)."""
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    casussen: int
    bijdragen: int
    answers: int
    takeaways: int

    @property
    def total(self) -> int:
        return self.casussen + self.bijdragen + self.answers + self.takeaways


def purge_expired(ctx: HandlerContext, months: int) -> PurgeResult:
    session = ctx.session
    cutoff = months_before(ctx.now(), months)
    expired = Expired(
        cutoff,
        removed=ctx.texts.get("privacy.retention.removed"),
        title=ctx.texts.get("privacy.retention.title"),
        now=ctx.now(),
    )
    counts = ctx.registry.personal_data.purge(session, expired)
    casussen, bijdragen = counts["casussen"], counts["bijdragen"]
    answers, takeaways = counts["answers"], counts["takeaways"]
    result = PurgeResult(cutoff, casussen, bijdragen, answers, takeaways)
    if result.total:
        session.add(
            PurgeLog(
                purged_at=ctx.now(),
                cutoff=cutoff,
                months=months,
                casussen=casussen,
                bijdragen=bijdragen,
                answers=answers,
                takeaways=takeaways,
            )
        )
        session.flush()
        log.info(
            "retention purge (older than %s, %s months): %s casussen, %s bijdragen, "
            "%s answers, %s takeaways",
            cutoff.date().isoformat(),
            months,
            casussen,
            bijdragen,
            answers,
            takeaways,
        )
    return result


@dataclass(frozen=True)
class PurgeRecord:
    """One row of ``purge_log``."""

    purged_at: datetime
    cutoff: datetime
    months: int
    casussen: int
    bijdragen: int
    answers: int
    takeaways: int


def latest_purges(ctx: HandlerContext, limit: int = 10) -> list[PurgeRecord]:
    """The most recent purges that replaced texts, newest first."""
    session = ctx.session
    rows = session.scalars(
        select(PurgeLog).order_by(PurgeLog.purged_at.desc(), PurgeLog.id.desc()).limit(limit)
    )
    return [
        PurgeRecord(
            r.purged_at, r.cutoff, r.months, r.casussen, r.bijdragen, r.answers, r.takeaways
        )
        for r in rows
    ]
