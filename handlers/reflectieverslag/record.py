"""The record itself: the period a person asks for, what goes into their reflectieverslag
(JSON) and how it reads (HTML), and the facilitator's statement, which holds participation
only and never a reflection.

What the record holds is the person's own: their sessions with date, method, role and the
length of the live phases, their three-dimension reflections, their prompt answers and their
speedspar takeaways. No casus title or text (that is the client's story), nobody else's words,
and other people only as counts per organisation."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.reflectieverslag.queries import (
    DEFAULT_YEARS,
    ROLES,
    AnswerFacts,
    SessionFacts,
    TakeawayFacts,
    answers_of,
    sessions_of,
    takeaways_of,
)
from prompts import HERE, Texts
from storage.models import Member

DIMENSIONS = ("technisch", "normatief", "persoonlijk")
ALL_FROM = date(2000, 1, 1)
MONTH_WORDS = frozenset({"maand", "maanden", "month", "months"})
YEAR_WORDS = frozenset({"jaar", "jaren", "year", "years"})
ALL_WORDS = frozenset({"alles", "all", "altijd"})
_DATE = re.compile(r"^(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})-(\d{1,2})-(\d{4}))$")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """From ``first`` to ``last`` (whole days, both included) in the community's time zone."""

    first: date
    last: date

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        tz = ZoneInfo(zone)
        start = datetime.combine(self.first, time(), tz).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), tz).astimezone(UTC)
        return start, end

    def label(self, texts: Texts) -> str:
        if self.first == ALL_FROM:
            return texts.get("reflectieverslag.period_all")
        if (
            self.first.month == 1
            and self.first.day == 1
            and self.last == date(self.first.year, 12, 31)
        ):
            return str(self.first.year)
        return texts.rich(
            "reflectieverslag.period_range", start=_day(self.first), end=_day(self.last)
        ).plain()

    def slug(self) -> str:
        return f"{self.first.isoformat()}_{self.last.isoformat()}"


def _day(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def _months_back(today: date, months: int) -> date:
    total = today.year * 12 + today.month - 1 - months
    year, month = divmod(total, 12)
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month + 1, day) + timedelta(days=1)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _parse_date(text: str) -> date:
    match = _DATE.match(text)
    if match is None:
        raise PeriodError(text)
    if match.group(1):
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    else:
        day, month, year = int(match.group(4)), int(match.group(5)), int(match.group(6))
    try:
        return date(year, month, day)
    except ValueError:
        raise PeriodError(text) from None


def parse_period(text: str, today: date) -> Period:
    """``""`` (the last five years), ``2025``, ``12 maanden``, ``2 jaar``, ``alles``, or two
    dates (``2024-01-01 2025-12-31`` or ``1-1-2024 31-12-2025``)."""
    words = text.lower().replace(" t/m ", " ").replace(" tot ", " ").split()
    if not words:
        return Period(_months_back(today, 12 * DEFAULT_YEARS), today)
    if len(words) == 1 and words[0] in ALL_WORDS:
        return Period(ALL_FROM, today)
    if len(words) == 1 and re.fullmatch(r"\d{4}", words[0]):
        year = int(words[0])
        if not 2000 <= year <= today.year:
            raise PeriodError(text)
        return Period(date(year, 1, 1), date(year, 12, 31))
    if len(words) == 2 and words[0].isdigit() and words[1] in MONTH_WORDS | YEAR_WORDS:
        count = int(words[0]) * (12 if words[1] in YEAR_WORDS else 1)
        if not 1 <= count <= 12 * 25:
            raise PeriodError(text)
        return Period(_months_back(today, count), today)
    if len(words) == 2:
        first, last = _parse_date(words[0]), _parse_date(words[1])
        if last < first or first < ALL_FROM:
            raise PeriodError(text)
        return Period(first, last)
    raise PeriodError(text)


@cache
def _method_names(language: str) -> dict[str, str]:
    """The methods' names from the method library (data; prompts/<taal>/methoden.toml)."""
    path = HERE / language / "methoden.toml"
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {
        key: str(value.get("naam", key)) for key, value in data.items() if isinstance(value, dict)
    }


def method_name(language: str, key: str) -> str:
    return _method_names(language).get(key, key)


def local_day(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y")


def _hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def hours_text(hours: float, language: str) -> str:
    """``1,5`` in Dutch, ``1.5`` in English."""
    text = f"{hours:.1f}"
    return text.replace(".", ",") if language == "nl" else text


# --- the record --------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    data: dict[str, Any]
    sessions: int
    reflections: int
    answers: int
    takeaways: int

    @property
    def is_empty(self) -> bool:
        return not (self.sessions or self.answers or self.takeaways)


def _reflection(facts: SessionFacts) -> dict[str, str] | None:
    row = facts.reflection
    if row is None or row.answered_at is None:
        return None
    values = {name: getattr(row, name) for name in DIMENSIONS}
    if not any(values.values()):
        return None
    return {name: value or "" for name, value in values.items()}


def _others(facts: SessionFacts, texts: Texts) -> dict[str, Any]:
    unknown = texts.get("reflectieverslag.doc.unknown_org")
    organisations = Counter({(org or unknown): n for org, n in facts.others.items()})
    return {
        "people": sum(organisations.values()),
        "organisations": dict(sorted(organisations.items())),
    }


def _totals(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    minutes = sum(s["live_minutes"] or 0 for s in sessions)
    return {
        "werksessies": len(sessions),
        "live_minutes": minutes,
        "hours": _hours(minutes),
        "reflections": sum(1 for s in sessions if s["reflection"] is not None),
        "roles": {role: sum(1 for s in sessions if s["role"] == role) for role in ROLES},
    }


def build_record(
    session: Session,
    member: Member,
    period: Period,
    texts: Texts,
    zone: str,
    now: datetime,
) -> Record:
    start, end = period.bounds(zone)
    facts = sessions_of(session, member, start, end)
    answers = answers_of(session, member, start, end)
    takeaways = takeaways_of(session, member, start, end)
    sessions: list[dict[str, Any]] = [
        {
            "date": facts_.started_at.astimezone(ZoneInfo(zone)).date().isoformat(),
            "method": facts_.method,
            "method_name": method_name(texts.language, facts_.method),
            "mode": facts_.mode,
            "role": facts_.role,
            "live_minutes": facts_.live_minutes,
            "series": facts_.series,
            "others": _others(facts_, texts),
            "reflection": _reflection(facts_),
        }
        for facts_ in facts
    ]
    per_series: dict[str, list[dict[str, Any]]] = {}
    for item in sessions:
        per_series.setdefault(item["series"], []).append(item)
    data: dict[str, Any] = {
        "kind": "reflectieverslag",
        "language": texts.language,
        "made_at": now.isoformat(),
        "participant": {
            "name": member.display_name,
            "organisation": member.organisation.name if member.organisation else None,
            "role": member.role,
        },
        "period": {"first": period.first.isoformat(), "last": period.last.isoformat()},
        "dimensions": {
            name: texts.get(f"reflectieverslag.dimensie.{name}.name") for name in DIMENSIONS
        },
        "werksessies": sessions,
        "reflection_answers": [_answer(a, texts, zone) for a in answers],
        "speedsparren_takeaways": [_takeaway(t, zone) for t in takeaways],
        "totals": {
            "period": {
                **_totals(sessions),
                "reflection_answers": len(answers),
                "speedsparren_takeaways": len(takeaways),
            },
            "series": [
                {"series": name, **_totals(items)} for name, items in sorted(per_series.items())
            ],
        },
    }
    return Record(
        data,
        sessions=len(sessions),
        reflections=data["totals"]["period"]["reflections"],
        answers=len(answers),
        takeaways=len(takeaways),
    )


def _answer(answer: AnswerFacts, texts: Texts, zone: str) -> dict[str, str]:
    deck = texts.decks.get(answer.deck)
    question = answer.question_id
    if deck is not None:
        question = next((q.label for q in deck.questions if q.id == answer.question_id), question)
    return {
        "date": answer.at.astimezone(ZoneInfo(zone)).date().isoformat(),
        "deck": answer.deck,
        "deck_name": deck.name if deck is not None else answer.deck,
        "question": question,
        "answer": answer.text,
    }


def _takeaway(takeaway: TakeawayFacts, zone: str) -> dict[str, str]:
    return {
        "date": takeaway.at.astimezone(ZoneInfo(zone)).date().isoformat(),
        "series": takeaway.series,
        "takeaway": takeaway.text,
    }


def record_json(record: Record) -> bytes:
    return json.dumps(record.data, ensure_ascii=False, indent=2).encode("utf-8")


# --- HTML ---------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#1d1d1f;line-height:1.5}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid #ccc}h3{font-size:1.05rem;margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;
padding:.3rem .5rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
.meta td:first-child{width:12rem;color:#555}.note{color:#555;font-size:.9rem}
.dim{margin:.3rem 0 .6rem}.dim b{display:block}.sign td{height:2.5rem}
@media print{body{margin:0}h2{page-break-after:avoid}section{page-break-inside:avoid}}
"""


def _page(title: str, language: str, body: list[str]) -> bytes:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    ).encode("utf-8")


def _t(texts: Texts, key: str, **params: Any) -> str:
    """A text for the document, plain and escaped (markup stripped)."""
    return escape(texts.rich(f"reflectieverslag.{key}", **params).plain())


def _paragraphs(text: str) -> str:
    return "<br>".join(escape(line) for line in text.splitlines())


def _duration(item: dict[str, Any], texts: Texts) -> str:
    if item["mode"] != "live":
        return _t(texts, "doc.async")
    if item["live_minutes"] is None:
        return "–"
    return _t(texts, "doc.minutes", n=item["live_minutes"])


def _date_nl(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d-%m-%Y")


def render_record_html(record: Record, texts: Texts, period: Period, zone: str) -> bytes:
    data = record.data
    who = data["participant"]
    body = [
        f"<h1>{_t(texts, 'doc.title')}</h1>",
        f"<p>{_t(texts, 'doc.intro')}</p>",
        '<table class="meta">',
        f"<tr><td>{_t(texts, 'doc.participant')}</td><td>{escape(who['name'] or '')}</td></tr>",
        f"<tr><td>{_t(texts, 'doc.organisation')}</td>"
        f"<td>{escape(who['organisation'] or '')}</td></tr>",
        f"<tr><td>{_t(texts, 'doc.period')}</td><td>{escape(period.label(texts))}</td></tr>",
        f"<tr><td>{_t(texts, 'doc.made')}</td>"
        f"<td>{escape(local_day(datetime.fromisoformat(data['made_at']), zone))}</td></tr>",
        "</table>",
        f"<h2>{_t(texts, 'doc.sessions')}</h2>",
    ]
    if not data["werksessies"]:
        body.append(f"<p>{_t(texts, 'doc.no_sessions')}</p>")
    for item in data["werksessies"]:
        others = item["others"]
        orgs = ", ".join(
            _t(texts, "doc.people", n=count, org=org)
            for org, count in others["organisations"].items()
        )
        body += [
            "<section>",
            f"<h3>{escape(_date_nl(item['date']))} · {escape(item['method_name'])}</h3>",
            '<table class="meta">',
            f"<tr><td>{_t(texts, 'doc.role')}</td>"
            f"<td>{_t(texts, 'role.' + item['role'])}</td></tr>",
            f"<tr><td>{_t(texts, 'doc.duration')}</td><td>{_duration(item, texts)}</td></tr>",
            f"<tr><td>{_t(texts, 'doc.series')}</td><td>{escape(item['series'])}</td></tr>",
            f"<tr><td>{_t(texts, 'doc.others')}</td><td>{orgs or '–'}</td></tr>",
            "</table>",
            f"<p><b>{_t(texts, 'doc.reflection')}</b></p>",
        ]
        reflection = item["reflection"]
        if reflection is None:
            body.append(f'<p class="note">{_t(texts, "doc.no_reflection")}</p>')
        else:
            for name in DIMENSIONS:
                if reflection[name]:
                    body.append(
                        f'<div class="dim"><b>{escape(data["dimensions"][name])}</b>'
                        f"{_paragraphs(reflection[name])}</div>"
                    )
        body.append("</section>")
    body.append(f"<h2>{_t(texts, 'doc.answers')}</h2>")
    if not data["reflection_answers"]:
        body.append(f"<p>{_t(texts, 'doc.no_answers')}</p>")
    for answer in data["reflection_answers"]:
        body.append(
            f"<p><b>{escape(_date_nl(answer['date']))} · {escape(answer['deck_name'])}</b><br>"
            f"<i>{escape(answer['question'])}</i><br>{_paragraphs(answer['answer'])}</p>"
        )
    body.append(f"<h2>{_t(texts, 'doc.takeaways')}</h2>")
    if not data["speedsparren_takeaways"]:
        body.append(f"<p>{_t(texts, 'doc.no_takeaways')}</p>")
    for takeaway in data["speedsparren_takeaways"]:
        body.append(
            f"<p><b>{escape(_date_nl(takeaway['date']))} · {escape(takeaway['series'])}</b><br>"
            f"{_paragraphs(takeaway['takeaway'])}</p>"
        )
    body += [f"<h2>{_t(texts, 'doc.totals')}</h2>", _totals_table(data, texts)]
    body.append(f'<p class="note">{_t(texts, "doc.privacy")}</p>')
    return _page(texts.get("reflectieverslag.doc.title"), texts.language, body)


def _totals_table(data: dict[str, Any], texts: Texts) -> str:
    rows = [
        f"<tr><th>{_t(texts, 'doc.series')}</th><th>{_t(texts, 'doc.count_sessions')}</th>"
        f"<th>{_t(texts, 'doc.count_hours')}</th><th>{_t(texts, 'doc.count_reflections')}</th>"
        f"<th>{_t(texts, 'doc.count_roles')}</th></tr>"
    ]
    entries = [*data["totals"]["series"]]
    entries.append(
        {"series": texts.get("reflectieverslag.doc.total_period"), **data["totals"]["period"]}
    )
    for entry in entries:
        roles = ", ".join(
            f"{_t(texts, 'role.' + role)}: {count}"
            for role, count in entry["roles"].items()
            if count
        )
        rows.append(
            f"<tr><td>{escape(entry['series'])}</td><td>{entry['werksessies']}</td>"
            f"<td>{hours_text(entry['hours'], texts.language)}</td>"
            f"<td>{entry['reflections']}</td><td>{roles or '–'}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


# --- the facilitator's statement -----------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    name: str
    sessions: int
    hours: float
    html: bytes


def build_statement(
    session: Session, member: Member, period: Period, texts: Texts, zone: str
) -> Statement:
    """Participation only: dates, methods, roles and hours. Reflections are never read."""
    start, end = period.bounds(zone)
    facts = sessions_of(session, member, start, end)
    name = member.display_name or member.platform_user_id
    minutes = sum(f.live_minutes or 0 for f in facts)
    rows = [
        f"<tr><th>{_t(texts, 'doc.date')}</th><th>{_t(texts, 'doc.method')}</th>"
        f"<th>{_t(texts, 'doc.role')}</th><th>{_t(texts, 'doc.duration')}</th>"
        f"<th>{_t(texts, 'doc.series')}</th></tr>"
    ]
    for f in facts:
        item = {"mode": f.mode, "live_minutes": f.live_minutes}
        rows.append(
            f"<tr><td>{escape(local_day(f.started_at, zone))}</td>"
            f"<td>{escape(method_name(texts.language, f.method))}</td>"
            f"<td>{_t(texts, 'role.' + f.role)}</td><td>{_duration(item, texts)}</td>"
            f"<td>{escape(f.series)}</td></tr>"
        )
    label = period.label(texts)
    total = hours_text(_hours(minutes), texts.language)
    organisation = member.organisation.name if member.organisation else ""
    body = [
        f"<h1>{_t(texts, 'statement.title')}</h1>",
        f"<p>{_t(texts, 'statement.intro', name=name, period=label)}</p>",
        '<table class="meta">',
        f"<tr><td>{_t(texts, 'statement.participant')}</td><td>{escape(name)}</td></tr>",
        f"<tr><td>{_t(texts, 'statement.organisation')}</td><td>{escape(organisation)}</td></tr>",
        f"<tr><td>{_t(texts, 'doc.period')}</td><td>{escape(label)}</td></tr>",
        "</table>",
        "<table>" + "".join(rows) + "</table>",
        "<p><b>"
        + _t(texts, "statement.total", sessions=texts.count("werksessie", len(facts)), hours=total)
        + "</b></p>",
        '<table class="meta sign">',
        *(
            f"<tr><td>{_t(texts, 'statement.' + key)}</td><td></td></tr>"
            for key in ("supervisor", "register", "place_date", "signature")
        ),
        "</table>",
        f'<p class="note">{_t(texts, "statement.note")}</p>',
    ]
    html = _page(texts.get("reflectieverslag.statement.title"), texts.language, body)
    return Statement(name, len(facts), _hours(minutes), html)
