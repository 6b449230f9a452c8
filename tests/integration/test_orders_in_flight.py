"""Orders in flight: the gateway that raises, the unanswered order, the cancel before the
acknowledgement, the order that turns up after it was put in doubt. Real engine thread, real SQLite
files, the simulated broker with latencies (simulated time, so each race happens every run)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.bootstrap import SimSetup
from app.config import GeneralSettings, Settings, SimSettings
from app.core.clock import LiveClock
from app.core.engine import Engine
from app.core.messages import CancelOrder, Resync
from app.core.oms import NewOrder
from app.core.terminal import Terminal
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.domain.identifiers import ClientOrderId
from app.domain.orders import OrderStatus
from app.domain.reports import TradeReport
from app.domain.side import Side
from app.gateways.sim.broker import SimulatedBroker
from app.storage import open_database
from app.storage.oms_store import SqliteOmsStore
from tests.helpers import engine_day
from tests.helpers.engine_day import DAY, at, books, open_day, settle

CODE = "600000.SH"


def make_setup(folder: Path, start: time = time(9, 0), **latencies: D) -> SimSetup:
    """A day opened at `start` and moved to 10:00, with the simulated broker's `latencies`."""
    settings = Settings(general=GeneralSettings(data_dir=folder), sim=SimSettings(**latencies))
    setup = open_day(engine_day.make_setup(folder, 3, settings=settings, start=start))
    at(setup, time(10, 0))
    return setup


def later(setup: SimSetup, seconds: float) -> None:
    at(setup, (setup.clock.now() + timedelta(seconds=seconds)).time())


def order(setup: SimSetup, cid: ClientOrderId):
    return setup.engine.call(lambda e: e.oms.orders[cid])


def alerts(setup: SimSetup) -> list[str]:
    return setup.engine.call(lambda e: [a.message for a in e.alerts])


def last_price(setup: SimSetup) -> D:
    return setup.engine.call(lambda e: e.oms.last_prices[CODE])


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[SimSetup]:
    setup = make_setup(tmp_path)
    yield setup
    setup.close()


# ------------------------------------------------------------------------------ item 1
def test_a_gateway_that_raises_on_submit_leaves_the_engine_alive_and_the_orders_settle(
    setup: SimSetup,
) -> None:
    real_submit = setup.broker.submit
    calls: list[int] = []

    def flaky(orders):
        calls.append(len(orders))
        if len(calls) == 1:
            raise ConnectionError("xtquant: socket closed (test)")  # nothing reached the broker
        if len(calls) == 2:
            real_submit(orders)  # it went through, and then the adapter raised anyway
            raise RuntimeError("xtquant: raised after sending (test)")
        real_submit(orders)

    setup.broker.submit = flaky  # type: ignore[method-assign]
    low = last_price(setup) - D("0.30")
    free = setup.engine.call(lambda e: e.oms.cash.available)
    lost = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, low), NewOrder(CODE, Side.BUY, 200, low)])
    settle(setup)
    [reached] = setup.engine.submit([NewOrder(CODE, Side.BUY, 300, low)])
    settle(setup)

    # The engine lives on: the doubt and the alert are committed, the broker was queried at once.
    assert [order(setup, c).status for c in lost] == [OrderStatus.IN_DOUBT] * 2
    assert "in doubt" in order(setup, lost[0]).status_msg
    assert order(setup, reached).status is OrderStatus.ACCEPTED  # found by the query: adopted
    assert order(setup, reached).broker_order_id is not None
    assert any("gateway raised on submit" in a and "socket closed" in a for a in alerts(setup))
    assert setup.engine.call(lambda e: e.oms.cash.available) < free  # the doubtful ones still hold cash

    # After the settle time the broker is asked again: still unknown, so lost in transit.
    later(setup, setup.engine.settle_time.total_seconds() + 1)
    assert [order(setup, c).status for c in lost] == [OrderStatus.EXPIRED] * 2
    assert order(setup, reached).status is OrderStatus.ACCEPTED
    # The engine still works: a new order goes out and the books agree.
    [fresh] = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, low)])
    settle(setup)
    assert order(setup, fresh).status is OrderStatus.ACCEPTED
    local, broker = books(setup)
    assert local == broker
    assert {r.client_order_id for r in setup.broker.query_orders()} == {reached, fresh}


def test_a_gateway_that_raises_on_cancel_leaves_the_order_settled_from_the_broker(setup: SimSetup) -> None:
    [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, last_price(setup) - D("0.30"))])
    settle(setup)
    real_cancel = setup.broker.cancel

    def broken(request):
        raise OSError("xtquant: cancel_order_stock_async failed (test)")

    setup.broker.cancel = broken  # type: ignore[method-assign]
    setup.engine.post(CancelOrder(cid))
    settle(setup)

    # The cancel never reached the broker: the query found the order working and adopted it back.
    assert order(setup, cid).status is OrderStatus.ACCEPTED
    assert any("gateway raised on cancel" in a for a in alerts(setup))
    setup.broker.cancel = real_cancel  # type: ignore[method-assign]
    setup.engine.post(CancelOrder(cid))
    settle(setup)
    assert order(setup, cid).status is OrderStatus.CANCELLED
    assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0


def test_a_cancel_lost_on_its_way_is_found_at_its_timeout_and_sent_once_more(setup: SimSetup) -> None:
    """The gateway takes the cancel and it never reaches the counter (lost in transit): at the answer
    timeout the broker is asked, still lists the order working, and the cancel goes once more; the
    investor is told. Never assumed cancelled meanwhile."""
    [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, last_price(setup) - D("0.30"))])
    settle(setup)
    real_cancel = setup.broker.cancel
    lost: list[object] = []

    def lose_the_first(request):  # type: ignore[no-untyped-def]
        if not lost:
            lost.append(request)  # taken, never delivered
            return
        real_cancel(request)

    setup.broker.cancel = lose_the_first  # type: ignore[method-assign]
    setup.engine.post(CancelOrder(cid))
    settle(setup)
    later(setup, 5)
    assert order(setup, cid).status is OrderStatus.ACCEPTED and len(lost) == 1
    later(setup, 6)  # the answer timeout: asked, still working at the broker, sent again
    settle(setup)
    assert order(setup, cid).status is OrderStatus.CANCELLED
    assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0
    words = [a for a in alerts(setup) if "cancel not confirmed within 10s" in a]
    assert len(words) == 1 and "cancel sent again" in words[0] and cid in words[0]
    later(setup, 30)  # answered: nothing more is sent or said
    assert len([a for a in alerts(setup) if "cancel not confirmed" in a]) == 1


def test_a_slow_cancel_the_counter_holds_is_said_at_its_timeout_and_not_sent_again(tmp_path: Path) -> None:
    """A counter that takes 25 s to answer a cancel, and says it holds it (pending cancel): at 10 s the
    broker is asked, the investor told, and the cancel is not sent again (it is not lost); the first
    cancel's answer ends the order."""
    setup = make_setup(tmp_path, cancel_latency_s=D(25))
    try:
        [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, last_price(setup) - D("0.30"))])
        settle(setup)
        held = setup.engine.call(lambda e: e.oms.cash.frozen)
        real_cancel, sent = setup.broker.cancel, []

        def counted(request):  # type: ignore[no-untyped-def]
            sent.append(request)
            real_cancel(request)

        setup.broker.cancel = counted  # type: ignore[method-assign]
        setup.engine.post(CancelOrder(cid))
        settle(setup)
        later(setup, 11)
        assert order(setup, cid).status is OrderStatus.PENDING_CANCEL
        assert setup.engine.call(lambda e: e.oms.cash.frozen) == held  # never assumed cancelled
        said = [a for a in alerts(setup) if "cancel not confirmed within 10s" in a]
        assert len(said) == 1 and "sent again" not in said[0] and cid in said[0]
        later(setup, 15)
        settle(setup)
        assert order(setup, cid).status is OrderStatus.CANCELLED
        assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0
        assert len(sent) == 1
    finally:
        setup.close()


def test_a_fill_the_broker_reports_whose_trade_never_comes_is_queried_and_booked_once(
    setup: SimSetup,
) -> None:
    """The broker's order report says filled, its trade report is lost on the way: a few seconds later
    the broker's trades are queried and the fill booked (once: not again when later queries list it)."""
    handler = setup.broker._handler  # the engine's queue, as the gateway pushes to it
    lost: list[TradeReport] = []

    def lose_trades(report):  # type: ignore[no-untyped-def]
        if isinstance(report, TradeReport) and not lost:
            lost.append(report)
            return
        handler(report)

    setup.broker.set_report_handler(lose_trades)
    cash = setup.engine.call(lambda e: e.oms.cash.cash)
    [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, last_price(setup) + D("0.05"))])
    settle(setup)
    assert len(lost) == 1
    assert order(setup, cid).filled_qty == 0  # the broker says 100 filled; no trade booked yet
    later(setup, 4)  # the grace: the broker's trades are asked for, the fill booked from there
    settle(setup)
    filled = order(setup, cid)
    assert filled.status is OrderStatus.FILLED and filled.filled_qty == 100
    trades = setup.engine.call(lambda e: list(e.oms.trade_ids.values()))
    assert [t.trade_id for t in trades] == [lost[0].trade_id]
    assert setup.engine.call(lambda e: e.oms.cash.cash) == cash - lost[0].amount - lost[0].fees
    setup.engine.post(Resync("again"))
    settle(setup)
    assert len(setup.engine.call(lambda e: e.oms.trade_ids)) == 1
    assert not [a for a in alerts(setup) if "still after asking" in a]


def test_a_failing_publish_or_a_given_up_reply_does_not_kill_the_engine(setup: SimSetup) -> None:
    def explode(event):
        raise RuntimeError("listener bug (test)")

    setup.engine.subscribe(explode)
    broken = {"left": 1}
    real_publish = setup.engine._publish

    def publish_once_broken() -> None:
        if broken["left"]:
            broken["left"] -= 1
            raise RuntimeError("publish bug (test)")
        real_publish()

    setup.engine._publish = publish_once_broken  # type: ignore[method-assign]
    setup.engine.post(Resync("test"))
    settle(setup)
    [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, last_price(setup) - D("0.30"))])
    settle(setup)
    assert order(setup, cid).status is OrderStatus.ACCEPTED
    assert any("publish bug" in a for a in alerts(setup))


# ------------------------------------------------------------------------------ item 6
def test_cancel_all_right_after_submit_cancels_orders_not_yet_acknowledged(tmp_path: Path) -> None:
    setup = make_setup(tmp_path, ack_latency_s=D(2))
    try:
        terminal = Terminal(setup.engine)
        low = last_price(setup) - D("0.30")
        ids = terminal.submit([NewOrder(CODE, Side.BUY, 100 * (i + 1), low) for i in range(3)])
        terminal.cancel_all()
        settle(setup)
        # Still on the wire: the broker has none of them, the cancels wait for the acknowledgements.
        assert [terminal.order(c).status for c in ids] == [OrderStatus.SUBMITTED] * 3
        assert setup.broker.query_orders() == []
        assert any("确认后即撤" in a for a in alerts(setup))

        later(setup, 3)  # the orders reach the counter; each acknowledgement releases its cancel

        assert [terminal.order(c).status for c in ids] == [OrderStatus.CANCELLED] * 3
        assert {r.status for r in setup.broker.query_orders()} == {OrderStatus.CANCELLED}
        assert terminal.account().frozen == 0
        local, broker = books(setup)
        assert local == broker
    finally:
        setup.close()


def test_a_cancel_asked_before_the_acknowledgement_survives_a_restart(tmp_path: Path) -> None:
    first = make_setup(tmp_path, ack_latency_s=D(2))
    [cid] = first.engine.submit([NewOrder(CODE, Side.BUY, 100, last_price(first) - D("0.30"))])
    first.engine.post(CancelOrder(cid))
    settle(first)
    # The order reaches the broker and the process dies before the acknowledgement is handled.
    first.engine.stop()
    later_moment = first.clock.now() + timedelta(seconds=3)
    first.clock.advance_to(later_moment)
    first.broker.on_quotes(first.feed.snapshot(DAY, later_moment.time()))
    first.broker.wait_idle()
    first.broker.close()
    assert first.lock is not None
    first.lock.release()  # the process is gone: the OS frees its account lock
    assert order_status_at_broker(first) == [OrderStatus.ACCEPTED]

    # recovery finds it at the broker; the remembered cancel goes out
    second = make_setup(tmp_path, start=(later_moment + timedelta(seconds=1)).time())
    try:
        later(second, 1)
        assert order(second, cid).status is OrderStatus.CANCELLED
        assert order_status_at_broker(second) == [OrderStatus.CANCELLED]
    finally:
        second.close()


def order_status_at_broker(setup: SimSetup) -> list[OrderStatus]:
    broker = SimulatedBroker(setup.broker_path, setup.clock)
    try:
        return [r.status for r in broker.query_orders()]
    finally:
        broker.close()


def test_an_unanswered_order_is_queried_then_in_doubt_then_adopted_when_it_turns_up(tmp_path: Path) -> None:
    setup = make_setup(tmp_path, ack_latency_s=D(20))
    try:
        [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 500, last_price(setup) - D("0.30"))])
        held = setup.engine.call(lambda e: e.oms.cash.frozen)
        assert held > 0

        later(setup, 11)  # the answer timeout: the broker is asked, and does not list it
        doubtful = order(setup, cid)
        assert doubtful.status is OrderStatus.IN_DOUBT and "no answer within 10s" in doubtful.status_msg
        assert setup.engine.call(lambda e: e.oms.cash.frozen) == held  # never assumed unsent

        later(setup, 10)  # it reaches the counter: the acknowledgement settles the doubt
        adopted = order(setup, cid)
        assert adopted.status is OrderStatus.ACCEPTED and adopted.broker_order_id is not None
        assert adopted.status_msg == ""
        setup.engine.post(CancelOrder(cid))
        settle(setup)
        assert order(setup, cid).status is OrderStatus.CANCELLED
        assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0
    finally:
        setup.close()


def test_each_send_is_asked_about_at_its_own_timeout_with_one_timer_for_all_of_them(tmp_path: Path) -> None:
    """Three sends 4 s apart to a broker that answers after 20 s: each is put in doubt when its own
    10 s have passed (not earlier, not all at the first's), and one answer timer stands on the clock
    however many sends wait (a timer per order cost a heap push per order)."""
    setup = make_setup(tmp_path, ack_latency_s=D(20))
    try:
        price = last_price(setup) - D("0.30")
        cids = []
        for i in range(3):
            if i:
                later(setup, 4)
            [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, price)])
            cids.append(cid)
        timers = setup.clock._heap  # what stands on the simulated clock
        answer_timers = [h for h in timers if h.name == "answer timeout" and not h.cancelled]
        assert len(answer_timers) == 1
        later(setup, 3)  # 10 s after the first send, 6 s after the second
        assert [order(setup, c).status for c in cids] == [
            OrderStatus.IN_DOUBT, OrderStatus.SUBMITTED, OrderStatus.SUBMITTED
        ]  # fmt: skip
        later(setup, 4)  # the second's 10 s
        assert [order(setup, c).status for c in cids][1:] == [OrderStatus.IN_DOUBT, OrderStatus.SUBMITTED]
        later(setup, 4)  # the third's
        assert order(setup, cids[2]).status is OrderStatus.IN_DOUBT
        later(setup, 10)  # all three reach the counter: the acknowledgements settle the doubts
        assert {order(setup, c).status for c in cids} == {OrderStatus.ACCEPTED}
    finally:
        setup.close()


def test_an_order_expired_as_lost_that_reaches_the_broker_later_is_adopted_and_its_fills_booked_once(
    tmp_path: Path,
) -> None:
    setup = make_setup(tmp_path, ack_latency_s=D(60), fill_latency_s=D(1))
    try:
        [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 1000, last_price(setup) + D("0.20"))])
        later(setup, 11)
        assert order(setup, cid).status is OrderStatus.IN_DOUBT
        later(setup, 31)  # the settle re-query: still unknown, so expired as lost in transit
        lost = order(setup, cid)
        assert lost.status is OrderStatus.EXPIRED and "lost in transit" in lost.status_msg
        assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0

        later(setup, 20)  # it arrives after all and fills at once; the trade reports lag a second
        later(setup, 2)

        found = order(setup, cid)
        assert found.status is OrderStatus.FILLED and found.filled_qty == 1000
        assert any("adopted" in a and cid in a for a in alerts(setup)), alerts(setup)
        setup.engine.post(Resync("test"))  # the broker's books again: nothing is booked twice
        settle(setup)
        local, broker = books(setup)
        assert local == broker
        assert local[1][CODE] == 1000
        assert setup.engine.call(lambda e: len(e.oms.trade_ids)) == len(setup.broker.query_trades())
        assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0
    finally:
        setup.close()


def test_an_order_adopted_after_expiry_can_be_cancelled_and_its_cash_is_held_meanwhile(
    tmp_path: Path,
) -> None:
    setup = make_setup(tmp_path, ack_latency_s=D(60))
    try:
        [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 500, last_price(setup) - D("0.30"))])
        later(setup, 11)
        later(setup, 31)
        assert order(setup, cid).status is OrderStatus.EXPIRED
        later(setup, 20)
        assert order(setup, cid).status is OrderStatus.ACCEPTED
        assert setup.engine.call(lambda e: e.oms.cash.frozen) > 0  # held again, as at the broker
        setup.engine.post(CancelOrder(cid))
        settle(setup)
        assert order(setup, cid).status is OrderStatus.CANCELLED
        assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0
        local, broker = books(setup)
        assert local == broker
    finally:
        setup.close()


# ------------------------------------------------------------------------------ item 5
def test_engine_timers_on_the_simulated_clock_run_in_order_on_the_engine_thread(setup: SimSetup) -> None:
    ran: list[tuple[str, str, datetime]] = []
    now = setup.clock.now()

    def note(name: str):
        return lambda: ran.append((name, threading.current_thread().name, setup.clock.now()))

    setup.engine.schedule_at(now + timedelta(seconds=9), note("b"))
    setup.engine.schedule_at(now + timedelta(seconds=3), note("a"))
    gone = setup.engine.schedule_at(now + timedelta(seconds=5), note("gone"))
    setup.engine.cancel_timer(gone)
    target = now + timedelta(seconds=12)
    while (due := setup.clock.next_timer_at()) is not None and due <= target:  # as DayRunner steps
        setup.clock.advance_to(due)
        settle(setup)
    setup.clock.advance_to(target)
    settle(setup)
    assert ran == [
        ("a", "tiller-engine", now + timedelta(seconds=3)),
        ("b", "tiller-engine", now + timedelta(seconds=9)),
    ]


def test_engine_timers_on_the_live_clock_are_delivered_on_the_engine_thread(tmp_path: Path) -> None:
    clock = LiveClock()
    broker = SimulatedBroker(tmp_path / "broker.db", clock)
    broker.connect()
    engine = Engine(
        clock=clock,
        gateway=broker,
        store_factory=lambda: SqliteOmsStore(open_database(tmp_path / "tiller.db")),
        fees=FeeSchedule(),
        trading_day=DAY,
    )
    engine.start()
    try:
        ran: list[str] = []
        done = threading.Event()

        def last() -> None:
            ran.append(threading.current_thread().name)
            done.set()

        gone = engine.schedule_after(timedelta(milliseconds=10), lambda: ran.append("cancelled one ran"))
        engine.cancel_timer(gone)
        engine.schedule_after(timedelta(milliseconds=30), last)
        assert done.wait(10.0)
        assert ran == ["tiller-engine"]
    finally:
        engine.stop()
        broker.close()
        clock.close()


def test_a_broker_that_cannot_be_queried_leaves_orders_in_doubt_without_spinning(setup: SimSetup) -> None:
    real_submit, real_query = setup.broker.submit, setup.broker.query_orders
    queries: list[int] = []

    def refuse(orders):
        raise ConnectionError("xtquant: not connected (test)")

    def broken_query():
        queries.append(1)
        raise TimeoutError("xtquant: query_stock_orders timed out (test)")

    setup.broker.submit = refuse  # type: ignore[method-assign]
    setup.broker.query_orders = broken_query  # type: ignore[method-assign]
    [cid] = setup.engine.submit([NewOrder(CODE, Side.BUY, 100, last_price(setup) - D("0.30"))])
    settle(setup)
    later(setup, 45)  # past the settle time: asked again, still unanswerable, still in doubt
    assert order(setup, cid).status is OrderStatus.IN_DOUBT  # never assumed either way
    assert 2 <= len(queries) <= 4  # once at once, again after each settle time: no busy loop
    assert any("querying the broker failed" in a for a in alerts(setup))

    setup.broker.submit, setup.broker.query_orders = real_submit, real_query  # type: ignore[method-assign]
    later(setup, 31)
    assert order(setup, cid).status is OrderStatus.EXPIRED  # the broker answers: it never got there
    assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0


def test_the_simulated_broker_refuses_a_negative_latency(tmp_path: Path) -> None:
    from app.core.clock import SimClock

    clock = SimClock(datetime.combine(DAY, time(10, 0), CN_TZ))
    with pytest.raises(ValueError, match="ack_latency"):
        SimulatedBroker(tmp_path / "b.db", clock, ack_latency=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="fill_latency"):
        SimulatedBroker(tmp_path / "c.db", clock, fill_latency=2)  # type: ignore[arg-type]
