"""SyntheticHistory: the bars before now for a synthetic day (a `BarHistory`, app.core.bars).

Intraday: the same instrument alone in a `SyntheticFeed` with the same seed walks the same path
(a path depends only on the seed, the code, the day and the spec), so the minute bars up to now are
the ones the live stream showed. Daily candles before today: a seeded walk backwards from today's
previous close, inside each day's price limits, so the last candle closes where today starts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from app.core.bars import Bar, minute_bars
from app.domain.calendar import DEFAULT_CALENDAR, TradingCalendar
from app.domain.clock import CN_TZ
from app.domain.instruments import classify
from app.feeds.synthetic import SyntheticFeed
from app.feeds.universe import InstrumentSpec

MAX_DAILY = 1000


class SyntheticHistory:
    def __init__(
        self,
        instruments: Sequence[InstrumentSpec] | Sequence[str],
        *,
        seed: int = 7,
        levels: int = 5,
        limit_up: Collection[str] = (),
        limit_down: Collection[str] = (),
        calendar: TradingCalendar = DEFAULT_CALENDAR,
    ) -> None:
        self._specs = {
            classify(s if isinstance(s, str) else s.code).code: (
                InstrumentSpec(s) if isinstance(s, str) else s
            )
            for s in instruments
        }
        self._seed, self._levels, self._calendar = seed, levels, calendar
        self._limit_up, self._limit_down = set(limit_up), set(limit_down)

    def _feed(self, code: str) -> SyntheticFeed:
        spec = self._specs.get(code)
        if spec is None:
            raise KeyError(f"not an instrument of this feed, was {code!r}")
        return SyntheticFeed(
            [spec], seed=self._seed, levels=self._levels, calendar=self._calendar,
            limit_up=[code] if code in self._limit_up else (),
            limit_down=[code] if code in self._limit_down else (),
        )  # fmt: skip

    def intraday(self, code: str, day: date, until: time) -> list[Bar]:
        feed = self._feed(code)
        quotes = []
        for ts, batch in feed.batches(day):
            if ts.time() > until:
                break
            quotes.extend(batch)
        return minute_bars(quotes)

    def daily(self, code: str, before: date, count: int) -> list[Bar]:
        if not 0 <= count <= MAX_DAILY:
            raise ValueError(f"count must be from 0 to {MAX_DAILY}, was {count}")
        info = self._feed(code).instruments(before)[0]
        tick = info.tick
        days: list[date] = []
        d = before
        while len(days) < count:
            try:
                d = self._calendar.previous_trading_day(d)
            except ValueError:
                break  # before the calendar's range
            days.append(d)
        close = info.prev_close
        bars: list[Bar] = []
        pct = 0.2 if classify(code).board.value in ("chinext", "star") else 0.1
        for d in days:  # newest first, walking back
            rng = random.Random(f"daily|{self._seed}|{code}|{d.isoformat()}")
            change = max(-pct * 0.95, min(pct * 0.95, rng.gauss(0.0, pct / 4)))
            prev = float(close) / (1.0 + change)
            open_ = prev * (1.0 + rng.uniform(-0.3, 0.3) * abs(change) + rng.gauss(0, 0.003))
            high = max(open_, float(close)) * (1.0 + abs(rng.gauss(0, 0.008)))
            low = min(open_, float(close)) * (1.0 - abs(rng.gauss(0, 0.008)))
            high, low = min(high, prev * (1 + pct)), max(low, prev * (1 - pct))
            volume = int(rng.lognormvariate(math.log(5e6), 0.5)) // 100 * 100
            o, h, lo = (_price(x, tick) for x in (open_, high, low))
            h, lo = max(h, o, close), min(lo, o, close)
            amount = (Decimal(volume) * (o + close) / 2).quantize(Decimal("0.01"))
            bars.append(Bar(datetime.combine(d, time(0), CN_TZ), o, h, lo, close, volume, amount))
            close = _price(prev, tick)
        bars.reverse()
        return bars


def _price(value: float, tick: Decimal) -> Decimal:
    ticks = max(1, round(value / float(tick)))
    return (Decimal(ticks) * tick).quantize(tick, rounding=ROUND_HALF_UP)
