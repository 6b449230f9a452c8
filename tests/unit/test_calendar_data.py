"""The calendar's closed days as data: the shipped file, a user's file that extends it, and the
warnings for dates the calendar does not know."""

from datetime import date
from pathlib import Path

import pytest

import app.domain
from app.domain.calendar import (
    CLOSED_WEEKDAYS,
    DEFAULT_CALENDAR,
    KNOWN_UNTIL,
    SHIPPED,
    SHIPPED_FILE,
    CalendarDataError,
    horizon_warning,
    parse_calendar_data,
    unknown_day_warning,
)

USER_2027 = """
known_until = 2027-12-31
sources = ["a test: the dates below are made up"]
closed = [
    2027-01-01,
    "2027-02-08..2027-02-12",
]
"""


def extend(text: str):
    return DEFAULT_CALENDAR.extended(
        parse_calendar_data(text, source="calendar.toml"), source="calendar.toml"
    )


def test_the_shipped_file_is_package_data_next_to_the_module() -> None:
    shipped = Path(app.domain.__file__).with_name(SHIPPED_FILE)
    assert shipped.is_file()
    assert SHIPPED.known_until == KNOWN_UNTIL == date(2026, 12, 31)
    assert SHIPPED.closed == CLOSED_WEEKDAYS and len(CLOSED_WEEKDAYS) == 57
    assert any("2026" in source for source in SHIPPED.sources)


def test_pyproject_ships_the_calendar_file() -> None:
    pyproject = Path(app.domain.__file__).parents[2] / "pyproject.toml"
    assert '"app.domain" = ["*.toml"]' in pyproject.read_text(encoding="utf-8")
    # tests/integration/test_packaging.py checks that the built wheel really carries it


def test_nothing_of_2027_is_guessed() -> None:
    assert not [day for day in CLOSED_WEEKDAYS if day.year > 2026]
    assert DEFAULT_CALENDAR.is_known(date(2027, 1, 1)) is False


def test_a_user_file_extends_the_calendar() -> None:
    calendar = extend(USER_2027)

    assert calendar.known_until == date(2027, 12, 31)
    assert calendar.is_trading_day(date(2027, 1, 1)) is False
    assert calendar.trading_days(date(2027, 2, 5), date(2027, 2, 15)) == [date(2027, 2, 5), date(2027, 2, 15)]
    assert calendar.is_trading_day(date(2026, 10, 1)) is False  # the shipped closures stay
    assert unknown_day_warning(calendar, date(2027, 1, 4)) is None


def test_a_bom_at_the_start_is_accepted() -> None:
    assert extend("\ufeff" + USER_2027).is_trading_day(date(2027, 1, 1)) is False


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("known_until = 2027-12-31\nclosed = [2027-13-01]", "not valid TOML"),
        ('known_until = 2027-12-31\nclosed = ["2027-02-30"]', "must be a date"),
        ("known_until = 2027-12-31\nclosed = [20270101]", "must be a date"),
        ("known_until = 2027-12-31\nclosed = [2027-01-01T09:30:00]", "must be a date"),
        ("known_until = 2027-06-30\nclosed = [2027-01-01, 2027-10-01]", "outside the declared range"),
        ("known_until = 2027-12-31\nclosed = [2027-01-02]", "weekends are always closed"),
        ('known_until = 2027-12-31\nclosed = ["2027-02-12..2027-02-08"]', "a span first..last"),
        ('known_until = 2027-12-31\nclosed = ["2027-01-01..2027-12-31"]', "a span first..last"),
        ("known_until = 2027-12-31\nclose = [2027-01-01]", "unknown key"),
        ("known_until = 2027-12-31\nclosed = 2027-01-01", "must be a list"),
        ('known_until = "soon"', "known_until"),
        ("known_until = 2026-06-30", "must not be earlier"),
        ("known_from = 2020-01-01\nknown_until = 2027-12-31\nclosed = [2027-01-01]", "known_from"),
        ("known_until = 2027-12-31", "lists none of its closed days"),
        ("known_until = 2028-12-31\nclosed = [2027-01-01]", "covers 2028"),
        ("closed = [2027-01-01]", "outside the known range"),
        ("closed = [2023-12-29]", "outside the known range"),
    ],
)
def test_a_bad_user_file_is_a_clear_error(text: str, match: str) -> None:
    with pytest.raises(CalendarDataError, match=match) as caught:
        extend(text)
    assert "calendar.toml" in str(caught.value)


def test_unknown_day_warning_says_a_holiday_would_be_traded() -> None:
    level, message = unknown_day_warning(DEFAULT_CALENDAR, date(2027, 1, 1))  # New Year's Day 2027

    assert level == "warning"
    assert "2027-01-01" in message and "2026-12-31" in message and "calendar.toml" in message


def test_unknown_day_warning_for_a_day_the_calendar_says_is_closed() -> None:
    level, message = unknown_day_warning(DEFAULT_CALENDAR, date(2026, 10, 1))
    assert level == "error" and "closed on 2026-10-01" in message


def test_no_warning_on_a_known_trading_day() -> None:
    assert unknown_day_warning(DEFAULT_CALENDAR, date(2026, 12, 2)) is None


@pytest.mark.parametrize(
    ("today", "warns"),
    [
        (date(2026, 10, 12), False),  # more than 30 trading days left
        (date(2026, 12, 2), True),  # today: the calendar ends in four weeks
        (date(2027, 1, 4), True),  # today itself unknown
    ],
)
def test_horizon_warning(today: date, warns: bool) -> None:
    assert (horizon_warning(DEFAULT_CALENDAR, today) is not None) is warns


def test_horizon_warning_goes_away_once_the_user_file_adds_next_year() -> None:
    assert horizon_warning(extend(USER_2027), date(2026, 12, 2)) is None
    assert "today" in (horizon_warning(DEFAULT_CALENDAR, date(2027, 1, 4)) or "")
