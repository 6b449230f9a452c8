"""Performance figures on a known equity series, and the attribution of a day's P&L to strategies."""

from __future__ import annotations

import math
import statistics
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.eod.performance import AttributedTrade, DayEquity, attribute, performance_series, sharpe
from app.domain.side import Side

DAYS = [date(2026, 11, d) for d in (23, 24, 25, 26, 27)]


def test_known_series_gives_the_hand_computed_figures() -> None:
    series = [
        DayEquity(DAYS[0], D("110")),
        DayEquity(DAYS[1], D("99")),
        DayEquity(DAYS[2], D("108.9")),
        DayEquity(DAYS[3], D("108.9")),
        DayEquity(DAYS[4], D("208.9"), net_transfer=D("100")),  # money paid in is not a return
    ]
    perf = performance_series(series, opening_equity=D("100"))

    assert [p.daily_return for p in perf] == [D("0.1"), D("-0.1"), D("0.1"), D("0"), D("0")]
    assert [p.pnl for p in perf] == [D("10"), D("-11"), D("9.9"), D("0"), D("0")]
    assert [p.cumulative_return for p in perf] == [D("0.1"), D("-0.01"), D("0.089"), D("0.089"), D("0.089")]
    assert [p.max_drawdown for p in perf] == [D("0"), D("0.1"), D("0.1"), D("0.1"), D("0.1")]
    assert perf[0].sharpe is None  # one return: no spread yet
    returns = [0.1, -0.1, 0.1, 0.0, 0.0]
    expected = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    assert float(perf[-1].sharpe) == pytest.approx(expected, abs=1e-7)


def test_without_an_opening_equity_the_first_day_is_the_base() -> None:
    perf = performance_series([DayEquity(DAYS[1], D("90")), DayEquity(DAYS[0], D("100"))])
    assert [p.day for p in perf] == DAYS[:2]  # put in day order
    assert perf[0].daily_return == 0 and perf[1].daily_return == D("-0.1")
    assert perf[1].max_drawdown == D("0.1")


def test_a_day_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="once"):
        performance_series([DayEquity(DAYS[0], D("1")), DayEquity(DAYS[0], D("2"))])


def test_flat_returns_have_no_sharpe() -> None:
    assert sharpe([D("0.01")] * 5) is None


def test_attribution_marks_each_strategys_fills_to_the_close_and_the_rest_is_the_accounts() -> None:
    trades = [
        AttributedTrade("A", "600000.SH", Side.BUY, 100, D("10.00"), D("1.00")),
        AttributedTrade("B", "000001.SZ", Side.SELL, 100, D("12.00"), D("2.00")),
        AttributedTrade("", "000001.SZ", Side.BUY, 100, D("11.50"), D("1.00")),  # a hand-typed order
    ]
    lines = attribute(trades, {"600000.SH": D("11.00"), "000001.SZ": D("11.00")}, D("500"), {"A": 2, "B": 1})
    by = {line.strategy_id: line for line in lines}
    assert by["A"].pnl == D("99.00") and by["A"].orders == 2 and by["A"].bought == D("1000.00")
    assert by["B"].pnl == D("98.00") and by["B"].sold == D("1200.00") and by["B"].fees == D("2.00")
    assert by[""].pnl == D("303.00")
    assert sum(line.pnl for line in lines) == D("500")


money = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", ""]), st.sampled_from(list(Side)), st.integers(1, 10**6), money, money
        ),
        max_size=20,
    ),
    money,
)
def test_attribution_always_adds_up_to_the_days_pnl(raw, day_pnl) -> None:
    trades = [
        AttributedTrade(s, "600000.SH", side, q, abs(p) + D("0.01"), abs(f)) for s, side, q, p, f in raw
    ]
    lines = attribute(trades, {"600000.SH": D("10.00")}, day_pnl)
    assert sum(line.pnl for line in lines) == day_pnl


@given(st.lists(st.decimals(min_value=1, max_value=10**9, places=2), min_size=1, max_size=30))
def test_drawdown_is_a_fraction_and_never_shrinks(equities) -> None:
    perf = performance_series(
        [DayEquity(date.fromordinal(DAYS[0].toordinal() + i), e) for i, e in enumerate(equities)]
    )
    drawdowns = [p.max_drawdown for p in perf]
    assert all(D(0) <= d <= 1 for d in drawdowns)  # 1 only when rounded to 8 places
    assert drawdowns == sorted(drawdowns)
