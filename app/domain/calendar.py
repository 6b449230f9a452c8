"""SSE/SZSE trading calendar.

Weekends are always closed, including the make-up working weekends of the official holiday
schedule. Weekday closures for 2024–2026 are shipped below; outside the known range weekdays
count as trading days and `is_known` is False so callers can warn.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta


def _span(first: date, last: date) -> list[date]:
    """Weekdays from `first` to `last`, both inclusive."""
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


# Weekday closures from the SSE/SZSE "休市安排" notices, which follow the State Council
# General Office holiday notices (国办发明电〔2023〕7号 for 2024, 〔2024〕12号 for 2025,
# the 2026 notice of November 2025). Cross-checked with exchange_calendars XSHG.
_CLOSED_2024 = [
    date(2024, 1, 1),  # New Year
    date(2024, 2, 9),  # Spring Festival: 2-9 and 2-12..2-16
    *_span(date(2024, 2, 12), date(2024, 2, 16)),
    date(2024, 4, 4),  # Qingming
    date(2024, 4, 5),
    *_span(date(2024, 5, 1), date(2024, 5, 3)),  # Labour Day
    date(2024, 6, 10),  # Dragon Boat
    date(2024, 9, 16),  # Mid-Autumn
    date(2024, 9, 17),
    *_span(date(2024, 10, 1), date(2024, 10, 7)),  # National Day: 10-1..10-4, 10-7
]
_CLOSED_2025 = [
    date(2025, 1, 1),  # New Year
    *_span(date(2025, 1, 28), date(2025, 2, 4)),  # Spring Festival: 1-28..1-31, 2-3, 2-4
    date(2025, 4, 4),  # Qingming
    *_span(date(2025, 5, 1), date(2025, 5, 5)),  # Labour Day: 5-1, 5-2, 5-5
    date(2025, 6, 2),  # Dragon Boat
    *_span(date(2025, 10, 1), date(2025, 10, 8)),  # National Day + Mid-Autumn: 10-1..10-3, 10-6..10-8
]
_CLOSED_2026 = [
    date(2026, 1, 1),  # New Year: 1-1, 1-2
    date(2026, 1, 2),
    *_span(date(2026, 2, 16), date(2026, 2, 23)),  # Spring Festival: 2-16..2-20, 2-23
    date(2026, 4, 6),  # Qingming
    *_span(date(2026, 5, 1), date(2026, 5, 5)),  # Labour Day: 5-1, 5-4, 5-5
    date(2026, 6, 19),  # Dragon Boat
    date(2026, 9, 25),  # Mid-Autumn
    *_span(date(2026, 10, 1), date(2026, 10, 7)),  # National Day: 10-1, 10-2, 10-5..10-7
]

CLOSED_WEEKDAYS: frozenset[date] = frozenset(_CLOSED_2024 + _CLOSED_2025 + _CLOSED_2026)
KNOWN_FROM = date(2024, 1, 1)
KNOWN_UNTIL = date(2026, 12, 31)


class TradingCalendar:
    """Which days SSE/SZSE trade.

    `extra_closed` adds closures (e.g. an unscheduled closure, or next year's holidays together
    with a later `known_until`). `from_trading_days` builds one from a list of trading days
    such as QMT's `get_trading_calendar`.
    """

    __slots__ = ("_closed", "_known_from", "_known_until")

    def __init__(
        self,
        extra_closed: Iterable[date] = (),
        *,
        known_from: date = KNOWN_FROM,
        known_until: date = KNOWN_UNTIL,
        closed: Iterable[date] | None = None,
    ) -> None:
        """`closed` replaces the shipped weekday closures (default: CLOSED_WEEKDAYS)."""
        _check_date(known_from, "known_from")
        _check_date(known_until, "known_until")
        if known_from > known_until:
            raise ValueError(f"known_from must not be after known_until {known_until}, was {known_from}")
        base = list(CLOSED_WEEKDAYS if closed is None else closed)
        extra = list(extra_closed)
        for day in base + extra:
            _check_date(day, "closed date")
        self._closed = frozenset(base + extra)
        self._known_from = known_from
        self._known_until = known_until

    @classmethod
    def from_trading_days(cls, days: Iterable[date]) -> "TradingCalendar":
        """A calendar known from the first to the last of `days`; weekdays in between that are
        not listed are closed. Weekends in `days` are refused (weekends never trade)."""
        listed = set(days)
        if not listed:
            raise ValueError("from_trading_days needs at least one trading day, was empty")
        for day in listed:
            _check_date(day, "trading day")
            if day.weekday() >= 5:
                raise ValueError(f"weekends are never trading days, was {day} ({day:%A})")
        first, last = min(listed), max(listed)
        closed = [day for day in _span(first, last) if day not in listed]
        return cls(closed=closed, known_from=first, known_until=last)

    @property
    def known_from(self) -> date:
        return self._known_from

    @property
    def known_until(self) -> date:
        return self._known_until

    def is_known(self, d: date) -> bool:
        """True if the holiday schedule for `d` is loaded (else weekdays are assumed open)."""
        _check_date(d, "d")
        return self._known_from <= d <= self._known_until

    def is_trading_day(self, d: date) -> bool:
        _check_date(d, "d")
        return d.weekday() < 5 and d not in self._closed

    def next_trading_day(self, d: date) -> date:
        """The first trading day strictly after `d`."""
        _check_date(d, "d")
        day = d + timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def previous_trading_day(self, d: date) -> date:
        """The last trading day strictly before `d`."""
        _check_date(d, "d")
        day = d - timedelta(days=1)
        while not self.is_trading_day(day):
            day -= timedelta(days=1)
        return day

    def trading_days(self, start: date, end: date) -> list[date]:
        """Trading days from `start` to `end`, both inclusive."""
        _check_date(start, "start")
        _check_date(end, "end")
        if start > end:
            raise ValueError(f"start must not be after end {end}, was {start}")
        return [day for day in _span(start, end) if day not in self._closed]


def _check_date(value: date, what: str) -> None:
    # datetime is a date subclass but never equals a date, so it would silently miss holidays.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime.date, was {type(value).__name__} {value!r}")


DEFAULT_CALENDAR = TradingCalendar()
