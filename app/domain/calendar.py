"""SSE/SZSE trading calendar.

Weekends are always closed, including the make-up working weekends of the official holiday
schedule. Weekday closures are data, not code: `calendar_closed.toml` next to this module is the
shipped list (2024–2026, with its sources), and a user's `calendar.toml` in the data folder
extends it (next year's closures and a later `known_until`) without a new release; see
`CalendarData` and `TradingCalendar.extended`. Outside the known range weekdays count as trading
days and `is_known` is False: `unknown_day_warning` and `horizon_warning` say so in words for the
engine's start of day and the doctor. When QMT is connected its calendar is the authority
(`TradingCalendar.from_trading_days`).
"""

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from app.domain.errors import DomainError

SHIPPED_FILE = "calendar_closed.toml"
USER_FILE = "calendar.toml"  # in the data folder
MAX_SPAN_DAYS = 31  # a "from..to" entry longer than this is a typo, not a holiday
HORIZON_TRADING_DAYS = 30  # the doctor warns this many trading days before the calendar ends


def _span(first: date, last: date) -> list[date]:
    """Weekdays from `first` to `last`, both inclusive."""
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


class CalendarDataError(DomainError, ValueError):
    """A calendar file that cannot be used: bad TOML, a bad date, a date outside its declared range."""


@dataclass(frozen=True, slots=True)
class CalendarData:
    """The contents of a calendar file: weekday closures and the range they are complete for."""

    closed: frozenset[date]
    known_until: date | None
    known_from: date | None = None
    sources: tuple[str, ...] = ()


_KEYS = ("known_from", "known_until", "closed", "sources")


def parse_calendar_data(text: str, *, source: str) -> CalendarData:
    """A calendar file's TOML text (see calendar_closed.toml for the format). Every problem is a
    CalendarDataError naming `source` and the bad entry."""
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM, as Windows Notepad writes
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarDataError(f"{source}: 不是有效的 TOML (not valid TOML): {exc}") from None
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise CalendarDataError(
            f"{source}: 未知的设置 (unknown key) {', '.join(unknown)}; 可用 (allowed): {', '.join(_KEYS)}"
        )
    known_from = _as_date(table["known_from"], source, "known_from") if "known_from" in table else None
    known_until = _as_date(table["known_until"], source, "known_until") if "known_until" in table else None
    if known_from and known_until and known_from > known_until:
        raise CalendarDataError(
            f"{source}: known_from {known_from} 晚于 (is after) known_until {known_until}"
        )
    sources = table.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise CalendarDataError(f"{source}: sources 应为字符串列表 (must be a list of texts)")
    entries = table.get("closed", [])
    if not isinstance(entries, list):
        raise CalendarDataError(
            f"{source}: closed 应为日期列表 (must be a list of dates), was {_show(entries)}"
        )
    closed: set[date] = set()
    for entry in entries:
        days = _closed_entry(entry, source)
        for day in days:
            if (known_until is not None and day > known_until) or (
                known_from is not None and day < known_from
            ):
                raise CalendarDataError(
                    f"{source}: 休市日 {day} 不在声明的范围内 (closed day outside the declared range "
                    f"{known_from or '…'}..{known_until or '…'}), was {_show(entry)}"
                )
        closed.update(days)
    return CalendarData(frozenset(closed), known_until, known_from, tuple(sources))


def _closed_entry(entry: Any, source: str) -> list[date]:
    if isinstance(entry, str) and ".." in entry:
        first_text, _, last_text = entry.partition("..")
        first = _as_date(first_text.strip(), source, "closed")
        last = _as_date(last_text.strip(), source, "closed")
        if first > last or (last - first).days > MAX_SPAN_DAYS:
            raise CalendarDataError(
                f"{source}: closed 的区间应为不超过 {MAX_SPAN_DAYS} 天的 起..止 (a span first..last of at most "
                f"{MAX_SPAN_DAYS} days), was {_show(entry)}"
            )
        return _span(first, last)
    day = _as_date(entry, source, "closed")
    if day.weekday() >= 5:
        raise CalendarDataError(
            f"{source}: {day} 是周末，周末总是休市，无需列出 (is a {day:%A}: weekends are always closed; "
            f"a weekend here is probably a typo), was {_show(entry)}"
        )
    return [day]


def _as_date(value: Any, source: str, key: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarDataError(f"{source}: {key} 应为日期 YYYY-MM-DD (must be a date), was {_show(value)}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _shipped() -> CalendarData:
    text = resources.files(__package__).joinpath(SHIPPED_FILE).read_text(encoding="utf-8")
    data = parse_calendar_data(text, source=SHIPPED_FILE)
    if data.known_from is None or data.known_until is None:
        raise CalendarDataError(f"{SHIPPED_FILE}: known_from and known_until must be set")
    return data


SHIPPED = _shipped()
CLOSED_WEEKDAYS: frozenset[date] = SHIPPED.closed
KNOWN_FROM: date = SHIPPED.known_from  # type: ignore[assignment]
KNOWN_UNTIL: date = SHIPPED.known_until  # type: ignore[assignment]


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

    def extended(self, data: CalendarData, *, source: str) -> "TradingCalendar":
        """This calendar with a user's file added: more closed days and a later `known_until`.

        Refused (CalendarDataError): a known_from (the start is Tiller's), a known_until earlier
        than this calendar's, closed days outside the known range, and a whole year added to the
        range with no closed weekday listed (raising known_until only to silence the warning)."""
        if data.known_from is not None:
            raise CalendarDataError(
                f"{source}: known_from 由 Tiller 自带的日历决定 (is set by the shipped calendar, "
                f"{self._known_from}); 请删除这一行 (remove it)"
            )
        until = self._known_until if data.known_until is None else data.known_until
        if until < self._known_until:
            raise CalendarDataError(
                f"{source}: known_until {until} 早于自带日历的 {self._known_until} "
                f"(must not be earlier than the shipped calendar's)"
            )
        for day in sorted(data.closed):
            if not self._known_from <= day <= until:
                raise CalendarDataError(
                    f"{source}: 休市日 {day} 不在日历范围 {self._known_from}..{until} 内 (closed day "
                    f"outside the known range; raise known_until to cover it), was {day}"
                )
        for year in range(self._known_until.year + 1, until.year + 1):
            if date(year, 12, 31) <= until and not any(day.year == year for day in data.closed):
                raise CalendarDataError(
                    f"{source}: known_until {until} 覆盖了 {year} 年，但没有列出 {year} 年的任何休市日 "
                    f"(covers {year} but lists none of its closed days: copy them from the exchanges' "
                    f"休市安排 notice)"
                )
        return TradingCalendar(
            data.closed, known_from=self._known_from, known_until=until, closed=self._closed
        )

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


def unknown_day_warning(calendar: TradingCalendar, day: date) -> tuple[str, str] | None:
    """(level, message) when a trading day starts on a date the calendar cannot vouch for, else None:
    a date past its range ("warning": a holiday may be traded as a normal day) or a date it says is
    closed ("error")."""
    if not calendar.is_known(day):
        return (
            "warning",
            f"交易日历不包含 {day}（已知范围 {calendar.known_from}..{calendar.known_until}），节假日可能被当作"
            f"交易日；请在数据文件夹的 {USER_FILE} 中补充交易所休市安排 (the trading calendar does not know "
            f"{day}: it covers {calendar.known_from}..{calendar.known_until}, so a holiday would be traded "
            f"as a normal day; add the exchanges' closed days to {USER_FILE} in the data folder)",
        )
    if not calendar.is_trading_day(day):
        return (
            "error",
            f"交易日历显示 {day} 休市 (the calendar says the exchanges are closed on {day}, a {day:%A})",
        )
    return None


def horizon_warning(
    calendar: TradingCalendar, today: date, trading_days: int = HORIZON_TRADING_DAYS
) -> str | None:
    """A sentence when `today` or any of the next `trading_days` trading days lies beyond what the
    calendar knows, else None (for the doctor)."""
    if not calendar.is_known(today):
        return (
            f"今天 {today} 不在交易日历范围内（{calendar.known_from}..{calendar.known_until}），节假日会被当作交易日 "
            f"(today is beyond the trading calendar, which ends on {calendar.known_until}: holidays would "
            f"be traded as normal days)"
        )
    day = today
    for _ in range(trading_days):
        day = calendar.next_trading_day(day)
        if not calendar.is_known(day):
            return (
                f"交易日历只到 {calendar.known_until}，不足未来 {trading_days} 个交易日 (the trading calendar "
                f"ends on {calendar.known_until}, within the next {trading_days} trading days: after it "
                f"holidays would be traded as normal days)"
            )
    return None
