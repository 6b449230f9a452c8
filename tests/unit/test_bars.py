"""Minute bars from quote snapshots (app/core/bars.py) and the synthetic feed's bar history."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from decimal import Decimal as D

import pytest

from app.core.bars import minute_bars
from app.domain.clock import CN_TZ
from app.domain.market import Quote
from app.feeds import InstrumentSpec, SyntheticFeed
from app.feeds.history import SyntheticHistory

DAY = date(2026, 11, 23)


def q(hh: int, mm: int, ss: int, last: str, volume: int, amount: str) -> Quote:
    price = D(last)
    ts = datetime.combine(DAY, time(hh, mm, ss), CN_TZ)
    return Quote("600000.SH", ts, price, price, price, price, D("10.00"), volume, D(amount))


def test_minute_bars_take_volume_from_the_rise_of_the_cumulative_volume_and_skip_the_auction() -> None:
    quotes = [
        q(9, 20, 0, "9.90", 0, "0"),  # auction indication: no trade
        q(9, 25, 0, "9.95", 1000, "9950"),  # the open print
        q(9, 30, 3, "10.00", 1500, "14950"),
        q(9, 30, 57, "9.98", 2500, "24930"),
        q(9, 31, 0, "10.02", 2600, "25932"),
    ]
    bars = minute_bars(quotes)
    assert [b.ts.time() for b in bars] == [time(9, 25), time(9, 30), time(9, 31)]
    assert [b.volume for b in bars] == [1000, 1500, 100]
    assert sum(b.volume for b in bars) == quotes[-1].volume
    assert (bars[1].open, bars[1].high, bars[1].low, bars[1].close) == (
        D("10.00"),
        D("10.00"),
        D("9.98"),
        D("9.98"),
    )
    assert bars[1].amount == D("14980")
    assert bars[2].avg_price == (D("25932") / 2600).quantize(D("0.0001"))


def test_a_cumulative_volume_that_goes_back_never_makes_a_negative_bar() -> None:
    bars = minute_bars([q(9, 30, 0, "10", 1000, "10000"), q(9, 31, 0, "10", 900, "9000")])
    assert [b.volume for b in bars] == [1000, 0]


def test_history_intraday_bars_are_the_live_streams_bars() -> None:
    specs = [
        InstrumentSpec("600000.SH", prev_close=D("10.00")),
        InstrumentSpec("000001.SZ", prev_close=D("11.37")),
    ]
    feed = SyntheticFeed(specs, seed=3)
    live = [quote for ts, batch in feed.batches(DAY) if ts.time() <= time(10, 0) for quote in batch]
    expected = minute_bars([x for x in live if x.code == "000001.SZ"])
    assert SyntheticHistory(specs, seed=3).intraday("000001.SZ", DAY, time(10, 0)) == expected


def test_daily_candles_end_at_the_previous_close_inside_the_limits_and_repeat_for_a_seed() -> None:
    specs = [InstrumentSpec("300750.SZ", prev_close=D("210.00"))]
    history = SyntheticHistory(specs, seed=9)
    bars = history.daily("300750.SZ", DAY, 60)
    assert len(bars) == 60
    assert bars[-1].close == D("210.00")
    assert all(b.ts.date() < DAY for b in bars)
    assert [b.ts for b in bars] == sorted(b.ts for b in bars)
    for before, bar in itertools.pairwise(bars):
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert abs(bar.close / before.close - 1) <= D("0.2") + D("0.001")  # ChiNext: ±20%
    assert bars == SyntheticHistory(specs, seed=9).daily("300750.SZ", DAY, 60)
    with pytest.raises(ValueError, match="count"):
        history.daily("300750.SZ", DAY, 10**6)
    with pytest.raises(KeyError):
        history.daily("600000.SH", DAY, 5)
