"""Bars for the charts: a day's minute bars (分时) and daily candles, and where they come from.

A `Bar` is plain data (Decimal prices, shares, yuan). `minute_bars` folds one instrument's quote
snapshots into minute bars: a snapshot's volume and amount are cumulative for the day, so a bar's
volume is the rise of the cumulative volume within its minute, and `avg_price` (均价) is the day's
cumulative amount over cumulative volume at the bar's close. The auction snapshots before the open
print carry no trade (volume 0) and make no bar.

`BarHistory` is the port a feed offers for what came before the window opened: the day so far,
and daily candles before today (the synthetic feed makes both, app.feeds.history).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Protocol

from app.domain.market import Quote


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar; `ts` is the bar's start (the minute, or the day at 00:00 +08:00)."""

    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int  # shares traded in the bar
    amount: Decimal  # yuan traded in the bar
    avg_price: Decimal | None = None  # the day's average price at the bar's close (minute bars)


class BarHistory(Protocol):
    """Bars from before now, for the charts (off the GUI thread: these may read files or the network)."""

    def intraday(self, code: str, day: date, until: time) -> list[Bar]:
        """Minute bars of `day` up to wall-clock time `until` (CN), oldest first."""
        ...

    def daily(self, code: str, before: date, count: int) -> list[Bar]:
        """Up to `count` daily candles of the trading days before `before`, oldest first."""
        ...


def minute_bars(quotes: Iterable[Quote]) -> list[Bar]:
    """Minute bars of ONE instrument's snapshots (in time order); see the module's docstring."""
    bars: list[Bar] = []
    minute: datetime | None = None
    o = h = lo = c = Decimal(0)
    start_volume, start_amount = 0, Decimal(0)  # cumulative at the end of the previous bar
    volume, amount = 0, Decimal(0)
    for q in quotes:
        if q.volume <= 0 or q.last <= 0 or q.suspended:
            continue  # auction indications and empty snapshots: no trade yet
        m = q.ts.replace(second=0, microsecond=0)
        if minute is not None and m != minute:
            bars.append(
                _bar(minute, o, h, lo, c, volume - start_volume, amount - start_amount, volume, amount)
            )
            start_volume, start_amount = volume, amount
            minute = None
        if minute is None:
            minute, o, h, lo = m, q.last, q.last, q.last
        h, lo, c = max(h, q.last), min(lo, q.last), q.last
        volume, amount = max(volume, q.volume), max(amount, q.amount)
    if minute is not None:
        bars.append(_bar(minute, o, h, lo, c, volume - start_volume, amount - start_amount, volume, amount))
    return bars


def _bar(
    minute: datetime, o: Decimal, h: Decimal, lo: Decimal, c: Decimal, volume: int, amount: Decimal,
    day_volume: int, day_amount: Decimal,
) -> Bar:  # fmt: skip
    avg = (day_amount / day_volume).quantize(Decimal("0.0001")) if day_volume else None
    return Bar(minute, o, h, lo, c, volume, amount, avg)
