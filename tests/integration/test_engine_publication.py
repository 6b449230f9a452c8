"""One publication per order in flight (issue 11): the simulated broker answers inside
`gateway.submit`, on the engine's thread, so its reports are already waiting when the batch that
sent the order ends. That batch then leaves its (committed) events to the next batch's publication:
the window hears the order once, with its trade, and one account event, not two. Nothing committed
is ever left unpublished, and wait_idle still means everything has been heard."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import SimSetup
from app.core.messages import AccountUpdated, OrderUpdated, SubmitOrders, TradeBooked
from app.core.oms import NewOrder
from app.domain.orders import OrderStatus
from app.domain.side import Side
from tests.helpers.engine_day import WAIT, at, make_setup, open_day, settle


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[SimSetup]:
    s = open_day(make_setup(tmp_path))
    at(s, 10, 0)
    yield s
    s.close()


class _Marker:
    """An event of our own, emitted in the batch that sends the order."""


def _marketable(setup: SimSetup, **kw: Any) -> NewOrder:
    last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])
    return NewOrder("600000.SH", Side.BUY, 100, last + D("0.05"), **kw)


def _record(setup: SimSetup) -> list[Any]:
    events: list[Any] = []
    setup.engine.subscribe(events.append)
    return events


def test_an_order_filled_at_once_is_heard_once_with_its_trade_and_one_account_event(setup: SimSetup) -> None:
    events = _record(setup)
    booked = threading.Event()
    setup.engine.subscribe(lambda e: booked.set() if type(e) is TradeBooked else None)
    orders = [_marketable(setup, signal_id=f"s{i}") for i in range(3)]
    for order in orders:  # one order in flight at a time, as the benchmark's one-in-flight row
        booked.clear()
        setup.engine.post(SubmitOrders([order]))  # no wait_idle marker in its batch
        assert booked.wait(WAIT)
    settle(setup)

    kinds = [type(e).__name__ for e in events]
    assert kinds == ["OrderUpdated", "TradeBooked", "AccountUpdated"] * 3
    orders = [e.order for e in events if type(e) is OrderUpdated]
    assert [o.status for o in orders] == [OrderStatus.FILLED] * 3  # as they stand after both commits
    assert [e.trade.client_order_id for e in events if type(e) is TradeBooked] == [
        o.client_order_id for o in orders
    ]
    account = [e for e in events if type(e) is AccountUpdated][-1]
    assert account.account.cash == setup.engine.call(lambda e: e.oms.cash.cash)


def test_a_batch_with_nothing_waiting_after_it_publishes_at_once(setup: SimSetup) -> None:
    events = _record(setup)
    [cid] = setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, D("9.00"))])  # rests: no fill
    settle(setup)

    updates = [e.order for e in events if type(e) is OrderUpdated]
    assert updates and updates[-1].client_order_id == cid
    assert updates[-1].status is OrderStatus.ACCEPTED
    assert setup.engine.call(lambda e: (e._held, e._held_orders, e._held_trades, e._held_events)) == (
        0,
        {},
        [],
        [],
    )


def test_what_a_held_batch_committed_is_published_even_when_the_next_commit_fails(setup: SimSetup) -> None:
    events = _record(setup)
    marker = _Marker()
    order = _marketable(setup)

    def send_and_break_the_next_commit(engine) -> str:
        real = engine.store.commit
        calls = []

        def commit() -> None:
            calls.append(1)
            if len(calls) == 1:
                return real()  # this batch's: the order's intent, and the marker's batch
            engine.store.commit = real
            raise OSError("disk full (test)")  # the broker's reports' batch

        engine.store.commit = commit
        engine.emit(marker)
        [cid] = engine.place([order])
        return cid

    cid = setup.engine.call(send_and_break_the_next_commit)
    settle(setup)

    assert any(e is marker for e in events)  # committed with the order's intent: heard
    # the failed batch is rebuilt from the broker's books: the fill is booked once, and heard
    assert setup.engine.call(lambda e: e.oms.orders[cid].status) is OrderStatus.FILLED
    assert [e.trade.client_order_id for e in events if type(e) is TradeBooked] in ([cid], [])
    last = [e.order for e in events if type(e) is OrderUpdated and e.order.client_order_id == cid][-1]
    assert last.status is OrderStatus.FILLED
    assert setup.engine.call(lambda e: e.halted) is None
