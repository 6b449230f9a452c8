"""The OMS on a real SQLite file: values out of bounds, trade identity across days and markets, and
planned orders taken in once."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.oms import NewOrder, OrderManager
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.domain.identifiers import BrokerOrderId, TradeId
from app.domain.orders import OrderStatus, PriceType
from app.domain.positions import Position
from app.domain.reports import SubmitResponse, TradeReport
from app.domain.side import Side
from app.domain.signals import SignalBatch, SignalLine
from tests.helpers.oms_books import DAY, FEES, Alerts, make_oms

DAY2 = date(2026, 11, 24)
TS = datetime(2026, 11, 23, 9, 31, tzinfo=CN_TZ)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tiller-sim.db"


@pytest.fixture
def alerts() -> Alerts:
    return Alerts()


@pytest.fixture
def oms(db: Path, alerts: Alerts) -> OrderManager:
    oms = make_oms(db, alerts)
    oms.set_cash(D("1000000"))
    oms.set_position(Position("600000.SH", total=1000, settled=1000, avg_cost=D("9.50")))
    oms.store.commit()
    return oms


def fill(order_code: str, side: Side, trade_id: str, broker_id: str, qty: int = 100, price: str = "10.00",
         ts: datetime = TS) -> TradeReport:  # fmt: skip
    p = D(price)
    return TradeReport(TradeId(trade_id), BrokerOrderId(broker_id), None, order_code, side, qty, p, p * qty,
                       D("5.00"), ts)  # fmt: skip


# ---------------------------------------------------------------------------- item 3: bounds
def test_2_63_shares_and_a_1e400_price_are_denied_alone_and_the_good_order_goes_through(
    db: Path, oms: OrderManager
) -> None:
    good = oms.create(NewOrder("600036.SH", Side.BUY, 100, D("40.00")), TS)
    huge = oms.create(NewOrder("600036.SH", Side.BUY, 2**63, D("40.00")), TS)
    dear = oms.create(NewOrder("600036.SH", Side.BUY, 100, D("1e400")), TS)
    nan = oms.create(NewOrder("600036.SH", Side.SELL, 100, D("NaN")), TS)
    oms.mark_submitted(good, TS)
    oms.store.commit()  # commits fine: nothing unstorable reaches SQLite

    assert good.status is OrderStatus.SUBMITTED
    assert huge.status is OrderStatus.DENIED and "9223372036854775808" in huge.status_msg
    assert dear.status is OrderStatus.DENIED and "1E+400" in dear.status_msg
    assert nan.status is OrderStatus.DENIED
    held = D("4000") + FEES.cost("600036.SH", Side.BUY, D("40.00"), 100)
    assert oms.cash.frozen == held  # only the good order holds cash
    again = make_oms(db)
    stored = {o.client_order_id: o for o in again.orders.values()}
    assert stored[huge.client_order_id].status is OrderStatus.DENIED
    assert (stored[huge.client_order_id].qty, stored[dear.client_order_id].price) == (0, None)  # unknown
    assert "9223372036854775808" in stored[huge.client_order_id].status_msg
    assert again.cash.frozen == held


def test_an_unexpected_error_while_making_one_order_denies_it_and_leaves_nothing_held(
    oms: OrderManager,
) -> None:
    class BrokenFees(FeeSchedule):  # a fee table with a hole in it, for one code
        def cost_for_amount(self, code, side, amount):
            if code == "600036.SH":
                raise ZeroDivisionError("fee table broken (test)")
            return super().cost_for_amount(code, side, amount)

    oms.fees = BrokenFees()
    bad = oms.create(NewOrder("600036.SH", Side.BUY, 100, D("40.00")), TS)
    good = oms.create(NewOrder("601318.SH", Side.BUY, 100, D("40.00")), TS)
    oms.store.commit()

    assert bad.status is OrderStatus.DENIED and "ZeroDivisionError" in bad.status_msg
    assert bad.client_order_id not in oms.cash.reservations
    assert good.status is OrderStatus.INITIALIZED and good.client_order_id in oms.cash.reservations
    rows = oms.store.conn.execute("SELECT client_order_id, status FROM orders").fetchall()
    assert sorted(rows) == sorted([(bad.client_order_id, "denied"), (good.client_order_id, "initialized")])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.one_of(
        st.just("600036.SH"), st.just("600000.SH"), st.text(max_size=12), st.none(), st.integers()
    ),
    side=st.sampled_from([Side.BUY, Side.SELL, "buy", None, 1]),
    qty=st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.text(max_size=5)),
    price=st.one_of(
        st.none(),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.floats(),
        st.integers(),
        st.text(max_size=4),
    ),
    price_type=st.sampled_from([*PriceType, "limit", None]),
)
def test_any_values_from_outside_become_an_order_or_a_denial_that_commits(
    oms: OrderManager, code: object, side: object, qty: object, price: object, price_type: object
) -> None:
    order = oms.create(NewOrder(code, side, qty, price, price_type), TS)  # type: ignore[arg-type]
    oms.store.commit()
    assert order.status in (OrderStatus.INITIALIZED, OrderStatus.DENIED)
    if order.status is OrderStatus.DENIED:
        assert order.client_order_id not in oms.cash.reservations
    row = oms.store.conn.execute(
        "SELECT status FROM orders WHERE client_order_id = ?", (order.client_order_id,)
    ).fetchone()
    assert row == (order.status.value,)
    if order.status is OrderStatus.INITIALIZED:  # let the next example find the cash and shares
        oms.reject_unsent(order, "test", TS)
        oms.store.commit()
    assert oms.cash.frozen == 0 and oms.positions["600000.SH"].frozen == 0


def test_a_request_that_is_not_even_an_order_is_denied_with_an_id(oms: OrderManager) -> None:
    order = oms.create(None, TS)  # type: ignore[arg-type]
    oms.store.commit()
    assert order.status is OrderStatus.DENIED and "invalid request" in order.status_msg


# ---------------------------------------------------------------------------- item 4: trade identity
def test_the_same_trade_number_on_two_markets_books_twice(oms: OrderManager) -> None:
    oms.on_trade_report(fill("600036.SH", Side.BUY, "1001", "B1"))
    oms.on_trade_report(fill("000001.SZ", Side.BUY, "1001", "B2", price="11.00"))
    oms.store.commit()

    assert oms.positions["600036.SH"].total == 100 and oms.positions["000001.SZ"].total == 100
    assert oms.store.conn.execute("SELECT count(*) FROM trades WHERE traded_id = '1001'").fetchone() == (2,)


def test_the_same_trade_number_on_the_next_day_books_while_running_and_not_again_after_a_restart(
    db: Path, oms: OrderManager
) -> None:
    oms.on_trade_report(fill("600036.SH", Side.BUY, "1001", "B1"))
    oms.store.commit()
    oms.roll_day(DAY2)
    oms.on_trade_report(
        fill("600036.SH", Side.BUY, "1001", "B1", ts=datetime.combine(DAY2, time(9, 31), CN_TZ))
    )
    oms.store.commit()
    assert oms.positions["600036.SH"].total == 200  # booked on day 2 while running

    again = make_oms(db, day=DAY2)
    again.recover([], [fill("600036.SH", Side.BUY, "1001", "B1")], TS, at_start=True)  # the broker's day 2
    assert again.positions["600036.SH"].total == 200  # not booked a third time
    assert len(again.trade_ids) == 1  # the day's fills only
    days = oms.store.conn.execute("SELECT trading_day FROM trades ORDER BY trading_day").fetchall()
    assert days == [("2026-11-23",), ("2026-11-24",)]


def test_a_second_report_of_one_fill_with_other_content_raises_an_alert_and_books_nothing(
    oms: OrderManager, alerts: Alerts
) -> None:
    first = fill("600036.SH", Side.BUY, "T9", "B1")
    oms.on_trade_report(first)
    oms.on_trade_report(first)  # the same again (a push, then a query): quietly once
    assert alerts == [a for a in alerts if a[1] != "trade"]
    oms.on_trade_report(fill("600036.SH", Side.BUY, "T9", "B1", qty=300))
    oms.store.commit()

    assert oms.positions["600036.SH"].total == 100
    [alert] = [a for a in alerts if a[1] == "trade"]
    assert alert[0] == "error" and "T9" in alert[2] and "300" in alert[2]


# ---------------------------------------------------------------------------- item 10: intake
def batch_of(*signal_ids: str, strategy: str = "strat", day: date = DAY) -> SignalBatch:
    lines = tuple(
        SignalLine(s, strategy, day, "600036.SH", "招商银行", Side.BUY, 100, D("40.00"), time(9, 30))
        for s in signal_ids
    )
    return SignalBatch(strategy, day, lines)


def test_planned_lines_are_taken_in_once_across_restarts_per_strategy_and_day(
    db: Path, oms: OrderManager
) -> None:
    new, done = oms.take_in(batch_of("145909290", "145909291"), TS)
    assert ([line.signal_id for line in new], done) == (["145909290", "145909291"], [])
    new, done = oms.take_in(batch_of("145909290"), TS)  # staged, not yet committed: still known
    assert (new, [line.signal_id for line in done]) == ([], ["145909290"])
    oms.store.commit()

    again = make_oms(db)
    new, done = again.take_in(batch_of("145909290", "145909292"), TS)
    assert [line.signal_id for line in new] == ["145909292"]
    assert [line.signal_id for line in done] == ["145909290"]
    new, _ = again.take_in(batch_of("145909290", strategy="other"), TS)  # another strategy's number
    assert len(new) == 1
    new, _ = again.take_in(batch_of("145909290", day=DAY2), TS)  # another day
    assert len(new) == 1
    again.store.commit()
    assert again.store.conn.execute("SELECT count(*) FROM signal_lines").fetchone() == (5,)


def test_an_order_id_already_stored_fails_the_commit_loudly_instead_of_overwriting(oms: OrderManager) -> None:
    first = oms.create(NewOrder("600036.SH", Side.BUY, 100, D("40.00")), TS)
    oms.store.commit()
    oms.on_submit_response(SubmitResponse(first.client_order_id, BrokerOrderId("B1"), TS))
    clash = oms.create(NewOrder("601318.SH", Side.SELL, 100, D("48.00"), PriceType.LIMIT), TS)
    object.__setattr__(clash, "client_order_id", first.client_order_id)  # an id handed out twice
    oms.store.discard()
    oms.store.stage_new_order(clash)

    with pytest.raises(Exception, match="UNIQUE"):
        oms.store.commit()
    row = oms.store.conn.execute(
        "SELECT code, side, qty FROM orders WHERE client_order_id = ?", (first.client_order_id,)
    ).fetchone()
    assert row == ("600036.SH", "buy", 100)  # the first order kept its code, side and quantity


def test_a_broker_order_number_seen_again_on_another_day_is_another_external_order(db: Path) -> None:
    from app.domain.orders import PriceType as PT
    from app.domain.reports import OrderReport

    def outside(day: date, status: OrderStatus = OrderStatus.ACCEPTED) -> OrderReport:
        ts = datetime.combine(day, time(10, 0), CN_TZ)
        return OrderReport(BrokerOrderId("H9"), None, "600036.SH", Side.BUY, 100, D("40.00"), PT.LIMIT,
                           status, 0, None, ts)  # fmt: skip

    first = make_oms(db)
    first.on_order_report(outside(DAY))
    first.on_order_report(outside(DAY, OrderStatus.CANCELLED))  # over by the end of the day
    first.store.commit()
    second = make_oms(db, day=DAY2)
    second.on_order_report(outside(DAY2))
    second.store.commit()  # an INSERT that must not clash with yesterday's row

    rows = second.store.conn.execute("SELECT client_order_id, trading_day FROM orders ORDER BY 2").fetchall()
    assert [day for _, day in rows] == ["2026-11-23", "2026-11-24"] and len({c for c, _ in rows}) == 2


def test_orders_that_continue_a_line_already_taken_in_are_not_intake_and_still_go(oms: OrderManager) -> None:
    # the demo's auction fallback: the unfilled rest of a line's order, re-sent with the same signal id
    [line], _ = oms.take_in(batch_of("145909290"), TS)
    first = oms.create(NewOrder("600036.SH", Side.BUY, 100, D("40.00"), signal_id=line.signal_id), TS)
    oms.reject_unsent(first, "cancelled (test)", TS)
    rest = oms.create(NewOrder("600036.SH", Side.BUY, 100, D("40.10"), signal_id=line.signal_id), TS)
    oms.store.commit()
    assert rest.status is OrderStatus.INITIALIZED and rest.signal_id == "145909290"
