"""Schedule rules: what people type → a cron rule → words, and the next fire times.

Cron rules are stored with day *names* (``0 15 * * fri``): APScheduler numbers weekdays from
Monday = 0 while crontab uses Sunday = 0, and names mean the same to both. Fire times come from
APScheduler's CronTrigger with the zone given explicitly, so they follow the local clock across
the March and October changes; an hour that occurs twice in October still fires once.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays
from apscheduler.triggers.cron import CronTrigger
from cron_descriptor import ExpressionDescriptor, Options

from handlers.core import language as language_names

if TYPE_CHECKING:
    from prompts import Texts

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRONTAB_NUMBERS = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri",
                    "6": "sat", "7": "sun"}  # fmt: skip
DAY_WORDS = {
    "mon": ("maandag", "ma", "monday", "mo"),
    "tue": ("dinsdag", "di", "tuesday", "tu", "tues"),
    "wed": ("woensdag", "wo", "wednesday", "we"),
    "thu": ("donderdag", "do", "thursday", "th", "thurs"),
    "fri": ("vrijdag", "vr", "friday", "fr"),
    "sat": ("zaterdag", "za", "saturday", "sa"),
    "sun": ("zondag", "zo", "sunday", "su"),
}
_WORD_TO_DAY = {word: day for day, words in DAY_WORDS.items() for word in words}
_WEEKDAYS = {"werkdagen", "werkdag", "weekdagen", "weekdays", "weekday"}
_DAILY = {"dagelijks", "daily", "dag", "day"}
_FILLER = {"elke", "iedere", "op", "om", "every", "on", "at", "en", "and", "uur", "s", "u", "de"}
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?(?:u|h)?$")


class RuleError(ValueError):
    """A rule we cannot read. The message (English) is for logs and the command line;
    ``explain(texts)`` says what was wrong in the person's language (``schedule.errors.<key>``);
    the caller adds examples."""

    def __init__(self, message: str, key: str = "invalid", **params: str) -> None:
        super().__init__(message)
        self.key = key
        self.params = params

    def explain(self, texts: Texts) -> str:
        params = dict(self.params)
        if "field" in params:
            params["field"] = texts.get(f"schedule.fields.{params['field']}")
        return texts.rich(f"schedule.errors.{self.key}", **params).plain()


def parse_rule(text: str) -> str:
    """``vrijdag 15:00``, ``elke maandag en donderdag om 9.30``, ``werkdagen 16u``,
    ``dagelijks 9:00``, ``friday 3:00``, or a five-field cron rule → a cron rule."""
    raw = text.strip().lower()
    if not raw:
        raise RuleError("empty rule", "empty")
    fields = raw.split()
    if len(fields) == 5 and all(re.fullmatch(r"[0-9*/,\-a-z]+", f) for f in fields):
        return _normalise_cron(fields)
    days: list[str] = []
    time: tuple[int, int] | None = None
    for token in re.split(r"[\s,]+", raw.replace("'s", " ")):
        token = token.strip(".")
        if not token or token in _FILLER:
            continue
        if token in _WORD_TO_DAY:
            days.append(_WORD_TO_DAY[token])
        elif token in _WEEKDAYS:
            days.extend(DAYS[:5])
        elif token in _DAILY:
            days.extend(DAYS)
        elif (match := _TIME.match(token)) is not None:
            hour, minute = int(match.group(1)), int(match.group(2) or 0)
            if hour > 23 or minute > 59:
                raise RuleError(f"no such time: {token}", "no_such_time", value=token)
            time = (hour, minute)
        else:
            raise RuleError(f"unknown word: {token}", "unknown_word", value=token)
    if time is None:
        raise RuleError("no time of day", "no_time")
    if not days:
        raise RuleError("no day", "no_day")
    unique = sorted(set(days), key=DAYS.index)
    dow = "*" if len(unique) == 7 else ",".join(unique)
    return f"{time[1]} {time[0]} * * {dow}"


def _normalise_cron(fields: list[str]) -> str:
    minute, hour, dom, month, dow = fields
    if dow != "*":
        dow = re.sub(r"\d", lambda m: _CRONTAB_NUMBERS[m.group(0)], dow)
    rule = " ".join((minute, hour, dom, month, dow))
    try:
        CronTrigger.from_crontab(rule, timezone=ZoneInfo("UTC"))
    except ValueError as exc:
        # Name the field that is wrong; APScheduler's own message is English.
        names = ("minute", "hour", "day", "month", "day_of_week")
        for name, value in zip(names, (minute, hour, dom, month, dow), strict=True):
            try:
                CronTrigger(**{name: value}, timezone=ZoneInfo("UTC"))
            except ValueError:
                raise RuleError(
                    f"invalid cron rule: {exc}", "cron_field", field=name, value=value
                ) from None
        raise RuleError(f"invalid cron rule: {exc}", "cron", value=rule) from None
    return rule


def next_fire(rule: str, zone: str, after: datetime) -> datetime:
    """The first fire time strictly after ``after`` (aware), in UTC.

    A wall-clock time that occurs twice (the October change) fires only the first time.
    """
    tz = ZoneInfo(zone)
    trigger = _trigger(rule, zone)
    candidate = trigger.get_next_fire_time(None, _step(after, tz))
    for _ in range(4):  # at most one repeated hour can be in the way
        if candidate is None or not _is_repeated_hour(candidate, tz):
            break
        candidate = trigger.get_next_fire_time(candidate, _step(candidate, tz))
    if candidate is None:
        raise RuleError("rule never fires", "never")
    return candidate.astimezone(ZoneInfo("UTC"))


def _step(moment: datetime, tz: ZoneInfo) -> datetime:
    """One second later, computed in UTC so the fold of a repeated hour is kept right."""
    return (moment.astimezone(ZoneInfo("UTC")) + timedelta(seconds=1)).astimezone(tz)


def _is_repeated_hour(moment: datetime, tz: ZoneInfo) -> bool:
    """True for the second occurrence of a local time (e.g. 02:30 on the last Sunday of
    October, which happens once in summer time and again an hour later in winter time)."""
    utc = moment.astimezone(ZoneInfo("UTC"))  # arithmetic within one zone is wall-clock time
    local = utc.astimezone(tz).replace(tzinfo=None)
    hour_before = (utc - timedelta(hours=1)).astimezone(tz).replace(tzinfo=None)
    return local == hour_before


@cache
def _trigger(rule: str, zone: str) -> CronTrigger:
    return CronTrigger.from_crontab(rule, timezone=ZoneInfo(zone))


@cache
def _nl_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("NL", years=year, language="nl"))


def holiday_name(day: date) -> str | None:
    """The Dutch public holiday on this date, if any."""
    return _nl_holidays(day.year).get(day)


def describe(rule: str, day_names: dict[str, str], phrases: dict[str, str], language: str) -> str:
    """A rule in words: ``elke vrijdag om 15:00``. Unusual rules fall back to cron-descriptor
    with day names translated."""
    minute, hour, dom, month, dow = rule.split()
    if minute.isdigit() and hour.isdigit() and dom == "*" and month == "*":
        at = f"{int(hour):02d}:{int(minute):02d}"
        days = dow.split(",") if dow != "*" else []
        if not days:
            return phrases["daily"].format(time=at)
        if days == list(DAYS[:5]) or dow == "mon-fri":
            return phrases["weekdays"].format(time=at)
        if all(d in DAYS for d in days):
            names = [day_names[d] for d in days]
            joined = (
                names[0]
                if len(names) == 1
                else (", ".join(names[:-1]) + f" {phrases['and']} " + names[-1])
            )
            return phrases["weekly"].format(days=joined, time=at)
    options = Options()
    options.locale_code = "nl_NL" if language == "nl" else "en_US"
    options.use_24hour_time_format = True
    text = ExpressionDescriptor(rule, options).get_description()
    # cron-descriptor writes day and month names in the process's (English) locale; the
    # names in the texts' language come from the texts and from Babel.
    english = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    for day, word in zip(DAYS, english, strict=True):
        text = re.sub(rf"\b{word}\b", day_names[day], text, flags=re.IGNORECASE)
    months = language_names.month_names(language)
    for number, word in language_names.month_names("en").items():
        text = re.sub(rf"\b{word}\b", months[number], text, flags=re.IGNORECASE)
    return text


def describe_rule(rule: str, texts: Texts) -> str:
    """A rule in words, in the texts' language."""
    days = {d: texts.get(f"schedule.days.{d}") for d in DAYS}
    phrases = {p: texts.get(f"schedule.words.{p}") for p in ("daily", "weekdays", "weekly", "and")}
    return describe(rule, days, phrases, texts.language)
