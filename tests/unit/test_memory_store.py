"""MemoryOmsStore keeps the OmsStore contract without I/O: staged writes are invisible until commit."""

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal as D

import pytest

from app.core.oms import NewOrder, OrderManager
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.domain.identifiers import BrokerOrderId, TradeId
from app.domain.orders import OrderStatus
from app.domain.positions import Position
from app.domain.reports import SubmitResponse, TradeReport
from app.domain.side import Side
from app.storage.memory_store import MemoryOmsStore

DAY = date(2026, 11, 23)
TS = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)


def make_oms(store: MemoryOmsStore) -> OrderManager:
    oms = OrderManager(store=store, fees=FeeSchedule(), trading_day=DAY, alert=lambda *_: None)
    oms.load()
    return oms


def test_staged_books_are_invisible_until_commit_then_loaded_as_committed() -> None:
    store = MemoryOmsStore("AB")
    store.stage_cash(D("1000"))
    store.stage_position(Position("600000.SH", total=100, settled=100, avg_cost=D("10")))
    assert store.load_cash() is None
    assert store.load_positions() == []

    store.commit()

    assert store.load_cash() == D("1000")
    assert store.load_positions() == [Position("600000.SH", total=100, settled=100, avg_cost=D("10"))]


def test_changes_to_an_order_after_commit_stay_invisible_until_the_next_commit() -> None:
    store = MemoryOmsStore("AB")
    oms = make_oms(store)
    oms.set_cash(D("100000"))
    order = oms.create(NewOrder("600000.SH", Side.BUY, 100, D("10.00")), TS)
    store.commit()

    oms.mark_submitted(order, TS)  # staged, not committed
    (loaded,) = store.load_orders(DAY)
    assert loaded.status is OrderStatus.INITIALIZED
    assert loaded is not order

    store.commit()
    (loaded,) = store.load_orders(DAY)
    assert loaded.status is OrderStatus.SUBMITTED


def test_discard_drops_everything_staged() -> None:
    store = MemoryOmsStore("AB")
    store.stage_cash(D("5"))
    store.stage_meta("book_day", "2026-11-23")
    store.discard()
    store.commit()
    assert store.load_cash() is None
    assert store.load_meta("book_day") is None


def test_a_restarted_oms_on_the_same_store_finds_its_orders_fills_and_books() -> None:
    store = MemoryOmsStore("AB")
    oms = make_oms(store)
    oms.set_cash(D("100000"))
    order = oms.create(NewOrder("600000.SH", Side.BUY, 100, D("10.00")), TS)
    oms.mark_submitted(order, TS)
    oms.on_submit_response(SubmitResponse(order.client_order_id, BrokerOrderId("9"), TS))
    oms.on_trade_report(
        TradeReport(TradeId("t1"), BrokerOrderId("9"), order.client_order_id, "600000.SH", Side.BUY, 100,
                    D("10.00"), D("1000.00"), D("5.01"), TS)
    )  # fmt: skip
    store.commit()

    again = make_oms(store)

    restored = again.orders[order.client_order_id]
    assert restored.status is OrderStatus.FILLED
    assert restored.trade_ids == {TradeId("t1")}
    assert set(again.trade_ids) == {(BrokerOrderId("9"), TradeId("t1"))}  # today's fills, by identity
    assert again.positions["600000.SH"].total == 100
    assert again.cash.cash == D("100000") - D("1000.00") - D("5.01")
    # the next id continues the day's sequence, never reusing one
    assert again.new_client_order_id() != order.client_order_id


def test_a_trade_committed_twice_fails_loudly_and_is_kept_once() -> None:
    # like the SQLite store's INSERT: the OMS never stages one identity twice, so a second is a bug
    store = MemoryOmsStore("AB")
    report = TradeReport(TradeId("t1"), BrokerOrderId("9"), None, "600000.SH", Side.BUY, 100,
                         D("10.00"), D("1000.00"), D("5.01"), TS)  # fmt: skip
    store.stage_trade(report, "X9", "", DAY)  # type: ignore[arg-type]
    store.commit()
    store.stage_trade(report, "X9", "", DAY)  # type: ignore[arg-type]
    store.stage_cash(D("1"))
    with pytest.raises(ValueError, match="same identity"):
        store.commit()
    store.discard()
    assert store.load_trades(DAY) == [report]
    assert store.load_cash() is None  # all or nothing
    assert store.load_trades(date(2026, 11, 24)) == []
    # the same trade number on another day, or of another order, is another fill
    store.stage_trade(report, "X9", "", date(2026, 11, 24))  # type: ignore[arg-type]
    store.stage_trade(replace(report, broker_order_id=BrokerOrderId("10")), "X10", "", DAY)  # type: ignore[arg-type]
    store.commit()
    assert len(store.load_trades(DAY)) == 2 and len(store.load_trades(date(2026, 11, 24))) == 1


def test_an_order_id_stored_twice_fails_loudly_and_reservations_never_repeat() -> None:
    store = MemoryOmsStore("AB")
    oms = make_oms(store)
    oms.set_cash(D("100000"))
    order = oms.create(NewOrder("600000.SH", Side.BUY, 100, D("10.00")), TS)
    store.commit()
    store.stage_new_order(order)
    with pytest.raises(ValueError, match="reuse"):
        store.commit()
    store.discard()
    first = store.reserve_order_seqs(DAY, 5)
    store.discard()  # a reservation is not part of any batch
    assert store.reserve_order_seqs(DAY, 1) == first + 5


def test_a_bad_install_tag_is_refused_with_the_value() -> None:
    with pytest.raises(ValueError, match=r"two base-36 characters.*'a!'"):
        MemoryOmsStore("a!")


def test_commit_after_close_is_refused_and_keeps_the_committed_books() -> None:
    store = MemoryOmsStore("AB")
    store.stage_cash(D("7"))
    store.commit()
    store.close()
    store.stage_cash(D("8"))
    with pytest.raises(ValueError, match="closed"):
        store.commit()
    assert store.load_cash() == D("7")
