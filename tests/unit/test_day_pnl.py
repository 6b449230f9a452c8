"""Today's P&L of the account (app/core/snapshot.day_pnl): what it is worth now less what it was worth
at yesterday's close, from today's fills, so a restart gives the same figure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

from app.core.messages import PositionSnapshot
from app.core.snapshot import day_pnl
from app.domain.clock import CN_TZ
from app.domain.identifiers import BrokerOrderId, TradeId
from app.domain.market import InstrumentInfo
from app.domain.reports import TradeReport
from app.domain.side import Side

DAY = date(2026, 11, 23)
TS = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)


def _info(code: str, prev: str) -> InstrumentInfo:
    return InstrumentInfo(code, "", DAY, D(prev), None, None, D("0.01"))


def _pos(code: str, total: int, cost: str, last: str | None) -> PositionSnapshot:
    return PositionSnapshot(code, total, total, 0, 0, D(cost), D(0), None if last is None else D(last))


def _trade(n: int, code: str, side: Side, qty: int, price: str, fees: str) -> TradeReport:
    p = D(price)
    return TradeReport(TradeId(str(n)), BrokerOrderId(str(n)), None, code, side, qty, p, p * qty, D(fees), TS)


def test_carried_position_only_then_its_move_from_the_previous_close() -> None:
    pnl = day_pnl([_pos("600000.SH", 1000, "9.00", "10.20")], [], {"600000.SH": _info("600000.SH", "10.00")})

    assert pnl == D("200.00")  # 1000 × (10.20 − 10.00); the cost does not matter


def test_bought_today_then_last_less_price_less_fees() -> None:
    trades = [_trade(1, "600000.SH", Side.BUY, 500, "10.10", "5.00")]
    positions = [_pos("600000.SH", 1500, "9.50", "10.20")]

    pnl = day_pnl(positions, trades, {"600000.SH": _info("600000.SH", "10.00")})

    # carried 1000 × 0.20 = 200, bought 500 × (10.20 − 10.10) = 50, fees 5
    assert pnl == D("245.00")


def test_sold_out_today_then_price_against_the_previous_close_less_fees() -> None:
    trades = [_trade(1, "000001.SZ", Side.SELL, 1000, "11.50", "16.50")]

    pnl = day_pnl([], trades, {"000001.SZ": _info("000001.SZ", "11.37")})

    assert pnl == D("130.00") - D("16.50")


def test_unknown_previous_close_then_only_todays_trades_count() -> None:
    trades = [_trade(1, "688981.SH", Side.BUY, 200, "90.00", "5.00")]
    positions = [_pos("688981.SH", 700, "80.00", "91.00")]

    assert day_pnl(positions, trades, {}) == D("200") - D("5.00")


def test_no_positions_no_trades_then_zero() -> None:
    assert day_pnl([], [], {}) == 0
