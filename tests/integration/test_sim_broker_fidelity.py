"""Issue 13: the simulated broker prices and holds orders as the exchanges do (docs/RULES_SIM.md).

One scenario per behaviour, on the real broker through its public kit. Participation is 0.25: of a
level showing 2,000 shares our orders may take 500 per snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import time, timedelta
from decimal import Decimal

import pytest

from app.config import load_settings
from app.core.oms import NewOrder
from app.core.terminal import Terminal
from app.domain.orders import OrderStatus, PriceType
from app.domain.prices import round_to_tick
from app.domain.reports import CancelErrorReport, OrderReport
from app.domain.side import Side
from app.gateways.sim.acceptance import HELD, RELEASED
from app.gateways.sim.broker import SimulatedBroker
from tests.helpers.engine_day import DAY, make_setup, open_day, settle
from tests.helpers.engine_day import at as day_at
from tests.integration.test_sim_broker_kit import (
    SH,
    SZ,
    D,
    Sim,
    at,
    info,
    ladder,
    make_sim,
    quote,
    sim,
)

__all__ = ["make_sim", "sim"]  # fixtures

S = OrderStatus
STAR = "688001.SH"  # prev close 50.00: limits 60.00 / 40.00, market orders carry a protection price


def fills(sim: Sim, coid) -> list[tuple[Decimal, int]]:
    return [(t.price, t.qty) for t in sim.trades(coid)]


def sh_ask(sim: Sim, *, ask: str = "10.01", ask_volume: int = 2000, volume: int = 100_000, second: int = 0):
    sim.quotes(
        quote(
            SH,
            at(10, 0, second),
            last="10.00",
            volume=volume,
            bids=[("10.00", 2000)],
            asks=[(ask, ask_volume)],
        )
    )


# ------------------------------------------------------------------ 1. the rest trades at what is shown
def test_rest_of_a_marketable_buy_then_fills_at_the_ask_still_shown_not_at_its_own_limit(sim: Sim) -> None:
    sh_ask(sim)
    coid = sim.buy(SH, 1000, "10.21")  # inside the cage (10.01 × 1.02 = 10.21)
    assert fills(sim, coid) == [(D("10.01"), 500)]  # the participation cap
    sim.advance(at(10, 0, 3))
    sh_ask(sim, second=3)  # the same ask, nothing traded since
    assert fills(sim, coid) == [(D("10.01"), 500), (D("10.01"), 500)]
    assert sim.order(coid).avg_price == D("10.01")
    assert sim.broker.query_asset().frozen == 0


def test_rest_of_a_marketable_sell_then_fills_at_the_bid_still_shown_not_at_its_own_limit(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D("9.00"))
    sh_ask(sim)
    coid = sim.sell(SH, 1000, "9.80")  # inside the cage (10.00 × 0.98)
    sim.advance(at(10, 0, 3))
    sh_ask(sim, second=3)
    assert fills(sim, coid) == [(D("10.00"), 500), (D("10.00"), 500)]


def test_rest_of_a_resting_order_then_traded_volume_still_fills_it_at_its_own_limit(sim: Sim) -> None:
    sh_ask(sim, ask="10.05")
    coid = sim.buy(SH, 1000, "10.02")  # below the ask: rests
    sim.advance(at(10, 0, 3))
    # 2,000 traded at 10.00 since, the ask still above our bid: an incoming sell met our 10.02.
    sh_ask(sim, ask="10.05", volume=102_000, second=3)
    assert fills(sim, coid) == [(D("10.02"), 500)]


def test_auction_leftover_then_fills_at_the_asks_shown_in_continuous_trading(make_sim) -> None:
    sim = make_sim(when=at(9, 16))
    coid = sim.buy(SH, 40_000, "10.10")
    sim.advance(at(9, 25))
    # The auction traded only 20,000: the model never gives us more than the auction traded.
    sim.quotes(quote(SH, at(9, 25), open_="10.05", last="10.05", volume=20_000, bids=[("10.05", 100)]))
    assert fills(sim, coid) == [(D("10.05"), 20_000)]
    sim.advance(at(9, 30, 3))
    sim.quotes(
        quote(
            SH,
            at(9, 30, 3),
            last="10.05",
            volume=20_000,
            bids=[("10.05", 4000)],
            asks=[("10.06", 20_000), ("10.07", 20_000)],
        )
    )
    assert fills(sim, coid)[1:] == [(D("10.06"), 5000), (D("10.07"), 5000)]


# ------------------------------------------------------------------ 2. the cage, per exchange
def sz_book(sim: Sim, ask: str, second: int = 0, volume: int = 90_000) -> None:
    sim.quotes(
        quote(
            SZ,
            at(10, 0, second),
            last="12.00",
            volume=volume,
            bids=ladder("12.00", "-0.01", 4000),
            asks=ladder(ask, "0.01", 4000),
        )
    )


def test_shenzhen_out_of_cage_order_then_held_by_default_shown_as_held_and_released_in_range(
    sim: Sim,
) -> None:
    sz_book(sim, "12.01")  # buy cage: max(12.01 × 1.02, 12.01 + 0.10) = 12.25
    coid = sim.buy(SZ, 1000, "12.30")
    accepted = sim.of(coid)[-1]
    assert isinstance(accepted, OrderReport) and accepted.status is S.ACCEPTED
    assert accepted.status_msg.startswith(HELD) and "12.25" in accepted.status_msg
    assert sim.trades(coid) == []  # it crosses the ask but is not in the book
    assert sim.order(coid).status_msg == accepted.status_msg
    sim.advance(at(10, 0, 3))
    sz_book(sim, "12.10", second=3)  # cage 12.34: released, takes the asks at their prices
    released = [r for r in sim.of(coid) if isinstance(r, OrderReport) and r.status_msg == RELEASED]
    assert released and released[0].status is S.ACCEPTED
    assert fills(sim, coid) == [(D("12.10"), 1000)]


def test_shanghai_out_of_cage_order_then_rejected_by_default(sim: Sim) -> None:
    sh_ask(sim)  # cage 10.21
    coid = sim.buy(SH, 1000, "10.22")
    assert sim.order(coid).status is S.REJECTED and "price cage" in sim.order(coid).status_msg


@pytest.mark.parametrize(
    ("policy", "sh", "sz"),
    [
        ({"SZ": "reject"}, S.REJECTED, S.REJECTED),
        ({"SH": "hold"}, S.ACCEPTED, S.ACCEPTED),
        ({"SH": "exchange", "SZ": "off"}, S.REJECTED, S.FILLED),
        ("hold", S.ACCEPTED, S.ACCEPTED),
    ],
)
def test_cage_policy_then_overridden_per_exchange(make_sim, policy, sh, sz) -> None:
    sim = make_sim(cage_policy=policy)
    sh_ask(sim)
    sz_book(sim, "12.01")
    sh_order = sim.buy(SH, 100, "10.22")
    sz_order = sim.buy(SZ, 100, "12.30")
    assert (sim.order(sh_order).status, sim.order(sz_order).status) == (sh, sz)


@pytest.mark.parametrize("policy", ["hold-ish", {"HK": "hold"}, {"SZ": "later"}, 3])
def test_cage_policy_unknown_then_refused_plainly(tmp_path, policy) -> None:
    from app.core.clock import SimClock

    with pytest.raises(ValueError, match="cage_policy"):
        SimulatedBroker(tmp_path / "x.db", SimClock(at(10, 0)), cage_policy=policy)


# ------------------------------------------------------------------ 3. SSE best five then limit (43)
def test_best5_to_limit_without_a_fill_then_rests_at_its_own_best_and_keeps_working(sim: Sim) -> None:
    sim.quotes(quote(SH, at(10, 0), last="10.00", volume=50_000, bids=ladder("10.00", "-0.01", 4000)))
    coid = sim.buy(SH, 1000, None, price_type=PriceType.BEST5_TO_LIMIT)  # no asks: no fill
    assert sim.order(coid).status is S.ACCEPTED  # a limit buy at the best bid now
    sim.advance(at(10, 0, 3))
    sim.quotes(
        quote(SH, at(10, 0, 3), last="10.00", volume=50_000, bids=[("9.99", 400)], asks=[("9.99", 4000)])
    )
    assert fills(sim, coid) == [(D("9.99"), 1000)]  # an ask at or below 10.00, at its price


def test_best5_to_limit_sell_without_a_fill_then_rests_at_the_best_ask(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D("9.00"))
    sim.quotes(quote(SH, at(10, 0), last="10.00", volume=50_000, asks=ladder("10.02", "0.01", 4000)))
    coid = sim.sell(SH, 1000, None, price_type=PriceType.BEST5_TO_LIMIT)
    assert sim.order(coid).status is S.ACCEPTED
    sim.advance(at(10, 0, 3))
    sim.quotes(quote(SH, at(10, 0, 3), last="10.00", volume=50_000, bids=[("10.03", 8000)]))
    assert fills(sim, coid) == [(D("10.03"), 1000)]


def test_best5_to_limit_with_no_order_on_its_own_side_then_cancelled(sim: Sim) -> None:
    sim.quotes(quote(SH, at(10, 0), last="10.00", volume=50_000))  # an empty book
    coid = sim.buy(SH, 1000, None, price_type=PriceType.BEST5_TO_LIMIT)
    final = sim.order(coid)
    assert final.status is S.CANCELLED and "本方无申报" in final.status_msg
    assert sim.broker.query_asset().frozen == 0


# ------------------------------------------------------------------ 4. auction: better-priced orders fill in full
def test_opening_auction_buy_priced_above_the_print_then_filled_in_full(make_sim) -> None:
    sim = make_sim(when=at(9, 16))
    better = sim.buy(SH, 40_000, "10.10")
    at_print = sim.buy(SH, 40_000, "10.05")
    sim.advance(at(9, 25))
    sim.quotes(
        quote(SH, at(9, 25), open_="10.05", last="10.05", volume=100_000, asks=ladder("10.06", "0.01", 4000))
    )
    assert fills(sim, better) == [(D("10.05"), 40_000)]  # before: 25,000 (25% of the volume)
    # At the print price orders share what is left of 25% of the auction volume: here nothing.
    assert fills(sim, at_print) == []


def test_closing_auction_sell_priced_below_the_print_then_filled_in_full(make_sim) -> None:
    sim = make_sim(when=at(14, 50))
    sim.broker.set_position(SH, 40_000, D("9.00"))
    sim.quotes(
        quote(SH, at(14, 50), last="10.00", volume=1_000_000, bids=[("9.99", 400)], asks=[("10.01", 400)])
    )
    sim.advance(at(14, 58))
    coid = sim.sell(SH, 40_000, "9.95")
    sim.quotes(
        quote(SH, at(14, 58), last="10.00", volume=1_000_000, bids=[("10.00", 9000)], asks=[("10.00", 9000)])
    )
    sim.advance(at(15, 0))
    sim.quotes(
        quote(SH, at(15, 0), last="10.00", volume=1_100_000, bids=[("9.99", 400)], asks=[("10.01", 400)])
    )
    assert fills(sim, coid) == [(D("10.00"), 40_000)]  # before: 25% of the 100,000 closing volume


# ------------------------------------------------------------------ 5. nothing outside the day's limits
def test_open_print_above_the_up_limit_then_a_sell_fills_at_the_limit_and_the_log_says_so(
    make_sim, caplog: pytest.LogCaptureFixture
) -> None:
    sim = make_sim(when=at(9, 16))
    sim.broker.set_position(SH, 1000, D("9.00"))
    coid = sim.sell(SH, 1000, "10.90")
    sim.advance(at(9, 25))
    with caplog.at_level(logging.WARNING, logger="app.gateways.sim.counter"):
        sim.quotes(quote(SH, at(9, 25), open_="11.50", last="11.50", volume=100_000, bids=[("11.50", 4000)]))
    assert fills(sim, coid) == [(D("11.00"), 1000)]  # the print clamped to the 11.00 limit
    assert any("涨跌停" in r.getMessage() and "11.50" in r.getMessage() for r in caplog.records)


def test_ask_below_the_down_limit_then_dropped_and_never_filled(sim: Sim) -> None:
    sim.quotes(
        quote(
            SH,
            at(10, 0),
            last="9.00",
            volume=50_000,
            bids=[("8.99", 4000)],
            asks=[("8.95", 4000), ("9.00", 4000)],
        )
    )
    coid = sim.buy(SH, 2000, "9.00")
    assert fills(sim, coid) == [(D("9.00"), 1000)]  # the 8.95 level is not the market's
    assert all(t.price >= D("9.00") for t in sim.broker.query_trades())


def test_resting_order_and_a_print_outside_the_limits_then_fills_stay_inside(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D("9.00"))
    sim.quotes(quote(SH, at(10, 0), last="10.00", volume=50_000, asks=[("10.50", 400)]))
    coid = sim.sell(SH, 1000, "10.80")
    sim.advance(at(10, 0, 3))
    sim.quotes(quote(SH, at(10, 0, 3), last="11.50", volume=60_000, bids=[("11.20", 9000), ("10.90", 4000)]))
    assert fills(sim, coid) == [(D("10.90"), 1000)]  # the 11.20 bid dropped; traded volume not needed


# ------------------------------------------------------------------ pending-cancel window
def resting_buy(sim: Sim) -> object:
    sh_ask(sim, ask="10.05")
    return sim.buy(SH, 1000, "10.00")


def test_cancel_with_a_window_then_pending_a_fill_arrives_and_the_rest_is_cancelled(make_sim) -> None:
    sim = make_sim(cancel_latency=timedelta(seconds=2))
    coid = resting_buy(sim)
    sim.cancel(coid)
    assert sim.statuses(coid) == [S.ACCEPTED, S.PENDING_CANCEL]
    assert sim.order(coid).status is S.PENDING_CANCEL
    sim.advance(at(10, 0, 1))
    sh_ask(sim, ask="10.00", second=1)  # inside the window: the market reaches the order
    assert fills(sim, coid) == [(D("10.00"), 500)]
    assert sim.order(coid).status is S.PENDING_CANCEL  # xt 52: part-filled, cancel pending
    sim.advance(at(10, 0, 3))
    sh_ask(sim, ask="10.05", second=3)
    final = sim.order(coid)
    assert (final.status, final.filled_qty) == (S.CANCELLED, 500)
    assert sim.broker.query_asset().frozen == 0
    assert sim.broker.query_positions()[0].total == 500
    cash, expected = sim.broker.cash_identity()
    assert cash == expected


def test_cancel_with_a_window_and_the_order_filled_meanwhile_then_the_cancel_fails(make_sim) -> None:
    sim = make_sim(cancel_latency=timedelta(seconds=2))
    coid = resting_buy(sim)
    sim.cancel(coid)
    sim.advance(at(10, 0, 1))
    sh_ask(sim, ask="10.00", ask_volume=8000, second=1)
    assert sim.order(coid).status is S.FILLED
    sim.advance(at(10, 0, 3))
    sh_ask(sim, ask="10.05", second=3)
    refusal = sim.of(coid)[-1]
    assert isinstance(refusal, CancelErrorReport) and "撤单失败" in refusal.message
    assert sim.order(coid).status is S.FILLED


def test_pending_cancel_then_confirmed_after_a_restart_of_the_broker(make_sim, tmp_path) -> None:
    sim = make_sim(cancel_latency=timedelta(seconds=2))
    coid = resting_buy(sim)
    sim.cancel(coid)
    sim.broker.close()
    again = SimulatedBroker(sim.path, sim.clock, cancel_latency=timedelta(seconds=2))
    again.set_report_handler(sim.record)
    again.connect()
    try:
        sim.broker = again
        assert sim.order(coid).status is S.PENDING_CANCEL
        sim.advance(at(10, 0, 3))
        sh_ask(sim, ask="10.05", second=3)
        assert sim.order(coid).status is S.CANCELLED
        assert again.query_asset().frozen == 0
    finally:
        again.close()


def test_pending_cancel_at_the_close_then_confirmed_before_the_exchange_ends_the_day(make_sim) -> None:
    sim = make_sim(cancel_latency=timedelta(seconds=30))
    coid = resting_buy(sim)
    sim.cancel(coid)
    sim.broker.end_day()
    final = sim.order(coid)
    assert final.status is S.CANCELLED and "撤单成功" in final.status_msg


def test_cancel_asked_twice_in_the_window_then_one_confirmation(make_sim) -> None:
    sim = make_sim(cancel_latency=timedelta(seconds=2))
    coid = resting_buy(sim)
    sim.cancel(coid)
    sim.cancel(coid)
    sim.advance(at(10, 0, 3))
    sh_ask(sim, ask="10.05", second=3)
    assert sim.statuses(coid) == [S.ACCEPTED, S.PENDING_CANCEL, S.PENDING_CANCEL, S.CANCELLED]
    assert not [r for r in sim.of(coid) if isinstance(r, CancelErrorReport)]


# ------------------------------------------------------------------ protection price (STAR)
def star_sim(sim: Sim, ask_volume: int = 400) -> Sim:
    sim.broker.set_instruments([info(STAR, D("50.00"))])
    sim.quotes(
        quote(
            STAR,
            at(10, 0),
            last="50.00",
            volume=50_000,
            bids=ladder("50.00", "-0.01", 4000),
            asks=ladder("50.01", "0.01", ask_volume),
        )
    )
    return sim


def test_star_market_buy_with_a_protection_price_then_never_fills_above_it(sim: Sim) -> None:
    star_sim(sim)
    coid = sim.buy(STAR, 1000, "50.03", price_type=PriceType.BEST5_IOC)
    assert fills(sim, coid) == [(D("50.01"), 100), (D("50.02"), 100), (D("50.03"), 100)]
    assert sim.order(coid).status is S.CANCELLED


def test_star_best5_to_limit_with_a_protection_price_then_the_rest_rests_no_higher(sim: Sim) -> None:
    star_sim(sim)
    coid = sim.buy(STAR, 1000, "50.02", price_type=PriceType.BEST5_TO_LIMIT)
    assert fills(sim, coid) == [(D("50.01"), 100), (D("50.02"), 100)]
    sim.advance(at(10, 0, 3))
    sim.quotes(quote(STAR, at(10, 0, 3), last="50.00", volume=50_000, asks=[("50.02", 40_000)]))
    assert fills(sim, coid)[2:] == [(D("50.02"), 800)]


def test_star_market_buy_then_cash_frozen_at_the_protection_price_not_the_up_limit(sim: Sim) -> None:
    star_sim(sim, ask_volume=0)
    own = sim.buy(STAR, 1000, "49.90", price_type=PriceType.OWN_BEST)  # best bid 50.00, bounded: 49.90
    assert sim.order(own).status is S.ACCEPTED
    frozen = sim.broker.query_asset().frozen
    assert D("49900") < frozen < D("49950")  # 1000 × 49.90 plus fees, not 1000 × 60.00


def test_star_market_order_with_a_protection_price_outside_the_limits_then_rejected(sim: Sim) -> None:
    star_sim(sim)
    coid = sim.buy(STAR, 1000, "60.01", price_type=PriceType.BEST5_IOC)
    final = sim.order(coid)
    assert final.status is S.REJECTED and "保护限价" in final.status_msg


# ------------------------------------------------------------------ through the composition root and the Terminal
@pytest.mark.parametrize(("env", "held"), [({}, True), ({"TILLER__SIM__CAGE_SZ": "reject"}, False)])
def test_held_order_then_the_terminal_shows_it_held_then_released_and_a_setting_overrides(
    tmp_path, env, held
) -> None:
    settings = load_settings(env={"TILLER_DATA_DIR": str(tmp_path), **env}, path=tmp_path / "none.toml")
    assert settings.sim.cage_sz == ("reject" if env else "exchange")
    setup = make_setup(tmp_path, settings=settings)
    try:
        open_day(setup)
        day_at(setup, 10, 0)
        (sz,) = [q for q in setup.feed.snapshot(DAY, time(10, 0)) if q.code == SZ]
        price = round_to_tick(sz.ask_prices[0] * D("1.04"), D("0.01"))  # above the 2% cage
        terminal = Terminal(setup.engine)
        [cid] = terminal.submit([NewOrder(SZ, Side.BUY, 100, price)])
        settle(setup)
        shown = terminal.order(cid)
        assert shown is not None
        if not held:
            assert shown.status is S.REJECTED and "price cage" in shown.status_msg
            return
        assert shown.status is S.ACCEPTED and shown.status_msg.startswith(HELD)
        assert shown.filled_qty == 0
        # The market comes up to it: released into the book, and the Terminal says so.
        later = setup.clock.now() + timedelta(seconds=3)
        setup.clock.advance_to(later)
        setup.broker.on_quotes(
            [replace(sz, ts=later, ask_prices=(price - D("0.02"),), ask_volumes=(40_000,), volume=sz.volume)]
        )
        settle(setup)
        shown = terminal.order(cid)
        assert shown is not None
        assert (shown.status, shown.status_msg, shown.avg_price) == (S.FILLED, RELEASED, price - D("0.02"))
    finally:
        setup.close()
