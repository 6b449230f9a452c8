"""The QMT gateway on xtquant's real xttrader.py against the xtpythonclient stand-in: orders, fills,
cancels with the pending-cancel states, refusals with their messages, the order error before its
response, no answer at all, duplicate pushes, hand-typed orders, disconnects and reconnects, recovery
at start, and the traps of RULES.md A1-A3."""

from __future__ import annotations

import threading
import time as wall
from collections.abc import Callable, Iterator
from copy import copy
from datetime import datetime, time, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.core.execution import ExecutionRequest
from app.core.messages import AlertRaised, ConnectionStateChanged
from app.core.oms import NewOrder
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus, PriceType
from app.domain.prices import round_to_tick
from app.domain.side import Side
from app.gateways.qmt import QmtError
from tests.helpers.qmt import DAY, QmtDay, make_qmt_day, open_qmt_day, qmt_at, settle_qmt
from tests.standins import xtpythonclient as standin

WAIT = 30.0


@pytest.fixture(autouse=True)
def _standin_exchanges() -> Iterator[None]:
    yield
    standin.reset()


@pytest.fixture
def day(tmp_path: Path) -> Iterator[QmtDay]:
    session = open_qmt_day(make_qmt_day(tmp_path / "acct"))
    qmt_at(session, 9, 31)
    try:
        yield session
    finally:
        session.close()


def wait_until(condition: Callable[[], bool], timeout: float = WAIT, what: str = "") -> None:
    deadline = wall.monotonic() + timeout
    while not condition():
        if wall.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        wall.sleep(0.005)


def orders(day: QmtDay) -> dict[str, Any]:
    """The orders as they are now (copied on the engine thread)."""
    return day.engine.call(lambda e: {o.client_order_id: copy(o) for o in e.oms.orders.values()})


def order(day: QmtDay, cid: str) -> Any:
    return orders(day)[cid]


def quote(day: QmtDay, code: str) -> Any:
    return next(q for q in day.feed.snapshot(DAY, day.clock.now().time()) if q.code == code)


def marketable(day: QmtDay, code: str, side: Side) -> D:
    q = quote(day, code)
    base = q.best_ask if side is Side.BUY else q.best_bid
    assert base is not None
    step = D("1.005") if side is Side.BUY else D("0.995")
    return round_to_tick(base * step, D("0.01"))


def passive(day: QmtDay, code: str, side: Side, ticks: int = 5) -> D:
    q = quote(day, code)
    base = q.best_bid if side is Side.BUY else q.best_ask
    assert base is not None
    return base - D("0.01") * ticks if side is Side.BUY else base + D("0.01") * ticks


def submit(day: QmtDay, *requests: NewOrder) -> list[str]:
    ids = day.setup.terminal.submit(list(requests), timeout=WAIT)
    settle_qmt(day)
    return ids


def alerts(day: QmtDay) -> list[str]:
    return day.engine.call(lambda e: [a.message for a in e.alerts])


def books_agree(day: QmtDay) -> None:
    """Tiller's cash and positions equal the counter's (read from the stand-in's own file)."""
    asset = day.exchange.broker.query_asset()
    theirs = {p.code: p.total for p in day.exchange.broker.query_positions() if p.total}
    mine = day.engine.call(
        lambda e: (e.oms.cash.cash, {c: p.total for c, p in e.oms.positions.items() if p.total})
    )
    assert mine == (asset.cash, theirs)


# ------------------------------------------------------------------------------------ orders and fills
def test_an_order_goes_out_with_its_id_as_remark_and_fills(day: QmtDay) -> None:
    price = marketable(day, "600000.SH", Side.BUY)
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, price, strategy_id="alpha"))
    qmt_at(day, 9, 31, 3)
    got = order(day, cid)
    assert got.status is OrderStatus.FILLED, got
    assert got.filled_qty == 1000
    at_broker = {r.client_order_id: r for r in day.exchange.broker.query_orders()}
    assert at_broker[cid].strategy_id == "alpha"  # strategy_name travelled too
    xt_orders = day.gateway.query_orders()
    assert [(o.client_order_id, o.strategy_id, o.status) for o in xt_orders] == [
        (cid, "alpha", OrderStatus.FILLED)
    ]
    books_agree(day)


def test_partial_fills_each_booked_once_with_fees(tmp_path: Path) -> None:
    session = open_qmt_day(make_qmt_day(tmp_path / "acct", broker_kwargs={"participation": D("0.05")}))
    try:
        qmt_at(session, 9, 31)
        price = quote(session, "600000.SH").best_ask  # takes the first level, the rest waits
        (cid,) = submit(session, NewOrder("600000.SH", Side.BUY, 60_000, price))
        states = {order(session, cid).status}
        t = datetime.combine(DAY, time(9, 31), CN_TZ)
        for _ in range(40):
            t += timedelta(seconds=3)
            qmt_at(session, t.time())
            states.add(order(session, cid).status)
        trades = session.engine.call(
            lambda e: [r for r in e.oms.trade_ids.values() if r.client_order_id == cid]
        )
        broker_trades = [r for r in session.exchange.broker.query_trades() if r.client_order_id == cid]
        assert len(trades) >= 2 and OrderStatus.PARTIALLY_FILLED in states
        assert sorted((t.trade_id, t.qty, t.price, t.fees) for t in trades) == sorted(
            (t.trade_id, t.qty, t.price, t.fees) for t in broker_trades
        )
        assert order(session, cid).filled_qty == sum(t.qty for t in broker_trades)
        books_agree(session)
    finally:
        session.close()


def test_best_five_goes_out_as_42_on_shanghai_and_47_on_shenzhen(day: QmtDay) -> None:
    seen: list[tuple[str, int, float]] = []
    real = day.exchange.order

    def spy(client: Any, seq: int, req: Any) -> None:
        seen.append((req.m_strStockCode, req.m_nPriceType, req.m_dPrice))
        real(client, seq, req)

    day.exchange.order = spy  # type: ignore[method-assign]
    submit(
        day,
        NewOrder("600000.SH", Side.BUY, 100, None, PriceType.BEST5_IOC),
        NewOrder("000001.SZ", Side.SELL, 100, None, PriceType.BEST5_IOC),
        NewOrder("600000.SH", Side.BUY, 100, marketable(day, "600000.SH", Side.BUY)),
    )
    assert [(c, t) for c, t, _ in seen] == [("600000.SH", 42), ("000001.SZ", 47), ("600000.SH", 11)]
    assert seen[0][2] == 0 and seen[1][2] == 0  # price 0 for the market types (A2)


def test_a_price_type_the_exchange_lacks_is_refused_in_words_and_never_sent(day: QmtDay) -> None:
    before = day.exchange.orders_received
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 100, None, PriceType.IOC))
    got = order(day, cid)
    assert got.status is OrderStatus.REJECTED
    assert "SH" in got.status_msg and "ioc" in got.status_msg
    assert day.exchange.orders_received == before


# ------------------------------------------------------------------------------------ cancels
def test_a_cancel_is_pending_until_the_counter_confirms_it(day: QmtDay) -> None:
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, passive(day, "600000.SH", Side.BUY)))
    assert order(day, cid).status is OrderStatus.ACCEPTED
    day.exchange.faults.hold_cancels = True
    day.setup.terminal.cancel(cid)
    settle_qmt(day)
    got = order(day, cid)
    assert got.status is OrderStatus.PENDING_CANCEL  # 51 is pending, not cancelled
    assert got.status.is_working
    day.exchange.release_cancels()
    settle_qmt(day)
    assert order(day, cid).status is OrderStatus.CANCELLED
    books_agree(day)


def test_a_part_filled_order_cancelled_shows_52_then_53(tmp_path: Path) -> None:
    session = open_qmt_day(make_qmt_day(tmp_path / "acct", broker_kwargs={"participation": D("0.02")}))
    try:
        qmt_at(session, 9, 31)
        pushed: list[int] = []
        real = session.gateway._on_order

        def spy(xt_order: Any) -> None:
            pushed.append(xt_order.order_status)
            real(xt_order)

        session.gateway._on_order = spy
        price = quote(session, "600000.SH").best_ask  # takes the first level, the rest waits
        (cid,) = submit(session, NewOrder("600000.SH", Side.BUY, 60_000, price))
        assert order(session, cid).status is OrderStatus.PARTIALLY_FILLED
        session.exchange.faults.hold_cancels = True
        session.setup.terminal.cancel(cid)
        settle_qmt(session)
        assert order(session, cid).status is OrderStatus.PENDING_CANCEL
        session.exchange.release_cancels()
        settle_qmt(session)
        got = order(session, cid)
        assert got.status is OrderStatus.CANCELLED and 0 < got.filled_qty < 60_000
        assert 52 in pushed and pushed[-1] == 53
        books_agree(session)
    finally:
        session.close()


def test_a_refused_cancel_says_why_and_the_order_keeps_working(day: QmtDay) -> None:
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, passive(day, "600000.SH", Side.BUY)))
    day.exchange.faults.refuse_cancels = ["柜台繁忙，撤单失败"]
    day.setup.terminal.cancel(cid)
    settle_qmt(day)
    assert order(day, cid).status.is_working
    assert any("柜台繁忙，撤单失败" in a for a in alerts(day))


# ------------------------------------------------------------------------------------ refusals
def test_a_refusal_carries_the_brokers_message(day: QmtDay) -> None:
    day.exchange.faults.reject_next = ["可用资金不足"]
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, marketable(day, "600000.SH", Side.BUY)))
    got = order(day, cid)
    assert got.status is OrderStatus.REJECTED
    assert "可用资金不足" in got.status_msg
    assert any("可用资金不足" in a for a in alerts(day))
    assert day.engine.call(lambda e: e.oms.cash.available) == day.exchange.broker.query_asset().available


def test_an_order_error_before_its_response_is_held_by_xttrader_and_applied_after(day: QmtDay) -> None:
    day.exchange.faults.reject_next = ["价格超出涨跌停"]
    day.exchange.faults.error_first = 1
    seen: list[str] = []
    for name in ("_on_order_response", "_on_order_error"):
        real = getattr(day.gateway, name)
        setattr(day.gateway, name, lambda obj, real=real, name=name: (seen.append(name), real(obj)))
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, marketable(day, "600000.SH", Side.BUY)))
    assert seen == ["_on_order_response", "_on_order_error"]  # the push came first; xttrader reordered
    got = order(day, cid)
    assert got.status is OrderStatus.REJECTED and "价格超出涨跌停" in got.status_msg
    assert got.broker_order_id is not None


def test_an_order_with_no_answer_at_all_is_asked_about_then_expired_never_assumed(day: QmtDay) -> None:
    day.exchange.faults.silent_next = 1
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, passive(day, "600000.SH", Side.BUY)))
    assert order(day, cid).status is OrderStatus.SUBMITTED
    qmt_at(day, 9, 31, 15)  # past the answer timeout (10 s): asked, not listed, in doubt
    assert order(day, cid).status is OrderStatus.IN_DOUBT
    qmt_at(day, 9, 32, 0)  # past the settle time (30 s): lost in transit
    assert order(day, cid).status is OrderStatus.EXPIRED
    assert day.engine.call(lambda e: e.oms.cash.available) == day.exchange.broker.query_asset().available


def test_an_order_booked_but_never_answered_is_found_by_the_query(day: QmtDay) -> None:
    day.exchange.faults.mute_next = 1
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, passive(day, "600000.SH", Side.BUY)))
    assert order(day, cid).status is OrderStatus.SUBMITTED
    qmt_at(day, 9, 31, 15)
    got = order(day, cid)
    assert got.status is OrderStatus.ACCEPTED and got.broker_order_id is not None


# ------------------------------------------------------------------------------------ pushes
def test_duplicate_trade_pushes_are_booked_once(day: QmtDay) -> None:
    day.exchange.faults.duplicate_trades = True
    pushes = []
    real = day.gateway._on_trade
    day.gateway._on_trade = lambda t: (pushes.append(t.traded_id), real(t))
    (cid,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, marketable(day, "600000.SH", Side.BUY)))
    qmt_at(day, 9, 31, 3)
    booked = day.engine.call(
        lambda e: [r.trade_id for r in e.oms.trade_ids.values() if r.client_order_id == cid]
    )
    assert len(pushes) == 2 * len(booked) and booked
    assert order(day, cid).filled_qty == 1000
    books_agree(day)


def test_an_order_typed_by_hand_in_qmt_is_shown_as_external_and_counted(day: QmtDay) -> None:
    day.exchange.place_by_hand("600000.SH", Side.BUY, 500, marketable(day, "600000.SH", Side.BUY))
    qmt_at(day, 9, 31, 3)
    external = [o for o in orders(day).values() if o.external]
    assert len(external) == 1
    assert external[0].code == "600000.SH" and external[0].client_order_id.startswith("X261123")
    assert external[0].filled_qty == 500
    assert any("非 Tiller 委托" in a for a in alerts(day))
    books_agree(day)  # its fill is in the books (the account's truth), never managed by Tiller


# ------------------------------------------------------------------------------------ connection
def test_a_disconnect_reconnects_resubscribes_queries_and_never_resends(day: QmtDay) -> None:
    events: list[Any] = []
    day.setup.terminal.subscribe(
        lambda e: events.append(e) if isinstance(e, ConnectionStateChanged) else None
    )
    (resting,) = submit(day, NewOrder("600000.SH", Side.BUY, 1000, quote(day, "600000.SH").best_bid))
    first_session = day.gateway.state().session_id
    sent_before = day.exchange.orders_received

    day.exchange.disconnect()
    wait_until(lambda: not day.gateway.connected, what="the gateway sees the drop")
    wait_until(lambda: day.gateway.state().attempts >= 3, what="reconnect attempts with backoff")
    state = day.gateway.state()
    assert state.reconnecting and state.down_since is not None
    assert "reconnecting" in state.describe()
    # while down: the market goes on (the resting order may fill, its reports are lost)
    t = datetime.combine(DAY, time(9, 31), CN_TZ)
    for _ in range(60):
        t += timedelta(seconds=3)
        day.clock.advance_to(t)
        day.exchange.on_quotes(day.feed.snapshot(DAY, t.time()))
        day.exchange.broker.wait_idle(WAIT)
        if any(r.client_order_id == resting and r.filled_qty for r in day.exchange.broker.query_orders()):
            break
    (blocked,) = day.setup.terminal.submit([NewOrder("600000.SH", Side.BUY, 100, D("9.00"))], timeout=WAIT)
    assert order(day, blocked).status is OrderStatus.REJECTED  # not sent while down

    day.exchange.restore()
    # connected, and the engine heard of it (the reconnect thread pushes after the session is up)
    wait_until(lambda: bool(events) and events[-1].connected, what="reconnected")
    settle_qmt(day)
    assert day.gateway.state().session_id != first_session
    assert day.exchange.orders_received == sent_before  # nothing resent because of the reconnect
    at_broker = {r.client_order_id: r for r in day.exchange.broker.query_orders()}
    assert at_broker[resting].filled_qty > 0  # it filled while the link was down ...
    assert order(day, resting).filled_qty == at_broker[resting].filled_qty  # ... and was caught up once
    books_agree(day)
    flags = [e.connected for e in events]
    assert flags[0] is False and flags[-1] is True
    texts = alerts(day)
    assert any("券商连接断开" in a for a in texts) and any("重新连接" in a for a in texts)


def test_a_session_id_in_use_is_explained_or_another_is_chosen(tmp_path: Path) -> None:
    session = make_qmt_day(tmp_path / "acct", settings_env={"QMT__SESSION_ID": "4242"})
    other = standin.XtQuantAsyncClient(str(session.userdata).encode("gb18030"), "xtquant", 4242)
    other.start()
    assert other.connect() == 0  # another program holds session 4242
    try:
        with pytest.raises(QmtError) as info:
            session.gateway.connect()
        assert "session 4242" in str(info.value) and "极简模式" in str(info.value)
    finally:
        session.close()
    chooser = make_qmt_day(tmp_path / "acct2", exchange=None)
    try:
        chooser.gateway.connect()
        assert chooser.gateway.connected and chooser.gateway.state().session_id != 4242
    finally:
        chooser.close()
        other.stop()


def test_connect_failure_and_a_wrong_account_are_said_in_words(tmp_path: Path) -> None:
    session = make_qmt_day(tmp_path / "acct")
    session.exchange.faults.connect_code = -1
    try:
        with pytest.raises(QmtError) as info:
            session.gateway.connect()
        assert "connect() returned -1" in str(info.value)
        session.exchange.faults.connect_code = 0
        session.exchange.account_id = "another"
        with pytest.raises(QmtError) as info:
            session.gateway.connect()
        assert "subscribe() returned -1" in str(info.value) and "qmt.account_id" in str(info.value)
        assert "8800001234" not in str(info.value)  # the account id is shown masked only
    finally:
        session.close()


def test_a_query_miniqmt_never_answers_fails_in_words_instead_of_hanging(day: QmtDay) -> None:
    day.gateway._call_timeout = 0.2
    day.exchange.faults.unanswered_queries = True
    with pytest.raises(QmtError) as info:
        day.gateway.query_orders()
    assert "did not answer" in str(info.value)


def test_a_subscribe_miniqmt_never_answers_fails_in_words_and_leaves_no_session(tmp_path: Path) -> None:
    session = make_qmt_day(tmp_path / "acct")
    try:
        session.gateway._call_timeout = 0.2
        session.exchange.faults.unanswered_queries = True
        with pytest.raises(QmtError, match="did not answer subscribe"):
            session.gateway.connect()
        assert not session.gateway.connected and session.gateway.trader is None
        assert session.exchange._clients == []  # the half-open session was stopped
    finally:
        session.close()


def test_callbacks_never_call_xttrader_from_its_own_thread(day: QmtDay) -> None:
    """Trap A1: a synchronous call from inside a callback deadlocks xttrader's one executor."""
    trader = day.gateway.trader
    executor_threads: set[int] = set()
    trader.executor.submit(lambda: executor_threads.add(threading.get_ident())).result(WAIT)
    calls: list[tuple[str, int]] = []
    for name in ("order_stock_async", "cancel_order_stock_async", "query_stock_orders_async",
                 "query_stock_trades_async", "query_stock_orders", "query_stock_trades", "order_stock",
                 "cancel_order_stock", "query_stock_asset", "query_stock_positions"):  # fmt: skip
        real = getattr(trader, name)
        setattr(
            trader,
            name,
            lambda *a, real=real, name=name, **k: (
                calls.append((name, threading.get_ident())),
                real(*a, **k),
            )[1],
        )
    ids = submit(day, NewOrder("600000.SH", Side.BUY, 1000, marketable(day, "600000.SH", Side.BUY)),
                 NewOrder("600000.SH", Side.BUY, 1000, passive(day, "600000.SH", Side.BUY)))  # fmt: skip
    day.setup.terminal.cancel(ids[1])
    day.setup.terminal.resync()
    qmt_at(day, 9, 31, 3)
    assert {n for n, _ in calls} >= {
        "order_stock_async",
        "cancel_order_stock_async",
        "query_stock_orders_async",
    }
    assert not [n for n, ident in calls if ident in executor_threads]
    assert not [n for n, _ in calls if not n.endswith("_async")]  # the sync ones wait with no timeout


def test_pushes_are_counted_and_an_unreadable_one_is_logged_not_raised(day: QmtDay) -> None:
    from xtquant import xttype

    before = day.gateway.unreadable
    bad = xttype.XtTrade(
        "x", "600000.SH", 23, "", 0, float("nan"), 100, 0.0, 5, "", "", "", 48, 48, 0.0, "", ""
    )
    day.exchange._broadcast("bindOnStockTradeCallback", bad)
    settle_qmt(day)
    assert day.gateway.unreadable == before + 1
    assert day.engine.call(lambda e: len(e.oms.trade_ids)) == 0


# ------------------------------------------------------------------------------------ recovery at start
def test_recovery_at_start_matches_by_remark_and_adopts_a_late_acknowledgement(tmp_path: Path) -> None:
    folder = tmp_path / "acct"
    first = open_qmt_day(make_qmt_day(folder, broker_kwargs={"ack_latency": timedelta(seconds=20)}))
    qmt_at(first, 9, 31)
    on_time = submit(first, NewOrder("600000.SH", Side.BUY, 1000, passive(first, "600000.SH", Side.BUY)))
    qmt_at(first, 9, 31, 30)  # acknowledged
    late = submit(first, NewOrder("000001.SZ", Side.SELL, 500, passive(first, "000001.SZ", Side.SELL)))
    assert order(first, late[0]).status is OrderStatus.SUBMITTED  # still on the wire
    exchange, clock = first.exchange, first.clock
    first.setup.close()  # Tiller stops (miniQMT and the counter go on)

    second = make_qmt_day(folder, exchange=exchange, clock=clock)
    try:
        second.setup.terminal.start()
        settle_qmt(second)
        assert order(second, on_time[0]).status is OrderStatus.ACCEPTED  # found by its remark
        assert order(second, late[0]).status is OrderStatus.IN_DOUBT  # not listed yet: never assumed
        qmt_at(second, 9, 31, 55)  # the counter takes it now
        got = order(second, late[0])
        assert got.status is OrderStatus.ACCEPTED and got.broker_order_id is not None
        remarks = [r.client_order_id for r in exchange.broker.query_orders()]
        assert sorted(remarks) == sorted([on_time[0], late[0]])  # each once: nothing sent twice
        books_agree(second)
    finally:
        second.close()


# ------------------------------------------------------------------------------------ smart algorithms
def test_a_smart_algo_order_without_permission_is_refused_in_words(day: QmtDay) -> None:
    from app.domain.identifiers import ClientOrderId
    from app.domain.reports import SubmitOrder

    got: list[Any] = []
    day.gateway.set_report_handler(got.append)
    day.gateway.submit_smart_algo(
        SubmitOrder(ClientOrderId("T261123ZZ0001"), "600000.SH", Side.BUY, 10000, D("10.50")),
        "VWAP",
        "09:35:00",
        "14:30:00",
    )
    wait_until(lambda: bool(got), what="the algo's answer")
    assert got[0].broker_order_id is None
    assert "permission" in got[0].error and "twap/vwap" in got[0].error
    day.exchange.faults.algo_permission = True
    got.clear()
    day.gateway.submit_smart_algo(
        SubmitOrder(ClientOrderId("T261123ZZ0002"), "600000.SH", Side.BUY, 10000, D("10.50")),
        "VWAP",
        "09:35:00",
        "14:30:00",
    )
    wait_until(lambda: bool(got), what="the algo's answer")
    assert got[0].broker_order_id is not None and got[0].error == ""


def test_alert_events_are_published_for_the_connection(day: QmtDay) -> None:
    seen: list[Any] = []
    day.setup.terminal.subscribe(lambda e: seen.append(e) if isinstance(e, AlertRaised) else None)
    day.exchange.disconnect()
    wait_until(lambda: any(a.category == "connection" for a in seen), what="a connection alert")
    day.exchange.restore()
    wait_until(lambda: day.gateway.connected, what="reconnected")


# ------------------------------------------------------------------------------------ broker algorithm policy
def _start_line(day: QmtDay, line_id: str, policy: str, qty: int = 1000) -> None:
    request = ExecutionRequest(line_id, "alpha", "600000.SH", Side.BUY, qty, policy, {"end": "14:30"})
    day.engine.call(lambda e: e.execution.start(request))
    settle_qmt(day)


def test_the_broker_vwap_policy_runs_the_line_as_one_task_of_the_broker(day: QmtDay) -> None:
    day.exchange.faults.algo_permission = True
    _start_line(day, "L-algo", "broker_vwap")
    qmt_at(day, 9, 31, 3)
    qmt_at(day, 9, 31, 6)
    children = [o for o in orders(day).values() if o.signal_id == "L-algo"]
    assert len(children) == 1 and not any(o.external for o in orders(day).values())
    (child,) = children
    assert child.broker_order_id is not None and child.broker_order_id.startswith("A")
    assert child.status is OrderStatus.FILLED and child.filled_qty == 1000  # the broker's fills, booked to it
    assert child.price == day.engine.call(lambda e: e.oms.instruments["600000.SH"].up_limit)  # capped
    progress = day.engine.call(lambda e: e.execution.progress("L-algo"))
    assert progress is not None and not progress.working and progress.filled_qty == 1000
    day.setup.terminal.resync()  # the task is still listed by the gateway: nothing put in doubt
    settle_qmt(day)
    assert order(day, child.client_order_id).status is OrderStatus.FILLED
    books_agree(day)


def test_without_the_brokers_permission_the_algorithm_line_stops_in_words(day: QmtDay) -> None:
    _start_line(day, "L-noperm", "broker_twap")
    qmt_at(day, 9, 31, 3)
    (child,) = [o for o in orders(day).values() if o.signal_id == "L-noperm"]
    assert child.status is OrderStatus.REJECTED and "permission" in child.status_msg
    progress = day.engine.call(lambda e: e.execution.progress("L-noperm"))
    assert progress is not None and not progress.working
    assert "permission" in progress.note and "twap/vwap" in progress.note
    assert day.engine.call(lambda e: e.oms.cash.available) == day.exchange.broker.query_asset().available


def test_the_simulated_broker_has_no_broker_algorithms_and_says_so(tmp_path: Path) -> None:
    from tests.helpers.engine_day import at, make_setup, open_day, settle

    setup = open_day(make_setup(tmp_path / "sim"))
    try:
        at(setup, 9, 31)
        settle(setup)
        request = ExecutionRequest(
            "L-sim", "alpha", "600000.SH", Side.BUY, 1000, "broker_vwap", {"end": "14:30"}
        )
        setup.engine.call(lambda e: e.execution.start(request))
        settle(setup)
        at(setup, 9, 31, 3)
        settle(setup)
        (child,) = [o for o in setup.engine.call(lambda e: [copy(o) for o in e.oms.orders.values()])
                    if o.signal_id == "L-sim"]  # fmt: skip
        assert child.status is OrderStatus.REJECTED and "no broker-side algorithms" in child.status_msg
        assert setup.broker.query_orders() == []  # nothing sent
        progress = setup.engine.call(lambda e: e.execution.progress("L-sim"))
        assert progress is not None and not progress.working and "no broker-side algorithms" in progress.note
    finally:
        setup.close()
