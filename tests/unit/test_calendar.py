from datetime import date, datetime, timedelta

import pytest

from app.domain.calendar import (
    CLOSED_WEEKDAYS,
    DEFAULT_CALENDAR,
    KNOWN_UNTIL,
    TradingCalendar,
)


def days(first: str, last: str | None = None) -> list[date]:
    start = date.fromisoformat(first)
    end = date.fromisoformat(last) if last else start
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# Weekday closures as listed by exchange_calendars' XSHG, written out independently of the module.
EXPECTED_CLOSURES = {
    2024: [
        *days("2024-01-01"),
        *days("2024-02-09"),
        *days("2024-02-12", "2024-02-16"),
        *days("2024-04-04", "2024-04-05"),
        *days("2024-05-01", "2024-05-03"),
        *days("2024-06-10"),
        *days("2024-09-16", "2024-09-17"),
        *days("2024-10-01", "2024-10-04"),
        *days("2024-10-07"),
    ],
    2025: [
        *days("2025-01-01"),
        *days("2025-01-28", "2025-01-31"),
        *days("2025-02-03", "2025-02-04"),
        *days("2025-04-04"),
        *days("2025-05-01", "2025-05-02"),
        *days("2025-05-05"),
        *days("2025-06-02"),
        *days("2025-10-01", "2025-10-03"),
        *days("2025-10-06", "2025-10-08"),
    ],
    2026: [
        *days("2026-01-01", "2026-01-02"),
        *days("2026-02-16", "2026-02-20"),
        *days("2026-02-23"),
        *days("2026-04-06"),
        *days("2026-05-01"),
        *days("2026-05-04", "2026-05-05"),
        *days("2026-06-19"),
        *days("2026-09-25"),
        *days("2026-10-01", "2026-10-02"),
        *days("2026-10-05", "2026-10-07"),
    ],
}


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_closed_weekdays_match_the_exchange_schedule(year):
    shipped = sorted(d for d in CLOSED_WEEKDAYS if d.year == year)

    assert shipped == EXPECTED_CLOSURES[year]


@pytest.mark.parametrize(("year", "count"), [(2024, 242), (2025, 243), (2026, 242)])
def test_trading_days_per_year(year, count):
    assert len(DEFAULT_CALENDAR.trading_days(date(year, 1, 1), date(year, 12, 31))) == count


@pytest.mark.parametrize("closed", [d for year in EXPECTED_CLOSURES.values() for d in year])
def test_is_trading_day_false_on_holidays(closed):
    assert closed.weekday() < 5
    assert DEFAULT_CALENDAR.is_trading_day(closed) is False


@pytest.mark.parametrize(
    "make_up_day",
    # official make-up working days (调休上班): offices work, the exchanges stay closed
    [
        "2024-02-04",
        "2024-02-18",
        "2024-04-07",
        "2024-04-28",
        "2024-05-11",
        "2024-09-14",
        "2024-09-29",
        "2024-10-12",
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ],
)
def test_is_trading_day_false_on_make_up_weekends(make_up_day):
    day = date.fromisoformat(make_up_day)

    assert day.weekday() >= 5
    assert DEFAULT_CALENDAR.is_trading_day(day) is False


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-01-27", True),  # Monday before the Spring Festival closure
        ("2025-02-05", True),  # first day after it
        ("2025-03-15", False),  # ordinary Saturday
        ("2025-03-16", False),  # ordinary Sunday
        ("2025-03-17", True),
        ("2026-07-06", True),  # the day the 2026 rules take effect
        ("2026-12-31", True),
    ],
)
def test_is_trading_day_ordinary_days(day, expected):
    assert DEFAULT_CALENDAR.is_trading_day(date.fromisoformat(day)) is expected


@pytest.mark.parametrize(
    ("day", "next_day"),
    [
        ("2024-02-08", "2024-02-19"),  # Spring Festival 2024
        ("2025-01-27", "2025-02-05"),  # Spring Festival 2025
        ("2025-01-30", "2025-02-05"),  # from inside the closure
        ("2026-02-13", "2026-02-24"),  # Spring Festival 2026
        ("2025-09-30", "2025-10-09"),  # National Day 2025
        ("2024-12-31", "2025-01-02"),  # across the year
        ("2025-03-14", "2025-03-17"),  # Friday -> Monday
        ("2025-03-15", "2025-03-17"),  # Saturday -> Monday
        ("2025-03-17", "2025-03-18"),  # strictly after a trading day
        ("2026-12-31", "2027-01-01"),  # beyond the known range weekdays are assumed open
    ],
)
def test_next_trading_day(day, next_day):
    assert DEFAULT_CALENDAR.next_trading_day(date.fromisoformat(day)) == date.fromisoformat(next_day)


@pytest.mark.parametrize(
    ("day", "previous_day"),
    [
        ("2024-02-19", "2024-02-08"),
        ("2025-02-05", "2025-01-27"),
        ("2026-02-24", "2026-02-13"),
        ("2026-02-20", "2026-02-13"),  # from inside the closure
        ("2025-01-02", "2024-12-31"),
        ("2026-01-05", "2025-12-31"),  # skips 2026-01-01/02 and the weekend
        ("2025-03-17", "2025-03-14"),
        ("2025-03-18", "2025-03-17"),  # strictly before a trading day
    ],
)
def test_previous_trading_day(day, previous_day):
    assert DEFAULT_CALENDAR.previous_trading_day(date.fromisoformat(day)) == date.fromisoformat(previous_day)


def test_trading_days_is_inclusive_and_skips_closures():
    result = DEFAULT_CALENDAR.trading_days(date(2025, 1, 24), date(2025, 2, 6))

    assert result == [date(2025, 1, 24), date(2025, 1, 27), date(2025, 2, 5), date(2025, 2, 6)]


def test_trading_days_single_day():
    assert DEFAULT_CALENDAR.trading_days(date(2025, 2, 5), date(2025, 2, 5)) == [date(2025, 2, 5)]
    assert DEFAULT_CALENDAR.trading_days(date(2025, 2, 3), date(2025, 2, 3)) == []


def test_trading_days_start_after_end_raises():
    with pytest.raises(ValueError, match="start must not be after end 2025-02-01, was 2025-02-05"):
        DEFAULT_CALENDAR.trading_days(date(2025, 2, 5), date(2025, 2, 1))


@pytest.mark.parametrize(
    ("day", "known"),
    [("2023-12-29", False), ("2024-01-01", True), ("2026-12-31", True), ("2027-01-01", False)],
)
def test_is_known_covers_2024_to_2026(day, known):
    assert DEFAULT_CALENDAR.is_known(date.fromisoformat(day)) is known


def test_beyond_known_range_weekdays_count_as_trading_days():
    new_year_2027 = date(2027, 1, 1)  # a Friday, surely a holiday, but not loaded yet

    assert DEFAULT_CALENDAR.known_until == KNOWN_UNTIL == date(2026, 12, 31)
    assert DEFAULT_CALENDAR.is_trading_day(new_year_2027) is True
    assert DEFAULT_CALENDAR.is_known(new_year_2027) is False
    assert DEFAULT_CALENDAR.is_trading_day(date(2027, 1, 2)) is False  # Saturday


def test_extra_closed_and_known_until_extend_the_calendar():
    calendar = TradingCalendar(
        extra_closed=[date(2027, 1, 1), date(2027, 2, 8)], known_until=date(2027, 12, 31)
    )

    assert calendar.is_trading_day(date(2027, 1, 1)) is False
    assert calendar.is_trading_day(date(2027, 2, 8)) is False
    assert calendar.is_known(date(2027, 6, 1)) is True
    assert calendar.is_trading_day(date(2025, 1, 28)) is False  # shipped closures kept
    assert calendar.next_trading_day(date(2026, 12, 31)) == date(2027, 1, 4)
    assert DEFAULT_CALENDAR.is_trading_day(date(2027, 2, 8)) is True  # default untouched


def test_closed_replaces_the_shipped_closures():
    calendar = TradingCalendar(closed=[date(2025, 3, 17)])

    assert calendar.is_trading_day(date(2025, 3, 17)) is False
    assert calendar.is_trading_day(date(2025, 1, 28)) is True


def test_from_trading_days_closes_unlisted_weekdays():
    listed = [date(2027, 2, 1), date(2027, 2, 2), date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 8)]

    calendar = TradingCalendar.from_trading_days(listed)

    assert calendar.known_from == date(2027, 2, 1)
    assert calendar.known_until == date(2027, 2, 8)
    assert calendar.is_trading_day(date(2027, 2, 3)) is False
    assert calendar.trading_days(date(2027, 2, 1), date(2027, 2, 8)) == listed
    assert calendar.is_known(date(2027, 2, 9)) is False
    assert calendar.is_trading_day(date(2027, 2, 9)) is True


def test_from_trading_days_matches_the_default_calendar():
    listed = DEFAULT_CALENDAR.trading_days(date(2024, 1, 2), date(2026, 12, 31))

    calendar = TradingCalendar.from_trading_days(listed)

    for day in days("2024-01-02", "2026-12-31"):
        assert calendar.is_trading_day(day) is DEFAULT_CALENDAR.is_trading_day(day)


def test_from_trading_days_refuses_weekends_and_empty():
    with pytest.raises(ValueError, match="weekends are never trading days, was 2025-02-08"):
        TradingCalendar.from_trading_days([date(2025, 2, 7), date(2025, 2, 8)])
    with pytest.raises(ValueError, match="empty"):
        TradingCalendar.from_trading_days([])


@pytest.mark.parametrize("value", [datetime(2025, 2, 5, 9, 30), "2025-02-05", 20250205, None])
@pytest.mark.parametrize(
    "method",
    ["is_trading_day", "is_known", "next_trading_day", "previous_trading_day"],
)
def test_methods_refuse_non_date(method, value):
    with pytest.raises(TypeError, match=r"must be a datetime\.date"):
        getattr(DEFAULT_CALENDAR, method)(value)


def test_trading_days_refuses_non_date():
    with pytest.raises(TypeError, match=r"end must be a datetime\.date"):
        DEFAULT_CALENDAR.trading_days(date(2025, 1, 1), "2025-02-01")


def test_constructor_refuses_bad_input():
    with pytest.raises(TypeError, match="closed date"):
        TradingCalendar(extra_closed=[datetime(2027, 1, 1)])
    with pytest.raises(TypeError, match="known_until"):
        TradingCalendar(known_until="2027-12-31")
    with pytest.raises(ValueError, match="known_from must not be after known_until"):
        TradingCalendar(known_from=date(2027, 1, 1), known_until=date(2026, 12, 31))
