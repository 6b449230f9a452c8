"""Tiller's books and the simulated broker's agree to the digit on average cost, through real
fills on real threads: one rounding policy (app.domain.money) on both sides."""

from decimal import ROUND_DOWN, ROUND_UP
from decimal import Decimal as D
from pathlib import Path

from app.core.books_check import BrokerBooks, LocalBooks, compare_books
from app.core.oms import NewOrder
from app.domain.money import COST_QUANTUM
from app.domain.side import Side
from app.feeds import InstrumentSpec
from tests.helpers.engine_day import at, make_setup, open_day, settle

CODES = [
    InstrumentSpec("600000.SH", prev_close=D("10.00")),
    InstrumentSpec("510300.SH", prev_close=D("3.913")),
]


def test_average_costs_agree_after_buys_at_many_prices_and_partial_sells(tmp_path: Path) -> None:
    setup = make_setup(tmp_path, 11, codes=CODES, positions=[("600000.SH", 3000, D("9.8765"))])
    try:
        open_day(setup)
        for minute in range(0, 50, 7):
            at(setup, 10, minute)
            for code, qty, tick in (("600000.SH", 300, D("0.01")), ("510300.SH", 1700, D("0.001"))):
                last = setup.engine.call(lambda e, code=code: e.oms.last_prices[code])
                price = (last * D("1.005")).quantize(tick, ROUND_UP)
                setup.engine.submit([NewOrder(code, Side.BUY, qty, price)])
            settle(setup)
            last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])
            price = (last * D("0.995")).quantize(D("0.01"), ROUND_DOWN)
            setup.engine.submit([NewOrder("600000.SH", Side.SELL, 100 * (1 + minute % 3), price)])
            settle(setup)

        mine = setup.engine.call(
            lambda e: {p.code: (p.total, p.avg_cost) for p in e.oms.positions.values() if p.total}
        )
        theirs = {p.code: (p.total, p.avg_price) for p in setup.broker.query_positions() if p.total}
        alerts = setup.engine.call(lambda e: [a.message for a in e.alerts])
        assert mine == theirs, alerts
        assert mine["510300.SH"][0] > 1700 and mine["600000.SH"][0] != 3000  # several fills happened
        assert all(avg == avg.quantize(COST_QUANTUM) for _, avg in mine.values())
        realized = setup.engine.call(lambda e: e.oms.positions["600000.SH"].realized_pnl)
        assert realized != 0 and realized == realized.quantize(D("0.01"))

        local = setup.engine.call(
            lambda e: LocalBooks(
                e.oms.cash.cash,
                {c: t for c, (t, _) in mine.items()},
                [],
                [],
                {c: a for c, (_, a) in mine.items()},
            )
        )
        broker = BrokerBooks(setup.broker.query_asset(), setup.broker.query_positions(), [], [])
        assert compare_books(local, broker) == []
    finally:
        setup.close()
