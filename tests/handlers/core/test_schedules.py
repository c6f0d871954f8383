"""Schedule rules: parsing, words, fire times across both 2026 DST changes, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.core.schedules import RuleError, holiday_name, next_fire, parse_rule
from handlers.reflection.chat import describe_rule
from prompts import load_texts

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    "typed,cron",
    [
        ("vrijdag 15:00", "0 15 * * fri"),
        ("elke vrijdag om 15:00", "0 15 * * fri"),
        ("Elke maandag en donderdag om 9.30", "30 9 * * mon,thu"),
        ("werkdagen 16u", "0 16 * * mon,tue,wed,thu,fri"),
        ("dagelijks 9:00", "0 9 * * *"),
        ("every friday at 15:00", "0 15 * * fri"),
        ("ma, wo, vr 8:45", "45 8 * * mon,wed,fri"),
        ("0 15 * * 5", "0 15 * * fri"),  # crontab numbering: 5 is Friday
        ("0 15 * * 0", "0 15 * * sun"),
        ("0 9 * * 1-5", "0 9 * * mon-fri"),
    ],
)
def test_rules_people_type_become_cron_with_day_names(typed: str, cron: str) -> None:
    assert parse_rule(typed) == cron


@pytest.mark.parametrize(
    "typed", ["", "vrijdag", "15:00", "maandag 25:00", "morgenochtend 9:00", "0 15 * * funday"]
)
def test_unreadable_rules_raise(typed: str) -> None:
    with pytest.raises(RuleError):
        parse_rule(typed)


def test_rules_in_words_nl_and_en() -> None:
    nl, en = load_texts("nl"), load_texts("en")
    assert describe_rule("0 15 * * fri", nl) == "elke vrijdag om 15:00"
    assert describe_rule("30 9 * * mon,thu", nl) == "elke maandag en donderdag om 09:30"
    assert describe_rule("0 16 * * mon,tue,wed,thu,fri", nl) == "op werkdagen om 16:00"
    assert describe_rule("0 9 * * *", nl) == "elke dag om 09:00"
    assert describe_rule("0 15 * * fri", en) == "every Friday at 15:00"
    unusual = describe_rule("0 9 1 * mon", nl)
    assert "maandag" in unusual and "Monday" not in unusual


def test_weekly_time_stays_local_across_the_march_change() -> None:
    first = next_fire("0 15 * * fri", "Europe/Amsterdam", datetime(2026, 3, 23, 9, tzinfo=AMS))
    second = next_fire("0 15 * * fri", "Europe/Amsterdam", first)
    assert first.astimezone(AMS) == datetime(2026, 3, 27, 15, tzinfo=AMS)
    assert second.astimezone(AMS) == datetime(2026, 4, 3, 15, tzinfo=AMS)
    assert first.hour == 14 and second.hour == 13  # UTC moves, the local time does not


def test_weekly_time_stays_local_across_the_october_change() -> None:
    first = next_fire("0 15 * * fri", "Europe/Amsterdam", datetime(2026, 10, 20, 9, tzinfo=AMS))
    second = next_fire("0 15 * * fri", "Europe/Amsterdam", first)
    assert first.astimezone(AMS) == datetime(2026, 10, 23, 15, tzinfo=AMS)
    assert second.astimezone(AMS) == datetime(2026, 10, 30, 15, tzinfo=AMS)
    assert (first.hour, second.hour) == (13, 14)


def test_repeated_hour_in_october_fires_once() -> None:
    fires = []
    moment = datetime(2026, 10, 24, 12, tzinfo=AMS)
    for _ in range(3):
        moment = next_fire("30 2 * * *", "Europe/Amsterdam", moment)
        fires.append(moment)
    local_days = [f.astimezone(AMS).date() for f in fires]
    assert local_days == [date(2026, 10, 25), date(2026, 10, 26), date(2026, 10, 27)]
    assert fires[0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time


def test_skipped_hour_in_march_still_fires_that_day() -> None:
    moment = next_fire("30 2 * * *", "Europe/Amsterdam", datetime(2026, 3, 28, 12, tzinfo=AMS))
    assert moment.astimezone(AMS).date() == date(2026, 3, 29)
    following = next_fire("30 2 * * *", "Europe/Amsterdam", moment)
    assert following.astimezone(AMS) == datetime(2026, 3, 30, 2, 30, tzinfo=AMS)


def test_dutch_public_holidays() -> None:
    assert holiday_name(date(2026, 4, 27)) == "Koningsdag"
    assert holiday_name(date(2026, 12, 25)) is not None
    assert holiday_name(date(2026, 4, 28)) is None
