"""The OMS on a real SQLite file, driven report by report (no threads): every path of a fill."""

from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.core.oms import NewOrder, OrderManager
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.orders import OrderStatus, PriceType
from app.domain.positions import Position
from app.domain.reports import (
    BrokerAsset,
    BrokerPosition,
    CancelErrorReport,
    OrderReport,
    SubmitResponse,
    TradeReport,
)
from app.domain.side import Side
from tests.helpers.oms_books import FEES, make_oms

TS = datetime(2026, 11, 23, 9, 31, tzinfo=CN_TZ)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tiller-sim.db"


@pytest.fixture
def oms(db: Path) -> OrderManager:
    oms = make_oms(db)
    oms.set_cash(D("100000"))
    oms.set_position(Position("600000.SH", total=1000, settled=1000, avg_cost=D("9.50")))
    oms.store.commit()
    return oms


def send(oms: OrderManager, request: NewOrder):
    order = oms.create(request, TS)
    if order.status is OrderStatus.INITIALIZED:
        oms.mark_submitted(order, TS)
    oms.store.commit()
    return order


def accept(oms: OrderManager, order, broker_id: str = "B1") -> None:
    oms.on_submit_response(SubmitResponse(order.client_order_id, BrokerOrderId(broker_id), TS))


def trade(order, trade_id: str, qty: int, price: str, fees: str, broker_id: str = "B1") -> TradeReport:
    p = D(price)
    return TradeReport(
        TradeId(trade_id),
        BrokerOrderId(broker_id),
        order.client_order_id,
        order.code,
        order.side,
        qty,
        p,
        p * qty,
        D(fees),
        TS,
    )


def test_buy_reserves_cost_with_fees_then_fills_and_pays_exactly(oms: OrderManager) -> None:
    order = send(oms, NewOrder("600036.SH", Side.BUY, 1000, D("40.00")))

    assert order.status is OrderStatus.SUBMITTED
    assert oms.cash.frozen == D("40000") + FEES.cost("600036.SH", Side.BUY, D("40.00"), 1000)

    accept(oms, order)
    oms.on_trade_report(trade(order, "T1", 400, "39.90", "5.00"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    oms.on_trade_report(trade(order, "T2", 600, "39.95", "1.03"))

    assert order.status is OrderStatus.FILLED
    assert oms.cash.cash == D("100000") - D("15960") - D("23970") - D("6.03")
    assert oms.cash.frozen == 0
    position = oms.positions["600036.SH"]
    assert (position.total, position.sellable, position.today_qty) == (1000, 0, 1000)


def test_same_trade_pushed_twice_is_booked_once(oms: OrderManager) -> None:
    order = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    accept(oms, order)
    report = trade(order, "T1", 100, "40.00", "5.00")

    oms.on_trade_report(report)
    cash_after_first = oms.cash.cash
    oms.on_trade_report(report)

    assert oms.cash.cash == cash_after_first
    assert oms.positions["600036.SH"].total == 100
    oms.store.commit()
    rows = oms.store.conn.execute("SELECT count(*) FROM trades WHERE traded_id = 'T1'").fetchone()
    assert rows == (1,)


def test_fill_that_overtakes_the_acceptance_is_applied(oms: OrderManager) -> None:
    order = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    oms.on_trade_report(trade(order, "T1", 100, "40.00", "5.00"))
    accept(oms, order)
    assert order.status is OrderStatus.FILLED
    assert order.broker_order_id == "B1"


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (NewOrder("600036.SH", Side.BUY, 150, D("40.00")), "100"),  # not a board lot
        (NewOrder("600036.SH", Side.BUY, 100, D("40.005")), "tick"),
        (NewOrder("600036.SH", Side.BUY, 5000, D("40.00")), "available"),  # 200,000 > cash
        (NewOrder("600000.SH", Side.SELL, 2000, D("10.00")), "2000"),  # more than held
        (NewOrder("999999.SH", Side.BUY, 100, D("1.00")), "999999"),
    ],
)
def test_orders_breaking_a_rule_are_denied_and_never_sent(oms: OrderManager, request_, reason) -> None:
    cash_before = oms.cash.available

    order = oms.create(request_, TS)

    assert order.status is OrderStatus.DENIED
    assert reason in order.status_msg
    assert oms.cash.available == cash_before
    assert oms.positions["600000.SH"].frozen == 0


def test_shares_bought_today_cannot_be_sold(oms: OrderManager) -> None:
    buy = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    accept(oms, buy)
    oms.on_trade_report(trade(buy, "T1", 100, "40.00", "5.00"))

    sell = oms.create(NewOrder("600036.SH", Side.SELL, 100, D("40.00")), TS)

    assert sell.status is OrderStatus.DENIED
    assert "bought today 100" in sell.status_msg


def test_sell_freezes_shares_and_a_cancel_releases_the_rest(oms: OrderManager) -> None:
    order = send(oms, NewOrder("600000.SH", Side.SELL, 600, D("10.00")))
    assert oms.positions["600000.SH"].sellable == 400
    accept(oms, order)
    oms.on_trade_report(trade(order, "T1", 200, "10.00", "5.00"))
    report = OrderReport(
        BrokerOrderId("B1"),
        order.client_order_id,
        order.code,
        Side.SELL,
        600,
        D("10.00"),
        PriceType.LIMIT,
        OrderStatus.CANCELLED,
        200,
        D("10.00"),
        TS,
    )

    oms.on_order_report(report)

    position = oms.positions["600000.SH"]
    assert order.status is OrderStatus.CANCELLED
    assert (position.total, position.sellable, position.frozen) == (800, 800, 0)
    assert oms.cash.cash == D("100000") + D("2000") - D("5.00")


def test_pending_cancel_from_the_broker_is_not_cancelled(oms: OrderManager) -> None:
    order = send(oms, NewOrder("600000.SH", Side.SELL, 600, D("10.00")))
    accept(oms, order)
    report = OrderReport(
        BrokerOrderId("B1"),
        order.client_order_id,
        order.code,
        Side.SELL,
        600,
        D("10.00"),
        PriceType.LIMIT,
        OrderStatus.PENDING_CANCEL,
        0,
        None,
        TS,
    )
    oms.on_order_report(report)
    assert order.status is OrderStatus.PENDING_CANCEL
    assert oms.positions["600000.SH"].frozen == 600

    oms.on_cancel_error(
        CancelErrorReport(order.client_order_id, BrokerOrderId("B1"), "当前时段不允许撤单", TS)
    )
    assert order.status is OrderStatus.ACCEPTED


def test_broker_rejection_releases_cash_and_keeps_the_reason(oms: OrderManager) -> None:
    order = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    accept(oms, order)
    oms.on_order_report(
        OrderReport(
            BrokerOrderId("B1"),
            order.client_order_id,
            order.code,
            Side.BUY,
            100,
            D("40.00"),
            PriceType.LIMIT,
            OrderStatus.REJECTED,
            0,
            None,
            TS,
            status_msg="价格超出有效申报范围",
        )
    )
    assert order.status is OrderStatus.REJECTED
    assert order.status_msg == "价格超出有效申报范围"
    assert oms.cash.frozen == 0


def test_an_order_found_at_the_broker_but_not_sent_by_tiller_is_external_and_counted(
    oms: OrderManager,
) -> None:
    alerts = oms._alert
    report = OrderReport(
        BrokerOrderId("H9"),
        None,
        "600036.SH",
        Side.BUY,
        100,
        D("40.00"),
        PriceType.LIMIT,
        OrderStatus.ACCEPTED,
        0,
        None,
        TS,
    )
    oms.on_order_report(report)
    oms.on_trade_report(
        TradeReport(
            TradeId("HT1"),
            BrokerOrderId("H9"),
            None,
            "600036.SH",
            Side.BUY,
            100,
            D("40.00"),
            D("4000.00"),
            D("5.00"),
            TS,
        )
    )

    external = [o for o in oms.orders.values() if o.external]
    assert len(external) == 1 and external[0].status is OrderStatus.FILLED
    assert oms.positions["600036.SH"].total == 100
    assert oms.cash.cash == D("100000") - D("4005.00")
    assert any(category == "external" for _, category, _ in alerts)


def test_state_survives_a_restart_and_reservations_are_rebuilt(db: Path, oms: OrderManager) -> None:
    buy = send(oms, NewOrder("600036.SH", Side.BUY, 1000, D("40.00")))
    accept(oms, buy)
    oms.on_trade_report(trade(buy, "T1", 400, "40.00", "5.00"))
    sell = send(oms, NewOrder("600000.SH", Side.SELL, 300, D("10.00")))
    oms.store.commit()
    before = (oms.cash.cash, oms.cash.frozen, oms.positions["600000.SH"].sellable)

    again = make_oms(db)

    assert (again.cash.cash, again.cash.frozen, again.positions["600000.SH"].sellable) == before
    assert again.orders[buy.client_order_id].filled_qty == 400
    assert TradeId("T1") in again.orders[buy.client_order_id].trade_ids
    assert again.orders[sell.client_order_id].status is OrderStatus.SUBMITTED


def test_client_order_ids_are_short_and_never_reused_across_restarts(db: Path, oms: OrderManager) -> None:
    first = [send(oms, NewOrder("600036.SH", Side.BUY, 100, D("1.00"))).client_order_id for _ in range(3)]
    again = make_oms(db)
    second = again.create(NewOrder("600036.SH", Side.BUY, 100, D("1.00")), TS).client_order_id

    assert second not in first
    assert len(set(first)) == 3
    assert all(len(c) <= 20 and c.isascii() for c in [*first, second])


def test_recovery_resolves_unacknowledged_intents_against_the_broker(db: Path, oms: OrderManager) -> None:
    reached = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    lost = send(oms, NewOrder("600036.SH", Side.BUY, 200, D("40.00")))
    oms.store.commit()
    again = make_oms(db)  # the process died before any acknowledgement was booked
    broker_order = OrderReport(
        BrokerOrderId("B7"),
        reached.client_order_id,
        "600036.SH",
        Side.BUY,
        100,
        D("40.00"),
        PriceType.LIMIT,
        OrderStatus.FILLED,
        100,
        D("40.00"),
        TS,
    )
    broker_trade = TradeReport(
        TradeId("T7"),
        BrokerOrderId("B7"),
        reached.client_order_id,
        "600036.SH",
        Side.BUY,
        100,
        D("40.00"),
        D("4000.00"),
        D("5.00"),
        TS,
    )

    notes = again.recover([broker_order], [broker_trade], TS)
    again.recover([broker_order], [broker_trade], TS)  # a second pass changes nothing

    assert again.orders[reached.client_order_id].status is OrderStatus.FILLED
    # Not at the broker: in doubt (never assumed unsent), its cash still held until the settle re-query.
    missing = again.orders[lost.client_order_id]
    assert missing.status is OrderStatus.IN_DOUBT and "in doubt" in missing.status_msg
    assert again.positions["600036.SH"].total == 100
    assert again.cash.cash == D("100000") - D("4005.00")
    assert again.cash.frozen > D("8000")
    assert any("T7" in n for n in notes)
    assert any(lost.client_order_id in n for n in notes)

    again.expire_lost(missing, "lost in transit (test)", TS)
    assert missing.status is OrderStatus.EXPIRED
    assert again.cash.frozen == 0


def test_first_start_adopts_the_brokers_books_without_counting_todays_trades_twice(db: Path) -> None:
    oms = make_oms(db)
    asset = BrokerAsset(D("50000"), D("0"), D("50000"), D("2000"), D("52000"))
    positions = [BrokerPosition("600000.SH", 200, 200, 0, D("10.00"))]
    old = TradeReport(
        TradeId("OLD1"),
        BrokerOrderId("B1"),
        None,
        "600000.SH",
        Side.BUY,
        100,
        D("10.00"),
        D("1000.00"),
        D("5.00"),
        TS,
    )

    oms.adopt_opening_books(asset, positions, [old])
    oms.recover([], [old], TS)

    assert oms.cash.cash == D("50000")
    assert oms.positions["600000.SH"].total == 200


def test_every_event_is_journaled_as_json_with_any_text_escaped(oms: OrderManager) -> None:
    import json

    order = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    accept(oms, order)
    reason = '废单 "price" \\ 超出\n范围'
    oms.on_order_report(OrderReport(BrokerOrderId("B1"), order.client_order_id, order.code, Side.BUY, 100,
                                    D("40.00"), PriceType.LIMIT, OrderStatus.REJECTED, 0, None, TS,
                                    status_msg=reason))  # fmt: skip
    oms.store.commit()

    rows = oms.store.conn.execute(
        "SELECT kind, payload FROM order_events WHERE client_order_id = ? ORDER BY seq",
        (order.client_order_id,),
    ).fetchall()
    assert [kind for kind, _ in rows] == ["OrderSubmitted", "OrderAccepted", "OrderRejected"]
    payloads = [json.loads(p) for _, p in rows]
    assert payloads[1] == {"broker_order_id": "B1"}
    assert payloads[2]["reason"] == reason and payloads[2]["broker_order_id"] == "B1"


def test_a_fill_is_journaled_with_its_trade_and_timestamps_keep_their_zone(oms: OrderManager) -> None:
    import json
    from datetime import UTC

    from app.storage.oms_store import _iso

    order = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    accept(oms, order)
    oms.on_trade_report(trade(order, 'T"1', 100, "40.00", "5.00"))
    oms.store.commit()

    payload = oms.store.conn.execute(
        "SELECT payload FROM order_events WHERE kind = 'OrderFilled' AND client_order_id = ?",
        (order.client_order_id,),
    ).fetchone()[0]
    assert json.loads(payload) == {
        "trade_id": 'T"1',
        "qty": 100,
        "price": "40.00",
        "fees": "5.00",
        "broker_order_id": "B1",
    }
    assert _iso(TS) == TS.isoformat()
    assert _iso(TS.astimezone(UTC)) == TS.astimezone(UTC).isoformat() != TS.isoformat()


def test_a_resync_after_a_reconnect_expires_nothing_that_may_still_be_on_its_way(oms: OrderManager) -> None:
    in_flight = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    acknowledged = send(oms, NewOrder("600036.SH", Side.BUY, 100, D("40.00")))
    accept(oms, acknowledged, "B2")

    notes = oms.recover([], [], TS, at_start=False)

    assert in_flight.status is OrderStatus.SUBMITTED
    assert acknowledged.status is OrderStatus.IN_DOUBT  # unknown to the broker: in doubt, asked again
    assert any("not listed by the broker" in n and acknowledged.client_order_id in n for n in notes)
    assert oms.cash.frozen > 0  # their cash stays held


def _held_by_code(oms: OrderManager) -> dict[str, D]:
    """The cash working buys hold, summed per code the slow way (every reservation)."""
    out: dict[str, D] = {}
    for cid, amount in oms.cash.reservations.items():
        code = oms.orders[cid].code
        out[code] = out.get(code, D(0)) + amount
    return out


def test_cash_held_per_code_follows_every_hold_fill_cancel_and_restart(db: Path, oms: OrderManager) -> None:
    """OrderManager.buy_held (what the risk gate's per-instrument cap reads) is the sum of the
    code's buy reservations after holds, partial and full fills, cancels, denials and a reload."""

    def held(o: OrderManager) -> dict[str, D]:
        return {code: amount for code, amount in o.buy_held.items() if amount}

    a = send(oms, NewOrder("600036.SH", Side.BUY, 1000, D("40.00")))
    b = send(oms, NewOrder("600036.SH", Side.BUY, 500, D("39.50")))
    c = send(oms, NewOrder("600000.SH", Side.BUY, 300, D("10.01")))
    send(oms, NewOrder("600000.SH", Side.BUY, 10**8, D("10.01")))  # denied: never held
    send(oms, NewOrder("600000.SH", Side.SELL, 200, D("10.02")))  # a sell holds shares, not cash
    assert held(oms) == _held_by_code(oms) and set(held(oms)) == {"600036.SH", "600000.SH"}

    accept(oms, a, "B1")
    oms.on_trade_report(trade(a, "T1", 400, "39.90", "5.00", "B1"))  # partly filled at a better price
    assert held(oms) == _held_by_code(oms)
    oms.on_trade_report(trade(a, "T2", 600, "40.00", "5.00", "B1"))  # filled: nothing held any more
    assert held(oms) == _held_by_code(oms)
    accept(oms, c, "B3")
    oms.on_order_report(
        OrderReport(BrokerOrderId("B3"), c.client_order_id, c.code, c.side, c.qty, c.price, PriceType.LIMIT,
                    OrderStatus.CANCELLED, 0, None, TS)
    )  # fmt: skip
    assert held(oms) == _held_by_code(oms) and "600000.SH" not in held(oms)
    oms.store.commit()

    again = make_oms(db)  # a restart rebuilds the holds of the working buys, b's alone
    assert held(again) == _held_by_code(again) == held(oms)
    assert set(held(again)) == {"600036.SH"} and b.status.is_working


def test_the_fee_held_for_a_buy_follows_a_new_fee_schedule_not_a_remembered_one(oms: OrderManager) -> None:
    """The fee of a buy's turnover is remembered per (code, turnover); a new schedule forgets it."""
    request = NewOrder("600036.SH", Side.BUY, 100, D("40.00"))
    first = send(oms, request)
    held_first = oms.cash.reservations[first.client_order_id]
    assert held_first == D("4000") + FEES.cost("600036.SH", Side.BUY, D("40.00"), 100)  # the ¥5 minimum

    second = send(oms, request)  # the same turnover: the remembered fee, the same hold
    assert oms.cash.reservations[second.client_order_id] == held_first

    dearer = FeeSchedule(commission_min=D("8"))
    oms.fees = dearer
    third = send(oms, request)
    assert oms.cash.reservations[third.client_order_id] == D("4000") + dearer.cost(
        "600036.SH", Side.BUY, D("40.00"), 100
    )
    assert oms.cash.reservations[third.client_order_id] - held_first == D("3")


def test_client_order_ids_count_in_four_base36_digits_and_past_them(oms: OrderManager) -> None:
    from app.core.oms import _base36

    prefix = oms._id_prefix
    for seq in (1, 35, 36, 1295, 1296, 36**4 - 1, 36**4, 36**5 + 7):
        oms._next_seq, oms._seq_end = seq, seq + 1
        cid = oms.new_client_order_id()
        assert cid == prefix + _base36(seq, 4)
        assert type(cid) is ClientOrderId
    assert _base36(1296, 4) == "0100" and _base36(36**4, 4) == "10000"


@pytest.mark.parametrize("id_prefix", ["T", "Tab", "T x"])
def test_client_order_ids_with_any_prefix_are_valid_client_order_ids(db: Path, id_prefix: str) -> None:
    oms = OrderManager(
        store=make_oms(db).store, fees=FEES, trading_day=TS.date(), alert=lambda *a: None, id_prefix=id_prefix
    )
    cid = oms.new_client_order_id()
    assert cid.startswith(id_prefix) and ClientOrderId(str(cid)) == cid


@pytest.mark.parametrize("id_prefix", [" T", "T\u00e9", "T" * 15])
def test_a_prefix_no_client_order_id_can_have_is_refused_when_an_id_is_made(db: Path, id_prefix: str) -> None:
    oms = OrderManager(
        store=make_oms(db).store, fees=FEES, trading_day=TS.date(), alert=lambda *a: None, id_prefix=id_prefix
    )
    with pytest.raises(ValueError, match="ClientOrderId"):
        oms.new_client_order_id()
