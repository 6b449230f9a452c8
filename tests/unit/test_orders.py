from datetime import date, datetime
from decimal import Decimal as D

import pytest

from app.domain.clock import CN_TZ
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.orders import (
    TRANSITIONS,
    DuplicateFillError,
    InvalidTransitionError,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInDoubt,
    OrderPendingCancel,
    OrderRejected,
    OrderStatus,
    OrderSubmitted,
    PriceType,
    status_from_xt,
)
from app.domain.side import Side

TS = datetime(2026, 11, 23, 9, 30, tzinfo=CN_TZ)
COID = ClientOrderId("T2611230001")


def new_order(qty: int = 300) -> Order:
    return Order(COID, "600000.SH", Side.BUY, qty, D("10.00"), PriceType.LIMIT, TS, date(2026, 11, 23))


def fill(trade: str, qty: int, price: str = "10.00", fees: str = "0") -> OrderFilled:
    return OrderFilled(COID, TradeId(trade), qty, D(price), D(fees), TS)


def working_order() -> Order:
    order = new_order()
    order.apply(OrderSubmitted(COID, TS))
    order.apply(OrderAccepted(COID, BrokerOrderId("1001"), TS))
    return order


def test_order_happy_path_through_partial_fills_to_filled() -> None:
    order = working_order()

    assert order.apply(fill("t1", 100, "10.00", "5")) is OrderStatus.PARTIALLY_FILLED
    assert order.apply(fill("t2", 200, "10.30", "0.02")) is OrderStatus.FILLED

    assert order.filled_qty == 300
    assert order.filled_amount == D("3060.00")
    assert order.avg_price == D("10.2")
    assert order.fees == D("5.02")
    assert order.leaves_qty == 0
    assert order.broker_order_id == "1001"


def test_duplicate_fill_is_refused_and_changes_nothing() -> None:
    order = working_order()
    order.apply(fill("t1", 100))

    with pytest.raises(DuplicateFillError, match="t1"):
        order.apply(fill("t1", 100))

    assert order.filled_qty == 100
    assert order.status is OrderStatus.PARTIALLY_FILLED


def test_overfill_is_refused() -> None:
    order = working_order()
    order.apply(fill("t1", 200))

    with pytest.raises(InvalidTransitionError, match="exceed"):
        order.apply(fill("t2", 200))
    assert order.filled_qty == 200


@pytest.mark.parametrize(
    ("events", "refused"),
    [
        ([], OrderAccepted(COID, BrokerOrderId("1"), TS)),  # not sent yet: cannot be accepted
        ([OrderDenied(COID, "risk", TS)], OrderSubmitted(COID, TS)),  # denied is final
        (
            [OrderSubmitted(COID, TS), OrderRejected(COID, "废单", TS)],
            OrderAccepted(COID, BrokerOrderId("1"), TS),
        ),
        ([OrderSubmitted(COID, TS), OrderCancelled(COID, TS)], OrderPendingCancel(COID, TS)),
        ([OrderSubmitted(COID, TS)], OrderCancelRejected(COID, "no", TS)),  # nothing to un-cancel
        ([OrderSubmitted(COID, TS)], OrderDenied(COID, "late", TS)),
    ],
)
def test_refused_transitions_raise_and_leave_the_order_as_it_was(events, refused) -> None:
    order = new_order()
    for event in events:
        order.apply(event)
    before = order.status

    with pytest.raises(InvalidTransitionError):
        order.apply(refused)

    assert order.status is before


def test_final_statuses_have_no_way_out_except_late_fills() -> None:
    for (status, _trigger), _target in TRANSITIONS.items():
        if status in (OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.DENIED):
            pytest.fail(f"{status} must be final")


def test_pending_cancel_then_cancel_rejected_returns_to_working_state() -> None:
    order = working_order()
    order.apply(fill("t1", 100))
    order.apply(OrderPendingCancel(COID, TS))

    assert order.status is OrderStatus.PENDING_CANCEL
    assert order.apply(OrderCancelRejected(COID, "当前时段不允许撤单", TS)) is OrderStatus.PARTIALLY_FILLED
    assert order.status_msg == "当前时段不允许撤单"


def test_cancel_rejected_without_fills_returns_to_accepted() -> None:
    order = working_order()
    order.apply(OrderPendingCancel(COID, TS))
    assert order.apply(OrderCancelRejected(COID, "x", TS)) is OrderStatus.ACCEPTED


def test_fill_while_pending_cancel_stays_pending_until_complete() -> None:
    order = working_order()
    order.apply(OrderPendingCancel(COID, TS))

    assert order.apply(fill("t1", 100)) is OrderStatus.PENDING_CANCEL
    assert order.apply(fill("t2", 200)) is OrderStatus.FILLED


def test_late_fill_after_part_cancel_is_counted_and_order_stays_cancelled() -> None:
    order = working_order()
    order.apply(OrderPendingCancel(COID, TS))
    order.apply(OrderCancelled(COID, TS))

    assert order.apply(fill("t9", 100)) is OrderStatus.CANCELLED
    assert order.filled_qty == 100
    assert order.leaves_qty == 0


def test_fill_may_overtake_the_acceptance() -> None:
    order = new_order()
    order.apply(OrderSubmitted(COID, TS))
    assert order.apply(fill("t1", 300)) is OrderStatus.FILLED


def test_expired_intent_records_reason() -> None:
    order = new_order()
    order.apply(OrderExpired(COID, "not found at the broker after restart", TS))
    assert order.status is OrderStatus.EXPIRED
    assert order.status.is_final
    assert "restart" in order.status_msg


def test_event_for_another_order_is_refused() -> None:
    order = new_order()
    with pytest.raises(ValueError, match="applied to order"):
        order.apply(OrderSubmitted(ClientOrderId("OTHER"), TS))


@pytest.mark.parametrize(
    ("qty", "price", "price_type"),
    [
        (0, D("1"), PriceType.LIMIT),
        (-100, D("1"), PriceType.LIMIT),
        (100, None, PriceType.LIMIT),
        (100, D("0"), PriceType.LIMIT),
        (True, D("1"), PriceType.LIMIT),
    ],
)
def test_invalid_order_values_are_refused(qty, price, price_type) -> None:
    with pytest.raises(ValueError):
        Order(COID, "600000.SH", Side.BUY, qty, price, price_type, TS, date(2026, 11, 23))


def test_market_order_needs_no_price() -> None:
    order = Order(COID, "600000.SH", Side.BUY, 100, None, PriceType.BEST5_IOC, TS, date(2026, 11, 23))
    assert order.price_type.is_market


@pytest.mark.parametrize(
    ("xt", "status"),
    [
        (48, OrderStatus.ACCEPTED),
        (49, OrderStatus.ACCEPTED),
        (50, OrderStatus.ACCEPTED),
        (51, OrderStatus.PENDING_CANCEL),
        (52, OrderStatus.PENDING_CANCEL),
        (53, OrderStatus.CANCELLED),
        (54, OrderStatus.CANCELLED),
        (55, OrderStatus.PARTIALLY_FILLED),
        (56, OrderStatus.FILLED),
        (57, OrderStatus.REJECTED),
        (255, None),
    ],
)
def test_xtquant_statuses_map_without_calling_pending_cancel_cancelled(xt, status) -> None:
    assert status_from_xt(xt) is status


def test_ids_are_distinct_types_and_validated() -> None:
    assert ClientOrderId("A1") == "A1"
    assert type(ClientOrderId("A1")) is not type(BrokerOrderId("A1"))
    assert repr(TradeId("x")) == "TradeId('x')"
    for bad in ["", " a", "中文", "X" * 21]:
        with pytest.raises(ValueError):
            ClientOrderId(bad)


# ------------------------------------------------------------------------------ in doubt


def doubtful(reason: str = "no answer within 10s (test)") -> Order:
    order = new_order()
    order.apply(OrderSubmitted(COID, TS))
    order.apply(OrderInDoubt(COID, reason, TS))
    return order


def test_an_order_in_doubt_is_still_working_and_shows_why() -> None:
    order = doubtful()
    assert order.status is OrderStatus.IN_DOUBT
    assert order.status.is_working and not order.status.is_final
    assert order.status_msg == "no answer within 10s (test)"
    assert order.leaves_qty == 300


@pytest.mark.parametrize(
    ("event", "settled"),
    [
        (OrderAccepted(COID, BrokerOrderId("1001"), TS), OrderStatus.ACCEPTED),
        (OrderRejected(COID, "废单", TS), OrderStatus.REJECTED),
        (OrderPendingCancel(COID, TS), OrderStatus.PENDING_CANCEL),
        (OrderCancelled(COID, TS), OrderStatus.CANCELLED),
        (OrderExpired(COID, "lost in transit", TS), OrderStatus.EXPIRED),
        (fill("t1", 100), OrderStatus.PARTIALLY_FILLED),
        (fill("t1", 300), OrderStatus.FILLED),
    ],
)
def test_any_broker_report_settles_an_order_in_doubt(event, settled) -> None:
    order = doubtful()
    assert order.apply(event) is settled


@pytest.mark.parametrize("status_events", ["accepted", "partly", "pending"])
def test_a_working_order_the_broker_does_not_list_goes_in_doubt(status_events: str) -> None:
    order = working_order()
    if status_events == "partly":
        order.apply(fill("t1", 100))
    elif status_events == "pending":
        order.apply(OrderPendingCancel(COID, TS))
    assert order.apply(OrderInDoubt(COID, "not listed", TS)) is OrderStatus.IN_DOUBT


def test_an_order_in_doubt_is_not_put_in_doubt_again_nor_can_an_ended_one() -> None:
    order = doubtful()
    with pytest.raises(InvalidTransitionError):
        order.apply(OrderInDoubt(COID, "again", TS))
    for ended in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED):
        assert (ended, OrderInDoubt.trigger) not in TRANSITIONS


def test_an_order_expired_as_lost_that_turns_up_is_adopted_with_its_fills() -> None:
    order = doubtful()
    order.apply(OrderExpired(COID, "lost in transit", TS))
    order.apply(fill("t1", 100))  # a fill overtakes the acceptance: counted, still expired
    assert order.status is OrderStatus.EXPIRED and order.filled_qty == 100

    assert order.apply(OrderAccepted(COID, BrokerOrderId("1001"), TS)) is OrderStatus.PARTIALLY_FILLED
    assert order.status_msg == "" and order.broker_order_id == "1001"
    assert order.apply(fill("t2", 200)) is OrderStatus.FILLED
    with pytest.raises(DuplicateFillError):
        order.apply(fill("t1", 100))
