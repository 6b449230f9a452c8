"""The planner's rules (app/core/planning/planner.py), each on its own and as Hypothesis properties:
no plan ever oversells (per strategy, T+1), overspends cash after fees, or breaks a lot rule."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.planning.model import AllotKind, LineSource, LineState, PlanError, StrategySettings, TargetBatch
from app.core.planning.planner import PlanInputs, buy_cost, line_price, plan
from app.domain.fees import FeeSchedule
from app.domain.market import InstrumentInfo, InstrumentStatus
from app.domain.quantity import check_quantity, lot_size, round_down_to_lot
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine

DAY = date(2026, 11, 23)
FEES = FeeSchedule()
CODES = {
    "600000.SH": D("10.00"),  # main board: lots of 100
    "000001.SZ": D("11.37"),
    "688001.SH": D("50.00"),  # STAR: 200, then steps of 1
    "920001.BJ": D("8.00"),  # BSE: 100, then steps of 1
    "300750.SZ": D("200.00"),  # ChiNext
}


def info(code: str, prev: D, status: InstrumentStatus = InstrumentStatus.NORMAL) -> InstrumentInfo:
    pct = D("0.3") if code.endswith(".BJ") else D("0.2") if code.startswith(("688", "300")) else D("0.1")
    return InstrumentInfo(code, code, DAY, prev, (prev * (1 + pct)).quantize(D("0.01")),
                          (prev * (1 - pct)).quantize(D("0.01")), D("0.01"), status)  # fmt: skip


INSTRUMENTS = {c: info(c, p) for c, p in CODES.items()}


def inputs(
    *, cash: D = D("1000000"), sellable: dict | None = None, account: dict | None = None, capital: D | None = None,
    holding: dict | None = None, instruments: dict | None = None,
) -> PlanInputs:  # fmt: skip
    sellable = sellable or {}
    holding = holding or {}
    return PlanInputs(
        instruments=instruments or INSTRUMENTS,
        last_prices={},
        strategy_sellable=lambda s, c: sellable.get((s, c), 0),
        account_sellable=account if account is not None else {c: q for (_, c), q in sellable.items()},
        strategy_holding=lambda s, c: holding.get((s, c), 0),
        strategy_codes=lambda s: [c for (x, c), q in holding.items() if x == s and q],
        cash_budget=cash,
        investor_capital=capital,
        fees=FEES,
    )


def line(sid: str, code: str, side: Side, qty: int, strategy: str = "s1") -> SignalLine:
    return SignalLine(sid, strategy, DAY, code, "", side, qty, None, OPEN)


def batch(*lines: SignalLine, strategy: str = "s1") -> SignalBatch:
    return SignalBatch(strategy, DAY, tuple(lines))


S1 = {"s1": StrategySettings("s1", D("1000000"))}


def kinds(x) -> list[str]:
    return [c.kind for c in x.changes]


# ---------------------------------------------------------------------------- each rule
def test_buys_round_down_to_the_boards_lot_and_say_so() -> None:
    out = plan([batch(line("a", "600000.SH", Side.BUY, 250), line("b", "688001.SH", Side.BUY, 333),
                      line("c", "688001.SH", Side.BUY, 199), line("d", "920001.BJ", Side.BUY, 101))], S1, inputs())  # fmt: skip
    by = {x.line_id: x for x in out}
    assert by["a"].qty == 200 and kinds(by["a"]) == ["rounded"]
    assert by["b"].qty == 333 and by["b"].changes == ()  # STAR: 200 then steps of 1
    assert by["c"].state is LineState.SKIPPED and by["c"].qty == 0  # below STAR's 200
    assert "数量为零" in by["c"].reasons and "nothing left to trade" in by["c"].reasons
    assert by["d"].qty == 101  # BSE: 100 then steps of 1


def test_sells_are_capped_at_the_strategys_t_plus_1_sellable_and_come_first() -> None:
    out = plan([batch(line("b1", "600000.SH", Side.BUY, 100), line("s1", "000001.SZ", Side.SELL, 1000))], S1,
               inputs(sellable={("s1", "000001.SZ"): 400}))  # fmt: skip
    assert [x.side for x in out] == [Side.SELL, Side.BUY]
    sell = out[0]
    assert sell.qty == 400 and kinds(sell) == ["capped"]
    assert "可卖" in sell.reasons and "1000" in sell.reasons


def test_a_sell_with_nothing_sellable_is_skipped_with_the_reason() -> None:
    (out,) = plan([batch(line("s", "000001.SZ", Side.SELL, 100))], S1, inputs())
    assert out.state is LineState.SKIPPED and kinds(out) == ["capped", "skipped"]


def test_an_odd_tail_below_a_lot_is_sold_with_the_rest() -> None:
    (out,) = plan(
        [batch(line("s", "600000.SH", Side.SELL, 100))], S1, inputs(sellable={("s1", "600000.SH"): 150})
    )
    assert out.qty == 150 and kinds(out) == ["rounded"]


def test_two_sell_lines_of_one_strategy_never_sell_more_than_it_has() -> None:
    out = plan([batch(line("x", "600000.SH", Side.SELL, 300), line("y", "600000.SH", Side.SELL, 300))], S1,
               inputs(sellable={("s1", "600000.SH"): 400}))  # fmt: skip
    assert sum(x.qty for x in out) == 400


def test_a_strategy_never_sells_another_strategys_shares() -> None:
    strategies = {**S1, "s2": StrategySettings("s2", D("1000000"))}
    out = plan([batch(line("x", "600000.SH", Side.SELL, 500), strategy="s1")], strategies,
               inputs(sellable={("s1", "600000.SH"): 100, ("s2", "600000.SH"): 900}, account={"600000.SH": 1000}))  # fmt: skip
    assert out[0].qty == 100


def test_ratio_allotment_scales_quantities_then_rounds() -> None:
    strategies = {"s1": StrategySettings("s1", D("1000000"), AllotKind.RATIO, D("0.25"))}
    (out,) = plan([batch(line("a", "600000.SH", Side.BUY, 1000))], strategies, inputs())
    assert out.qty == 200  # 1000 * 0.25 = 250 -> 200
    assert kinds(out) == ["scaled", "rounded"]


def test_fixed_amount_allotment_scales_to_the_amount() -> None:
    strategies = {"s1": StrategySettings("s1", D("1000000"), AllotKind.AMOUNT, D("100000"))}
    (out,) = plan([batch(line("a", "600000.SH", Side.BUY, 5000))], strategies, inputs())
    assert out.qty == 500 and out.changes[0].after == 500


def test_allotments_above_the_investors_capital_are_scaled_down_together() -> None:
    strategies = {
        "s1": StrategySettings("s1", D("100000"), AllotKind.AMOUNT, D("100000")),
        "s2": StrategySettings("s2", D("100000"), AllotKind.AMOUNT, D("100000")),
    }
    out = plan([batch(line("a", "600000.SH", Side.BUY, 1000), strategy="s1"),
                batch(line("b", "000001.SZ", Side.BUY, 1000, "s2"), strategy="s2")], strategies,
               inputs(capital=D("100000")))  # fmt: skip
    assert [x.qty for x in out] == [500, 500]  # 200k allotted on 100k of capital: half each


def test_an_unfollowed_strategys_lines_are_skipped() -> None:
    strategies = {"s1": StrategySettings("s1", D("1000000"), followed=False)}
    (out,) = plan([batch(line("a", "600000.SH", Side.BUY, 100))], strategies, inputs())
    assert out.skipped and "未跟踪" in out.reasons
    (out,) = plan([batch(line("a", "600000.SH", Side.BUY, 100))], {}, inputs())
    assert out.skipped


def test_buys_are_scaled_pro_rata_when_cash_falls_short_and_fit_after_fees() -> None:
    lines = [line("a", "600000.SH", Side.BUY, 1000), line("b", "000001.SZ", Side.BUY, 1000)]
    full = plan([batch(*lines)], S1, inputs())
    need = sum(buy_cost(x, FEES) for x in full)
    out = plan([batch(*lines)], S1, inputs(cash=need / 2))
    assert all(kinds(x)[-1] == "cash" for x in out)
    assert all(300 <= x.qty <= 500 for x in out)  # about half each, in lots
    assert sum(buy_cost(x, FEES) for x in out) <= need / 2
    assert "现金不足" in out[0].reasons


def test_no_cash_skips_every_buy_but_not_the_sells() -> None:
    out = plan([batch(line("a", "600000.SH", Side.BUY, 1000), line("s", "000001.SZ", Side.SELL, 100))], S1,
               inputs(cash=D("0"), sellable={("s1", "000001.SZ"): 100}))  # fmt: skip
    assert [(x.side, x.qty, x.skipped) for x in out] == [(Side.SELL, 100, False), (Side.BUY, 0, True)]


def test_suspended_and_unknown_instruments_are_skipped_with_the_reason() -> None:
    instruments = dict(INSTRUMENTS, **{"600000.SH": info("600000.SH", D("10"), InstrumentStatus.SUSPENDED)})
    out = plan([batch(line("a", "600000.SH", Side.BUY, 100), line("b", "600004.SH", Side.BUY, 100))], S1,
               inputs(instruments=instruments))  # fmt: skip
    assert [x.skipped for x in out] == [True, True]
    assert "停牌" in out[0].reasons and "无此证券行情" in out[1].reasons


def test_line_price_moves_through_the_market_inside_the_limits() -> None:
    i = INSTRUMENTS["600000.SH"]
    assert line_price(i, None, Side.BUY, D("0.02")) == D("10.20")
    assert line_price(i, None, Side.SELL, D("0.02")) == D("9.80")
    assert line_price(i, D("10.95"), Side.BUY, D("0.02")) == D("11.00")  # capped at the up limit
    assert line_price(i, D("10.01"), Side.BUY, D("0.001")) == D("10.03")  # 10.02001: up to the tick


def test_target_weights_become_the_difference_from_what_the_strategy_holds() -> None:
    target = TargetBatch("s1", DAY, (("600000.SH", D("0.1")),))
    out = plan([target], S1, inputs(sellable={("s1", "000001.SZ"): 300},
                                    holding={("s1", "000001.SZ"): 300, ("s1", "600000.SH"): 5000}))  # fmt: skip
    by = {x.code: x for x in out}
    # 10% of 1,000,000 at 10.00 = 10,000 shares; 5,000 held: buy 5,000. 000001 is not a target: sell all.
    assert (by["600000.SH"].side, by["600000.SH"].qty) == (Side.BUY, 5000)
    assert (by["000001.SZ"].side, by["000001.SZ"].qty) == (Side.SELL, 300)
    assert all(x.source is LineSource.TARGET for x in out)


def test_settings_refuse_nonsense_in_words() -> None:
    with pytest.raises(PlanError, match="must be positive"):
        StrategySettings("s1", D("0"))
    with pytest.raises(PlanError):
        StrategySettings("s1", D("1e400"))
    with pytest.raises(PlanError, match="policy"):
        StrategySettings("s1", D("1"), policy="yolo")
    with pytest.raises(PlanError, match="offset"):
        StrategySettings("s1", D("1"), price_offset=D("NaN"))
    with pytest.raises(PlanError, match="strategy id"):
        StrategySettings("", D("1"))


# ---------------------------------------------------------------------------- properties
codes = st.sampled_from(sorted(CODES))
strategies_ids = st.sampled_from(["s1", "s2"])
raw_lines = st.lists(
    st.tuples(strategies_ids, codes, st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 2_000_000)),
    min_size=1, max_size=25,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    raw=raw_lines,
    cash=st.decimals(min_value=0, max_value=10_000_000, places=2),
    own=st.dictionaries(st.tuples(strategies_ids, codes), st.integers(0, 50_000), max_size=10),
    ratio=st.decimals(min_value=D("0.01"), max_value=3, places=2),
)
def test_no_plan_oversells_overspends_or_breaks_a_lot_rule(raw, cash, own, ratio) -> None:
    account = {}
    for (_, code), q in own.items():
        account[code] = account.get(code, 0) + q
    strategies = {s: StrategySettings(s, D("1000000"), AllotKind.RATIO, ratio) for s in ("s1", "s2")}
    batches = [
        batch(
            *[line(f"{s}-{i}", c, side, q, s) for i, (x, c, side, q) in enumerate(raw) if x == s], strategy=s
        )
        for s in ("s1", "s2")
    ]
    out = plan(batches, strategies, inputs(cash=cash, sellable=own, account=account))

    assert len(out) == len(raw)
    sides = [x.side for x in out]
    assert sides == sorted(sides, key=lambda s: s is Side.BUY)  # sells before buys
    sold: dict = {}
    left = dict(account)
    for x in out:
        if x.skipped:
            assert x.qty == 0 and x.reasons  # every skip says why
            continue
        assert x.qty > 0
        if x.side is Side.SELL:
            check_quantity(x.code, Side.SELL, x.qty, holding=left.get(x.code, 0))  # the board's sell rule
            left[x.code] -= x.qty
            sold[(x.strategy_id, x.code)] = sold.get((x.strategy_id, x.code), 0) + x.qty
        else:
            assert x.qty == round_down_to_lot(x.code, x.qty) >= lot_size(x.code)
    for key, q in sold.items():
        assert q <= own.get(key, 0)  # never more than the strategy's own sellable shares
    assert sum((buy_cost(x, FEES) for x in out if x.side is Side.BUY), D(0)) <= cash
    for x in out:  # every change of the quantity is on the line
        q = x.requested_qty
        for c in x.changes:
            if c.before is not None and c.after is not None:
                assert c.before == q
                q = c.after
        assert q == x.qty


def test_planning_a_300_line_batch_over_a_5500_instrument_market_runs() -> None:
    from bench.planning import make_case, run_case

    case = make_case(lines=300, instruments=5_500)
    out = run_case(case)
    assert len(out) == 300
    assert any(not x.skipped for x in out)


def test_exec_time_travels_on_the_line() -> None:
    close = SignalLine("c", "s1", DAY, "600000.SH", "", Side.BUY, 100, None, time(15, 0))
    (out,) = plan([batch(close)], S1, inputs())
    assert out.exec_time == time(15, 0)


def test_a_line_due_at_the_close_goes_to_the_closing_auction_others_take_the_strategys_default() -> None:
    """Defaults per strategy, overrides per line: the strategy's policy is for its lines at the open;
    a line whose exec_time is the close takes auction_close (edit_line can still change either)."""
    settings = {"s1": StrategySettings("s1", D("1000000"), policy="auction_open")}
    opening = line("o", "600000.SH", Side.BUY, 100)
    closing = SignalLine("c", "s1", DAY, "000001.SZ", "", Side.SELL, 100, None, time(15, 0))
    out = {
        x.line_id: x
        for x in plan([batch(opening, closing)], settings, inputs(sellable={("s1", "000001.SZ"): 100}))
    }
    assert out["o"].policy == "auction_open" and out["c"].policy == "auction_close"
    targets = TargetBatch("s1", DAY, (("600000.SH", D("0.01")),), exec_time=time(15, 0))
    (target,) = plan([targets], settings, inputs())
    assert target.policy == "auction_close"
