import dataclasses
from decimal import Decimal as D

import pytest

from app.domain.errors import UnknownInstrumentError
from app.domain.fees import COMMISSION_RATE_CAP, FeeBreakdown, FeeSchedule
from app.domain.side import Side

FEES = FeeSchedule()


@pytest.mark.parametrize(
    ("code", "side", "price", "qty", "commission", "stamp_duty", "transfer_fee"),
    [
        # small orders pay the ¥5 minimum commission
        ("600000.SH", Side.BUY, "10.00", 100, "5.00", "0.00", "0.01"),
        ("600000.SH", Side.SELL, "10.00", 100, "5.00", "0.50", "0.01"),
        # 200,000 turnover: 0.025% = 50, stamp 0.05% on sells, transfer 0.001% both ways
        ("000001.SZ", Side.BUY, "20.00", 10_000, "50.00", "0.00", "2.00"),
        ("000001.SZ", Side.SELL, "20.00", 10_000, "50.00", "100.00", "2.00"),
        # commission exactly at the minimum: 20,000 × 0.00025 = 5
        ("300750.SZ", Side.SELL, "200.00", 100, "5.00", "10.00", "0.20"),
        ("688981.SH", Side.SELL, "50.01", 201, "5.00", "5.03", "0.10"),  # 10,052.01 turnover
        # BSE pays the transfer fee like SSE/SZSE A-shares
        ("920002.BJ", Side.BUY, "10.00", 1_000, "5.00", "0.00", "0.10"),
        ("920002.BJ", Side.SELL, "10.00", 1_000, "5.00", "5.00", "0.10"),
        # listed funds: neither stamp duty nor transfer fee
        ("510300.SH", Side.SELL, "4.000", 1_000, "5.00", "0.00", "0.00"),
        ("159915.SZ", Side.BUY, "2.500", 100_000, "62.50", "0.00", "0.00"),
    ],
)
def test_breakdown_and_cost(code, side, price, qty, commission, stamp_duty, transfer_fee):
    breakdown = FEES.breakdown(code, side, D(price) * qty)

    assert breakdown == FeeBreakdown(D(commission), D(stamp_duty), D(transfer_fee))
    assert breakdown.total == D(commission) + D(stamp_duty) + D(transfer_fee)
    assert FEES.cost(code, side, D(price), qty) == breakdown.total
    assert FEES.cost_for_amount(code, side, D(price) * qty) == breakdown.total


def test_cost_rounds_each_component_half_up_before_summing():
    fees = FeeSchedule(commission_min=D("0"))

    breakdown = fees.breakdown("600000", Side.SELL, D("500.00"))

    # commission 0.125 -> 0.13 (half-up, not half-even), stamp 0.25, transfer 0.005 -> 0.01
    assert breakdown == FeeBreakdown(D("0.13"), D("0.25"), D("0.01"))
    assert breakdown.total == D("0.39")  # rounding the unrounded sum 0.38 would give 0.38


def test_cost_amounts_are_in_fen():
    cost = FEES.cost("600000", Side.SELL, D("12.34"), 1_234)

    assert cost.as_tuple().exponent == -2


def test_cost_of_zero_turnover_is_zero_without_minimum():
    assert FEES.cost_for_amount("600000", Side.BUY, D("0")) == D("0")
    assert FEES.cost("600000", Side.SELL, D("10"), 0) == D("0")


def test_cost_minimum_can_be_waived():
    fees = FeeSchedule(commission_min=D("0"))  # "免五"

    assert fees.cost("600000", Side.BUY, D("10.00"), 100) == D("0.26")  # 0.25 + 0.01


def test_partial_fills_charged_incrementally_sum_to_the_whole_order():
    fills = [(D("10.00"), 100), (D("10.01"), 2_000), (D("10.02"), 17_900)]
    cumulative = D("0")
    charged = []
    for price, qty in fills:
        previous = cumulative
        cumulative += price * qty
        charged.append(
            FEES.cost_for_amount("600000", Side.SELL, cumulative)
            - FEES.cost_for_amount("600000", Side.SELL, previous)
        )

    assert charged[0] == D("5.51")  # the minimum is charged with the first fill
    assert sum(charged) == FEES.cost_for_amount("600000", Side.SELL, cumulative)
    assert all(amount >= 0 for amount in charged)


# --- max_buy_qty -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "price", "cash", "expected"),
    [
        ("600000", "10.00", "10005.10", 1_000),  # 10,000 + 5.00 + 0.10 fits exactly
        ("600000", "10.00", "10005.09", 900),
        ("600000", "10.00", "10000", 900),
        ("688981", "10.00", "10000", 999),  # STAR steps of 1: 9,990 + 5.00 + 0.10
        ("688981", "10.00", "2000", 0),  # below the 200-share minimum
        ("920002", "10.00", "1005.01", 100),  # 1,000 + 5.00 + 0.01
        ("920002", "10.00", "1005.00", 0),  # 99 shares would fit, below the BSE minimum
        ("510300", "4.000", "4005", 1_000),  # funds: no transfer fee
        ("600000", "10.00", "0", 0),
    ],
)
def test_max_buy_qty(code, price, cash, expected):
    qty = FEES.max_buy_qty(code, D(price), D(cash))

    assert qty == expected
    if qty:
        assert D(price) * qty + FEES.cost(code, Side.BUY, D(price), qty) <= D(cash)


def test_max_buy_qty_refuses_bad_input():
    with pytest.raises(ValueError, match="price must be positive"):
        FEES.max_buy_qty("600000", D("0"), D("1000"))
    with pytest.raises(ValueError, match="cash must not be negative"):
        FEES.max_buy_qty("600000", D("10"), D("-1"))
    with pytest.raises(TypeError, match="not float"):
        FEES.max_buy_qty("600000", D("10"), 1000.0)


# --- bad input ---------------------------------------------------------------------------------


def test_cost_refuses_float_price():
    with pytest.raises(TypeError, match="not float"):
        FEES.cost("600000", Side.BUY, 10.0, 100)


@pytest.mark.parametrize(("qty", "message"), [(True, "int"), (100.0, "int"), (-100, "negative")])
def test_cost_refuses_bad_qty(qty, message):
    with pytest.raises(ValueError, match=message):
        FEES.cost("600000", Side.BUY, D("10"), qty)


def test_cost_refuses_non_positive_price():
    with pytest.raises(ValueError, match="price must be positive"):
        FEES.cost("600000", Side.BUY, D("0"), 100)


def test_breakdown_refuses_negative_amount_unknown_code_and_side():
    with pytest.raises(ValueError, match="must not be negative, was -1"):
        FEES.breakdown("600000", Side.SELL, D("-1"))
    with pytest.raises(UnknownInstrumentError):
        FEES.breakdown("123456.SH", Side.SELL, D("100"))
    with pytest.raises(ValueError, match="short"):
        FEES.breakdown("600000", "short", D("100"))


# --- FeeSchedule validation --------------------------------------------------------------------


def test_fee_schedule_defaults_follow_rules_b7():
    assert FeeSchedule() == FeeSchedule(D("0.00025"), D("5"), D("0.0005"), D("0.00001"))


def test_fee_schedule_accepts_the_commission_cap():
    assert FeeSchedule(commission_rate=COMMISSION_RATE_CAP).commission_rate == D("0.003")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"commission_rate": D("0.0031")}, "commission_rate above the legal cap .*, was 0.0031"),
        ({"commission_rate": 0.0003}, "commission_rate must be a Decimal, was float"),
        ({"commission_min": D("-5")}, "commission_min must be a non-negative number, was -5"),
        ({"commission_min": 5}, "commission_min must be a Decimal, was int"),
        ({"stamp_duty_rate": D("NaN")}, "stamp_duty_rate must be a non-negative number"),
        ({"stamp_duty_rate": D("1")}, "stamp_duty_rate .* below 1, was 1"),
        ({"transfer_rate": D("-0.00001")}, "transfer_rate must be a non-negative number"),
        ({"transfer_rate": "0.00001"}, "transfer_rate must be a Decimal, was str"),
    ],
)
def test_fee_schedule_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FeeSchedule(**kwargs)


def test_fee_schedule_and_breakdown_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FEES.commission_rate = D("0")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        FeeBreakdown(D("1"), D("0"), D("0")).commission = D("2")  # type: ignore[misc]
