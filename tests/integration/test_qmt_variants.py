"""The QMT gateway's scenarios against our stand-in AND against the pushes other miniQMTs may send
within the documented interface (tests/standins/xtvariants.py): callbacks in other orders, remarks
echoed cut short or empty, no strategy name, 48/49 before the counter's report, float noise, 55
skipped, 54 for a part-filled cancel, late duplicate trades, pushes from strange threads, other
programs' orders in the query. Whatever the variation, the same outcome: each fill booked once to
the order that made it, nothing sent twice, no order left working, the books equal the counter's."""

from __future__ import annotations

import logging
import threading
import time as wall
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.core.oms import NewOrder
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus
from app.domain.side import Side
from app.gateways.qmt import QmtError
from tests.helpers.qmt import (
    DAY,
    QmtDay,
    make_qmt_day,
    open_qmt_day,
    qmt_at,
    qmt_books,
    qmt_orders,
    qmt_price,
    qmt_quote,
    settle_qmt,
)
from tests.standins import xtpythonclient as standin

WAIT = 30.0
PROFILES = {
    "ours": (),
    "trade_before_order": ("trade_before_order",),
    "order_before_response": ("order_before_response",),
    "short_remarks": ("remark_truncated", "strategy_missing", "pre_report"),
    "no_remarks_any_order": ("remark_empty", "order_before_response", "trade_before_order"),
    "noisy": ("noise", "skip_55", "cancel_as_54", "late_duplicates", "foreign_threads"),
    "foreign_orders": ("foreign_orders", "pre_report", "remark_truncated"),
    "trades_late": ("trades_late", "cancel_as_54", "skip_55", "strategy_missing"),
}


@pytest.fixture(autouse=True)
def _standin_exchanges() -> Iterator[None]:
    yield
    standin.reset()


@pytest.fixture(params=list(PROFILES), ids=list(PROFILES))
def variations(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return PROFILES[request.param]


def _day(folder: Path, variations: tuple[str, ...], **kwargs: object) -> QmtDay:
    day = open_qmt_day(make_qmt_day(folder, variations=variations, **kwargs))  # type: ignore[arg-type]
    qmt_at(day, 9, 31)
    return day


def _submit(day: QmtDay, *requests: NewOrder) -> list[str]:
    ids = day.setup.terminal.submit(list(requests), timeout=WAIT)
    settle_qmt(day)
    return ids


def _alerts(day: QmtDay) -> list[str]:
    return day.engine.call(lambda e: [a.message for a in e.alerts])


def _sound(day: QmtDay) -> None:
    """What holds whatever the variation: every push read, books equal, holds equal, fills once."""
    assert day.gateway.unreadable == 0
    assert not day.gateway._held  # no push left waiting to be told whose it is
    mine, theirs = qmt_books(day)
    assert mine == theirs
    available = day.engine.call(lambda e: e.oms.cash.available)
    assert available == day.exchange.broker.query_asset().available  # no hold left behind
    booked = day.engine.call(lambda e: sorted((str(r.trade_id), r.qty) for r in e.oms.trade_ids.values()))
    at_counter = sorted((str(t.trade_id), t.qty) for t in day.exchange.broker.query_trades())
    assert booked == at_counter
    assert not [a for a in _alerts(day) if "内容不同" in a]  # no fill reported twice differently


def _tillers(day: QmtDay) -> dict[str, object]:
    return {cid: o for cid, o in qmt_orders(day).items() if not o.external}


def test_a_fill_is_booked_once_to_its_order(tmp_path: Path, variations: tuple[str, ...]) -> None:
    day = _day(tmp_path / "acct", variations)
    try:
        price = qmt_price(day, "600000.SH", Side.BUY, marketable=True)
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, price, strategy_id="alpha"))
        qmt_at(day, 9, 31, 3)
        tillers = _tillers(day)
        assert list(tillers) == [cid]
        got = tillers[cid]
        assert got.status is OrderStatus.FILLED and got.filled_qty == 1000, got  # type: ignore[attr-defined]
        assert got.broker_order_id is not None  # type: ignore[attr-defined]
        assert not [o for o in qmt_orders(day).values() if o.external and o.filled_qty]
        held = day.engine.call(lambda e: e.oms.ledger.get("alpha", "600000.SH"))
        assert held is not None and held.total == 1000  # the strategy's own fill, not "external"
        _sound(day)
        day.setup.terminal.resync()  # the query says the same: nothing changes, nothing twice
        settle_qmt(day)
        assert qmt_orders(day)[cid].filled_qty == 1000
        _sound(day)
        assert day.exchange.orders_received == 1
    finally:
        day.close()


def test_part_fills_then_a_cancel_end_the_order_with_the_counters_fills(
    tmp_path: Path, variations: tuple[str, ...]
) -> None:
    day = _day(tmp_path / "acct", variations, broker_kwargs={"participation": D("0.02")})
    try:
        price = qmt_quote(day, "600000.SH").best_ask  # takes the first level, the rest waits
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 60_000, price))
        assert qmt_orders(day)[cid].status is OrderStatus.PARTIALLY_FILLED
        day.exchange.faults.hold_cancels = True
        day.setup.terminal.cancel(cid)
        settle_qmt(day)
        assert qmt_orders(day)[cid].status.is_working  # pending, never assumed cancelled
        day.exchange.release_cancels()
        settle_qmt(day)
        qmt_at(day, 9, 31, 6)
        got = qmt_orders(day)[cid]
        at_counter = next(r for r in day.exchange.broker.query_orders() if r.client_order_id == cid)
        assert got.status is OrderStatus.CANCELLED, got
        assert 0 < got.filled_qty == at_counter.filled_qty < 60_000
        assert list(_tillers(day)) == [cid]
        _sound(day)
    finally:
        day.close()


def test_a_refusal_ends_the_order_with_the_brokers_words(tmp_path: Path, variations: tuple[str, ...]) -> None:
    day = _day(tmp_path / "acct", variations)
    try:
        day.exchange.faults.reject_next = ["可用资金不足"]
        price = qmt_price(day, "600000.SH", Side.BUY, marketable=True)
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, price))
        qmt_at(day, 9, 31, 3)
        got = qmt_orders(day)[cid]
        assert got.status is OrderStatus.REJECTED and "可用资金不足" in got.status_msg, got
        assert list(_tillers(day)) == [cid]
        _sound(day)
    finally:
        day.close()


def test_a_hand_order_and_other_programs_orders_are_external(
    tmp_path: Path, variations: tuple[str, ...]
) -> None:
    day = _day(tmp_path / "acct", variations)
    try:
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, qmt_price(day, "600000.SH", Side.BUY,
                                                                          marketable=False)))  # fmt: skip
        day.exchange.place_by_hand(
            "600000.SH", Side.BUY, 500, qmt_price(day, "600000.SH", Side.BUY, marketable=True)
        )
        qmt_at(day, 9, 31, 3)
        day.setup.terminal.resync()
        settle_qmt(day)
        tillers = _tillers(day)
        assert list(tillers) == [cid] and tillers[cid].status is OrderStatus.ACCEPTED  # type: ignore[attr-defined]
        external = [o for o in qmt_orders(day).values() if o.external]
        assert [o.filled_qty for o in external if o.filled_qty] == [500]
        _sound(day)
    finally:
        day.close()


def test_an_order_nobody_answers_is_asked_about_then_expired(
    tmp_path: Path, variations: tuple[str, ...]
) -> None:
    day = _day(tmp_path / "acct", variations)
    try:
        day.exchange.faults.silent_next = 1
        (lost,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, qmt_price(day, "600000.SH", Side.BUY,
                                                                           marketable=False)))  # fmt: skip
        (kept,) = _submit(day, NewOrder("600000.SH", Side.BUY, 500, qmt_price(day, "600000.SH", Side.BUY,
                                                                          marketable=False)))  # fmt: skip
        t = datetime.combine(DAY, time(9, 31), CN_TZ)
        for _ in range(12):
            t += timedelta(seconds=5)
            qmt_at(day, t.time())
        orders = qmt_orders(day)
        assert orders[lost].status is OrderStatus.EXPIRED
        assert orders[kept].status is OrderStatus.ACCEPTED and orders[kept].broker_order_id is not None
        assert day.exchange.orders_received == 2  # asked about, never sent again
        _sound(day)
    finally:
        day.close()


# ------------------------------------------------------------------------------------ one answer of another kind
def _wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = wall.monotonic() + WAIT
    while not condition():
        if wall.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT}s: {what}")
        wall.sleep(0.005)


def test_a_refusal_said_only_in_the_async_response_rejects_in_words(tmp_path: Path) -> None:
    day = _day(tmp_path / "acct", ("refusal_in_response",))
    try:
        day.exchange.faults.reject_next = ["超出涨跌停价格"]
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, qmt_price(day, "600000.SH", Side.BUY,
                                                                          marketable=True)))  # fmt: skip
        got = qmt_orders(day)[cid]
        assert got.status is OrderStatus.REJECTED and "超出涨跌停价格" in got.status_msg
        assert "order refused" in got.status_msg and got.broker_order_id is None
        _sound(day)
    finally:
        day.close()


def test_a_cancel_refused_after_it_was_sent_leaves_the_order_working_and_says_why(tmp_path: Path) -> None:
    day = _day(tmp_path / "acct", ("cancel_refused_late", "pre_report"))
    try:
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, qmt_price(day, "600000.SH", Side.BUY,
                                                                          marketable=False)))  # fmt: skip
        day.exchange.faults.refuse_cancels = ["柜台繁忙，撤单失败"]
        day.setup.terminal.cancel(cid)
        settle_qmt(day)
        assert qmt_orders(day)[cid].status is OrderStatus.ACCEPTED
        assert any("柜台繁忙，撤单失败" in a and cid in a for a in _alerts(day))
        day.setup.terminal.cancel(cid)  # asked again: this one goes through
        settle_qmt(day)
        assert qmt_orders(day)[cid].status is OrderStatus.CANCELLED
        _sound(day)
    finally:
        day.close()


def test_a_query_in_flight_when_the_link_drops_fails_at_once_in_words(tmp_path: Path) -> None:
    day = _day(tmp_path / "acct", ())
    try:
        day.gateway._call_timeout = 3600.0  # it must not be the timeout that ends the wait
        day.exchange.faults.unanswered_queries = True
        failure: list[BaseException] = []

        def ask() -> None:
            try:
                day.gateway.query_orders()
            except BaseException as exc:
                failure.append(exc)

        asking = threading.Thread(target=ask, daemon=True)  # a regression must not hang the run
        asking.start()
        _wait_until(lambda: day.gateway._queries, "the query is in flight")
        day.exchange.disconnect()
        asking.join(WAIT)
        assert not asking.is_alive()
        assert isinstance(failure[0], QmtError)
        assert "while a query was in flight" in str(failure[0]) and "连接断开" in str(failure[0])
        day.exchange.faults.unanswered_queries = False
        day.exchange.restore()
        _wait_until(lambda: day.gateway.connected, "reconnected")
        assert day.gateway.query_orders() == []
    finally:
        day.close()


def test_a_connect_refused_once_is_tried_again_or_explained(tmp_path: Path) -> None:
    day = make_qmt_day(tmp_path / "acct", variations=("pre_report",))
    try:
        day.exchange.connect_codes = [-1, 0]
        day.gateway.connect()  # no session id configured: another one is tried
        assert day.gateway.connected and len(day.exchange.sessions_seen) == 1
    finally:
        day.close()
    pinned = make_qmt_day(
        tmp_path / "pinned", variations=("pre_report",), settings_env={"QMT__SESSION_ID": "77"}
    )
    try:
        pinned.exchange.connect_codes = [-1, 0]
        with pytest.raises(QmtError, match=r"connect\(\) returned -1, session 77") as info:
            pinned.gateway.connect()
        assert "极简模式" in str(info.value) and not pinned.gateway.connected
        pinned.gateway.connect()  # the caller's second try is taken
        assert pinned.gateway.connected and pinned.exchange.sessions_seen == [77]
    finally:
        pinned.close()


def test_order_stock_async_returning_minus_one_is_not_called_refused_nor_sent_again(tmp_path: Path) -> None:
    day = _day(tmp_path / "acct", ())
    try:
        client = day.gateway.trader.async_client
        real = client.nextSeq
        seqs = iter([-1])
        client.nextSeq = lambda: next(seqs, None) or real()
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, qmt_price(day, "600000.SH", Side.BUY,
                                                                          marketable=False)))  # fmt: skip
        qmt_at(day, 9, 31, 15)  # past the answer timeout
        got = qmt_orders(day)[cid]
        assert got.status is OrderStatus.ACCEPTED and got.broker_order_id is not None  # it did get there
        assert day.exchange.orders_received == 1
        _sound(day)
    finally:
        day.close()


def test_a_trade_of_an_order_nobody_knows_is_booked_once_as_the_accounts(tmp_path: Path) -> None:
    from xtquant import xttype

    day = _day(tmp_path / "acct", ())
    try:
        before = day.engine.call(lambda e: e.oms.positions["000001.SZ"].total)

        def stray() -> Any:
            return xttype.XtTrade("8800001234", "000001.SZ", 23, "Z-77", 0, 11.370000000000001, 100.0,
                                  1137.0000000001, 987654321, "", "", "", 48, 48, 0.0, "", "")  # fmt: skip

        day.exchange._broadcast("bindOnStockTradeCallback", stray())
        day.exchange._broadcast("bindOnStockTradeCallback", stray())
        settle_qmt(day)
        assert day.engine.call(lambda e: e.oms.positions["000001.SZ"].total) == before + 100
        (external,) = [o for o in qmt_orders(day).values() if o.external]
        assert external.filled_qty == 100 and external.code == "000001.SZ"
        booked = day.engine.call(lambda e: [r for r in e.oms.trade_ids.values() if str(r.trade_id) == "Z-77"])
        assert [(r.qty, r.price, r.amount) for r in booked] == [(100, D("11.37"), D("1137"))]
    finally:
        day.close()


def test_the_account_goes_out_as_a_stock_account_of_type_2_on_every_request(tmp_path: Path) -> None:
    day = make_qmt_day(tmp_path / "acct")
    seen: list[tuple[str, int, str]] = []
    for name in ("subscribe", "order", "query"):
        real = getattr(day.exchange, name)

        def spy(client: Any, *args: Any, real: Any = real, name: str = name) -> None:
            req = args[-1]
            seen.append((name, req.m_nAccountType, req.m_strAccountID))
            real(client, *args)

        setattr(day.exchange, name, spy)
    try:
        open_qmt_day(day)
        qmt_at(day, 9, 31)
        _submit(
            day, NewOrder("600000.SH", Side.BUY, 100, qmt_price(day, "600000.SH", Side.BUY, marketable=False))
        )
        assert {n for n, _, _ in seen} == {"subscribe", "order", "query"}
        assert {(t, a) for _, t, a in seen} == {(2, "8800001234")}  # StockAccount(id): account_type 2
    finally:
        day.close()


def test_a_userdata_folder_with_a_chinese_name_reaches_the_native_client_as_gb18030(tmp_path: Path) -> None:
    day = _day(tmp_path / "国金证券QMT交易端", ())
    try:
        assert "国金证券QMT交易端" in str(day.gateway.trader.async_client.path)
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 100, qmt_price(day, "600000.SH", Side.BUY,
                                                                         marketable=True)))  # fmt: skip
        qmt_at(day, 9, 31, 3)
        assert qmt_orders(day)[cid].status is OrderStatus.FILLED
    finally:
        day.close()


def test_an_asset_query_answered_with_nothing_fails_in_words(tmp_path: Path) -> None:
    day = _day(tmp_path / "acct", ())
    try:
        real = day.exchange.query

        def empty_asset(client: Any, kind: str, seq: int, req: Any) -> None:
            if kind == "asset":  # xttrader's query_stock_asset_async hands None on an empty answer
                day.exchange._push(client, "bindOnQueryStockAssetCallback", seq, [])
            else:
                real(client, kind, seq, req)

        day.exchange.query = empty_asset  # type: ignore[method-assign]
        with pytest.raises(QmtError, match="returned no asset"):
            day.gateway.query_asset()
        assert day.gateway.query_positions()  # the other queries still answer
    finally:
        day.close()


def test_an_order_unanswered_when_the_link_dropped_holds_nothing_up_in_the_next_session(
    tmp_path: Path,
) -> None:
    day = _day(tmp_path / "acct", ("remark_empty", "order_before_response", "trade_before_order"))
    try:
        day.exchange.faults.silent_next = 1  # never answered, never booked
        (lost,) = _submit(day, NewOrder("600000.SH", Side.BUY, 100, qmt_price(day, "600000.SH", Side.BUY,
                                                                          marketable=False)))  # fmt: skip
        assert day.gateway._unanswered  # its answer is awaited (pushes of unknown orders wait for it)
        day.exchange.disconnect()
        _wait_until(lambda: not day.gateway.connected, "down")
        day.exchange.restore()
        _wait_until(lambda: day.gateway.connected, "reconnected")
        settle_qmt(day)
        assert not day.gateway._unanswered  # the old session's answer will never come
        # the new session's seqs start again at 1: the lost order's seq must not name this one
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, qmt_price(day, "600000.SH", Side.BUY,
                                                                           marketable=True)))  # fmt: skip
        qmt_at(day, 9, 31, 3)
        orders = qmt_orders(day)
        assert orders[cid].status is OrderStatus.FILLED and orders[cid].filled_qty == 1000
        assert orders[lost].status in (OrderStatus.SUBMITTED, OrderStatus.IN_DOUBT)  # asked about later
        assert not day.gateway._held and day.gateway.unreadable == 0
        mine, theirs = qmt_books(day)
        assert mine == theirs
    finally:
        day.close()


def test_a_reconnect_whose_subscribe_is_refused_tries_again_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    day = _day(tmp_path / "acct", ("pre_report",))
    caplog.set_level(logging.WARNING, logger="app.gateways.qmt.gateway")
    try:
        day.exchange.disconnect()
        _wait_until(lambda: not day.gateway.connected, "down")
        day.exchange.subscribe_codes = [-1, 7]
        day.exchange.restore()
        _wait_until(lambda: day.gateway.connected, "reconnected after two refused subscribes")
        assert not day.exchange.subscribe_codes
        said = [r.getMessage() for r in caplog.records if "reconnect attempt" in r.getMessage()]
        assert len(said) == 2 and "subscribe() returned -1" in said[0] and "subscribe() returned 7" in said[1]
        assert all("订阅资金账号失败" in m and "****1234" in m and "8800001234" not in m for m in said)
        assert day.gateway.state().attempts == 0 and day.gateway.state().last_error == ""
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 100, qmt_price(day, "600000.SH", Side.BUY,
                                                                         marketable=True)))  # fmt: skip
        qmt_at(day, 9, 31, 3)
        assert qmt_orders(day)[cid].status is OrderStatus.FILLED
        assert day.exchange.orders_received == 1
        _sound(day)
    finally:
        day.close()


def test_an_order_number_seen_again_the_next_day_is_not_tied_to_yesterdays_order(tmp_path: Path) -> None:
    from xtquant import xttype

    day = _day(tmp_path / "acct", ("remark_empty",))
    try:
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 100, qmt_price(day, "600000.SH", Side.BUY,
                                                                         marketable=False)))  # fmt: skip
        boid = int(qmt_orders(day)[cid].broker_order_id)
        heard: list[Any] = []
        handler = day.gateway._handler
        day.gateway.set_report_handler(lambda r: (heard.append(r), handler(r)))

        def push(status: int) -> None:  # the counter's order number boid, no remark echoed
            day.exchange._broadcast("bindOnStockOrderCallback", xttype.XtOrder(
                "8800001234", "600000.SH", boid, "", 0, 23, 100, 11, 9.5, 0, 0.0, status, "", "", "", 48, 48, "", "",
            ))  # fmt: skip
            settle_qmt(day)

        push(51)  # today: the gateway knows whose it is
        assert [r.client_order_id for r in heard] == [cid]
        day.clock.advance_to(datetime.combine(DAY + timedelta(days=1), time(9, 20), CN_TZ))
        push(50)  # the next day the counter numbers from 1 again: a new order, not yesterday's
        assert heard[-1].client_order_id is None
    finally:
        day.close()
