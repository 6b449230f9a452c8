from datetime import date, datetime
from decimal import Decimal as D

import pytest

from app.domain.errors import PriceError, UnknownInstrumentError
from app.domain.prices import (
    ST_TEN_PERCENT_FROM,
    as_decimal,
    check_price,
    is_on_tick,
    price_cage,
    price_limits,
    round_to_tick,
    tick_size,
)
from app.domain.side import Side

DAY = date(2026, 3, 2)  # an ordinary trading day before the ST change


# --- RULES B2: the worked examples ---------------------------------------------------------


@pytest.mark.parametrize(
    ("prev_close", "up", "down"),
    [
        ("1.15", "1.27", "1.04"),  # float rounding would give 1.26 / 1.03
        ("4.26", "4.69", "3.83"),
        ("10.05", "11.06", "9.05"),
        ("0.04", "0.05", "0.03"),  # one-tick floor: 0.044 / 0.036 round back to 0.04
    ],
)
def test_price_limits_rules_b2_examples(prev_close, up, down):
    assert price_limits("600000.SH", D(prev_close), on=DAY) == (D(up), D(down))


def test_price_limits_float_rounding_differs_from_exact_result():
    # The reason floats are refused: the binary value of 1.15 × 1.1 is just below 1.265.
    assert round(1.15 * 1.1, 2) == 1.26
    assert price_limits("600000", D("1.15"), on=DAY)[0] == D("1.27")


def test_price_limits_one_tick_previous_close_keeps_down_limit_at_one_tick():
    # 0.01 - 1 tick would be zero; a price is at least one tick.
    assert price_limits("000001", D("0.01"), on=DAY) == (D("0.02"), D("0.01"))


# --- RULES B1: percentages by board ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "prev_close", "up", "down"),
    [
        ("600000.SH", "10.00", "11.00", "9.00"),  # SSE main 10%
        ("000001.SZ", "10.00", "11.00", "9.00"),  # SZSE main 10%
        ("300750.SZ", "10.00", "12.00", "8.00"),  # ChiNext 20%
        ("688981.SH", "10.00", "12.00", "8.00"),  # STAR 20%
        ("920002.BJ", "10.00", "13.00", "7.00"),  # BSE 30%
        ("830799.BJ", "3.33", "4.33", "2.33"),  # legacy BSE code, 30%: 4.329 / 2.331
        ("510300.SH", "4.123", "4.535", "3.711"),  # fund 10% at 0.001 tick: 4.5353 / 3.7107
        ("159915.SZ", "2.005", "2.206", "1.805"),  # 2.2055 half-up to 2.206; 1.8045 to 1.805
        ("688001.SH", "33.33", "40.00", "26.66"),  # 39.996 / 26.664
    ],
)
def test_price_limits_percentage_by_board(code, prev_close, up, down):
    assert price_limits(code, D(prev_close), on=DAY) == (D(up), D(down))


@pytest.mark.parametrize(
    ("on", "up", "down"),
    [
        (date(2026, 7, 3), "10.50", "9.50"),  # last trading day with the 5% ST limit
        (date(2026, 7, 5), "10.50", "9.50"),  # Sunday: still before the change
        (ST_TEN_PERCENT_FROM, "11.00", "9.00"),  # 2026-07-06: ST moves to 10%
        (date(2026, 7, 7), "11.00", "9.00"),
    ],
)
@pytest.mark.parametrize("code", ["600000.SH", "000001.SZ"])
def test_price_limits_main_board_st_changes_from_5_to_10_percent_on_2026_07_06(code, on, up, down):
    assert price_limits(code, D("10.00"), on=on, st=True) == (D(up), D(down))


def test_price_limits_st_does_not_change_non_main_boards():
    before = date(2026, 7, 3)
    assert price_limits("300750", D("10.00"), on=before, st=True) == (D("12.00"), D("8.00"))
    assert price_limits("688981", D("10.00"), on=before, st=True) == (D("12.00"), D("8.00"))
    assert price_limits("920002", D("10.00"), on=before, st=True) == (D("13.00"), D("7.00"))


def test_price_limits_st_5_percent_applies_one_tick_floor():
    # 0.05 × 1.05 = 0.0525 -> 0.05 and 0.05 × 0.95 = 0.0475 -> 0.05: both one tick away instead.
    assert price_limits("600000", D("0.05"), on=date(2026, 7, 3), st=True) == (D("0.06"), D("0.04"))


# --- RULES B1: IPO no-limit days ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "listing_day", "limited"),
    [
        ("600000.SH", 1, False),
        ("600000.SH", 5, False),
        ("600000.SH", 6, True),
        ("000001.SZ", 5, False),
        ("000001.SZ", 6, True),
        ("300750.SZ", 1, False),
        ("300750.SZ", 5, False),
        ("300750.SZ", 6, True),
        ("688981.SH", 5, False),
        ("688981.SH", 6, True),
        ("920002.BJ", 1, False),  # BSE: first day only
        ("920002.BJ", 2, True),
        ("510300.SH", 1, True),  # an ETF has a 10% limit from its first day
    ],
)
def test_price_limits_ipo_days_without_limit(code, listing_day, limited):
    result = price_limits(code, D("10.00"), on=DAY, listing_day=listing_day)

    assert (result is not None) is limited


def test_price_limits_ipo_day_after_free_days_uses_normal_percentage():
    assert price_limits("920002", D("10.00"), on=DAY, listing_day=2) == (D("13.00"), D("7.00"))
    assert price_limits("688981", D("10.00"), on=DAY, listing_day=6) == (D("12.00"), D("8.00"))


@pytest.mark.parametrize("code", ["508000.SH", "180101.SZ"])
def test_price_limits_reit_listing_day_is_30_percent_then_10(code):
    assert price_limits(code, D("3.000"), on=DAY, listing_day=1) == (D("3.900"), D("2.100"))
    assert price_limits(code, D("3.000"), on=DAY, listing_day=2) == (D("3.300"), D("2.700"))
    assert price_limits(code, D("3.000"), on=DAY) == (D("3.300"), D("2.700"))


# --- accepted and refused inputs ---------------------------------------------------------------


@pytest.mark.parametrize("prev_close", [10, "10.00", " 10 ", D("10.000")])
def test_price_limits_accepts_int_str_and_decimal(prev_close):
    assert price_limits("600000", prev_close, on=DAY) == (D("11.00"), D("9.00"))


@pytest.mark.parametrize("prev_close", [10.0, 1.15, True, None, [D("10")]])
def test_price_limits_refuses_float_and_non_numbers_with_type_error(prev_close):
    with pytest.raises(TypeError, match="prev_close must be a Decimal"):
        price_limits("600000", prev_close, on=DAY)


@pytest.mark.parametrize(
    ("prev_close", "message"),
    [
        (D("0"), "must be positive"),
        (D("-1.00"), "must be positive"),
        (D("10.005"), "multiple of 0.01"),
        ("abc", "not a number"),
        (D("NaN"), "finite"),
        (D("Infinity"), "finite"),
    ],
)
def test_price_limits_refuses_bad_prev_close_with_price_error(prev_close, message):
    with pytest.raises(PriceError, match=message):
        price_limits("600000", prev_close, on=DAY)


def test_price_limits_refuses_datetime_for_on():
    with pytest.raises(TypeError, match=r"on must be a datetime\.date"):
        price_limits("600000", D("10"), on=datetime(2026, 7, 6, 9, 30))


@pytest.mark.parametrize("listing_day", [0, -1])
def test_price_limits_refuses_listing_day_below_one(listing_day):
    with pytest.raises(PriceError, match="listing_day"):
        price_limits("600000", D("10"), on=DAY, listing_day=listing_day)


@pytest.mark.parametrize("listing_day", [True, 1.0, "1"])
def test_price_limits_refuses_non_int_listing_day(listing_day):
    with pytest.raises(TypeError, match="listing_day"):
        price_limits("600000", D("10"), on=DAY, listing_day=listing_day)


def test_price_limits_refuses_non_bool_st():
    with pytest.raises(TypeError, match="st must be a bool"):
        price_limits("600000", D("10"), on=DAY, st="yes")


def test_price_limits_unknown_code_raises():
    with pytest.raises(UnknownInstrumentError):
        price_limits("123456.SH", D("10"), on=DAY)


# --- ticks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "tick", "expected"),
    [
        ("1.265", "0.01", "1.27"),  # half-up, not half-even
        ("1.275", "0.01", "1.28"),
        ("1.2649", "0.01", "1.26"),
        ("4.5353", "0.001", "4.535"),
        ("10.005", "0.01", "10.01"),
        ("7", "0.05", "7.00"),  # non-decimal tick steps also work
        ("7.025", "0.05", "7.05"),
        ("7.024", "0.05", "7.00"),
    ],
)
def test_round_to_tick_rounds_half_up(price, tick, expected):
    result = round_to_tick(D(price), D(tick))

    assert result == D(expected)
    assert str(result) == expected


def test_round_to_tick_refuses_float_and_bad_tick():
    with pytest.raises(TypeError):
        round_to_tick(1.265, D("0.01"))
    with pytest.raises(PriceError, match="tick must be positive"):
        round_to_tick(D("1.2"), D("0"))


@pytest.mark.parametrize(
    ("price", "tick", "expected"),
    [("10.05", "0.01", True), ("10.050", "0.01", True), ("10.055", "0.01", False), ("4.123", "0.001", True)],
)
def test_is_on_tick(price, tick, expected):
    assert is_on_tick(D(price), D(tick)) is expected


@pytest.mark.parametrize(
    ("code", "tick"), [("600000", "0.01"), ("688981", "0.01"), ("920002", "0.01"), ("510300", "0.001")]
)
def test_tick_size_by_board(code, tick):
    assert tick_size(code) == D(tick)


def test_as_decimal_custom_error_class():
    with pytest.raises(ValueError, match="amount is not a number") as excinfo:
        as_decimal("x", "amount", ValueError)

    assert not isinstance(excinfo.value, PriceError)


# --- RULES B6: price cage ----------------------------------------------------------------------


def cage(code, side, ask=None, bid=None, last=None, prev_close="10.00"):
    def dec(value):
        return None if value is None else D(value)

    return price_cage(
        code, side, best_ask=dec(ask), best_bid=dec(bid), last=dec(last), prev_close=dec(prev_close)
    )


@pytest.mark.parametrize(
    ("code", "side", "reference", "expected"),
    [
        # main board and ChiNext: 2% or 10 ticks, whichever is wider
        ("600000.SH", Side.BUY, "10.00", "10.20"),
        ("600000.SH", Side.BUY, "1.00", "1.10"),  # 10 ticks wider than 2%
        ("600000.SH", Side.SELL, "10.00", "9.80"),
        ("600000.SH", Side.SELL, "1.00", "0.90"),
        ("000001.SZ", Side.BUY, "10.25", "10.46"),  # 10.455 rounds half-up
        ("000001.SZ", Side.SELL, "10.25", "10.05"),  # 10.045 rounds half-up
        ("300750.SZ", Side.BUY, "1.00", "1.10"),
        ("300750.SZ", Side.SELL, "50.00", "49.00"),
        # STAR: 2% without the tick floor
        ("688981.SH", Side.BUY, "1.00", "1.02"),
        ("688981.SH", Side.SELL, "1.00", "0.98"),
        ("688981.SH", Side.BUY, "10.01", "10.21"),  # 10.2102
        ("688981.SH", Side.SELL, "10.01", "9.81"),  # 9.8098
        # BSE: 5% or 10 ticks, whichever is wider
        ("920002.BJ", Side.BUY, "10.00", "10.50"),
        ("920002.BJ", Side.BUY, "1.00", "1.10"),
        ("920002.BJ", Side.SELL, "10.00", "9.50"),
        ("920002.BJ", Side.SELL, "1.00", "0.90"),
    ],
)
def test_price_cage_by_board(code, side, reference, expected):
    assert cage(code, side, ask=reference, bid=reference) == D(expected)


@pytest.mark.parametrize("code", ["510300.SH", "159915.SZ", "508000.SH"])
def test_price_cage_funds_have_no_cage(code):
    assert cage(code, Side.BUY, ask="1.000") is None


@pytest.mark.parametrize(
    ("side", "book", "expected"),
    [
        # buy: best ask, else best bid, else last, else previous close
        (Side.BUY, {"ask": "10.00", "bid": "9.00", "last": "8.00", "prev_close": "7.00"}, "10.20"),
        (Side.BUY, {"bid": "9.00", "last": "8.00", "prev_close": "7.00"}, "9.18"),
        (Side.BUY, {"last": "8.00", "prev_close": "7.00"}, "8.16"),
        (Side.BUY, {"prev_close": "7.00"}, "7.14"),
        # sell: best bid, else best ask, else last, else previous close
        (Side.SELL, {"ask": "10.00", "bid": "9.00", "last": "8.00", "prev_close": "7.00"}, "8.82"),
        (Side.SELL, {"ask": "10.00", "last": "8.00", "prev_close": "7.00"}, "9.80"),
        (Side.SELL, {"last": "8.00", "prev_close": "7.00"}, "7.84"),
        (Side.SELL, {"prev_close": "7.00"}, "6.86"),
    ],
)
def test_price_cage_reference_price_fallbacks(side, book, expected):
    assert cage("600000", side, **book) == D(expected)


def test_price_cage_sell_floor_never_below_one_tick():
    # min(0.049, 0.05 - 0.10) would be negative.
    assert cage("600000", Side.SELL, bid="0.05") == D("0.01")


def test_price_cage_accepts_side_as_string():
    assert cage("600000", "buy", ask="10.00") == D("10.20")


@pytest.mark.parametrize(("ask", "message"), [(D("0"), "best_ask must be positive"), (D("-1"), "best_ask")])
def test_price_cage_refuses_non_positive_reference(ask, message):
    with pytest.raises(PriceError, match=message):
        price_cage("600000", Side.BUY, best_ask=ask, best_bid=None, last=None, prev_close=D("10"))


def test_price_cage_refuses_float_reference():
    with pytest.raises(TypeError, match="best_bid"):
        price_cage("600000", Side.SELL, best_ask=None, best_bid=9.5, last=None, prev_close=D("10"))


def test_price_cage_without_any_reference_raises():
    with pytest.raises(TypeError, match="prev_close is required"):
        price_cage("600000", Side.BUY, best_ask=None, best_bid=None, last=None, prev_close=None)


def test_price_cage_refuses_unknown_side():
    with pytest.raises(ValueError, match="hold"):
        cage("600000", "hold", ask="10.00")


# --- check_price -------------------------------------------------------------------------------

LIMITS = (D("11.00"), D("9.00"))


@pytest.mark.parametrize(
    ("side", "price", "limits", "cage_price"),
    [
        (Side.BUY, "10.00", LIMITS, D("10.20")),
        (Side.BUY, "10.20", LIMITS, D("10.20")),  # exactly at the cage
        (Side.BUY, "11.00", LIMITS, None),  # exactly at the up limit
        (Side.SELL, "9.00", LIMITS, None),  # exactly at the down limit
        (Side.SELL, "9.80", LIMITS, D("9.80")),
        (Side.SELL, "10.90", LIMITS, D("9.80")),  # a sell above the floor is fine
        (Side.BUY, "123.45", None, None),  # no limit, no cage
        (Side.BUY, 10, LIMITS, None),
    ],
)
def test_check_price_accepts_valid_prices(side, price, limits, cage_price):
    check_price("600000", side, D(price) if isinstance(price, str) else price, limits=limits, cage=cage_price)


@pytest.mark.parametrize(
    ("side", "price", "cage_price", "message"),
    [
        (Side.BUY, "11.01", None, "价格超出涨跌停范围.*was 11.01"),
        (Side.SELL, "8.99", None, "价格超出涨跌停范围.*was 8.99"),
        (Side.BUY, "10.005", None, "tick 0.01, was 10.005"),
        (Side.BUY, "0", None, "must be positive"),
        (Side.BUY, "-1", None, "must be positive"),
        (Side.BUY, "10.21", D("10.20"), "价格笼子.*was 10.21"),
        (Side.SELL, "9.79", D("9.80"), "价格笼子.*was 9.79"),
    ],
)
def test_check_price_refuses_invalid_prices(side, price, cage_price, message):
    with pytest.raises(PriceError, match=message):
        check_price("600000", side, D(price), limits=LIMITS, cage=cage_price)


def test_check_price_fund_tick_is_a_tenth_of_a_fen():
    check_price("510300", Side.BUY, D("4.123"), limits=None, cage=None)
    with pytest.raises(PriceError, match="tick"):
        check_price("600000", Side.BUY, D("4.123"), limits=None, cage=None)


def test_check_price_refuses_float():
    with pytest.raises(TypeError, match="not float"):
        check_price("600000", Side.BUY, 10.0, limits=None, cage=None)


def test_check_price_with_computed_limits_and_cage_end_to_end():
    limits = price_limits("600000", D("1.15"), on=DAY)
    ceiling = price_cage(
        "600000", Side.BUY, best_ask=D("1.20"), best_bid=None, last=None, prev_close=D("1.15")
    )

    assert ceiling == D("1.30")  # 1.20 + 10 ticks beats 1.224
    check_price("600000", Side.BUY, D("1.27"), limits=limits, cage=ceiling)
    with pytest.raises(PriceError, match="涨跌停"):
        check_price("600000", Side.BUY, D("1.28"), limits=limits, cage=ceiling)
