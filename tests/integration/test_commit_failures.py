"""A commit that fails (disk full, I/O error) on a real SQLite file, with the real simulated broker.

The failure is made by SQLite itself: a TEMP trigger on one table aborts the batch's transaction at
that table's statement (the store writes signal lines, orders, events, trades, positions, cash,
meta, alerts in that order), or the store's commit raises before its first statement. Afterwards the
engine must have rebuilt its books from the file and resynced with the broker: no fill twice, no
client order id used twice, and Tiller's books equal to the broker's, also after a restart.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.bootstrap import SimSetup
from app.core.books_check import BrokerBooks, LocalBooks, compare_books
from app.core.engine import Engine, TradingHaltedError
from app.core.messages import Call, CancelOrder, SubmitOrders
from app.core.oms import NewOrder
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus
from app.domain.side import Side
from app.storage import open_database
from app.storage.oms_store import SqliteOmsStore
from tests.helpers.engine_day import DAY, WAIT, at, make_setup, open_day, settle


def cross(setup: SimSetup, code: str, price: D) -> None:
    """The market comes down to `price` with plenty on offer: a resting buy there fills."""
    quote = next(q for q in setup.feed.snapshot(DAY, time(10, 30)) if q.code == code)
    setup.broker.on_quotes([replace(quote, ask_prices=(price,), ask_volumes=(1_000_000,))])


def in_one_batch(engine: Engine, actions: Callable[[], None]) -> None:
    """Hold the engine while `actions` queue their messages, so that one batch (one commit) gets them all."""
    gate, entered = threading.Event(), threading.Event()
    engine.post(Call(lambda e: (entered.set(), gate.wait(WAIT))))
    assert entered.wait(WAIT)
    try:
        actions()
    finally:
        gate.set()


def arm_fault(engine: Engine, point: str) -> None:
    """Make the commit of the batch this lands in fail once at `point`: 'commit' (before its first
    statement) or a table. Posted, not waited for: it goes into the batch being gathered."""

    def arm(e: Engine) -> None:
        if point == "commit":
            real = e.store.commit

            def failing() -> None:
                e.store.commit = real  # type: ignore[method-assign]
                raise OSError(28, "No space left on device (injected)")

            e.store.commit = failing  # type: ignore[method-assign]
            return
        fired: list[str] = []

        def fault(table: str) -> int:
            if table == point and not fired:
                fired.append(table)
                return 1
            return 0

        conn = e.store.conn
        conn.create_function("tiller_fault", 1, fault)
        for op in ("INSERT", "UPDATE"):
            conn.execute(
                f"CREATE TEMP TRIGGER fault_{point}_{op.lower()} BEFORE {op} ON main.{point} "
                f"WHEN tiller_fault('{point}') BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected)'); END"
            )

    engine.post(Call(arm))


def file_books(folder: Path) -> tuple[LocalBooks, list[tuple], list[str]]:
    (db_path,) = (p for p in folder.glob("tiller-sim-*.db") if not p.name.endswith("-broker.db"))
    database = open_database(db_path, read_only=True)
    try:
        store = SqliteOmsStore(database)
        local = LocalBooks(
            store.load_cash() or D(0),
            {p.code: p.total for p in store.load_positions() if p.total},
            store.load_trades(DAY),
            store.load_orders(DAY),
        )
        rows = database.conn.execute("SELECT client_order_id, code, side, qty, status FROM orders").fetchall()
        alerts = [r[0] for r in database.conn.execute("SELECT message FROM alerts WHERE level = 'critical'")]
    finally:
        database.close()
    return local, rows, alerts


def broker_books(setup: SimSetup) -> BrokerBooks:
    b = setup.broker
    return BrokerBooks(b.query_asset(), b.query_positions(), b.query_trades(), b.query_orders())


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


POINTS = ["commit", "signal_lines", "orders", "order_events", "trades", "positions", "account", "alerts"]


@pytest.mark.parametrize("point", POINTS)
def test_a_commit_failing_at_any_point_books_no_fill_twice_reuses_no_id_and_ends_equal_to_the_broker(
    folder: Path, point: str
) -> None:
    setup = open_day(make_setup(folder))
    at(setup, 10, 0)
    last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])
    resting_price = last - D("0.30")
    [resting] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 800, resting_price)])
    settle(setup)
    sent_before = {r.client_order_id for r in setup.broker.query_orders()}
    batch = SignalBatchFor.one("s1")

    reply: Future = Future()

    def the_batch() -> None:
        arm_fault(setup.engine, point)
        cross(setup, "600000.SH", resting_price)  # the broker fills the resting order: a trade report
        setup.broker.wait_idle(WAIT)
        setup.engine.post(Call(lambda e: e.oms.take_in(batch, e.clock.now())))  # signal lines
        setup.engine.post(SubmitOrders([NewOrder("600000.SH", Side.BUY, 500, last + D("0.05"))], reply))
        setup.engine.post(CancelOrder("NOPE"))  # type: ignore[arg-type]  # an alert in the batch

    in_one_batch(setup.engine, the_batch)
    settle(setup)

    with pytest.raises(Exception, match="injected"):
        reply.result(WAIT)  # the caller hears that its orders were not taken
    assert setup.engine.call(lambda e: e.halted) is None  # rebuilt, resynced: new orders again
    assert {r.client_order_id for r in setup.broker.query_orders()} == sent_before  # nothing of it sent
    local = setup.engine.call(lambda e: (e.oms.cash.cash, e.oms.positions["600000.SH"].total))
    assert local == (setup.broker.query_asset().cash, 800)  # the fill once, from the broker's books
    unsent = setup.engine.call(lambda e: [o for o in e.oms.orders.values() if o.qty == 500])
    assert [o.status for o in unsent] == [OrderStatus.REJECTED]
    assert "数据库写入失败" in unsent[0].status_msg
    assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0
    # a line answered as new in the lost batch stays taken in (orders may have been made of it)
    new, done = setup.engine.take_in(batch)
    assert (new, [line.signal_id for line in done]) == ([], ["s1"])

    [after] = setup.engine.submit([NewOrder("000001.SZ", Side.SELL, 1000, D("11.00"))])
    settle(setup)
    assert after not in {resting, unsent[0].client_order_id}
    setup.close()

    again = make_setup(folder)
    again.clock.advance_to(datetime.combine(DAY, time(10, 40), CN_TZ))
    open_day(again)
    settle(again)
    [after_restart] = again.engine.submit([NewOrder("000001.SZ", Side.SELL, 100, D("11.00"))])
    settle(again)
    theirs = broker_books(again)
    again.close()

    books, rows, alerts = file_books(folder)
    assert compare_books(books, theirs) == []
    assert len({t.trade_id for t in books.trades}) == len(books.trades) == len(theirs.trades)
    ids = Counter(r[0] for r in rows)
    assert max(ids.values()) == 1 and after_restart in ids  # a new id after the restart, too
    assert (unsent[0].client_order_id, "600000.SH", "buy", 500, "rejected") in rows  # its own values
    assert any("写入数据库失败" in a for a in alerts)  # the user was told, and it is on record
    with open_database(next(folder.glob("tiller-sim-*[0-9].db")), read_only=True) as database:
        lines = database.conn.execute("SELECT signal_id FROM signal_lines").fetchall()
    assert lines == [("s1",)]  # on disk once


def test_while_the_disk_stays_broken_new_orders_are_refused_until_trading_is_resumed(folder: Path) -> None:
    setup = open_day(make_setup(folder))
    at(setup, 10, 0)
    broken: list[bool] = [True]

    def break_commits(e: Engine) -> None:
        real = e.store.commit

        def failing() -> None:
            if broken[0]:
                raise OSError(28, "No space left on device (injected)")
            real()

        e.store.commit = failing  # type: ignore[method-assign]

    reply: Future = Future()

    def the_batch() -> None:
        setup.engine.post(Call(break_commits))
        setup.engine.post(SubmitOrders([NewOrder("600000.SH", Side.BUY, 100, D("10.00"))], reply))

    in_one_batch(setup.engine, the_batch)
    with pytest.raises(OSError, match="injected"):
        reply.result(WAIT)
    settle(setup)
    halted = setup.engine.call(lambda e: e.halted)
    assert halted is not None and "数据库写入失败" in halted

    with pytest.raises(TradingHaltedError, match="交易已暂停"):
        setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, D("10.00"))])
    assert setup.engine.resume_trading() is not None  # still broken: stays halted
    alerts = setup.engine.call(lambda e: [a.message for a in e.alerts if a.level == "critical"])
    assert any("仍无法写入" in a for a in alerts)

    from app.core.terminal import Terminal

    terminal = Terminal(setup.engine)
    assert terminal.halted() == setup.engine.call(lambda e: e.halted) is not None
    broken[0] = False
    assert terminal.resume_trading() is None
    assert terminal.halted() is None
    [cid] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, D("10.00"))])
    settle(setup)
    assert setup.engine.call(lambda e: e.oms.orders[cid].status) is not OrderStatus.DENIED
    assert cid in {r.client_order_id for r in setup.broker.query_orders()}
    setup.close()


class SignalBatchFor:
    @staticmethod
    def one(signal_id: str):
        from app.domain.signals import SignalBatch, SignalLine

        line = SignalLine(
            signal_id, "strat", DAY, "600000.SH", "浦发银行", Side.BUY, 100, D("10.00"), time(9, 30)
        )
        return SignalBatch("strat", DAY, (line,))


def test_2_63_shares_and_a_1e400_price_in_one_submit_with_a_good_order(folder: Path) -> None:
    setup = open_day(make_setup(folder))
    at(setup, 10, 0)
    last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])

    huge, good, dear = setup.engine.submit(
        [
            NewOrder("600000.SH", Side.BUY, 2**63, last),
            NewOrder("600000.SH", Side.BUY, 100, last + D("0.05")),
            NewOrder("600000.SH", Side.BUY, 100, D("1e400")),
        ]
    )  # the caller gets its reply: one id per request
    settle(setup)

    orders = setup.engine.call(lambda e: {c: e.oms.orders[c] for c in (huge, good, dear)})
    assert orders[huge].status is OrderStatus.DENIED and str(2**63) in orders[huge].status_msg
    assert orders[dear].status is OrderStatus.DENIED and "1E+400" in orders[dear].status_msg
    assert orders[good].status is OrderStatus.FILLED
    assert [r.client_order_id for r in setup.broker.query_orders()] == [good]
    assert setup.engine.call(lambda e: (e.halted, e.oms.cash.frozen)) == (None, 0)
    setup.close()
    _books, rows, _ = file_books(folder)
    assert {r[0]: (r[3], r[4]) for r in rows} == {
        huge: (0, "denied"),
        good: (100, "filled"),
        dear: (100, "denied"),
    }


def test_when_the_books_cannot_even_be_read_back_nothing_is_written_until_they_are(folder: Path) -> None:
    setup = open_day(make_setup(folder))
    at(setup, 10, 0)
    last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])
    resting_price = last - D("0.30")
    setup.engine.submit([NewOrder("600000.SH", Side.BUY, 800, resting_price)])
    settle(setup)
    unreadable: list[bool] = [True]

    def break_disk(e: Engine) -> None:
        real_commit, real_load = e.store.commit, e.store.load_positions

        def failing_commit() -> None:
            e.store.commit = real_commit  # type: ignore[method-assign]
            raise OSError(5, "Input/output error (injected)")

        def failing_load():
            if unreadable[0]:
                raise OSError(5, "Input/output error (injected, reading)")
            return real_load()

        e.store.commit = failing_commit  # type: ignore[method-assign]
        e.store.load_positions = failing_load  # type: ignore[method-assign]

    def the_batch() -> None:
        setup.engine.post(Call(break_disk))
        cross(setup, "600000.SH", resting_price)  # a fill in the lost batch
        setup.broker.wait_idle(WAIT)

    in_one_batch(setup.engine, the_batch)
    settle(setup)
    assert setup.engine.call(lambda e: e._diverged) is True
    at(setup, 10, 5)  # more batches: none of them writes the half-known books
    _, rows, _ = file_books(folder)
    assert [r[4] for r in rows] == ["accepted"]
    assert setup.engine.call(lambda e: e.halted) is not None

    unreadable[0] = False
    at(setup, 10, 6)  # the next batch rebuilds, resyncs and writes
    assert setup.engine.call(lambda e: (e.halted, e._diverged)) == (None, False)
    local = setup.engine.call(lambda e: (e.oms.cash.cash, e.oms.positions["600000.SH"].total))
    assert local == (setup.broker.query_asset().cash, 800)
    alerts = setup.engine.call(lambda e: [a.message for a in e.alerts])
    assert sum("无法从数据库读取账本" in a for a in alerts) == 1  # said once, not once a batch
    assert any("恢复接受新委托" in a for a in alerts)
    theirs = broker_books(setup)
    setup.close()
    books, _, _ = file_books(folder)
    assert compare_books(books, theirs) == []


def test_a_bug_halfway_through_a_submit_sends_none_of_it_and_the_caller_hears_why(folder: Path) -> None:
    setup = open_day(make_setup(folder))
    at(setup, 10, 0)
    before = len(setup.broker.query_orders())

    def break_second_send(e: Engine) -> None:
        real = e.oms.mark_submitted
        calls: list[int] = []

        def failing(order, now):
            calls.append(1)
            if len(calls) == 2:
                e.oms.mark_submitted = real  # type: ignore[method-assign]
                raise KeyError("a bug (test)")
            return real(order, now)

        e.oms.mark_submitted = failing  # type: ignore[method-assign]

    setup.engine.call(break_second_send)
    with pytest.raises(KeyError, match="a bug"):
        setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, D("10.00")) for _ in range(2)])
    settle(setup)

    assert len(setup.broker.query_orders()) == before
    orders = setup.engine.call(lambda e: list(e.oms.orders.values()))
    assert [o.status for o in orders] == [OrderStatus.REJECTED] * 2  # nothing half-made stays
    assert all("internal error" in o.status_msg for o in orders)
    assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0
    setup.close()
