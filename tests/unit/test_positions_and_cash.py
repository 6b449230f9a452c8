from decimal import Decimal as D

import pytest

from app.domain.account import CashBook, InsufficientCashError
from app.domain.identifiers import ClientOrderId
from app.domain.positions import InsufficientSharesError, Position


def test_shares_bought_today_are_not_sellable_until_the_next_day() -> None:
    position = Position("600000.SH")
    position.apply_buy(1000, D("10.00"), D("5"))

    assert position.total == 1000
    assert position.sellable == 0
    assert position.today_qty == 1000
    with pytest.raises(InsufficientSharesError, match="bought today 1000"):
        position.freeze(100)

    position.roll_day()
    position.freeze(100)
    assert position.sellable == 900


def test_t_plus_zero_instruments_are_sellable_at_once() -> None:
    position = Position("511990.SH", t_plus_zero=True)
    position.apply_buy(100, D("100.000"), D("0"))
    assert position.sellable == 100


def test_average_cost_includes_fees_and_realized_pnl_is_net() -> None:
    position = Position("600000.SH", total=1000, settled=1000, avg_cost=D("10"))
    position.apply_buy(1000, D("12"), D("6"))  # cost 10000 + 12006
    assert position.avg_cost == D("11.003")

    position.freeze(500)
    pnl = position.apply_sell(500, D("13"), D("8.31"))

    assert pnl == D("990.19")  # (13 - 11.003) * 500 - 8.31
    assert position.realized_pnl == pnl
    assert position.frozen == 0
    assert position.total == 1500
    assert position.unrealized_pnl(D("11.003")) == 0


def test_selling_everything_resets_cost() -> None:
    position = Position("600000.SH", total=100, settled=100, avg_cost=D("5"))
    position.freeze(100)
    position.apply_sell(100, D("6"), D("5"))
    assert (position.total, position.avg_cost, position.realized_pnl) == (0, 0, D("95"))


def test_sell_fill_beyond_settled_is_refused() -> None:
    position = Position("600000.SH", total=200, settled=100)
    with pytest.raises(InsufficientSharesError):
        position.apply_sell(200, D("1"), D("0"))
    assert position.total == 200


def test_cash_reserved_for_a_working_buy_is_not_available() -> None:
    book = CashBook(cash=D("10000"))
    coid = ClientOrderId("B1")

    book.reserve(coid, D("3005.03"))

    assert book.available == D("6994.97")
    with pytest.raises(InsufficientCashError, match=r"available 6994\.97"):
        book.reserve(ClientOrderId("B2"), D("7000"))
    assert book.frozen == D("3005.03")


def test_buy_fill_pays_and_shrinks_the_reservation_then_release_frees_the_rest() -> None:
    book = CashBook(cash=D("10000"))
    coid = ClientOrderId("B1")
    book.reserve(coid, D("3005.03"))

    book.apply_buy_fill(coid, D("1000.00"), D("5"), still_reserved=D("2000.03"))
    assert book.cash == D("8995.00")
    assert book.frozen == D("2000.03")

    assert book.release(coid) == D("2000.03")
    assert book.frozen == 0
    assert book.available == D("8995.00")


def test_reserving_twice_for_one_order_is_refused() -> None:
    book = CashBook(cash=D("100"))
    book.reserve(ClientOrderId("B1"), D("10"))
    with pytest.raises(ValueError, match="already reserved"):
        book.reserve(ClientOrderId("B1"), D("10"))


def test_sell_fill_adds_proceeds_less_fees() -> None:
    book = CashBook(cash=D("0"))
    book.apply_sell_fill(D("1000"), D("5.51"))
    assert book.cash == D("994.49")
