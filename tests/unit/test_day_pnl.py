"""Today's P&L of the account (app/core/snapshot.day_pnl): what it is worth now less what it was worth
at yesterday's close, from today's fills, so a restart gives the same figure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from app.core.messages import PositionSnapshot
from app.core.snapshot import DayFlows, day_pnl
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


# ---------------------------------------------------------------- DayFlows: the engine's running fold
_codes = st.sampled_from(["600000.SH", "000001.SZ", "688981.SH"])
_trades = st.lists(
    st.tuples(
        _codes,
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 10**6),
        st.decimals("0.01", "99999.99", places=2),
        st.decimals("0", "999.99", places=2),
    ),
    max_size=12,
)
# what happens to the OMS's dict of the day's fills between two account events
_steps = st.lists(
    st.tuples(st.sampled_from(["add", "replace_whole", "drop_one", "swap_one"]), _trades),
    max_size=8,
)


@given(_steps)
def test_the_running_fold_always_equals_the_fold_from_scratch(steps) -> None:
    positions = [_pos("600000.SH", 1000, "9.00", "10.20"), _pos("000001.SZ", 300, "11.00", None)]
    infos = {"600000.SH": _info("600000.SH", "10.00")}
    flows = DayFlows()
    trades: dict[str, TradeReport] = {}
    n = 0
    for kind, raw in steps:
        new = []
        for code, side, qty, price, fees in raw:
            n += 1
            new.append(_trade(n, code, side, qty, str(price), str(fees)))
        if kind == "add":
            trades.update((t.trade_id, t) for t in new)
        elif kind == "replace_whole":  # a new day, a reload: a new dict
            trades = {t.trade_id: t for t in new}
        elif kind == "drop_one" and trades:
            del trades[next(iter(trades))]
        elif kind == "swap_one" and trades and new:  # one out, one in: the count stays
            del trades[next(iter(trades))]
            trades[new[0].trade_id] = new[0]
        flows.follow(trades)
        assert flows.pnl(positions, infos) == day_pnl(positions, trades.values(), infos)


class _Read:
    """A fill that counts how often it is read."""

    reads = 0

    def __init__(self, trade: TradeReport) -> None:
        self._trade = trade

    def __getattr__(self, name: str):
        if name == "side":
            _Read.reads += 1
        return getattr(self._trade, name)


def test_the_running_fold_reads_each_fill_once_however_often_it_is_asked() -> None:
    trades = {str(i): _Read(_trade(i, "600000.SH", Side.BUY, 100, "10.00", "1.00")) for i in range(50)}
    flows = DayFlows()
    _Read.reads = 0
    for _ in range(20):  # twenty account events, no new fill
        flows.follow(trades)
    trades["x"] = _Read(_trade(99, "600000.SH", Side.SELL, 100, "10.50", "1.00"))
    flows.follow(trades)

    assert _Read.reads == 51
    assert flows.net_cash == D("-1001.00") * 50 + D("1049.00")
    assert flows.bought == {"600000.SH": 4900}
