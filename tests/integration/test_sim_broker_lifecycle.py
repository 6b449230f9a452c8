"""Cancels, the day's end and start, restarts on the same file, dropped connections, determinism."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.core.clock import SimClock
from app.domain.identifiers import BrokerOrderId, ClientOrderId
from app.domain.orders import OrderStatus, PriceType
from app.domain.reports import CancelErrorReport, CancelOrder, ConnectionChanged, OrderReport, SubmitOrder
from app.domain.side import Side
from app.gateways.sim.broker import SimulatedBroker
from tests.integration.test_sim_broker_kit import (
    CASH,
    DAY,
    NEXT_DAY,
    SH,
    SZ,
    D,
    Sim,
    at,
    day_infos,
    ladder,
    make_sim,
    quote,
    sim,
    start_sim,
)

__all__ = ["make_sim", "sim"]  # fixtures

S = OrderStatus


def thin_book(sim: Sim, ts=None, volume: int = 50_000) -> None:
    """SH with 400 shares at 10.01: 100 of them for us."""
    sim.quotes(
        quote(
            SH,
            ts or sim.clock.now(),
            last="10.00",
            volume=volume,
            bids=[("10.00", 400)],
            asks=[("10.01", 400)],
        )
    )


# ------------------------------------------------------------------------------- cancels
def test_cancel_working_order_then_pending_then_cancelled_and_cash_released(sim: Sim) -> None:
    coid = sim.buy(SH, 1000, "10.00")
    sim.cancel(coid)
    assert sim.statuses(coid) == [S.ACCEPTED, S.PENDING_CANCEL, S.CANCELLED]
    assert sim.order(coid).status is S.CANCELLED
    asset = sim.broker.query_asset()
    assert (asset.frozen, asset.available) == (0, CASH)


def test_cancel_partly_filled_order_then_cancelled_with_the_filled_part_kept(sim: Sim) -> None:
    thin_book(sim)
    coid = sim.buy(SH, 500, "10.01")
    sim.cancel(coid)
    assert sim.statuses(coid) == [S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.CANCELLED]
    final = sim.order(coid)
    assert (final.status, final.filled_qty, final.avg_price) == (S.CANCELLED, 100, D("10.01"))
    assert sim.broker.query_positions()[0].total == 100
    assert sim.broker.query_asset().frozen == 0


def test_cancel_a_sell_then_its_shares_are_sellable_again(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D("10.00"))
    coid = sim.sell(SH, 1000, "10.50")
    sim.cancel(coid)
    (position,) = sim.broker.query_positions()
    assert (position.frozen, position.sellable) == (0, 1000)


@pytest.mark.parametrize("when", [at(9, 20), at(9, 24, 59), at(14, 57), at(14, 59, 59)])
def test_cancel_in_the_no_cancel_minutes_then_refused_and_the_order_keeps_working(make_sim, when) -> None:
    sim = make_sim(when=at(9, 16) if when.hour == 9 else at(14, 50))
    coid = sim.buy(SH, 1000, "10.00")
    sim.advance(when)
    sim.cancel(coid)
    refusal = sim.of(coid)[-1]
    assert isinstance(refusal, CancelErrorReport)
    assert "当前时段不允许撤单" in refusal.message
    assert sim.order(coid).status is S.ACCEPTED
    assert sim.broker.query_asset().frozen > 0


def test_cancel_in_the_first_minutes_of_the_opening_auction_then_accepted(make_sim) -> None:
    sim = make_sim(when=at(9, 16))
    coid = sim.buy(SH, 1000, "10.00")
    sim.advance(at(9, 19, 59))
    sim.cancel(coid)
    assert sim.order(coid).status is S.CANCELLED


def test_cancel_a_filled_order_then_refused(sim: Sim) -> None:
    thin_book(sim)
    coid = sim.buy(SH, 100, "10.01")
    assert sim.order(coid).status is S.FILLED
    sim.cancel(coid)
    refusal = sim.of(coid)[-1]
    assert (
        isinstance(refusal, CancelErrorReport) and "不能撤单" in refusal.message and "已成" in refusal.message
    )
    assert sim.order(coid).status is S.FILLED


def test_cancel_an_unknown_order_then_refused(sim: Sim) -> None:
    sim.broker.cancel(CancelOrder(None, BrokerOrderId("999"), SH))
    sim.broker.wait_idle()
    refusal = sim.reports[-1]
    assert isinstance(refusal, CancelErrorReport) and "委托不存在" in refusal.message


# ------------------------------------------------------------------------------- day end and start
def test_end_day_then_every_working_order_is_cancelled_by_the_exchange(sim: Sim) -> None:
    sim.broker.set_position(SZ, 1000, D("12.00"))
    thin_book(sim)
    partly = sim.buy(SH, 500, "10.01")
    resting = sim.sell(SZ, 1000, "13.00")
    sim.advance(at(15, 0, 5))
    sim.broker.end_day()
    for coid in (partly, resting):
        last = sim.of(coid)[-1]
        assert isinstance(last, OrderReport) and last.status is S.CANCELLED and "收市" in last.status_msg
    assert sim.order(partly).filled_qty == 100
    assert sim.broker.query_asset().frozen == 0
    assert {p.code: p.frozen for p in sim.broker.query_positions()} == {SH: 0, SZ: 0}


def test_begin_day_then_yesterdays_working_orders_expire_and_show_no_more(sim: Sim) -> None:
    coid = sim.buy(SH, 1000, "10.00")
    sim.advance(at(9, 0, day=NEXT_DAY))
    sim.broker.begin_day(NEXT_DAY)
    last = sim.of(coid)[-1]
    assert isinstance(last, OrderReport) and last.status is S.EXPIRED
    assert sim.broker.query_orders() == []  # today's only
    assert sim.broker.query_asset().frozen == 0


def test_clock_reaching_a_new_trading_day_then_the_counter_rolls_by_itself(sim: Sim) -> None:
    thin_book(sim)
    sim.buy(SH, 100, "10.01")
    sim.advance(at(10, 0, day=NEXT_DAY))
    sim.broker.set_instruments(day_infos(NEXT_DAY))  # the first thing on the new day rolls it
    assert sim.broker.query_positions()[0].sellable == 100
    assert sim.broker.query_trades() == []


def test_begin_day_with_a_past_or_closed_day_then_error_and_nothing_changes(sim: Sim) -> None:
    with pytest.raises(ValueError, match="cannot go back"):
        sim.broker.begin_day(DAY.replace(day=20))
    with pytest.raises(ValueError, match="trading day"):
        sim.broker.begin_day(DAY.replace(day=28))
    assert sim.broker.query_asset().cash == CASH


# ------------------------------------------------------------------------------- restart
def test_restart_on_the_same_file_then_books_orders_and_ids_carry_on(tmp_path: Path) -> None:
    path = tmp_path / "sim.sqlite"
    first = start_sim(path)
    first.broker.set_position(SZ, 1000, D("12.00"))
    thin_book(first)
    partly = first.buy(SH, 500, "10.01")
    selling = first.sell(SZ, 400, "13.00")
    before = (
        first.broker.query_asset(),
        first.broker.query_positions(),
        first.broker.query_orders(),
        first.broker.query_trades(),
    )
    first.broker.close()

    second = start_sim(path, initial_cash=Decimal("5"))  # ignored: the file exists
    after = (
        second.broker.query_asset(),
        second.broker.query_positions(),
        second.broker.query_orders(),
        second.broker.query_trades(),
    )
    assert after == before
    # Working orders still work: the partly filled buy fills on the next quote.
    second.advance(at(10, 0, 3))
    thin_book(second, volume=50_000)
    assert second.order(partly).filled_qty == 200
    assert second.order(selling).status is S.ACCEPTED
    fresh = second.buy(SH, 100, "9.00", coid="AFTER")
    old_ids = {o.broker_order_id for o in before[2]}
    assert second.order(fresh).broker_order_id not in old_ids
    assert int(second.order(fresh).broker_order_id) > max(int(i) for i in old_ids)
    trade_ids = [t.trade_id for t in second.broker.query_trades()]
    assert len(trade_ids) == len(set(trade_ids)) == 2
    second.broker.close()


def test_file_of_another_account_then_error(tmp_path: Path) -> None:
    path = tmp_path / "sim.sqlite"
    SimulatedBroker(path, SimClock(at(10, 0)), account_id="A1").close()
    with pytest.raises(ValueError, match="belongs to account A1"):
        SimulatedBroker(path, SimClock(at(10, 0)), account_id="B2")


def test_reconnect_after_close_then_the_same_books(sim: Sim) -> None:
    coid = sim.buy(SH, 1000, "10.00")
    sim.broker.close()
    with pytest.raises(RuntimeError, match="closed"):
        sim.broker.query_orders()
    sim.broker.connect()
    assert sim.order(coid).status is S.ACCEPTED
    assert sim.connection_events()[-1].connected


# ------------------------------------------------------------------------------- connection
def test_dropped_connection_then_pushes_are_lost_and_queries_catch_up(sim: Sim) -> None:
    coid = sim.buy(SH, 500, "10.01")
    sim.broker.drop_connection("网络中断 (test)")
    assert not sim.broker.connected
    event = sim.reports[-1]
    assert isinstance(event, ConnectionChanged) and not event.connected and "网络中断" in event.reason
    pushed = len(sim.reports)
    thin_book(sim)  # the exchange keeps matching: a fill happens while nobody hears of it
    sim.broker.cancel(CancelOrder(coid, sim.order(coid).broker_order_id, SH))
    sim.broker.wait_idle()
    assert len(sim.reports) == pushed + 1  # only the refusal of the cancel itself
    assert "未连接" in sim.reports[-1].message
    sim.broker.restore_connection()
    assert sim.reports[-1] == ConnectionChanged(True, sim.reports[-1].reason, sim.reports[-1].ts)
    assert sim.broker.connected
    order = sim.order(coid)
    assert (order.status, order.filled_qty) == (S.PARTIALLY_FILLED, 100)
    assert len(sim.broker.query_trades()) == 1


def test_connect_then_connection_changed_pushed_once(sim: Sim) -> None:
    events = sim.connection_events()
    assert [e.connected for e in events] == [True]
    sim.broker.connect()  # already connected: nothing more
    assert len(sim.connection_events()) == 1


# ------------------------------------------------------------------------------- setup helpers
def test_setup_helpers_with_bad_input_then_clear_errors_and_nothing_changes(sim: Sim) -> None:
    before = sim.books()
    with pytest.raises(ValueError, match="deposit amount"):
        sim.broker.deposit(Decimal("-1"))
    with pytest.raises(ValueError, match="whole fen"):
        sim.broker.deposit(Decimal("0.001"))
    with pytest.raises(ValueError, match="qty"):
        sim.broker.set_position(SH, -100, D("10"))
    with pytest.raises(ValueError, match="avg_price"):
        sim.broker.set_position(SH, 100, 10.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="set_position"):
        sim.broker.set_position("XYZ", 100, D("10"))
    with pytest.raises(ValueError, match="set_instruments"):
        sim.broker.set_instruments(["600000.SH"])  # type: ignore[list-item]
    assert sim.books() == before


def test_constructor_with_bad_settings_then_clear_errors(tmp_path: Path) -> None:
    clock = SimClock(at(10, 0))
    with pytest.raises(ValueError, match="participation"):
        SimulatedBroker(tmp_path / "a.sqlite", clock, participation=Decimal("1.5"))
    with pytest.raises(ValueError, match="cage_policy"):
        SimulatedBroker(tmp_path / "b.sqlite", clock, cage_policy="maybe")
    with pytest.raises(ValueError, match="initial_cash"):
        SimulatedBroker(tmp_path / "c.sqlite", clock, initial_cash=Decimal("-1"))


# ------------------------------------------------------------------------------- determinism
def _script(path: Path) -> list:
    sim = start_sim(path, when=at(9, 16), seed=11)
    sim.broker.set_position(SZ, 3000, D("12.00"))
    sim.buy(SH, 2000, "10.08")
    sim.sell(SZ, 1000, "11.98")
    sim.advance(at(9, 25))
    sim.quotes(
        quote(
            SH,
            at(9, 25),
            open_="10.05",
            last="10.05",
            volume=6000,
            bids=ladder("10.04", "-0.01", 800),
            asks=ladder("10.06", "0.01", 800),
        ),
        quote(
            SZ,
            at(9, 25),
            open_="12.00",
            last="12.00",
            volume=9000,
            bids=ladder("11.99", "-0.01", 800),
            asks=ladder("12.01", "0.01", 800),
        ),
    )
    sim.advance(at(9, 30, 3))
    sim.quotes(
        quote(
            SH,
            at(9, 30, 3),
            last="10.04",
            volume=9000,
            bids=ladder("10.03", "-0.01", 800),
            asks=ladder("10.04", "0.01", 800),
        )
    )
    sim.buy(SZ, 500, None, price_type=PriceType.BEST5_IOC)
    late = sim.buy(SH, 300, "10.00")
    sim.cancel(late)
    sim.broker.end_day()
    sim.broker.close()
    return sim.reports


def test_same_inputs_then_identical_reports(tmp_path: Path) -> None:
    one = _script(tmp_path / "one.sqlite")
    two = _script(tmp_path / "two.sqlite")
    assert len(one) > 20
    assert one == two


def test_batch_submit_then_each_order_answered_in_order(sim: Sim) -> None:
    orders = [SubmitOrder(ClientOrderId(f"B{i}"), SH, Side.BUY, 100, D("10.00")) for i in range(5)]
    sim.broker.submit(orders)
    sim.broker.wait_idle()
    answered = [r.client_order_id for r in sim.reports if isinstance(r, OrderReport)]
    assert answered == [f"B{i}" for i in range(5)]
    assert [o.broker_order_id for o in sim.broker.query_orders()] == ["1", "2", "3", "4", "5"]


# ------------------------------------------------------------------------------- a failed commit
def test_commit_failure_then_nothing_of_the_batch_is_pushed_or_kept_and_the_link_drops(
    sim: Sim, monkeypatch
) -> None:
    store = sim.broker._store  # the file layer under test: make one commit fail like a full disk
    real_write = store.write
    failures = iter([OSError("disk full")])

    def failing_write(batch) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        real_write(batch)

    monkeypatch.setattr(store, "write", failing_write)
    pushed = len(sim.reports)
    lost = sim.buy(SH, 1000, "10.00")
    new = sim.reports[pushed:]
    assert len(new) == 1 and isinstance(new[0], ConnectionChanged) and not new[0].connected
    assert "disk full" in new[0].reason
    assert sim.of(lost) == []  # no report of an order the file does not have
    assert sim.broker.query_orders() == []
    assert sim.broker.query_asset().frozen == 0
    sim.broker.restore_connection()
    again = sim.buy(SH, 1000, "10.00", coid="AGAIN")
    assert sim.order(again).status is S.ACCEPTED
    assert sim.order(again).broker_order_id == "1"  # the lost order's id was never committed
