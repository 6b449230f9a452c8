"""compare_books: Tiller's books against the broker's, every difference in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal as D

from app.core.books_check import BrokerBooks, LocalBooks, compare_books
from app.domain.clock import CN_TZ
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.orders import Order, OrderStatus, PriceType
from app.domain.reports import BrokerAsset, BrokerPosition, OrderReport, TradeReport
from app.domain.side import Side

DAY = date(2026, 11, 23)
TS = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)
CODE = "600036.SH"


def order(cid: str, status: OrderStatus, *, bid: str | None = "1", filled: int = 100) -> Order:
    return Order(
        client_order_id=ClientOrderId(cid),
        code=CODE,
        side=Side.BUY,
        qty=100,
        price=D("40.00"),
        price_type=PriceType.LIMIT,
        created_at=TS,
        trading_day=DAY,
        status=status,
        broker_order_id=None if bid is None else BrokerOrderId(bid),
        filled_qty=filled,
    )


def report(cid: str | None, status: OrderStatus, *, bid: str = "1", filled: int = 100) -> OrderReport:
    return OrderReport(
        BrokerOrderId(bid),
        None if cid is None else ClientOrderId(cid),
        CODE,
        Side.BUY,
        100,
        D("40.00"),
        PriceType.LIMIT,
        status,
        filled,
        D("40.00") if filled else None,
        TS,
    )


def trade(tid: str = "7", fees: str = "5.00") -> TradeReport:
    return TradeReport(
        TradeId(tid), BrokerOrderId("1"), ClientOrderId("A1"), CODE, Side.BUY, 100, D("40.00"), D("4000.00"),
        D(fees), TS,
    )  # fmt: skip


def agreeing() -> tuple[LocalBooks, BrokerBooks]:
    local = LocalBooks(D("95995.00"), {CODE: 1100}, [trade()], [order("A1", OrderStatus.FILLED)])
    broker = BrokerBooks(
        BrokerAsset(D("95995.00"), D(0), D("95995.00"), D("44000"), D("139995.00")),
        [BrokerPosition(CODE, 1100, 1000, 0, D("39.00"))],
        [trade()],
        [report("A1", OrderStatus.FILLED)],
    )
    return local, broker


def test_books_that_agree_then_no_difference() -> None:
    assert compare_books(*agreeing()) == []


def test_cash_off_by_a_fen_then_reported_with_both_amounts() -> None:
    local, broker = agreeing()
    (diff,) = compare_books(replace(local, cash=D("95995.01")), broker)
    assert "cash differs" in diff and "95995.01" in diff and "95995.00" in diff


def test_position_missing_on_one_side_then_reported_per_code() -> None:
    local, broker = agreeing()
    (diff,) = compare_books(replace(local, positions={CODE: 1100, "600000.SH": 500}), broker)
    assert "600000.SH" in diff and "500" in diff


def test_fill_missing_locally_then_reported() -> None:
    local, broker = agreeing()
    diffs = compare_books(local, replace(broker, trades=[trade(), trade("8")]))
    assert diffs == [diffs[0]] and "fill missing locally" in diffs[0] and " 8:" in diffs[0]


def test_fill_booked_twice_or_unknown_to_the_broker_then_reported() -> None:
    local, broker = agreeing()
    diffs = compare_books(replace(local, trades=[trade(), trade(), trade("9")]), broker)
    assert any("counted 2 times" in d for d in diffs)
    assert any("fill the broker does not have" in d and "9" in d for d in diffs)


def test_fill_with_other_fees_then_reported() -> None:
    local, broker = agreeing()
    (diff,) = compare_books(replace(local, trades=[trade(fees="5.01")]), broker)
    assert "fill differs" in diff and "fees" in diff


def test_same_remark_twice_at_the_broker_then_order_sent_twice() -> None:
    local, broker = agreeing()
    twice = [report("A1", OrderStatus.FILLED), report("A1", OrderStatus.FILLED, bid="2")]
    diffs = compare_books(local, replace(broker, orders=twice))
    assert any("order sent 2 times" in d and "A1" in d for d in diffs)


def test_order_status_or_filled_quantity_differ_then_reported() -> None:
    local, broker = agreeing()
    diffs = compare_books(
        local, replace(broker, orders=[report("A1", OrderStatus.PARTIALLY_FILLED, filled=50)])
    )
    assert len(diffs) == 2
    assert "status differs" in diffs[0] and "partially_filled" in diffs[0]
    assert "filled quantity differs" in diffs[1]


def test_intent_never_sent_then_only_a_final_unfilled_ending_agrees() -> None:
    local, broker = agreeing()
    expired = order("A2", OrderStatus.EXPIRED, bid=None, filled=0)
    assert compare_books(replace(local, orders=[*local.orders, expired]), broker) == []
    stuck = order("A3", OrderStatus.SUBMITTED, bid=None, filled=0)
    (diff,) = compare_books(replace(local, orders=[*local.orders, stuck]), broker)
    assert "A3" in diff and "submitted" in diff


def test_order_known_to_the_broker_locally_but_gone_there_then_reported() -> None:
    local, broker = agreeing()
    gone = order("A4", OrderStatus.ACCEPTED, bid="44", filled=0)
    (diff,) = compare_books(replace(local, orders=[*local.orders, gone]), broker)
    assert "A4" in diff and "44" in diff


def test_broker_order_unknown_locally_then_reported() -> None:
    local, broker = agreeing()
    foreign = report(None, OrderStatus.ACCEPTED, bid="55", filled=0)
    (diff,) = compare_books(local, replace(broker, orders=[*broker.orders, foreign]))
    assert "unknown locally" in diff and "55" in diff


def test_average_costs_agreeing_by_the_policy_are_no_difference() -> None:
    local, broker = agreeing()
    assert compare_books(replace(local, avg_costs={CODE: D("39.0000")}), broker) == []


def test_an_average_cost_one_quantum_apart_is_a_difference() -> None:
    local, broker = agreeing()
    (diff,) = compare_books(replace(local, avg_costs={CODE: D("39.0001")}), broker)
    assert diff == "持仓成本不符 (average cost differs) 600036.SH: 本地 39.0001，券商 39.0000，差 0.0001"


def test_average_costs_are_not_compared_when_the_quantities_already_differ() -> None:
    local, broker = agreeing()
    (diff,) = compare_books(replace(local, positions={CODE: 1000}, avg_costs={CODE: D("41")}), broker)
    assert diff.startswith("持仓不符")


def test_the_same_trade_number_of_two_orders_is_two_fills_not_one() -> None:
    from dataclasses import replace

    local, broker = agreeing()
    other_market = replace(trade(), broker_order_id=BrokerOrderId("2"), code="000001.SZ")
    # the broker has both fills numbered "7" (SH and SZ); Tiller booked only the SH one
    broker = replace(broker, trades=[trade(), other_market])
    differences = compare_books(local, broker)
    assert any("漏记成交" in d and "000001.SZ" in d for d in differences)
