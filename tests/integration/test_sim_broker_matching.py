"""Acceptance, fills, auctions, limit locks, fees and T+1 at the simulated counter.

Participation is 0.25 throughout: of a level showing 4,000 shares our orders may take 1,000.
"""

from __future__ import annotations

from decimal import Decimal

from app.domain.orders import OrderStatus, PriceType
from app.domain.reports import OrderReport, SubmitResponse, TradeReport
from app.domain.side import Side
from tests.integration.test_sim_broker_kit import (
    CASH,
    DAY,
    FEES,
    NEXT_DAY,
    SH,
    SZ,
    T0_FUND,
    D,
    Sim,
    at,
    day_infos,
    ladder,
    make_sim,
    quote,
    sim,
)

__all__ = ["make_sim", "sim"]  # fixtures

S = OrderStatus


def sh_book(
    sim: Sim,
    ts=None,
    *,
    ask: str = "10.01",
    ask_volume: int = 4000,
    volume: int = 100_000,
    last: str = "10.00",
) -> None:
    """SH quoted bids 10.00… and asks from `ask` up, five levels each."""
    sim.quotes(
        quote(
            SH,
            ts or sim.clock.now(),
            last=last,
            volume=volume,
            bids=ladder("10.00", "-0.01", 4000),
            asks=ladder(ask, "0.01", ask_volume),
        )
    )


def fee(code: str, side: Side, amount: str) -> Decimal:
    return FEES.cost_for_amount(code, side, Decimal(amount))


# ------------------------------------------------------------------------------- acceptance
def test_limit_buy_without_quotes_then_accepted_resting_and_cash_frozen_with_fees(sim: Sim) -> None:
    coid = sim.buy(SH, 1000, "10.00")
    pushed = sim.of(coid)
    assert [type(r) for r in pushed] == [SubmitResponse, OrderReport]
    assert pushed[1].status is S.ACCEPTED and pushed[1].broker_order_id == pushed[0].broker_order_id
    asset = sim.broker.query_asset()
    frozen = D("10000") + fee(SH, Side.BUY, "10000")  # ¥5 minimum commission + transfer fee
    assert asset.frozen == frozen == D("10005.10")
    assert asset.cash == CASH and asset.available == CASH - frozen
    assert sim.order(coid).status is S.ACCEPTED


def test_limit_sell_then_accepted_and_shares_frozen(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D("9.50"))
    sim.sell(SH, 400, "10.50")
    (position,) = sim.broker.query_positions()
    assert (position.total, position.frozen, position.sellable) == (1000, 400, 600)


# ------------------------------------------------------------------------------- continuous fills
def test_marketable_buy_on_level_one_then_filled_at_the_ask_with_fees(sim: Sim) -> None:
    sim.quotes(
        quote(SH, at(10, 0), last="10.00", volume=50_000, bids=[("10.00", 8000)], asks=[("10.01", 8000)])
    )
    coid = sim.buy(SH, 1000, "10.05")
    assert sim.statuses(coid) == [S.ACCEPTED, S.FILLED]
    (trade,) = sim.trades(coid)
    assert (trade.qty, trade.price, trade.amount) == (1000, D("10.01"), D("10010.00"))
    assert trade.fees == fee(SH, Side.BUY, "10010") == D("5.10")
    asset = sim.broker.query_asset()
    assert asset.cash == CASH - D("10010") - D("5.10")
    assert asset.frozen == 0
    (position,) = sim.broker.query_positions()
    assert (position.total, position.sellable) == (1000, 0)  # T+1
    assert sim.order(coid).avg_price == D("10.01")


def test_buy_sweeping_five_levels_then_one_fill_per_level_and_fees_add_up(sim: Sim) -> None:
    sh_book(sim)
    coid = sim.buy(SH, 3000, "10.03")
    assert sim.statuses(coid) == [S.ACCEPTED, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED, S.FILLED]
    trades = sim.trades(coid)
    assert [(t.price, t.qty) for t in trades] == [(D("10.01"), 1000), (D("10.02"), 1000), (D("10.03"), 1000)]
    total = sum(t.amount for t in trades)
    assert sum(t.fees for t in trades) == FEES.cost_for_amount(SH, Side.BUY, total)
    assert trades[0].fees >= D("5")  # the ¥5 minimum lands on the first fill, once
    assert len({t.trade_id for t in trades}) == 3
    assert sim.order(coid).avg_price == D("10.02")


def test_fills_bounded_by_participation_then_rest_keeps_working(sim: Sim) -> None:
    sim.quotes(
        quote(SH, at(10, 0), last="10.00", volume=50_000, bids=[("10.00", 400)], asks=[("10.01", 400)])
    )
    coid = sim.buy(SH, 500, "10.01")
    assert [(t.qty, t.price) for t in sim.trades(coid)] == [(100, D("10.01"))]  # 400 × 0.25
    order = sim.order(coid)
    assert (order.status, order.filled_qty) == (S.PARTIALLY_FILLED, 100)
    # The rest stays frozen: 400 at the limit plus what fees it may still cost.
    assert sim.broker.query_asset().frozen >= D("4004.00")


def test_orders_on_the_same_snapshot_share_its_liquidity(sim: Sim) -> None:
    sim.quotes(
        quote(SH, at(10, 0), last="10.00", volume=50_000, bids=[("10.00", 400)], asks=[("10.01", 400)])
    )
    first = sim.buy(SH, 100, "10.01")
    second = sim.buy(SH, 100, "10.01")
    assert sim.order(first).status is S.FILLED
    assert sim.order(second).status is S.ACCEPTED  # the level's 100 shares were taken


def test_resting_buy_then_filled_at_the_ask_when_a_later_quote_crosses_its_limit(sim: Sim) -> None:
    sim.quotes(
        quote(SH, at(10, 0), last="10.00", volume=50_000, bids=[("10.00", 400)], asks=[("10.01", 400)])
    )
    coid = sim.buy(SH, 500, "10.01")
    sim.advance(at(10, 0, 3))
    sim.quotes(
        quote(SH, at(10, 0, 3), last="10.00", volume=50_000, bids=[("9.99", 4000)], asks=[("10.00", 4000)])
    )
    trades = sim.trades(coid)
    assert [(t.qty, t.price) for t in trades] == [
        (100, D("10.01")),
        (400, D("10.00")),
    ]  # the rest takes what the market shows, at its price (issue 13 item 1)
    assert sim.order(coid).status is S.FILLED
    assert sim.broker.query_asset().frozen == 0
    assert sum(t.fees for t in trades) == fee(SH, Side.BUY, "5001.00")


def test_resting_buy_then_filled_by_trade_through_up_to_participation_of_volume(sim: Sim) -> None:
    sh_book(sim, volume=100_000)
    coid = sim.buy(SH, 1000, "10.00")  # below the ask: rests
    assert sim.trades(coid) == []
    sim.advance(at(10, 0, 3))
    # 2,000 shares traded at 10.00 since the last snapshot; asks still above: 500 are ours.
    sh_book(sim, volume=102_000, last="10.00")
    assert [(t.qty, t.price) for t in sim.trades(coid)] == [(500, D("10.00"))]
    sim.advance(at(10, 0, 6))
    sh_book(sim, volume=110_000, last="10.02")  # traded above our limit: nothing for us
    assert len(sim.trades(coid)) == 1
    assert sim.order(coid).status is S.PARTIALLY_FILLED


def test_buy_at_a_locked_limit_up_then_not_filled_and_stays_working(sim: Sim) -> None:
    locked = quote(SH, at(10, 0), last="11.00", volume=500_000, bids=[("11.00", 900_000)], asks=[])
    sim.quotes(locked)
    coid = sim.buy(SH, 1000, "11.00")
    sim.advance(at(10, 0, 3))
    sim.quotes(quote(SH, at(10, 0, 3), last="11.00", volume=600_000, bids=[("11.00", 800_000)], asks=[]))
    assert sim.trades(coid) == []
    assert sim.order(coid).status is S.ACCEPTED


def test_sell_at_a_locked_limit_down_then_not_filled_and_stays_working(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D("10.00"))
    sim.quotes(quote(SH, at(10, 0), last="9.00", volume=500_000, bids=[], asks=[("9.00", 900_000)]))
    coid = sim.sell(SH, 1000, "9.00")
    sim.advance(at(10, 0, 3))
    sim.quotes(quote(SH, at(10, 0, 3), last="9.00", volume=600_000, bids=[], asks=[("9.00", 800_000)]))
    assert sim.trades(coid) == []
    assert sim.order(coid).status is S.ACCEPTED
    assert sim.broker.query_positions()[0].frozen == 1000


def test_sell_into_the_bids_then_cash_gets_proceeds_less_stamp_duty(sim: Sim) -> None:
    sim.broker.set_position(SH, 1000, D("9.50"))
    sh_book(sim)
    coid = sim.sell(SH, 1000, "10.00")
    (trade,) = sim.trades(coid)
    assert (trade.price, trade.qty) == (D("10.00"), 1000)
    assert trade.fees == fee(SH, Side.SELL, "10000") == D("10.10")  # 5 + stamp 5.00 + transfer 0.10
    assert sim.broker.query_asset().cash == CASH + D("10000") - D("10.10")
    assert sim.broker.query_positions() == []


# ------------------------------------------------------------------------------- fees
def test_fees_per_fill_add_up_to_the_order_fee_with_the_minimum_charged_once(sim: Sim) -> None:
    sim.quotes(
        quote(SH, at(10, 0), last="10.00", volume=50_000, bids=[("10.00", 400)], asks=[("10.01", 400)])
    )
    coid = sim.buy(SH, 200, "10.01")
    sim.advance(at(10, 0, 3))
    sim.quotes(
        quote(SH, at(10, 0, 3), last="10.00", volume=50_000, bids=[("10.00", 400)], asks=[("10.01", 400)])
    )
    trades = sim.trades(coid)
    assert [t.qty for t in trades] == [100, 100]
    assert [t.fees for t in trades] == [D("5.01"), D("0.01")]  # ¥5 + transfer, then transfer only
    assert sum(t.fees for t in trades) == fee(SH, Side.BUY, "2002.00")


def test_books_stay_exact_then_cash_equals_initial_plus_sells_minus_buys_minus_fees(sim: Sim) -> None:
    sim.broker.set_position(SZ, 2000, D("11.00"))
    sh_book(sim)
    sim.quotes(
        quote(
            SZ,
            at(10, 0),
            last="12.00",
            volume=90_000,
            bids=ladder("12.00", "-0.01", 2000),
            asks=ladder("12.01", "0.01", 2000),
        )
    )
    sim.buy(SH, 2500, "10.03")
    sim.sell(SZ, 1500, "11.99")
    sim.buy(SH, 300, "10.01")
    sim.broker.deposit(D("1234.56"))
    cash, expected = sim.broker.cash_identity()
    assert cash == expected
    trades = sim.broker.query_trades()
    buys = sum(t.amount for t in trades if t.side is Side.BUY)
    sells = sum(t.amount for t in trades if t.side is Side.SELL)
    fees = sum(t.fees for t in trades)
    assert sim.broker.query_asset().cash == CASH + D("1234.56") + sells - buys - fees


# ------------------------------------------------------------------------------- market orders
def test_best5_ioc_then_sweeps_five_levels_and_the_rest_is_cancelled(sim: Sim) -> None:
    sh_book(sim, ask_volume=400)  # 100 of each level for us
    coid = sim.buy(SH, 1000, None, price_type=PriceType.BEST5_IOC)
    trades = sim.trades(coid)
    assert [(t.price, t.qty) for t in trades] == [
        (D(p), 100) for p in ("10.01", "10.02", "10.03", "10.04", "10.05")
    ]
    final = sim.of(coid)[-1]
    assert isinstance(final, OrderReport) and final.status is S.CANCELLED and final.filled_qty == 500
    assert "即时成交剩余撤销" in final.status_msg
    assert sim.broker.query_asset().frozen == 0
    assert sim.broker.query_positions()[0].total == 500


def test_best5_ioc_buy_then_cash_frozen_at_the_up_limit_while_it_works(sim: Sim) -> None:
    # With no quotes there is nothing to take: cancelled at once and the freeze released.
    coid = sim.buy(SH, 1000, None, price_type=PriceType.BEST5_IOC)
    assert sim.statuses(coid) == [S.ACCEPTED, S.CANCELLED]
    assert sim.broker.query_asset().frozen == 0


def test_fill_or_kill_on_shenzhen_then_cancelled_whole_when_the_book_is_short(sim: Sim) -> None:
    sim.quotes(
        quote(
            SZ,
            at(10, 0),
            last="12.00",
            volume=90_000,
            bids=ladder("12.00", "-0.01", 400),
            asks=ladder("12.01", "0.01", 400),
        )
    )
    short = sim.buy(SZ, 600, None, price_type=PriceType.FOK)  # 5 × 100 available
    assert sim.trades(short) == [] and sim.order(short).status is S.CANCELLED
    whole = sim.buy(SZ, 500, None, price_type=PriceType.FOK)
    assert sum(t.qty for t in sim.trades(whole)) == 500 and sim.order(whole).status is S.FILLED


def test_peer_best_then_fills_at_the_best_ask_and_rests_there(sim: Sim) -> None:
    sim.quotes(
        quote(
            SZ,
            at(10, 0),
            last="12.00",
            volume=90_000,
            bids=ladder("12.00", "-0.01", 400),
            asks=ladder("12.01", "0.01", 400),
        )
    )
    coid = sim.buy(SZ, 300, None, price_type=PriceType.PEER_BEST)
    assert [(t.price, t.qty) for t in sim.trades(coid)] == [(D("12.01"), 100)]
    assert sim.order(coid).status is S.PARTIALLY_FILLED


def test_best5_to_limit_on_shanghai_then_the_rest_rests_at_the_last_fill_price(sim: Sim) -> None:
    sh_book(sim, ask_volume=400)
    coid = sim.buy(SH, 800, None, price_type=PriceType.BEST5_TO_LIMIT)
    assert sim.order(coid).status is S.PARTIALLY_FILLED  # 500 filled, 300 rest at 10.05
    sim.advance(at(10, 0, 3))
    sh_book(sim, ask="10.05", ask_volume=4000)
    assert sim.trades(coid)[-1].price == D("10.05")
    assert sim.order(coid).status is S.FILLED


# ------------------------------------------------------------------------------- auctions
def test_opening_auction_then_buys_at_or_above_fill_at_the_open_price_and_lower_ones_wait(make_sim) -> None:
    sim = make_sim(when=at(9, 16))
    above = sim.buy(SH, 1000, "10.10")
    below = sim.buy(SH, 1000, "10.00")
    sim.quotes(quote(SH, at(9, 16), last="10.05", volume=0, bids=[("10.05", 5000)], asks=[("10.05", 5000)]))
    assert sim.broker.query_trades() == []  # nothing fills before the print
    sim.advance(at(9, 25))
    sim.quotes(
        quote(
            SH,
            at(9, 25),
            open_="10.05",
            last="10.05",
            volume=100_000,
            bids=ladder("10.04", "-0.01", 4000),
            asks=ladder("10.06", "0.01", 4000),
        )
    )
    assert [(t.price, t.qty) for t in sim.trades(above)] == [(D("10.05"), 1000)]
    assert sim.trades(below) == [] and sim.order(below).status is S.ACCEPTED
    # It goes on into continuous trading and fills there once the market comes to it.
    sim.advance(at(9, 30, 3))
    sim.quotes(
        quote(
            SH,
            at(9, 30, 3),
            last="9.99",
            volume=104_000,
            bids=ladder("9.98", "-0.01", 4000),
            asks=ladder("9.99", "0.01", 4000),
        )
    )
    assert [(t.price, t.qty) for t in sim.trades(below)] == [(D("9.99"), 1000)]  # at the ask shown


def test_opening_auction_then_orders_at_the_print_bounded_by_participation_of_auction_volume(
    make_sim,
) -> None:
    sim = make_sim(when=at(9, 16))
    coid = sim.buy(SH, 1000, "10.05")  # at the print price: only a share of the auction volume
    sim.advance(at(9, 25))
    sim.quotes(
        quote(
            SH,
            at(9, 25),
            open_="10.05",
            last="10.05",
            volume=2000,
            bids=[("10.04", 100)],
            asks=[("10.06", 100)],
        )
    )
    assert [(t.price, t.qty) for t in sim.trades(coid)] == [(D("10.05"), 500)]


def test_order_entered_after_the_open_print_then_waits_for_continuous_trading(make_sim) -> None:
    sim = make_sim(when=at(9, 25, 30))
    sim.quotes(
        quote(
            SH,
            at(9, 25, 30),
            open_="10.05",
            last="10.05",
            volume=100_000,
            bids=[("10.04", 4000)],
            asks=[("10.06", 4000)],
        )
    )
    coid = sim.buy(SH, 1000, "10.10")
    assert sim.trades(coid) == []
    sim.advance(at(9, 30, 3))
    sim.quotes(
        quote(SH, at(9, 30, 3), last="10.06", volume=100_000, bids=[("10.04", 4000)], asks=[("10.06", 8000)])
    )
    assert [(t.price, t.qty) for t in sim.trades(coid)] == [
        (D("10.06"), 1000)
    ]  # enters the book: takes the ask


def test_closing_auction_then_crossing_orders_fill_at_the_close_price(make_sim) -> None:
    sim = make_sim(when=at(14, 50))
    sim.quotes(
        quote(SH, at(14, 50), last="10.00", volume=1_000_000, bids=[("10.00", 4000)], asks=[("10.05", 4000)])
    )
    resting = sim.buy(SH, 1000, "10.00")
    sim.advance(at(14, 58))
    closing = sim.buy(SH, 1000, "10.10")
    sim.quotes(
        quote(SH, at(14, 58), last="10.00", volume=1_000_000, bids=[("10.02", 9000)], asks=[("10.02", 9000)])
    )
    assert sim.broker.query_trades() == []  # the closing call matches only at 15:00
    sim.advance(at(15, 0))
    sim.quotes(
        quote(SH, at(15, 0), last="10.02", volume=1_040_000, bids=[("10.01", 4000)], asks=[("10.03", 4000)])
    )
    assert [(t.price, t.qty) for t in sim.trades(closing)] == [(D("10.02"), 1000)]
    assert sim.trades(resting) == [] and sim.order(resting).status is S.ACCEPTED


def test_resting_continuous_order_then_takes_part_in_the_closing_auction(make_sim) -> None:
    sim = make_sim(when=at(14, 50))
    sim.quotes(
        quote(SH, at(14, 50), last="10.00", volume=1_000_000, bids=[("10.00", 4000)], asks=[("10.05", 4000)])
    )
    resting = sim.buy(SH, 1000, "10.03")
    sim.advance(at(15, 0))
    sim.quotes(
        quote(SH, at(15, 0), last="10.02", volume=1_040_000, bids=[("10.01", 4000)], asks=[("10.03", 4000)])
    )
    assert [(t.price, t.qty) for t in sim.trades(resting)] == [(D("10.02"), 1000)]


# ------------------------------------------------------------------------------- T+1 and T+0
def test_buy_then_sell_the_same_day_then_refused_and_sellable_after_the_next_begin_day(sim: Sim) -> None:
    sh_book(sim)
    sim.buy(SH, 1000, "10.01")
    same_day = sim.sell(SH, 1000, "10.00")
    assert sim.order(same_day).status is S.REJECTED
    assert (
        "可用股份不足" in sim.order(same_day).status_msg
        and "bought today 1000" in sim.order(same_day).status_msg
    )
    sim.advance(at(9, 0, day=NEXT_DAY))
    sim.broker.begin_day(NEXT_DAY)
    sim.broker.set_instruments(day_infos(NEXT_DAY))
    (position,) = sim.broker.query_positions()
    assert (position.total, position.sellable) == (1000, 1000)
    sim.advance(at(10, 0, day=NEXT_DAY))
    next_day = sim.sell(SH, 1000, "10.00")
    assert sim.order(next_day).status is S.ACCEPTED


def test_t0_fund_bought_then_sellable_the_same_day(sim: Sim) -> None:
    sim.quotes(
        quote(
            T0_FUND,
            at(10, 0),
            last="100.000",
            volume=90_000,
            bids=[("100.000", 4000)],
            asks=[("100.001", 4000)],
        )
    )
    sim.buy(T0_FUND, 1000, "100.001")
    assert sim.broker.query_positions()[0].sellable == 1000
    coid = sim.sell(T0_FUND, 1000, "100.000")
    assert sim.order(coid).status is S.FILLED


# ------------------------------------------------------------------------------- price cage: hold
def test_cage_policy_hold_then_out_of_cage_order_waits_and_fills_once_in_range(make_sim) -> None:
    sim = make_sim(cage_policy="hold")
    sh_book(sim, ask="10.00")  # cage for buys 10.20
    coid = sim.buy(SH, 1000, "10.21")
    assert sim.order(coid).status is S.ACCEPTED and sim.trades(coid) == []  # held, though it crosses
    sim.advance(at(10, 0, 3))
    sh_book(sim, ask="10.05")  # cage 10.25: released, arrives and takes the ask
    assert sim.trades(coid)[0].price == D("10.05")


# ------------------------------------------------------------------------------- marks
def test_asset_then_positions_valued_at_the_last_quote(sim: Sim) -> None:
    sim.broker.set_position(SZ, 1000, D("11.00"))
    asset = sim.broker.query_asset()
    assert asset.market_value == D("11000.00")  # no quote yet: at cost
    sim.quotes(
        quote(SZ, at(10, 0), last="12.34", volume=90_000, bids=[("12.33", 100)], asks=[("12.35", 100)])
    )
    asset = sim.broker.query_asset()
    assert asset.market_value == D("12340.00")
    assert asset.total_asset == asset.cash + D("12340.00")
    assert sim.broker.query_positions()[0].last_price == D("12.34")


def test_every_report_then_pushed_from_the_broker_thread_after_its_commit(tmp_path) -> None:
    from tests.integration.test_sim_broker_kit import start_sim

    sim = start_sim(tmp_path / "s.sqlite")
    seen_in_file: list[bool] = []

    def check(report) -> None:
        sim.record(report)
        if isinstance(report, TradeReport):  # the file already has it when it is pushed
            seen_in_file.append(any(t.trade_id == report.trade_id for t in sim.broker.query_trades()))

    sim.broker.set_report_handler(check)
    sh_book(sim)
    sim.buy(SH, 2000, "10.02")
    assert seen_in_file == [True, True]
    assert sim.threads == {"sim-broker"}
    assert sim.clock.now().date() == DAY
    sim.broker.close()
