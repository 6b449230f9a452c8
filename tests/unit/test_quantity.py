import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import QuantityError, UnknownInstrumentError
from app.domain.quantity import (
    check_quantity,
    lot_size,
    max_order_qty,
    quantity_step,
    round_down_to_lot,
)
from app.domain.side import Side

MAIN, SZ_MAIN, CHINEXT, STAR, BSE, FUND = (
    "600000.SH",
    "000001.SZ",
    "300750.SZ",
    "688981.SH",
    "920002.BJ",
    "510300.SH",
)
ALL_CODES = [MAIN, SZ_MAIN, CHINEXT, STAR, BSE, FUND]


# --- buys (RULES B3) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "qty"),
    [
        (MAIN, 100),
        (MAIN, 1_000),
        (SZ_MAIN, 300),
        (CHINEXT, 100),
        (FUND, 100),
        (FUND, 12_300),
        (STAR, 200),
        (STAR, 201),
        (STAR, 1_234),
        (BSE, 100),
        (BSE, 101),
        (BSE, 999),
    ],
)
def test_check_quantity_valid_buy_passes(code, qty):
    check_quantity(code, Side.BUY, qty)


@pytest.mark.parametrize(
    ("code", "qty", "message"),
    [
        (MAIN, 50, "multiple of 100.*was 50"),
        (MAIN, 150, "multiple of 100.*was 150"),
        (SZ_MAIN, 99, "multiple of 100"),
        (CHINEXT, 101, "multiple of 100"),
        (FUND, 1_050, "multiple of 100"),
        (STAR, 100, "at least 200.*was 100"),
        (STAR, 199, "at least 200.*was 199"),
        (BSE, 99, "at least 100.*was 99"),
        (BSE, 1, "at least 100"),
    ],
)
def test_check_quantity_invalid_buy_raises(code, qty, message):
    with pytest.raises(QuantityError, match=message):
        check_quantity(code, Side.BUY, qty)


def test_check_quantity_buy_ignores_holding():
    check_quantity(MAIN, Side.BUY, 100, holding=0)
    check_quantity(MAIN, Side.BUY, 100, holding=37)


# --- sells (RULES B3) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "holding", "qty", "valid"),
    [
        # lot boards: whole lots, or whole lots plus the entire odd remainder
        (MAIN, 150, 50, True),
        (MAIN, 150, 100, True),
        (MAIN, 150, 150, True),
        (MAIN, 150, 120, False),
        (MAIN, 150, 20, False),
        (MAIN, 250, 150, True),  # one lot plus the odd 50
        (MAIN, 250, 200, True),
        (MAIN, 250, 60, False),
        (MAIN, 1_000, 50, False),  # no odd lot to sell
        (MAIN, 1_000, 1_000, True),
        (MAIN, 37, 37, True),
        (MAIN, 37, 30, False),
        (CHINEXT, 150, 50, True),
        (CHINEXT, 150, 120, False),
        (FUND, 1_050, 50, True),
        (FUND, 1_050, 1_050, True),
        (FUND, 1_050, 1_010, False),
        # STAR: at least 200 then steps of 1; a holding below 200 only as a whole
        (STAR, 500, 200, True),
        (STAR, 500, 201, True),
        (STAR, 500, 500, True),
        (STAR, 500, 199, False),
        (STAR, 250, 50, False),  # the balance is not below 200, so 50 alone is not allowed
        (STAR, 250, 250, True),
        (STAR, 150, 150, True),
        (STAR, 150, 100, False),
        (STAR, 1, 1, True),
        # BSE: at least 100 then steps of 1; a holding below 100 only as a whole
        (BSE, 300, 100, True),
        (BSE, 300, 157, True),
        (BSE, 300, 99, False),
        (BSE, 150, 50, False),
        (BSE, 80, 80, True),
        (BSE, 80, 40, False),
    ],
)
def test_check_quantity_sell_rules(code, holding, qty, valid):
    if valid:
        check_quantity(code, Side.SELL, qty, holding=holding)
    else:
        with pytest.raises(QuantityError, match=f"was {qty}"):
            check_quantity(code, Side.SELL, qty, holding=holding)


@pytest.mark.parametrize(("code", "holding", "qty"), [(MAIN, 100, 200), (STAR, 300, 301), (BSE, 80, 100)])
def test_check_quantity_sell_above_holding_raises(code, holding, qty):
    with pytest.raises(QuantityError, match=f"可卖数量不足.*holding {holding}.*was {qty}"):
        check_quantity(code, Side.SELL, qty, holding=holding)


def test_check_quantity_sell_without_holding_is_not_enough_shares():
    with pytest.raises(QuantityError, match="exceeds the holding 0"):
        check_quantity(MAIN, Side.SELL, 100)


def test_check_quantity_sell_message_names_the_odd_lot():
    with pytest.raises(QuantityError, match="odd lot 50 of the holding 150, was 120"):
        check_quantity(MAIN, Side.SELL, 120, holding=150)


# --- per-order maximums (RULES B3) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "market", "maximum", "step"),
    [
        (MAIN, False, 1_000_000, 100),
        (MAIN, True, 1_000_000, 100),
        (SZ_MAIN, False, 1_000_000, 100),
        (CHINEXT, False, 300_000, 100),
        (CHINEXT, True, 150_000, 100),
        (STAR, False, 100_000, 1),
        (STAR, True, 50_000, 1),
        (BSE, False, 1_000_000, 1),
        (BSE, True, 1_000_000, 1),
        (FUND, False, 1_000_000, 100),
    ],
)
def test_check_quantity_per_order_maximum(code, market, maximum, step):
    assert max_order_qty(code, market=market) == maximum
    check_quantity(code, Side.BUY, maximum, market=market)
    check_quantity(code, Side.SELL, maximum, holding=maximum * 2, market=market)

    with pytest.raises(QuantityError, match=f"maximum {maximum}.*was {maximum + step}"):
        check_quantity(code, Side.BUY, maximum + step, market=market)
    with pytest.raises(QuantityError, match=f"maximum {maximum}"):
        check_quantity(code, Side.SELL, maximum + step, holding=maximum * 2, market=market)


def test_check_quantity_whole_holding_above_maximum_must_be_split():
    with pytest.raises(QuantityError, match="maximum"):
        check_quantity(MAIN, Side.SELL, 1_000_050, holding=1_000_050)

    check_quantity(MAIN, Side.SELL, 1_000_000, holding=1_000_050)
    check_quantity(MAIN, Side.SELL, 50, holding=50)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        (0, "qty must be positive, was 0"),
        (-100, "qty must be positive, was -100"),
        (True, "int"),
        (100.0, "int"),
        ("100", "int"),
        (None, "int"),
    ],
)
@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_check_quantity_refuses_non_positive_or_non_int_qty(qty, message, side):
    with pytest.raises(QuantityError, match=message) as excinfo:
        check_quantity(MAIN, side, qty, holding=1_000)

    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize("holding", [-1, 100.0, False, None])
def test_check_quantity_refuses_bad_holding(holding):
    with pytest.raises(QuantityError, match="holding"):
        check_quantity(MAIN, Side.SELL, 100, holding=holding)


def test_check_quantity_refuses_unknown_code_and_side():
    with pytest.raises(UnknownInstrumentError):
        check_quantity("abc", Side.BUY, 100)
    with pytest.raises(ValueError, match="short"):
        check_quantity(MAIN, "short", 100)


def test_check_quantity_accepts_side_as_string():
    check_quantity(MAIN, "sell", 50, holding=150)


# --- lot helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "lot", "step"),
    [
        (MAIN, 100, 100),
        (SZ_MAIN, 100, 100),
        (CHINEXT, 100, 100),
        (FUND, 100, 100),
        (STAR, 200, 1),
        (BSE, 100, 1),
    ],
)
def test_lot_size_and_step_by_board(code, lot, step):
    assert lot_size(code) == lot
    assert quantity_step(code) == step


@pytest.mark.parametrize(
    ("code", "qty", "expected"),
    [
        (MAIN, 0, 0),
        (MAIN, 99, 0),
        (MAIN, 100, 100),
        (MAIN, 250, 200),
        (FUND, 1_050, 1_000),
        (STAR, 199, 0),
        (STAR, 200, 200),
        (STAR, 1_234, 1_234),
        (BSE, 99, 0),
        (BSE, 101, 101),
        (MAIN, 2_345_678, 2_345_600),  # the per-order maximum is not applied
    ],
)
def test_round_down_to_lot(code, qty, expected):
    assert round_down_to_lot(code, qty) == expected


@pytest.mark.parametrize("qty", [-1, 1.5, True])
def test_round_down_to_lot_refuses_bad_qty(qty):
    with pytest.raises(QuantityError, match="qty"):
        round_down_to_lot(MAIN, qty)


@given(
    code=st.sampled_from(ALL_CODES), qty=st.integers(min_value=0, max_value=100_000)
)  # within every per-order max
def test_round_down_to_lot_gives_the_largest_valid_buy(code, qty):
    result = round_down_to_lot(code, qty)

    assert 0 <= result <= qty
    if result:
        check_quantity(code, Side.BUY, result)
    # nothing between result and qty is a valid buy
    next_valid = max(result + quantity_step(code), lot_size(code))
    assert next_valid > qty
