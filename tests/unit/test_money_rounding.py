"""One rounding policy for cost and P&L (app.domain.money), the same in Tiller's Position and in
the simulated broker's SimPosition, so the two books agree to the digit."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.fees import FeeSchedule
from app.domain.money import COST_QUANTUM, FEN, avg_cost_after_buy, avg_cost_of, realized_pnl
from app.domain.positions import Position
from app.domain.side import Side
from app.gateways.sim.state import SimPosition

FEES = FeeSchedule()


def fee(code: str, side: Side, amount: D) -> D:
    return FEES.breakdown(code, side, amount).total


class Books:
    """The same fills applied to both books, as the OMS and the counter apply them."""

    def __init__(self, code: str, *, t0: bool = False) -> None:
        self.code = code
        self.mine = Position(code, t_plus_zero=t0)
        self.theirs = SimPosition(code)
        self.t0 = t0
        self.their_pnl = D(0)

    def buy(self, qty: int, price: D) -> None:
        amount = price * qty
        fees = fee(self.code, Side.BUY, amount)
        self.mine.apply_buy(qty, price, fees)
        self.theirs.add(qty, amount, fees, self.t0)

    def settle(self) -> None:
        self.mine.roll_day()
        self.theirs.settled = self.theirs.total

    def sell(self, qty: int, price: D) -> D:
        amount = price * qty
        fees = fee(self.code, Side.SELL, amount)
        theirs = self.theirs.sell_pnl(qty, amount, fees)
        self.theirs.frozen += qty  # the counter freezes a sell's shares, then removes them on its fill
        self.theirs.remove(qty)
        self.their_pnl += theirs
        self.mine.freeze(qty)
        mine = self.mine.apply_sell(qty, price, fees)
        assert mine == theirs
        return mine

    def assert_agree(self) -> None:
        assert self.mine.avg_cost == self.theirs.avg_price
        assert self.mine.total == self.theirs.total
        assert self.mine.realized_pnl == self.their_pnl


def test_three_buys_at_awkward_prices_and_partial_sells_agree_exactly() -> None:
    books = Books("600000.SH")
    books.buy(300, D("10.003"))  # 3000.90 + fees 5.03 (commission min 5, transfer 0.03)
    assert books.mine.avg_cost == D("10.0198")  # 3005.93 / 300 = 10.0197666…
    books.assert_agree()
    books.buy(500, D("10.017"))
    books.assert_agree()
    books.buy(700, D("9.999"))
    books.assert_agree()
    books.settle()

    first = books.sell(200, D("10.101"))
    books.assert_agree()
    second = books.sell(333, D("10.005"))
    books.assert_agree()

    assert first == first.quantize(FEN) and second == second.quantize(FEN)
    assert books.mine.avg_cost == books.mine.avg_cost.quantize(COST_QUANTUM)
    assert books.mine.realized_pnl == first + second
    assert books.mine.total == 1500 - 533


def test_the_average_is_rounded_half_up_after_each_buy() -> None:
    # a tie at the fifth decimal goes up (the Decimal default, half-even, would give 10.0000 / 10.0002)
    assert avg_cost_after_buy(D(0), 0, 2, D("20.0001"), D(0)) == D("10.0001")  # 10.00005 -> up
    assert avg_cost_after_buy(D(0), 0, 2, D("20.0003"), D(0)) == D("10.0002")  # 10.00015 -> up
    assert avg_cost_after_buy(D("10.0002"), 2, 1, D("10"), D(0)) == D("10.0001")  # 30.0004/3 = 10.000133…


def test_realized_pnl_is_to_the_fen_half_up_per_fill() -> None:
    assert realized_pnl(D("10.0197"), 200, D("2020.20"), D("6.03")) == D("10.23")  # 10.230 exactly
    assert realized_pnl(D("10.0001"), 50, D("500.5"), D(0)) == D("0.50")  # 0.495 -> 0.50
    assert realized_pnl(D("10.0001"), 50, D("499.5"), D(0)) == D("-0.51")  # -0.505 -> -0.51 (away from 0)


def test_the_policy_does_not_depend_on_the_callers_decimal_context() -> None:
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 5
        ctx.rounding = decimal.ROUND_DOWN
        assert avg_cost_after_buy(D("10.0197"), 300, 500, D("5008.5"), D("5.05")) == D("10.0243")


def test_a_brokers_float_average_is_brought_to_the_quantum() -> None:
    assert avg_cost_of(11.370000000000001) == D("11.3700")
    assert avg_cost_of(D("10.00005")) == D("10.0001")
    with pytest.raises(ValueError):
        avg_cost_of(float("nan"))


def test_selling_everything_resets_both_books() -> None:
    books = Books("000001.SZ")
    books.buy(100, D("11.37"))
    books.settle()
    books.sell(100, D("11.52"))
    books.assert_agree()
    assert books.mine.avg_cost == books.theirs.avg_price == 0


# A fill: (buy?, qty in lots or odd shares, price in ticks)
fills = st.lists(
    st.tuples(st.booleans(), st.integers(1, 5000), st.integers(1, 300_000), st.booleans()),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(fills=fills, fund=st.booleans())
def test_random_sequences_of_fills_agree_exactly(
    fills: list[tuple[bool, int, int, bool]], fund: bool
) -> None:
    code, tick = ("510300.SH", D("0.001")) if fund else ("600000.SH", D("0.01"))
    books = Books(code, t0=False)
    pnl_total = D(0)
    for is_buy, qty, ticks, new_day in fills:
        price = tick * ticks
        if is_buy:
            books.buy(qty * 100, price)
        elif books.mine.sellable:
            pnl_total += books.sell(min(qty, books.mine.sellable), price)
        if new_day:
            books.settle()
        books.assert_agree()
        assert books.mine.avg_cost == books.mine.avg_cost.quantize(COST_QUANTUM)
    assert books.mine.realized_pnl == pnl_total == pnl_total.quantize(FEN)


@settings(max_examples=200, deadline=None)
@given(
    buys=st.lists(st.tuples(st.integers(1, 100_000), st.integers(1, 500_000)), min_size=1, max_size=20),
)
def test_the_rounded_average_stays_within_half_a_quantum_per_buy_of_the_exact_cost(
    buys: list[tuple[int, int]],
) -> None:
    # The policy's price: each buy may move the average by at most half a quantum from exact.
    books = Books("600000.SH")
    exact_cost = D(0)
    shares = 0
    for qty, ticks in buys:
        price = D("0.01") * ticks
        amount = price * qty
        exact_cost += amount + fee("600000.SH", Side.BUY, amount)
        shares += qty
        books.buy(qty, price)
        books.assert_agree()
    exact_avg = exact_cost / shares
    assert abs(books.mine.avg_cost - exact_avg) <= COST_QUANTUM / 2 * len(buys)
