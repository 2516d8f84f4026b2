"""The episode closing rules, case by case: exact dates, each rule's boundary day and the day before it."""

from datetime import date

import pytest

from ilp_api.ilp.episodes import EDD_PASSED, IDLE, NIFAS_ENDED, TURNED_18, Closure, EpisodeFacts, closure

BORN = date(1998, 3, 10)


@pytest.mark.parametrize(
    ("facts", "today", "expected"),
    [
        # A pregnancy: 42 days after the delivery (1 Aug + 42 d = 12 Sep).
        (
            EpisodeFacts("kehamilan", date(2026, 1, 5), BORN, date(2026, 8, 1), date(2026, 8, 1)),
            date(2026, 9, 11),
            None,
        ),
        (
            EpisodeFacts("kehamilan", date(2026, 1, 5), BORN, date(2026, 8, 1), date(2026, 8, 1)),
            date(2026, 9, 12),
            Closure(date(2026, 9, 12), NIFAS_ENDED),
        ),
        # No delivery recorded: EDD 1 Aug + 42 d + 30 d grace = 12 Oct, flagged.
        (
            EpisodeFacts("kehamilan", date(2026, 1, 5), BORN, date(2026, 7, 20), edd=date(2026, 8, 1)),
            date(2026, 10, 12),
            Closure(date(2026, 10, 12), EDD_PASSED, flagged=True),
        ),
        (
            EpisodeFacts("kehamilan", date(2026, 1, 5), BORN, date(2026, 7, 20), edd=date(2026, 8, 1)),
            date(2026, 10, 10),
            None,
        ),
        # The child's klaster-2 episode ends on the 18th birthday.
        (
            EpisodeFacts("siklus-hidup", date(2025, 1, 1), date(2008, 11, 20), date(2026, 10, 1)),
            date(2026, 11, 20),
            Closure(date(2026, 11, 20), TURNED_18),
        ),
        (
            EpisodeFacts("siklus-hidup", date(2025, 1, 1), date(2008, 11, 20), date(2026, 10, 1)),
            date(2026, 11, 19),
            None,
        ),
        # Born 29 Feb: 18 on 28 Feb of a common year.
        (
            EpisodeFacts("siklus-hidup", date(2025, 1, 1), date(2008, 2, 29), date(2026, 1, 1)),
            date(2026, 2, 28),
            Closure(date(2026, 2, 28), TURNED_18),
        ),
        # Any episode: 12 calendar months after the last visit, or the start when it had none.
        (
            EpisodeFacts("lainnya", date(2025, 1, 31), BORN, date(2025, 3, 31)),
            date(2026, 3, 31),
            Closure(date(2026, 3, 31), IDLE),
        ),
        (EpisodeFacts("lainnya", date(2025, 1, 31), BORN, date(2025, 3, 31)), date(2026, 3, 30), None),
        (EpisodeFacts("lainnya", date(2025, 1, 31), BORN), date(2026, 1, 31), Closure(date(2026, 1, 31), IDLE)),
        # Several apply: the earliest closes it. A pregnancy last seen in February 2024, EDD 1 Sep 2024, swept in
        # 2026: the EDD's grace ended on 12 Nov 2024, before the 12 idle months (1 Feb 2025).
        (
            EpisodeFacts("kehamilan", date(2024, 1, 5), BORN, date(2024, 2, 1), edd=date(2024, 9, 1)),
            date(2026, 1, 1),
            Closure(date(2024, 11, 12), EDD_PASSED, flagged=True),
        ),
        # … and a pregnancy with neither delivery nor EDD recorded ends only by the idle rule.
        (
            EpisodeFacts("kehamilan", date(2024, 1, 5), BORN, date(2024, 2, 1)),
            date(2026, 1, 1),
            Closure(date(2025, 2, 1), IDLE),
        ),
    ],
)
def test_an_episode_closes_on_the_day_its_rule_says(facts: EpisodeFacts, today: date, expected: Closure | None) -> None:
    assert closure(facts, today) == expected
