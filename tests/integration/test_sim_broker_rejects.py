"""Every reason the simulated counter refuses an order, one test each.

A refused order still gets a broker order id and shows in query_orders as REJECTED with the reason
(QMT's 废单 57); it pushes SubmitResponse then OrderReport(REJECTED) and changes no cash or shares.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.clock import SimClock
from app.domain.identifiers import ClientOrderId
from app.domain.orders import OrderStatus, PriceType
from app.domain.reports import OrderReport, SubmitOrder, SubmitResponse
from app.domain.side import Side
from app.gateways.sim.broker import SimulatedBroker
from tests.integration.test_sim_broker_kit import (
    NEW_LISTING,
    SH,
    SUSPENDED,
    SZ,
    Sim,
    at,
    ladder,
    make_sim,
    quote,
    sim,
)

__all__ = ["make_sim", "sim"]  # fixtures
D_10 = Decimal("10.00")


def assert_rejected(sim: Sim, coid: ClientOrderId, *needles: str) -> OrderReport:
    """The pushes were SubmitResponse(with an id) then REJECTED, and the file agrees."""
    pushed = sim.of(coid)
    assert [type(r) for r in pushed] == [SubmitResponse, OrderReport]
    response, report = pushed
    assert (
        isinstance(response, SubmitResponse) and response.broker_order_id is not None and not response.error
    )
    assert isinstance(report, OrderReport) and report.status is OrderStatus.REJECTED
    assert report.broker_order_id == response.broker_order_id
    stored = sim.order(coid)
    assert stored.status is OrderStatus.REJECTED
    assert stored.status_msg == report.status_msg
    for needle in needles:
        assert needle in report.status_msg, f"{needle!r} not in {report.status_msg!r}"
    assert report.filled_qty == 0
    return report


def refused(
    sim: Sim, needles: tuple[str, ...], code: str, side: Side, qty: int, price: str | None, **kw
) -> None:
    before = sim.books()
    coid = sim.submit(code, side, qty, price, **kw)
    assert_rejected(sim, coid, *needles)
    assert sim.books() == before
    assert sim.broker.query_trades() == []


def test_submit_unsupported_code_then_rejected_as_unknown_security(sim: Sim) -> None:
    refused(sim, ("证券代码不存在", "999999"), "999999.SH", Side.BUY, 100, "10.00")


def test_submit_valid_code_without_reference_data_then_rejected_as_unknown_security(sim: Sim) -> None:
    refused(sim, ("证券代码不存在", "600519.SH"), "600519.SH", Side.BUY, 100, "10.00")


def test_submit_suspended_security_then_rejected_as_suspended(sim: Sim) -> None:
    refused(sim, ("证券停牌", SUSPENDED), SUSPENDED, Side.BUY, 100, "8.00")


def test_submit_before_the_open_then_rejected_outside_trading_hours(make_sim) -> None:
    early = make_sim(when=at(9, 0))
    refused(early, ("非交易时间", "09:00:00"), SH, Side.BUY, 100, "10.00")


def test_submit_in_the_lunch_break_then_rejected_outside_trading_hours(make_sim) -> None:
    lunch = make_sim(when=at(12, 0))
    refused(lunch, ("非交易时间", "12:00:00"), SH, Side.BUY, 100, "10.00")


def test_submit_after_the_close_then_rejected_outside_trading_hours(make_sim) -> None:
    late = make_sim(when=at(15, 0))
    refused(late, ("非交易时间", "15:00:00"), SH, Side.BUY, 100, "10.00")


def test_submit_on_a_weekend_then_rejected_as_not_a_trading_day(sim: Sim) -> None:
    sim.advance(at(10, 0, day=sim.clock.now().date().replace(day=28)))  # Saturday 2026-11-28
    refused(sim, ("非交易日", "2026-11-28"), SH, Side.BUY, 100, "10.00")


def test_market_order_in_the_opening_auction_then_rejected(make_sim) -> None:
    auction = make_sim(when=at(9, 20))
    refused(auction, ("市价委托仅限连续竞价时段",), SH, Side.BUY, 100, None, price_type=PriceType.BEST5_IOC)


def test_market_order_in_the_closing_auction_then_rejected(make_sim) -> None:
    closing = make_sim(when=at(14, 58))
    refused(closing, ("市价委托仅限连续竞价时段",), SZ, Side.BUY, 100, None, price_type=PriceType.BEST5_IOC)


def test_market_order_on_a_security_without_price_limit_then_rejected(sim: Sim) -> None:
    refused(
        sim,
        ("无价格涨跌幅限制", NEW_LISTING),
        NEW_LISTING,
        Side.BUY,
        100,
        None,
        price_type=PriceType.BEST5_IOC,
    )


def test_buy_above_the_up_limit_then_rejected_outside_daily_limit(sim: Sim) -> None:
    refused(sim, ("涨跌停", "11.01"), SH, Side.BUY, 100, "11.01")


def test_sell_below_the_down_limit_then_rejected_outside_daily_limit(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D_10)
    refused(sim, ("涨跌停", "8.99"), SH, Side.SELL, 100, "8.99")


def test_price_off_the_tick_then_rejected(sim: Sim) -> None:
    refused(sim, ("最小变动单位", "10.005"), SH, Side.BUY, 100, "10.005")


def test_limit_order_without_a_price_then_rejected(sim: Sim) -> None:
    refused(sim, ("委托价格错误",), SH, Side.BUY, 100, None)


def test_buy_not_a_whole_lot_then_rejected_with_the_lot_rule(sim: Sim) -> None:
    refused(sim, ("100 股的整数倍", "150"), SH, Side.BUY, 150, "10.00")


def test_sell_odd_lot_that_is_not_the_whole_remainder_then_rejected(sim: Sim) -> None:
    sim.broker.set_position(SH, 150, D_10)
    refused(sim, ("零股须一次卖完", "120"), SH, Side.SELL, 120, "10.00")


def test_order_above_the_per_order_maximum_then_rejected(sim: Sim) -> None:
    refused(sim, ("单笔限价委托上限", "1000100"), SH, Side.BUY, 1_000_100, "10.00")


def test_buy_costing_more_than_available_cash_then_rejected(sim: Sim) -> None:
    # 99,800 × 10.02 = 999,996 of ¥1,000,000: the turnover fits, the fees do not.
    refused(sim, ("可用资金不足", "available 1000000.00"), SH, Side.BUY, 99_800, "10.02")


def test_buy_when_cash_is_frozen_by_a_working_buy_then_rejected(sim: Sim) -> None:
    first = sim.buy(SH, 90_000, "10.00")  # rests: no quote yet; freezes 900,000 plus fees
    assert sim.order(first).status is OrderStatus.ACCEPTED
    refused(sim, ("可用资金不足",), SH, Side.BUY, 10_000, "10.00")


def test_sell_without_a_position_then_rejected_for_lack_of_shares(sim: Sim) -> None:
    refused(sim, ("可用股份不足", "sellable 0"), SH, Side.SELL, 100, "10.00")


def test_sell_of_shares_frozen_by_another_sell_then_rejected(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D_10)
    first = sim.sell(SH, 800, "10.50")
    assert sim.order(first).status is OrderStatus.ACCEPTED
    refused(sim, ("可用股份不足", "sellable 200", "frozen by other sells 800"), SH, Side.SELL, 300, "10.50")


def test_buy_above_the_price_cage_then_rejected(sim: Sim) -> None:
    sim.quotes(
        quote(
            SH,
            at(10, 0),
            last="10.00",
            volume=10_000,
            bids=ladder("9.99", "-0.01", 1000),
            asks=ladder("10.00", "0.01", 1000),
        )
    )
    # Best ask 10.00: the cage is max(10.00 × 1.02, 10.00 + 10 ticks) = 10.20 (RULES B6).
    refused(sim, ("price cage", "10.21"), SH, Side.BUY, 100, "10.21")


def test_sell_below_the_price_cage_then_rejected(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D_10)
    sim.quotes(
        quote(
            SH,
            at(10, 0),
            last="10.00",
            volume=10_000,
            bids=ladder("10.00", "-0.01", 1000),
            asks=ladder("10.01", "0.01", 1000),
        )
    )
    refused(sim, ("price cage", "9.79"), SH, Side.SELL, 100, "9.79")


def test_price_type_the_exchange_does_not_take_then_rejected(sim: Sim) -> None:
    refused(sim, ("不支持的价格类型", "fok", "SH"), SH, Side.BUY, 100, None, price_type=PriceType.FOK)


def test_best5_to_limit_on_shenzhen_then_rejected(sim: Sim) -> None:
    refused(
        sim,
        ("不支持的价格类型", "best5_to_limit", "SZ"),
        SZ,
        Side.BUY,
        100,
        None,
        price_type=PriceType.BEST5_TO_LIMIT,
    )


def test_submit_while_disconnected_then_refused_unconnected_and_nothing_booked(sim: Sim) -> None:
    sim.broker.drop_connection("test drop")
    before = sim.books()
    order = SubmitOrder(ClientOrderId("X1"), SH, Side.BUY, 100, D_10)
    sim.broker.submit([order])
    sim.broker.wait_idle()
    response = sim.reports[-1]
    assert isinstance(response, SubmitResponse)
    assert response.client_order_id == "X1" and response.broker_order_id is None
    assert "未连接" in response.error
    assert sim.broker.query_orders() == []
    assert sim.books() == before


def test_submit_before_connect_then_refused_unconnected(tmp_path) -> None:
    broker = SimulatedBroker(tmp_path / "s.sqlite", SimClock(at(10, 0)))
    pushed: list = []
    broker.set_report_handler(pushed.append)
    broker.submit([SubmitOrder(ClientOrderId("X1"), SH, Side.BUY, 100, D_10)])
    broker.wait_idle()
    assert len(pushed) == 1 and pushed[0].broker_order_id is None and "未连接" in pushed[0].error
    assert broker.query_orders() == []
    broker.close()


def test_float_price_or_quantity_then_rejected_even_after_the_same_values_were_accepted(sim: Sim) -> None:
    ok = sim.buy(SH, 100, "10.00")
    assert sim.order(ok).status is OrderStatus.ACCEPTED
    before = sim.books()
    as_float = SubmitOrder(ClientOrderId("F1"), SH, Side.BUY, 100, 10.0)  # type: ignore[arg-type]
    float_qty = SubmitOrder(ClientOrderId("F2"), SH, Side.BUY, 100.0, D_10)  # type: ignore[arg-type]
    sim.broker.submit([as_float, float_qty])
    sim.broker.wait_idle()
    assert_rejected(sim, ClientOrderId("F1"), "float")
    assert_rejected(sim, ClientOrderId("F2"), "int")
    assert sim.books() == before
