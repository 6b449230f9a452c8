"""The engine on real threads, a real SQLite file and the simulated broker's own file."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.bootstrap import SimSetup
from app.core.messages import (
    AlertRaised,
    CancelOrder,
    OrderUpdated,
    StartDay,
    SubmitOrders,
    TradeBooked,
)
from app.core.oms import NewOrder
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus
from app.domain.side import Side
from tests.helpers.engine_day import DAY, at, books, make_setup, next_day, open_day, settle


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[SimSetup]:
    setup = open_day(make_setup(tmp_path, 3))
    yield setup
    setup.close()


def test_a_marketable_buy_fills_and_the_books_equal_the_brokers(setup: SimSetup) -> None:
    events: list = []
    setup.engine.subscribe(events.append)
    at(setup, 10, 0)
    last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])

    [cid] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 1000, last + D("0.05"))])
    settle(setup)

    order = setup.engine.call(lambda e: e.oms.orders[cid])
    assert order.status is OrderStatus.FILLED
    local, broker = books(setup)
    assert local == broker
    assert local[1]["600000.SH"] == 1000
    assert any(isinstance(e, TradeBooked) for e in events)
    assert [e.order.status for e in events if isinstance(e, OrderUpdated) and e.order.client_order_id == cid][
        -1
    ] is OrderStatus.FILLED


def test_an_order_is_on_disk_before_the_broker_hears_of_it(setup: SimSetup) -> None:
    at(setup, 10, 0)
    seen_on_disk: list[bool] = []
    real_submit = setup.broker.submit

    def spy(orders):
        import sqlite3

        conn = sqlite3.connect(f"file:{setup.db_path}?mode=ro", uri=True)
        for order in orders:
            row = conn.execute(
                "SELECT status FROM orders WHERE client_order_id = ?", (order.client_order_id,)
            )
            seen_on_disk.append(row.fetchone() == ("submitted",))
        conn.close()
        real_submit(orders)

    setup.broker.submit = spy  # type: ignore[method-assign]
    setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, D("10.00")) for _ in range(3)])
    settle(setup)
    assert seen_on_disk == [True, True, True]


def test_dropped_connection_then_restored_catches_up_without_resending(setup: SimSetup) -> None:
    at(setup, 10, 0)
    last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])
    [resting] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 500, last - D("0.30"))])
    settle(setup)
    sent_before = len(setup.broker.query_orders())

    setup.broker.drop_connection("网络中断 (test)")
    settle(setup)
    [while_down] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, last)])
    # the market comes down to the resting order while Tiller hears nothing
    setup.clock.advance_to(datetime.combine(DAY, time(10, 30), CN_TZ))
    quote = setup.feed.snapshot(DAY, time(10, 30))
    crossed = next(q for q in quote if q.code == "600000.SH")
    crossing = replace(crossed, ask_prices=(last - D("0.30"),), ask_volumes=(1_000_000,))
    setup.broker.on_quotes([crossing])
    settle(setup)
    assert setup.engine.call(lambda e: e.oms.orders[resting].status) is OrderStatus.ACCEPTED

    setup.broker.restore_connection()
    settle(setup)

    assert setup.engine.call(lambda e: e.oms.orders[resting].status) is OrderStatus.FILLED
    down = setup.engine.call(lambda e: e.oms.orders[while_down])
    assert down.status is OrderStatus.REJECTED and "未连接" in down.status_msg
    assert len(setup.broker.query_orders()) == sent_before  # nothing sent while down, nothing resent
    local, broker = books(setup)
    assert local == broker
    alerts = setup.engine.call(lambda e: [a.message for a in e.alerts])
    assert any("断开" in a for a in alerts)


def test_restart_on_the_same_files_keeps_everything_and_sends_nothing(tmp_path: Path) -> None:
    first = open_day(make_setup(tmp_path, 3))
    at(first, 10, 0)
    last = first.engine.call(lambda e: e.oms.last_prices["600000.SH"])
    ids = first.engine.submit(
        [
            NewOrder("600000.SH", Side.BUY, 300, last + D("0.05")),
            NewOrder("600000.SH", Side.BUY, 200, last - D("0.20")),
        ]
    )
    settle(first)
    before = books(first)
    statuses = first.engine.call(lambda e: {c: e.oms.orders[c].status for c in ids})
    first.close()

    second = make_setup(tmp_path, 3)
    second.clock.advance_to(datetime.combine(DAY, time(10, 1), CN_TZ))
    open_day(second)

    assert books(second) == before
    assert second.engine.call(lambda e: {c: e.oms.orders[c].status for c in ids}) == statuses
    assert statuses[ids[1]] is OrderStatus.ACCEPTED  # the resting order still works after the restart
    assert len(second.broker.query_orders()) == 2
    second.close()


def test_a_failing_handler_becomes_an_alert_and_the_loop_goes_on(setup: SimSetup) -> None:
    at(setup, 10, 0)
    setup.engine.post(object())
    setup.engine.post(CancelOrder("NOPE"))  # type: ignore[arg-type]
    settle(setup)

    [cid] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, D("10.00"))])
    settle(setup)
    alerts = setup.engine.call(lambda e: list(e.alerts))
    assert any(isinstance(a, AlertRaised) and "object" in a.message for a in alerts)
    assert setup.engine.call(lambda e: e.oms.orders[cid].status) is not OrderStatus.INITIALIZED


def test_a_failed_commit_sends_nothing_and_says_so(setup: SimSetup) -> None:
    at(setup, 10, 0)
    orders_before = len(setup.broker.query_orders())

    def break_the_commit_after_this_one(engine):
        real = engine.store.commit
        calls = []

        def failing():
            calls.append(1)
            if len(calls) == 1:
                return real()  # this batch's own commit
            engine.store.commit = real
            raise OSError("disk full (test)")

        engine.store.commit = failing

    setup.engine.call(break_the_commit_after_this_one)
    setup.engine.post(SubmitOrders([NewOrder("600000.SH", Side.BUY, 100, D("10.00"))]))
    settle(setup)

    assert len(setup.broker.query_orders()) == orders_before
    alerts = setup.engine.call(lambda e: [a for a in e.alerts if a.level == "critical"])
    assert alerts and "1 笔委托未发送" in alerts[-1].message
    orders = setup.engine.call(lambda e: list(e.oms.orders.values()))
    assert [o.status for o in orders] == [OrderStatus.REJECTED]
    assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0


def test_a_cancel_reaches_the_broker_and_releases_the_cash(setup: SimSetup) -> None:
    at(setup, 10, 0)
    available = setup.engine.call(lambda e: e.oms.cash.available)
    [cid] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 1000, D("9.50"))])
    settle(setup)
    assert setup.engine.call(lambda e: e.oms.cash.available) < available

    setup.engine.post(CancelOrder(cid))
    settle(setup)

    assert setup.engine.call(lambda e: e.oms.orders[cid].status) is OrderStatus.CANCELLED
    assert setup.engine.call(lambda e: e.oms.cash.available) == available


def test_the_terminal_facade_gives_snapshots_and_takes_commands(setup: SimSetup) -> None:
    from app.core.terminal import Terminal

    terminal = Terminal(setup.engine)
    at(setup, 10, 0)
    [resting, denied] = terminal.submit(
        [NewOrder("600000.SH", Side.BUY, 1000, D("9.60")), NewOrder("600000.SH", Side.BUY, 150, D("9.60"))]
    )
    settle(setup)

    assert terminal.order(denied).status is OrderStatus.DENIED
    assert terminal.account().frozen > 0
    terminal.cancel_all(Side.BUY)
    settle(setup)
    snapshot = terminal.order(resting)
    assert snapshot.status is OrderStatus.CANCELLED
    with pytest.raises(AttributeError):
        snapshot.status = OrderStatus.FILLED  # type: ignore[misc]  # snapshots are frozen
    assert terminal.account().frozen == 0
    assert [p.code for p in terminal.positions()] == ["000001.SZ"]
    assert terminal.order("NOPE") is None  # type: ignore[arg-type]


def test_a_new_trading_day_settles_yesterdays_buys(setup: SimSetup) -> None:
    at(setup, 10, 0)
    last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])
    setup.engine.submit([NewOrder("600000.SH", Side.BUY, 500, last + D("0.05"))])
    settle(setup)
    sellable = setup.engine.call(lambda e: e.oms.positions["600000.SH"].sellable)
    assert sellable == 0

    next_day = date(2026, 11, 24)
    setup.engine.post(StartDay(next_day, ()))
    settle(setup)

    assert setup.engine.call(lambda e: e.oms.positions["600000.SH"].sellable) == 500
    [cid] = setup.engine.submit([NewOrder("600000.SH", Side.SELL, 100, last)])
    assert cid.startswith("T261124")


NEXT_DAY = date(2026, 11, 24)


def test_a_later_start_day_moves_the_engines_day_and_forgets_yesterdays_quotes(setup: SimSetup) -> None:
    at(setup, 10, 0)
    assert setup.engine.call(lambda e: e.trading_day) == DAY
    assert setup.terminal.quotes()  # yesterday's quotes are there during yesterday

    infos = [
        replace(i, trading_day=NEXT_DAY, prev_close=D("12.00"), up_limit=D("13.20"), down_limit=D("10.80"))
        if i.code == "600000.SH"
        else i
        for i in setup.feed.instruments(NEXT_DAY)
    ]
    next_day(setup, NEXT_DAY, infos)

    assert setup.engine.call(lambda e: e.trading_day) == NEXT_DAY
    assert setup.terminal.quotes() == {}  # the window shows no quote of yesterday as today's
    assert setup.engine.call(lambda e: dict(e.risk.quotes)) == {}
    assert setup.engine.call(lambda e: dict(e.execution.quotes)) == {}
    # before today's first quote, the last price is today's reference (the close), not yesterday's last
    assert setup.engine.call(lambda e: e.oms.last_prices["600000.SH"]) == D("12.00")

    # In continuous trading before today's first quote, the price cage is today's (prev close 12.00):
    # yesterday's quote (ask about 10.0) would have put it near 10.2 and denied this buy.
    setup.clock.advance_to(datetime.combine(NEXT_DAY, time(9, 31), CN_TZ))
    [cid] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, D("12.20"))])
    settle(setup)
    order = setup.engine.call(lambda e: e.oms.orders[cid])
    assert order.status is not OrderStatus.DENIED, order.status_msg
    assert cid.startswith("T261124")

    at(setup, 10, 0, day=NEXT_DAY)  # today's quotes arrive and are today's
    assert {q.ts.date() for q in setup.terminal.quotes().values()} == {NEXT_DAY}


def test_an_execution_line_of_the_later_day_keeps_that_days_times(setup: SimSetup) -> None:
    from app.core.execution import ExecutionRequest

    at(setup, 10, 0)
    next_day(setup, NEXT_DAY)
    at(setup, 9, 59, day=NEXT_DAY)
    request = ExecutionRequest(
        "L", "strat", "000001.SZ", Side.SELL, 400, "twap",
        {"start": "10:00", "end": "10:40", "slices": "4", "offset_ticks": "20", "reprice_s": "3600"},
    )  # fmt: skip
    setup.engine.call(lambda e: e.execution.start(request))
    settle(setup)
    at(setup, 10, 0, day=NEXT_DAY)

    kids = setup.engine.call(lambda e: [o.created_at for o in e.oms.orders.values() if o.signal_id == "L"])
    assert kids == [datetime.combine(NEXT_DAY, time(10, 0), CN_TZ)]  # the first slice only, not all four
