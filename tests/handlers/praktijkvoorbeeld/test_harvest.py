"""The score chart of a praktijkvoorbeeld in the harvest: one bar per score from the lowest to
the highest given, scaled to the most frequent, gaps shown as zero."""

from __future__ import annotations

from handlers.praktijkvoorbeeld.harvest import BAR_WIDTH, score_chart


def test_no_scores_no_chart() -> None:
    assert score_chart([]) == []


def test_one_score_is_one_full_bar() -> None:
    assert score_chart([10]) == ["10 │" + "█" * BAR_WIDTH + " 1"]


def test_bars_are_scaled_to_the_most_frequent_and_gaps_are_zero() -> None:
    chart = score_chart([0, 3, 3, 3, 3, 2, 8])
    assert chart == [
        " 0 │█████ 1",
        " 1 │ 0",
        " 2 │█████ 1",
        " 3 │" + "█" * BAR_WIDTH + " 4",
        " 4 │ 0",
        " 5 │ 0",
        " 6 │ 0",
        " 7 │ 0",
        " 8 │█████ 1",
    ]


def test_a_rare_score_among_many_still_shows_a_bar() -> None:
    chart = score_chart([5] * 100 + [6])
    assert chart[1] == " 6 │█ 1"
